"""Adam and its variants: AMSGrad (``amsgrad=True``), AdamW and Adamax."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from mlcanon._validation import BOOL

from ._first_order import (
    BETAS,
    NON_NEGATIVE,
    FirstOrderOptimizer,
    Group,
    Params,
    State,
    hyper_parameters,
)

__all__ = ["Adam", "AdamW", "Adamax"]


def step_tensor(t: int, p: torch.Tensor) -> torch.Tensor:
    """Step ``t`` as torch.optim keeps it with ``capturable=True``: a 0-d tensor on the
    parameter's device, float32 (float64 when that is torch's default dtype)."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(float(t), dtype=dtype, device=p.device)


class Adam(FirstOrderOptimizer):
    r"""Adam: momentum on the gradient, RMSprop on its scale, both bias-corrected.

    ``amsgrad=True`` gives AMSGrad; ``decoupled_weight_decay=True`` gives AdamW. Parameter
    names and defaults are those of :class:`torch.optim.Adam`.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=1e-3
        Learning rate :math:`\gamma >= 0`.
    betas : (float, float) or (Tensor, Tensor), default=(0.9, 0.999)
        Decays :math:`\beta_1, \beta_2 \in [0, 1)` of the first and second moment estimates.
    eps : float, default=1e-8
        :math:`\epsilon >= 0` added to the root.
    weight_decay : float or Tensor, default=0
        :math:`\lambda >= 0`: an L2 penalty added to the gradient or, with
        ``decoupled_weight_decay``, a shrinkage :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`.
    amsgrad : bool, default=False
        Normalize by the running maximum of :math:`v_t` (AMSGrad).
    %(foreach)s
    %(maximize)s
    %(capturable)s
    %(differentiable)s
    %(fused)s
    decoupled_weight_decay : bool, default=False
        Apply weight decay to the parameters directly (AdamW).

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1})` (plus :math:`\lambda\theta_{t-1}` unless decoupled):

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t = \max(\hat v_{t-1}, v_t) \ \text{(AMSGrad)}, \qquad
        \hat v_t = v_t \ \text{(Adam)} \\
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,
        \frac{m_t}{\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}

    The factors :math:`1 - \beta^t` undo the bias of averages started at zero. Since
    :math:`|m_t| / \sqrt{v_t}` is about 1 when gradients agree, each coordinate moves about
    :math:`\gamma` per step whatever the gradient's scale. AMSGrad's non-decreasing
    :math:`\hat v_t` repairs the convergence proof that fails for Adam (Reddi et al.).

    References
    ----------
    .. [1] D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
       Algorithm 1.
    .. [2] S. J. Reddi, S. Kale, S. Kumar, "On the Convergence of Adam and Beyond", ICLR 2018,
       Algorithm 2 (AMSGrad).
    .. [3] I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
       Algorithm 2 (AdamW).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "eps": NON_NEGATIVE,
        "betas": BETAS,
        "amsgrad": BOOL,
        "decoupled_weight_decay": BOOL,
    }
    _tensor_lr_foreach = "refused"  # as torch.optim.Adam: a tensor lr needs capturable there
    _differentiable_lr = True  # differentiable=True: d(step)/d(lr), as torch.optim.Adam

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        state = {"step": 0, "exp_avg": ops.zeros_like(p), "exp_avg_sq": ops.zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = ops.zeros_like(p)
        return state

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        state["step"] = t = int(state["step"]) + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # a tensor beta1 enters the average in the parameter's dtype, as in torch.optim.Adam
        w1 = 1 - (beta1.to(p.dtype) if isinstance(beta1, torch.Tensor) else beta1)
        ops.lerp_(m, g, w1)  # m <- beta1 m + (1 - beta1) g
        if isinstance(beta2, torch.Tensor) and beta2.requires_grad and torch.is_grad_enabled():
            # differentiable=True with respect to beta2 (addcmul_ takes no tensor value): the
            # same average as a lerp, as torch.optim.Adam's differentiable branch
            ops.lerp_(v, g * g, 1 - beta2)
        else:
            v *= beta2
            ops.addcmul_(v, g, g, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
        if group["amsgrad"]:
            v = ops.maximum_(state["max_exp_avg_sq"], v)  # v_hat <- max(v_hat, v)
        if group.get("capturable") or group.get("differentiable"):
            # torch.optim.Adam's capturable (and differentiable) arithmetic: the bias
            # corrections are tensors of the step's dtype (float32), folded into the
            # denominator, in the order of its multi-tensor (foreach) or single-tensor step
            step = step_tensor(t, p)
            if group.get("foreach"):
                neg_step_size = (beta1**step - 1).div_(lr).reciprocal_()  # lr/(beta1^t - 1)
                denom = ops.sqrt(v)
                denom /= (1 - beta2**step).sqrt()
                denom += group["eps"]
                denom /= neg_step_size
            else:
                step_size_neg = (lr / (1 - beta1**step)).neg()
                denom = ops.sqrt(v) / ((1 - beta2**step).sqrt() * step_size_neg)
                denom += group["eps"] / step_size_neg
            if group.get("differentiable"):  # as torch: the state m is not what autograd keeps
                m = m.clone()
            ops.addcdiv_(p, m, denom, value=1)  # theta <- theta - lr m_hat / denom
            return
        bias1, bias2 = 1 - beta1 ** float(t), 1 - beta2 ** float(t)
        denom = ops.sqrt(v)
        denom /= bias2**0.5
        denom += group["eps"]  # sqrt(v / (1 - beta2^t)) + eps
        ops.addcdiv_(p, m, denom, value=-lr / bias1)  # theta <- theta - lr m_hat / denom


class AdamW(Adam):
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    :class:`Adam` with ``decoupled_weight_decay=True`` and a default ``weight_decay`` of 1e-2,
    as :class:`torch.optim.AdamW`.

    Parameters
    ----------
    params, lr, betas, eps, amsgrad, maximize, foreach, capturable, differentiable, fused
        As in :class:`Adam`.
    weight_decay : float or Tensor, default=1e-2
        Shrinkage :math:`\lambda >= 0`.

    Notes
    -----
    Each step first shrinks the parameters, then takes the Adam step on the raw gradient:

    .. math::

        \theta_{t-1}' = (1 - \gamma\lambda)\,\theta_{t-1}, \qquad
        \theta_t = \theta_{t-1}' - \frac{\gamma}{1 - \beta_1^t}
        \frac{m_t}{\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}

    With an L2 penalty inside Adam, the penalty's gradient is divided by
    :math:`\sqrt{\hat v_t}` like the rest, so weights with large gradients are barely
    regularized; decoupling restores a uniform decay rate.

    References
    ----------
    .. [1] I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
       Algorithm 2.
    """

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    @classmethod
    def _bind_defaults(cls, hyper: dict[str, Any]) -> Group:
        return {**super()._bind_defaults(hyper), "decoupled_weight_decay": True}


class Adamax(FirstOrderOptimizer):
    r"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm.

    Parameter names and defaults are those of :class:`torch.optim.Adamax`.

    Parameters
    ----------
    %(params)s
    lr : float or Tensor, default=2e-3
        Learning rate :math:`\gamma >= 0`.
    betas : (float, float) or (Tensor, Tensor), default=(0.9, 0.999)
        Decays :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default=1e-8
        :math:`\epsilon >= 0`, added to :math:`|g_t|` so that :math:`u_t > 0`.
    %(weight_decay)s
    %(foreach)s
    %(maximize)s
    %(differentiable)s
    %(capturable)s

    Notes
    -----
    With :math:`g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}`:

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    :math:`u_t` is the limit :math:`p \to \infty` of an :math:`L^p` version of Adam's
    :math:`\sqrt{v_t}`; it needs no bias correction (a max is not pulled towards zero by its
    zero start).

    References
    ----------
    .. [1] D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
       Section 7.1 and Algorithm 2.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FirstOrderOptimizer._parameter_constraints,
        "eps": NON_NEGATIVE,
        "betas": BETAS,
    }
    # torch.optim.Adamax's multi-tensor step reads a tensor lr as a Python float
    _tensor_lr_foreach = "float"

    def __init__(
        self,
        params: Params,
        lr: float | torch.Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(params, hyper_parameters(locals()))

    @staticmethod
    def _init_state(ops: Any, p: Any, group: Group) -> State:
        return {"step": 0, "exp_avg": ops.zeros_like(p), "exp_inf": ops.zeros_like(p)}

    @staticmethod
    def _update(ops: Any, p: Any, g: Any, state: State, group: Group) -> None:
        beta1, beta2 = group["betas"]
        state["step"] = t = int(state["step"]) + 1
        m, u = state["exp_avg"], state["exp_inf"]
        ops.lerp_(m, g, 1 - beta1)  # m <- beta1 m + (1 - beta1) g
        u *= beta2
        abs_g = ops.abs(g)
        abs_g += group["eps"]
        ops.maximum_(u, abs_g)  # u <- max(beta2 u, |g| + eps)
        if group.get("capturable"):  # torch.optim.Adamax's: in the step's dtype (float32)
            neg_bias1 = beta1 ** step_tensor(t, p) - 1
            neg_bias1.div_(group["lr"])
            ops.addcdiv_(p, m, u * neg_bias1, value=1)  # theta <- theta - lr m_hat / u
            return
        bias1 = 1 - beta1 ** float(t)
        ops.addcdiv_(p, m, u, value=-group["lr"] / bias1)  # theta <- theta - lr m_hat / u
