"""Receptive fields: the closed form for single-path networks and the graph algorithm.

Notation of Araujo, Norris & Sim (Distill, 2019): layer l has kernel :math:`k_l` (dilated:
:math:`d_l(k_l - 1) + 1`), stride :math:`s_l` and left padding :math:`p_l`. An output unit
:math:`u` of layer L sees the input interval :math:`[u S - P,\\; u S - P + r - 1]` where r is the
receptive-field size, S the effective stride and P the effective padding.
"""

from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import fx, nn

from ._graph import (
    CONTEXT,
    GLOBAL,
    OPAQUE,
    Window,
    check_input_shape,
    classify,
    data_inputs,
    node_label,
    trace,
)
from ._graph import run_shapes as _run_shapes

__all__ = [
    "Misalignment",
    "ReceptiveField",
    "ReceptiveFieldResult",
    "receptive_field",
    "receptive_field_single_path",
]


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one feature map, one entry per spatial axis.

    Attributes
    ----------
    size : tuple of int
        r: number of input positions an output unit sees along each axis (its extent).
    stride : tuple of int
        S: input distance between two neighbouring output units.
    padding : tuple of int
        P: how far the field of output unit 0 reaches left of the input (into the padding).
    global_context : bool
        True when some path into this map pooled the whole input (squeeze-excitation, instance
        or group norm): every input position then influences it, beyond ``size``.
    is_global : bool
        True after global pooling or flattening: the map has no spatial positions left.
    """

    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    global_context: bool = False
    is_global: bool = False

    def region(self, index: Sequence[int]) -> tuple[tuple[int, int], ...]:
        """Inclusive input interval ``(start, end)`` per axis seen by output unit ``index``.

        Positions outside ``[0, W)`` are padding: zeros for zero padding, but copies of input
        positions for ``padding_mode='reflect'`` / ``'replicate'`` (inside the interval's
        clipped part) and ``'circular'`` (the opposite border, outside it: a border unit of a
        circular convolution also sees input positions that this interval does not list)."""
        if self.is_global:
            raise ValueError("a global receptive field has no region; it covers the whole input")
        if len(index) != len(self.size):
            raise ValueError(f"index must have {len(self.size)} entries, got {tuple(index)}")
        return tuple(
            (u * s - p, u * s - p + r - 1)
            for u, r, s, p in zip(index, self.size, self.stride, self.padding, strict=True)
        )

    def _center2(self) -> tuple[int, ...]:
        # twice the centre of unit 0's field: an integer even for even sizes
        return tuple(r - 1 - 2 * p for r, p in zip(self.size, self.padding, strict=True))

    def __str__(self) -> str:
        if self.is_global:
            return "global"
        text = str(self.size[0]) if len(set(self.size)) == 1 else "x".join(map(str, self.size))
        return text + ("*" if self.global_context else "")


_GLOBAL = ReceptiveField((), (), (), global_context=True, is_global=True)


@dataclass(frozen=True)
class Misalignment:
    """A merge whose input paths see fields with different centres (or strides)."""

    node: str
    centers: tuple[tuple[float, ...], ...]  # centre of unit 0's field, per input path, per axis
    strides: tuple[tuple[int, ...], ...]


@dataclass
class ReceptiveFieldResult:
    """Receptive field of every node of a traced model.

    Attributes
    ----------
    layers : dict of str to ReceptiveField or None
        Per node (module name or node name); ``None`` where no feature map is carried or the
        node is not understood (those are listed in ``unsupported``).
    final : ReceptiveField or None
        The field of the last node that still has spatial positions (the "final feature map"
        of the Distill article's table, i.e. before global pooling or the classifier), among
        the nodes whose field is known; None when no layer's field is known (a model that
        starts with an unsupported layer).
    misaligned : list of Misalignment
        Merges (additions, concatenations) of paths whose fields are not centred alike.
    unsupported : list of str
        Nodes whose geometry is unknown (transposed conv, upsampling, unknown layers).
    """

    layers: dict[str, ReceptiveField | None] = field(default_factory=dict)
    final: ReceptiveField | None = None
    misaligned: list[Misalignment] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def receptive_field_single_path(
    kernel_sizes: Sequence[int],
    strides: Sequence[int],
    paddings: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
) -> ReceptiveField:
    r"""Receptive field of a chain of layers along one axis, in closed form.

    Parameters
    ----------
    kernel_sizes, strides : sequence of int
        :math:`k_l` and :math:`s_l` of layers 1..L, input side first.
    paddings : sequence of int, optional
        Left paddings :math:`p_l` (default 0).
    dilations : sequence of int, optional
        Dilations :math:`d_l` (default 1); the kernel becomes :math:`d_l(k_l - 1) + 1`.

    Returns
    -------
    ReceptiveField
        One-axis field (size r, effective stride S, effective padding P).

    Notes
    -----
    .. math::
        r = \sum_{l=1}^{L} (k_l - 1) \prod_{i=1}^{l-1} s_i + 1, \qquad
        S = \prod_{l=1}^{L} s_l, \qquad
        P = \sum_{l=1}^{L} p_l \prod_{i=1}^{l-1} s_i .

    References
    ----------
    A. Araujo, W. Norris and J. Sim, "Computing Receptive Fields of Convolutional Neural
    Networks", Distill, 2019, equations (2), (3) and (5).
    """
    kernel_sizes = _int_list(kernel_sizes, "kernel_sizes", 1)
    L = len(kernel_sizes)
    strides = _int_list(strides, "strides", 1, L)
    paddings = [0] * L if paddings is None else _int_list(paddings, "paddings", 0, L)
    dilations = [1] * L if dilations is None else _int_list(dilations, "dilations", 1, L)
    k_eff = [d * (k - 1) + 1 for k, d in zip(kernel_sizes, dilations, strict=True)]
    # prod_{i<l} s_i for l = 1..L (an empty product is 1)
    before = list(itertools.accumulate([1, *strides[:-1]], operator.mul)) if L else []
    r = sum((k - 1) * sb for k, sb in zip(k_eff, before, strict=True)) + 1
    p = sum(pl * sb for pl, sb in zip(paddings, before, strict=True))
    s = before[-1] * strides[-1] if L else 1
    return ReceptiveField((r,), (s,), (p,))


def _int_list(values: Any, name: str, low: int, length: int | None = None) -> list[int]:
    """``values`` (a sequence or a 1-D array of integers >= ``low``, ``length`` of them if
    given) as a list of ints."""
    if not isinstance(values, Sequence | np.ndarray) or isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of ints, got {type(values).__name__}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} has {len(values)} entries, expected {length} (one per layer)")
    if any(not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low for v in values):
        raise ValueError(f"{name} must be ints >= {low}, got {list(values)}")
    return [int(v) for v in values]


def _through_window(rf: ReceptiveField, w: Window) -> ReceptiveField:
    """One layer of the recursion r_l = r_{l-1} + (k_l - 1) S_{l-1} (Distill, eq. 1 unrolled)."""
    size, stride, padding = [], [], []
    for r, S, P, k, s, p, d in zip(
        rf.size, rf.stride, rf.padding, w.kernel_size, w.stride, w.padding, w.dilation, strict=True
    ):
        size.append(r + d * (k - 1) * S)
        stride.append(S * s)
        padding.append(P + p * S)
    return ReceptiveField(tuple(size), tuple(stride), tuple(padding), rf.global_context)


def _merge(
    label: str, parents: list[ReceptiveField], context: bool, misaligned: list[Misalignment]
) -> ReceptiveField | None:
    """Union of the fields of several paths (Distill, 'multi-path networks')."""
    local = [rf for rf in parents if not rf.is_global]
    if not local:
        return _GLOBAL
    flag = context or any(rf.global_context for rf in parents)
    if len({rf.stride for rf in local}) > 1:
        centers = tuple(tuple(c / 2 for c in rf._center2()) for rf in local)
        misaligned.append(Misalignment(label, centers, tuple(rf.stride for rf in local)))
        return None
    if len({rf._center2() for rf in local}) > 1:
        centers = tuple(tuple(c / 2 for c in rf._center2()) for rf in local)
        misaligned.append(Misalignment(label, centers, tuple(rf.stride for rf in local)))
    n = len(local[0].size)
    padding = tuple(max(rf.padding[a] for rf in local) for a in range(n))
    end = tuple(max(rf.size[a] - 1 - rf.padding[a] for rf in local) for a in range(n))
    size = tuple(e + p + 1 for e, p in zip(end, padding, strict=True))
    return ReceptiveField(size, local[0].stride, padding, flag)


def propagate(
    gm: fx.GraphModule, shapes: dict[fx.Node, tuple[int, ...] | None]
) -> tuple[dict[fx.Node, ReceptiveField | None], list[Misalignment], list[str]]:
    """Receptive field of every node, visiting the graph in topological order."""
    fields: dict[fx.Node, ReceptiveField | None] = {}
    unknown: set[fx.Node] = set()
    misaligned: list[Misalignment] = []
    unsupported: list[str] = []
    for node in gm.graph.nodes:
        shape = shapes.get(node)
        if node.op == "placeholder":
            if shape is None or len(shape) < 3:
                return {}, [], []  # no spatial axes: no receptive field to speak of
            n = len(shape) - 2
            fields[node] = ReceptiveField((1,) * n, (1,) * n, (0,) * n)
            continue
        parents = [p for p in data_inputs(node) if p in fields]
        geometry = classify(node, shapes)
        if geometry is None:
            fields[node] = None
            continue
        if any(p in unknown for p in parents):
            unknown.add(node)
            fields[node] = None
            continue
        known = [fields[p] for p in parents if fields[p] is not None]
        if not known:
            fields[node] = None  # computed from constants only
        elif geometry == GLOBAL or all(rf.is_global for rf in known):
            fields[node] = _GLOBAL
        elif isinstance(geometry, Window) and len(geometry.kernel_size) == len(known[0].size):
            fields[node] = _through_window(known[0], geometry)
        elif geometry == OPAQUE or isinstance(geometry, Window):
            # a window over other axes than the field's (AvgPool3d after x[:, None] or
            # x.unsqueeze(2)): the positions were moved by a reshape this walk cannot follow
            unknown.add(node)
            unsupported.append(node_label(node))
            fields[node] = None
        else:
            fields[node] = _merge(node_label(node), known, geometry == CONTEXT, misaligned)
            if fields[node] is None:
                unknown.add(node)
    return fields, misaligned, unsupported


def receptive_field(model: nn.Module, input_shape: Sequence[int]) -> ReceptiveFieldResult:
    """Receptive field of every layer of ``model`` by the multi-path graph algorithm.

    The model is traced with ``torch.fx`` and run once on zeros of shape ``(1, *input_shape)``
    to learn the shapes; each node then combines the fields of its inputs: a window layer
    grows the field (:math:`r \\leftarrow r + d(k-1)S`, :math:`P \\leftarrow P + pS`,
    :math:`S \\leftarrow sS`), a merge takes the union of its paths' intervals and reports the
    paths whose centres differ, global pooling ends the spatial field.

    Parameters
    ----------
    model : torch.nn.Module
        Any module ``torch.fx`` can trace, taking one tensor of shape ``(N, C, *spatial)``.
    input_shape : sequence of int
        ``(C, *spatial)``, without the batch axis.

    Returns
    -------
    ReceptiveFieldResult

    References
    ----------
    A. Araujo, W. Norris and J. Sim, "Computing Receptive Fields of Convolutional Neural
    Networks", Distill, 2019, section "Arbitrary computation graphs" and "Alignment".
    """
    input_shape = check_input_shape(input_shape)
    if len(input_shape) < 2:
        raise ValueError(f"input must have spatial axes (C, *spatial), got {input_shape}")
    gm = trace(model)
    shapes = _run_shapes(gm, input_shape)
    fields, misaligned, unsupported = propagate(gm, shapes)
    result = ReceptiveFieldResult(misaligned=misaligned, unsupported=unsupported)
    for node, rf in fields.items():
        if node.op == "placeholder":
            continue  # the input's own field (1) is no layer's: it is never the final one
        result.layers[node_label(node)] = rf
        if rf is not None and not rf.is_global:
            result.final = rf
    return result
