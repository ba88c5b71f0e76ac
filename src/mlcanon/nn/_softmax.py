r"""Softmax, log-softmax, cross-entropy and the negative log-likelihood of log-probabilities.

Softmax and cross-entropy are computed through the log-sum-exp trick:

:math:`\log\sum_j e^{x_j} = m + \log\sum_j e^{x_j - m}` with :math:`m = \max_j x_j` never
overflows, and cross-entropy is computed from logits so that :math:`\log p` is never the log of
an underflowed probability. The gradient of softmax followed by cross-entropy collapses to
:math:`p - y`.

References
----------
.. [1] Bridle, "Probabilistic interpretation of feedforward classification network outputs",
   1990 (softmax).
.. [2] Szegedy et al., "Rethinking the Inception architecture for computer vision", CVPR 2016,
   sec. 7 (label smoothing).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._utils import (
    InputMismatchError,
    check_param,
    check_reduction,
    check_tensor,
    in_float32,
    integer,
    widened,
    zeros_from,
)

__all__ = ["cross_entropy", "log_softmax", "nll_loss", "softmax"]

_LOG2E = 1.4426950408889634  # log2(e)


class _Softmax(Function):
    """Softmax, or log-softmax when ``log``: both shift by the max and save their output."""

    @staticmethod
    def forward(ctx, x, dim, log):
        # torch's CPU kernels work on a contiguous copy: their output and input gradient are
        # contiguous whatever the input's layout (a channels_last one, a transposed view)
        xf = widened(x).contiguous()
        z = xf - xf.amax(dim, keepdim=True)
        s = z.exp().sum(dim, keepdim=True)
        y = (z.sub_(s.log()) if log else z.exp_().div_(s)).to(x.dtype)
        ctx.save_for_backward(y)
        ctx.dim, ctx.log = dim, log
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        yf, gf = widened(y), widened(grad)
        if ctx.log:
            gx = gf - yf.exp() * gf.sum(ctx.dim, keepdim=True)
        else:  # Jacobian diag(y) - y y^T applied to g
            gx = yf * (gf - (gf * yf).sum(ctx.dim, keepdim=True))
        return gx.to(grad.dtype).contiguous(), None, None


def _check_dim(x: Tensor, dim: int | None, op: str) -> int:
    if dim is None:  # torch's legacy implicit choice, and its warning
        dim = 0 if x.dim() in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {op} has been deprecated (torch's rule picked "
            f"dim={dim} for a {x.dim()}-D input); pass dim explicitly",
            UserWarning,
            stacklevel=4,
        )
    dim = integer(dim, "dim")
    nd = max(x.dim(), 1)
    if not -nd <= dim < nd:
        raise ValueError(f"dim={dim} is out of range for a {x.dim()}-D input")
    return dim % nd


def _softmax(input: Tensor, dim: int | None, log: bool, dtype: torch.dtype | None) -> Tensor:
    x = check_tensor(input, "input")
    dim = _check_dim(x, dim, "log_softmax" if log else "softmax")
    if dtype is not None:  # torch: cast first (a float32 input summed in float64, say)
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating-point torch.dtype or None, got {dtype!r}")
        x = x.to(dtype)
    return zeros_from(x.shape, x) if x.numel() == 0 else _Softmax.apply(x, dim, log)


def softmax(input: Tensor, dim: int | None = None, dtype: torch.dtype | None = None) -> Tensor:
    r"""Softmax along ``dim``: :math:`y_i = e^{x_i - m} / \sum_j e^{x_j - m}`.

    ``dim=None`` is torch's deprecated implicit choice (0 for a 0-, 1- or 3-D input, else 1),
    with its warning. ``dtype``: the input is cast to it first, as torch.

    Notes
    -----
    Backward: :math:`\partial L/\partial x = y \odot (g - \langle g, y\rangle)`.
    """
    return _softmax(input, dim, False, dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype: torch.dtype | None = None) -> Tensor:
    r"""Log-softmax along ``dim``: :math:`y_i = x_i - m - \log\sum_j e^{x_j - m}`; ``dtype``
    as :func:`softmax`.

    Notes
    -----
    Backward: :math:`\partial L/\partial x = g - e^{y} \sum_j g_j`.
    """
    return _softmax(input, dim, True, dtype)


def _exp_sums(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For (M, C) logits: e = exp(x - rowmax) (softmax = e / s), s = its row sums, and the
    log-sum-exp of each row. The max is a constant shift (detached): the log-sum-exp does not
    depend on it, so its derivative is the softmax with or without it."""
    row_max = x.detach().amax(1, keepdim=True)
    # the only (M, C) temporary. e^z is formed as 2^(z log2 e): torch's CPU exp2 kernel is ~4x
    # faster than its exp, and the rounding of z log2 e costs |z| ulp
    e = torch.sub(x, row_max).mul_(_LOG2E).exp2_()
    s = e.sum(1, keepdim=True)
    return e, s, (row_max + s.log())[:, 0]


def _index_weights(target: Tensor, weight: Tensor | None, ignore_index: int, dtype):
    """For class indices (M, *): the indices with the ignored ones set to 0, (M, 1, *); whether
    each is kept, 1 or 0; and the weight w_{y_n} of each target, 0 where it is ignored."""
    keep = target != ignore_index
    safe_t = torch.where(keep, target, 0).unsqueeze(1)
    keep = keep.to(dtype)  # a bool tensor times a float would become float32
    return safe_t, keep, weight[safe_t[:, 0]] * keep if weight is not None else keep


class _CrossEntropy(Function):
    r"""Cross-entropy of logits (M, C) against class indices (M,) or probabilities (M, C).

    Every variant is :math:`\ell_n = -\sum_c q_{nc} \log p_{nc}` for a per-sample target weight
    vector :math:`q_n`; its gradient is :math:`p_n \sum_c q_{nc} - q_n`.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps):
        m, c = x.shape
        e, s, lse = _exp_sums(x)
        if target.dtype == torch.long:
            safe_t, keep, w_t = _index_weights(target, weight, ignore_index, x.dtype)
            loss = (1.0 - eps) * w_t * (lse - x.gather(1, safe_t)[:, 0])  # -w_y log p_y
            if eps > 0:  # sum_c w_c log p_c = sum_c w_c x_c - lse sum_c w_c
                wx = x.matmul(weight) if weight is not None else x.sum(1)
                w_sum = weight.sum() if weight is not None else c
                loss = loss - (eps / c) * keep * (wx - lse * w_sum)
            denom = w_t.sum()
        else:
            tq = target * (1.0 - eps) + eps / c if eps > 0 else target  # smoothed target
            q = tq * weight if weight is not None else tq
            loss = lse * q.sum(1) - torch.linalg.vecdot(x, q, dim=1)
            denom, safe_t, keep, w_t = x.new_tensor(float(m)), None, None, None
        ctx.save_for_backward(e, s, x, lse, target, weight, w_t, denom)
        ctx.config = (safe_t, keep, reduction, eps)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        # a total weight of 0 (every target ignored or weighted 0): NaN, as torch, whose mean of
        # the smoothing term alone would be inf but is added to the 0/0 of the class term
        return torch.where(denom != 0, loss.sum() / denom, torch.nan)

    @staticmethod
    def backward(ctx, grad):
        e, s, x, lse, target, weight, w_t, denom = ctx.saved_tensors
        safe_t, keep, reduction, eps = ctx.config
        if torch.is_grad_enabled():  # create_graph: rebuild e, s, lse from x, in the graph
            e, s, lse = _exp_sums(x)
        c = e.shape[1]
        scale = grad / denom if reduction == "mean" else grad  # dL/d loss_n: () or (M,)
        scale = scale.reshape(-1, 1) if reduction == "none" else scale
        grad_t = None
        if target.dtype == torch.long:
            # an ignored row gets no gradient, also when every row is ignored and the mean is
            # 0/0 (torch's rule: its loss is nan, its gradient 0)
            scale = torch.where(keep.unsqueeze(1) > 0, scale, 0.0)  # (M, 1)
            # q_n = (1-eps) w_{y_n} onehot(y_n) + (eps/C) w keep_n, and its sum over classes
            w_sum = weight.sum() if weight is not None else c
            q_sum = ((1.0 - eps) * w_t + (eps / c) * keep * w_sum).unsqueeze(1)
            grad_x = e * (q_sum * scale / s)  # p sum(q) with p = e / s, already scaled
            grad_x.scatter_add_(1, safe_t, (-(1.0 - eps) * w_t).unsqueeze(1) * scale)
            if eps > 0:
                w = weight if weight is not None else e.new_ones(c)
                grad_x.sub_((eps / c) * (keep.unsqueeze(1) * scale) * w)
            return grad_x, None, None, None, None, None
        tq = target * (1.0 - eps) + eps / c if eps > 0 else target
        q = tq * weight if weight is not None else tq
        grad_x = (e * (q.sum(1, keepdim=True) / s)).sub_(q).mul_(scale)
        grad_w = None
        if weight is not None and ctx.needs_input_grad[2]:  # d l_n / d w_c = -tq_nc log p_nc
            grad_w = (tq * (lse.unsqueeze(1) - x) * scale).sum(0)
        if ctx.needs_input_grad[1]:
            wq = weight if weight is not None else 1.0
            grad_t = (-(1.0 - eps) * (x - lse.unsqueeze(1))) * wq * scale  # -(1-eps) w log p
        return grad_x, grad_t, grad_w, None, None, None


class _NLL(Function):
    r"""Negative log-likelihood :math:`\ell_n = -w_{y_n} x_{n y_n}` of log-probabilities
    (N, C, *) against class indices (N, *), read in place along dim 1; its gradient is
    :math:`-w_{y_n}` at :math:`(n, y_n)`, 0 elsewhere, so the backward needs the indices and
    weights only."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        safe_t, keep, w_t = _index_weights(target, weight, ignore_index, x.dtype)
        loss = -w_t * x.gather(1, safe_t)[:, 0]
        ctx.save_for_backward(safe_t, keep, w_t)
        ctx.shape, ctx.reduction = x.shape, reduction
        if reduction == "none":
            return loss
        # 'mean' divides by the kept targets' total weight: 0/0 = NaN when all are ignored
        return loss.sum() / w_t.sum() if reduction == "mean" else loss.sum()

    @staticmethod
    def backward(ctx, grad):
        safe_t, keep, w_t = ctx.saved_tensors
        scale = grad / w_t.sum() if ctx.reduction == "mean" else grad  # () or (N, *)
        scale = torch.where(keep > 0, scale, 0.0)  # ignored targets: 0, also at 0/0 (torch)
        grad_x = grad.new_zeros(ctx.shape).scatter_(1, safe_t, (-w_t * scale).unsqueeze(1))
        return grad_x, None, None, None, None


def _check_classes(input, target, weight, ignore_index, reduction, op) -> tuple[Tensor, int]:
    """The arguments shared by cross_entropy and nll_loss: input (C,) or (N, C, *), its
    number of classes C, a weight (C,) of its dtype and device, ignore_index, reduction."""
    x = check_tensor(input, "input", ndim=tuple(range(1, 9)))
    check_reduction(reduction)
    integer(ignore_index, "ignore_index")
    c = x.shape[0] if x.dim() == 1 else x.shape[1]
    check_param(weight, "weight", (c,), x, op)
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    return x, c


def _batch_shape(x: Tensor) -> tuple[int, ...]:
    """The shape of the per-sample losses (and index targets) of input (C,) or (N, C, *)."""
    return () if x.dim() == 1 else (x.shape[0], *x.shape[2:])


def _rows(x: Tensor) -> Tensor:
    """(C,) or (N, C, *) as (M, C) rows, M = N * prod(*), classes last."""
    if x.dim() == 1:
        return x.unsqueeze(0)
    return x.movedim(1, -1).reshape(-1, x.shape[1]) if x.dim() > 2 else x


def _check_index_target(
    x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, c: int, op: str
) -> None:
    """Class indices as torch takes them: int64 or uint8, of the input's batch shape, each in
    [0, C) or ignore_index; class weights then are constants (torch refuses one that requires
    grad while gradients are recorded)."""
    if weight is not None and weight.requires_grad and torch.is_grad_enabled():
        raise InputMismatchError(
            f"{op}: weight must not require grad with class-index targets (the loss is not "
            "differentiable in it, as torch's, which refuses it too): pass weight.detach(); "
            "got a weight with requires_grad=True"
        )
    if target.dtype not in (torch.long, torch.uint8):  # torch takes no other index type
        also = ", or class probabilities as floats" if op == "cross_entropy" else ""
        raise InputMismatchError(
            f"{op}: target must hold class indices as int64 (or uint8){also}, as torch; got "
            f"dtype {target.dtype} (convert it with target.long())"
        )
    expected = _batch_shape(x)
    if tuple(target.shape) != expected:
        raise ValueError(
            f"class-index target must have shape {expected} for input {tuple(x.shape)}, got "
            f"{tuple(target.shape)}"
        )
    bad = (target != ignore_index) & ((target < 0) | (target >= c))
    if target.device.type != "meta" and bad.any():  # meta tensors hold no values
        raise ValueError(
            f"target class indices must be in [0, {c}) or ignore_index={ignore_index}; got "
            f"{int(target[bad][0])}"
        )


def _check_ce(x: Tensor, target, weight, ignore_index, reduction, label_smoothing):
    x, c = _check_classes(x, target, weight, ignore_index, reduction, "cross_entropy")
    check_scalar(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    if not target.is_floating_point():
        _check_index_target(x, target, weight, ignore_index, c, "cross_entropy")
    elif ignore_index >= 0:  # a negative one (the default -100) matches no class: harmless
        raise InputMismatchError(
            f"ignore_index={ignore_index} applies to class-index targets only; probability "
            "targets take no ignore_index (leave it at -100), as in torch"
        )
    elif target.shape != x.shape:
        raise ValueError(
            f"probability targets must have the input's shape {tuple(x.shape)}, got "
            f"{tuple(target.shape)}"
        )
    return x, c


def _classless(x: Tensor, reduction: str, nan: bool, *inputs: Tensor | None) -> Tensor:
    """The loss of an input with no classes (C = 0): each sample's loss is an empty sum, 0, and
    torch's mean of them is 0/0 (``nan``: NaN added); zero gradients for ``x`` and ``inputs``."""
    loss = zeros_from(_batch_shape(x) if reduction == "none" else (), x, *inputs)
    return loss + torch.nan if nan else loss


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Cross-entropy between logits and class indices or class probabilities.

    Parameters
    ----------
    input : Tensor[N, C, *] or Tensor[C]
        Unnormalized logits.
    target : LongTensor[N, *] of class indices, or Tensor[N, C, *] of probabilities
    weight : Tensor[C], optional
        Class weights :math:`w_c`: differentiable with probability targets; with class
        indices constants (one that requires grad is refused, as torch's).
    ignore_index : int
        Index targets equal to it contribute nothing, not even to the mean's denominator.
    reduction : {'none', 'mean', 'sum'}
        ``'mean'`` divides by :math:`\sum_n w_{y_n}` for index targets, by N for probabilities.
    label_smoothing : float in [0, 1]
        Mix the target with the uniform distribution: :math:`(1-\epsilon) y + \epsilon / C`.

    Notes
    -----
    :math:`\ell_n = -(1-\epsilon)\, w_{y_n} \log p_{n y_n} - \frac{\epsilon}{C}\sum_c w_c \log
    p_{nc}`, :math:`\log p = x - \operatorname{logsumexp}(x)`. Writing :math:`\ell_n =
    -\sum_c q_{nc}\log p_{nc}`, :math:`\partial \ell_n / \partial x_n = p_n \sum_c q_{nc} - q_n`,
    which is :math:`p_n - \text{onehot}(y_n)` in the plain case.

    References
    ----------
    .. [1] Bridle, 1990; [2] Szegedy et al., CVPR 2016, sec. 7.
    """
    x, c = _check_ce(input, target, weight, ignore_index, reduction, label_smoothing)
    probs = target.is_floating_point()
    if probs and target.dtype != x.dtype:  # torch promotes, so do we
        dtype = torch.promote_types(x.dtype, target.dtype)
        x, target = x.to(dtype), target.to(dtype)
        weight = weight.to(dtype) if weight is not None else None
    if c == 0:  # with index targets torch's smoothing term (eps / C) * 0 is NaN too, ignored
        # rows and an empty sum included (its probability targets are smoothed first)
        nan = reduction == "mean" or (label_smoothing > 0 and not probs)
        return _classless(x, reduction, nan, weight, target if probs else None)
    t2 = _rows(target) if probs else target.reshape(-1).long()
    eps = float(label_smoothing)
    loss = in_float32(_CrossEntropy.apply, _rows(x), t2, weight, ignore_index, reduction, eps)
    return loss.reshape(_batch_shape(x)) if reduction == "none" else loss


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of log-probabilities and class indices, as torch's.

    Parameters
    ----------
    input : Tensor[N, C, *] or Tensor[C]
        Log-probabilities :math:`x_{nc} = \log p_{nc}` (e.g. :func:`log_softmax` over dim 1).
    target : LongTensor[N, *] or LongTensor[] (uint8 too), class indices in [0, C)
    weight : Tensor[C], optional
        Class weights :math:`w_c`, the input's dtype; constants (one that requires grad is
        refused, as torch's).
    ignore_index : int
        Targets equal to it contribute nothing, not even to the mean's denominator.
    reduction : {'none', 'mean', 'sum'}
        ``'mean'`` divides by :math:`\sum_n w_{y_n}` over the kept targets (NaN if none).

    Notes
    -----
    :math:`\ell_n = -w_{y_n} x_{n y_n}`; :math:`\partial \ell_n / \partial x_{nc} = -w_{y_n}
    [c = y_n]`. ``nll_loss(log_softmax(z, 1), y)`` is ``cross_entropy(z, y)``.
    """
    x, c = _check_classes(input, target, weight, ignore_index, reduction, "nll_loss")
    _check_index_target(x, target, weight, ignore_index, c, "nll_loss")
    if c == 0:  # every target is ignored
        return _classless(x, reduction, reduction == "mean", weight)
    unbatched = x.dim() == 1
    x, t = (x.unsqueeze(0), target.unsqueeze(0)) if unbatched else (x, target)
    loss = in_float32(_NLL.apply, x, t.long(), weight, ignore_index, reduction)
    return loss[0] if unbatched and reduction == "none" else loss
