"""``RNN``, ``LSTM`` and ``GRU`` modules: stacks of the hand-differentiated layers of ``_rnn``.

Parameter names, shapes, initialization and call signature follow ``torch.nn.RNN/LSTM/GRU``, so
``ours.load_state_dict(theirs.state_dict())`` works and the outputs match.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from mlcanon._validation import check_option, check_scalar

from ._dropout import dropout
from ._rnn import GRULayer, LSTMLayer, RNNLayer
from ._utils import (
    InputMismatchError,
    check_like,
    check_tensor,
    factory,
    in_float32,
    integer,
    zeros_from,
)

__all__ = ["GRU", "LSTM", "RNN"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class _RNNBase(nn.Module):
    mode: str  # "LSTM", "GRU", "RNN_TANH" or "RNN_RELU": the gates and the cell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        device=None,
        dtype=None,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        if proj_size and self.mode != "LSTM":  # torch's error
            raise ValueError(
                f"proj_size={proj_size}: the proj_size argument is only supported for LSTM, "
                "not RNN or GRU"
            )
        input_size = integer(input_size, "input_size", low=1)
        hidden_size = integer(hidden_size, "hidden_size", low=1)
        num_layers = integer(num_layers, "num_layers", low=1)
        check_scalar(dropout, "dropout", low=0.0, high=1.0)
        if dropout > 0 and num_layers == 1:  # torch's warning: nothing to drop
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.proj_size = proj_size
        out_size = proj_size or hidden_size  # the size of h (of c: hidden_size)
        gate_rows = _GATES[self.mode] * hidden_size
        fk = factory(device, dtype)
        for layer in range(num_layers):
            width = input_size if layer == 0 else out_size * self.num_directions
            for suffix in ("", "_reverse")[: self.num_directions]:
                name = f"l{layer}{suffix}"
                self.register_parameter(
                    f"weight_ih_{name}", nn.Parameter(torch.empty(gate_rows, width, **fk))
                )
                self.register_parameter(
                    f"weight_hh_{name}", nn.Parameter(torch.empty(gate_rows, out_size, **fk))
                )
                for kind in ("ih", "hh")[: 2 if bias else 0]:
                    bias_p = nn.Parameter(torch.empty(gate_rows, **fk))
                    self.register_parameter(f"bias_{kind}_{name}", bias_p)
                if proj_size:  # torch's order: after the biases
                    w_hr = nn.Parameter(torch.empty(proj_size, hidden_size, **fk))
                    self.register_parameter(f"weight_hr_{name}", w_hr)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do (torch packs the weights for cuDNN here); kept so that a model whose
        ``forward`` calls ``self.rnn.flatten_parameters()``, as many torch models do, runs."""

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each layer and direction, ``[w_ih, w_hh, b_ih, b_hh(, w_hr)]``, as
        torch."""
        return [
            [p for p in self._layer_params(layer, d == 1) if p is not None]
            for layer in range(self.num_layers)
            for d in range(self.num_directions)
        ]

    def extra_repr(self) -> str:
        # as torch prints it: the options that differ from their defaults, in its order
        shown = [
            f"{self.input_size}, {self.hidden_size}",
            f"proj_size={self.proj_size}" if self.proj_size else "",
            f"num_layers={self.num_layers}" if self.num_layers != 1 else "",
            f"bias={self.bias}" if self.bias is not True else "",
            f"batch_first={self.batch_first}" if self.batch_first is not False else "",
            f"dropout={self.dropout}" if self.dropout != 0 else "",
            f"bidirectional={self.bidirectional}" if self.bidirectional is not False else "",
        ]
        return ", ".join(part for part in shown if part)

    def _layer_params(self, layer: int, reverse: bool) -> list[Tensor | None]:
        """``[w_ih, w_hh, b_ih, b_hh, w_hr]``, None for those the module does not have."""
        name = f"l{layer}{'_reverse' if reverse else ''}"
        get = lambda kind: getattr(self, f"{kind}_{name}", None)  # noqa: E731
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return [get(kind) for kind in kinds]

    def _check_state(self, h: Tensor | None, name: str, batch: int, like: Tensor, unbatched: bool):
        size = (self.proj_size or self.hidden_size) if name == "hx" else self.hidden_size
        shape = (self.num_layers * self.num_directions, batch, size)
        if h is None:
            return like.new_zeros(shape)
        check_tensor(h, name)
        check_like(h, name, like, type(self).__name__)
        want = shape[::2] if unbatched else shape
        if tuple(h.shape) != want:
            raise ValueError(
                f"{name} must have shape {want} (num_layers * num_directions, "
                f"{'' if unbatched else 'batch, '}"
                f"{'proj_size' if size != self.hidden_size else 'hidden_size'}), "
                f"got {tuple(h.shape)}"
            )
        return h.unsqueeze(1) if unbatched else h

    def _check_input(self, x: Tensor) -> None:
        """(T, B, I) input: torch's checks on the sequence length and on dtype agreement."""
        if x.shape[0] == 0:
            raise InputMismatchError(
                f"{type(self).__name__}: expected sequence length to be larger than 0, got "
                f"input of shape {tuple(x.shape)} (sequence dim {1 if self.batch_first else 0})"
            )
        w = self.weight_ih_l0
        if x.dtype != w.dtype or x.device != w.device:
            raise InputMismatchError(
                f"{type(self).__name__}: input has dtype {x.dtype} on {x.device} but its weights "
                f"have dtype {w.dtype} on {w.device}: convert the input (input.to({w.dtype})) or "
                f"the model (model.to({x.dtype}))"
            )

    def _run_packed(self, packed: PackedSequence, states: list[Tensor | None]):
        """A ``PackedSequence`` input, as torch's: the batch, in decreasing length order, runs
        step by step on the sequences still going (each over its own length: the reverse
        direction starts at its last real step, h_n is taken there); the output is packed like
        the input and ``hx`` / h_n are in the caller's batch order."""
        data = check_tensor(packed.data, "input.data", ndim=2)
        if data.shape[-1] != self.input_size:
            raise ValueError(
                f"input.data.shape[-1]={data.shape[-1]} must equal input_size={self.input_size}"
            )
        sizes_cpu = packed.batch_sizes.cpu()
        sizes = tuple(sizes_cpu.tolist())
        batch, dev = sizes[0], data.device
        # (step, slot) of every packed row; slot = position in the length-sorted batch
        steps = torch.repeat_interleave(torch.arange(len(sizes)), sizes_cpu)
        starts = torch.cumsum(sizes_cpu, 0) - sizes_cpu
        slots = torch.arange(len(steps)) - torch.repeat_interleave(starts, sizes_cpu)
        index = (steps.to(dev), slots.to(dev))
        x = data.new_zeros((len(sizes), batch, data.shape[1])).index_put(index, data)
        self._check_input(x)
        names = ("hx", "cx") if len(states) == 2 else ("hx",)
        states = [
            self._check_state(s, n, batch, x, False) for s, n in zip(states, names, strict=True)
        ]
        if packed.sorted_indices is not None:  # caller's order -> length order, as torch
            order = packed.sorted_indices.to(dev)
            states = [s.index_select(1, order) for s in states]
        out, finals = self._layers(x, states, sizes, index)
        if packed.unsorted_indices is not None:
            order = packed.unsorted_indices.to(dev)
            finals = [f.index_select(1, order) for f in finals]
        result = PackedSequence(
            out[index], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        return result, finals

    def _layers(self, x: Tensor, states: list[Tensor], sizes: tuple[int, ...] | None, index=None):
        """Every layer and direction on a (T, B, I) input -> (output (T, B, D * H), final
        states, each (L * D, B, H)); ``sizes``: a packed batch's size at every step, ``index``:
        the (step, slot) of its packed rows."""
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                init = [s[k] for s in states]
                out, *last = self._cell(x, init, self._layer_params(layer, d == 1), d == 1, sizes)
                outs.append(out)
                for acc, s in zip(finals, last, strict=True):
                    acc.append(s)
            x = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                if index is None:
                    x = dropout(x, self.dropout, True)
                else:  # on the packed rows, as torch: the same draws, padding left 0
                    x = x.index_put(index, dropout(x[index], self.dropout, True))
        return x, [torch.stack(f) for f in finals]

    def _run(self, input: Tensor, states: list[Tensor | None]):
        if isinstance(input, PackedSequence):
            return self._run_packed(input, states)
        x = check_tensor(input, "input", ndim=(2, 3))
        unbatched = x.dim() == 2
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"input.shape[-1]={x.shape[-1]} must equal input_size={self.input_size}"
            )
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        x = x.contiguous()  # (T, B, I)
        self._check_input(x)
        names = ("hx", "cx") if len(states) == 2 else ("hx",)
        states = [
            self._check_state(s, n, x.shape[1], x, unbatched)
            for s, n in zip(states, names, strict=True)
        ]
        if x.shape[1] == 0:  # an empty batch: empty outputs, as torch
            params = list(self.parameters())
            width = self.num_directions * (self.proj_size or self.hidden_size)
            out = zeros_from((*x.shape[:2], width), x, *params)
            finals_t = [zeros_from(s.shape, s, *params) for s in states]
            return (out.transpose(0, 1) if self.batch_first else out), finals_t
        x, finals_t = self._layers(x, states, None)
        if unbatched:
            return x.squeeze(1), [f.squeeze(1) for f in finals_t]
        return (x.transpose(0, 1) if self.batch_first else x), finals_t


class RNN(_RNNBase):
    r"""Elman RNN, :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    Parameters
    ----------
    input_size, hidden_size, num_layers : int
    nonlinearity : {'tanh', 'relu'}
    bias, batch_first, bidirectional : bool
    dropout : float, dropout on the outputs of every layer but the last (training only)

    Notes
    -----
    Backpropagation through time multiplies the gradient by :math:`W_{hh}^T
    \operatorname{diag}(\phi'(a_t))` at every step, so it shrinks or grows geometrically with the
    distance in time (Bengio, Simard & Frasconi 1994).

    References
    ----------
    .. [1] Elman, "Finding structure in time", Cognitive Science 14, 1990.
    .. [2] Werbos, "Backpropagation through time", Proc. IEEE 78, 1990.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        device=None,
        dtype=None,
    ) -> None:
        check_option(nonlinearity, "nonlinearity", ("tanh", "relu"))
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def _cell(self, x, init, params, reverse, sizes):
        relu = self.nonlinearity == "relu"
        args = (x, init[0], *params[:4], reverse, relu, sizes)
        return in_float32(RNNLayer.apply, *args, rounded=2)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """input (T, B, I) [or (B, T, I) if batch_first, or (T, I)] -> (output, h_n)."""
        out, (h,) = self._run(input, [hx])
        return out, h


class LSTM(_RNNBase):
    r"""Long short-term memory, gate rows ``[i, f, g, o]`` as torch.

    .. math::
        i, f, o = \sigma(\cdot),\ g = \tanh(\cdot)\ \text{of}\ W_{ih}x_t + b_{ih} + W_{hh}h_{t-1}
        + b_{hh};\quad c_t = f\odot c_{t-1} + i\odot g;\quad h_t = o \odot \tanh c_t

    Backward through time (with :math:`\delta h_t` including the gradient from step
    :math:`t+1`): :math:`\delta c_t \mathrel{+}= \delta h_t\, o(1 - \tanh^2 c_t)`,
    :math:`\delta o = \delta h_t \tanh c_t`, :math:`\delta i = \delta c_t\, g`,
    :math:`\delta g = \delta c_t\, i`, :math:`\delta f = \delta c_t c_{t-1}`,
    :math:`\delta c_{t-1} = \delta c_t f` — the additive cell path that lets gradients survive
    many steps when :math:`f \approx 1`.

    Parameters are those of :class:`RNN` (no ``nonlinearity``), and ``proj_size`` (default 0:
    none), smaller than ``hidden_size``: with it the state passed on and output is
    :math:`h_t = W_{hr}(o \odot \tanh c_t)` of size ``proj_size`` (``weight_hr_l{k}``, as
    torch), so ``h_0``, the outputs and the next layer's inputs have that size; ``c`` keeps
    ``hidden_size``.

    References
    ----------
    .. [1] Hochreiter & Schmidhuber, Neural Computation 9, 1997.
    .. [2] Greff et al., "LSTM: a search space odyssey", IEEE TNNLS 2017 (the backward formulas).
    .. [3] Sak, Senior & Beaufays, "Long short-term memory recurrent neural network
       architectures for large scale acoustic modeling", Interspeech 2014 (the projection).
    """

    mode = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        device=None,
        dtype=None,
    ) -> None:
        proj_size = integer(proj_size, "proj_size", low=0)
        if proj_size >= integer(hidden_size, "hidden_size", low=1):  # torch's rule
            raise ValueError(
                f"proj_size={proj_size} must be smaller than hidden_size={hidden_size}"
            )
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
            proj_size=proj_size,
        )

    def _cell(self, x, init, params, reverse, sizes):
        args = (x, init[0], init[1], *params[:4], reverse, sizes, params[4])
        return in_float32(LSTMLayer.apply, *args, rounded=3)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """input -> (output, (h_n, c_n)); ``hx = (h_0, c_0)``, each (L * D, B, H)."""
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            raise ValueError(f"hx must be a pair (h_0, c_0) for LSTM, got {type(hx).__name__}")
        out, (h, c) = self._run(input, list(hx) if hx is not None else [None, None])
        return out, (h, c)


class GRU(_RNNBase):
    r"""Gated recurrent unit, gate rows ``[r, z, n]`` as torch.

    .. math::
        r, z = \sigma(W_{i\cdot}x_t + b_{i\cdot} + W_{h\cdot}h_{t-1} + b_{h\cdot}),\quad
        n = \tanh(W_{in}x_t + b_{in} + r\odot(W_{hn}h_{t-1} + b_{hn})),\quad
        h_t = (1 - z)\odot n + z\odot h_{t-1}

    Compared with the LSTM: no separate cell state (the hidden state is the memory), one update
    gate :math:`z` couples forgetting and writing (:math:`1 - z` vs :math:`z`), no output gate,
    and the reset gate acts *inside* the candidate, on :math:`W_{hn}h_{t-1}`.

    References
    ----------
    .. [1] Cho et al., EMNLP 2014.
    .. [2] Chung et al., "Empirical evaluation of gated recurrent neural networks on sequence
       modeling", 2014.
    """

    mode = "GRU"  # constructor: that of _RNNBase (torch's arguments)

    def _cell(self, x, init, params, reverse, sizes):
        return in_float32(GRULayer.apply, x, init[0], *params[:4], reverse, sizes, rounded=2)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """input -> (output, h_n)."""
        out, (h,) = self._run(input, [hx])
        return out, h
