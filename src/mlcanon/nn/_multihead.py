"""Attention modules: multi-head (torch-compatible), additive (Bahdanau), multiplicative (Luong)."""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn

from mlcanon._validation import check_option

from ._attention import additive_attention, attend, multiplicative_attention
from ._linear import linear
from ._modules import NonDynamicallyQuantizableLinear
from ._utils import InputMismatchError, check_mask, check_tensor, factory, integer, probability

__all__ = ["AdditiveAttention", "MultiheadAttention", "MultiplicativeAttention"]


class MultiheadAttention(nn.Module):
    r"""Multi-head attention with the parameters and call signature of
    ``torch.nn.MultiheadAttention``.

    Parameters
    ----------
    embed_dim : int
    num_heads : int, must divide ``embed_dim``
    dropout : float, dropout on the attention weights (training only)
    bias : bool
    add_bias_kv : bool
        Append a learned key ``bias_k`` and value ``bias_v`` (``(1, 1, E)``, Xavier-normal) to
        every sequence, after the projections, as torch.
    add_zero_attn : bool
        Append a zero key and value per head (after ``bias_k``/``bias_v``). The appended
        positions are never masked, so a query always has something to attend to.
    kdim, vdim : int, optional, feature sizes of key and value (default ``embed_dim``)
    batch_first : bool
    device, dtype : optional, where and in which dtype the parameters are made (as torch)

    Notes
    -----
    A query whose keys are all masked (by ``key_padding_mask``, ``attn_mask`` or both) gets, as
    in torch's general (slow) path: NaN weights and a NaN output with ``need_weights=True``
    (torch's softmax of a row of -inf); weights 0, so an output equal to ``out_proj.bias``, with
    ``need_weights=False`` (torch's ``scaled_dot_product_attention``). torch's fast path
    (evaluation mode without autograd, ``batch_first``, one tensor passed as query, key and
    value, an even number of heads) gives NaN in both cases; this module always follows the
    general path.


    :math:`\operatorname{head}_h = \operatorname{softmax}(Q W^Q_h (K W^K_h)^T/\sqrt{d_h})
    V W^V_h`, :math:`d_h = E/H`; the heads are concatenated and projected by ``out_proj``.
    Every step is one of the hand-differentiated ops (:func:`linear` and the attention core).

    References
    ----------
    .. [1] Vaswani et al., "Attention is all you need", NeurIPS 2017, sec. 3.2.2.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        embed_dim = integer(embed_dim, "embed_dim", low=1)
        num_heads = integer(num_heads, "num_heads", low=1)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        # None: embed_dim; 0 is a size like any other (torch: a key or value of no features)
        self.kdim = embed_dim if kdim is None else integer(kdim, "kdim", low=0)
        self.vdim = embed_dim if vdim is None else integer(vdim, "vdim", low=0)
        self.dropout, self.batch_first = probability(dropout, "dropout"), batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        fk = factory(device, dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim, **fk))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim, **fk))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim, **fk))
            self.register_parameter("in_proj_weight", None)
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim, **fk)) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                nn.init.xavier_uniform_(w)
        if bias:
            nn.init.zeros_(self.out_proj.bias)
        if add_bias_kv:  # a learned key and value appended to every sequence (torch's order)
            self.bias_k = nn.Parameter(torch.empty(1, 1, embed_dim, **fk))
            self.bias_v = nn.Parameter(torch.empty(1, 1, embed_dim, **fk))
            nn.init.xavier_normal_(self.bias_k)
            nn.init.xavier_normal_(self.bias_v)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)

    def _projections(self) -> list[tuple[Tensor, Tensor | None]]:
        e = self.embed_dim
        ws = (
            self.in_proj_weight.split(e)
            if self._qkv_same_embed_dim
            else (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        )
        bs = self.in_proj_bias.split(e) if self.in_proj_bias is not None else (None,) * 3
        return list(zip(ws, bs, strict=True))

    def _mask(self, attn_mask, key_padding_mask, n, length, source, like) -> Tensor | None:
        """Both masks as one additive float mask of shape (N or 1, H or 1, L, S)."""
        total = None
        if attn_mask is not None:
            shapes = {
                (length, source): (1, 1),
                (n * self.num_heads, length, source): (n, self.num_heads),
            }
            if tuple(attn_mask.shape) not in shapes:
                raise ValueError(
                    f"attn_mask must have shape ({length}, {source}) or "
                    f"({n * self.num_heads}, {length}, {source}), got {tuple(attn_mask.shape)}"
                )
            total = _to_additive(attn_mask, like).reshape(
                *shapes[tuple(attn_mask.shape)], length, source
            )
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (n, source):
                raise ValueError(
                    f"key_padding_mask must have shape (batch, source length) = ({n}, {source}), "
                    f"got {tuple(key_padding_mask.shape)}"
                )
            pad = _to_additive(key_padding_mask, like).reshape(n, 1, 1, source)
            total = pad if total is None else total + pad
        # float masks are added in their own dtype, as torch, and only then join the scores
        return None if total is None else total.to(like.dtype)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(L, N, E) query, (S, N, kdim) key, (S, N, vdim) value (batch first if ``batch_first``;
        unbatched (L, E) also accepted) -> (output like query, weights (N, L, S) or None).
        Boolean masks use torch's convention here: True marks a position that may *not* be
        attended."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(t, name, ndim=(2, 3))
        shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        if not query.dim() == key.dim() == value.dim():
            raise ValueError(f"query, key and value must all be 3-D or all 2-D, got {shapes}")
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, n, e = query.shape
        source = key.shape[0]
        if key.shape[:2] != value.shape[:2] or key.shape[1] != n:
            raise InputMismatchError(
                f"key and value must have the same source length, and all three the same batch "
                f"size; got {shapes}"
            )
        if e != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"feature sizes must be query {self.embed_dim}, key {self.kdim}, value "
                f"{self.vdim}; got {e}, {key.shape[-1]}, {value.shape[-1]}"
            )
        if _check_masks(attn_mask, key_padding_mask, need_weights, is_causal, query):
            attn_mask = torch.ones(length, source, dtype=torch.bool, device=query.device).triu(1)
        mask = self._mask(attn_mask, key_padding_mask, n, length, source, query)
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        h, d = self.num_heads, self.head_dim
        heads = lambda t: t.reshape(t.shape[0], n, h, d).permute(1, 2, 0, 3)  # noqa: E731  (N, H, T, d)
        k, v = linear(key, wk, bk), linear(value, wv, bv)  # (S, N, E)
        if self.bias_k is not None:  # one more key and value, bias_k and bias_v, for every sample
            k = torch.cat([k, self.bias_k.expand(1, n, e)])
            v = torch.cat([v, self.bias_v.expand(1, n, e)])
        q, k, v = heads(linear(query, wq, bq)), heads(k), heads(v)
        if self.add_zero_attn:  # and a zero key and value per head
            k = torch.cat([k, k.new_zeros((n, h, 1, d))], dim=2)
            v = torch.cat([v, v.new_zeros((n, h, 1, d))], dim=2)
        extra = k.shape[2] - source
        if mask is not None and extra:  # every query may attend to the appended positions
            mask = torch.cat([mask, mask.new_zeros((*mask.shape[:-1], extra))], dim=-1)
        # torch computes the weights with softmax when it returns them (a query whose keys are
        # all masked gets NaN weights and output) and calls scaled_dot_product_attention when it
        # does not (weights 0, output out_proj.bias)
        out, weights = attend(
            q, k, v, mask, 1.0 / math.sqrt(d), self.dropout, self.training, safe=not need_weights
        )
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(length, n, e))  # (L, N, E)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = weights.mean(1) if average_attn_weights else weights
        return out, (weights.squeeze(0) if unbatched else weights)


def _mask_dtype(mask: Tensor | None, name: str, query: Tensor) -> torch.dtype | None:
    """The dtype a mask has once torch turned it into an additive one (bool: the query's)."""
    if mask is None:
        return None
    if check_mask(mask, name).dtype == torch.bool:
        return query.dtype
    return mask.dtype


def _check_masks(attn_mask, key_padding_mask, need_weights, is_causal, query) -> bool:
    """torch.nn.MultiheadAttention's rules for its two masks; whether to use a causal mask in
    place of attn_mask.

    ``is_causal`` is only a hint that ``attn_mask`` is causal: torch requires the mask, and
    uses a causal mask in its place only where it then calls scaled_dot_product_attention
    with is_causal (no key_padding_mask, need_weights=False). The float masks (bool ones taken
    in the query's dtype) are added together; their dtype must be the query's where torch
    computes the weights itself (need_weights), float32 or the query's in
    scaled_dot_product_attention. torch warns when the two masks differ in dtype.
    """
    if is_causal and attn_mask is None:
        raise InputMismatchError(
            "is_causal=True is a hint that attn_mask is causal and needs attn_mask, got None "
            "(torch: 'Need attn_mask if specifying the is_causal hint'; "
            "torch.nn.Transformer.generate_square_subsequent_mask makes one)"
        )
    dtypes = [
        _mask_dtype(m, name, query)
        for m, name in ((attn_mask, "attn_mask"), (key_padding_mask, "key_padding_mask"))
    ]
    if None not in dtypes and attn_mask.dtype != key_padding_mask.dtype:
        warnings.warn(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type "
            "for both instead.",
            UserWarning,
            stacklevel=2,
        )
    if is_causal and key_padding_mask is None and not need_weights:
        return True
    given = [d for d in dtypes if d is not None]
    if given:
        merged = given[0] if len(given) == 1 else torch.promote_types(*given)
        allowed = (query.dtype,) if need_weights else (torch.float32, query.dtype)
        if merged not in allowed:
            names = " + ".join(
                f"{name} of dtype {m.dtype}"
                for m, name in ((attn_mask, "attn_mask"), (key_padding_mask, "key_padding_mask"))
                if m is not None
            )
            want = "the query's dtype" if need_weights else "float32 or the query's dtype"
            when = " with need_weights=True" if need_weights else ""
            raise InputMismatchError(
                f"{names} make a float mask of dtype {merged}, but torch needs {want} "
                f"{query.dtype} there{when}; pass a bool mask or convert it"
            )
    return False


def _to_additive(mask: Tensor, like: Tensor) -> Tensor:
    """torch.nn.MultiheadAttention convention: a True entry is *masked out* (-inf)."""
    if mask.dtype == torch.bool:
        return like.new_zeros(mask.shape).masked_fill(mask.to(like.device), float("-inf"))
    return check_tensor(mask, "mask")


def _check_sizes(**sizes: int) -> None:
    for name, size in sizes.items():
        integer(size, name, low=1)


class AdditiveAttention(nn.Module):
    r"""Bahdanau attention :math:`e_{ij} = v^T\tanh(W_q q_i + W_k k_j)` with learned
    :math:`W_q, W_k, v` (see :func:`mlcanon.nn.functional.additive_attention`).

    Parameters
    ----------
    query_size, key_size, hidden_size : int
        :math:`D_q`, :math:`D_k` and the size :math:`A` of the alignment layer.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        _check_sizes(query_size=query_size, key_size=key_size, hidden_size=hidden_size)
        self.weight_query = nn.Parameter(torch.empty(hidden_size, query_size))
        self.weight_key = nn.Parameter(torch.empty(hidden_size, key_size))
        self.v = nn.Parameter(torch.empty(hidden_size))
        for p, fan_in in (
            (self.weight_query, query_size),
            (self.weight_key, key_size),
            (self.v, hidden_size),
        ):
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(p, -bound, bound)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """query (B, L, Dq) or (B, Dq); key (B, S, Dk); value defaults to key; mask True = may
        attend. Returns (context, weights)."""
        return additive_attention(
            query,
            key,
            key if value is None else value,
            self.weight_query,
            self.weight_key,
            self.v,
            mask,
        )


class MultiplicativeAttention(nn.Module):
    r"""Luong attention with score ``'general'`` (:math:`q^T W k`) or ``'dot'`` (:math:`q^T k`).

    Parameters
    ----------
    query_size, key_size : int
    score : {'general', 'dot'}
    """

    def __init__(self, query_size: int, key_size: int, score: str = "general") -> None:
        super().__init__()
        _check_sizes(query_size=query_size, key_size=key_size)
        check_option(score, "score", ("general", "dot"))
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"score='dot' needs query_size == key_size, got {query_size} and {key_size}"
            )
        self.score = score
        self.weight = (
            nn.Parameter(torch.empty(query_size, key_size)) if score == "general" else None
        )
        if self.weight is not None:
            nn.init.xavier_uniform_(self.weight)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """query (B, L, Dq), key (B, S, Dk), value defaults to key -> (context, weights)."""
        return multiplicative_attention(
            query, key, key if value is None else value, self.weight, mask
        )
