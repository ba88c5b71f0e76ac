r"""Recurrent layers (Elman RNN, LSTM, GRU) over a whole sequence, with backprop through time.

Each Function runs one direction of one layer on a time-major sequence ``x`` of shape
(T, B, I). The input projection of every step is one matrix product done up front; each step
then needs a single ``(B, H) @ (H, kH)`` product for all ``k`` gates. The backward pass walks the
steps in reverse, stores the gate gradients of every step, and forms the weight gradients with
one matrix product each at the end (:math:`\partial L/\partial W_{hh} = \sum_t \delta_t^T
h_{t-1}`).

Gate layouts follow torch, so a torch module's ``state_dict`` loads unchanged:
LSTM rows ``[i, f, g, o]``, GRU rows ``[r, z, n]``.

References
----------
.. [1] Werbos, "Backpropagation through time: what it does and how to do it", Proc. IEEE, 1990.
.. [2] Hochreiter & Schmidhuber, "Long short-term memory", Neural Computation 9, 1997;
   Gers, Schmidhuber & Cummins, "Learning to forget", 2000 (forget gate).
.. [3] Cho et al., "Learning phrase representations using RNN encoder-decoder", EMNLP 2014 (GRU).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor
from torch.autograd import Function


class _SecondOrderError(Function):
    """Identity on a first-order-only backward's gradients, linked in the graph to every tensor
    they depend on; differentiating through it raises."""

    @staticmethod
    def forward(ctx, n, *tensors):
        return tuple(t.clone() for t in tensors[:n])

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable "
            "(mlcanon's LSTM and GRU layers are first-order only: use torch.nn.LSTM/GRU for "
            "second derivatives)"
        )


def _first_order_only(backward):
    """Like torch's ``once_differentiable``: the backward runs without recording, and under
    ``create_graph=True`` its results lead to an error if they are differentiated.

    torch's decorator ties its error to copies of the results only when an incoming gradient
    requires grad, so after ``out.sum()``, or under ``autograd.grad(..., inputs=weights)``,
    the dependence on the saved inputs would be dropped without a word; here the error node
    takes the saved inputs as its inputs too.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with torch.no_grad():
            results = backward(ctx, *grads)
        if not torch.is_grad_enabled():
            return results
        linked = [t for t in (*grads, *ctx.saved_tensors) if t is not None and t.requires_grad]
        present = [i for i, r in enumerate(results) if r is not None]
        if not linked or not present:
            return results
        guarded = _SecondOrderError.apply(len(present), *(results[i] for i in present), *linked)
        results = list(results)
        for i, r in zip(present, guarded, strict=True):
            results[i] = r
        return tuple(results)

    return wrapper


def _input_projection(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """x W_ih^T (+ bias) for all steps at once: (T, B, I) -> (T, B, kH)."""
    t, b, _ = x.shape
    x2 = x.reshape(t * b, -1)
    out = torch.addmm(bias, x2, w_ih.t()) if bias is not None else x2.matmul(w_ih.t())
    return out.view(t, b, -1)


def _order(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _steps(v: Tensor, sizes: tuple[int, ...] | None):
    """Per-step views of a (T, B, ...) buffer: all B rows, or for a ``PackedSequence`` (batch in
    decreasing length order) the ``sizes[t]`` rows still running at step t."""
    if sizes is None:
        return v.unbind(0)
    return [v[t, :n] for t, n in enumerate(sizes)]


def _resize(state: Tensor, n: int, fill: Tensor, sink: Tensor) -> Tensor:
    """A running state (first rows of the batch) brought to ``n`` rows when the batch of the
    next step differs (a ``PackedSequence``): the rows that stop are written into ``sink`` (their
    final value), the rows that start are taken from ``fill`` (their initial value)."""
    m = state.shape[0]
    if n < m:
        sink[n:m] = state[n:]
        return state[:n]
    return torch.cat([state, fill[m:n]])


def _finish(state: Tensor, sink: Tensor | None) -> Tensor:
    """The final state of every row: ``state`` itself, or the rows that stopped earlier
    (``sink``) completed by those still running."""
    if sink is None:
        return state
    sink[: state.shape[0]] = state
    return sink


def _active(sizes: tuple[int, ...], like: Tensor) -> Tensor:
    """(T, B, 1) mask of the (step, sequence) pairs that are real steps, not padding, for a
    (T, B, ...) buffer ``like``."""
    rows = torch.arange(like.shape[1], device=like.device)
    return (rows < torch.tensor(sizes, device=like.device)[:, None]).unsqueeze(-1)


def _previous_states(
    out: Tensor, h0: Tensor, reverse: bool, sizes: tuple[int, ...] | None = None
) -> Tensor:
    """h_{t-1} for every t in processing order: the state each step started from."""
    if not reverse:  # padded steps come last: every real step follows a real one (or h0)
        return torch.cat([h0.unsqueeze(0), out[:-1]])
    prev = torch.cat([out[1:], h0.unsqueeze(0)])
    if sizes is not None:  # a sequence's last real step runs first, from h0
        started = _active((*sizes[1:], 0), out)
        prev = torch.where(started, prev, h0)
    return prev


def _weight_grads(ctx, d_in: Tensor, d_hid: Tensor, x: Tensor, h_prev: Tensor, w_ih, first: int):
    """Gradients of x, W_ih, W_hh, b_ih, b_hh from per-step gate gradients (T, B, kH).

    ``first`` is the position of W_ih among the Function's inputs (W_hh, b_ih, b_hh follow);
    a gradient nobody asked for (a frozen weight) is not computed.
    """
    k = d_in.shape[-1]
    d_in2, d_hid2 = d_in.reshape(-1, k), d_hid.reshape(-1, k)
    need_w_ih, need_w_hh, need_b_ih, need_b_hh = ctx.needs_input_grad[first : first + 4]
    grad_x = d_in.matmul(w_ih) if ctx.needs_input_grad[0] else None
    grad_w_ih = d_in2.t().matmul(x.reshape(-1, x.shape[-1])) if need_w_ih else None
    grad_w_hh = d_hid2.t().matmul(h_prev.reshape(-1, h_prev.shape[-1])) if need_w_hh else None
    grad_b_ih = d_in2.sum(0) if ctx.has_bias and need_b_ih else None
    if ctx.has_bias and need_b_hh:  # LSTM: d_hid is d_in, the same sum as b_ih's
        grad_b_hh = grad_b_ih.clone() if d_hid is d_in and need_b_ih else d_hid2.sum(0)
    else:
        grad_b_hh = None
    return grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


class RNNLayer(Function):
    r""":math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`, :math:`\phi` = tanh
    or ReLU.

    ``sizes`` (this and the other layers): ``None``, or for a ``PackedSequence`` the batch size
    of every step (the sequences in decreasing length order, ``x`` zero beyond each one's end).
    Each step then runs on the sequences still going only, as torch does: a sequence's state
    stops changing after its last step (forward direction) or starts from ``h0`` at its last step
    (reverse direction), and padding rows of the output are zero.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu, sizes=None):
        bias = b_ih + b_hh if b_ih is not None else None
        pre = _input_projection(x, w_ih, bias)  # (T, B, H)
        out = torch.empty_like(pre) if sizes is None else torch.zeros_like(pre)
        pre_t, out_t = _steps(pre, sizes), _steps(out, sizes)
        h, h_n = h0, (None if sizes is None else torch.empty_like(h0))
        for t in _order(x.shape[0], reverse):
            if sizes is not None and h.shape[0] != sizes[t]:
                h = _resize(h, sizes[t], h0, h_n)
            a = torch.addmm(pre_t[t], h, w_hh.t())
            h = torch.clamp_min(a, 0.0, out=out_t[t]) if relu else torch.tanh(a, out=out_t[t])
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        ctx.has_bias, ctx.reverse, ctx.relu, ctx.sizes = b_ih is not None, reverse, relu, sizes
        return out, _finish(h.clone(), h_n)

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        x, h0, w_ih, w_hh, out = ctx.saved_tensors
        sizes = ctx.sizes
        d_pre = torch.empty_like(out) if sizes is None else torch.zeros_like(out)
        g_out, out_t = _steps(grad_out, sizes), _steps(out, sizes)
        dh, d_h0 = grad_hn.clone(), (None if sizes is None else torch.empty_like(h0))
        for t in _order(x.shape[0], not ctx.reverse):
            if sizes is not None and dh.shape[0] != sizes[t]:
                dh = _resize(dh, sizes[t], grad_hn, d_h0)
            dh += g_out[t]
            y = out_t[t]
            dp = dh * (y > 0) if ctx.relu else dh * (1.0 - y * y)  # phi'(a) from the output
            d_pre[t, : dp.shape[0]] = dp
            dh = dp.matmul(w_hh)
        h_prev = _previous_states(out, h0, ctx.reverse, sizes)
        grads = _weight_grads(ctx, d_pre, d_pre, x, h_prev, w_ih, first=2)
        return grads[0], _finish(dh, d_h0), *grads[1:], None, None, None


class LSTMLayer(Function):
    r"""LSTM with gates :math:`[i, f, g, o]`:

    :math:`i, f, o = \sigma(\cdot)`, :math:`g = \tanh(\cdot)` of :math:`W_{ih}x_t + b_{ih} +
    W_{hh}h_{t-1} + b_{hh}`; :math:`c_t = f c_{t-1} + i g`, :math:`h_t = o \tanh c_t`.

    Backward: every local derivative is known once the forward has run, so they are formed for
    all steps at once before the loop (big vectorized ops), and each step of the loop is left
    with the recurrence itself, on :math:`\delta h_t` (which includes :math:`W_{hh}^T
    \delta a_{t+1}` from the step after) and :math:`\delta c_t`:

    .. math::
        \delta c_t \mathrel{+}= \delta h_t\, o(1 - \tanh^2 c_t),\quad
        \delta a_t = [\delta c_t\, g\, i(1-i),\ \delta c_t\, c_{t-1} f(1-f),\
        \delta c_t\, i (1-g^2),\ \delta h_t \tanh c_t\, o(1-o)],\quad
        \delta c_{t-1} = \delta c_t f .

    With a projection ``w_hr`` (torch's ``proj_size``, Sak et al. 2014) the state passed on is
    :math:`h_t = W_{hr} m_t` with :math:`m_t = o \tanh c_t` (what :math:`h_t` is without it):
    :math:`\delta m_t = W_{hr}^T \delta h_t` enters the recurrence above in place of
    :math:`\delta h_t`, and :math:`\partial L/\partial W_{hr} = \sum_t \delta h_t^T m_t`.

    First-order only: double backward raises (the backward works in place on preallocated
    per-step buffers, which autograd cannot record). ``sizes``: see :class:`RNNLayer`.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, sizes=None, w_hr=None):
        n = c0.shape[-1]
        # tanh(a) = 2 sigmoid(2a) - 1: with the g rows of the weights doubled, one sigmoid covers
        # all four gates (torch's CPU tanh is several times slower than its sigmoid)
        rows = w_hh.new_ones(4 * n, 1)
        rows[2 * n : 3 * n] = 2.0
        bias = (b_ih + b_hh) * rows[:, 0] if b_ih is not None else None
        # input projection of all steps, g block doubled; each step adds W_hh h_{t-1} in place
        # and activates, so this buffer ends holding the gates (kept for backward)
        gates = _input_projection(x, w_ih * rows, bias)  # (T, B, 4H)
        w_hh_t = (w_hh * rows).t()
        alloc = gates.new_empty if sizes is None else gates.new_zeros
        cells, tanh_c = (alloc((*gates.shape[:2], n)) for _ in range(2))
        out = alloc((*gates.shape[:2], h0.shape[-1]))  # h_t
        m = out if w_hr is None else alloc(cells.shape)  # o tanh c_t, projected to h_t
        # per-step views made once, so the loop below only dispatches arithmetic
        gates_t, out_t, cells_t, tanh_t = (_steps(v, sizes) for v in (gates, out, cells, tanh_c))
        m_t, w_hr_t = _steps(m, sizes), (None if w_hr is None else w_hr.t())
        i_t, f_t, g_t, o_t = (_steps(v, sizes) for v in gates.split(n, dim=2))
        h, c = h0, c0
        h_n, c_n = (None, None) if sizes is None else (torch.empty_like(h0), torch.empty_like(c0))
        for t in _order(x.shape[0], reverse):
            if sizes is not None and h.shape[0] != sizes[t]:
                h, c = _resize(h, sizes[t], h0, h_n), _resize(c, sizes[t], c0, c_n)
            gates_t[t].addmm_(h, w_hh_t).sigmoid_()  # one product for all 4 gates
            g_t[t].mul_(2.0).sub_(1.0)  # = tanh of the (undoubled) pre-activation
            c = torch.mul(f_t[t], c, out=cells_t[t]).addcmul_(i_t[t], g_t[t])
            tc = torch.mul(c, 2.0, out=tanh_t[t]).sigmoid_().mul_(2.0).sub_(1.0)  # tanh c_t
            h = torch.mul(o_t[t], tc, out=m_t[t])
            if w_hr is not None:
                h = torch.mm(h, w_hr_t, out=out_t[t])
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, out, cells, tanh_c, w_hr, m)
        ctx.has_bias, ctx.reverse, ctx.sizes = b_ih is not None, reverse, sizes
        return out, _finish(h.clone(), h_n), _finish(c.clone(), c_n)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_hn, grad_cn):
        x, h0, c0, w_ih, w_hh, gates, out, cells, tanh_c, w_hr, m = ctx.saved_tensors
        sizes = ctx.sizes
        n = c0.shape[-1]
        i, f, g, o = gates.split(n, dim=2)  # (T, B, H) each
        c_prev = _previous_states(cells, c0, ctx.reverse, sizes)
        # local derivatives of all steps: d_gates holds d a / d c_t (gates i, f, g) and
        # d a / d h_t (gate o) until the loop multiplies in dc_t and dh_t
        d_gates = torch.empty_like(gates)
        di, df, dg, do = d_gates.split(n, dim=2)
        torch.addcmul(i, i, i, value=-1.0, out=di).mul_(g)  # i(1-i) g
        torch.addcmul(f, f, f, value=-1.0, out=df).mul_(c_prev)  # f(1-f) c_{t-1}
        torch.addcmul(i, i, torch.mul(g, g, out=dg), value=-1.0, out=dg)  # i(1-g^2)
        torch.addcmul(o, o, o, value=-1.0, out=do).mul_(tanh_c)  # o(1-o) tanh c_t
        dc_dh = torch.addcmul(o, o, tanh_c * tanh_c, value=-1.0)  # o(1 - tanh^2 c_t)
        d_t, dc_dh_t, f_t, g_out = (_steps(v, sizes) for v in (d_gates, dc_dh, f, grad_out))
        d_ifg = _steps(d_gates[..., : 3 * n].view(*d_gates.shape[:2], 3, n), sizes)  # (B, 3, H)
        d_o = _steps(do, sizes)
        steps = list(_order(x.shape[0], not ctx.reverse))
        first = x.shape[1] if sizes is None else sizes[steps[0]]
        dh, dc = grad_hn[:first] + g_out[steps[0]], grad_cn[:first].clone()
        d_h0, d_c0 = (None, None) if sizes is None else (torch.empty_like(h0), torch.empty_like(c0))
        dc3 = dc.unsqueeze(1)  # (B, 1, H) view of dc, broadcast over the gates i, f, g
        if w_hr is not None:  # dh_t of every step, for the gradient of W_hr
            d_out = grad_out.new_empty(out.shape) if sizes is None else torch.zeros_like(out)
            d_out_t = _steps(d_out, sizes)
        for k, t in enumerate(steps):
            if w_hr is not None:  # dm_t = W_hr^T dh_t takes dh_t's place below
                d_out_t[t].copy_(dh)
                dh = dh.matmul(w_hr)
            dc.addcmul_(dh, dc_dh_t[t])
            d_ifg[t].mul_(dc3)  # di, df, dg: dc_t times their local derivatives
            d_o[t].mul_(dh)
            dc.mul_(f_t[t])  # c_{t-1} reaches c_t through the forget gate only
            # dh_{t-1} = W_hh^T da_t (+ the output gradient of step t-1)
            if k + 1 == len(steps):
                dh = d_t[t].matmul(w_hh)
            elif sizes is None or sizes[steps[k + 1]] == sizes[t]:
                dh = torch.addmm(g_out[steps[k + 1]], d_t[t], w_hh)
            else:  # a packed batch changes size: sequences end or start here
                size = sizes[steps[k + 1]]
                dh = _resize(d_t[t].matmul(w_hh), size, grad_hn, d_h0).add_(g_out[steps[k + 1]])
                dc = _resize(dc, size, grad_cn, d_c0)
                dc3 = dc.unsqueeze(1)
        if sizes is not None:  # padding rows hold local derivatives only
            d_gates.masked_fill_(~_active(sizes, d_gates), 0.0)
        h_prev = _previous_states(out, h0, ctx.reverse, sizes)
        grads = _weight_grads(ctx, d_gates, d_gates, x, h_prev, w_ih, first=3)
        grad_w_hr = None
        if w_hr is not None and ctx.needs_input_grad[9]:
            grad_w_hr = d_out.reshape(-1, out.shape[-1]).t().matmul(m.reshape(-1, n))
        return grads[0], _finish(dh, d_h0), _finish(dc, d_c0), *grads[1:], None, None, grad_w_hr


class GRULayer(Function):
    r"""GRU with gates :math:`[r, z, n]`:

    :math:`r, z = \sigma(W_i x_t + b_i + W_h h_{t-1} + b_h)`, :math:`n = \tanh(W_{in} x_t + b_{in}
    + r \odot (W_{hn} h_{t-1} + b_{hn}))`, :math:`h_t = (1 - z) n + z h_{t-1}`.

    First-order only: double backward raises (the backward writes each step's gate gradients
    into preallocated buffers with ``out=``, which autograd cannot record). ``sizes``: see
    :class:`RNNLayer`.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, sizes=None):
        pre = _input_projection(x, w_ih, b_ih)  # (T, B, 3H)
        n_h = h0.shape[-1]
        alloc = pre.new_empty if sizes is None else pre.new_zeros
        gates = alloc(pre.shape)  # [r, z, n] after activation
        hid_n = alloc((*pre.shape[:2], n_h))  # W_hn h + b_hn, needed by dr
        out = alloc(hid_n.shape)
        pre_t, gates_t, hid_t, out_t = (_steps(v, sizes) for v in (pre, gates, hid_n, out))
        h, h_n = h0, (None if sizes is None else torch.empty_like(h0))
        for t in _order(x.shape[0], reverse):
            if sizes is not None and h.shape[0] != sizes[t]:
                h = _resize(h, sizes[t], h0, h_n)
            hw = torch.addmm(b_hh, h, w_hh.t()) if b_hh is not None else h.matmul(w_hh.t())
            xr, xz, xn = pre_t[t].split(n_h, dim=1)
            hr, hz, hn = hw.split(n_h, dim=1)
            r, z, nn_ = gates_t[t].split(n_h, dim=1)
            torch.sigmoid(xr + hr, out=r)
            torch.sigmoid(xz + hz, out=z)
            hid_t[t].copy_(hn)
            torch.tanh(torch.addcmul(xn, r, hn), out=nn_)
            h = torch.addcmul(nn_, z, h - nn_, out=out_t[t])
        ctx.save_for_backward(x, h0, w_ih, w_hh, gates, hid_n, out)
        ctx.has_bias, ctx.reverse, ctx.sizes = b_ih is not None, reverse, sizes
        return out, _finish(h.clone(), h_n)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_hn):
        x, h0, w_ih, w_hh, gates, hid_n, out = ctx.saved_tensors
        sizes = ctx.sizes
        n_h = h0.shape[-1]
        h_prev = _previous_states(out, h0, ctx.reverse, sizes)
        alloc = torch.empty_like if sizes is None else torch.zeros_like
        d_in = alloc(gates)  # gradient of the input-side pre-activations
        d_hid = alloc(gates)  # ... and of the hidden-side ones (differ in n)
        gates_t, hid_t, prev_t, g_out, d_in_t, d_hid_t = (
            _steps(v, sizes) for v in (gates, hid_n, h_prev, grad_out, d_in, d_hid)
        )
        dh, d_h0 = grad_hn.clone(), (None if sizes is None else torch.empty_like(h0))
        for t in _order(x.shape[0], not ctx.reverse):
            if sizes is not None and dh.shape[0] != sizes[t]:
                dh = _resize(dh, sizes[t], grad_hn, d_h0)
            r, z, nn_ = gates_t[t].split(n_h, dim=1)
            dh += g_out[t]
            dr, dz, dn = d_in_t[t].split(n_h, dim=1)
            torch.mul(dh * (1.0 - z), 1.0 - nn_ * nn_, out=dn)
            torch.mul(dh * (prev_t[t] - nn_), z * (1.0 - z), out=dz)
            torch.mul(dn * hid_t[t], r * (1.0 - r), out=dr)
            d_hid_t[t][:, : 2 * n_h] = d_in_t[t][:, : 2 * n_h]
            torch.mul(dn, r, out=d_hid_t[t][:, 2 * n_h :])
            dh = torch.addmm(dh * z, d_hid_t[t], w_hh)
        grads = _weight_grads(ctx, d_in, d_hid, x, h_prev, w_ih, first=2)
        return grads[0], _finish(dh, d_h0), *grads[1:], None, None
