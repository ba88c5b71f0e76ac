"""Cross-entropy: from probabilities (log loss) and, numerically stable, from logits."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_consistent_length, check_option

from ._checks import check_bool, check_labels, renamed_y_proba
from ._targets import as_label_kind, as_target, check_lengths, check_weights, target_type

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy_with_logits", "log_loss"]

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: np.ndarray, reduction: str) -> Any:
    if reduction == "mean":
        return float(loss.mean())
    if reduction == "sum":
        return float(loss.sum())
    return loss


def _check_probabilities(y_proba: Any) -> np.ndarray:
    p = check_array(y_proba, "y_proba", ndim=(1, 2))
    if p.max() > 1:
        raise ValueError(
            f"y_prob contains values greater than 1: {p.max():g}; y_proba must hold "
            "probabilities in [0, 1]"
        )
    if p.min() < 0:
        raise ValueError(
            f"y_prob contains values less than 0: {p.min():g}; y_proba must hold "
            "probabilities in [0, 1]"
        )
    return p


def _log_loss_classes(yt: np.ndarray, labels: Any) -> np.ndarray:
    """Sorted classes that index the columns of ``y_proba``; every ``y_true`` must be one."""
    if labels is None:
        classes = np.unique(yt)
        if classes.size < 2:
            raise ValueError(
                f"y_true contains only one label ({classes[0]}). Please provide the list of all "
                "expected class labels explicitly through the labels argument."
            )
        return classes
    given = check_labels(labels, "labels")
    classes = np.unique(given)
    if not np.array_equal(classes, given):
        warnings.warn(
            f"Labels passed were {given.tolist()}. But this function assumes labels are ordered "
            f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that the "
            "columns of y_prob correspond to this ordering.",
            UserWarning,
            stacklevel=3,
        )
    # classes of the other kind (numbers for string labels) hold none of y_true, as in
    # scikit-learn, which compares them without promoting 1 to '1'
    seen, _ = as_label_kind(yt, classes)
    outside = ~np.isin(yt, classes) if seen is yt else np.ones(yt.size, bool)
    if outside.any():
        raise ValueError(
            f"y_true contains values {set(np.unique(yt[outside]).tolist())} not belonging to the "
            f"passed labels {given.tolist()}."
        )
    if classes.size < 2:
        raise ValueError(f"The labels array needs to contain at least two labels, got {classes}.")
    return classes


def _one_hot(y_true: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """The target as a 0/1 matrix, one column per class (a multilabel indicator as it is)."""
    y = as_target(y_true, "y_true")
    kind = target_type(y, "y_true")
    if kind == "multilabel-indicator" and labels is None:
        return y.astype(np.float64), np.arange(y.shape[1])
    if kind.endswith("multioutput"):
        raise ValueError(
            f"Multioutput target data is not supported: y_true is {kind}; give one class label "
            "per sample or a 0/1 indicator matrix"
        )
    yt = check_labels(y, "y_true")
    classes = _log_loss_classes(yt, labels)
    return (yt[:, None] == classes).astype(np.float64), classes


def proba_eps(y_proba: Any) -> float:
    """Machine epsilon of the probabilities as given: float32 (or float16) ones are only that
    precise, so scikit-learn clips them, and checks that rows sum to one, at their own
    epsilon; anything else is taken as float64."""
    name = str(getattr(y_proba, "dtype", "float64")).rsplit(".", 1)[-1]  # numpy or torch
    return float(np.finfo(name if name in ("float32", "float16") else "float64").eps)


def sample_log_losses(onehot: np.ndarray, p: np.ndarray, eps: float | None = None) -> np.ndarray:
    r"""Per-sample :math:`-\sum_c y_{ic} \log p_{ic}`, probabilities clipped to [eps, 1 - eps]
    (``eps``: that of :func:`proba_eps`; float64's by default)."""
    eps = np.finfo(np.float64).eps if eps is None else eps
    return -(onehot * np.log(np.clip(p, eps, 1 - eps))).sum(axis=1)


def probability_targets(
    y_true: Any, y_proba: Any, sample_weight: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One-hot targets, probabilities with one column per class, and weights.

    A single column of probabilities is that of the greater of two classes. Rows that do not
    sum to one draw a ``UserWarning``.
    """
    p = _check_probabilities(y_proba)
    w = check_weights(sample_weight, check_lengths(p, y_true, sample_weight))
    onehot, classes = _one_hot(y_true, labels)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.hstack((1.0 - p, p))
    # scikit-learn: isclose(sum, 1, rtol=sqrt(eps)) with array-api-extra's default atol=1e-8
    if not np.allclose(p.sum(axis=1), 1.0, rtol=np.sqrt(proba_eps(y_proba)), atol=1e-8):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure y_proba holds probabilities.",
            UserWarning,
            stacklevel=3,
        )
    if p.shape[1] != onehot.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {onehot.shape[1]} vs "
                f"{p.shape[1]}. Please provide the true labels explicitly through the labels "
                f"argument. Classes found in y_true: {classes}"
            )
        raise ValueError(
            "The number of classes in labels is different from that in y_prob. Classes found "
            f"in labels: {classes}"
        )
    return onehot, p, w


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    r"""Log loss: the negative log-likelihood of the true classes under predicted probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        True class labels, or a 0/1 label-indicator matrix (multilabel: the loss of a sample
        sums :math:`-\log p_{ic}` over its labels :math:`c`).
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in sorted class order; a 1-D array is the probability
        of the greater of two classes. Values must lie in [0, 1]; rows that do not sum to 1
        draw a ``UserWarning``.
    normalize : bool, default=True
        Return the (weighted) mean over samples; otherwise the (weighted) sum.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    labels : array-like, default=None
        All classes, when ``y_true`` does not show them all. A ``y_true`` outside them raises;
        labels not in sorted order draw a ``UserWarning`` (the columns follow sorted order).
    y_pred : array-like
        ``y_proba``'s name before scikit-learn 1.9, taken with a ``FutureWarning`` as there.

    Returns
    -------
    float

    Notes
    -----
    .. math:: L = -\frac{1}{\sum_i w_i}\sum_i w_i \log p_{i, y_i}
              = -\frac{1}{\sum_i w_i}\sum_i w_i \sum_c [y_i = c] \log p_{ic},

    the cross-entropy between the one-hot target and the prediction, averaged over samples.
    Probabilities are clipped to :math:`[\epsilon, 1 - \epsilon]` with :math:`\epsilon` the
    machine epsilon of their dtype (float64's for anything but float32 and float16, as
    scikit-learn), so a confident mistake costs about 36 nats (float32: about 16) instead of
    infinity.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
       Section 4.3.2 (eq. 4.90) and 4.3.4 (eq. 4.108).
    """
    y_proba = renamed_y_proba(y_proba, y_pred, "log_loss")
    normalize = check_bool(normalize, "normalize")
    onehot, p, w = probability_targets(y_true, y_proba, sample_weight, labels)
    loss = sample_log_losses(onehot, p, proba_eps(y_proba))
    if w is None:
        return float(loss.mean() if normalize else loss.sum())
    total = (loss * w).sum()
    return float(total / w.sum() if normalize else total)


def cross_entropy_with_logits(y_true: Any, logits: Any, *, reduction: str = "mean") -> Any:
    r"""Multiclass cross-entropy of integer targets under ``softmax(logits)``, computed stably.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Class indices in ``[0, n_classes)`` (``target`` of ``torch.nn.functional.cross_entropy``).
    logits : array-like of shape (n_samples, n_classes)
        Unnormalized log-probabilities; finite, any magnitude.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        As in torch: mean or sum over samples, or the per-sample losses.

    Returns
    -------
    float or ndarray of shape (n_samples,)

    Notes
    -----
    With :math:`m_i = \max_c z_{ic}`,

    .. math:: \ell_i = -\log \frac{e^{z_{i y_i}}}{\sum_c e^{z_{ic}}}
              = (m_i - z_{i y_i}) + \log \sum_c e^{z_{ic} - m_i}.

    Every exponent is :math:`\le 0`, so nothing overflows, and the sum is at least 1, so the
    logarithm never sees 0: logits of 1e4 are as safe as logits of 1. Forming the softmax
    first and taking its log would give ``inf - inf = nan`` there. The gradient with respect to
    the logits is :math:`\mathrm{softmax}(z_i) - \mathrm{onehot}(y_i)`.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press, 2016,
       Sections 4.1 (softmax stabilisation) and 6.2.2.3 (softmax units).
    """
    reduction = check_option(reduction, "reduction", REDUCTIONS)
    z = check_array(logits, "logits", ndim=2)
    y = check_array(y_true, "y_true", ndim=1, dtype=None)
    if y.dtype.kind not in "iu":
        raise TypeError(f"y_true must hold integer class indices, got dtype={y.dtype}")
    check_consistent_length(y_true=y, logits=z)
    n_classes = z.shape[1]
    outside = (y < 0) | (y >= n_classes)
    if outside.any():
        raise ValueError(
            f"y_true holds class indices outside [0, {n_classes}): "
            f"{np.unique(y[outside]).tolist()[:10]}"
        )
    m = z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z - m).sum(axis=1))
    loss = (m[:, 0] - z[np.arange(z.shape[0]), y]) + log_norm
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    y_true: Any, logits: Any, pos_weight: Any = None, *, reduction: str = "mean"
) -> Any:
    r"""Binary cross-entropy of targets under ``sigmoid(logits)``, computed stably.

    Parameters
    ----------
    y_true : array-like, same shape as ``logits``
        Targets in [0, 1] (hard labels or soft probabilities).
    logits : array-like of any shape
        Finite logits :math:`x`, :math:`P(y = 1) = \sigma(x)`.
    pos_weight : array-like, default=None
        Non-negative weight of the positive term, broadcast against ``logits`` (e.g. one per
        class along the last axis), as in torch; > 1 favours recall.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Mean or sum over all elements, or the elementwise losses.

    Returns
    -------
    float or ndarray shaped like ``logits``

    Notes
    -----
    Using :math:`\log\sigma(x) = -\mathrm{softplus}(-x)` and
    :math:`\log(1 - \sigma(x)) = -\mathrm{softplus}(x)`,

    .. math:: \ell = p_w\, y\, \mathrm{softplus}(-x) + (1 - y)\, \mathrm{softplus}(x), \qquad
              \mathrm{softplus}(x) = \max(x, 0) + \log(1 + e^{-|x|}).

    The exponent is never positive, so large :math:`|x|` neither overflows nor rounds
    :math:`\sigma(x)` to exactly 0 or 1 before the logarithm.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
       Section 4.3.2.
    """
    reduction = check_option(reduction, "reduction", REDUCTIONS)
    x = check_array(logits, "logits")
    y = check_array(y_true, "y_true")
    if y.shape != x.shape:
        raise ValueError(f"y_true has shape {y.shape} but logits has shape {x.shape}")
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"y_true must lie in [0, 1], got values in [{y.min():g}, {y.max():g}]")
    pw = 1.0
    if pos_weight is not None:
        pw = check_array(pos_weight, "pos_weight", min_samples=0)
        if (pw < 0).any():
            raise ValueError(f"pos_weight must be non-negative, got min {pw.min():g}")
        try:
            fits = np.broadcast_shapes(pw.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"pos_weight of shape {pw.shape} does not broadcast to logits of shape {x.shape}"
            )
    log1p_exp = np.log1p(np.exp(-np.abs(x)))  # shared by softplus(x) and softplus(-x)
    loss = pw * y * (np.maximum(-x, 0) + log1p_exp) + (1 - y) * (np.maximum(x, 0) + log1p_exp)
    return _reduce(np.asarray(loss), reduction)
