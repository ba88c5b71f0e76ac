"""Integer parameters of ``mlcanon.train`` take any ``numbers.Integral`` (NumPy's included), as
torch and scikit-learn do; the old code refused ``np.int64(3)`` with ``TypeError: ... must be
int``. Booleans and floats stay refused, naming the parameter."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from mlcanon.train import (
    ClassBalancedSampler,
    EarlyStopping,
    Trainer,
    lr_range_test,
    run_task,
    warmup_cosine,
)


def _data():
    torch.manual_seed(0)
    x = torch.randn(24, 3)
    return x, (x.sum(1) > 0).long()


def _model():
    torch.manual_seed(1)
    return torch.nn.Linear(3, 2)


def test_fit_with_numpy_epochs_matches_a_plain_torch_loop(tmp_path):
    """Reference: the same SGD written as a plain loop, ``torch.optim.lr_scheduler.StepLR``
    given NumPy integers too (torch accepts them); Trainer gets ``np.int64`` for ``epochs``,
    ``checkpoint_every`` and ``keep_last``, and ``warmup_cosine`` for its step counts."""
    x, y = _data()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    for _ in range(3):
        for i in range(0, 24, 8):
            opt.zero_grad()
            F.cross_entropy(model(x[i : i + 8]), y[i : i + 8]).backward()
            opt.step()
            sched.step()
    ref = [p.detach().clone() for p in model.parameters()]
    torch.optim.lr_scheduler.StepLR(opt, step_size=np.int64(3))  # torch takes NumPy integers

    ours = _model()
    opt = torch.optim.SGD(ours.parameters(), lr=0.1)
    t = Trainer(
        ours,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        DataLoader(TensorDataset(x, y), batch_size=8),
        scheduler=warmup_cosine(opt, np.int64(0), np.int64(10**9), min_lr=0.1),
        checkpoint_dir=tmp_path,
        checkpoint_every=np.int32(2),
        keep_last=np.int64(1),
        progress=False,
    )
    history = t.fit(np.int64(3))
    assert len(history) == 3 and t.epoch == 3 and type(t.epoch) is int
    assert [p.name for p in t.checkpoints()] == ["ckpt-000000009.safetensors"]
    for a, b in zip(ours.parameters(), ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_early_stopping_with_numpy_patience_counts_like_an_int():
    """Reference: Keras/Lightning's rule written plainly: stop once ``patience`` evaluations in a
    row fail to improve the best value."""
    values = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5]
    stopped, best, bad = None, np.inf, 0
    for i, v in enumerate(values):
        best, bad = (v, 0) if v < best else (best, bad + 1)
        if bad >= 3:
            stopped = i
            break
    es = EarlyStopping(patience=np.int64(3))
    got = next(i for i, v in enumerate(values) if es.step(v))
    assert got == stopped == 4 and es.patience == 3 and type(es.patience) is int


def test_samplers_take_numpy_integers_as_torch_distributed_sampler_does():
    data = list(range(8))
    ref = DistributedSampler(data, num_replicas=np.int64(2), rank=np.int64(1), shuffle=False)
    assert list(ref) == [1, 3, 5, 7]  # torch takes NumPy integers here
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    a = ClassBalancedSampler(
        labels, np.int64(8), num_replicas=np.int64(2), rank=np.int64(1), seed=3
    )
    b = ClassBalancedSampler(labels, 8, num_replicas=2, rank=1, seed=3)
    assert list(a) == list(b) and len(a) == len(ref) == 4


def test_lr_range_test_takes_numpy_num_iter():
    x, y = _data()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    result = lr_range_test(
        model, torch.nn.CrossEntropyLoss(), [(x, y)], opt, 1e-4, 1e-1, np.int64(5)
    )
    assert len(result.lrs) == 5


def test_run_task_takes_numpy_seed_and_epochs(tmp_path):
    a = run_task(
        "digits-cnn", tmp_path / "a", epochs=np.int64(1), seed=np.uint32(3), progress=False
    )
    b = run_task("digits-cnn", tmp_path / "b", epochs=1, seed=3, progress=False)
    assert a == b and len(a) == 1


@pytest.mark.parametrize("bad", [True, 2.0, "2", np.float64(2.0)], ids=repr)
def test_non_integers_are_still_refused_by_name(bad):
    with pytest.raises(TypeError, match=r"patience must be int, got "):
        EarlyStopping(patience=bad)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    t = Trainer(model, opt, lambda m, b: m(b[0]).sum(), DataLoader(TensorDataset(torch.ones(2, 3))))
    with pytest.raises(TypeError, match=r"epochs must be int, got "):
        t.fit(bad)
    with pytest.raises(TypeError, match=r"seed must be int, got "):
        run_task("digits-cnn", "unused", epochs=1, seed=bad)
    with pytest.raises(ValueError, match=r"epochs must be >= 1, got 0"):
        t.fit(np.int64(0))
