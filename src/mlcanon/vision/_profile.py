"""Parameters, multiply-adds and FLOPs of any traceable torch model, layer by layer.

Counting conventions (per input sample; every count is exact for the rule it states):

=====================  ==============================================  ===========================
operation              MACs (multiply-accumulates)                     extra FLOPs (beside 2*MACs)
=====================  ==============================================  ===========================
convolution            out elements x (C_in / groups) x prod(kernel)   bias: 1 add per output
transposed conv        in elements x (C_out / groups) x prod(kernel)   bias: 1 add per output
linear, matmul, bmm    out elements x inner dimension                  bias: 1 add per output
RNN / GRU / LSTM       per step, layer and direction: G H (I_l + H),   bias: 2 G H per step;
                       G = 1 / 3 / 4 gate blocks, I_l = input_size,    gates per hidden unit and
                       then D H (D = 2 if bidirectional); LSTM with    step: RNN 1, GRU 15, LSTM 18
                       proj_size P: 4 H (I_l + P) + P H, I_l = D P;
                       RNNCell / GRUCell / LSTMCell: one step
multi-head attention   E (L_q E + L_k k_dim + L_k v_dim)  (in-proj.)   in/out biases, q scaling
                       + 2 L_q L'_k E  (scores, weighted values)       L_q E, softmax 3 per score
                       + L_q E^2  (out-projection); L'_k = L_k, +1     (heads x L_q x L'_k scores)
                       with add_bias_kv, +1 with add_zero_attn
F.scaled_dot_product_  B L S (E + E_v) per output (B L E_v), L        scaling B L E, mask B L S,
attention              queries, S keys, B batch x heads                softmax 3 per score
batch norm (eval)      0 (foldable into the previous conv)             2 per element
layer/group/inst norm  0 (modules or F. functions)                     5 per element, +1 weight,
                                                                       +1 bias
activations            0                                               per element: ReLU 1, ReLU6
                                                                       2, sigmoid 4, h-sigmoid 4,
                                                                       h-swish 5 (ELEMENT_FLOPS)
max pooling (or F.)    0                                               prod(kernel) - 1 per output
average pooling (or F.) 0                                              prod(kernel) per output
adaptive avg pooling   0                                               sum of window sizes (input
                                                                       elements if sizes divide)
elementwise +, -, *, / 0                                               1 per output element
reshape, cat, slicing  0                                               0
=====================  ==============================================  ===========================

One multiply-add is **1 MAC = 2 FLOPs**; the ``flops`` column is ``2 * macs + extra``. The MAC
column is what papers call "multiply-adds" (MobileNet v1-v3) or, loosely, "FLOPs" (GhostNet),
what fvcore reports as "flops" and thop as "macs". The other counters differ as follows.

* fvcore (``FlopCountAnalysis``): conv and linear MACs without bias (= our MACs; transposed
  conv too), affine batch norm 2 per element in eval mode (= our FLOPs; 1 without affine,
  where we count 2) but 5 in training mode, layer/group/instance norm 5 per element with
  affine, 4 without (ours 7 and 5), adaptive average pooling 1 per input element (= our
  FLOPs), activations, pooling and elementwise ops skipped (reported as unsupported).
* thop 0.1.x (``thop.profile``): conv and linear MACs without bias (= ours), but a transposed
  conv as *output* elements x C_in / groups x prod(kernel) (the cost of a convolution producing
  that output, not of the transposed one); batch norm 4 per element with affine, 2 without;
  ReLU and max pooling 0; average pooling 1 per output; adaptive average pooling
  prod(kernel) + 1 per output.
* ptflops: conv MACs plus one bias add per output element, linear MACs plus the bias once per
  output feature, ReLU 1 per element, any pooling 1 per *input* element, batch norm 1 per
  element (2 with affine).

Operations with no rule here (including any module that returns something other than one
tensor, unless it has a rule above) are listed in ``Profile.uncounted`` and add nothing.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from torch import fx, nn

from ._graph import (
    call_args,
    check_input_shape,
    data_inputs,
    functional_window,
    node_label,
    op_name,
    run_shapes,
    trace,
)
from ._receptive_field import ReceptiveField, propagate

__all__ = ["LayerProfile", "Profile", "check_input_shape", "profile"]

# FLOPs per element of activations and elementwise functions (exp, log, erf, tanh count as 1);
# fmt: skip keeps the table a few dense rows instead of one entry per line.
ELEMENT_FLOPS: dict[str, int] = {
    "ReLU": 1,
    "relu": 1,
    "ReLU6": 2,
    "relu6": 2,
    "Hardtanh": 2,
    "hardtanh": 2,
    "LeakyReLU": 2,
    "leaky_relu": 2,
    "PReLU": 2,
    "Sigmoid": 4,
    "sigmoid": 4,
    "Hardsigmoid": 4,
    "hardsigmoid": 4,
    "Hardswish": 5,
    "hardswish": 5,
    "SiLU": 5,
    "silu": 5,
    "GELU": 5,
    "gelu": 5,
    "Tanh": 1,
    "tanh": 1,
    "ELU": 4,
    "elu": 4,
    "Softplus": 3,
    "softplus": 3,
    "Mish": 5,
    "mish": 5,
    "Softmax": 3,
    "softmax": 3,
    "LogSoftmax": 4,
    "log_softmax": 4,
    "exp": 1,
    "log": 1,
    "sqrt": 1,
    "abs": 1,
    "neg": 1,
    "pow": 1,
    "clamp": 2,
    "add": 1,
    "sub": 1,
    "mul": 1,
    "truediv": 1,
    "div": 1,
    "rsub": 1,
    "iadd": 1,
    "isub": 1,
    "imul": 1,
    "itruediv": 1,
    "floordiv": 1,
}
ZERO_COST = frozenset(
    "Identity Dropout Dropout1d Dropout2d Dropout3d AlphaDropout Flatten Unflatten ZeroPad1d "
    "ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d "
    "ReflectionPad2d ReplicationPad1d ReplicationPad2d PixelShuffle PixelUnshuffle ChannelShuffle "
    "dropout cat stack getitem view reshape flatten permute transpose contiguous size chunk split "
    "pad squeeze unsqueeze clone to float type_as expand dim numel getattr".split()
)


@dataclass(frozen=True)
class LayerProfile:
    """One node of the traced model (a module call, function or tensor method)."""

    name: str
    type: str
    output_shape: tuple[int, ...] | None  # without the batch axis
    params: int
    macs: int
    flops: int
    receptive_field: ReceptiveField | None
    counted: bool  # False when no counting rule covers this operation


@dataclass(frozen=True)
class Profile:
    """Result of :func:`profile`: one row per node and the totals.

    ``params`` is ``sum(p.numel() for p in model.parameters())`` (shared tensors once);
    ``macs`` and ``flops`` are sums over the rows.
    """

    input_shape: tuple[int, ...]
    layers: tuple[LayerProfile, ...]
    params: int
    macs: int
    flops: int
    uncounted: tuple[str, ...]

    def by_type(self) -> dict[str, tuple[int, int, int, int]]:
        """``type -> (count, params, MACs, FLOPs)`` summed over the rows of that type."""
        out: dict[str, tuple[int, int, int, int]] = {}
        for row in self.layers:
            c, p, m, f = out.get(row.type, (0, 0, 0, 0))
            out[row.type] = (c + 1, p + row.params, m + row.macs, f + row.flops)
        return out

    def summary(self) -> str:
        return (
            f"input {'x'.join(map(str, self.input_shape))}: params {self.params:,}  "
            f"MACs {self.macs:,}  FLOPs {self.flops:,}  (1 MAC = 2 FLOPs)"
        )

    def table(self, *, skip_zero: bool = False) -> str:
        """Plain-text table; ``skip_zero`` hides rows with no parameters and no FLOPs."""
        head = ("layer", "type", "output", "params", "MACs", "FLOPs", "RF")
        shown = [r for r in self.layers if not (skip_zero and r.params == 0 and r.flops == 0)]
        rows = [
            (
                r.name,
                r.type + ("" if r.counted else " (?)"),
                "x".join(map(str, r.output_shape)) if r.output_shape is not None else "-",
                f"{r.params:,}",
                f"{r.macs:,}",
                f"{r.flops:,}",
                str(r.receptive_field) if r.receptive_field is not None else "-",
            )
            for r in shown
        ]
        rows.append(("total", "", "", f"{self.params:,}", f"{self.macs:,}", f"{self.flops:,}", ""))
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        align = ["<", "<", ">", ">", ">", ">", ">"]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True))

        out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
        out.append(self.summary())
        # the note explains a '*' in the RF column: a field with global context that still has
        # spatial positions ('global' rows carry the flag too but print no star)
        if any("*" in str(r.receptive_field) for r in shown if r.receptive_field is not None):
            out.append("RF with * : also sees the whole input through a global-pooling branch")
        if self.uncounted:
            out.append(f"(?) no counting rule, counted as 0: {', '.join(self.uncounted)}")
        return "\n".join(out)

    __str__ = table


def _numel(shape: tuple[int, ...] | None) -> int:
    return math.prod(shape) if shape is not None else 0


def _spatial_rank(name: str) -> int | None:
    """Number of spatial axes of a pooling layer or function from its name (``MaxPool2d``,
    ``adaptive_avg_pool3d``: the digit before the final ``d``); None if there is none."""
    return int(name[-2]) if name.endswith("d") and name[-2:-1].isdigit() else None


def _window_numel(m: nn.Module) -> int:
    """Elements of a pooling window. Max pooling keeps an int ``kernel_size`` as given, so it
    is expanded to the layer's own number of spatial axes (not the input's, which is one less
    for an unbatched input)."""
    k = m.kernel_size
    return math.prod(k) if isinstance(k, tuple) else k ** _spatial_rank(type(m).__name__)


def _adaptive_window_total(in_shape: tuple[int, ...], out_shape: tuple[int, ...], n: int) -> int:
    """Sum of the window sizes of adaptive pooling over the last ``n`` axes (windows
    [floor(jI/O), ceil((j+1)I/O))), times the leading (batch and channel, or channel) sizes."""
    total = math.prod(in_shape[:-n])
    for i, o in zip(in_shape[-n:], out_shape[-n:], strict=True):
        total *= sum(-(-(j + 1) * i // o) - (j * i // o) for j in range(o))
    return total


# Elementwise FLOPs per hidden unit and step after the matrix products: LSTM 3 sigmoids (4 each),
# 2 tanh, c = f*c + i*g (3), h = o*tanh(c) (1); GRU 2 sigmoids, tanh, r*(W h + b) (1), the add
# into n (1), h = (1 - z)*n + z*h (4); plain RNN its one nonlinearity.
_GATES = {"RNN_TANH": (1, 1), "RNN_RELU": (1, 1), "GRU": (3, 15), "LSTM": (4, 18)}
_CELL_GATES = {"RNNCell": (1, 1), "GRUCell": (3, 15), "LSTMCell": (4, 18)}


def _recurrent_cost(m: nn.RNNBase, x: tuple[int, ...]) -> tuple[int, int] | None:
    if m.mode not in _GATES:
        return None
    gates, per_unit = _GATES[m.mode]
    steps, batch = (x[0], 1) if len(x) == 2 else ((x[1], x[0]) if m.batch_first else x[:2])
    h, d = m.hidden_size, 2 if m.bidirectional else 1
    # an LSTM with proj_size P > 0 outputs h_t = W_hr (o * tanh(c_t)) of size P (P H MACs more),
    # which is what the recurrence and the next layer read
    p = getattr(m, "proj_size", 0) or h
    widths = [m.input_size] + [d * p] * (m.num_layers - 1)
    macs = sum(d * (gates * h * (w + p) + (p * h if p != h else 0)) for w in widths)
    extra = m.num_layers * d * h * (2 * gates * m.bias + per_unit)
    return steps * batch * macs, steps * batch * extra


def _attention_cost(m: nn.MultiheadAttention, q, k, v) -> tuple[int, int]:
    if len(q) == 2:  # unbatched (L, E)
        (lq, _), (lk, _), batch = q, k, 1
    elif m.batch_first:
        batch, lq, lk = q[0], q[1], k[1]
    else:
        lq, batch, lk = q[0], q[1], k[0]
    e = m.embed_dim
    # add_bias_kv appends the learnt bias_k / bias_v and add_zero_attn a zero key and value
    # after the in-projection: each is one more key every query scores and weighs
    keys = lk + (m.bias_k is not None) + bool(m.add_zero_attn)
    macs = e * (lq * e + lk * m.kdim + lk * m.vdim) + 2 * lq * keys * e + lq * e * e
    bias = (lq + 2 * lk) * e * (m.in_proj_bias is not None) + lq * e * (m.out_proj.bias is not None)
    extra = bias + lq * e + 3 * m.num_heads * lq * keys
    return batch * macs, batch * extra


def _module_cost(m: nn.Module, ins: list, out: tuple[int, ...] | None) -> tuple[int, int] | None:
    """(MACs, extra FLOPs) of a module call, or None when no rule applies."""
    x, n_out = ins[0] if ins else None, _numel(out)
    if isinstance(m, nn.RNNBase) and x is not None:
        return _recurrent_cost(m, x)
    if isinstance(m, nn.RNNCellBase) and x is not None:  # one step of one layer
        gates, per_unit = _CELL_GATES[type(m).__name__]
        batch, h = (x[0] if len(x) == 2 else 1), m.hidden_size
        macs = gates * h * (m.input_size + h)
        return batch * macs, batch * h * (2 * gates * m.bias + per_unit)
    if isinstance(m, nn.MultiheadAttention) and len(ins) >= 3 and None not in ins[:3]:
        return _attention_cost(m, *ins[:3])
    if out is None:  # a tuple or another non-tensor result that no rule covers
        return None
    kind = type(m).__name__
    bias = n_out if getattr(m, "bias", None) is not None else 0
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        return _numel(x) * (m.out_channels // m.groups) * math.prod(m.kernel_size), bias
    if isinstance(m, nn.modules.conv._ConvNd):
        return n_out * (m.in_channels // m.groups) * math.prod(m.kernel_size), bias
    if isinstance(m, nn.Linear):
        return _numel(x) * m.out_features, bias
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return 0, 2 * n_out
    if isinstance(m, nn.GroupNorm | nn.LayerNorm | nn.modules.instancenorm._InstanceNorm):
        # the affine step: 1 multiply per element with a weight, 1 add with a bias
        # (LayerNorm(bias=False) has a weight only)
        affine = (getattr(m, "weight", None) is not None) + (getattr(m, "bias", None) is not None)
        return 0, (5 + affine) * n_out
    if isinstance(m, nn.modules.pooling._MaxPoolNd):
        return 0, n_out * (_window_numel(m) - 1)
    if isinstance(m, nn.modules.pooling._AvgPoolNd) and hasattr(m, "kernel_size"):
        return 0, n_out * _window_numel(m)
    if isinstance(m, nn.modules.pooling._AdaptiveAvgPoolNd):
        return 0, _adaptive_window_total(x, out, _spatial_rank(kind))
    if isinstance(m, nn.modules.pooling._AdaptiveMaxPoolNd):
        return 0, _adaptive_window_total(x, out, _spatial_rank(kind)) - n_out
    if isinstance(m, nn.Upsample) and m.mode == "nearest":
        return 0, 0
    pads = (
        nn.modules.padding._ConstantPadNd,
        nn.modules.padding._ReflectionPadNd,
        nn.modules.padding._ReplicationPadNd,
        nn.modules.padding._CircularPadNd,
    )
    if isinstance(m, pads):  # every padding layer copies (ReflectionPad3d, CircularPad2d, ...)
        return 0, 0
    if kind in ELEMENT_FLOPS:
        return 0, ELEMENT_FLOPS[kind] * n_out
    if kind in ZERO_COST:
        return 0, 0
    return None


_SDPA_ARGS = ("query", "key", "value", "attn_mask")
_NORM_ARGS = {
    "layer_norm": ("input", "normalized_shape", "weight", "bias"),
    "group_norm": ("input", "num_groups", "weight", "bias"),
    "instance_norm": ("input", "running_mean", "running_var", "weight", "bias"),
}


def _sdpa_cost(node: fx.Node, shapes: dict, out: tuple[int, ...]) -> tuple[int, int] | None:
    """``F.scaled_dot_product_attention``: L x S scores of E-dim queries and keys, then the
    weighted Ev-dim values, for every (broadcast) batch and head of the output."""
    a = call_args(node, _SDPA_ARGS)
    q, k, v = (
        shapes.get(a.get(n)) if isinstance(a.get(n), fx.Node) else None for n in _SDPA_ARGS[:3]
    )
    if q is None or k is None or v is None or len(out) < 2:
        return None
    groups, length, keys = math.prod(out[:-2]), out[-2], k[-2]
    scores = groups * length * keys
    mask = scores if isinstance(a.get("attn_mask"), fx.Node) else 0
    # scaling (one multiply per query element, as torch scales q), the mask, softmax 3 per score
    return scores * (q[-1] + v[-1]), groups * length * q[-1] + mask + 3 * scores


def _function_cost(
    node: fx.Node, name: str, ins: list, out: tuple[int, ...], shapes: dict
) -> tuple | None:
    n_out = _numel(out)
    tensors = [s for s in ins if s is not None]
    if name == "scaled_dot_product_attention":
        return _sdpa_cost(node, shapes, out)
    if name == "batch_norm":  # as the module: 2 per element in eval mode
        return 0, 2 * n_out
    if name in ("layer_norm", "group_norm", "instance_norm"):  # as the modules
        a = call_args(node, _NORM_ARGS[name])
        affine = isinstance(a.get("weight"), fx.Node) + isinstance(a.get("bias"), fx.Node)
        return 0, (5 + affine) * n_out
    if name.startswith(("max_pool", "avg_pool")):
        window = functional_window(node, name, None)
        if window is None:
            return None
        k = math.prod(window.kernel_size)
        return 0, n_out * (k - 1 if name.startswith("max") else k)
    if name in ("conv1d", "conv2d", "conv3d", "linear"):
        w = tensors[1]
        has_bias = len(tensors) > 2
        if name == "linear":
            return _numel(tensors[0]) * w[0], n_out * has_bias
        return n_out * w[1] * math.prod(w[2:]), n_out * has_bias
    if name in ("matmul", "mm", "bmm"):
        return n_out * tensors[0][-1], 0
    if name.startswith("adaptive_avg_pool") and _spatial_rank(name):
        return 0, _adaptive_window_total(tensors[0], out, _spatial_rank(name))
    if name in ("mean", "sum") and len(tensors) == 1:
        return 0, _numel(tensors[0]) - (n_out if name == "sum" else 0)
    if name in ELEMENT_FLOPS:
        return (0, ELEMENT_FLOPS[name] * n_out) if tensors else (0, 0)
    if name in ZERO_COST:
        return 0, 0
    return None


def _param_owner(gm: fx.GraphModule) -> dict[fx.Node, list]:
    """Parameters used by each node: a module's own, or those fetched by ``get_attr``."""
    owned: dict[fx.Node, list] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            owned[node] = list(gm.get_submodule(node.target).parameters())
        elif node.op in ("call_function", "call_method"):
            attrs = [a for a in data_inputs(node) if a.op == "get_attr"]
            owned[node] = []
            for a in attrs:
                obj = operator.attrgetter(a.target)(gm)
                if isinstance(obj, nn.Parameter):
                    owned[node].append(obj)
    return owned


def profile(model: nn.Module, input_shape: Sequence[int] | str) -> Profile:
    """Per-layer parameters, MACs, FLOPs and receptive fields of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        Any module ``torch.fx`` can trace that takes one tensor ``(N, *input_shape)``; it is
        run once, in eval mode and without gradients, on zeros (on the ``meta`` device if the
        model lives there), and its training flags are restored.
    input_shape : sequence of int or str
        ``(C, H, W)`` (or any ``(C, *spatial)``) without the batch axis, or ``'3x224x224'``.

    Returns
    -------
    Profile
        Counts are per sample; see the module docstring for the conventions (1 MAC = 2 FLOPs).

    Notes
    -----
    For a convolution with :math:`C_{in}` inputs, :math:`C_{out}` filters of size
    :math:`k_h \\times k_w` and groups g, producing an :math:`H_{out} \\times W_{out}` map,

    .. math::
        \\text{params} = C_{out} \\frac{C_{in}}{g} k_h k_w + C_{out}\\,[\\text{bias}], \\qquad
        \\text{MACs} = H_{out} W_{out} C_{out} \\frac{C_{in}}{g} k_h k_w .

    References
    ----------
    A. G. Howard et al., "MobileNets", arXiv:1704.04861, 2017, Section 3.1 (cost of a
    standard vs a depthwise separable convolution). P. Molchanov et al., "Pruning
    Convolutional Neural Networks for Resource Efficient Inference", ICLR 2017, Appendix A.
    """
    input_shape = check_input_shape(input_shape)
    gm = trace(model)
    shapes = run_shapes(gm, input_shape)
    fields, _, _ = propagate(gm, shapes)
    owned = _param_owner(gm)
    seen: set[int] = set()
    rows, uncounted = [], []
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr", "output"):
            continue
        out = shapes.get(node)
        ins = [shapes.get(a) for a in data_inputs(node)]
        params = sum(p.numel() for p in owned.get(node, []) if id(p) not in seen)
        seen.update(id(p) for p in owned.get(node, []))
        name = op_name(node)
        if node.op == "call_module":
            cost: tuple | None = _module_cost(gm.get_submodule(node.target), ins, out)
        elif out is None:
            cost = (0, 0) if name in ZERO_COST else None
        else:
            cost = _function_cost(node, name, ins, out, shapes)
        if cost is None and name not in uncounted:
            uncounted.append(name)
        macs, extra = cost if cost is not None else (0, 0)
        rows.append(
            LayerProfile(
                node_label(node),
                name,
                out[1:] if out is not None else None,
                int(params),
                int(macs),
                int(2 * macs + extra),
                fields.get(node),
                cost is not None,
            )
        )
    total_params = sum(p.numel() for p in model.parameters())
    return Profile(
        input_shape,
        tuple(rows),
        int(total_params),
        sum(r.macs for r in rows),
        sum(r.flops for r in rows),
        tuple(uncounted),
    )
