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
    with pytest.raises(TypeError, match="check_finite must be a bool, got 'yes'"):
        EarlyStopping(check_finite="yes")


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


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_non_finite_value_stops_at_once_keeping_the_finite_best(bad, mode):
    """A NaN raised ValueError, ending training with a traceback (and an infinity counted as a
    value). As Lightning's EarlyStopping(check_finite=True) it now says to stop at that step,
    with a reason; the best value and its step stay those of the finite values."""
    sign = 1.0 if mode == "min" else -1.0
    es = EarlyStopping(patience=3, mode=mode)
    assert [es.step(sign * v) for v in [1.0, 0.8, 0.9]] == [False, False, False]
    assert es.step(bad) is True and es.should_stop_
    assert es.best_ == sign * 0.8 and es.best_epoch_ == 1 and es.num_bad_epochs_ == 1
    assert es.stop_reason_ == (
        f"the monitored value {bad} (step 3) is not finite; the best value was {sign * 0.8} "
        f"(step 1)"
    )


@pytest.mark.parametrize("mode", ["min", "max"])
def test_without_check_finite_non_finite_values_count_as_reduce_lr_on_plateau(mode):
    """check_finite=False: NaN never improves and an infinity compares as a number, as torch's
    ReduceLROnPlateau (and Lightning with check_finite=False) count them."""
    nan, inf = float("nan"), float("inf")
    values = [1.0, nan, 0.5, nan, nan, inf, -inf, 0.2, nan]
    if mode == "max":
        values = [-v for v in values]
    ours = EarlyStopping(patience=100, mode=mode, check_finite=False)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, patience=100, threshold=0.0, threshold_mode="abs"
    )
    for v in values:
        assert ours.step(v) is False
        ref.step(v)
        assert ours.num_bad_epochs_ == ref.num_bad_epochs
        assert ours.best_ == ref.best
