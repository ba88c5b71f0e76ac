"""Bad input to the LR range test: a loader with no batches."""

import pytest
import torch

from mlcanon.train import lr_range_test


def _setup():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    return model, torch.optim.SGD(model.parameters(), lr=1e-3)


@pytest.mark.parametrize("loader", [[], (), iter([])], ids=["list", "tuple", "spent iterator"])
def test_empty_loader_is_refused(loader):
    model, opt = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"loader yielded no batches: .* \(x, y\) batches"):
        lr_range_test(model, torch.nn.MSELoss(), loader, opt, 1e-4, 1.0, 10)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_short_loader_is_cycled():
    model, opt = _setup()
    batch = (torch.randn(8, 2), torch.randn(8, 1))
    result = lr_range_test(model, torch.nn.MSELoss(), [batch], opt, 1e-4, 1e-2, 5)
    assert len(result.lrs) == 5


@pytest.mark.parametrize(
    ("batch", "shown"),
    [
        ((torch.randn(8, 2), torch.randn(8, 1), torch.ones(8)), "tuple of 3 items"),
        ([torch.randn(8, 2)], "list of 1 items"),
        ({"x": torch.randn(8, 2), "y": torch.randn(8, 1)}, "dict"),
    ],
)
def test_batch_that_is_not_an_x_y_pair_is_refused_by_name(batch, shown):
    """A batch of 3 (x, y, weights) failed with 'too many values to unpack (expected 2)', a
    dict unpacked its two keys as x and y; both name the loader now, and the model is as
    it was."""
    model, opt = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    match = rf"loader must yield \(x, y\) batches for loss_fn\(model\(x\), y\), got {shown}"
    with pytest.raises(TypeError, match=match):
        lr_range_test(model, torch.nn.MSELoss(), [batch], opt, 1e-4, 1.0, 10)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
