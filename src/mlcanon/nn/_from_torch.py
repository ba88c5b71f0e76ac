"""Swap a torch model's layers for the hand-written-backward modules of :mod:`mlcanon.nn`.

:func:`from_torch` walks the module tree and replaces every layer whose type has a counterpart
here (convolutions, linear, normalization, activations, pooling, dropout, recurrent layers) by
that counterpart, built with the same options and holding the very same parameter and buffer
tensors. The ``state_dict`` is therefore unchanged (same keys, shapes, dtypes, devices and
values), and the converted model computes the same function with the project's own forward and
backward passes. Everything else (containers, user modules, functional calls inside a
``forward``) stays as it is. A converted layer also takes over the torch layer's hook tables, so
forward, pre-forward, backward and state-dict hooks registered on the torch model keep firing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from . import _modules as M
from . import _recurrent as R

__all__ = ["from_torch"]


def _conv(m: nn.Module) -> dict[str, Any]:
    options = {
        "stride": m.stride,
        "padding": m.padding,
        "dilation": m.dilation,
        "padding_mode": m.padding_mode,
    }
    if m.transposed:
        options["output_padding"] = m.output_padding
    return {
        "in_channels": m.in_channels,
        "out_channels": m.out_channels,
        "kernel_size": m.kernel_size,
        "groups": m.groups,
        "bias": m.bias is not None,
        **options,
    }


def _options(*names: str, bias: bool = False) -> Callable[[nn.Module], dict[str, Any]]:
    """The constructor options of a layer: the attributes of the same names (and, with
    ``bias``, whether the layer has a bias tensor)."""

    def read(m: nn.Module) -> dict[str, Any]:
        options = {k: getattr(m, k) for k in names}
        return {**options, "bias": m.bias is not None} if bias else options

    return read


_BATCH_NORM = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_RECURRENT = (
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "dropout",
    "bidirectional",
)
_MAX_POOL = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVG_POOL = (
    "kernel_size",
    "stride",
    "padding",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
)


def _recurrent(m: nn.RNNBase) -> dict[str, Any]:
    options = _options(*_RECURRENT)(m)
    if isinstance(m, nn.RNN):
        options["nonlinearity"] = m.nonlinearity
    if isinstance(m, nn.LSTM):
        options["proj_size"] = m.proj_size
    return options


# torch layer type -> (our module type, the constructor options read off the torch layer)
_CONVERSIONS: dict[type[nn.Module], tuple[type[nn.Module], Callable[[Any], dict[str, Any]]]] = {
    nn.Conv1d: (M.Conv1d, _conv),
    nn.Conv2d: (M.Conv2d, _conv),
    nn.ConvTranspose1d: (M.ConvTranspose1d, _conv),
    nn.ConvTranspose2d: (M.ConvTranspose2d, _conv),
    nn.Linear: (M.Linear, _options("in_features", "out_features", bias=True)),
    nn.BatchNorm1d: (M.BatchNorm1d, _options(*_BATCH_NORM, bias=True)),
    nn.BatchNorm2d: (M.BatchNorm2d, _options(*_BATCH_NORM, bias=True)),
    nn.InstanceNorm2d: (M.InstanceNorm2d, _options(*_BATCH_NORM, bias=True)),
    nn.GroupNorm: (M.GroupNorm, _options("num_groups", "num_channels", "eps", "affine", bias=True)),
    nn.LayerNorm: (
        M.LayerNorm,
        _options("normalized_shape", "eps", "elementwise_affine", bias=True),
    ),
    nn.MaxPool1d: (M.MaxPool1d, _options(*_MAX_POOL)),
    nn.MaxPool2d: (M.MaxPool2d, _options(*_MAX_POOL)),
    nn.AvgPool1d: (M.AvgPool1d, _options(*_AVG_POOL[:-1])),  # no divisor_override in 1-D
    nn.AvgPool2d: (M.AvgPool2d, _options(*_AVG_POOL)),
    nn.AdaptiveAvgPool1d: (M.AdaptiveAvgPool1d, _options("output_size")),
    nn.AdaptiveAvgPool2d: (M.AdaptiveAvgPool2d, _options("output_size")),
    nn.Dropout: (M.Dropout, _options("p", "inplace")),
    nn.ReLU: (M.ReLU, _options("inplace")),
    nn.ReLU6: (M.ReLU6, _options("inplace")),
    nn.Sigmoid: (M.Sigmoid, _options()),
    nn.Tanh: (M.Tanh, _options()),
    nn.Hardsigmoid: (M.Hardsigmoid, _options("inplace")),
    nn.Hardswish: (M.Hardswish, _options("inplace")),
    nn.SiLU: (M.SiLU, _options("inplace")),
    nn.Softplus: (M.Softplus, _options("beta", "threshold")),
    nn.LeakyReLU: (M.LeakyReLU, _options("negative_slope", "inplace")),
    nn.ELU: (M.ELU, _options("alpha", "inplace")),
    nn.GELU: (M.GELU, _options("approximate")),
    nn.PReLU: (M.PReLU, _options("num_parameters", "init")),
    nn.Softmax: (M.Softmax, _options("dim")),
    nn.LogSoftmax: (M.LogSoftmax, _options("dim")),
    nn.RNN: (R.RNN, _recurrent),
    nn.LSTM: (R.LSTM, _recurrent),
    nn.GRU: (R.GRU, _recurrent),
}


# the attributes in which torch.nn.Module keeps its hooks (_forward_hooks,
# _forward_hooks_with_kwargs, _forward_pre_hooks, _backward_hooks, _state_dict_hooks, ...)
_HOOK_TABLES = tuple(name for name in vars(nn.Module()) if "hook" in name)


def _convert_layer(layer: nn.Module) -> nn.Module:
    """Our counterpart of one torch layer, holding the torch layer's own tensors."""
    cls, options = _CONVERSIONS[type(layer)]
    with torch.device("meta"):  # its own tensors are replaced: neither memory nor random draws
        ours = cls(**options(layer))
    # a tensor that torch.nn.utils.prune (or the old weight_norm / spectral_norm) turned into a
    # plain attribute, recomputed by a forward pre-hook from ``name_orig`` (and ``name_mask``):
    # the same attribute here, so that hook (taken over below) keeps feeding the forward
    moved = []
    for name in list(ours._parameters):
        if name not in layer._parameters and isinstance(vars(layer).get(name), torch.Tensor):
            del ours._parameters[name]
            vars(ours)[name] = vars(layer)[name]
            moved.append(name)
    # every tensor ours needs must be there; the layer's other tensors (a reparametrization's
    # weight_orig, weight_mask, weight_g, ..., or a buffer the user registered) come along
    lacking = sorted(set(ours.state_dict()) - set(layer.state_dict()))
    if lacking:
        raise ValueError(
            f"from_torch: {layer} has tensors {sorted(layer.state_dict())} but its counterpart "
            f"{cls.__name__} needs {sorted(ours.state_dict())} (lacking {lacking})"
        )
    for table, theirs in ((ours._parameters, layer._parameters), (ours._buffers, layer._buffers)):
        table.update({k: t for k, t in theirs.items() if t is not None})  # the same tensors
    ours._non_persistent_buffers_set |= layer._non_persistent_buffers_set
    # the layer's other public attributes (torch's own, such as inplace or output_padding, and
    # any the user set, such as a tag read elsewhere in the model) stay readable
    for name, value in vars(layer).items():
        if not name.startswith("_") and name not in vars(ours) and not hasattr(type(ours), name):
            vars(ours)[name] = value
    # the same hook tables too (forward and pre-hooks with their with_kwargs/always_call flags,
    # backward and state-dict hooks): every registered hook fires on the converted layer, and
    # a handle from register_forward_hook still removes its hook
    for name in _HOOK_TABLES:
        setattr(ours, name, getattr(layer, name))
    return ours.train(layer.training)


def from_torch(module: nn.Module, *, inplace: bool = False) -> nn.Module:
    """Replace the ``torch.nn`` layers of ``module`` by the hand-written-backward modules.

    Converted: ``Conv1d/2d`` (any ``padding_mode``), ``ConvTranspose1d/2d``, ``Linear``,
    ``BatchNorm1d/2d``, ``InstanceNorm2d``, ``GroupNorm``, ``LayerNorm``, ``MaxPool1d/2d``,
    ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``, ``Dropout``, the activations (``ReLU``, ``ReLU6``,
    ``Sigmoid``, ``Tanh``, ``Hardsigmoid``, ``Hardswish``, ``SiLU``, ``Softplus``,
    ``LeakyReLU``, ``ELU``, ``GELU``, ``PReLU``, ``Softmax``, ``LogSoftmax``) and ``RNN``,
    ``LSTM``, ``GRU``. A layer is matched by
    its exact type, so a user subclass with its own ``forward`` is left alone; so is every other
    module (containers, custom blocks) and every functional call inside a ``forward``. A layer
    pruned with ``torch.nn.utils.prune`` converts with its ``weight_orig`` / ``weight_mask`` and
    its pruning hook (``prune.remove`` still works); such a model holds non-leaf tensors that
    ``copy.deepcopy`` refuses, so convert it with ``inplace=True``.

    Parameters
    ----------
    module : torch.nn.Module
        A model or a single layer.
    inplace : bool, default=False
        Convert ``module`` itself; otherwise a deep copy is converted and ``module`` is unchanged.

    Returns
    -------
    torch.nn.Module
        The converted model. Its ``state_dict`` equals the input's (the converted layers hold the
        input layers' tensors; with ``inplace=True`` the very same ``Parameter`` objects, so an
        optimizer built on the input keeps training the result). Train/eval mode is kept, and so
        are the layers' hooks (with ``inplace=True`` their handles still remove them).

    Raises
    ------
    ValueError
        When ``module`` cannot be deep-copied (``inplace=False``).

    Examples
    --------
    >>> from torch import nn
    >>> net = from_torch(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()))
    >>> [type(m).__module__ for m in net]  # doctest: +NORMALIZE_WHITESPACE
    ['mlcanon.nn._modules', 'mlcanon.nn._modules', 'mlcanon.nn._modules']
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if inplace:
        root = module
    else:
        try:
            root = copy.deepcopy(module)
        except RuntimeError as error:  # torch's own refusal, e.g. a pruned layer's weight
            raise ValueError(
                "from_torch: copy.deepcopy(module) failed, as it does for a model holding "
                "non-leaf tensors (a layer pruned with torch.nn.utils.prune, or wrapped by "
                "torch.nn.utils.weight_norm); pass inplace=True to convert the model itself, "
                f"or make those tensors leaves first (prune.remove). torch said: {error}"
            ) from error
    if type(root) in _CONVERSIONS:
        return _convert_layer(root)
    converted: dict[int, nn.Module] = {}  # a layer used in two places stays one layer
    for parent in list(root.modules()):
        for name, child in list(parent._modules.items()):  # named_children skips repeats
            if type(child) in _CONVERSIONS:
                if id(child) not in converted:
                    converted[id(child)] = _convert_layer(child)
                setattr(parent, name, converted[id(child)])
    return root
