"""Stochastic gradient descent with (Nesterov) momentum."""

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

__all__ = ["SGD"]


class SGD(FirstOrderOptimizer):
    r"""Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    Plain SGD (``momentum=0``), heavy-ball momentum and Nesterov momentum are one rule, as in
    :class:`torch.optim.SGD`, whose parameter names and defaults it keeps.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=1e-3
        Learning rate :math:`\gamma >= 0`.
    momentum : float, default=0
        Momentum factor :math:`\mu >= 0`.
    dampening : float, default=0
        Dampening :math:`\tau \in [0, 1]`: the new gradient enters the buffer with weight
        :math:`1 - \tau`.
    %(weight_decay)s
    nesterov : bool, default=False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).
    %(maximize)s
    %(foreach)s
    %(differentiable)s
    %(fused)s

    Sparse gradients (``nn.Embedding(..., sparse=True)``) are taken as torch.optim takes them,
    with ``weight_decay=0`` and ``fused`` off; the other optimizers refuse them.

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}`:

    .. math::

        b_1 = g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \\
        d_t = g_t + \mu b_t \ \text{(Nesterov)}, \qquad d_t = b_t \ \text{(momentum)},
        \qquad d_t = g_t \ (\mu = 0) \\
        \theta_t = \theta_{t-1} - \gamma d_t

    Polyak's heavy ball, in the form of Sutskever et al.: the buffer is a velocity that averages
    recent gradients, so steps grow along directions where gradients agree and cancel where they
    oscillate. Nesterov's variant evaluates the step as if the velocity had already been applied,
    which damps overshoot. (Sutskever et al. write :math:`b_t = \mu b_{t-1} + \gamma g_t`; moving
    :math:`\gamma` out of the buffer is the same method when the learning rate is constant.)

    References
    ----------
    .. [1] B. T. Polyak, "Some methods of speeding up the convergence of iteration methods",
       USSR Computational Mathematics and Mathematical Physics 4(5), 1964.
    .. [2] I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization and
       momentum in deep learning", ICML 2013, eqs. (1)-(4).

    Examples
    --------
    >>> import torch
    >>> from mlcanon.optim import SGD
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w**2).sum().backward(); _ = opt.step()
    >>> w
    tensor([0.8000], requires_grad=True)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "momentum": NON_NEGATIVE,
        "dampening": UNIT,
        "nesterov": BOOL,
    }
    _complex_as_real = False  # a linear rule: torch.optim.SGD runs it in complex arithmetic
    _supports_sparse = True  # a linear rule: sparse gradients and buffers, as torch.optim.SGD
    _foreach_differentiable = True  # as torch.optim.SGD's multi-tensor step
    _differentiable_lr = True

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))

    @classmethod
    def _check_group(cls, group: Group) -> None:
        super()._check_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        return {}  # the momentum buffer is born from the first gradient, see _update

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        lr, mu = group["lr"], group["momentum"]
        if mu != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = ops.clone(g)  # b_1 = g_1
            else:
                b *= mu
                ops.add_(b, g, alpha=1 - group["dampening"])  # b <- mu b + (1 - tau) g
            g = ops.add(g, b, alpha=mu) if group["nesterov"] else b  # d = g + mu b  or  b
        if isinstance(lr, torch.Tensor) and lr.requires_grad:  # differentiable, as torch
            p.addcmul_(g, lr, value=-1)
        else:
            ops.add_(p, g, alpha=-lr)  # theta <- theta - lr d
