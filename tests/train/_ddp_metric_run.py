"""Run under torchrun (2 ranks): ``evaluate`` gives each rank its own values.

Rank 0 sees a metric that improves enough to go on (early stopping with patience 2 and
min_delta 0.15), rank 1 one that stalls from epoch 2 and, with ``--nan``, turns NaN at epoch 3.
Prints, per rank, the history's ``val`` values and the epochs trained as JSON. The process
group is made with a 60 s timeout, so that ranks that disagree on stopping fail rather than
wait for the default 30 minutes.
"""

import datetime
import json
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from mlcanon.train import EarlyStopping, Trainer

VALUES = {
    0: [1.0, 0.9, 0.6, 0.5, 0.4, 0.2],
    1: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
}


def main(nan):
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    values = list(VALUES[rank])
    if nan and rank == 1:
        values[2] = float("nan")
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    g = torch.Generator().manual_seed(rank)
    x = torch.randn(8, 3, generator=g)
    seen = iter(values)
    t = Trainer(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        lambda m, b: F.mse_loss(m(b[0]), b[0].sum(1, keepdim=True)),
        DataLoader(TensorDataset(x), batch_size=4),
        evaluate=lambda m: next(seen),
        early_stopping=EarlyStopping(patience=2, min_delta=0.15),
        progress=False,
    )
    t.fit(6)
    out = {"val": [e["val"] for e in t.history], "epochs": t.epoch}
    sys.stdout.write(f"rank {rank} {json.dumps(out)}\n")
    sys.stdout.flush()
    dist.destroy_process_group()


if __name__ == "__main__":
    main("--nan" in sys.argv)
