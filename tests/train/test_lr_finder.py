import re

import numpy as np
import pytest
import torch

from mlcanon.train import lr_range_test


def _problem(seed, n=256, d=5):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = X @ torch.randn(d, 1, generator=g, dtype=torch.float64) + 0.1
    model = torch.nn.Linear(d, 1).double()
    torch.manual_seed(seed)
    model.reset_parameters()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=n)
    return X, model, loader


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_written_out_sweep_and_restores_state(seed):
    X, model, loader = _problem(seed)
    y = loader.dataset.tensors[1]
    opt = torch.optim.SGD(model.parameters(), lr=0.123, momentum=0.9)
    # one real step so that the optimizer has a momentum buffer to restore
    torch.nn.functional.mse_loss(model(X), y).backward()
    opt.step()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    buf = [opt.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    ref_model = torch.nn.Linear(5, 1).double()
    ref_model.load_state_dict(before)

    res = lr_range_test(
        model,
        torch.nn.functional.mse_loss,
        loader,
        opt,
        1e-4,
        10.0,
        40,
        smooth=0.1,
        diverge_th=1e9,
    )
    lrs = 1e-4 * (1e5) ** (np.arange(40) / 39)
    np.testing.assert_allclose(res.lrs, lrs, rtol=1e-14)
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.123, momentum=0.9)
    for p, b in zip(ref_model.parameters(), buf, strict=True):
        ref_opt.state[p]["momentum_buffer"] = b.clone()
    ref = _written_out(ref_model, ref_opt, X, y, lrs)
    n = len(res.losses)
    np.testing.assert_allclose(res.losses, ref[:n], rtol=1e-12)

    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    for p, b in zip(model.parameters(), buf, strict=True):
        torch.testing.assert_close(opt.state[p]["momentum_buffer"], b, rtol=0, atol=0)
    assert opt.param_groups[0]["lr"] == 0.123


def _written_out(model, opt, X, y, lrs):
    """The same sweep written out: full-batch SGD, overwrite the lr, EMA of the loss."""
    out, avg = [], None
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        v = loss.item()
        avg = v if avg is None else 0.1 * v + 0.9 * avg
        out.append(avg)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_diverges_and_suggests_a_stable_rate(seed):
    X, model, loader = _problem(seed)
    # full-batch GD on least squares diverges above 2 / L, L = largest eigenvalue of the Hessian
    Xa = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    L = float(torch.linalg.eigvalsh(2 * Xa.T @ Xa / len(X)).max())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    res = lr_range_test(model, torch.nn.functional.mse_loss, loader, opt, 1e-4, 100.0, 100)
    assert res.diverged and len(res.lrs) < 100
    assert res.lrs[-1] > 2 / L  # it only blows up past the stability limit
    assert 1e-3 < res.suggested_lr < 2 / L


def test_smoothing_hand_case():
    # the loss of a constant model does not depend on the lr: the EMA of a known sequence
    class Const(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return x + 0 * self.w

    batches = [
        (torch.tensor([4.0]), torch.tensor([0.0])),
        (torch.tensor([2.0]), torch.tensor([0.0])),
    ]
    model = Const()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    res = lr_range_test(
        model, torch.nn.functional.mse_loss, batches, opt, 1e-3, 1e-1, 3, smooth=0.5
    )
    np.testing.assert_allclose(res.raw_losses, [16.0, 4.0, 16.0])
    np.testing.assert_allclose(res.losses, [16.0, 10.0, 13.0])
    np.testing.assert_allclose(res.lrs, [1e-3, 1e-2, 1e-1], rtol=1e-14)
    assert not res.diverged


def test_errors():
    _, model, loader = _problem(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    f = torch.nn.functional.mse_loss
    with pytest.raises(ValueError, match=re.escape("end_lr=0.001 must be > start_lr=0.01")):
        lr_range_test(model, f, loader, opt, 1e-2, 1e-3, 10)
    with pytest.raises(ValueError, match="start_lr must be > 0"):
        lr_range_test(model, f, loader, opt, 0.0, 1.0, 10)
    with pytest.raises(ValueError, match="num_iter must be >= 2"):
        lr_range_test(model, f, loader, opt, 1e-3, 1.0, 1)
    with pytest.raises(ValueError, match="smooth must be > 0"):
        lr_range_test(model, f, loader, opt, 1e-3, 1.0, 10, smooth=0.0)
    with pytest.raises(ValueError, match="diverge_th must be > 1"):
        lr_range_test(model, f, loader, opt, 1e-3, 1.0, 10, diverge_th=1.0)
    with pytest.raises(TypeError, match=re.escape("optimizer must be a torch.optim.Optimizer")):
        lr_range_test(model, f, loader, "sgd", 1e-3, 1.0, 10)


def test_suggestion_ignores_the_curve_past_its_minimum():
    # a loss that falls, then blows up and falls back faster: the late fall is not a suggestion
    class Scripted(torch.nn.Module):
        def __init__(self, values):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))
            self.values = iter(values)

        def forward(self, x):
            return torch.tensor(next(self.values)) + 0 * self.w

    values = [4.0, 3.9, 3.0, 2.8, 2.7, 20.0, 9.0, 2.75]
    model = Scripted(values)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.zeros(1), torch.zeros(()))]

    def loss_fn(out, _):
        return out

    res = lr_range_test(model, loss_fn, batches, opt, 1.0, 128.0, 8, smooth=1.0, diverge_th=1e3)
    np.testing.assert_allclose(res.losses, values)
    # slopes per log-step before the minimum (index 4): -0.1, -0.5, -0.55, -0.15, -0.1
    assert res.suggested_lr == pytest.approx(4.0)  # index 2; over the whole curve: 64


@pytest.mark.parametrize(
    ("losses", "n_steps", "diverged"),
    [
        ([1.0, 1.0, 1.0, 6.0], 4, True),  # 6 > 5 x 1 at the last of 4 steps
        ([1.0, 1.0, 1.0, 4.0], 4, False),
        ([2.0, 1.0, 5.5, 1.0], 3, True),  # 5.5 > 5 x 1 at step 3 ends the sweep there
        ([1.0, 1.0, 1.0, float("inf")], 4, True),
    ],
)
def test_divergence_is_reported_at_any_step(losses, n_steps, diverged):
    """smooth=1 makes the smoothed loss the raw one, so the threshold is read off the list."""
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    values = iter(losses)

    def loss_fn(out, y):
        return out.sum() * 0.0 + next(values)

    batch = (torch.ones(2, 1), torch.ones(2, 1))
    res = lr_range_test(model, loss_fn, [batch], opt, 1e-3, 1.0, 4, smooth=1.0, diverge_th=5.0)
    assert len(res.losses) == n_steps
    assert res.diverged is diverged


def test_train_and_eval_modes_are_restored():
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 1))
    model.eval()
    model[1].train()  # a mix: the dropout alone in training mode
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    batch = (torch.randn(8, 2), torch.randn(8, 1))
    lr_range_test(model, torch.nn.MSELoss(), [batch], opt, 1e-4, 1e-2, 5)
    assert [m.training for m in model.modules()] == [False, False, True, False]


@pytest.mark.parametrize("offset", [0.0, -1.0, -100.0])
def test_a_loss_below_zero_is_swept_like_a_positive_one(offset):
    """Gradient descent on f(w) = (w - 3)^2 + offset: w - 3 shrinks by |1 - 2 lr| a step, so
    the loss falls for lr < 1 and blows up past it whatever the offset (the gradient does not
    see it). The old test 'smoothed > 5 x best' holds as soon as the minimum is negative
    (-1 > -5): the sweep stopped there as 'diverged', at its first step for offset -100 and at
    step 30 (lr 0.09) for offset -1."""
    w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    model = torch.nn.Module()
    model.w = w
    opt = torch.optim.SGD([w], lr=0.1)
    batch = (torch.zeros(1, dtype=torch.float64), None)

    def loss_fn(out, _):
        return ((out - 3) ** 2).sum() + offset

    def forward(x):
        return x + w

    model.forward = forward
    res = lr_range_test(model, loss_fn, [batch], opt, 1e-3, 10.0, 60, smooth=1.0)
    lrs = 1e-3 * (10.0 / 1e-3) ** (np.arange(60) / 59)
    # the closed form of the raw losses, step by step, until the sweep stops
    dist, expected = 3.0, []
    for lr in lrs[: len(res.raw_losses)]:
        expected.append(dist**2 + offset)
        dist *= abs(1 - 2 * lr)
    stable = res.lrs < 1.0  # past lr = 1 each step multiplies the rounding error by up to 19
    np.testing.assert_allclose(res.raw_losses[stable], np.array(expected)[stable], atol=1e-12)
    np.testing.assert_allclose(res.raw_losses, expected, rtol=1e-6, atol=1e-12)
    assert res.diverged and len(res.lrs) > 30  # it stopped in the blow-up, not at the start
    assert res.lrs[-1] > 1.0 and res.suggested_lr < 1.0
