r"""Regression and binary losses with hand-written gradients (input and target).

Each loss is an elementwise :math:`\ell(x, t)` followed by a reduction (``'none'``, ``'mean'``,
``'sum'``); the backward pass multiplies the upstream gradient, spread back over the elements,
by :math:`\partial\ell/\partial x` and :math:`\partial\ell/\partial t`.

References
----------
.. [1] Huber, "Robust estimation of a location parameter", Ann. Math. Stat. 35, 1964.
.. [2] Girshick, "Fast R-CNN", ICCV 2015, eq. (3) (smooth L1).
.. [3] Lin et al., "Focal loss for dense object detection", ICCV 2017, eq. (5).
.. [4] Kullback & Leibler, "On information and sufficiency", Ann. Math. Stat. 22, 1951.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._utils import (
    InputMismatchError,
    check_broadcast,
    check_like,
    check_reduction,
    check_same_shape,
    check_tensor,
    expand_reduced_grad,
    in_float32,
    reduce_loss,
    sum_to,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
]


def _make_loss(name: str, f: Callable, df: Callable) -> type[Function]:
    """Function for ``reduce(w * f(d, *args))`` of the difference ``d = x - t``, whose backward
    uses ``df`` = dl/dd.

    The difference is taken before, by torch's subtraction, which broadcasts ``x`` against ``t``
    and sums their gradients back to their shapes; so the Function saves only ``d`` (and ``w``),
    not the inputs beside it, and under ``create_graph`` its backward, made of torch ops on the
    saved ``d``, is itself differentiable. ``w`` (optional, the shape of the input, broadcast
    against ``d`` as torch does) weighs each element; ``'mean'`` then divides by ``sum(w)``
    (``by_weight``, torch's rule for mse_loss and l1_loss) or by the element count
    (huber_loss).
    """

    def forward(ctx, d, w, reduction, by_weight, *args):
        ctx.save_for_backward(d, w)
        ctx.reduction, ctx.by_weight, ctx.args = reduction, by_weight, args
        loss = f(d, *args)
        if w is None:
            return reduce_loss(loss, reduction)
        if reduction == "mean" and by_weight:
            return (loss * w).sum() / w.sum()
        return reduce_loss(loss * w, reduction)

    def backward(ctx, grad):
        d, w = ctx.saved_tensors
        if w is None:
            g = expand_reduced_grad(grad, d.shape, ctx.reduction) * df(d, *ctx.args)
            return g, None, None, None, *([None] * len(ctx.args))
        grad_w = None
        if ctx.reduction == "mean" and ctx.by_weight:  # L = sum(w l) / sum(w)
            total = w.sum()
            g = (grad / total).expand(d.shape)
            if ctx.needs_input_grad[1]:
                # dL/dw_i = (sum of l over the places w_i is broadcast to - L) / sum(w)
                loss = f(d, *ctx.args)
                grad_w = sum_to(g * loss, w.shape) - grad * (loss * w).sum() / total**2
        else:
            g = expand_reduced_grad(grad, d.shape, ctx.reduction)
            if ctx.needs_input_grad[1]:
                grad_w = sum_to(g * f(d, *ctx.args), w.shape)
        return g * w * df(d, *ctx.args), grad_w, None, None, *([None] * len(ctx.args))

    return type(
        name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    )


def _smooth_l1(d, beta):
    a = d.abs()
    return torch.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta) if beta > 0 else a


def _d_smooth_l1(d, beta):
    # d / beta saturated at +-1; clamp, unlike a where on |d| < beta, keeps a NaN a NaN
    return (d / beta).clamp(-1.0, 1.0) if beta > 0 else d.sign()


def _huber(d, delta):
    a = d.abs()
    return torch.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


_MSE = _make_loss("_MSE", lambda d: d * d, lambda d: 2.0 * d)
_L1 = _make_loss("_L1", torch.abs, torch.sign)  # sign(0) = 0: the subgradient torch picks
_SmoothL1 = _make_loss("_SmoothL1", _smooth_l1, _d_smooth_l1)
_Huber = _make_loss("_Huber", _huber, lambda d, delta: d.clamp(-delta, delta))


def _pair_args(input, target, reduction):
    x, t = check_tensor(input, "input"), check_tensor(target, "target")
    check_same_shape(x, t, "input", "target")
    check_reduction(reduction)
    return x, t


def _difference(
    input, target, reduction, weight=None, op="", *, like_input=False, bool_target=True
) -> tuple[Tensor, Tensor | None, torch.dtype]:
    """``input - target`` for the regression losses, the element ``weight`` checked, and the
    dtype of torch's result.

    The two are broadcast as torch does: with torch's ``UserWarning`` when the shapes differ,
    and an error naming both when they do not broadcast. torch broadcasts them before it
    subtracts, so a 0-d one is promoted like any other (``x - t`` would keep the other's
    dtype); huber_loss (``like_input``) writes into a tensor like the input; a ``weight`` then
    multiplies that result, with torch's promotion (its sum divides the ``'mean'`` of mse_loss
    and l1_loss). Everything is computed in the widest of these dtypes (float32 for half
    precision, as torch's kernels) and rounded once to the result's dtype. An integer or bool
    target is taken in the input's dtype, as torch promotes it (a bool one only where torch
    subtracts it: not for l1_loss, ``bool_target=False``)."""
    x = check_tensor(input, "input")
    if isinstance(target, Tensor) and not (target.is_floating_point() or target.is_complex()):
        if target.dtype == torch.bool and not bool_target:
            raise InputMismatchError(
                f"{op}: target must be a floating-point or integer tensor, got dtype torch.bool "
                "(torch cannot subtract it); convert it with target.float()"
            )
        target = target.to(x.dtype)
    t = check_tensor(target, "target")
    check_reduction(reduction)
    if x.shape != t.shape:
        try:
            torch.broadcast_shapes(x.shape, t.shape)
        except RuntimeError:
            raise InputMismatchError(
                f"input of shape {tuple(x.shape)} and target of shape {tuple(t.shape)} do not "
                "broadcast to a common shape"
            ) from None
        warnings.warn(
            f"Using a target size ({t.size()}) that is different to the input size "
            f"({x.size()}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    w = _element_weight(weight, x, op)
    pair = torch.promote_types(x.dtype, t.dtype)
    out = x.dtype if like_input else pair
    compute = pair
    if w is not None:
        compute = torch.promote_types(pair, w.dtype)
        # a 0-d weight (a 0-d input) against a broadcast loss takes that loss's dtype
        if w.dim() > 0 or not torch.broadcast_shapes(x.shape, t.shape):
            out = torch.promote_types(out, w.dtype)
        if reduction == "mean" and not like_input:  # sum(w l) / sum(w), two 0-d tensors
            out = torch.promote_types(out, w.dtype)
    if compute.itemsize < 4:
        compute = torch.float32
    return x.to(compute) - t.to(compute), None if w is None else w.to(compute), out


def _apply_loss(loss: type[Function], d: Tensor, w: Tensor | None, dtype, *args) -> Tensor:
    """``loss.apply(d, w, *args)``, rounded to torch's result dtype (see :func:`_difference`)."""
    return loss.apply(d, w, *args).to(dtype)


def _element_weight(weight: Tensor | None, x: Tensor, op: str) -> Tensor | None:
    """torch's ``weight=`` of mse_loss, l1_loss and huber_loss: one weight per element of the
    input, of its shape (torch does not broadcast it) and device; any floating dtype, promoted
    as torch's ``loss * weight``."""
    if weight is None:
        return None
    check_tensor(weight, "weight")
    if weight.shape != x.shape:
        raise ValueError(
            f"weight must have the input's shape {tuple(x.shape)}, got {tuple(weight.shape)}"
        )
    if weight.device != x.device:
        raise InputMismatchError(f"{op}: weight is on {weight.device} but input is on {x.device}")
    return weight


def mse_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", weight: Tensor | None = None
) -> Tensor:
    r"""Squared error :math:`(x - t)^2`; gradient :math:`2(x - t)`.

    ``input`` and ``target`` of different shapes are broadcast against each other, with
    torch's ``UserWarning`` (a shape mismatch is usually a bug). With ``weight`` (the input's
    shape, broadcast like it) each term is :math:`w_i (x_i - t_i)^2` and ``'mean'`` is
    :math:`\sum_i w_i \ell_i / \sum_i w_i`, the sum of ``weight`` as given, as torch.
    """
    d, w, dtype = _difference(input, target, reduction, weight, "mse_loss")
    return _apply_loss(_MSE, d, w, dtype, reduction, True)


def l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", weight: Tensor | None = None
) -> Tensor:
    r"""Absolute error :math:`|x - t|`; gradient :math:`\operatorname{sign}(x - t)` (0 at 0).

    ``weight``: as :func:`mse_loss` (``'mean'`` divides by :math:`\sum_i w_i`)."""
    d, w, dtype = _difference(input, target, reduction, weight, "l1_loss", bool_target=False)
    return _apply_loss(_L1, d, w, dtype, reduction, True)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    r"""Smooth L1 (Fast R-CNN) loss.

    Notes
    -----
    With :math:`d = x - t`: :math:`\ell = \tfrac12 d^2/\beta` for :math:`|d| < \beta`, else
    :math:`|d| - \tfrac12\beta`. The gradient :math:`d/\beta` is small near the target and
    saturates at :math:`\pm 1` far from it, so outliers cannot dominate (unlike L2) while the
    minimum is still smooth (unlike L1). ``beta = 0`` is L1.

    References
    ----------
    .. [1] Girshick, "Fast R-CNN", ICCV 2015, eq. (3).
    """
    d, _, dtype = _difference(input, target, reduction)
    check_scalar(beta, "beta", low=0.0)
    return _apply_loss(_SmoothL1, d, None, dtype, reduction, False, float(beta))


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    r"""Huber loss: :math:`\tfrac12 d^2` for :math:`|d| < \delta`, else
    :math:`\delta(|d| - \tfrac12\delta)`; equals ``delta * smooth_l1_loss(beta=delta)``.

    ``weight`` (the input's shape) multiplies each term; unlike :func:`mse_loss`, ``'mean'``
    then divides by the number of elements, as torch does.

    References
    ----------
    .. [1] Huber, Ann. Math. Stat. 35, 1964.
    """
    d, w, dtype = _difference(input, target, reduction, weight, "huber_loss", like_input=True)
    check_scalar(delta, "delta", low=0.0, include_low=False)
    return _apply_loss(_Huber, d, w, dtype, reduction, False, float(delta))


def _softplus(x: Tensor) -> Tensor:
    """:math:`\\log(1 + e^x)` without overflow: :math:`\\max(x, 0) + \\log(1 + e^{-|x|})`."""
    return x.clamp_min(0) + torch.log1p(torch.exp(-x.abs()))


def _term(coef: Tensor, sp: Tensor) -> Tensor:
    """``coef * sp`` with an absent term (``coef == 0``) 0 even where the softplus is infinite
    (x = +-inf): the loss's limit, where 0 * inf would be NaN."""
    return torch.where((coef == 0) & sp.isinf(), 0.0, coef * sp)


def _bce_logits_raw(x, t, pw, sp_neg, sp_pos):
    r"""Unweighted BCE of logits, :math:`p t \operatorname{softplus}(-x) + (1 - t)
    \operatorname{softplus}(x)`."""
    return _term(pw * t, sp_neg) + _term(1.0 - t, sp_pos)


class _BCEWithLogits(Function):
    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        # -log sigma(x) = softplus(-x),  -log(1 - sigma(x)) = softplus(x)
        sp_neg, sp_pos = _softplus(-x), _softplus(x)
        pw = pos_weight if pos_weight is not None else 1.0
        raw = _bce_logits_raw(x, t, pw, sp_neg, sp_pos)  # unweighted loss
        loss = raw * weight if weight is not None else raw
        # the softplus terms are not saved: only the gradients of the target and the weights
        # need them, and the backward recomputes them then
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.reduction = reduction
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_tensors
        if any(ctx.needs_input_grad[1:4]):  # in the graph under create_graph
            sp_neg, sp_pos = _softplus(-x), _softplus(x)
        g = expand_reduced_grad(grad, x.shape, ctx.reduction)
        gw = g * weight if weight is not None else g
        pw = pos_weight if pos_weight is not None else 1.0
        s = torch.sigmoid(x)
        grad_x = gw * (s * (pw * t + 1.0 - t) - pw * t)
        grad_t = gw * (pw * sp_neg - sp_pos) if ctx.needs_input_grad[1] else None
        grad_w = grad_pw = None
        if weight is not None and ctx.needs_input_grad[2]:
            raw = _bce_logits_raw(x, t, pw, sp_neg, sp_pos) * g
            grad_w = sum_to(raw, weight.shape)
        if pos_weight is not None and ctx.needs_input_grad[3]:
            grad_pw = sum_to(gw * _term(t, sp_neg), pos_weight.shape)
        return grad_x, grad_t, grad_w, grad_pw, None


def _loss_weight(p: Tensor | None, name: str, x: Tensor, t: Tensor) -> Tensor | None:
    """A weight that broadcasts to the input, in the loss's dtype: as in torch, a float64
    ``pos_weight`` leaves a float32 loss float32."""
    if p is None:
        return None
    check_broadcast(check_tensor(p, name), name, x.shape)
    if p.device != x.device:
        raise InputMismatchError(f"{name} is on {p.device} but input is on {x.device}")
    return p.to(torch.promote_types(x.dtype, t.dtype))


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    r"""Binary cross-entropy of logits, stable for any magnitude of ``input``.

    Parameters
    ----------
    input, target : Tensor, same shape (targets in [0, 1])
    weight : Tensor, optional, broadcastable to ``input`` (rescales each element's loss)
    reduction : {'none', 'mean', 'sum'}
    pos_weight : Tensor, optional, broadcastable (usually Tensor[C] over the last dim)
        Weight :math:`p_c` of the positive term, e.g. ``n_negative / n_positive``.

    Notes
    -----
    :math:`\ell = -w[p\,t\log\sigma(x) + (1-t)\log(1-\sigma(x))]
    = w[p\,t\operatorname{softplus}(-x) + (1-t)\operatorname{softplus}(x)]`;
    :math:`\partial\ell/\partial x = w[\sigma(x)(p t + 1 - t) - p t]` (:math:`\sigma(x) - t` when
    :math:`p = 1`).

    At :math:`x = \pm\infty` the loss is its limit: 0 for the right class (:math:`x = -\infty,
    t = 0` or :math:`x = +\infty, t = 1`), :math:`+\infty` for the wrong one. torch 2.13 gives
    NaN in both cases at :math:`-\infty` and for the right class at :math:`+\infty` (a term
    :math:`0 \cdot \infty` or :math:`\infty - \infty`); the gradients are the same.

    References
    ----------
    .. [1] Bishop, "Pattern recognition and machine learning", 2006, sec. 4.3.2.
    """
    x, t = _pair_args(input, target, reduction)
    weight = _loss_weight(weight, "weight", x, t)
    pos_weight = _loss_weight(pos_weight, "pos_weight", x, t)
    # in the target's dtype, as torch (whose loss is built in place on 1 - target)
    return _BCEWithLogits.apply(x, t, weight, pos_weight, reduction).to(t.dtype)


def _clamped_log(p: Tensor) -> tuple[Tensor, Tensor]:
    """log p, and log(1 - p) by log1p(-p), each at least -100 as torch's: finite at 0 and 1."""
    return torch.log(p).clamp_min(-100.0), torch.log1p(-p).clamp_min(-100.0)


def _bce_raw(x: Tensor, t: Tensor) -> Tensor:
    """Unweighted BCE of probabilities, :math:`-t \\log x - (1 - t) \\log(1 - x)`, logs clamped."""
    log_x, log_1mx = _clamped_log(x)
    return (t - 1.0) * log_1mx - t * log_x


# torch's floor of x (1 - x) in the gradient, 1e-12 rounded to float32 in every dtype (measured
# on float64 input: (x - t) / 9.999999960041972e-13 at x = 0)
_BCE_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


class _BCE(Function):
    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        loss = _bce_raw(x, t)
        ctx.save_for_backward(x, t, weight)
        ctx.reduction = reduction
        return reduce_loss(loss * weight if weight is not None else loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight = ctx.saved_tensors
        g = expand_reduced_grad(grad, x.shape, ctx.reduction)
        gw = g * weight if weight is not None else g
        # torch's: d/dx = (x - t) / max(x (1 - x), eps), d/dt = -logit(x) (unclamped logs)
        grad_x = gw * (x - t) / (x * (1.0 - x)).clamp_min(_BCE_EPS)
        grad_t = -gw * torch.logit(x) if ctx.needs_input_grad[1] else None
        grad_w = None
        if weight is not None and ctx.needs_input_grad[2]:
            grad_w = sum_to(g * _bce_raw(x, t), weight.shape)
        return grad_x, grad_t, grad_w, None


def _check_unit_interval(p: Tensor, name: str) -> None:
    """Every value of ``p`` in [0, 1] (NaN is not), as torch's binary_cross_entropy checks."""
    bad = ~((p >= 0) & (p <= 1))
    if p.device.type != "meta" and bad.any():  # meta tensors hold no values
        raise InputMismatchError(
            f"all elements of {name} should be between 0 and 1 (binary_cross_entropy takes "
            f"probabilities; for logits use binary_cross_entropy_with_logits), got "
            f"{p[bad][0].item()}"
        )


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Binary cross-entropy of probabilities, as torch's.

    Parameters
    ----------
    input : Tensor, probabilities :math:`x \in [0, 1]`
    target : Tensor, the input's shape, dtype and device, values in [0, 1]
    weight : Tensor, optional, broadcastable to ``input`` (rescales each element's loss)
    reduction : {'none', 'mean', 'sum'}; ``'mean'`` divides by the number of elements

    Notes
    -----
    :math:`\ell = -w[t \log x + (1 - t)\log(1 - x)]`, each log clamped at :math:`-100` as torch's,
    so the loss is finite at :math:`x \in \{0, 1\}`. Gradients as torch's:
    :math:`\partial\ell/\partial x = w (x - t) / \max(x(1 - x), \epsilon)` (:math:`\epsilon` is
    :math:`10^{-12}` rounded to float32, as torch's) and
    :math:`\partial\ell/\partial t = -w \operatorname{logit}(x)`; the weight's (which torch does
    not give) is the unweighted loss. For logits, :func:`binary_cross_entropy_with_logits` is
    stabler.
    """
    x, t = _pair_args(input, target, reduction)
    check_like(t, "target", x, "binary_cross_entropy")
    weight = _loss_weight(weight, "weight", x, t)
    _check_unit_interval(x, "input")
    _check_unit_interval(t, "target")
    return in_float32(_BCE.apply, x, t, weight, reduction)


class _KLDiv(Function):
    @staticmethod
    def forward(ctx, x, t, reduction, log_target, batch):
        if log_target:
            loss = t.exp() * (t - x)
        else:  # t log t with 0 log 0 = 0
            loss = torch.xlogy(t, t) - t * x
        ctx.save_for_backward(x, t)
        ctx.config = (reduction, log_target, batch)
        if reduction == "batchmean":
            return loss.sum() / batch
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        reduction, log_target, batch = ctx.config
        if reduction == "batchmean":
            g = (grad / batch).expand(x.shape)
        else:
            g = expand_reduced_grad(grad, x.shape, reduction)
        if log_target:
            pt = t.exp()
            return -g * pt, g * pt * (t - x + 1.0), None, None, None
        grad_t = None
        if ctx.needs_input_grad[1]:
            # d/dt xlogy(t, t) as torch differentiates it, log t + t/t: NaN at t = 0
            grad_t = g * (torch.log(t) + t / t - x)
        return -g * t, grad_t, None, None, None


def kl_div(
    input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    r"""Pointwise KL divergence :math:`t(\log t - x)` with ``input`` :math:`x = \log q`.

    Parameters
    ----------
    input : Tensor, log-probabilities :math:`\log q`
    target : Tensor, probabilities :math:`p` (or :math:`\log p` if ``log_target``), broadcast
        against ``input`` as torch does (silently)
    reduction : {'none', 'mean', 'sum', 'batchmean'}
        ``'batchmean'`` (sum / ``input.shape[0]``) is the true :math:`KL(p\|q)` per sample;
        ``'mean'`` divides by the number of elements, as torch does, with its ``UserWarning``.
    log_target : bool

    Notes
    -----
    :math:`\partial/\partial x = -t`, :math:`\partial/\partial t = \log t + 1 - x`.

    References
    ----------
    .. [1] Kullback & Leibler, 1951.
    """
    x, t = check_tensor(input, "input"), check_tensor(target, "target")
    check_reduction(reduction, ("none", "mean", "sum", "batchmean"))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    batch = x.shape[0] if x.dim() else 1  # 'batchmean' divides by the input's first size
    # torch's dtype: that of t * x before any broadcast (a 0-d tensor defers to the other)
    dtype = torch.result_type(x, t)
    x, t = x.to(dtype), t.to(dtype)
    if x.shape != t.shape:  # broadcast against each other, silently, as torch
        try:
            x, t = torch.broadcast_tensors(x, t)
        except RuntimeError:
            raise InputMismatchError(
                f"input of shape {tuple(x.shape)} and target of shape {tuple(t.shape)} do not "
                "broadcast to a common shape"
            ) from None
    return _KLDiv.apply(x, t, reduction, bool(log_target), batch)


def _focal_terms(x, t, alpha):
    """sigma(x), the BCE of logits, m = 1 - p_t and alpha_t of the focal loss."""
    p = torch.sigmoid(x)
    ce = t * _softplus(-x) + (1.0 - t) * _softplus(x)  # BCE of logits
    m = 1.0 - (p * t + (1.0 - p) * (1.0 - t))  # 1 - p_t: how wrong the prediction is
    a = alpha * t + (1.0 - alpha) * (1.0 - t) if alpha >= 0 else torch.ones_like(x)
    return p, ce, m, a


class _SigmoidFocal(Function):
    @staticmethod
    def forward(ctx, x, t, alpha, gamma, reduction):
        p, ce, m, a = _focal_terms(x, t, alpha)
        loss = a * ce * m.pow(gamma)
        ctx.save_for_backward(x, t, p, ce, m, a)
        ctx.config = (alpha, gamma, reduction)
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, *terms = ctx.saved_tensors
        alpha, gamma, reduction = ctx.config
        # under create_graph the terms are rebuilt from x and t, so that they carry the graph
        p, ce, m, a = _focal_terms(x, t, alpha) if torch.is_grad_enabled() else terms
        g = expand_reduced_grad(grad, x.shape, reduction)
        mg = m.pow(gamma)
        # gamma m^(gamma-1), taken as its limit 0 at m = 0 (gamma >= 1) to avoid 0 * inf
        dmg = gamma * m.pow(gamma - 1) if gamma != 0 else torch.zeros_like(m)
        dmg = torch.where(m > 0, dmg, 0.0) if gamma != 1 else dmg
        dp = p * (1.0 - p)  # d sigma / dx
        # d/dx: ce' = p - t,  m' = -dp (2t - 1)
        grad_x = g * a * ((p - t) * mg - ce * dmg * dp * (2.0 * t - 1.0))
        grad_t = None
        if ctx.needs_input_grad[1]:
            # d/dt: ce' = -x,  m' = 1 - 2p,  a' = 2 alpha - 1
            da = 2.0 * alpha - 1.0 if alpha >= 0 else 0.0
            grad_t = g * (da * ce * mg + a * (-x * mg + ce * dmg * (1.0 - 2.0 * p)))
        return grad_x, grad_t, None, None, None


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
) -> Tensor:
    r"""Focal loss of RetinaNet, as ``torchvision.ops.sigmoid_focal_loss``.

    Parameters
    ----------
    inputs : Tensor, logits
    targets : Tensor, same shape, binary labels (0 or 1)
    alpha : float in [0, 1], or negative to disable the class weighting
    gamma : float >= 0, focusing parameter (0 gives alpha-weighted BCE)
    reduction : {'none', 'mean', 'sum'}

    Notes
    -----
    :math:`FL = -\alpha_t (1 - p_t)^\gamma \log p_t` with :math:`p_t = p` if :math:`t = 1` else
    :math:`1 - p`, :math:`\alpha_t = \alpha t + (1-\alpha)(1-t)`. With :math:`m = 1 - p_t` and
    :math:`c = -\log p_t`: :math:`\partial FL/\partial x = \alpha_t[(p - t)m^\gamma - \gamma
    m^{\gamma-1} c\, p(1-p)(2t-1)]`. Easy examples (:math:`m \to 0`) are down-weighted by
    :math:`m^\gamma`.

    References
    ----------
    .. [1] Lin et al., "Focal loss for dense object detection", ICCV 2017, eq. (5).
    """
    x, t = check_tensor(inputs, "inputs"), check_tensor(targets, "targets")
    check_same_shape(x, t, "inputs", "targets")
    check_reduction(reduction)
    check_scalar(alpha, "alpha", high=1.0)
    check_scalar(gamma, "gamma", low=0.0)
    return _SigmoidFocal.apply(x, t, float(alpha), float(gamma), reduction)
