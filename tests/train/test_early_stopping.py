import numpy as np
import pytest
import torch

from mlcanon.train import EarlyStopping


def test_hand_case_min():
    es = EarlyStopping(patience=2, min_delta=0.1, mode="min")
    # 1.0 best; 0.95 is not better by > 0.1; 0.85 is; then two bad epochs stop
    assert [es.step(v) for v in [1.0, 0.95, 0.85, 0.80, 0.9]] == [False] * 4 + [True]
    assert es.best_ == 0.85 and es.best_epoch_ == 2 and es.num_bad_epochs_ == 2


def test_hand_case_max():
    es = EarlyStopping(patience=1, mode="max")
    assert [es.step(v) for v in [0.5, 0.6, 0.6]] == [False, False, True]
    assert es.best_ == 0.6 and es.best_epoch_ == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_bad_epoch_count_matches_reduce_lr_on_plateau(seed, mode):
    rng = np.random.default_rng(seed)
    sign = 1.0 if mode == "min" else -1.0
    # a noisy curve that improves, then plateaus
    values = sign * (np.exp(-np.arange(60) / 10) + 0.05 * rng.random(60))
    patience, delta = 4, 0.01
    ours = EarlyStopping(patience=patience, min_delta=delta, mode=mode)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=0.5, patience=patience, threshold=delta, threshold_mode="abs"
    )
    for v in values:
        ours.step(v)
        ref.step(v)
        if opt.param_groups[0]["lr"] < 1.0:  # the reference resets its count after reducing
            break
        assert ours.num_bad_epochs_ == ref.num_bad_epochs
        assert ours.best_ == pytest.approx(ref.best, abs=0)
    assert ours.should_stop_  # torch reduces at count > patience, we stop at count == patience


def test_errors():
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max'; got 'avg'"):
        EarlyStopping(mode="avg")
    with pytest.raises(ValueError, match="patience must be >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta must be >= 0"):
        EarlyStopping(min_delta=-1.0)
    with pytest.raises(ValueError, match="value is NaN"):
        EarlyStopping().step(float("nan"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.5", "str '0.5'"),
        ([0.5], r"list \[0.5\]"),
        (None, "NoneType None"),
        (torch.tensor([0.5, 0.2]), r"Tensor of shape \(2,\)"),
        (np.array([0.5]), r"ndarray of shape \(1,\)"),
        (0.5 + 1j, r"complex \(0.5\+1j\)"),
    ],
)
def test_value_that_is_not_a_real_number_is_refused_by_name(value, shown):
    """float() took the string '0.5' as 0.5 and refused a list or None without naming the
    argument; the rule: a real number, or a 0-d tensor or array of one."""
    es = EarlyStopping()
    with pytest.raises(
        TypeError, match=f"value must be a real number or a 0-d tensor of one, got {shown}"
    ):
        es.step(value)
    assert es._epoch == -1 and es.num_bad_epochs_ == 0  # nothing was counted


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), torch.tensor(0.5), np.array(0.5), 1])
def test_real_values_of_any_kind_are_taken(value):
    es = EarlyStopping(mode="max")
    assert es.step(value) is False and es.best_ == float(value)
