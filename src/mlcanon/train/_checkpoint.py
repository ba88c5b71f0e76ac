"""Checkpoint files: tensors in safetensors, everything else as JSON in its header, never pickle.

One checkpoint is one ``.safetensors`` file. Its tensors carry the model weights, the optimizer
moments and the random-generator states under prefixes (``model/``, ``optimizer/``, ...); its
header's ``__metadata__`` holds the rest of the state as JSON (numbers, step counters, learning
rates) plus a SHA-256 digest of every other byte of the file: the header (tensor names, dtypes,
shapes, offsets, the JSON state) with the digest's own 64 characters left out, and the tensor
data. A file is written to a temporary name in the
same folder, flushed to disk, then renamed over the final name with :func:`os.replace`, so a
process killed while writing leaves the previous checkpoints untouched and at worst a stray
``.tmp`` file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

__all__ = ["CheckpointError", "load_state_file", "save_state_file"]

FORMAT = "mlcanon-checkpoint-2"
# format 1 hashed only the tensor bytes, so its header (the JSON state) cannot be checked
_OLD_FORMATS = ("mlcanon-checkpoint-1",)
_FORMAT_KEY, _STATE_KEY, _DIGEST_KEY = "mlcanon.format", "mlcanon.state", "mlcanon.sha256"
_PLACEHOLDER = "0" * 64  # replaced in place by the digest, so header offsets do not move
_DIGEST_FIELD = f'"{_DIGEST_KEY}":"'.encode()  # how safetensors writes the key (compact JSON)


_PICKLE_STARTS = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))  # PROTO opcode


class CheckpointError(ValueError):
    """A checkpoint file that is truncated, corrupted or not a checkpoint at all."""


def encode_state(obj: Any, tensors: dict[str, torch.Tensor], key: str) -> Any:
    """JSON-ready copy of ``obj``; tensors and arrays move into ``tensors`` under ``key``.

    Dicts (whose keys may be strings, ints, floats, ``None`` or tuples of these: the
    optimizer's per-parameter state is keyed by int, a LambdaLR's callable object may hold
    float keys) and tuples are tagged so that :func:`decode_state` rebuilds them exactly.
    """
    if isinstance(obj, (torch.Tensor, np.ndarray)) and key in tensors:
        raise ValueError(f"two tensors of the state map to the key {key!r}")
    if isinstance(obj, torch.Tensor):
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        tensors[key] = torch.from_numpy(np.ascontiguousarray(obj).copy())
        return {"__ndarray__": key}
    if isinstance(obj, dict):
        return {
            "__items__": [
                [_encode_key(k, key), encode_state(v, tensors, f"{key}.{k}")]
                for k, v in obj.items()
            ]
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [encode_state(v, tensors, f"{key}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode_state(v, tensors, f"{key}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {key!r} in a checkpoint")


_KEY_TYPES = (str, int, float, type(None))  # bool is an int


def _encode_key(k: Any, where: str) -> Any:
    """A dict key as JSON: str, int, float, None, or a tuple of these (tagged); NumPy scalars
    as Python ones. Others (tensors, which hash by identity) cannot come back equal."""
    if isinstance(k, np.generic):
        k = k.item()
    if isinstance(k, tuple):
        return {"__tuple__": [_encode_key(v, where) for v in k]}
    if isinstance(k, _KEY_TYPES):
        return k
    raise TypeError(
        f"cannot store a dict key of type {type(k).__name__} at {where!r} in a checkpoint: keys "
        f"must be str, int, float, None or tuples of these, got {str(k)[:60]}"
    )


def _decode_key(k: Any) -> Any:
    if isinstance(k, dict) and len(k) == 1 and isinstance(k.get("__tuple__"), list):
        return tuple(_decode_key(v) for v in k["__tuple__"])
    if isinstance(k, _KEY_TYPES):
        return k
    raise ValueError(
        f"dict key {str(k)[:60]} is not one a checkpoint writes (str, int, float, null or a "
        f"__tuple__ of these)"
    )


def decode_state(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`encode_state`; ``ValueError`` on an entry it would never write."""
    if isinstance(obj, list):
        return [decode_state(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) != 1:
        raise ValueError(f"state entry with keys {sorted(obj)[:5]}, expected one tag")
    ((tag, value),) = obj.items()
    if tag in ("__tensor__", "__ndarray__"):
        if not isinstance(value, str) or value not in tensors:
            raise ValueError(f"{tag} {value!r} names no tensor of the file")
        return tensors[value] if tag == "__tensor__" else tensors[value].numpy()
    if tag == "__tuple__" and isinstance(value, list):
        return tuple(decode_state(v, tensors) for v in value)
    if tag == "__items__" and isinstance(value, list):
        items = {}
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError(f"__items__ entry {str(pair)[:60]} is not a [key, value] pair")
            items[_decode_key(pair[0])] = decode_state(pair[1], tensors)
        return items
    raise ValueError(f"unknown state entry {tag!r} holding {type(value).__name__}")


def save_state_file(
    path: str | os.PathLike, state: Any, tensors: dict[str, torch.Tensor] | None = None
) -> Path:
    """Write ``state`` (nested dicts, lists, numbers, tensors) to ``path`` atomically.

    ``tensors`` are stored under their own names (a weights file that plain
    ``safetensors.torch.load_file`` reads); the tensors inside ``state`` go under ``state.*``.
    Returns the path.
    """
    path = Path(path)
    tensors = dict(tensors or {})
    encoded = encode_state(state, tensors, "state")
    meta = {_FORMAT_KEY: FORMAT, _STATE_KEY: json.dumps(encoded), _DIGEST_KEY: _PLACEHOLDER}
    blob = _in_fixed_order(bytearray(_st_save(tensors, metadata=meta)))
    (n,) = struct.unpack("<Q", blob[:8])
    at = blob.find(_DIGEST_FIELD + _PLACEHOLDER.encode(), 8, 8 + n) + len(_DIGEST_FIELD)
    assert at > len(_DIGEST_FIELD) and blob.count(_DIGEST_FIELD, 8, 8 + n) == 1
    blob[at : at + 64] = _digest(blob, at).encode()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def _in_fixed_order(blob: bytearray) -> bytearray:
    """``blob`` with its header's ``__metadata__`` entries in sorted order.

    safetensors writes the metadata from a Rust ``HashMap``, whose order changes from one call
    to the next, so the same state gave files (and digests) that differed byte for byte. The
    header is written again as the same compact JSON, so its length, and every tensor offset,
    stay as they were; the padding spaces that follow it are kept.
    """
    (n,) = struct.unpack("<Q", blob[:8])
    text = bytes(blob[8 : 8 + n])
    header = json.loads(text)
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    again = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if len(again) == len(text.rstrip(b" ")):  # else an escape written another way: keep it
        blob[8 : 8 + len(again)] = again
    return blob


def _digest(blob: bytes | bytearray, at: int) -> str:
    """SHA-256 of the whole file but the 64 digest characters at ``at``."""
    view = memoryview(blob)
    h = hashlib.sha256(view[:at])
    h.update(view[at + 64 :])
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_state_file(
    path: str | os.PathLike, *, plain: bool = False
) -> tuple[dict[str, torch.Tensor], Any]:
    """Read a file written by :func:`save_state_file`: ``(tensors, state)``.

    ``tensors`` holds every tensor of the file, ``state`` the decoded state. With ``plain``, a
    safetensors file with no mlcanon format in its metadata (one written by
    ``safetensors.torch.save_file``) is read too, as ``(tensors, None)``: it has no digest, so
    only its structure is checked (by safetensors).

    Raises
    ------
    CheckpointError
        If the file is truncated, its digest does not match its bytes, a header field has the
        wrong type, it was written in an older format, or it is not a checkpoint; the message
        names the file and what is wrong.
    """
    path = Path(path)

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {str(path)!r} is unusable: {why}")

    mode = path.stat().st_mode  # a missing file raises FileNotFoundError
    if stat.S_ISDIR(mode):  # named like a checkpoint: resume skips it as it skips a bad file
        raise bad("a folder, not a file")
    if not stat.S_ISREG(mode):  # a FIFO would block the read, /dev/zero fill the memory
        raise bad("not a regular file (a pipe, a socket or a device)")
    data = path.read_bytes()

    if len(data) < 8:
        raise bad(f"{len(data)} bytes, too short for a header (truncated?)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data) and (data[:4] == b"PK\x03\x04" or data[:2] in _PICKLE_STARTS):
        raise bad(  # a zip archive (torch.save) or a pickle (its legacy format): no header
            "a torch.save (pickle) file, not safetensors; pickles are never loaded here (they "
            "can run code): convert a trusted one with safetensors.torch.save_file("
            "torch.load(path, weights_only=True), new_path)"
        )
    if 8 + n > len(data):
        raise bad(
            f"header of {n} bytes runs past the end of the {len(data)}-byte file (truncated?)"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise bad(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad(f"header is a JSON {type(header).__name__}, expected an object")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise bad(f"header's __metadata__ is a JSON {type(meta).__name__}, expected an object")
    if meta.get(_FORMAT_KEY) in _OLD_FORMATS:
        raise bad(
            f"format {meta[_FORMAT_KEY]!r} was written by an older mlcanon whose digest does not "
            f"cover the header, so it cannot be checked; expected {FORMAT!r} (train again)"
        )
    if plain and _FORMAT_KEY not in meta:
        try:
            return _st_load(data), None
        except SafetensorError as e:
            raise bad(f"not a readable safetensors file ({e})") from None
    if meta.get(_FORMAT_KEY) != FORMAT:
        raise bad(f"format is {meta.get(_FORMAT_KEY)!r}, expected {FORMAT!r}")
    stored, state_json = meta.get(_DIGEST_KEY), meta.get(_STATE_KEY)
    if not (isinstance(stored, str) and re.fullmatch("[0-9a-f]{64}", stored)):
        raise bad(f"{_DIGEST_KEY} is {str(stored)[:80]!r}, expected 64 hexadecimal digits")
    if not isinstance(state_json, str):
        raise bad(f"{_STATE_KEY} is a {type(state_json).__name__}, expected a JSON string")
    field = _DIGEST_FIELD + stored.encode() + b'"'
    at = data.find(field, 8, 8 + n)
    if at < 0 or data.count(_DIGEST_FIELD, 8, 8 + n) != 1:
        raise bad(f"the header does not hold {_DIGEST_KEY} exactly once as the writer puts it")
    if _digest(data, at + len(_DIGEST_FIELD)) != stored:
        raise bad("SHA-256 of the header and tensor bytes does not match (corrupted or truncated)")
    try:
        tensors = _st_load(data)
        state = decode_state(json.loads(state_json), tensors)
    except (SafetensorError, json.JSONDecodeError, RecursionError, TypeError, ValueError) as e:
        raise bad(f"{type(e).__name__}: {e}") from None
    return tensors, state
