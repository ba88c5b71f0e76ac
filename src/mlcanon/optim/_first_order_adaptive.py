"""Per-coordinate adaptive step sizes: Adagrad, Adadelta and RMSprop."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from mlcanon._validation import BOOL

from ._first_order import (
    NON_NEGATIVE,
    UNIT,
    FirstOrderOptimizer,
    Group,
    Params,
    State,
    hyper_parameters,
)

__all__ = ["Adadelta", "Adagrad", "RMSprop"]


class Adagrad(FirstOrderOptimizer):
    r"""Adagrad: divide each coordinate's step by the root of its summed squared gradients.

    Parameter names and defaults are those of :class:`torch.optim.Adagrad`.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=1e-2
        Learning rate :math:`\gamma >= 0`.
    lr_decay : float, default=0
        Learning-rate decay :math:`\eta >= 0`: step :math:`t` uses
        :math:`\gamma / (1 + (t - 1)\eta)`.
    %(weight_decay)s
    initial_accumulator_value : float, default=0
        Starting value :math:`G_0 >= 0` of the accumulator, for every parameter: as in
        torch.optim, a value given in a param group is kept there but not used.
    eps : float, default=1e-10
        :math:`\epsilon >= 0` added to the root for stability.
    %(foreach)s
    %(maximize)s
    %(differentiable)s
    %(fused)s

    Sparse gradients (``nn.Embedding(..., sparse=True)``) are taken as torch.optim takes them,
    with ``weight_decay=0`` and ``fused`` off; the other optimizers refuse them.

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}` and element-wise operations:

    .. math::

        G_t = G_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 + (t-1)\eta}\,
        \frac{g_t}{\sqrt{G_t} + \epsilon}

    :math:`G_t` only grows, so each coordinate's effective step
    :math:`\gamma / (\sqrt{G_t} + \epsilon)` only shrinks: rarely-updated coordinates keep large
    steps, frequently-updated ones are slowed down. Multiplying the objective by a constant
    leaves the iterates unchanged (up to :math:`\epsilon`).

    References
    ----------
    .. [1] J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods for Online Learning and
       Stochastic Optimization", JMLR 12, 2011 (diagonal update, Section 1.1 and Figure 1).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "lr_decay": NON_NEGATIVE,
        "initial_accumulator_value": NON_NEGATIVE,
        "eps": NON_NEGATIVE,
    }
    # torch.optim.Adagrad starts every accumulator at the constructor's value
    _init_from_defaults = ("initial_accumulator_value",)
    _supports_sparse = True

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))
        # as torch.optim.Adagrad: every parameter's state exists from the start
        for group in self.param_groups:
            for p in group["params"]:
                self._new_state(p, group)

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        value = group["initial_accumulator_value"]
        if isinstance(p, torch.Tensor) and p.is_complex():
            value = complex(value, value)  # torch.optim.Adagrad starts both parts at the value
        return {"step": 0, "sum": ops.full_like(p, value)}

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        state["step"] = t = int(state["step"]) + 1
        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        G = state["sum"]
        if isinstance(g, torch.Tensor) and g.is_sparse:
            _sparse_adagrad_update(p, g, G, lr_t, group["eps"])
            return
        ops.addcmul_(G, g, g, value=1)  # G <- G + g^2
        std = ops.sqrt(G)
        std += group["eps"]  # sqrt(G) + eps
        ops.addcdiv_(p, g, std, value=-lr_t)  # theta <- theta - lr_t g / (sqrt(G) + eps)


def _sparse_adagrad_update(
    p: torch.Tensor, g: torch.Tensor, G: torch.Tensor, lr_t: Any, eps: float
) -> None:
    """Adagrad's step on the coordinates a sparse gradient holds, as torch.optim takes it."""
    g = g.coalesce()  # the update is not linear in g: one value per coordinate
    indices, values = g._indices(), g._values()

    def sparse(v: torch.Tensor) -> torch.Tensor:
        return torch.sparse_coo_tensor(indices, v, g.size(), check_invariants=False)

    G.add_(sparse(values.pow(2)))  # G <- G + g^2 where g is stored
    std = G.sparse_mask(g)._values().sqrt_().add_(eps)  # sqrt(G) + eps there
    p.add_(sparse(values / std), alpha=-lr_t)  # theta <- theta - lr_t g / (sqrt(G) + eps)


class Adadelta(FirstOrderOptimizer):
    r"""Adadelta: Adagrad's window shrunk to a running average, with units fixed by past steps.

    Parameter names and defaults are those of :class:`torch.optim.Adadelta`.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=1.0
        Factor :math:`\gamma >= 0` on the step (the paper has none, i.e. 1).
    rho : float, default=0.9
        Decay :math:`\rho \in [0, 1]` of both running averages.
    eps : float, default=1e-6
        :math:`\epsilon >= 0` inside both square roots.
    %(weight_decay)s
    %(foreach)s
    %(capturable)s
    %(maximize)s
    %(differentiable)s

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}`:

    .. math::

        E[g^2]_t = \rho E[g^2]_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t \\
        E[\Delta^2]_t = \rho E[\Delta^2]_{t-1} + (1 - \rho) \Delta_t^2, \qquad
        \theta_t = \theta_{t-1} - \gamma \Delta_t

    The numerator, a running RMS of past updates, gives the step the units of
    :math:`\theta` (a second-order, Newton-like correction), so no global learning rate is
    needed.

    References
    ----------
    .. [1] M. D. Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012,
       Algorithm 1.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "rho": UNIT,
        "eps": NON_NEGATIVE,
    }

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        return {"step": 0, "square_avg": ops.zeros_like(p), "acc_delta": ops.zeros_like(p)}

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        rho, eps = group["rho"], group["eps"]
        state["step"] = int(state["step"]) + 1
        Eg2, Ed2 = state["square_avg"], state["acc_delta"]
        Eg2 *= rho
        ops.addcmul_(Eg2, g, g, value=1 - rho)  # E[g^2] <- rho E[g^2] + (1 - rho) g^2
        rms_g = ops.sqrt_(Eg2 + eps)
        delta = ops.sqrt_(Ed2 + eps)
        delta /= rms_g
        delta *= g  # Delta = RMS[Delta] / RMS[g] * g
        Ed2 *= rho
        ops.addcmul_(Ed2, delta, delta, value=1 - rho)  # E[D^2] <- rho E[D^2] + (1-rho) D^2
        lr = group["lr"]
        if isinstance(lr, torch.Tensor) and group["capturable"] and group["foreach"]:
            delta *= -lr  # torch's capturable multi-tensor step: lr as a tensor factor
            p += delta
        else:
            ops.add_(p, delta, alpha=-lr)  # theta <- theta - lr Delta


class RMSprop(FirstOrderOptimizer):
    r"""RMSprop: divide the gradient by a running RMS of recent gradients (plain or centered).

    Parameter names and defaults are those of :class:`torch.optim.RMSprop`.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=1e-2
        Learning rate :math:`\gamma >= 0`.
    alpha : float, default=0.99
        Decay :math:`\alpha \in [0, 1]` of the running averages.
    eps : float, default=1e-8
        :math:`\epsilon >= 0` added to the root.
    %(weight_decay)s
    momentum : float, default=0
        Momentum :math:`\mu >= 0` on the normalized gradient.
    centered : bool, default=False
        Normalize by an estimate of the gradient's standard deviation instead of its RMS.
    %(capturable)s
    %(foreach)s
    %(maximize)s
    %(differentiable)s

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}`:

    .. math::

        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t \ \text{(centered)} \\
        s_t = \sqrt{v_t} + \epsilon \quad \text{or, centered,} \quad
        s_t = \sqrt{v_t - \bar g_t^2} + \epsilon \\
        b_t = \mu b_{t-1} + g_t / s_t, \qquad \theta_t = \theta_{t-1} - \gamma b_t
        \quad (\mu = 0: \ \theta_t = \theta_{t-1} - \gamma g_t / s_t)

    Unlike Adagrad's growing sum, the average forgets old gradients, so the step size does not
    decay to zero. The centered form is the one of Graves (2013).

    References
    ----------
    .. [1] T. Tieleman, G. Hinton, "Lecture 6.5 - RMSprop: Divide the gradient by a running
       average of its recent magnitude", COURSERA: Neural Networks for Machine Learning, 2012.
    .. [2] A. Graves, "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850,
       2013, eqs. (38)-(41).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "alpha": UNIT,
        "eps": NON_NEGATIVE,
        "momentum": NON_NEGATIVE,
        "centered": BOOL,
    }

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        state = {"step": 0, "square_avg": ops.zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = ops.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = ops.zeros_like(p)
        return state

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        alpha, mu, lr = group["alpha"], group["momentum"], group["lr"]
        state["step"] = int(state["step"]) + 1
        v = state["square_avg"]
        v *= alpha
        ops.addcmul_(v, g, g, value=1 - alpha)  # v <- alpha v + (1 - alpha) g^2
        if group["centered"]:
            g_bar = ops.lerp_(state["grad_avg"], g, 1 - alpha)  # alpha g_bar + (1 - alpha) g
            s = ops.sqrt_(ops.addcmul(v, g_bar, g_bar, value=-1))  # sqrt(v - g_bar^2)
        else:
            s = ops.sqrt(v)
        s += group["eps"]
        # torch's capturable multi-tensor step multiplies by a tensor lr as a tensor
        tensor_lr = isinstance(lr, torch.Tensor) and group["capturable"] and group["foreach"]
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            ops.addcdiv_(b, g, s, value=1)  # b <- mu b + g / s
            if tensor_lr:
                p += b * -lr
            else:
                ops.add_(p, b, alpha=-lr)  # theta <- theta - lr b
        elif tensor_lr:
            s /= -lr
            ops.addcdiv_(p, g, s, value=1)
        else:
            ops.addcdiv_(p, g, s, value=-lr)  # theta <- theta - lr g / s
