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


def _torch_warmup_cosine(opt, warmup, total, min_lr=0.0):
    """The reference: torch's LinearLR(1/W, W-1) then, at step W, CosineAnnealingLR(T-W)."""
    return SequentialLR(
        opt,
        [
            LinearLR(opt, start_factor=1 / warmup, total_iters=warmup - 1),
            CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr),
        ],
        milestones=[warmup],
    )


@pytest.mark.parametrize(
    ("warmup", "total", "min_lr"), [(5, 50, 0.0), (10, 200, 1e-4), (1, 7, 1e-3), (37, 1000, 0.0)]
)
def test_matches_torch_linear_plus_cosine(warmup, total, min_lr):
    lrs = [3e-3, 1e-2]
    opt = _opt(lrs)
    ours = _trace(opt, warmup_cosine(opt, warmup, total, min_lr), total + 1)
    ref_opt = _opt(lrs)
    ref = _torch_warmup_cosine(ref_opt, warmup, total, min_lr)
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
    with pytest.raises(ValueError, match="total_steps must be >= 1"):
        warmup_cosine(opt, 5, 0)
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        warmup_cosine(opt, -1, 5)
    with pytest.raises(TypeError, match="warmup_steps must be int"):
        warmup_cosine(opt, 1.5, 5)
    with pytest.raises(ValueError, match=re.escape("min_lr=0.5 must be <= every base lr")):
        warmup_cosine(opt, 1, 5, min_lr=0.5)
    with pytest.raises(TypeError, match=re.escape("optimizer must be a torch.optim.Optimizer")):
        warmup_cosine("adam", 1, 5)


@pytest.mark.parametrize(("warmup", "total"), [(100, 62), (6, 5), (10, 3), (2, 1)])
def test_run_shorter_than_its_warmup_is_the_composed_torch_schedule(warmup, total):
    """total_steps <= warmup_steps was refused, so a short run had to cut its warmup to fit
    (the detection tasks used warmup = total - 1, ending the run at the peak rate without
    decay). The composed torch schedule takes it: the run ends within the warmup, at rate
    total / warmup of the peak; ours equals it at every step, the rate after the last step
    included."""
    lrs = [3e-3, 1e-2]
    opt = _opt(lrs)
    ours = _trace(opt, warmup_cosine(opt, warmup, total), total + 1)
    ref_opt = _opt(lrs)
    ref = _torch_warmup_cosine(ref_opt, warmup, total)
    np.testing.assert_allclose(ours, _trace(ref_opt, ref, total + 1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours[total - 1], np.array(lrs) * total / warmup, rtol=1e-15)


@pytest.mark.parametrize(("warmup", "total"), [(5, 5), (7, 4), (1, 1)])
def test_run_within_its_warmup_is_linear_lr_to_the_peak_and_stays(warmup, total):
    """At total == warmup torch's CosineAnnealingLR(T_max=0) divides by zero; the run is all
    warmup, LinearLR's: rising to the peak at step warmup - 1 and staying there afterwards."""
    lrs = [3e-3, 1e-2]
    opt, ref_opt = _opt(lrs), _opt(lrs)
    n = warmup + 4
    ours = _trace(opt, warmup_cosine(opt, warmup, total), n)
    ref = _trace(ref_opt, LinearLR(ref_opt, start_factor=1 / warmup, total_iters=warmup - 1), n)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-15)


def test_one_epoch_detection_run_follows_the_recipe_schedule():
    """RetinaNet's recipe warms up for 100 steps; one epoch is 62 steps. The task cut the
    warmup to 61 steps, so the run's last step used the peak rate 4e-3 (no decay); it now
    follows the recipe's composed torch schedule, ending within the warmup at 62/100 of it."""
    from mlcanon.train._detection import RECIPES, _build
    from mlcanon.train._tasks import TaskConfig

    torch.manual_seed(0)
    setup = _build("retinanet", TaskConfig(epochs=1, seed=0))
    total, (lr, warmup, _) = len(setup.train_loader), RECIPES["retinanet"]
    assert (total, warmup) == (62, 100)
    opt, ours = setup.optimizer, []
    for _ in range(total):
        ours.append(opt.param_groups[0]["lr"])
        opt.step()
        setup.scheduler.step()
    ref_opt = _opt([lr])
    ref = _torch_warmup_cosine(ref_opt, warmup, total)
    np.testing.assert_allclose(ours, _trace(ref_opt, ref, total)[:, 0], rtol=0, atol=1e-15)
