"""Attention: scaled dot-product and multi-head against torch; additive and multiplicative
against the same formulas composed of torch built-ins (torch has no module for them)."""

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as nn
import mlcanon.nn.functional as F


def _bool_mask(*shape, seed=0):
    m = torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) > 0.3
    m[..., 0] = True
    return m


@pytest.mark.parametrize(
    "case",
    [
        dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7)),
        dict(q=(1, 5, 3), k=(1, 4, 3), v=(1, 4, 2), is_causal=True),
        dict(q=(2, 4, 5), k=(2, 6, 5), v=(2, 6, 3), mask="bool"),
        dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7), mask="float", scale=0.3),
    ],
    ids=["plain", "causal", "bool-mask", "float-mask"],
)
def test_sdpa_matches_torch(check_op, rand, case):
    q, k, v = rand(*case["q"]), rand(*case["k"], seed=1), rand(*case["v"], seed=2)
    lq, s = case["q"][-2], case["k"][-2]
    kw = {"is_causal": case.get("is_causal", False), "scale": case.get("scale")}
    inputs = [q, k, v]
    if case.get("mask") == "float":  # a float mask is an input and gets a gradient too
        inputs.append(rand(2, 1, lq, s, seed=3))
    mask = _bool_mask(lq, s) if case.get("mask") == "bool" else None

    def make(fn):
        return lambda q, k, v, m=mask: fn(q, k, v, m, **kw)

    check_op(make(F.scaled_dot_product_attention), make(TF.scaled_dot_product_attention), inputs)


def test_sdpa_fully_masked_row_gives_zeros_as_torch(rand):
    q, k, v = rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 6, seed=2)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    ours = F.scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(ours, TF.scaled_dot_product_attention(q, k, v, mask))
    assert torch.equal(ours[:, 1], torch.zeros(2, 6, dtype=torch.float64))


def _additive_reference(q, k, v, wq, wk, va, mask=None):
    e = torch.tanh((q @ wq.T).unsqueeze(2) + (k @ wk.T).unsqueeze(1)) @ va
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))
    p = torch.softmax(e, -1)
    return p @ v, p


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_additive_attention_matches_formula(check_op, rand, masked, batch):
    mask = _bool_mask(batch, 1, 5, seed=4) if masked else None
    q, k, v = rand(batch, 2, 4), rand(batch, 5, 6, seed=1), rand(batch, 5, 3, seed=2)
    inputs = [q, k, v, rand(7, 4, seed=3), rand(7, 6, seed=5), rand(7, seed=6)]
    check_op(
        lambda *a: F.additive_attention(*a, mask=mask),
        lambda *a: _additive_reference(*a, mask),
        inputs,
    )


def test_additive_attention_single_decoder_step(rand):
    q, k = rand(3, 4), rand(3, 5, 6, seed=1)
    wq, wk, va = rand(7, 4, seed=2), rand(7, 6, seed=3), rand(7, seed=4)
    ctx, p = F.additive_attention(q, k, k, wq, wk, va)
    ref_ctx, _ = _additive_reference(q.unsqueeze(1), k, k, wq, wk, va)
    torch.testing.assert_close(ctx, ref_ctx.squeeze(1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(p.sum(-1), torch.ones(3, dtype=torch.float64))


def _luong_reference(q, k, v, w):
    p = torch.softmax(q @ w @ k.transpose(1, 2), -1)
    return p @ v, p


def test_multiplicative_attention_matches_formula(check_op, rand):
    inputs = [rand(2, 3, 4), rand(2, 5, 6, seed=1), rand(2, 5, 3, seed=2), rand(4, 6, seed=3)]
    check_op(F.multiplicative_attention, _luong_reference, inputs)
    q, k = rand(2, 3, 4), rand(2, 5, 4, seed=1)
    ctx, _ = F.multiplicative_attention(q, k, k)  # 'dot' score = scaled dot product with scale 1
    torch.testing.assert_close(ctx, TF.scaled_dot_product_attention(q, k, k, scale=1.0))


MHA = [
    dict(batch_first=False),
    dict(batch_first=True, kdim=3, vdim=5),
    dict(batch_first=False, bias=False),
]


@pytest.mark.parametrize("config", MHA, ids=["packed", "kdim-vdim", "no-bias"])
@pytest.mark.parametrize("masks", ["none", "attn", "padding-per-head", "float"])
def test_multihead_attention_matches_torch(rand, config, masks):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, **config).double()
    ours = nn.MultiheadAttention(8, 2, **config).double()
    assert sorted(ours.state_dict()) == sorted(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    n, lq, s = 3, 4, 5
    shape = (lambda t, d: (n, t, d)) if config["batch_first"] else (lambda t, d: (t, n, d))
    q, k, v = (
        rand(*shape(lq, 8)),
        rand(*shape(s, config.get("kdim", 8)), seed=1),
        rand(*shape(s, config.get("vdim", 8)), seed=2),
    )
    kw = {
        "none": {},
        "attn": {"attn_mask": ~_bool_mask(lq, s)},
        "padding-per-head": {
            "key_padding_mask": ~_bool_mask(n, s, seed=1),
            "average_attn_weights": False,
        },
        "float": {"attn_mask": rand(n * 2, lq, s, seed=3)},
    }[masks]
    grads = []
    outs = []
    for module in (ours, ref):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out, weights = module(*leaves, **kw)
        g = torch.Generator().manual_seed(1)
        loss = (out * torch.randn(out.shape, generator=g, dtype=torch.float64)).sum() + (
            weights**2
        ).sum()
        grads.append(torch.autograd.grad(loss, [*leaves, *module.parameters()]))
        outs.append((out, weights))
    for a, b in zip(outs[0], outs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    for a, b in zip(grads[0], grads[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


def test_multihead_attention_unbatched_float32():
    torch.manual_seed(0)
    ref, ours = torch.nn.MultiheadAttention(6, 3), nn.MultiheadAttention(6, 3)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 6)
    for a, b in zip(ours(x, x, x), ref(x, x, x), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert ours(x, x, x, need_weights=False)[1] is None


def test_attention_modules_run_and_learn(rand):
    add = nn.AdditiveAttention(4, 6, 5).double()
    mul = nn.MultiplicativeAttention(4, 6).double()
    q, k = rand(2, 3, 4), rand(2, 5, 6, seed=1)
    for module in (add, mul):
        ctx, w = module(q, k)
        assert ctx.shape == (2, 3, 6) and w.shape == (2, 3, 5)
        ctx.sum().backward()
        assert all(p.grad is not None for p in module.parameters())


def test_bad_attention_arguments():
    with pytest.raises(ValueError, match="embed_dim=10 must be divisible by num_heads=3"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = torch.zeros(4, 2, 8)
    with pytest.raises(
        ValueError, match=r"attn_mask must have shape \(4, 4\) or \(4, 4, 4\), got \(3, 4\)"
    ):
        mha(x, x, x, attn_mask=torch.zeros(3, 4, dtype=torch.bool))
    with pytest.raises(
        ValueError, match=r"key_padding_mask must have shape .* = \(2, 4\), got \(4, 2\)"
    ):
        mha(x, x, x, key_padding_mask=torch.zeros(4, 2, dtype=torch.bool))
    q = torch.zeros(2, 3, 4)
    with pytest.raises(
        ValueError, match="query and key must have the same feature size, got 4 and 5"
    ):
        F.scaled_dot_product_attention(q, torch.zeros(2, 6, 5), torch.zeros(2, 6, 5))
    with pytest.raises(ValueError, match=r"key and value must have the same length .* got 6 and 5"):
        F.scaled_dot_product_attention(q, torch.zeros(2, 6, 4), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"weight must have shape \(4, 6\)"):
        F.multiplicative_attention(q, torch.zeros(2, 5, 6), torch.zeros(2, 5, 6), torch.zeros(6, 4))
    with pytest.raises(ValueError, match="score='dot' needs query_size == key_size, got 4 and 6"):
        nn.MultiplicativeAttention(4, 6, score="dot")


FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("query_dtype", FLOATS)
def test_sdpa_float_mask_dtypes_as_torch(query_dtype):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 4, generator=g, dtype=torch.float64).to(query_dtype)
    k = torch.randn(2, 5, 4, generator=g, dtype=torch.float64).to(query_dtype)
    m = torch.randn(3, 5, generator=g, dtype=torch.float64)
    for mask_dtype in FLOATS:
        mask = m.to(mask_dtype)
        try:  # torch takes float32 or the query's dtype
            ref = TF.scaled_dot_product_attention(q, k, k, mask)
        except RuntimeError:
            with pytest.raises(
                ValueError,
                match=f"attn_mask must be bool, float32 or the query's dtype {query_dtype}, "
                f"got {mask_dtype}",
            ):
                F.scaled_dot_product_attention(q, k, k, mask)
            continue
        ours = F.scaled_dot_product_attention(q, k, k, mask)
        assert ours.dtype == ref.dtype == query_dtype
        tol = 1e-10 if query_dtype == torch.float64 else 1e-2
        torch.testing.assert_close(ours, ref, rtol=tol, atol=tol)


def test_multihead_attention_positional_arguments_bind_as_in_torch(rand):
    # torch's order is (embed_dim, num_heads, dropout, bias, add_bias_kv, add_zero_attn, kdim,
    # vdim, batch_first); without the two add_* slots, kdim=3 and vdim=5 given by position
    # landed in other parameters here and the layer was built for 8-wide keys and values
    args = (8, 2, 0.0, True, False, False, 3, 5, True)
    ref, ours = torch.nn.MultiheadAttention(*args).double(), nn.MultiheadAttention(*args).double()
    assert (ours.kdim, ours.vdim, ours.batch_first) == (ref.kdim, ref.vdim, ref.batch_first)
    ours.load_state_dict(ref.state_dict())
    q, k, v = rand(2, 4, 8), rand(2, 5, 3, seed=1), rand(2, 5, 5, seed=2)
    for got, want in zip(ours(q, k, v), ref(q, k, v), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("which", ["key_padding_mask", "attn_mask", "float-attn_mask"])
def test_multihead_attention_fully_masked_query_as_torch(rand, need_weights, which):
    """A query with every key masked: torch's general path (training mode here) gives NaN
    weights and output when it returns the weights (softmax of a row of -inf) and weights 0
    (output = out_proj.bias) when it does not (scaled_dot_product_attention). Gradients follow:
    NaN spreads through the softmax's backward with need_weights=True."""
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    with torch.no_grad():
        ref.out_proj.bias.normal_()  # torch initialises it to zero: make the output visible
    ours = nn.MultiheadAttention(8, 2, batch_first=True).double()
    ours.load_state_dict(ref.state_dict())
    n, lq, s = 2, 3, 4
    q, k, v = rand(n, lq, 8), rand(n, s, 8, seed=1), rand(n, s, 8, seed=2)
    if which == "key_padding_mask":
        mask = torch.zeros(n, s, dtype=torch.bool)
        mask[0] = True  # every key of sample 0 is padding
    else:
        mask = torch.zeros(lq, s, dtype=torch.bool)
        mask[1] = True  # query 1 may attend to no key
        if which == "float-attn_mask":
            mask = torch.zeros(lq, s, dtype=torch.float64).masked_fill(mask, float("-inf"))
    kw = {which.removeprefix("float-"): mask, "need_weights": need_weights}
    results = []
    for module in (ours, ref):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out, weights = module(*leaves, **kw)
        loss = (out * torch.arange(out.numel(), dtype=torch.float64).reshape(out.shape)).sum()
        results.append((out, weights, *torch.autograd.grad(loss, [*leaves, *module.parameters()])))
    assert results[1][0].isnan().any() == need_weights  # the reference does what is described
    for a, b in zip(results[0], results[1], strict=True):
        if b is None:
            assert a is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_dropout_in_training_as_torch(rand, need_weights):
    """Dropout on the attention weights draws one Bernoulli per (batch, head, query, key), in
    torch's order: under one seed the outputs, weights and gradients equal torch's. It raised
    (the mask's shape broadcast (N, H, L) against (N, H)) unless the sizes happened to fit."""
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, dropout=0.4, batch_first=True).double()
    ours = nn.MultiheadAttention(8, 2, dropout=0.4, batch_first=True).double()
    ours.load_state_dict(ref.state_dict())
    q, k, v = rand(2, 3, 8), rand(2, 5, 8, seed=1), rand(2, 5, 8, seed=2)
    results = []
    for module in (ours, ref):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        torch.manual_seed(5)
        out, weights = module(*leaves, need_weights=need_weights)
        loss = (out * torch.arange(out.numel(), dtype=torch.float64).reshape(out.shape)).sum()
        results.append((out, weights, *torch.autograd.grad(loss, [*leaves, *module.parameters()])))
    for a, b in zip(*results, strict=True):
        if b is None:
            assert a is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_sdpa_dropout_as_torch(rand):
    q, k, v = rand(2, 3, 4, 5), rand(2, 3, 6, 5, seed=1), rand(2, 3, 6, 7, seed=2)
    outs = []
    for fn in (F.scaled_dot_product_attention, TF.scaled_dot_product_attention):
        torch.manual_seed(5)
        outs.append(fn(q, k, v, dropout_p=0.3))
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("q", "k", "v"),
    [((2, 6, 4, 5), (2, 2, 3, 5), (2, 3, 3, 7)), ((6, 4, 5), (1, 3, 5), (6, 3, 2))],
    ids=["4-D", "3-D"],
)
def test_sdpa_grouped_query_attention_as_torch(check_op, rand, q, k, v):
    """torch's enable_gqa=True: key and value heads (dim -3) divide the query's and are
    repeated for each group (it was a TypeError)."""
    inputs = [rand(*q), rand(*k, seed=1), rand(*v, seed=2)]
    make = lambda fn: lambda q, k, v: fn(q, k, v, enable_gqa=True)  # noqa: E731
    check_op(make(F.scaled_dot_product_attention), make(TF.scaled_dot_product_attention), inputs)


def test_sdpa_grouped_query_attention_refuses_heads_that_do_not_divide(rand):
    with pytest.raises(RuntimeError, match=r"key's 4 heads \(dim -3\) must divide the query's 6"):
        F.scaled_dot_product_attention(
            rand(1, 6, 2, 3), rand(1, 4, 2, 3), rand(1, 4, 2, 3), enable_gqa=True
        )
    with pytest.raises(ValueError, match="enable_gqa=True needs query with a heads dim"):
        F.scaled_dot_product_attention(rand(2, 3), rand(2, 3), rand(2, 3), enable_gqa=True)


@pytest.mark.parametrize(
    ("add_bias_kv", "add_zero_attn"), [(True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize("masks", ["none", "padding+attn", "all-masked"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_multihead_attention_bias_kv_and_zero_attn_as_torch(
    rand, add_bias_kv, add_zero_attn, masks, need_weights, dtype
):
    """torch's add_bias_kv (a learned key/value appended, Xavier-normal, drawn in torch's
    order: same seed, same state_dict) and add_zero_attn (a zero key/value per head); the
    appended positions are never masked, so even a query whose keys are all masked attends to
    them. Outputs, weights (N, L, S + extras) and every gradient (they were refused)."""
    torch.manual_seed(0)
    options = dict(add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, dtype=dtype)
    ref = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, **options)
    torch.manual_seed(0)
    ours = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, **options)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    n, lq, s = 2, 3, 4
    q, k, v = (
        rand(lq, n, 8).to(dtype),
        rand(s, n, 3, seed=1).to(dtype),
        rand(s, n, 5, seed=2).to(dtype),
    )
    kw = {"need_weights": need_weights}
    if masks == "padding+attn":
        kw |= {
            "key_padding_mask": ~_bool_mask(n, s, seed=1),
            "attn_mask": ~_bool_mask(lq, s, seed=3),
        }
    elif masks == "all-masked":
        kw["key_padding_mask"] = torch.ones(n, s, dtype=torch.bool)
    results = []
    for module in (ours, ref):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out, weights = module(*leaves, **kw)
        loss = (out * torch.linspace(-1, 1, out.numel(), dtype=dtype).reshape(out.shape)).sum()
        results.append((out, weights, *torch.autograd.grad(loss, [*leaves, *module.parameters()])))
    for a, b in zip(*results, strict=True):
        if b is None:
            assert a is None
        else:
            torch.testing.assert_close(a, b, equal_nan=True)  # dtype's default tolerance


def test_sdpa_causal_with_a_mask_raises_a_runtime_error_as_torch(rand):
    """torch documents an error for attn_mask with is_causal, and raises a RuntimeError when
    the inputs need a gradient; this raised a ValueError only."""
    q = rand(2, 3, 4).requires_grad_()
    mask = torch.ones(3, 3, dtype=torch.bool)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        TF.scaled_dot_product_attention(q, q, q, mask, is_causal=True)
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, q, q, mask, is_causal=True)


def _mha_pair(batch_first=True):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def _run_mha(module, x, **kw):
    """Output, weights and the warnings of one call, or the exception it raised."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = module(x, x, x, **kw)
        except Exception as e:  # compared with torch's below
            return e
    return out, {(w.category, str(w.message)) for w in caught}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("padding", [False, True])
def test_multihead_attention_is_causal_is_a_hint_as_torch(rand, need_weights, padding):
    """is_causal needs attn_mask (torch raises a RuntimeError without; this applied a causal
    mask), and torch puts a causal mask in the mask's place only where it calls
    scaled_dot_product_attention (no key_padding_mask, need_weights=False)."""
    ours, ref = _mha_pair()
    x = rand(2, 5, 8)
    kpm = {"key_padding_mask": ~_bool_mask(2, 5, seed=1)} if padding else {}
    kw = dict(kpm, need_weights=need_weights, is_causal=True)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ref(x, x, x, **kw)
    with pytest.raises(RuntimeError, match=r"is_causal=True .* needs attn_mask, got None"):
        ours(x, x, x, **kw)
    not_causal = ~_bool_mask(5, 5, seed=2)  # True = masked out, not a causal pattern
    (out, w), _ = _run_mha(ours, x, attn_mask=not_causal, **kw)
    (ref_out, ref_w), _ = _run_mha(ref, x, attn_mask=not_causal, **kw)
    torch.testing.assert_close(out, ref_out, rtol=1e-10, atol=1e-10)
    if need_weights:
        torch.testing.assert_close(w, ref_w, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize(
    ("attn", "padding"),
    [
        (torch.float32, None),
        (None, torch.float32),
        (torch.float32, torch.float32),
        (torch.float32, torch.bool),
        (torch.bool, torch.float32),
        (torch.float64, torch.bool),
        (torch.float16, None),
        (torch.float64, torch.float64),
    ],
)
def test_multihead_attention_float_mask_dtypes_as_torch(rand, attn, padding, need_weights):
    """float64 queries: torch refuses a float mask of another dtype where it computes the
    weights itself (need_weights) and allows float32 in scaled_dot_product_attention; a bool
    mask beside a float one is taken in the query's dtype, with a UserWarning. This took
    every float mask."""
    ours, ref = _mha_pair()
    x = rand(2, 4, 8)
    kw = {"need_weights": need_weights}
    if attn is not None:
        kw["attn_mask"] = (
            ~_bool_mask(4, 4, seed=2) if attn == torch.bool else rand(4, 4, seed=2).to(attn)
        )
    if padding is not None:
        pad = ~_bool_mask(2, 4, seed=3)
        kw["key_padding_mask"] = pad if padding == torch.bool else -2.0 * pad.to(padding)
    got, expected = _run_mha(ours, x, **kw), _run_mha(ref, x, **kw)
    if isinstance(expected, Exception):
        assert isinstance(expected, RuntimeError)
        assert isinstance(got, RuntimeError) and "make a float mask of dtype" in str(got)
        return
    assert not isinstance(got, Exception), got
    (out, w), warned = got
    (ref_out, ref_w), ref_warned = expected
    torch.testing.assert_close(out, ref_out, rtol=1e-10, atol=1e-10)
    if need_weights:
        torch.testing.assert_close(w, ref_w, rtol=1e-10, atol=1e-10)
    assert warned == ref_warned


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64])
def test_integer_masks_are_refused_naming_the_allowed_dtypes(dtype):
    """torch takes bool or floating masks only (uint8 ones are refused since torch 2); the error
    said '... must be a floating-point tensor', as if a bool mask were refused too."""
    q = torch.randn(2, 4, 8)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    ours = nn.MultiheadAttention(8, 2, batch_first=True)
    pad, square = torch.zeros(2, 4, dtype=dtype), torch.zeros(4, 4, dtype=dtype)
    for kw in ({"key_padding_mask": pad}, {"attn_mask": square}):
        name = next(iter(kw))
        with pytest.raises(AssertionError, match="only bool and floating types"):
            ref(q, q, q, **kw)
        with pytest.raises(TypeError, match=rf"{name} must be a bool or floating-point tensor, "):
            ours(q, q, q, **kw)
    with pytest.raises(TypeError, match=r"attn_mask must be a bool or floating-point tensor, "):
        F.scaled_dot_product_attention(q, q, q, attn_mask=square)


def test_dropout_one_drops_every_weight_as_torch():
    """dropout_p=1 (and MultiheadAttention(dropout=1) in training) gave NaN outputs and
    gradients (the kept weights scaled by 1 / (1 - p) = 1/0); torch drops every weight: output 0
    (MultiheadAttention: out_proj.bias), weights 0, gradients 0, and no random number drawn."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    results = []
    for f in (F.scaled_dot_product_attention, TF.scaled_dot_product_attention):
        leaf = q.clone().requires_grad_()
        torch.manual_seed(1)
        out = f(leaf, leaf, leaf, dropout_p=1.0)
        (grad,) = torch.autograd.grad(out.sum(), leaf)
        results.append((out, grad, torch.rand(3)))  # the random stream after the call
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)
    assert not results[0][0].any()
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(4, 2, dropout=1.0).double()
    ours = nn.MultiheadAttention(4, 2, dropout=1.0).double()
    ours.load_state_dict(ref.state_dict())
    with torch.no_grad():
        ref.out_proj.bias.normal_(generator=g)
        ours.out_proj.bias.copy_(ref.out_proj.bias)
    x = torch.randn(3, 2, 4, generator=g, dtype=torch.float64)
    for need_weights in (True, False):
        kw = {"need_weights": need_weights}
        (a, wa), (b, wb) = ours(x, x, x, **kw), ref(x, x, x, **kw)
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, ref.out_proj.bias.detach().expand_as(a))
        if need_weights:
            torch.testing.assert_close(wa, wb)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
def test_multihead_kdim_zero_is_a_size_and_bad_sizes_are_named():
    """kdim=0 was read as 'not given' (kdim or embed_dim): ours then wanted keys of embed_dim
    features where torch takes keys of none (the key projection is its bias alone). Same
    parameters and outputs as torch now; a negative or fractional kdim/vdim is refused naming
    it (torch: 'Trying to create tensor with negative dimension')."""
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, kdim=0, vdim=3, bias=True).double()
    ours = nn.MultiheadAttention(8, 2, kdim=0, vdim=3, bias=True).double()
    assert (ours.kdim, ours.vdim) == (ref.kdim, ref.vdim) == (0, 3)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in ref.state_dict().items()
    ]
    ours.load_state_dict(ref.state_dict())
    with torch.no_grad():  # a key bias, so that the scores are not all equal
        ref.in_proj_bias.normal_()
        ours.in_proj_bias.copy_(ref.in_proj_bias)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(4, 2, 8, generator=g, dtype=torch.float64)
    k = torch.randn(5, 2, 0, dtype=torch.float64)
    v = torch.randn(5, 2, 3, generator=g, dtype=torch.float64)
    (a, wa), (b, wb) = ours(q, k, v), ref(q, k, v)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(wa, wb)
    with pytest.raises(ValueError, match=r"kdim must be >= 0, got -1"):
        nn.MultiheadAttention(8, 2, kdim=-1)
    with pytest.raises(TypeError, match=r"vdim must be Integral, got float 2.5"):
        nn.MultiheadAttention(8, 2, vdim=2.5)


# (query, key, value) shapes where torch returns zeros early: no query, or an empty value
EARLY = [
    ((2, 4, 0, 4), (2, 2, 3, 4), (2, 2, 3, 5)),  # no query; heads 4 vs 2 never broadcast
    ((3, 0, 4), (2, 3, 4), (2, 3, 5)),  # no query; batch 3 vs 2
    ((2, 0, 4), (2, 3, 3), (2, 3, 5)),  # no query; feature sizes 4 vs 3
    ((2, 0, 4), (2, 3, 4), (2, 2, 5)),  # no query; 3 keys, 2 values
    ((0, 4), (2, 3, 4), (2, 3, 5)),  # no query; torch's shape is the query's, (0, 5)
    ((2, 4, 3, 4), (2, 2, 0, 4), (2, 2, 0, 5)),  # no key: zeros, heads 4 vs 2
    ((2, 3, 4), (2, 0, 3), (2, 0, 5)),  # no key; feature sizes 4 vs 3
    ((0, 4, 3, 4), (0, 2, 3, 4), (0, 2, 3, 5)),  # batch 0; heads 4 vs 2
    ((2, 3, 4), (0, 3, 4), (0, 3, 5)),  # the key's batch 0: the query's shape, zeros
    ((2, 4, 3, 4), (2, 2, 3, 4), (2, 2, 3, 0)),  # 0 value features
]


@pytest.mark.parametrize("shapes", EARLY, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("options", [{}, {"enable_gqa": True}, {"is_causal": True}, "mask"])
def test_sdpa_empty_attention_returns_torchs_zeros_early(shapes, options):
    """torch returns zeros of the query's shape (last dim Ev) when there is no query or the
    value is empty, before matching the shapes against each other; ours raised ValueError
    (batch dims, feature sizes, key/value lengths, the mask's shape, enable_gqa's heads) or
    broadcast the query's shape against the key's."""
    results = []
    for fn in (F.scaled_dot_product_attention, TF.scaled_dot_product_attention):
        q, k, v = (torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes)
        kw = {"attn_mask": torch.ones(5, 7, dtype=torch.bool)} if options == "mask" else options
        out = fn(q, k, v, **kw)
        grads = torch.autograd.grad(out.square().sum() + out.sum(), (q, k, v))
        results.append((out, *grads))
    assert results[0][0].shape == results[1][0].shape
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_sdpa_empty_attention_still_checks_what_torch_checks_first():
    """Before returning early torch still checks dtypes, dims and the mask's dtype; ours too.
    The options are checked as for any input (torch skips dropout_p's range and the causal +
    mask rule there; a wrong option is wrong whatever the batch)."""
    q, k, v = torch.zeros(2, 0, 4), torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)
    cases = [
        ((q, k.double(), v), {}),
        ((torch.zeros(0), k, v), {}),
        ((q, k, v), {"attn_mask": torch.ones(0, 3, dtype=torch.int64)}),
    ]
    for args, kw in cases:
        with pytest.raises(RuntimeError):
            TF.scaled_dot_product_attention(*args, **kw)
        with pytest.raises((TypeError, ValueError)):
            F.scaled_dot_product_attention(*args, **kw)
    with pytest.raises(ValueError, match=r"dropout_p must be <= 1\.0, got 2\.0"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=2.0)
