"""Neural-network building blocks with hand-written backward passes.

- :mod:`mlcanon.nn.functional`: stateless ops (activations, linear, convolution, pooling,
  normalization, dropout, softmax and losses, attention), each a ``torch.autograd.Function``.
- Modules named as in ``torch.nn`` (parameters too, so ``state_dict``s are interchangeable),
  including the recurrent ``RNN``, ``LSTM``, ``GRU`` with backpropagation through time.
- :class:`MLP`: a NumPy multilayer perceptron whose backward pass is BP1-BP4.
- :func:`from_torch`: swap a ``torch.nn`` model's layers for these modules, same ``state_dict``.
"""

from . import functional
from ._from_torch import from_torch
from ._loss_modules import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    SmoothL1Loss,
)
from ._mlp import MLP
from ._modules import (
    ELU,
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    InstanceNorm2d,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from ._multihead import AdditiveAttention, MultiheadAttention, MultiplicativeAttention
from ._recurrent import GRU, LSTM, RNN

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "AdaptiveAvgPool2d",
    "AdditiveAttention",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "GroupNorm",
    "Hardsigmoid",
    "Hardswish",
    "HuberLoss",
    "InstanceNorm2d",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "MultiheadAttention",
    "MultiplicativeAttention",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "from_torch",
    "functional",
]
