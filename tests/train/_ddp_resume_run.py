"""Run under torchrun (2 ranks): a run stopped mid-epoch and resumed ends like an unbroken one.

The ranks seed their generators differently, so their dropout masks differ: a resumed rank must
restore its own generator states, not rank 0's. Their data differ too, so their shares of the
epoch's loss differ: a resumed rank must continue its own sum. Prints, per rank, the SHA-256 of
the final weights and of the torch generator state of the unbroken and of the resumed run, and
the epoch losses of both.
"""

import hashlib
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.train import Trainer
from mlcanon.train._distributed import init_distributed


class Stop(Exception):
    pass


def trainer(rank, folder, stop_at=None, seed=None):
    torch.manual_seed(0)  # the same initial weights on every rank
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1))
    torch.manual_seed(100 + rank if seed is None else seed)  # each rank its own dropout masks
    g = torch.Generator().manual_seed(rank)
    data = TensorDataset(torch.randn(48, 6, generator=g), torch.randn(48, 1, generator=g))

    def halt(t):
        if t.step == stop_at:
            raise Stop

    return Trainer(
        model,
        torch.optim.SGD(model.parameters(), lr=0.05),
        lambda m, b: F.mse_loss(m(b[0]), b[1]),
        DataLoader(data, batch_size=8),
        checkpoint_dir=folder,
        checkpoint_every=2,
        progress=False,
        on_step=halt,
    )


def digest(t):
    flat = torch.cat([p.detach().reshape(-1) for p in t.model.parameters()])
    rng = torch.get_rng_state()
    return hashlib.sha256(flat.numpy().tobytes() + rng.numpy().tobytes()).hexdigest()[:16]


def main(out):
    rank, _ = init_distributed()
    whole = trainer(rank, Path(out) / "whole")
    whole.fit(2)
    broken = trainer(rank, Path(out) / "broken", stop_at=9)
    try:
        broken.fit(2)
    except Stop:
        pass
    # a fresh process's generators (the same on every rank): resume must overwrite them
    resumed = trainer(rank, Path(out) / "broken", seed=12345)
    resumed.resume()
    resumed.fit(2)
    # the line and its newline in one write, so two ranks' lines cannot interleave
    sys.stdout.write(f"rank {rank} whole {digest(whole)} resumed {digest(resumed)}\n")
    losses = [[e["loss"] for e in t.history] for t in (whole, resumed)]
    sys.stdout.write(f"rank {rank} losses {losses[0]!r} resumed {losses[1]!r}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
