"""Fully connected layer :math:`y = x W^T + b` with its three gradients written out."""

from __future__ import annotations

from torch import Tensor
from torch.autograd import Function

from ._utils import check_like, check_param, check_tensor, in_float32, zeros_from

__all__ = ["linear"]


class _Linear(Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        y = x.matmul(weight.t())  # (*, out)
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        m = x.numel() // x.shape[-1]  # M = product of the leading dims (in_features >= 1 here)
        g2 = grad.reshape(m, grad.shape[-1])  # (M, out), also when out_features = 0
        x2 = x.reshape(m, x.shape[-1])  # (M, in)
        grad_x = grad.matmul(weight) if ctx.needs_input_grad[0] else None
        grad_w = g2.t().matmul(x2) if ctx.needs_input_grad[1] else None
        grad_b = g2.sum(0) if ctx.needs_input_grad[2] else None  # False without a bias
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Affine map :math:`y = x W^T + b` over the last dimension.

    Parameters
    ----------
    input : Tensor[*, in_features]
    weight : Tensor[out_features, in_features]
    bias : Tensor[out_features], optional

    Returns
    -------
    Tensor[*, out_features]

    Notes
    -----
    With upstream gradient :math:`G = \partial L / \partial y` (rows = samples):
    :math:`\partial L/\partial x = G W`, :math:`\partial L/\partial W = G^T x`,
    :math:`\partial L/\partial b = \mathbf 1^T G`.

    References
    ----------
    .. [1] Rumelhart, Hinton & Williams, "Learning representations by back-propagating errors",
       Nature 323, 1986.
    """
    x = check_tensor(input, "input")
    w = check_tensor(weight, "weight", ndim=2)
    if x.dim() == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"input.shape[-1]={x.shape[-1] if x.dim() else None} must equal "
            f"in_features={w.shape[1]} (weight shape {tuple(w.shape)})"
        )
    check_like(w, "weight", x, "linear")
    check_param(bias, "bias", (w.shape[0],), x, "linear")
    if w.shape[1] == 0:  # a sum over no inputs: the bias alone
        y = zeros_from((*x.shape[:-1], w.shape[0]), x, w)
        return y if bias is None else y + bias
    return in_float32(_Linear.apply, x, w, bias)  # half precision: bias added before rounding
