"""Early stopping: end training once a validation metric has stopped improving."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch

from mlcanon._validation import check_integer, check_option, check_scalar

__all__ = ["EarlyStopping"]


class EarlyStopping:
    r"""Stop training after ``patience`` evaluations without improvement of a monitored metric.

    Call :meth:`step` with the validation metric after each epoch; it returns ``True`` when
    training should stop. Counting follows ``torch.optim.lr_scheduler.ReduceLROnPlateau`` with
    ``threshold_mode='abs'``; stopping follows Keras and Lightning (stop once the count of bad
    epochs reaches ``patience``).

    Parameters
    ----------
    patience : int >= 1, default=5
        Evaluations without improvement tolerated.
    min_delta : float >= 0, default=0.0
        Smallest change that counts as an improvement.
    mode : {'min', 'max'}, default='min'
        Whether a lower ('min', a loss) or higher ('max', an accuracy) value is better.
    check_finite : bool, default=True
        Stop at once when the value is NaN or infinite, as Lightning's
        ``EarlyStopping(check_finite=True)``: ``best_`` and ``best_epoch_`` stay those of the
        finite values and :attr:`stop_reason_` says why. With ``False`` such a value counts as
        an epoch without improvement (a NaN never improves, as in ``ReduceLROnPlateau``; an
        infinity compares as a number).

    Attributes
    ----------
    best_ : float
        Best value seen (``inf`` for 'min', ``-inf`` for 'max' before the first step).
    best_epoch_ : int
        Index of the step that gave ``best_`` (-1 before the first step).
    num_bad_epochs_ : int
        Consecutive steps without improvement.
    should_stop_ : bool
    stop_reason_ : str
        Why :meth:`step` said to stop (``''`` until it does).

    Notes
    -----
    With best value :math:`b`, a value :math:`v` improves when :math:`v < b - \delta` ('min') or
    :math:`v > b + \delta` ('max'). Keep the weights of ``best_epoch_``: stopping early is a
    regulariser whose effective strength is the number of steps taken (for a quadratic loss and
    gradient descent it acts like an L2 penalty of about :math:`1/(\eta t)`).

    References
    ----------
    .. [1] Prechelt, "Early stopping - but when?", in Neural Networks: Tricks of the Trade,
       Springer, 1998.
    .. [2] Goodfellow, Bengio and Courville, "Deep Learning", MIT Press, 2016, sec. 7.8.
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        check_finite: bool = True,
    ) -> None:
        patience = check_integer(patience, "patience", low=1)
        check_scalar(min_delta, "min_delta", low=0.0)
        check_option(mode, "mode", ("min", "max"))
        if not isinstance(check_finite, (bool, np.bool_)):
            raise TypeError(f"check_finite must be a bool, got {check_finite!r:.60}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode
        self.check_finite = bool(check_finite)
        self.best_ = math.inf if mode == "min" else -math.inf
        self.best_epoch_ = -1
        self.num_bad_epochs_ = 0
        self.should_stop_ = False
        self.stop_reason_ = ""
        self._epoch = -1

    def is_better(self, value: float) -> bool:
        """Whether ``value`` improves on ``best_`` by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best_ - self.min_delta
        return value > self.best_ + self.min_delta

    def step(self, value: float) -> bool:
        """Record one evaluation of the metric; return ``True`` when training should stop."""
        value = _real(value)
        self._epoch += 1
        if self.check_finite and not math.isfinite(value):
            self.should_stop_ = True
            self.stop_reason_ = (
                f"the monitored value {value} (step {self._epoch}) is not finite; the best "
                f"value was {self.best_} (step {self.best_epoch_})"
            )
            return True
        if self.is_better(value):
            self.best_, self.best_epoch_, self.num_bad_epochs_ = value, self._epoch, 0
        else:
            self.num_bad_epochs_ += 1
        self.should_stop_ = self.num_bad_epochs_ >= self.patience
        if self.should_stop_:
            self.stop_reason_ = (
                f"{self.num_bad_epochs_} steps without improvement (patience {self.patience}); "
                f"the best value was {self.best_} (step {self.best_epoch_})"
            )
        return self.should_stop_


def _real(value: Any) -> float:
    """``value`` (a real number, or a 0-d tensor or array of one) as a float; ``TypeError``
    otherwise (``float`` took the string ``'0.5'`` and gave an unnamed error for a list)."""
    if not is_real_scalar(value):
        what = f"of shape {tuple(value.shape)}" if hasattr(value, "shape") else repr(value)[:60]
        raise TypeError(
            f"value must be a real number or a 0-d tensor of one, got {type(value).__name__} {what}"
        )
    return float(value)


def is_real_scalar(value: Any) -> bool:
    """Whether ``value`` is a real number: a Python or NumPy int, float or bool, or a 0-d
    tensor or array of one (what ``EarlyStopping.step`` and the Trainer's metrics take)."""
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and not value.dtype.is_complex
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "biuf"
    # NumPy registers its floats and ints as numbers.Real, not its bool
    return isinstance(value, (numbers.Real, np.bool_))
