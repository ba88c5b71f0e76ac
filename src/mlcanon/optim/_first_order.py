"""Machinery shared by the first-order optimizers: one update rule, two kinds of arrays.

Each optimizer (:class:`SGD`, :class:`Adam`, ...) writes its update rule once, as a function of
the parameter ``p``, its gradient ``g``, its state buffers and the hyper-parameters of its group.
The rule mixes in-place operators (``v *= beta2``), which both NumPy arrays and torch tensors
understand, with a handful of fused in-place primitives taken from an ``ops`` namespace:

========================  ==================================  =============================
primitive                 meaning                             torch method it maps to
========================  ==================================  =============================
``add(x, y, alpha=a)``    new array ``x + a y``               ``Tensor.add``
``add_(x, y, alpha=a)``   ``x <- x + a y``                    ``Tensor.add_``
``addcmul(x, y, z, v)``   new array ``x + v y z``             ``Tensor.addcmul``
``addcmul_(x, y, z, v)``  ``x <- x + v y z``                  ``Tensor.addcmul_``
``addcdiv_(x, y, z, v)``  ``x <- x + v y / z``                ``Tensor.addcdiv_``
``lerp_(x, y, w)``        ``x <- x + w (y - x)``              ``Tensor.lerp_``
``maximum_(x, y)``        ``x <- max(x, y)``                  ``torch.maximum(out=x)``
``sqrt``, ``sqrt_``,      square root (new / in place),
``abs``                   absolute value
========================  ==================================  =============================

On torch tensors these are the fused ATen kernels, so a step makes no temporary that
``torch.optim`` does not make too; on NumPy arrays they are ufunc expressions. The same rule
therefore drives the :class:`torch.optim.Optimizer` subclass (``Adam(model.parameters())``) and
the NumPy front end (``Adam.for_arrays([w, b])``, an :class:`ArrayOptimizer`).
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from .._validation import BOOL, Interval, check_scalar, validate_args

__all__ = ["ArrayOptimizer", "FirstOrderOptimizer"]

Group = dict[str, Any]
State = dict[str, Any]
# what a torch optimizer accepts: tensors, or param groups {"params": [...], "lr": ...}
Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]


class _TorchOps:
    """The primitives on torch tensors: the fused in-place ATen kernels, no temporaries."""

    add = staticmethod(torch.Tensor.add)
    add_ = staticmethod(torch.Tensor.add_)
    addcmul = staticmethod(torch.Tensor.addcmul)
    addcmul_ = staticmethod(torch.Tensor.addcmul_)
    addcdiv_ = staticmethod(torch.Tensor.addcdiv_)
    lerp_ = staticmethod(torch.Tensor.lerp_)

    # differentiable=True (autograd records the step): sqrt keeps its result for its backward,
    # and the rules go on to modify that result in place (denom += eps); a copy takes those
    # writes instead, as torch.optim's differentiable branches compute out of place there
    @staticmethod
    def sqrt(x: torch.Tensor) -> torch.Tensor:
        root = x.sqrt()
        return root.clone() if root.requires_grad else root

    @staticmethod
    def sqrt_(x: torch.Tensor) -> torch.Tensor:
        return x.copy_(x.sqrt()) if torch.is_grad_enabled() and x.requires_grad else x.sqrt_()

    abs = staticmethod(torch.Tensor.abs)
    zeros_like = staticmethod(torch.zeros_like)
    full_like = staticmethod(torch.full_like)

    @staticmethod
    def maximum_(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
            # differentiable=True: autograd has no out=, and maximum keeps its inputs for its
            # backward, so x's old value as a copy (torch.optim's differentiable branch too)
            return x.copy_(torch.maximum(x.clone(), y))
        return torch.maximum(x, y, out=x)

    @staticmethod
    def clone(x: torch.Tensor) -> torch.Tensor:
        return x.detach().clone()


class _NumpyOps:
    """The same primitives on NumPy arrays (ufunc expressions, results in place where asked)."""

    abs = staticmethod(np.abs)
    sqrt = staticmethod(np.sqrt)
    zeros_like = staticmethod(np.zeros_like)
    full_like = staticmethod(np.full_like)
    clone = staticmethod(np.copy)

    @staticmethod
    def add(x: np.ndarray, y: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
        return x + alpha * y

    @staticmethod
    def add_(x: np.ndarray, y: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
        x += alpha * y
        return x

    @staticmethod
    def addcmul(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, value: float = 1.0) -> np.ndarray:
        return x + value * y * z

    @staticmethod
    def addcmul_(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, value: float = 1.0) -> np.ndarray:
        x += value * y * z
        return x

    @staticmethod
    def addcdiv_(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, value: float = 1.0) -> np.ndarray:
        x += value * y / z
        return x

    @staticmethod
    def lerp_(x: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
        # torch's two-sided formula: exact at weight = 0 and at weight = 1
        if abs(weight) < 0.5:
            x += weight * (end - x)
        else:
            x[...] = end - (end - x) * (1 - weight)
        return x

    @staticmethod
    def sqrt_(x: np.ndarray) -> np.ndarray:
        # a 0-d array plus a float is a NumPy scalar, which has no buffer to write into
        return np.sqrt(x, out=x) if isinstance(x, np.ndarray) else np.sqrt(x)

    @staticmethod
    def maximum_(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.maximum(x, y, out=x)


TORCH_OPS = _TorchOps()
NUMPY_OPS = _NumpyOps()


# hyper-parameter constraints shared by the optimizers (read by _validation.validate_args) -----
class ScalarOrTensor:
    """A real number in an interval or, as torch.optim takes its ``lr``, ``weight_decay`` and
    ``betas``, a one-element real tensor holding one."""

    def __init__(self, low: float, high: float | None = None, include_high: bool = True) -> None:
        self.bounds = {"low": low, "high": high, "include_high": include_high}

    def check(self, value: Any, name: str) -> Any:
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ValueError(
                    f"{name} as a Tensor must have one element, got shape {tuple(value.shape)}"
                )
            if value.is_complex() or value.dtype == torch.bool:
                raise TypeError(f"{name} as a Tensor must be real, got dtype {value.dtype}")
            check_scalar(value.item(), name, **self.bounds)
            return value
        return check_scalar(value, name, **self.bounds)

    def __str__(self) -> str:
        return f"{Interval(**self.bounds)} or a one-element Tensor"


class Betas:
    """A pair of decay rates ``(beta1, beta2)``, each in ``[0, 1)``: two numbers or, as
    torch.optim takes them, two one-element tensors."""

    beta = ScalarOrTensor(low=0.0, high=1.0, include_high=False)

    def check(self, value: Any, name: str) -> Any:
        if not isinstance(value, Sequence) or len(value) != 2:
            raise TypeError(f"{name} must be a pair (beta1, beta2) in [0, 1), got {value!r}")
        for i, beta in enumerate(value):
            self.beta.check(beta, f"{name}[{i}]")
        if isinstance(value[0], torch.Tensor) != isinstance(value[1], torch.Tensor):
            raise ValueError(f"{name} must be both numbers or both Tensors, got {value!r}")
        return value

    def __str__(self) -> str:
        return "a pair (beta1, beta2) in [0, 1)"


BETAS = Betas()
# lr and weight_decay: >= 0, a number or a one-element tensor
NON_NEGATIVE_OR_TENSOR = ScalarOrTensor(low=0.0)
NON_NEGATIVE = Interval(low=0.0)
UNIT = Interval(low=0.0, high=1.0)  # a decay rate or a dampening in [0, 1]


# docstring entries shared by the optimizers ---------------------------------------------------
PARAMETER_DOCS = {
    "params": (
        "params : iterable of Tensor or dict\n"
        '    Parameters to optimize, or param groups (dicts with ``"params"`` and overrides).'
    ),
    "weight_decay": (
        "weight_decay : float or Tensor, default=0\n"
        r"    L2 penalty :math:`\lambda >= 0`, added to the gradient."
    ),
    "maximize": "maximize : bool, default=False\n    Ascend the objective instead of descending.",
    "foreach": (
        "foreach : bool or None, default=None\n"
        "    Accepted and kept in the param groups as in torch.optim; the update is the same."
    ),
    "fused": (
        "fused : bool or None, default=None\n"
        "    As in torch.optim: ``True`` needs floating-point parameters and no sparse gradient\n"
        "    and cannot go with ``foreach=True``. The update stays the single-tensor one (a\n"
        "    tensor ``lr`` read as a Python float, as torch's fused kernels read it), which\n"
        "    torch's fused CPU kernels round differently (1e-14 apart after 300 float64 steps)."
    ),
    "capturable": (
        "capturable : bool, default=False\n"
        "    As in torch.optim: ``True`` needs parameters on a CUDA-like device (``cpu`` is\n"
        "    refused at the step) and takes torch's capturable arithmetic (Adam and Adamax\n"
        "    compute their bias corrections in float32 there)."
    ),
    "differentiable": (
        "differentiable : bool, default=False\n"
        "    ``True``: autograd records the step (as torch.optim), so the updated parameters\n"
        "    and state are differentiable functions of the parameters (non-leaf tensors),\n"
        "    gradients and state before it, with torch's gradients. Not with ``fused``, nor\n"
        "    with ``foreach`` (but in SGD), as torch; an ``lr`` tensor that requires grad gets\n"
        "    its gradient in SGD, Adam and AdamW, as torch (elsewhere a TypeError), and so do\n"
        "    Adam's ``betas`` tensors."
    ),
}

# torch.optim's implementation switches and their constraints; each class takes those its
# torch.optim counterpart's constructor takes
SWITCHES: dict[str, Any] = {
    "foreach": (None, BOOL),
    "fused": (None, BOOL),
    "capturable": BOOL,
    "differentiable": BOOL,
}
# where torch.optim accepts capturable=True (its _get_capturable_supported_devices)
CAPTURABLE_DEVICES = ("cuda", "xpu", "hpu", "xla", torch._C._get_privateuse1_backend_name())


def fill_doc(doc: str | None) -> str | None:
    """``doc`` with each line ``%(name)s`` replaced by the entry ``PARAMETER_DOCS[name]``,
    indented as that line (the placeholders of SciPy's ``doccer``)."""

    def entry(match: re.Match[str]) -> str:
        return textwrap.indent(PARAMETER_DOCS[match[2]], match[1])

    if doc is None:  # python -OO strips docstrings
        return None
    return re.sub(r"^( *)%\((\w+)\)s$", entry, doc, flags=re.MULTILINE)


def hyper_parameters(arguments: dict[str, Any]) -> Group:
    """A constructor's hyper-parameters (its ``locals()``, less ``self`` and ``params``): the
    defaults of every param group, under torch's names."""
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


def _step_as_torch(t: Any, previous: Any, p: torch.Tensor, group: Group) -> Any:
    """The step count ``t`` (an int, as the update rules count) kept as torch.optim keeps it: a
    0-d float tensor (float32, or float64 when that is torch's default dtype), on the
    parameter's device with ``capturable`` or ``fused`` (float32 there); the tensor counted
    before, updated in place, when there is one."""
    if isinstance(t, torch.Tensor):
        return t
    if isinstance(previous, torch.Tensor):
        return previous.fill_(t)
    on_device = group.get("capturable") or group.get("fused")
    default = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    dtype = torch.float32 if group.get("fused") else default
    return torch.tensor(float(t), dtype=dtype, device=p.device if on_device else "cpu")


def objective_gradient(ops: Any, p: Any, g: Any, group: Group) -> Any:
    r"""The preamble every update rule shares: the gradient of the objective actually minimized.

    ``maximize`` flips the sign (ascent on ``f`` is descent on ``-f``); ``weight_decay`` adds the
    L2 term's gradient, :math:`g + \lambda\theta`, or, when the group asks for decoupled decay
    (AdamW, Loshchilov & Hutter 2019), shrinks the parameter itself, :math:`\theta \leftarrow
    (1 - \eta\lambda)\theta`, and leaves the gradient alone.
    """
    if group["maximize"]:
        g = -g
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            p *= 1 - group["lr"] * wd  # theta <- (1 - lr lambda) theta
        else:
            g = ops.add(g, p, alpha=wd)  # g <- g + lambda theta
    return g


class FirstOrderOptimizer(torch.optim.Optimizer):
    """Base class: a :class:`torch.optim.Optimizer` driven by an update rule written once.

    Subclasses declare their hyper-parameters' constraints in ``_parameter_constraints``
    (extending the base's ``lr``, ``weight_decay`` and ``maximize``), checked for every param
    group by :meth:`_check_group`, and implement two static methods that receive the ``ops``
    namespace:

    * ``_init_state(ops, p, group)`` returns the fresh state of parameter ``p``;
    * ``_update(ops, p, g, state, group)`` applies one step in place, given the gradient that
      :func:`objective_gradient` has already prepared (sign and weight decay).

    A subclass's docstring may list the parameters every optimizer shares as placeholder lines
    (``%(params)s``, ``%(weight_decay)s``, ``%(maximize)s``), filled from ``PARAMETER_DOCS``.

    Param groups, ``zero_grad``, hooks and ``state_dict()``/``load_state_dict()`` come from
    :class:`torch.optim.Optimizer`; state buffers carry torch's names (``exp_avg``,
    ``momentum_buffer``, ...) so a state dict saved by ``torch.optim`` loads here as well.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "lr": NON_NEGATIVE_OR_TENSOR,
        "weight_decay": NON_NEGATIVE_OR_TENSOR,
        "maximize": BOOL,
    }
    _init_state: ClassVar[Callable[..., State]]
    # complex parameters: the rule runs on their real views (False: on the complex tensors)
    _complex_as_real: ClassVar[bool] = True
    # hyper-parameters that torch.optim reads from the optimizer's defaults, not from the
    # parameter's group, when it creates a parameter's state (Adagrad's initial accumulator)
    _init_from_defaults: ClassVar[tuple[str, ...]] = ()
    # torch.optim's rule for sparse gradients exists (SGD, Adagrad)
    _supports_sparse: ClassVar[bool] = False
    # foreach=True with a tensor lr: refused unless capturable (Adam, AdamW), or the lr read as
    # a Python float (Adamax's multi-tensor step); elsewhere the same arithmetic as foreach=False
    _tensor_lr_foreach: ClassVar[str] = "same"
    # foreach=True with differentiable=True: torch.optim's multi-tensor step takes it (SGD)
    _foreach_differentiable: ClassVar[bool] = False
    # differentiable=True with an lr that requires grad: differentiated (SGD, Adam, AdamW)
    _differentiable_lr: ClassVar[bool] = False
    _update: ClassVar[Callable[..., None]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = fill_doc(cls.__doc__)  # the shared entries: %(params)s, %(maximize)s, ...
        if "__init__" in cls.__dict__:  # the switches its constructor takes, as torch's does
            names = inspect.signature(cls.__init__).parameters
            cls._parameter_constraints = {
                **cls._parameter_constraints,
                **{k: v for k, v in SWITCHES.items() if k in names},
            }

    @classmethod
    def _check_group(cls, group: Group) -> None:
        """Raise ``ValueError``/``TypeError`` for a bad hyper-parameter of ``group``."""
        constraints = cls._parameter_constraints
        validate_args(constraints, **{name: group[name] for name in constraints})
        if group.get("differentiable", False):
            if group.get("fused"):
                raise ValueError(
                    "fused=True does not support differentiable=True (torch.optim refuses it "
                    "too); set fused to False or None"
                )
            if group.get("foreach") and not cls._foreach_differentiable:
                raise ValueError(
                    f"foreach=True does not support differentiable=True in {cls.__name__} "
                    "(torch.optim's multi-tensor step refuses autograd); set foreach to False "
                    "or None"
                )
        if group.get("fused") and group.get("foreach"):
            raise ValueError(
                "fused=True and foreach=True cannot be used together (torch.optim refuses "
                "it too); set one of them to False or None"
            )
        if group.get("foreach") and not group.get("capturable", False):
            tensor_lr = isinstance(group["lr"], torch.Tensor)
            tensor_betas = isinstance(group.get("betas", (None,))[0], torch.Tensor)
            if (tensor_lr and cls._tensor_lr_foreach == "refused") or tensor_betas:
                name = "lr" if tensor_lr and cls._tensor_lr_foreach == "refused" else "betas"
                raise ValueError(
                    f"{name} as a Tensor is not supported with foreach=True and "
                    "capturable=False (torch.optim refuses it too); give floats, or set "
                    "foreach=False"
                )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # validate the group's own hyper-parameters (e.g. a per-group lr) before torch adds it
        merged = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        self._check_group(merged)
        super().add_param_group(param_group)

    def _step_group(self, group: Group) -> Group:
        """The hyper-parameters one step reads: ``group`` with a tensor ``lr`` taken as
        torch.optim takes it (0-d; a Python float where torch's kernel reads it as one)."""
        lr = group["lr"]
        if not isinstance(lr, torch.Tensor):
            return group
        if group.get("differentiable") and lr.requires_grad and torch.is_grad_enabled():
            if not self._differentiable_lr:  # torch.optim's step fails there with a TypeError
                raise TypeError(
                    f"{type(self).__name__} cannot differentiate with respect to an lr that "
                    "requires grad (torch.optim differentiates it in SGD, Adam and AdamW, and "
                    "raises a TypeError elsewhere); pass lr.detach() or a float"
                )
            return {**group, "lr": lr.reshape(())}  # in the graph: d(step)/d(lr), as torch
        lr = lr.detach().reshape(())  # torch's _to_scalar: a one-element tensor, made 0-d
        as_float = group.get("fused") or (
            group.get("foreach")
            and self._tensor_lr_foreach == "float"
            and not group.get("capturable")  # torch's capturable steps keep the tensor
        )
        return {**group, "lr": lr.item() if as_float else lr}

    def _hyper_for_new_state(self, group: Group) -> Group:
        """The hyper-parameters a parameter's new state is built from (see _init_from_defaults)."""
        return {**group, **{k: self.defaults[k] for k in self._init_from_defaults}}

    def _check_param(self, p: torch.Tensor, group: Group, where: str) -> None:
        """Refuse, as torch.optim does, a parameter the group's switches or rule cannot take."""
        name = type(self).__name__
        if group.get("fused") and not p.is_floating_point():
            raise ValueError(
                f"fused=True requires floating-point parameters; {where} has dtype {p.dtype}"
            )
        if group.get("capturable") and p.device.type not in CAPTURABLE_DEVICES:
            raise ValueError(
                f"capturable=True requires parameters on one of {list(CAPTURABLE_DEVICES)}; "
                f"{where} is on {p.device.type} (use capturable=False)"
            )
        if p.grad.is_sparse:
            if not self._supports_sparse:
                raise TypeError(
                    f"{name} does not support sparse gradients ({where} has a sparse grad); "
                    "SGD and Adagrad do, as in torch.optim"
                )
            if group.get("fused"):
                raise ValueError(
                    f"fused=True does not support sparse gradients ({where} has one); "
                    "use fused=False"
                )
            if group["weight_decay"] != 0:
                raise ValueError(
                    f"weight_decay must be 0 with sparse gradients (torch.optim refuses it "
                    f"too); got weight_decay={group['weight_decay']!r} and {where} has a "
                    "sparse grad"
                )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it.

        Without autograd, unless the optimizer was built with ``differentiable=True``: then
        autograd records the step, so the updated parameters and state are functions of the
        parameters, gradients and state before it (as torch.optim, whose
        ``_use_grad_for_differentiable`` reads the constructor's value too)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            self._step_groups()
        return loss

    def _step_groups(self) -> None:
        for i, stored in enumerate(self.param_groups):
            group = self._step_group(stored)
            for j, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                self._check_param(p, group, f"parameter {j} of param group {i}")
                state = self.state[p]
                if not state:
                    self._new_state(p, group)
                step = state.get("step")
                if p.is_complex() and not p.grad.is_sparse:  # torch's sparse rules: complex too
                    self._complex_update(p, state, group)
                else:
                    self._update(
                        TORCH_OPS, p, objective_gradient(TORCH_OPS, p, p.grad, group), state, group
                    )
                if not state:  # a rule without state (SGD without momentum): no entry, as torch
                    del self.state[p]
                elif "step" in state:
                    state["step"] = _step_as_torch(state["step"], step, p, group)

    def _new_state(self, p: torch.Tensor, group: Group) -> None:
        """Create the state of ``p``, its step counter a tensor as torch.optim keeps it."""
        state = self.state[p]
        state.update(self._init_state(TORCH_OPS, p, self._hyper_for_new_state(group)))
        if "step" in state:
            state["step"] = _step_as_torch(state["step"], None, p, group)

    def _complex_update(self, p: torch.Tensor, state: State, group: Group) -> None:
        """One step of a complex parameter, as ``torch.optim`` takes it.

        The sign and the weight decay are applied in complex arithmetic; then, unless the rule
        is linear (SGD, which ``torch.optim`` also runs on the complex tensors), the parameter,
        the gradient and the complex buffers are seen as real tensors with a trailing axis
        (real part, imaginary part), so that every coordinate-wise rule (``sqrt``, ``max``,
        ``g * g``) treats the two parts as two real coordinates.
        """
        g = objective_gradient(TORCH_OPS, p, p.grad, group)
        if not self._complex_as_real:
            self._update(TORCH_OPS, p, g, state, group)
            return
        real = torch.view_as_real
        views = {
            k: real(v) if torch.is_tensor(v) and v.is_complex() else v for k, v in state.items()
        }
        p_real = real(p)
        self._update(TORCH_OPS, p_real, real(g), views, group)
        for k, v in views.items():
            if torch.is_tensor(state.get(k)) and state[k].is_complex():
                continue  # updated in place through its view
            new_buffer = torch.is_tensor(v) and k not in state and v.shape == p_real.shape
            state[k] = torch.view_as_complex(v) if new_buffer else v

    @classmethod
    def for_arrays(
        cls, params: Iterable[np.ndarray] | Iterable[dict[str, Any]], **hyper: Any
    ) -> ArrayOptimizer:
        """The same optimizer on NumPy arrays, updated in place by ``step(grads)``.

        ``params`` is a list of float arrays, or of dicts ``{"params": [...], "lr": ...}`` as
        torch's param groups; ``hyper`` takes the same names and defaults as the constructor.
        """
        return ArrayOptimizer(cls, params, cls._bind_defaults(hyper))

    @classmethod
    def _bind_defaults(cls, hyper: dict[str, Any]) -> Group:
        """The constructor's hyper-parameters, with its defaults (unknown names: TypeError)."""
        bound = inspect.signature(cls.__init__).bind_partial(None, None, **hyper)
        bound.apply_defaults()
        return {k: v for k, v in bound.arguments.items() if k not in ("self", "params")}


class ArrayOptimizer:
    """A first-order update rule applied in place to NumPy arrays.

    Build one with ``Optimizer.for_arrays(params, **hyper)``, e.g.
    ``opt = Adam.for_arrays([w, b], lr=1e-2)``, then call ``opt.step([grad_w, grad_b])`` once per
    iteration. The arithmetic is the rule of the optimizer class, evaluated with NumPy.

    Attributes
    ----------
    rule : type
        The optimizer class whose update rule is applied (e.g. :class:`Adam`).
    defaults : dict
        Hyper-parameters shared by every group unless a group overrides them.
    param_groups : list of dict
        As in torch: ``{"params": [arrays...], "lr": ..., ...}``; change ``lr`` here to schedule.
    state : list of dict
        One dict per parameter, in the order of :attr:`params`, holding the rule's buffers
        (``"step"``, ``"exp_avg"``, ...) as arrays of the parameter's shape and dtype.
    """

    def __init__(
        self,
        rule: type[FirstOrderOptimizer],
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        defaults: Group,
    ) -> None:
        self.rule = rule
        self.defaults = dict(defaults)
        rule._check_group(self.defaults)
        items = list(params)
        if not items:
            raise ValueError("params must contain at least one array, got an empty list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[Group] = []
        for group in groups:
            self._add_group(group)
        self.state: list[State] = [{} for _ in self.params]

    def _add_group(self, group: dict[str, Any]) -> None:
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("params must be a list of arrays or a list of dicts with 'params'")
        merged = {**self.defaults, **group}
        merged["params"] = list(group["params"])
        self.rule._check_group(merged)
        for name in ("lr", "weight_decay", "betas"):
            value = merged.get(name)
            if isinstance(value, torch.Tensor) or (
                isinstance(value, Sequence) and any(isinstance(v, torch.Tensor) for v in value)
            ):
                raise TypeError(f"{name} must be floats for NumPy arrays, got {value!r}")
        if merged.get("capturable"):
            raise ValueError(
                "capturable=True needs tensors on a CUDA-like device (torch.optim refuses it "
                "on CPU too); NumPy arrays take capturable=False"
            )
        if merged.get("differentiable"):
            raise ValueError(
                "differentiable=True records the step with autograd, which NumPy arrays do not "
                "have; NumPy arrays take differentiable=False"
            )
        for i, p in enumerate(merged["params"], start=len(self.params)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"params[{i}] must be a NumPy array of floats (updated in place), "
                    f"got {type(p).__name__} with dtype {getattr(p, 'dtype', None)}"
                )
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] is read-only; it must be updated in place")
            earlier = self.params + merged["params"][: i - len(self.params)]
            if any(p is q for q in earlier):
                first = next(k for k, q in enumerate(earlier) if p is q)
                raise ValueError(
                    f"params[{i}] is params[{first}]: each array may appear once (torch.optim "
                    "refuses a parameter in two groups too)"
                )
        self.param_groups.append(merged)

    @property
    def params(self) -> list[np.ndarray]:
        """All parameter arrays, group after group."""
        return [p for group in self.param_groups for p in group["params"]]

    def step(self, grads: Sequence[Any]) -> None:
        """Update every parameter in place from its gradient (``None`` skips a parameter).

        Parameters
        ----------
        grads : sequence of array-like or None
            One gradient per parameter, in the order of :attr:`params`, each of the
            parameter's shape.
        """
        params = self.params
        if len(grads) != len(params):
            raise ValueError(
                f"grads has {len(grads)} entries, expected one per parameter: {len(params)}"
            )
        k = 0
        for group in self.param_groups:
            for p in group["params"]:
                g = grads[k]
                if g is not None:
                    g = np.asarray(g, dtype=p.dtype)
                    if g.shape != p.shape:
                        raise ValueError(
                            f"grads[{k}] has shape {g.shape}, expected the shape of "
                            f"params[{k}]: {p.shape}"
                        )
                    state = self.state[k]
                    if not state:
                        init = {n: self.defaults[n] for n in self.rule._init_from_defaults}
                        state.update(self.rule._init_state(NUMPY_OPS, p, {**group, **init}))
                    g = objective_gradient(NUMPY_OPS, p, g, group)
                    self.rule._update(NUMPY_OPS, p, g, state, group)
                k += 1

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{self.rule.__name__}.for_arrays([{len(self.params)} arrays], {hyper})"
