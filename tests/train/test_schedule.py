import math
import re

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

from mlcanon.train import warmup_cosine


def _opt(lrs):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.AdamW(groups)


def _trace(opt, sched, n):
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize(
    ("warmup", "total", "min_lr"), [(5, 50, 0.0), (10, 200, 1e-4), (1, 7, 1e-3), (37, 1000, 0.0)]
)
def test_matches_torch_linear_plus_cosine(warmup, total, min_lr):
    lrs = [3e-3, 1e-2]
    opt = _opt(lrs)
    ours = _trace(opt, warmup_cosine(opt, warmup, total, min_lr), total + 1)
    ref_opt = _opt(lrs)
    ref = SequentialLR(
        ref_opt,
        [
            LinearLR(ref_opt, start_factor=1 / warmup, total_iters=warmup - 1),
            CosineAnnealingLR(ref_opt, T_max=total - warmup, eta_min=min_lr),
        ],
        milestones=[warmup],
    )
    np.testing.assert_allclose(ours, _trace(ref_opt, ref, total + 1), rtol=1e-12, atol=1e-15)


def test_hand_values():
    opt = _opt([1.0])
    lrs = _trace(opt, warmup_cosine(opt, 4, 8, 0.0), 12)[:, 0]
    expected = [0.25, 0.5, 0.75, 1.0, 1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5]
    expected += [(1 + math.cos(3 * math.pi / 4)) / 2, 0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(lrs, expected, atol=1e-15)


def test_no_warmup_is_cosine_annealing():
    opt, ref_opt = _opt([0.1]), _opt([0.1])
    ours = _trace(opt, warmup_cosine(opt, 0, 30, 0.01), 31)
    ref = _trace(ref_opt, CosineAnnealingLR(ref_opt, T_max=30, eta_min=0.01), 31)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_errors():
    opt = _opt([0.1])
    with pytest.raises(ValueError, match="total_steps=5 must be > warmup_steps=5"):
        warmup_cosine(opt, 5, 5)
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        warmup_cosine(opt, -1, 5)
    with pytest.raises(TypeError, match="warmup_steps must be int"):
        warmup_cosine(opt, 1.5, 5)
    with pytest.raises(ValueError, match=re.escape("min_lr=0.5 must be <= every base lr")):
        warmup_cosine(opt, 1, 5, min_lr=0.5)
    with pytest.raises(TypeError, match=re.escape("optimizer must be a torch.optim.Optimizer")):
        warmup_cosine("adam", 1, 5)
