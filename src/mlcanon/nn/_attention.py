r"""Attention: scaled dot-product (with masks), additive (Bahdanau) and multiplicative (Luong).

All three weight the values by a softmax over scores :math:`e_{ij}` of query :math:`i` against
key :math:`j`; they differ in the score:

- scaled dot-product: :math:`e_{ij} = q_i^T k_j / \sqrt{d}`
- multiplicative ("general"): :math:`e_{ij} = q_i^T W k_j` ("dot": :math:`W = I`)
- additive: :math:`e_{ij} = v^T \tanh(W_q q_i + W_k k_j)`

Backward through the softmax: with :math:`P = \operatorname{softmax}(E)` and :math:`O = PV`,
:math:`\partial L/\partial V = P^T G`, :math:`\partial L/\partial P = G V^T`,
:math:`\partial L/\partial E = P \odot (\partial L/\partial P - \operatorname{rowsum}(P \odot
\partial L/\partial P))`.

References
----------
.. [1] Bahdanau, Cho & Bengio, "Neural machine translation by jointly learning to align and
   translate", ICLR 2015, eq. (6) and appendix A.1.2.
.. [2] Luong, Pham & Manning, "Effective approaches to attention-based neural machine
   translation", EMNLP 2015, eq. (8).
.. [3] Vaswani et al., "Attention is all you need", NeurIPS 2017, eq. (1).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._linear import linear
from ._utils import (
    InputMismatchError,
    check_broadcast,
    check_like,
    check_mask,
    check_tensor,
    probability,
    sum_to,
    zeros_from,
)

__all__ = ["additive_attention", "multiplicative_attention", "scaled_dot_product_attention"]


def _safe_softmax(e: Tensor, safe: bool = True) -> Tensor:
    """Softmax over the last dim; a row whose scores are all -inf gets weights 0 (as torch's
    ``scaled_dot_product_attention``), or NaN weights with ``safe=False`` (as ``torch.softmax``,
    which ``torch.nn.MultiheadAttention`` uses when it returns the weights).

    With no keys (or no queries) the weights are empty and the weighted sum of values is zero.
    """
    if e.numel() == 0:
        return e.new_zeros(e.shape)
    m = e.detach().amax(-1, keepdim=True)  # a constant shift: softmax does not depend on it
    if safe:
        m = torch.where(torch.isneginf(m), 0.0, m)
    p = (e - m).exp_()  # unsafe: -inf - (-inf) = NaN for a fully masked row
    s = p.sum(-1, keepdim=True)
    if safe:
        s = torch.where(s == 0, 1.0, s)
    # in place unless autograd records it (exp_ saved p for its own backward)
    return p / s if torch.is_grad_enabled() else p.div_(s)


def _softmax_backward(p: Tensor, dp: Tensor) -> Tensor:
    return p * (dp - (dp * p).sum(-1, keepdim=True))


def _attention_weights(
    q: Tensor, k: Tensor, mask: Tensor | None, scale: float, safe: bool = True
) -> Tensor:
    """softmax(scale * Q K^T + mask) over the keys: (..., L, S)."""
    e = q.matmul(k.transpose(-2, -1)).mul_(scale)  # (..., L, S)
    return _safe_softmax(e + mask if mask is not None else e, safe)


class _Attend(Function):
    """O = dropout(softmax(scale * Q K^T + mask)) V; returns (O, weights after dropout)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, keep, safe=True):
        p = _attention_weights(q, k, mask, scale, safe)
        pd = p * keep if keep is not None else p  # keep = bernoulli mask / (1 - dropout_p)
        ctx.save_for_backward(q, k, v, p, pd, keep, mask)
        ctx.scale, ctx.safe = scale, safe
        return pd.matmul(v), pd

    @staticmethod
    def backward(ctx, grad_out, grad_w):
        q, k, v, p, pd, keep, mask = ctx.saved_tensors
        # create_graph: p in the graph (without dropout it is the output pd)
        if torch.is_grad_enabled() and keep is not None:
            p = _attention_weights(q, k, mask, ctx.scale, ctx.safe)
        grad_v = sum_to(pd.transpose(-2, -1).matmul(grad_out), v.shape)
        dpd = grad_out.matmul(v.transpose(-2, -1)) + grad_w
        de = _softmax_backward(p, dpd * keep if keep is not None else dpd)
        grad_q = sum_to(de.matmul(k) * ctx.scale, q.shape)
        grad_k = sum_to(de.transpose(-2, -1).matmul(q) * ctx.scale, k.shape)
        grad_mask = sum_to(de, mask.shape) if mask is not None and ctx.needs_input_grad[3] else None
        return grad_q, grad_k, grad_v, grad_mask, None, None, None


def _additive_mask(mask: Tensor | None, query: Tensor, key: Tensor, name: str) -> Tensor | None:
    """Boolean masks (True = may attend) become 0 / -inf; float masks (float32 or the query's
    dtype, as torch allows) are added in the query's dtype. Either must broadcast to the scores'
    shape (..., L, S)."""
    if mask is None:
        return None
    _check_mask_dtype(mask, query, name)
    batch = torch.broadcast_shapes(query.shape[:-2], key.shape[:-2])
    check_broadcast(mask, name, (*batch, query.shape[-2], key.shape[-2]), "the attention scores'")
    if mask.dtype == torch.bool:
        return query.new_zeros(()).masked_fill(~mask.to(query.device), float("-inf"))
    return mask.to(query.dtype)  # a float32 mask joins scores of any dtype


def _check_mask_dtype(mask: Tensor, query: Tensor, name: str) -> None:
    if check_mask(mask, name).dtype != torch.bool:
        if mask.dtype not in (torch.float32, query.dtype):  # torch's rule
            raise InputMismatchError(
                f"{name} must be bool, float32 or the query's dtype {query.dtype}, got {mask.dtype}"
            )


def _check_qkv_types(query: Tensor, key: Tensor, value: Tensor) -> None:
    """What torch checks before anything else (even of an empty attention): floating tensors
    of at least 2 dims, of one dtype and device."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, name)
        if t.dim() < 2:
            raise ValueError(f"{name} must be at least 2-D (..., length, features), got 1-D")
    check_like(key, "key", query, "attention")
    check_like(value, "value", query, "attention")


def _check_qkv(query: Tensor, key: Tensor, value: Tensor) -> None:
    _check_qkv_types(query, key, value)
    _check_qkv_shapes(query, key, value)


def _check_qkv_shapes(query: Tensor, key: Tensor, value: Tensor) -> None:
    """Tensors that passed :func:`_check_qkv_types`: key and value of one length, batch dims
    that broadcast together."""
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key and value must have the same length (dim -2), got {key.shape[-2]} and "
            f"{value.shape[-2]}"
        )
    try:
        torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except RuntimeError:
        raise InputMismatchError(
            f"the batch dims of query {tuple(query.shape[:-2])}, key {tuple(key.shape[:-2])} and "
            f"value {tuple(value.shape[:-2])} must broadcast together"
        ) from None


def attend(q, k, v, mask, scale, dropout_p, training=True, safe=True):
    """Shared core: weighted values and the weights, with optional dropout on the weights.

    ``safe``: a query whose keys are all masked gets weights 0 and output 0 (torch's
    ``scaled_dot_product_attention``); otherwise NaN weights and output (``torch.softmax``)."""
    keep = None
    if dropout_p > 0 and training:
        # one weight per (batch..., query, key), drawn as torch's dropout draws its mask
        shape = (*torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
        if dropout_p == 1.0:  # every weight dropped, nothing drawn (as torch): output 0, not 0/0
            keep = q.new_zeros(shape)
        else:
            keep = q.new_empty(shape).bernoulli_(1.0 - dropout_p) / (1.0 - dropout_p)
    if q.element_size() < 4:
        # float16 and bfloat16 in float32, rounded once at the end (the casts' backward rounds
        # the gradients once too), as torch's fused attention kernels accumulate
        half = q.dtype
        wide = [None if t is None else t.float() for t in (q, k, v, mask, keep)]
        out, weights = _Attend.apply(*wide[:4], scale, wide[4], safe)
        return out.to(half), weights.to(half)
    return _Attend.apply(q, k, v, mask, scale, keep, safe)


def _share_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """Grouped-query attention: repeat each key and value head for its group of query heads."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, name)
        if t.dim() < 3:
            raise ValueError(
                f"enable_gqa=True needs {name} with a heads dim (..., heads, length, features), "
                f"got shape {tuple(t.shape)}"
            )
    heads = query.shape[-3]
    shared = []
    for name, t in (("key", key), ("value", value)):
        if t.shape[-3] == 0 or heads % t.shape[-3]:
            raise InputMismatchError(
                f"enable_gqa=True: the {name}'s {t.shape[-3]} heads (dim -3) must divide the "
                f"query's {heads}"
            )
        shared.append(t.repeat_interleave(heads // t.shape[-3], dim=-3))
    return shared[0], shared[1]


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    r"""Scaled dot-product attention, as ``torch.nn.functional.scaled_dot_product_attention``.

    Parameters
    ----------
    query : Tensor[..., L, E]
    key : Tensor[..., S, E]
    value : Tensor[..., S, Ev]
    attn_mask : Tensor broadcastable to (..., L, S), optional
        Boolean (True = may attend) or float (added to the scores).
    dropout_p : float, dropout on the attention weights
    is_causal : bool, query i attends to keys j <= i (cannot be combined with ``attn_mask``)
    scale : float, default :math:`1/\sqrt{E}`
    enable_gqa : bool
        Grouped-query attention: key and value may have fewer heads (dim -3) than the query,
        a divisor of its count; each key/value head serves that many consecutive query heads
        (``repeat_interleave`` along dim -3, as torch).

    Returns
    -------
    Tensor[..., L, Ev]

    Notes
    -----
    :math:`\operatorname{softmax}(QK^T/\sqrt{E} + M)V`. Dividing by :math:`\sqrt E` keeps the
    scores' variance near 1 for unit-variance inputs, so the softmax does not saturate.

    With no queries (L = 0) or an empty ``value`` (0 keys, 0 value features, or a batch of 0)
    the result is zeros of shape ``query.shape[:-1] + (Ev,)``, with zero gradients, returned
    as torch returns it: before the shapes of query, key, value and mask are matched against
    each other (a batch that is empty at run time does not fail where torch's does not). The
    dtypes and devices, and the options (``dropout_p``, ``scale``, ``is_causal`` with a mask),
    are checked all the same.

    References
    ----------
    .. [1] Vaswani et al., NeurIPS 2017, sec. 3.2.1.
    """
    _check_qkv_types(query, key, value)
    if attn_mask is not None:
        _check_mask_dtype(attn_mask, query, "attn_mask")
    dropout_p = probability(dropout_p, "dropout_p")
    if is_causal and attn_mask is not None:  # torch's documented rule, and its error
        raise InputMismatchError(
            "pass either attn_mask or is_causal=True, not both (torch: 'Explicit attn_mask "
            "should not be set when is_causal=True')"
        )
    if scale is not None:
        check_scalar(scale, "scale")
    if query.shape[-2] == 0 or value.numel() == 0:  # nothing to attend with, or to
        return zeros_from((*query.shape[:-1], value.shape[-1]), query, key, value)
    if enable_gqa:
        key, value = _share_heads(query, key, value)
    _check_qkv_shapes(query, key, value)  # the types were checked above
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query and key must have the same feature size, got {query.shape[-1]} and "
            f"{key.shape[-1]}"
        )
    if is_causal:
        length, source = query.shape[-2], key.shape[-2]
        attn_mask = torch.ones(length, source, dtype=torch.bool, device=query.device).tril()
    if scale is None:  # with 0 features every score is an empty sum, 0, whatever the scale
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    mask = _additive_mask(attn_mask, query, key, "attn_mask")
    return attend(query, key, value, mask, float(scale), dropout_p)[0]


def multiplicative_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    weight: Tensor | None = None,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Luong attention: scores :math:`q_i^T W k_j` ("general") or :math:`q_i^T k_j` ("dot").

    Parameters
    ----------
    query : Tensor[B, L, Dq]
    key : Tensor[B, S, Dk]
    value : Tensor[B, S, Dv]
    weight : Tensor[Dq, Dk], optional; None means the "dot" score (needs Dq = Dk)
    mask : BoolTensor broadcastable to (B, L, S), True = may attend

    Returns
    -------
    context : Tensor[B, L, Dv]
    weights : Tensor[B, L, S]

    References
    ----------
    .. [1] Luong, Pham & Manning, EMNLP 2015, eq. (8).
    """
    _check_qkv(query, key, value)
    if weight is not None:
        check_tensor(weight, "weight", ndim=2)
        check_like(weight, "weight", query, "multiplicative_attention")
        if weight.shape != (query.shape[-1], key.shape[-1]):
            raise ValueError(
                f"weight must have shape ({query.shape[-1]}, {key.shape[-1]}) = (query features, "
                f"key features), got {tuple(weight.shape)}"
            )
        query = linear(query, weight.t())  # q W
    elif query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"the dot score needs query and key of one size, got {query.shape[-1]} and "
            f"{key.shape[-1]}; pass a weight for the general score"
        )
    return attend(query, key, value, _additive_mask(mask, query, key, "mask"), 1.0, 0.0)


def _additive_hidden(q: Tensor, k: Tensor, w_q: Tensor, w_k: Tensor) -> Tensor:
    """tanh(W_q q_i + W_k k_j) for every pair: (B, L, S, A)."""
    return torch.tanh(q.matmul(w_q.t()).unsqueeze(2) + k.matmul(w_k.t()).unsqueeze(1))


class _Additive(Function):
    @staticmethod
    def forward(ctx, q, k, v, w_q, w_k, v_a, mask):
        h = _additive_hidden(q, k, w_q, w_k)
        e = h.matmul(v_a)  # (B, L, S)
        if mask is not None:
            e = e + mask
        p = _safe_softmax(e)
        ctx.save_for_backward(q, k, v, w_q, w_k, v_a, h, p)
        return p.matmul(v), p

    @staticmethod
    def backward(ctx, grad_ctx, grad_p):
        q, k, v, w_q, w_k, v_a, h, p = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: rebuild h from the inputs, in the graph
            h = _additive_hidden(q, k, w_q, w_k)
        grad_v = p.transpose(1, 2).matmul(grad_ctx)
        de = _softmax_backward(p, grad_ctx.matmul(v.transpose(1, 2)) + grad_p)  # (B, L, S)
        grad_va = torch.einsum("bls,blsa->a", de, h)
        dh = de.unsqueeze(-1) * v_a * (1.0 - h * h)  # through tanh: (B, L, S, A)
        dqa, dka = dh.sum(2), dh.sum(1)  # (B, L, A), (B, S, A)
        grad_q, grad_k = dqa.matmul(w_q), dka.matmul(w_k)
        grad_wq = dqa.reshape(-1, dqa.shape[-1]).t().matmul(q.reshape(-1, q.shape[-1]))
        grad_wk = dka.reshape(-1, dka.shape[-1]).t().matmul(k.reshape(-1, k.shape[-1]))
        return grad_q, grad_k, grad_v, grad_wq, grad_wk, grad_va, None


def additive_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    weight_query: Tensor,
    weight_key: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Bahdanau (additive) attention: :math:`e_{ij} = v^T\tanh(W_q q_i + W_k k_j)`.

    Parameters
    ----------
    query : Tensor[B, L, Dq] (or Tensor[B, Dq] for one decoder step)
    key : Tensor[B, S, Dk]
    value : Tensor[B, S, Dv]
    weight_query : Tensor[A, Dq]
    weight_key : Tensor[A, Dk]
    v : Tensor[A]
    mask : BoolTensor broadcastable to (B, L, S), True = may attend

    Returns
    -------
    context : Tensor[B, L, Dv] (or [B, Dv])
    weights : Tensor[B, L, S] (or [B, S])

    Notes
    -----
    Backward: with :math:`\delta e` from the softmax, :math:`\delta h_{ij} = \delta e_{ij}\, v
    \odot (1 - h_{ij}^2)`; :math:`\partial L/\partial W_q = \sum_i (\sum_j \delta h_{ij}) q_i^T`,
    :math:`\partial L/\partial W_k = \sum_j (\sum_i \delta h_{ij}) k_j^T`,
    :math:`\partial L/\partial v = \sum_{ij} \delta e_{ij} h_{ij}`.

    References
    ----------
    .. [1] Bahdanau, Cho & Bengio, ICLR 2015, appendix A.1.2.
    """
    _check_qkv(query if query.dim() > 2 else query.unsqueeze(1), key, value)
    single = query.dim() == 2
    q = query.unsqueeze(1) if single else query
    for name, t in (("query", q), ("key", key), ("value", value)):
        if t.dim() != 3:
            raise ValueError(f"{name} must be 3-D (batch, length, features), got {tuple(t.shape)}")
    if not q.shape[0] == key.shape[0] == value.shape[0]:
        raise ValueError(
            f"query, key and value must have the same batch size, got {q.shape[0]}, "
            f"{key.shape[0]} and {value.shape[0]}"
        )
    for name, t, ndim in (
        ("weight_query", weight_query, 2),
        ("weight_key", weight_key, 2),
        ("v", v, 1),
    ):
        check_tensor(t, name, ndim=ndim)
        check_like(t, name, q, "additive_attention")
    a = v.shape[0]
    if weight_query.shape != (a, q.shape[-1]) or weight_key.shape != (a, key.shape[-1]):
        raise ValueError(
            f"weight_query must be ({a}, {q.shape[-1]}) and weight_key ({a}, {key.shape[-1]}) "
            f"for v of size {a}; got {tuple(weight_query.shape)} and {tuple(weight_key.shape)}"
        )
    if mask is not None and single and mask.dim() == 2:
        mask = mask.unsqueeze(1)  # (B, S) -> (B, 1, S)
    mask = _additive_mask(mask, q, key, "mask")
    ctx, p = _Additive.apply(q, key, value, weight_query, weight_key, v, mask)
    return (ctx.squeeze(1), p.squeeze(1)) if single else (ctx, p)
