"""Worker for test_io_mutations: loads mutated model files one per stdin line, reports outcomes.

Each input line is ``case<TAB>mutated_path<TAB>original_path<TAB>X_path``; each output line is
``case<TAB>outcome<TAB>detail`` where outcome is one of

- ``refused``: ``io.load`` raised ValueError naming the file;
- ``identical``: the model loaded and saving it again gives the original's digest;
- ``different``: it loaded into another model that predicts without error;
- ``predict-error``: it loaded into a model whose ``predict`` raised a Python exception;
- ``bad-load-error``: ``io.load`` raised something other than a ValueError naming the file.

The parent runs this in a subprocess with a timeout, so a hang or a crash (a signal) is seen
there and blamed on the case being read.
"""

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from mlcanon import io


def digest(path):
    with np.load(path, allow_pickle=False) as z:
        return z["__sha256__"].tobytes()


def outcome(mutated, original, X, scratch):
    try:
        model = io.load(mutated)
    except ValueError as exc:
        if str(mutated) in str(exc):
            return "refused", str(exc).replace(str(mutated), "<file>")[:160]
        return "bad-load-error", f"ValueError without the file name: {exc}"[:160]
    except Exception as exc:
        return "bad-load-error", f"{type(exc).__name__}: {exc}"[:160]
    if digest(io.save(model, scratch)) == digest(original):
        return "identical", ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.asarray(model.predict(X))
    except Exception as exc:
        return "predict-error", f"{type(exc).__name__}: {exc}"[:160]
    return "different", ""


def main():
    scratch = Path(tempfile.mkdtemp()) / "again.npz"
    for line in sys.stdin:
        case, mutated, original, X_path = line.rstrip("\n").split("\t")
        kind, detail = outcome(Path(mutated), Path(original), np.load(X_path), scratch)
        print(f"{case}\t{kind}\t{detail}", flush=True)


if __name__ == "__main__":
    main()
