"""Argument checks and small tensor helpers shared by the ops of :mod:`mlcanon.nn`.

Every public op validates here so that a bad argument raises ``ValueError``/``TypeError`` naming
the parameter, the allowed values and the value given, before any arithmetic happens. Where torch
reports the same mistake as a ``RuntimeError`` (mixed dtypes, an empty dimension it cannot
handle), the error is an :class:`InputMismatchError`, which is both, so code written against
torch catches it too.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_option, check_scalar

REDUCTIONS = ("none", "mean", "sum")


class InputMismatchError(ValueError, RuntimeError):
    """Bad input that torch reports as a ``RuntimeError``: caught by either ``except`` clause."""


def check_like(p: Tensor | None, name: str, like: Tensor, op: str) -> None:
    """``p`` (a parameter or second input) must share the input's dtype and device, as in torch."""
    if p is not None and (p.dtype != like.dtype or p.device != like.device):
        raise InputMismatchError(
            f"{op}: input has dtype {like.dtype} on {like.device} but {name} has dtype "
            f"{p.dtype} on {p.device}; convert one of them (e.g. model.to(input.dtype))"
        )


class _ZerosFrom(Function):
    """Zeros of a given shape whose gradient with respect to each input is zero."""

    @staticmethod
    def forward(ctx, shape, *inputs):
        ctx.specs = [(t.shape, t.dtype, t.device) for t in inputs]
        return inputs[0].new_zeros(shape)

    @staticmethod
    def backward(ctx, grad):
        zeros = [torch.zeros(shape, dtype=dt, device=dev) for shape, dt, dev in ctx.specs]
        return (None, *zeros)


def zeros_from(shape: Sequence[int], *inputs: Tensor | None) -> Tensor:
    """The result of an op on empty input, as torch gives it: zeros of ``shape`` (often empty,
    e.g. a batch of 0 samples; zeros where a sum runs over an empty axis, e.g. 0 input channels
    or 0 keys), differentiable with zero gradients for every input tensor."""
    return _ZerosFrom.apply(tuple(shape), *(t for t in inputs if t is not None))


def factory(device: Any, dtype: torch.dtype | None) -> dict[str, Any]:
    """torch's ``device=`` and ``dtype=`` constructor options as factory keyword arguments
    (``torch.empty(..., **factory(device, dtype))``): parameters and floating-point buffers are
    made there directly and initialised there, as torch does. So the random draws are torch's
    for that dtype (a float64 uniform draw is not a float32 one cast up) and a module on the
    ``meta`` device allocates nothing. Integer buffers (``num_batches_tracked``) take only the
    device."""
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype or None, got {dtype!r}")
    return {"device": device, "dtype": dtype}


def check_tensor(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> Tensor:
    """Check that ``x`` is a floating-point tensor with one of the allowed numbers of dims."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype={x.dtype}")
    if ndim is not None:
        dims = ndim if isinstance(ndim, tuple) else (ndim,)
        if x.dim() not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be {want}, got shape {tuple(x.shape)}")
    return x


def check_input(x: Any, op: str, spatial: int) -> Tensor:
    """The input of a convolution or pooling ``op`` over ``spatial`` (1 or 2) dims: a
    floating-point tensor, one sample (C, *spatial) or a batch (N, C, *spatial)."""
    x = check_tensor(x, "input")
    if x.dim() not in (spatial + 1, spatial + 2):
        dims = "L" if spatial == 1 else "H, W"
        raise ValueError(
            f"input must be {spatial + 1}-D or {spatial + 2}-D for {op}, (C, {dims}) unbatched or "
            f"(N, C, {dims}); got shape {tuple(x.shape)}"
        )
    return x


def check_inplace(x: Tensor) -> Tensor:
    """torch's refusals of an in-place op, raised before ``x`` is touched (an autograd Function
    would raise only after its forward had overwritten x): a leaf that requires grad, a view of
    one, an inference tensor outside inference mode."""
    if torch.is_grad_enabled() and x.requires_grad:
        if x.is_leaf:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        if x._base is not None and x._base.is_leaf and x._base.requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
    if x.is_inference() and not torch.is_inference_mode_enabled():
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed. You can "
            "make a clone to get a normal tensor before doing inplace update."
        )
    return x


def unviewed(t: Tensor) -> Tensor:
    """``t``, or when ``t`` is a view (of a buffer made inside a Function's forward, reshaped
    to the output's shape) the same memory as a tensor that is no view. autograd refuses to
    modify in place a view returned by a custom Function (``nn.ReLU(inplace=True)`` after a
    convolution or a norm), where torch's own ops return a tensor that owns its memory."""
    if not t._is_view():
        return t
    return t.new_empty(0).set_(t.untyped_storage(), t.storage_offset(), t.shape, t.stride())


def check_mask(mask: Any, name: str) -> Tensor:
    """A mask: a bool or floating-point tensor (torch's attention masks take no other dtype)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or None, got {type(mask).__name__}")
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(f"{name} must be a bool or floating-point tensor, got dtype={mask.dtype}")
    return mask


def check_nonempty(x: Tensor, op: str, spatial: int = 2, *, channels: bool = False) -> None:
    """torch's rule for convolution and (with ``channels``) pooling: the ``spatial`` last
    dimensions of the input, and with ``channels`` the channel dimension before them, must be
    non-empty; only the leading ones (batch, channels) may be 0."""
    dims = spatial + channels
    if 0 in x.shape[-dims:]:
        names = ("channels",) * channels + (("length",) if spatial == 1 else ("height", "width"))
        lead = "batch dimension" if channels else "batch and channel dimensions"
        listed = " and ".join((", ".join(names[:-1]), names[-1])) if dims > 1 else names[0]
        raise InputMismatchError(
            f"{op}: the input must have non-zero {listed} (only the {lead} may be empty), got "
            f"shape {tuple(x.shape)}"
        )


def check_param(
    p: Tensor | None, name: str, shape: tuple[int, ...], like: Tensor | None = None, op: str = ""
) -> Tensor | None:
    """Check an optional parameter tensor (weight, bias) against the shape the op needs and,
    given ``like`` (the input), against the input's dtype and device."""
    if p is None:
        return None
    check_tensor(p, name)
    if like is not None:
        check_like(p, name, like, op)
    if tuple(p.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(p.shape)}")
    return p


def check_broadcast(p: Tensor, name: str, shape: Sequence[int], target: str = "input") -> None:
    """``p`` must broadcast to ``shape`` (the shape of ``target``) without enlarging it."""
    shape = torch.Size(shape)
    try:
        fits = torch.broadcast_shapes(p.shape, shape) == shape
    except RuntimeError:
        fits = False
    if not fits:
        raise InputMismatchError(
            f"{name} of shape {tuple(p.shape)} does not broadcast to {target} shape {tuple(shape)}"
        )


def check_same_shape(a: Tensor, b: Tensor, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )


def check_reduction(reduction: str, options: Sequence[str] = REDUCTIONS) -> str:
    return check_option(reduction, "reduction", options)


def ntuple(value: Any, name: str, n: int, *, low: int = 0) -> tuple[int, ...]:
    """Turn an int or ``n`` ints into ``n`` ints, each ``>= low`` (torch's ``_single``,
    ``_pair``); a message names ``value`` as given."""
    what = "a pair of ints" if n == 2 else f"a {n}-tuple of ints"
    try:
        items = (value,) * n if isinstance(value, numbers.Integral) else tuple(value)
    except TypeError:  # not iterable: a float, None, a 0-d tensor
        items = None
    if items is None or isinstance(value, str | bytes):
        raise TypeError(f"{name} must be an int or {what}, got {type(value).__name__} {value!r}")
    if len(items) != n:
        raise ValueError(f"{name} must be an int or {what}, got {value!r}")
    for v in items:
        check_scalar(v, name, kind=numbers.Integral, low=low)
    return tuple(int(v) for v in items)


def pair(value: Any, name: str, *, low: int = 0) -> tuple[int, int]:
    """:func:`ntuple` for two spatial dims (torch's ``_pair``)."""
    return ntuple(value, name, 2, low=low)


def integer(value: Any, name: str, *, low: int | None = None) -> int:
    """An int (a NumPy integer too, as torch takes) ``>= low``, as a Python int."""
    return int(check_scalar(value, name, kind=numbers.Integral, low=low))


def probability(p: float, name: str) -> float:
    return float(check_scalar(p, name, low=0.0, high=1.0))


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Apply ``'none' | 'mean' | 'sum'`` to an elementwise loss (inside a Function's forward)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def expand_reduced_grad(grad: Tensor, shape: torch.Size, reduction: str) -> Tensor:
    """Backward of :func:`reduce_loss`: the upstream gradient for every element of the loss."""
    if reduction == "none":
        return grad
    n = 1
    for s in shape:
        n *= s
    scale = grad / n if reduction == "mean" else grad
    return scale.expand(shape)


def widened(t: Tensor | None, x: Tensor | None = None) -> Tensor | None:
    """A floating-point ``t`` in float32 when the input ``x`` (default ``t`` itself) is float16
    or bfloat16, else as it is (class indices stay integers)."""
    x = t if x is None else x
    return t.float() if t is not None and t.is_floating_point() and x.element_size() < 4 else t


def in_float32(apply, x: Tensor, *args, rounded: int = 1):
    """``apply(x, *args)``, computed in float32 for a float16 or bfloat16 ``x`` (its tensor
    arguments widened) with the first ``rounded`` outputs rounded once to x's dtype, as torch's
    CPU kernels accumulate half precision; the casts' backward rounds the gradients once too.
    Any further outputs (statistics) stay in float32."""
    if x.element_size() >= 4:
        return apply(x, *args)
    out = apply(x.float(), *(widened(a, x) if isinstance(a, Tensor) else a for a in args))
    if isinstance(out, tuple):
        return (*(t.to(x.dtype) for t in out[:rounded]), *out[rounded:])
    return out.to(x.dtype)


def is_channels_last(t: Tensor | None) -> bool:
    """Whether a 4-D tensor's strides are channels_last, by c10's rule
    (``is_channels_last_strides_2d``, behind ``suggest_memory_format``): an ambiguous layout
    (one channel, 1x1 planes, a tensor already contiguous both ways) counts as contiguous, and
    an empty tensor is never channels_last."""
    if t is None or t.dim() != 4 or t.stride(1) == 0:
        return False
    low = 0
    for d in (1, 3, 2, 0):
        size, stride = t.shape[d], t.stride(d)
        if size == 0 or stride < low or (d == 0 and low == t.stride(1)):
            return False
        low = stride * size if size > 1 else stride
    return True


def follow_layout(y: Tensor, *sources: Tensor | None) -> Tensor:
    """``y`` with the strides torch's convolution and pooling kernels give their output:
    dense, in channels_last memory format when any of ``sources`` (the input, a convolution's
    weight) is channels_last, else contiguous (their output follows ``suggest_memory_format``),
    with the strides of ``torch.empty(shape, memory_format=...)`` (a cropped view is made
    dense). ``y`` itself when it already has them. A layout change only: the values are the
    same, and the copy is differentiable."""
    return _in_strides(y, _strides(y.shape, memory_format(*sources))) if y.dim() == 4 else y


def _in_strides(t: Tensor, strides: tuple[int, ...]) -> Tensor:
    """``t`` itself when it has ``strides``, else a (differentiable) copy with them."""
    if t.stride() == strides:
        return t
    return t.new_empty_strided(t.shape, strides).copy_(t)


def memory_format(*sources: Tensor | torch.memory_format | None) -> torch.memory_format:
    """The memory format torch's convolution, pooling and normalization kernels give their
    4-D results, outputs and gradients alike: channels_last when any of ``sources`` (tensors,
    or a format recorded in a forward) is channels_last by :func:`is_channels_last`, else
    contiguous."""
    for s in sources:
        if s is torch.channels_last or (isinstance(s, Tensor) and is_channels_last(s)):
            return torch.channels_last
    return torch.contiguous_format


def _strides(shape: Sequence[int], fmt: torch.memory_format) -> tuple[int, ...]:
    """The strides ``torch.empty(shape, memory_format=fmt)`` gets (c10's
    ``get_channels_last_strides_2d`` for channels_last; a dimension of size 0 counts as 1)."""
    order = (1, 3, 2, 0) if fmt == torch.channels_last else tuple(range(len(shape) - 1, -1, -1))
    strides, step = [0] * len(shape), 1
    for d in order:
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def grad_layout(
    grad: Tensor | None,
    *sources: Tensor | torch.memory_format | None,
    like: Tensor | None = None,
) -> Tensor | None:
    """A 4-D gradient returned by a backward pass with the strides torch's backward kernel
    gives it: those of ``torch.empty(shape, memory_format=fmt)``, ``fmt`` the
    :func:`memory_format` of ``sources`` (the input, a convolution's weight), whatever the
    upstream gradient's layout (torch's ``*_backward`` kernels allocate ``grad_input`` so), or,
    given ``like`` (a convolution's weight, for its gradient), ``like``'s own strides when they
    are dense in ``fmt`` (they differ from those only in dimensions of size 1: a depthwise or
    1x1 kernel). ``grad`` itself when it already has them (no copy); otherwise one copy (of a
    strided view, e.g. a crop of a padded buffer, too). Values unchanged; differentiable under
    ``create_graph``. Other ranks pass through."""
    if grad is None or grad.dim() != 4:
        return grad
    fmt = memory_format(*sources)
    if like is not None and like.shape == grad.shape and like.is_contiguous(memory_format=fmt):
        strides = like.stride()
    else:
        strides = _strides(grad.shape, fmt)
    return _in_strides(grad, strides)


def conv_grad_layouts(
    grad_x: Tensor | None, grad_w: Tensor | None, x: Tensor, weight: Tensor
) -> tuple[Tensor | None, Tensor | None]:
    """A convolution's input and weight gradients in torch's layout (see :func:`grad_layout`):
    channels_last where ``x`` or ``weight`` is, as the output; the weight's keeping
    ``weight``'s own strides where they are dense in that format."""
    return grad_layout(grad_x, x, weight), grad_layout(grad_w, x, weight, like=weight)


def times_grad(d: Tensor, grad: Tensor) -> Tensor:
    """``grad * d`` for a pointwise backward whose local derivative ``d`` is a fresh buffer,
    in the layout torch's kernel (``sigmoid_backward``, ``elu_backward``...: a TensorIterator
    over ``(grad, x)``) gives it, that of its first dense operand, the upstream gradient: in
    ``d``'s buffer where the two layouts agree, else a new tensor in ``grad``'s layout (a
    channels_last ``x`` with a contiguous ``grad``, or the reverse)."""
    if d.stride() == grad.stride():
        return d.mul_(grad)
    return torch.mul(grad, d)


def sum_to(grad: Tensor | None, shape: torch.Size) -> Tensor | None:
    """Sum a broadcast gradient back to the shape of the tensor that was broadcast."""
    if grad is None or grad.shape == shape:
        return grad
    return grad.sum_to_size(shape)
