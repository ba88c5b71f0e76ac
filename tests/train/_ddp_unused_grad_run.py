"""Run under torchrun (2 ranks): gradients missing on one rank only, or on every rank.

Rank r holds the gradient (r + 1) * [1, 2, 3] on ``a``; only rank 0 holds one on ``b``
([4, 8]); ``c`` has none on either rank and ``d`` does not require one. Prints, per rank, the
gradients after :func:`average_gradients` as JSON (``null`` for a missing one).
"""

import json
import sys

import torch
from torch import nn

from mlcanon.train._distributed import average_gradients, init_distributed


def main():
    rank, _ = init_distributed()
    a, b, c = (nn.Parameter(torch.zeros(n)) for n in (3, 2, 4))
    d = nn.Parameter(torch.zeros(1), requires_grad=False)
    a.grad = (rank + 1) * torch.tensor([1.0, 2.0, 3.0])
    if rank == 0:
        b.grad = torch.tensor([4.0, 8.0])
    average_gradients([a, b, c, d])
    grads = {
        k: None if p.grad is None else p.grad.tolist()
        for k, p in zip("abcd", (a, b, c, d), strict=True)
    }
    # the line and its newline in one write: print() sends the newline apart when unbuffered,
    # and the two ranks' lines could meet
    sys.stdout.write(f"rank {rank} {json.dumps(grads)}\n")
    sys.stdout.flush()
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
