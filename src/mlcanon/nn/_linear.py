"""Fully connected layer :math:`y = x W^T + b` with its three gradients written out."""

from __future__ import annotations

from torch import Tensor
from torch.autograd import Function

from ._utils import (
    InputMismatchError,
    check_broadcast,
    check_like,
    check_tensor,
    in_float32,
    sum_to,
    zeros_from,
)

__all__ = ["linear"]


class _Linear(Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.bias_shape = bias.shape if bias is not None else None
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
        grad_b = None
        if ctx.needs_input_grad[2]:  # False without a bias; a broadcast one sums back
            # a 1-D bias, (out,) or (1,), from the rows' sum; any other shape from grad itself
            grad_b = sum_to(g2.sum(0) if len(ctx.bias_shape) == 1 else grad, ctx.bias_shape)
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Affine map :math:`y = x W^T + b` over the last dimension.

    Parameters
    ----------
    input : Tensor[*, in_features]
    weight : Tensor[out_features, in_features], or Tensor[in_features] (then no bias)
        A 1-D weight is one output feature whose dimension is dropped, as in torch.
    bias : Tensor[out_features] or any shape that broadcasts to the output, optional

    Returns
    -------
    Tensor[*, out_features], or Tensor[*] for a 1-D weight

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
    w = check_tensor(weight, "weight", ndim=(1, 2))
    vector = w.dim() == 1  # torch's matmul with a vector: the output dimension is dropped
    if vector and bias is not None:
        raise InputMismatchError(
            f"a 1-D weight (shape {tuple(w.shape)}) takes no bias, as in torch; pass a 2-D "
            "weight of shape (1, in_features) to add one"
        )
    w = w.unsqueeze(0) if vector else w
    if x.dim() == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"input.shape[-1]={x.shape[-1] if x.dim() else None} must equal "
            f"in_features={w.shape[1]} (weight shape {tuple(w.shape)})"
        )
    check_like(w, "weight", x, "linear")
    out_shape = (*x.shape[:-1], w.shape[0])
    if bias is not None:  # (out_features,) or broadcast to the output without enlarging it
        check_like(check_tensor(bias, "bias"), "bias", x, "linear")
        check_broadcast(bias, "bias", out_shape, "output")
    if w.shape[1] == 0:  # a sum over no inputs: the bias alone
        y = zeros_from(out_shape, x, w)
        y = y if bias is None else y + bias
    else:  # half precision: bias added before rounding
        y = in_float32(_Linear.apply, x, w, bias)
    return y.squeeze(-1) if vector else y
