"""Activation functions, each a ``torch.autograd.Function`` with its derivative written out.

Every pointwise activation is a pair ``(f, f')`` listed side by side below; one small factory
turns a pair into an autograd Function whose backward is ``grad * f'(x)``. When ``f'`` is cheaper
from the output (sigmoid, tanh) the output is saved instead of the input.

At a NaN input ``f'`` is torch's: 1 for relu, the slope for leaky_relu and prelu, 0 for relu6 and
hardsigmoid, NaN for the others. (torch's CPU kernels for relu6, elu and hardswish answer
differently in the scalar loop that finishes a tensor's last few elements; the value here is
that of its vectorised loop, which every other element takes.)

``inplace=True`` (relu, relu6, leaky_relu, elu, hardsigmoid, hardswish, silu, as torch's) writes
the result into the input and returns that tensor, marked dirty for autograd; the backward
then reads f' from the output, or, where f is not invertible (SiLU, hardswish), from a copy of
the input kept for it, as torch's in-place kernels do.

References
----------
.. [1] Nair & Hinton, "Rectified linear units improve restricted Boltzmann machines", ICML 2010.
.. [2] Maas et al., "Rectifier nonlinearities improve neural network acoustic models", 2013.
.. [3] He et al., "Delving deep into rectifiers" (PReLU), ICCV 2015.
.. [4] Clevert et al., "Fast and accurate deep network learning by ELUs", ICLR 2016.
.. [5] Hendrycks & Gimpel, "Gaussian error linear units (GELUs)", 2016.
.. [6] Howard et al., "Searching for MobileNetV3" (h-swish, h-sigmoid), ICCV 2019.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_option, check_scalar

from ._utils import check_inplace, check_like, check_tensor, in_float32, times_grad, zeros_from

__all__ = [
    "elu",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "leaky_relu",
    "prelu",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softplus",
    "tanh",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715  # cubic coefficient of the tanh approximation, Hendrycks & Gimpel eq. (2)


def _make_pointwise(
    name: str, f: Callable, df: Callable, *, from_output: bool, grad_first: bool = True
) -> type[Function]:
    """Build a Function computing ``y = f(x, *args)`` with backward ``g * df(saved, *args)``
    (``df`` returns a new tensor, which the backward multiplies by ``g`` in place).

    The gradient's layout is that of torch's kernel: ``g``'s (``grad_first``: most backward
    kernels list the upstream gradient first), or the saved tensor's (``relu``'s
    ``threshold_backward`` and ``leaky_relu_backward`` list the input first); they differ when
    one is channels_last and the other contiguous."""

    def forward(ctx, x: Tensor, *args):
        y = in_float32(f, x, *args)  # half precision in float32, rounded once, as torch
        ctx.save_for_backward(y if from_output else x)
        ctx.args = args
        return y

    def backward(ctx, grad: Tensor):
        (saved,) = ctx.saved_tensors
        # half precision in float32, as the forward; grad is multiplied in as it is (not an
        # argument of in_float32, which would first copy it to float32)
        grad_x = in_float32(lambda s: product(df(s, *ctx.args), grad), saved)
        if torch.is_grad_enabled() and saved.requires_grad and not grad_x.requires_grad:
            # create_graph through a piecewise-linear f (f' is a step, built without a graph):
            # the gradient still depends on x, with derivative 0, as torch's (not an error)
            grad_x = grad_x + zeros_from((), saved)
        return (grad_x, *([None] * len(ctx.args)))

    product = times_grad if grad_first else torch.Tensor.mul_
    body = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    extra = {"f": staticmethod(f), "df": staticmethod(df), "grad_first": grad_first}
    return type(name, (Function,), {**body, **extra})


def _make_inplace(
    name: str,
    f: Callable,
    df: Callable,
    *,
    from_output: bool,
    check: Callable | None = None,
    grad_first: bool = True,
) -> type[Function]:
    """The in-place variant of ``_make_pointwise(name, f, df, ...)``: writes ``f(x, *args)``
    into ``x`` and returns ``x`` itself, marked dirty (so its version counter moves and autograd
    rebases its history, as for ``torch.relu_``).

    ``from_output``: ``df`` takes the output (x is overwritten; for ReLU, ReLU6, leaky ReLU, ELU
    and hardsigmoid f' is a function of f), as torch's in-place kernels do. Otherwise (SiLU,
    hardswish: f is not invertible) the Function is applied as ``(x, kept, *args)``, with
    ``kept`` a differentiable copy of x made by the caller when a gradient is wanted (None
    otherwise), as torch keeps the original input of ``silu_``: ``f(kept)`` is written into x,
    and the gradient, through ``kept``'s copy, reaches x's history (second derivatives too).
    ``check(*args)`` runs in backward (torch refuses some backwards there, not in the forward).
    ``grad_first``: the gradient's layout, as for ``_make_pointwise``.
    """

    def forward(ctx, x: Tensor, *args):
        source = x
        if not from_output:
            kept, *args = args
            source = x if kept is None else kept
        # the out-of-place kernel's values, rounded once; written through .data so that
        # mark_dirty's is the one version bump, as torch's one for an in-place op
        x.data.copy_(in_float32(f, source, *args))
        ctx.mark_dirty(x)
        ctx.save_for_backward(x if from_output else kept)
        ctx.args = args
        return x

    def backward(ctx, grad: Tensor):
        if check is not None:
            check(*ctx.args)
        (saved,) = ctx.saved_tensors
        grad_x = in_float32(lambda s: product(df(s, *ctx.args), grad), saved)
        if torch.is_grad_enabled() and saved.requires_grad and not grad_x.requires_grad:
            grad_x = grad_x + zeros_from((), saved)  # as _make_pointwise's backward
        grads = (grad_x,) if from_output else (None, grad_x)
        return (*grads, *([None] * len(ctx.args)))

    product = times_grad if grad_first else torch.Tensor.mul_
    body = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (Function,), {**body, "keeps_input": not from_output})


def _negative_slope_refused(op: str) -> Callable:
    def check(slope: float) -> None:
        if slope < 0:  # torch's message: the output does not tell where x was negative
            raise RuntimeError(
                f"In-place {op} backward calculation is triggered with a negative slope which is "
                "not supported. This is caused by calling in-place forward function with a "
                "negative slope, please call out-of-place version instead."
            )

    return check


# --- (f, f') pairs ----------------------------------------------------------------------------
def _above(x, low):
    """1 where x > low, 0 elsewhere, in x's dtype (a comparison written straight into a float
    buffer is several times faster on CPU than a bool mask converted afterwards)."""
    return torch.gt(x, low, out=torch.empty_like(x))


def _between(x, low, high):
    """1 where low < x < high, 0 elsewhere, in x's dtype."""
    return _above(x, low).mul_(torch.lt(x, high, out=torch.empty_like(x)))


def _phi(x):  # standard normal CDF
    return 0.5 * (1.0 + torch.erf(x * _INV_SQRT_2))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x**3)))


def _d_gelu_tanh(x):
    t = torch.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x**3))
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x * x)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du


_Sigmoid = _make_pointwise("_Sigmoid", torch.sigmoid, lambda y: y * (1.0 - y), from_output=True)
_Tanh = _make_pointwise("_Tanh", torch.tanh, lambda y: 1.0 - y * y, from_output=True)
_ReLU = _make_pointwise(
    "_ReLU",
    lambda x: x.clamp_min(0.0),
    # 1 unless x <= 0, so NaN passes the gradient on, as torch's threshold_backward
    lambda x: torch.le(x, 0, out=torch.empty_like(x)).neg_().add_(1.0),
    from_output=False,
    grad_first=False,
)
_LeakyReLU = _make_pointwise(
    "_LeakyReLU",
    lambda x, a: torch.where(x > 0, x, a * x),
    # scalars as 0-d tensors of x's dtype: torch.where on two Python floats would give float32
    lambda x, a: torch.where(x > 0, x.new_tensor(1.0), x.new_tensor(a)),
    from_output=False,
    grad_first=False,
)
_ReLU6 = _make_pointwise(
    "_ReLU6",
    lambda x: x.clamp(0.0, 6.0),
    lambda x: _between(x, 0, 6),
    from_output=False,
)
_ELU = _make_pointwise(
    "_ELU",
    lambda x, a: torch.where(x > 0, x, a * torch.expm1(x)),
    # exp of min(x, 0) (NaN kept): no exp overflow, so no inf * 0 = NaN in the second
    # derivative at large x; and that derivative is 0 at x = 0, as torch's (x < 0 only)
    lambda x, a: torch.where(x > 0, 1.0, a * torch.exp(torch.where(x >= 0, 0.0, x))).to(x.dtype),
    from_output=False,
)
_GELU = _make_pointwise(
    "_GELU",
    lambda x: x * _phi(x),
    lambda x: _phi(x) + x * _INV_SQRT_2PI * torch.exp(-0.5 * x * x),
    from_output=False,
)
_GELUTanh = _make_pointwise("_GELUTanh", _gelu_tanh, _d_gelu_tanh, from_output=False)
_Hardsigmoid = _make_pointwise(
    "_Hardsigmoid",
    lambda x: (x / 6.0 + 0.5).clamp(0.0, 1.0),
    lambda x: _between(x, -3, 3).div_(6.0),
    from_output=False,
)


def _d_hardswish(x):
    # at the kinks -3 and 3 take the outer one-sided values 0 and 1, as torch does; NaN at
    # NaN, as torch's vectorised kernel (its scalar loop for a tensor's last few elements gives 1)
    inner = x / 3.0 + 0.5
    if torch.is_grad_enabled() and x.requires_grad:
        # create_graph: torch's second derivative is 1/3 only where -3 < x < 3, so 0 at NaN;
        # the NaN of f' taken from a detached x carries no derivative
        inner = torch.where(x.isnan(), x.detach(), inner)
    return torch.where(x <= -3, 0.0, torch.where(x >= 3, 1.0, inner)).to(x.dtype)


_Hardswish = _make_pointwise(
    "_Hardswish",
    lambda x: x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
    _d_hardswish,
    from_output=False,
)


def _d_silu(x):
    s = torch.sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


_SiLU = _make_pointwise("_SiLU", lambda x: x * torch.sigmoid(x), _d_silu, from_output=False)
_Softplus = _make_pointwise(
    "_Softplus",
    # linear above the threshold, as torch (log1p(e^z) = z there to float precision)
    lambda x, beta, threshold: torch.where(
        x * beta > threshold, x, torch.log1p(torch.exp(x * beta)) / beta
    ),
    lambda x, beta, threshold: torch.where(x * beta > threshold, 1.0, torch.sigmoid(x * beta)).to(
        x.dtype
    ),
    from_output=False,
)


# --- in-place variants (inplace=True) ---------------------------------------------------------
# f' from the output y where it is a function of y, as torch's relu_, hardtanh_, leaky_relu_ and
# elu_: ReLU's, ReLU6's and leaky ReLU's f' read the same from y as from x (y > 0 iff x > 0 for
# a slope >= 0, y in (0, 6) iff x is, NaN stays NaN); the input's copy for SiLU and hardswish
_ReLUInplace = _make_inplace("_ReLUInplace", _ReLU.f, _ReLU.df, from_output=True, grad_first=False)
_ReLU6Inplace = _make_inplace("_ReLU6Inplace", _ReLU6.f, _ReLU6.df, from_output=True)
_LeakyReLUInplace = _make_inplace(
    "_LeakyReLUInplace",
    _LeakyReLU.f,
    _LeakyReLU.df,
    from_output=True,
    check=_negative_slope_refused("leakyReLu"),
    grad_first=False,
)
_ELUInplace = _make_inplace(
    "_ELUInplace",
    _ELU.f,
    # a e^x = y + a below 0; a itself at y = 0, so that the second derivative there is 0, as
    # torch's (y < 0 only); NaN at NaN, as the out-of-place f'
    lambda y, a: torch.where(y > 0, 1.0, torch.where(y == 0, a, y + a)).to(y.dtype),
    from_output=True,
    check=_negative_slope_refused("elu"),
)
_HardsigmoidInplace = _make_inplace(
    "_HardsigmoidInplace",
    _Hardsigmoid.f,
    lambda y: _between(y, 0, 1).div_(6.0),  # 0 < y < 1 iff -3 < x < 3; 0 at NaN, as from x
    from_output=True,
)
_HardswishInplace = _make_inplace(
    "_HardswishInplace", _Hardswish.f, _Hardswish.df, from_output=False
)
_SiLUInplace = _make_inplace("_SiLUInplace", _SiLU.f, _SiLU.df, from_output=False)


def _apply(out_of_place: type[Function], in_place: type[Function], x: Tensor, inplace, *args):
    check_scalar(inplace, "inplace", kind=bool)
    if not inplace:
        return out_of_place.apply(x, *args)
    check_inplace(x)
    if in_place.keeps_input:  # a copy of x for the backward, in x's graph
        kept = x.clone() if torch.is_grad_enabled() and x.requires_grad else None
        args = (kept, *args)
    in_place.apply(x, *args)
    # x itself: with a graph apply returns x, but under no_grad an alias of it
    return x


# --- public functions -------------------------------------------------------------------------
def sigmoid(input: Tensor) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Notes
    -----
    :math:`\sigma' = \sigma(1 - \sigma) \le 1/4`, computed from the saved output.
    """
    return _Sigmoid.apply(check_tensor(input, "input"))


def tanh(input: Tensor) -> Tensor:
    r"""Hyperbolic tangent, with :math:`\tanh' = 1 - \tanh^2`."""
    return _Tanh.apply(check_tensor(input, "input"))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Rectified linear unit :math:`\max(x, 0)` [1]_; its derivative is :math:`[x > 0]`.

    At :math:`x = 0` the derivative is taken as 0, and at NaN as 1 (the upstream gradient
    passes), as torch does. ``inplace=True`` writes the result into ``input`` and returns it
    (as ``torch.relu_``; refused, as torch refuses it, on a leaf that requires grad).
    """
    return _apply(_ReLU, _ReLUInplace, check_tensor(input, "input"), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    r"""Leaky ReLU [2]_: :math:`x` for :math:`x > 0`, else ``negative_slope`` :math:`\cdot x`.

    ``inplace=True`` overwrites ``input``; its backward, from the output, is refused (in the
    backward, as torch) for a negative slope."""
    check_scalar(negative_slope, "negative_slope")
    x = check_tensor(input, "input")
    return _apply(_LeakyReLU, _LeakyReLUInplace, x, inplace, float(negative_slope))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    r""":math:`\min(\max(x, 0), 6)`: ReLU capped at 6, as used by MobileNet for low precision;
    ``inplace=True`` overwrites ``input``."""
    return _apply(_ReLU6, _ReLU6Inplace, check_tensor(input, "input"), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""Exponential linear unit [4]_: :math:`x` for :math:`x > 0`, :math:`\alpha(e^x - 1)` else.

    ``inplace=True`` overwrites ``input``; the backward then takes :math:`\alpha e^x = y +
    \alpha` from the output, and is refused (in the backward, as torch) for a negative alpha."""
    check_scalar(alpha, "alpha")
    return _apply(_ELU, _ELUInplace, check_tensor(input, "input"), inplace, float(alpha))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""Gaussian error linear unit [5]_: :math:`x\,\Phi(x)`.

    Notes
    -----
    ``approximate='none'``: :math:`\Phi(x) = \tfrac12(1 + \operatorname{erf}(x/\sqrt2))` and
    :math:`\tfrac{d}{dx} = \Phi(x) + x\,\varphi(x)`. ``approximate='tanh'``:
    :math:`\tfrac12 x(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))`.
    """
    check_option(approximate, "approximate", ("none", "tanh"))
    x = check_tensor(input, "input")
    return _GELU.apply(x) if approximate == "none" else _GELUTanh.apply(x)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Piecewise-linear sigmoid [6]_: :math:`\operatorname{clip}(x/6 + 1/2, 0, 1)`;
    ``inplace=True`` overwrites ``input``."""
    return _apply(_Hardsigmoid, _HardsigmoidInplace, check_tensor(input, "input"), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    r"""h-swish [6]_: :math:`x \cdot \operatorname{ReLU6}(x + 3) / 6`; ``inplace=True``
    overwrites ``input`` (keeping a copy of it for the backward, as torch)."""
    return _apply(_Hardswish, _HardswishInplace, check_tensor(input, "input"), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""SiLU (swish) :math:`x\,\sigma(x)`, with derivative :math:`\sigma(x)(1 + x(1 -
    \sigma(x)))`; ``inplace=True`` overwrites ``input`` (keeping a copy of it for the backward,
    as torch)."""
    return _apply(_SiLU, _SiLUInplace, check_tensor(input, "input"), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""Softplus :math:`\tfrac1\beta \log(1 + e^{\beta x})`, and :math:`x` itself where
    :math:`\beta x > ` ``threshold`` (as torch); derivative :math:`\sigma(\beta x)` (1 above the
    threshold).

    ``beta=0`` is taken as torch takes it, the limit of the formula rather than an error:
    :math:`\log 2 / 0 = \pm\infty` (the sign of the zero) with derivative :math:`\sigma(0) =
    1/2`, or :math:`x` with derivative 1 where :math:`0 > ` ``threshold``. Where
    :math:`\beta x` overflows ``exp`` below the threshold the derivative is 1, where torch's
    :math:`e^z / (e^z + 1)` gives NaN."""
    check_scalar(beta, "beta")
    if not (isinstance(threshold, float) and math.isinf(threshold)):  # +-inf as torch: never
        check_scalar(threshold, "threshold")  # (or always) the linear branch
    return _Softplus.apply(check_tensor(input, "input"), float(beta), float(threshold))


class _PReLU(Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor) -> Tensor:
        a = _channel_view(weight, x)
        ctx.save_for_backward(x, weight)
        return torch.where(x > 0, x, a * x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        a = _channel_view(weight, x)
        positive = x > 0
        grad_x = torch.where(positive, grad, a * grad)
        # dy/da = x where x <= 0: summed over every position that shares the slope
        grad_a = torch.where(positive, 0.0, grad * x)
        dims = [d for d in range(x.dim()) if not (weight.numel() > 1 and d == 1)]
        grad_w = grad_a.sum(dim=dims).reshape(weight.shape) if dims else grad_a.reshape(-1)
        return grad_x, grad_w


def _channel_view(weight: Tensor, x: Tensor) -> Tensor:
    """Broadcast a per-channel slope along dim 1 of ``x`` (or a single shared slope)."""
    if weight.numel() == 1 or x.dim() < 2:
        return weight.reshape(())
    return weight.reshape([1, -1] + [1] * (x.dim() - 2))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    r"""Parametric ReLU [3]_: :math:`\max(x, 0) + a_c \min(x, 0)` with a learned slope per channel.

    Parameters
    ----------
    input : Tensor[N, C, *]
    weight : Tensor[C], Tensor[1] or Tensor[]
        The slopes :math:`a_c` (channel is dim 1), or one slope shared by all channels.

    Notes
    -----
    :math:`\partial L / \partial a_c = \sum_{\text{positions of } c,\ x \le 0} g\, x`.
    """
    x = check_tensor(input, "input")
    w = check_tensor(weight, "weight", ndim=(0, 1))
    check_like(w, "weight", x, "prelu")  # torch does not promote here either
    channels = x.shape[1] if x.dim() >= 2 else 1
    if w.numel() not in (1, channels):
        raise ValueError(
            f"weight must have 1 or {channels} (= input.shape[1]) elements, got {w.numel()}"
        )
    return _PReLU.apply(x, w)
