"""Tampered checkpoints: every byte but the digest is covered, and a forged header is refused.

The digest is recomputed here from its definition (SHA-256 of the file with the 64 digest
characters left out), so a forged file can pass the digest and reach the state checks.
"""

import hashlib
import json
import re
import struct
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.train import CheckpointError, Trainer, load_weights, save_weights
from mlcanon.train._checkpoint import load_state_file, save_state_file

DIGEST = re.compile(rb'"mlcanon\.sha256":"([0-9a-f]{64})"')


def _trainer(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch.manual_seed(1)
    x = torch.randn(40, 4)
    loader = DataLoader(TensorDataset(x, (x.sum(1) > 0).long()), batch_size=10, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        loader,
        checkpoint_dir=tmp_path / "ckpt",
        progress=False,
    )


def _two_epochs(tmp_path):
    t = _trainer(tmp_path)
    t.fit(2)
    newest, previous = t.checkpoints()
    return newest, previous


def _header(data):
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8 : 8 + n])


def _reseal(data):
    """``data`` with its digest recomputed from the definition, as a forger would do."""
    data = bytearray(data)
    (n,) = struct.unpack("<Q", data[:8])
    m = DIGEST.search(bytes(data[: 8 + n]))
    at = m.start(1)
    digest = hashlib.sha256(bytes(data[:at]) + bytes(data[at + 64 :])).hexdigest()
    data[at : at + 64] = digest.encode()
    return bytes(data)


def _rewrite_header(data, edit):
    """Replace the header by ``edit(header)`` (data offsets count from the data's start)."""
    n, header = _header(data)
    edit(header)
    new = json.dumps(header, separators=(",", ":")).encode()
    new += b" " * (-len(new) % 8)
    return struct.pack("<Q", len(new)) + new + data[8 + n :]


def _assert_refused_and_resume_falls_back(tmp_path, newest, previous, match):
    fresh = _trainer(tmp_path)
    with pytest.raises(CheckpointError, match=rf"{newest.name}.*{match}"):
        fresh.load_checkpoint(newest)
    fresh = _trainer(tmp_path)
    with pytest.warns(RuntimeWarning, match=newest.name):
        assert fresh.resume() == previous
    assert (fresh.epoch, fresh.step, len(fresh.history)) == (1, 4, 1)


def test_digest_matches_its_definition(tmp_path):
    newest, _ = _two_epochs(tmp_path)
    data = newest.read_bytes()
    assert _reseal(data) == data


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'\\"epoch\\", 2', b'\\"epoch\\", 6'),  # one bit of the JSON state: epoch 2 -> 6
        (b'"dtype":"F32"', b'"dtype":"I32"'),  # a tensor's dtype in the header
    ],
    ids=["state", "dtype"],
)
def test_flipped_header_byte_is_caught(tmp_path, old, new):
    newest, previous = _two_epochs(tmp_path)
    data = newest.read_bytes()
    assert data.count(old) >= 1
    newest.write_bytes(data.replace(old, new, 1))
    _assert_refused_and_resume_falls_back(tmp_path, newest, previous, "SHA-256")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda h: h.update(__metadata__=["x"]), "__metadata__ is a JSON list"),
        (lambda h: h["__metadata__"].update({"mlcanon.sha256": 7}), "sha256 is '7'"),
        (lambda h: h["__metadata__"].update({"mlcanon.state": "x"}), "SHA-256"),
    ],
    ids=["metadata-list", "digest-int", "state-edited"],
)
def test_hostile_metadata_is_refused(tmp_path, edit, match):
    newest, previous = _two_epochs(tmp_path)
    newest.write_bytes(_rewrite_header(newest.read_bytes(), edit))
    _assert_refused_and_resume_falls_back(tmp_path, newest, previous, match)


def _forge_state(edit):
    def on_header(header):
        state = json.loads(header["__metadata__"]["mlcanon.state"])
        header["__metadata__"]["mlcanon.state"] = json.dumps(edit(state))

    return on_header


def _set_item(key, value):
    """Edit the encoded top-level state dict (``{"__items__": [[key, value], ...]}``)."""

    def edit(state):
        for pair in state["__items__"]:
            if pair[0] == key:
                pair[1] = value
        return state

    return edit


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: ["not", "a", "dict"], "the state is list"),
        (_set_item("epoch", "3"), "epoch is str 3, expected int"),
        (_set_item("step", -4), "step is -4, expected >= 0"),
        (_set_item("history", {"__tuple__": []}), "history is tuple"),
        (_set_item("rng", None), "rng is NoneType"),
        (_set_item("model", {"__tensor__": "nowhere"}), "names no tensor"),
        (_set_item("stop", {"__items__": [[1]]}), "is not a \\[key, value\\] pair"),
        (
            _set_item("stop", {"__items__": [[[1], 2]]}),
            "dict key \\[1\\] is not one a checkpoint writes \\(str, int, float, null or a "
            "__tuple__ of these\\)",
        ),
        (_set_item("stop", {"__what__": 1}), "unknown state entry '__what__'"),
        (_set_item("optimizer", {"__items__": []}), "optimizer state cannot be restored"),
    ],
)
def test_forged_state_with_valid_digest_is_refused(tmp_path, edit, match):
    newest, previous = _two_epochs(tmp_path)
    newest.write_bytes(_reseal(_rewrite_header(newest.read_bytes(), _forge_state(edit))))
    _assert_refused_and_resume_falls_back(tmp_path, newest, previous, match)


def test_forged_generator_state_is_refused_and_generators_are_left_alone(tmp_path):
    newest, _ = _two_epochs(tmp_path)

    def other_generator(state):
        rng = dict(state["__items__"])["rng"]
        dict(rng["__items__"])["numpy"]["__tuple__"][0] = "PCG64"  # NumPy restores only MT19937
        return state

    forged = _rewrite_header(newest.read_bytes(), _forge_state(other_generator))
    newest.write_bytes(_reseal(forged))
    fresh = _trainer(tmp_path)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with pytest.raises(CheckpointError, match=r"generator states cannot be restored.*MT19937"):
        fresh.load_checkpoint(newest)
    assert torch.equal(torch.get_rng_state(), before)  # the half-restored state is undone
    assert (fresh.epoch, fresh.step, fresh.history) == (0, 0, [])  # and nothing else moved


def test_refused_checkpoint_leaves_the_trainer_as_it_was(tmp_path):
    """An optimizer set up with two parameter groups cannot take a one-group state: the
    load is refused after the weights would have been replaced, and they are put back."""
    newest, _ = _two_epochs(tmp_path)
    fresh = _trainer(tmp_path)
    first, second = list(fresh.model.parameters())[:2], list(fresh.model.parameters())[2:]
    fresh.optimizer = torch.optim.SGD([{"params": first}, {"params": second}], lr=0.1)
    weights = {k: v.clone() for k, v in fresh.model.state_dict().items()}
    with pytest.raises(ValueError, match="parameter groups"):
        fresh.load_checkpoint(newest)
    for k, v in fresh.model.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert (fresh.epoch, fresh.step, fresh.history) == (0, 0, [])
    assert len(fresh.optimizer.param_groups) == 2


def test_rank_entry_without_its_epoch_generators_is_refused(tmp_path):
    newest, previous = _two_epochs(tmp_path)

    def add_rank_without_epoch_rng(state):
        rank = {"__items__": [["rng", dict(state["__items__"])["rng"]]]}
        state["__items__"] = [p for p in state["__items__"] if p[0] != "ranks"]
        state["__items__"].append(["ranks", [rank]])
        return state

    forged = _rewrite_header(newest.read_bytes(), _forge_state(add_rank_without_epoch_rng))
    newest.write_bytes(_reseal(forged))
    _assert_refused_and_resume_falls_back(tmp_path, newest, previous, "ranks\\[0\\] has no")


def test_checkpoint_of_the_older_format_is_refused_by_name(tmp_path):
    newest, previous = _two_epochs(tmp_path)

    def older(header):
        header["__metadata__"]["mlcanon.format"] = "mlcanon-checkpoint-1"

    newest.write_bytes(_reseal(_rewrite_header(newest.read_bytes(), older)))
    _assert_refused_and_resume_falls_back(tmp_path, newest, previous, "older mlcanon")


def test_weights_file_with_forged_state_is_refused(tmp_path):
    path = save_weights(torch.nn.Linear(2, 1), tmp_path / "w.safetensors")

    def edit(header):
        header["__metadata__"]["mlcanon.state"] = json.dumps([1, 2])

    path.write_bytes(_reseal(_rewrite_header(path.read_bytes(), edit)))
    with pytest.raises(CheckpointError, match=r"w\.safetensors.*unusable"):
        load_weights(torch.nn.Linear(2, 1), path)


def test_one_flipped_bit_anywhere_is_caught(tmp_path):
    newest, _ = _two_epochs(tmp_path)
    data = newest.read_bytes()
    n, _ = _header(data)
    m = DIGEST.search(data[: 8 + n])
    fresh = _trainer(tmp_path)
    # every 97th byte of the header and the data, the digest's own characters excepted
    for i in range(0, len(data), 97):
        if m.start(1) <= i < m.end(1):
            continue
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        newest.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh.load_checkpoint(newest)


class _Batches(torch.utils.data.IterableDataset):
    """``n`` fixed batches of a 4-feature, 2-class problem; no ``len()``."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        g = torch.Generator().manual_seed(5)
        for _ in range(self.n):
            x = torch.randn(10, 4, generator=g)
            yield x, (x.sum(1) > 0).long()


def _stopped_mid_epoch(tmp_path, loader):
    """A Trainer over ``loader`` stopped after 3 of the first epoch's batches (checkpointed)."""

    class Stop(Exception):
        pass

    def halt(t):
        if t.step == 3:
            raise Stop

    t = _trainer(tmp_path)
    t.train_loader, t.checkpoint_every, t.on_step = loader, 1, halt
    with pytest.raises(Stop):
        t.fit(1)
    (newest, _) = t.checkpoints()
    assert newest.name == "ckpt-000000002.safetensors"  # the step-3 file was not reached
    return newest


def test_resume_with_a_shorter_loader_says_so(tmp_path):
    """A checkpoint 2 batches into its epoch, resumed with a loader of one batch an epoch: the
    old code drew past the loader's end inside a generator and raised ``RuntimeError:
    generator raised StopIteration``."""
    x = torch.randn(40, 4)
    data = TensorDataset(x, (x.sum(1) > 0).long())
    newest = _stopped_mid_epoch(tmp_path, DataLoader(data, batch_size=10))
    fresh = _trainer(tmp_path)
    fresh.train_loader = DataLoader(TensorDataset(x[:10], data.tensors[1][:10]), batch_size=10)
    with pytest.raises(ValueError, match=r"after batch 2, but the train_loader yields 1 batch"):
        fresh.resume()
    assert (fresh.epoch, fresh.step, fresh.history) == (0, 0, [])  # nothing was restored
    # a loader without len() is found short while the batches are replayed, before any step
    newest = _stopped_mid_epoch(tmp_path / "iterable", DataLoader(_Batches(4), batch_size=None))
    fresh = _trainer(tmp_path / "iterable")
    fresh.train_loader = DataLoader(_Batches(1), batch_size=None)
    assert fresh.resume() == newest
    weights = {k: v.clone() for k, v in fresh.model.state_dict().items()}
    with pytest.raises(ValueError, match=r"after batch 2, but the train_loader yields 1 batch"):
        fresh.fit(1)
    assert fresh.step == 2
    assert all(torch.equal(v, weights[k]) for k, v in fresh.model.state_dict().items())


@pytest.fixture
def alarm():
    """Fail a test that blocks for 10 s (opening a FIFO waits for a writer) instead of hanging."""
    import signal

    def timeout(*_):
        raise TimeoutError("blocked for 10 s")

    before = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


def test_fifo_named_as_the_newest_checkpoint_is_skipped(tmp_path, alarm):
    """A named pipe among the checkpoints: reading it blocked until some process wrote to it
    (and a link to /dev/zero would have been read until memory ran out). Now it is refused
    as not a regular file, and resume falls back to the newest real checkpoint."""
    import os

    newest, _ = _two_epochs(tmp_path)
    fifo = newest.with_name("ckpt-000000999.safetensors")
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match=r"ckpt-000000999.* not a regular file"):
        _trainer(tmp_path).load_checkpoint(fifo)
    fresh = _trainer(tmp_path)
    with pytest.warns(RuntimeWarning, match="ckpt-000000999"):
        assert fresh.resume() == newest
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_weights(torch.nn.Linear(4, 8), fifo)


def test_folder_named_as_the_newest_checkpoint_is_skipped(tmp_path):
    """resume() read it and stopped with IsADirectoryError instead of falling back."""
    newest, _ = _two_epochs(tmp_path)
    folder = newest.with_name("ckpt-000000999.safetensors")
    folder.mkdir()
    fresh = _trainer(tmp_path)
    with pytest.warns(RuntimeWarning, match=r"ckpt-000000999.*a folder, not a file"):
        assert fresh.resume() == newest


def test_unreadable_later_checkpoint_does_not_push_out_the_fresh_one(tmp_path):
    """keep_last=1, the step-8 file damaged, resumed from step 4: the old pruning kept the
    newest names, so the damaged step-8 file stayed and each fresh checkpoint was deleted as
    soon as it was written, leaving nothing to resume from."""
    t = _trainer(tmp_path)
    t.checkpoint_every, t.keep_last = 1, 10
    t.fit(2)  # 4 batches an epoch: a file for each of the steps 1 to 8
    files = {int(p.name[5:14]): p for p in t.checkpoints()}
    assert sorted(files) == list(range(1, 9))
    for step in (5, 6, 7):
        files[step].unlink()
    files[8].write_bytes(files[8].read_bytes()[:-50])

    class Stop(Exception):
        pass

    def halt(tr):
        if tr.step == 6:  # before step 6 is saved
            raise Stop

    fresh = _trainer(tmp_path)
    fresh.checkpoint_every, fresh.keep_last, fresh.on_step = 1, 1, halt
    with pytest.warns(RuntimeWarning, match="ckpt-000000008"):
        assert fresh.resume() == files[4]
    with pytest.raises(Stop):
        fresh.fit(2)
    names = [p.name for p in fresh.checkpoints()]
    assert names == ["ckpt-000000008.safetensors", "ckpt-000000005.safetensors"]
    again = _trainer(tmp_path)
    with pytest.warns(RuntimeWarning, match="ckpt-000000008"):
        assert again.resume().name == "ckpt-000000005.safetensors"
    assert again.step == 5


def test_same_state_gives_the_same_bytes(tmp_path):
    """safetensors writes its metadata from a Rust HashMap, in an order that changes from call
    to call: the same weights gave files (and digests) differing byte for byte, and two runs of
    the same seed gave different checkpoints. The files read back with safetensors itself."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
    files = {save_weights(model, tmp_path / "w.safetensors").read_bytes() for _ in range(12)}
    assert len(files) == 1
    loaded = load_file(tmp_path / "w.safetensors")
    assert loaded.keys() == model.state_dict().keys()
    for k, v in model.state_dict().items():
        assert torch.equal(loaded[k], v)
    with safe_open(tmp_path / "w.safetensors", "pt") as f:
        assert set(f.metadata()) == {"mlcanon.format", "mlcanon.state", "mlcanon.sha256"}

    runs = []
    for run in ("a", "b"):
        _trainer(tmp_path / run).fit(2)
        runs.append({p.name: p.read_bytes() for p in (tmp_path / run / "ckpt").iterdir()})
    assert runs[0].keys() == runs[1].keys() and len(runs[0]) == 2
    assert runs[0] == runs[1]


def _bn_net(seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.Linear(5, 2))
    net.train()(torch.randn(16, 3))  # running statistics and num_batches_tracked move
    return net.eval()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_plain_safetensors_file_loads_as_torch_loads_it(tmp_path, dtype):
    """A file written by safetensors.torch.save_file (no mlcanon metadata) was refused with
    "format is None"; it now loads as torch's load_state_dict(load_file(path)) does, the
    float16 file's values cast into the float32 model."""
    from safetensors.torch import load_file, save_file

    source = _bn_net(0)
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in source.state_dict().items()}
    save_file(state, tmp_path / "plain.safetensors", metadata={"format": "pt"})
    ours = load_weights(_bn_net(1), tmp_path / "plain.safetensors")
    ref = _bn_net(1)
    ref.load_state_dict(load_file(tmp_path / "plain.safetensors"))
    assert ours.state_dict().keys() == ref.state_dict().keys()
    for k, v in ref.state_dict().items():
        assert ours.state_dict()[k].dtype == v.dtype
        assert torch.equal(ours.state_dict()[k], v), k
    x = torch.randn(4, 3)
    assert torch.equal(ours(x), ref(x))


def test_plain_safetensors_file_of_another_model_names_the_keys(tmp_path):
    from safetensors.torch import save_file

    state = _bn_net(0).state_dict()
    save_file({k: v for k, v in state.items() if k != "1.running_var"}, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match=r"plain safetensors.*missing \['1.running_var'\]"):
        load_weights(_bn_net(1), tmp_path / "a.safetensors")
    save_file({**state, "3.bias": torch.zeros(2)}, tmp_path / "b.safetensors")
    with pytest.raises(ValueError, match=r"unexpected \['3.bias'\]"):
        load_weights(_bn_net(1), tmp_path / "b.safetensors")
    save_file({**state, "2.weight": torch.zeros(2, 4)}, tmp_path / "c.safetensors")
    with pytest.raises(ValueError, match=r"shape mismatches \['2.weight: \(2, 4\) vs \(2, 5\)'\]"):
        load_weights(_bn_net(1), tmp_path / "c.safetensors")
    (tmp_path / "d.safetensors").write_bytes((tmp_path / "c.safetensors").read_bytes()[:-7])
    with pytest.raises(CheckpointError, match=r"d\.safetensors.*not a readable safetensors"):
        load_weights(_bn_net(1), tmp_path / "d.safetensors")


class _Piecewise:
    """An LR factor by fraction of training: a callable object, whose ``__dict__`` (with float
    keys) LambdaLR.state_dict saves, as torch documents for callable objects."""

    def __init__(self, total):
        self.total, self.factors = total, {0.0: 1.0, 0.5: 0.1, 0.75: 0.01}

    def __call__(self, step):
        return self.factors[max(k for k in self.factors if k <= step / self.total)]


@pytest.mark.parametrize(
    "key", [0.5, (0, "a"), None, np.int64(3), True], ids=["float", "tuple", "none", "np", "bool"]
)
def test_state_with_keys_other_than_str_and_int_round_trips(tmp_path, key):
    """A state whose dict keys were floats, tuples or None was written without complaint but
    could never be read back ('__items__ entry [0.5, ...] is not a [key, value] pair'), and a
    NumPy integer key failed the save with 'Object of type int64 is not JSON serializable'.
    The rule: load(save(state)) == state, keys and values."""
    state = {"a": {key: 1.5, "b": [1, 2]}}
    save_state_file(tmp_path / "s.safetensors", state)
    _, back = load_state_file(tmp_path / "s.safetensors")
    assert back == state
    plain = key.item() if isinstance(key, np.generic) else key  # NumPy scalars come back plain
    assert type(next(iter(back["a"]))) is type(plain)
    match = (
        r"cannot store a dict key of type Tensor at 'state.a' in a checkpoint: keys must be str, "
        r"int, float, None or tuples of these, got tensor\(\[0\.\]\)"
    )
    with pytest.raises(TypeError, match=match):
        save_state_file(tmp_path / "t.safetensors", {"a": {torch.zeros(1): 1}})


def test_lambda_lr_of_a_callable_object_resumes(tmp_path):
    """LambdaLR saves a callable object's __dict__; one keyed by floats made every checkpoint
    unusable, so resume() found 'no valid checkpoint' after a whole run. Reference: the
    uninterrupted run's rates and weights, equal to the resumed run's."""

    def trainer():
        t = _trainer(tmp_path)
        t.scheduler = torch.optim.lr_scheduler.LambdaLR(t.optimizer, _Piecewise(12))
        return t

    full = trainer()
    full.checkpoint_dir = None
    full.fit(3)
    first = trainer()
    first.fit(2)
    resumed = trainer()
    assert resumed.resume() == first.checkpoints()[0]
    assert resumed.scheduler.lr_lambdas[0].factors == {0.0: 1.0, 0.5: 0.1, 0.75: 0.01}
    resumed.fit(3)
    assert [h["lr"] for h in resumed.history] == [h["lr"] for h in full.history]
    # 4 steps an epoch, 12 in all: the epochs end at 3/12, 7/12 and 11/12 of training
    assert [h["lr"] for h in full.history] == pytest.approx([0.1, 0.01, 0.001], rel=1e-15)
    for a, b in zip(resumed.model.parameters(), full.model.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("zipped", [True, False])
def test_torch_save_file_is_named_as_such(tmp_path, zipped):
    """A torch.save file (a zip archive, or a bare pickle in the legacy format) was refused as
    'header of 578712552184433488 bytes runs past the end ... (truncated?)'; it is now named
    as a pickle that is never loaded, with the conversion to safetensors."""
    path = tmp_path / "w.pt"
    model = torch.nn.Linear(2, 1)
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=zipped)
    assert torch.load(path, weights_only=True).keys() == model.state_dict().keys()
    with pytest.raises(CheckpointError, match=r"w\.pt.* a torch\.save \(pickle\) file"):
        load_weights(model, path)
