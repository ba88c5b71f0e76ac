"""Stateless ops with hand-written backward passes, named and called as in
``torch.nn.functional``.

Each op validates its arguments and calls a ``torch.autograd.Function`` whose ``backward`` is
written out (no autograd inside it); the implementations live in the private modules listed
below, grouped by family.

Second derivatives (``torch.autograd.grad(..., create_graph=True)``, e.g. a gradient penalty or
a Hessian-vector product) work through every op here: under ``create_graph`` a backward
rebuilds what it needs from the saved inputs with differentiable torch ops, while the plain
first-order backward keeps its in-place, preallocated fast path. Only the recurrent layers'
LSTM and GRU backwards are first-order only: differentiating them again raises.
"""

from ._activations import (
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    leaky_relu,
    prelu,
    relu,
    relu6,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from ._attention import additive_attention, multiplicative_attention, scaled_dot_product_attention
from ._conv import conv2d, conv_transpose2d
from ._dropout import dropout
from ._linear import linear
from ._loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
)
from ._norm import batch_norm, group_norm, instance_norm, layer_norm
from ._ops1d import adaptive_avg_pool1d, avg_pool1d, conv1d, conv_transpose1d, max_pool1d
from ._pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ._softmax import cross_entropy, log_softmax, nll_loss, softmax

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "additive_attention",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "elu",
    "gelu",
    "group_norm",
    "hardsigmoid",
    "hardswish",
    "huber_loss",
    "instance_norm",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "multiplicative_attention",
    "nll_loss",
    "prelu",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "sigmoid",
    "sigmoid_focal_loss",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
