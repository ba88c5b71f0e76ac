"""A torch module as a graph of layers: tracing, shapes, and the spatial geometry of each node.

The profiler, the receptive-field algorithm and the shape walk all read a model through
``torch.fx``: every node is a module call (``call_module``), a function (``call_function``) or a
tensor method (``call_method``). This module says, for each node, how it moves spatial positions:

* a **window** (convolution, pooling, padding): kernel, stride, left padding and dilation per axis;
* **pointwise**: output position i sees input position i only (activations, batch norm in eval
  mode, residual additions, channel concatenation and slicing);
* **context**: pointwise, but mixed with statistics over the whole map (instance/group/layer norm,
  softmax over space);
* **global**: spatial positions are merged (global pooling, flatten, a linear layer after it);
* **opaque**: not understood here (upsampling, transposed convolution, unknown layers).
"""

from __future__ import annotations

import numbers
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

__all__ = [
    "ShapeRecorder",
    "Window",
    "call_args",
    "classify",
    "data_inputs",
    "functional_window",
    "node_label",
    "op_name",
    "run_shapes",
    "trace",
]

POINTWISE, CONTEXT, GLOBAL, OPAQUE = "pointwise", "context", "global", "opaque"

# Names of functions/methods that act elementwise (one output position from one input position).
ELEMENTWISE_OPS = frozenset(
    "add sub mul truediv div floordiv neg pow rsub radd rmul iadd imul isub itruediv "
    "relu relu6 hardtanh hardswish hardsigmoid sigmoid silu gelu tanh elu leaky_relu mish "
    "softplus exp log sqrt clamp abs dropout contiguous clone float to type_as "
    "batch_norm cat stack".split()
)
SHAPE_ONLY_OPS = frozenset("size dim numel shape getattr".split())
REDUCE_OPS = frozenset("mean sum amax amin max min".split())
RESHAPE_OPS = frozenset("flatten view reshape squeeze unsqueeze permute transpose".split())


@dataclass(frozen=True)
class Window:
    """Geometry of a sliding-window layer along each spatial axis (padding = left padding)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]


def trace(model: nn.Module) -> fx.GraphModule:
    """Symbolically trace ``model`` with ``torch.fx`` (standard ``torch.nn`` layers stay leaves)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(model, fx.GraphModule):
        return model
    if fx.Tracer().is_leaf_module(model, ""):
        # a bare torch layer is traced into its functional call (an LSTM or a batch norm not
        # at all): wrapped, it stays one module node that the layer rules recognise
        model = nn.Sequential(model)
    try:
        return fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds of errors on data-dependent control flow
        raise ValueError(
            f"model {type(model).__name__} cannot be traced by torch.fx "
            f"({type(exc).__name__}: {exc}); the profiler needs a model without "
            "data-dependent Python control flow"
        ) from exc


def op_name(node: fx.Node) -> str:
    """Short name of what a node does: module class, function name or method name."""
    if node.op == "call_module":
        return type(node.graph.owning_module.get_submodule(node.target)).__name__
    if node.op == "call_method":
        return str(node.target).strip("_")  # x.add_(y) counts as add
    if node.op == "call_function":
        return getattr(node.target, "__name__", str(node.target)).strip("_")
    return node.op


def node_label(node: fx.Node) -> str:
    """Qualified module name for module calls (``features.3.conv.0``), the node name otherwise."""
    return str(node.target) if node.op == "call_module" else node.name


def data_inputs(node: fx.Node) -> Iterator[fx.Node]:
    """Every node among the arguments of ``node`` (lists and tuples flattened)."""
    stack: list[Any] = [*node.args, *node.kwargs.values()]
    while stack:
        a = stack.pop(0)
        if isinstance(a, fx.Node):
            yield a
        elif isinstance(a, list | tuple):
            stack[:0] = list(a)


# Argument names of the functional sliding-window ops, in torch's positional order.
_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_MAX_POOL_ARGS = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode")
_AVG_POOL_ARGS = ("input", "kernel_size", "stride", "padding", "ceil_mode")


def call_args(node: fx.Node, names: Sequence[str]) -> dict[str, Any]:
    """The arguments of a call node by name (positional ones named by ``names``)."""
    given = dict(zip(names, node.args, strict=False))
    given.update(node.kwargs)
    return given


def functional_window(node: fx.Node, name: str, weight: tuple[int, ...] | None) -> Window | None:
    """Window of ``F.conv{n}d`` (``weight``: its weight's shape), ``F.max_pool{n}d`` or
    ``F.avg_pool{n}d``; None for other names. ``padding='same'`` pads ``d (k - 1) // 2`` on
    the left, as torch does."""
    digit = name[-2:-1]
    if not (name.endswith("d") and digit.isdigit()):
        return None
    n = int(digit)
    if name == f"conv{n}d" and weight is not None:
        a = call_args(node, _CONV_ARGS)
        k, d = tuple(weight[2:]), _tup(a.get("dilation", 1), n)
        pad = a.get("padding", 0)
        if pad == "same":
            pad = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True))
        elif pad == "valid":
            pad = 0
        return Window(k, _tup(a.get("stride", 1), n), _tup(pad, n), d)
    if name in (f"max_pool{n}d", f"avg_pool{n}d"):
        a = call_args(node, _MAX_POOL_ARGS if name.startswith("max") else _AVG_POOL_ARGS)
        dilation = a.get("dilation", 1) if name.startswith("max") else 1
        return _pool_window(a["kernel_size"], a.get("stride"), a.get("padding", 0), dilation, n)
    return None


class ShapeRecorder(fx.Interpreter):
    """Runs a graph and keeps each node's output shape (``None`` for non-tensors)."""

    def __init__(self, gm: fx.GraphModule):
        super().__init__(gm)
        self.shapes: dict[fx.Node, tuple[int, ...] | None] = {}

    def run_node(self, n: fx.Node) -> Any:
        out = super().run_node(n)
        self.shapes[n] = tuple(out.shape) if isinstance(out, torch.Tensor) else None
        return out

    def call_module(self, target: Any, args: tuple, kwargs: dict) -> Any:
        m, x = self.fetch_attr(target), args[0] if args else None
        # torch's meta kernel of a transposed convolution does not check the channels
        if (
            isinstance(m, nn.modules.conv._ConvNd)
            and isinstance(x, torch.Tensor)
            and x.dim() == len(m.kernel_size) + 2
            and x.shape[1] != m.in_channels
        ):
            raise ValueError(
                f"layer {target!r} ({type(m).__name__}) expects in_channels={m.in_channels}, "
                f"got an input of shape {tuple(x.shape)}"
            )
        return super().call_module(target, args, kwargs)


class _Runner(nn.Module):
    """Lets ``torch.func.functional_call`` swap the graph's tensors for the interpreter's run."""

    def __init__(self, gm: fx.GraphModule, recorder: ShapeRecorder):
        super().__init__()
        self.gm = gm
        self._recorder = recorder

    def forward(self, x: torch.Tensor) -> Any:
        return self._recorder.run(x)


def run_shapes(
    gm: fx.GraphModule,
    input_shape: tuple[int, ...],
    recorder_cls: type[ShapeRecorder] = ShapeRecorder,
) -> dict[fx.Node, tuple[int, ...] | None]:
    """Run ``gm`` once on an input of shape ``(1, *input_shape)``; return each node's shape.

    The run is on the ``meta`` device: parameters and buffers are swapped for data-less
    stand-ins (``torch.func.functional_call``), so only shapes are computed, in time that does
    not depend on the input size. Models that create tensors of their own inside ``forward``
    fall back to a real run on zeros. The model runs in eval mode (batch norm on a batch of one
    needs running statistics); its training flags are restored.
    """
    param = next(gm.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    tensors = {**dict(gm.named_parameters()), **dict(gm.named_buffers())}
    modes = {m: m.training for m in gm.modules()}
    gm.eval()
    try:
        with torch.no_grad():
            try:
                recorder = recorder_cls(gm)
                meta = {f"gm.{k}": torch.empty_like(v, device="meta") for k, v in tensors.items()}
                x = torch.zeros((1, *input_shape), device="meta", dtype=dtype)
                torch.func.functional_call(_Runner(gm, recorder), meta, (x,))
            except (RuntimeError, NotImplementedError, TypeError) as exc:
                if "meta" not in str(exc) and "device" not in str(exc):
                    raise  # a genuine shape error: a real run would fail the same way
                recorder = recorder_cls(gm)
                device = param.device if param is not None else torch.device("cpu")
                recorder.run(torch.zeros((1, *input_shape), device=device, dtype=dtype))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(
            f"model failed on an input of shape {(1, *input_shape)}: "
            f"{type(exc).__name__}: {first_line}"
        ) from exc
    finally:
        for m, mode in modes.items():
            m.training = mode
    return recorder.shapes


def _tup(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    return tuple(int(v) for v in value)


def _conv_window(module: nn.modules.conv._ConvNd, n: int) -> Window:
    k, d = _tup(module.kernel_size, n), _tup(module.dilation, n)
    if module.padding == "same":
        p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True))
    elif module.padding == "valid":
        p = (0,) * n
    else:
        p = _tup(module.padding, n)
    return Window(k, _tup(module.stride, n), p, d)


def _pool_window(k: Any, s: Any, p: Any, d: Any, n: int) -> Window:
    k = _tup(k, n)
    return Window(k, k if s is None or s == [] else _tup(s, n), _tup(p, n), _tup(d, n))


def _adaptive(in_shape: tuple[int, ...] | None, out_shape: tuple[int, ...] | None) -> str | Window:
    """Adaptive pooling is a window when the output size divides the input size."""
    if in_shape is None or out_shape is None:
        return OPAQUE
    i, o = in_shape[2:], out_shape[2:]
    if i == o:
        return POINTWISE
    if all(v == 1 for v in o):
        return GLOBAL
    if all(a % b == 0 for a, b in zip(i, o, strict=True)):
        k = tuple(a // b for a, b in zip(i, o, strict=True))
        return Window(k, k, (0,) * len(k), (1,) * len(k))
    return OPAQUE


def _pad_window(pad: Any, n: int) -> Window:
    """``nn.ZeroPad2d((left, right, top, bottom))`` lists the last axis first."""
    pad = _tup(pad, 2 * n)
    left = tuple(pad[2 * (n - 1 - a)] for a in range(n))
    return Window((1,) * n, (1,) * n, left, (1,) * n)


def _classify_module(
    m: nn.Module, shapes: list[tuple[int, ...] | None], out: tuple[int, ...] | None
) -> str | Window:
    n = max(len(shapes[0]) - 2, 1) if shapes and shapes[0] is not None else 1
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        return OPAQUE
    if isinstance(m, nn.modules.conv._ConvNd):
        return _conv_window(m, n)
    if isinstance(m, nn.modules.pooling._MaxPoolNd):
        return _pool_window(m.kernel_size, m.stride, m.padding, m.dilation, n)
    if isinstance(m, nn.modules.pooling._AvgPoolNd) and hasattr(m, "kernel_size"):
        return _pool_window(m.kernel_size, m.stride, m.padding, 1, n)
    if isinstance(m, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd):
        return _adaptive(shapes[0] if shapes else None, out)
    pads = (
        nn.modules.padding._ConstantPadNd,
        nn.modules.padding._ReflectionPadNd,
        nn.modules.padding._ReplicationPadNd,
    )
    if isinstance(m, pads):
        return _pad_window(m.padding, n)
    if isinstance(m, nn.modules.batchnorm._BatchNorm | nn.Identity | nn.modules.dropout._DropoutNd):
        return POINTWISE
    if isinstance(m, nn.GroupNorm | nn.modules.instancenorm._InstanceNorm | nn.LayerNorm):
        return CONTEXT
    if isinstance(m, nn.Flatten):
        return GLOBAL
    if isinstance(m, nn.Linear):
        return GLOBAL if shapes and shapes[0] is not None and len(shapes[0]) <= 2 else OPAQUE
    if isinstance(m, nn.Softmax | nn.LogSoftmax):
        return POINTWISE if m.dim == 1 else CONTEXT
    if isinstance(m, nn.MultiheadAttention):
        return OPAQUE
    if type(m).__module__ == "torch.nn.modules.activation":
        return POINTWISE
    return OPAQUE


def _classify_function(
    node: fx.Node, name: str, shapes: list[tuple[int, ...] | None], out: tuple[int, ...] | None
) -> str | Window:
    x = shapes[0] if shapes else None
    n = len(x) - 2 if x is not None else 0
    if name in ELEMENTWISE_OPS:
        if name in ("cat", "stack"):
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            if out is not None and dim % len(out) >= 2:
                return OPAQUE  # concatenating along a spatial axis moves positions
        return POINTWISE
    if name == "getitem":
        index = node.args[1]
        index = index if isinstance(index, tuple) else (index,)
        spatial = index[2:] if len(index) > 2 else ()
        full = all(isinstance(i, slice) and i == slice(None) for i in spatial)
        return POINTWISE if full and Ellipsis not in index else OPAQUE
    if name in ("conv1d", "conv2d", "conv3d") and len(shapes) > 1 and shapes[1] is not None:
        return functional_window(node, name, shapes[1])
    if name in ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"):
        return functional_window(node, name, None)
    if name == "pad" and x is not None and out is not None and n > 0:
        a = call_args(node, ("input", "pad", "mode", "value"))
        pad = tuple(a.get("pad", ()))
        if a.get("mode", "constant") == "circular" or len(pad) % 2 or len(pad) > 2 * n:
            return OPAQUE  # wraps around, or pads the channel / batch axes
        if not all(isinstance(v, int) for v in pad):
            return OPAQUE
        # F.pad lists (left, right) pairs from the last axis backwards; unlisted axes get 0
        return _pad_window(pad + (0,) * (2 * n - len(pad)), n)
    if name.startswith("adaptive_") and "pool" in name:
        return _adaptive(x, out)
    if name in REDUCE_OPS or name in RESHAPE_OPS:
        if x is None or out is None:
            return OPAQUE
        if name in REDUCE_OPS and x:
            # the reduced axes decide, not the sizes: x.mean(-1) of a C = H = W map keeps the
            # shape of a channel reduction but merges the positions along W
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            dims = dim if isinstance(dim, list | tuple) else (dim,)
            if dim is None:
                return GLOBAL  # a full reduction
            if all(isinstance(v, int) for v in dims):
                return POINTWISE if all(v % len(x) < 2 for v in dims) else GLOBAL
            # torch.max(x, other) and the like are elementwise: the shape rule below
        keeps_space = n > 0 and len(out) >= n and out[-n:] == x[-n:] and out[0] == x[0]
        return POINTWISE if keeps_space else GLOBAL
    if name in ("layer_norm", "group_norm", "instance_norm"):
        return CONTEXT  # as the modules: pointwise, with statistics over the map
    if name in ("softmax", "log_softmax"):
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        return POINTWISE if dim == 1 else CONTEXT
    return OPAQUE


def classify(node: fx.Node, shapes: dict[fx.Node, tuple[int, ...] | None]) -> str | Window | None:
    """Spatial geometry of ``node``; ``None`` for nodes that do not carry a feature map."""
    out = shapes.get(node)
    if node.op in ("placeholder", "get_attr", "output") or out is None:
        return None
    ins = [shapes.get(a) for a in data_inputs(node)]
    if node.op == "call_module":
        return _classify_module(node.graph.owning_module.get_submodule(node.target), ins, out)
    name = op_name(node)
    if name in SHAPE_ONLY_OPS:
        return None
    if node.target is operator.getitem and ins and ins[0] is None:
        return None  # indexing a tuple of python values
    return _classify_function(node, name, ins, out)


def check_input_shape(input_shape: Any) -> tuple[int, ...]:
    """``(C, *spatial)`` from a sequence of positive ints or a string like ``'3x224x224'``."""
    if isinstance(input_shape, str):
        parts = re.split(r"[x,\s]+", input_shape.strip().lower())
        if not all(p.isdigit() for p in parts):
            raise ValueError(f"input_shape must look like '3x224x224', got {input_shape!r}")
        input_shape = [int(p) for p in parts]
    elif hasattr(input_shape, "tolist"):  # a NumPy array or a tensor of sizes
        input_shape = input_shape.tolist()
    if not isinstance(input_shape, Sequence) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in input_shape
    ):
        raise ValueError(f"input_shape must be positive ints (C, H, W, ...), got {input_shape!r}")
    if len(input_shape) < 1:
        raise ValueError("input_shape must have at least one axis (channels), got ()")
    return tuple(int(v) for v in input_shape)
