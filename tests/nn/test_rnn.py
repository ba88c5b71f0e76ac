"""RNN, LSTM and GRU loaded from torch modules: same outputs, final states and gradients."""

import pytest
import torch

import mlcanon.nn as nn
from mlcanon.nn._rnn import GRULayer, LSTMLayer, RNNLayer

PAIRS = [
    (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    (nn.LSTM, torch.nn.LSTM, {}),
    (nn.GRU, torch.nn.GRU, {}),
]
IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
# (num_layers, batch_first, bidirectional, bias, batch)
CONFIGS = [(1, False, False, True, 3), (2, True, True, True, 1), (3, False, True, False, 4)]


def _pair(ours_cls, ref_cls, kw, layers, batch_first, bidirectional, bias):
    torch.manual_seed(0)
    ref = ref_cls(
        4, 5, layers, batch_first=batch_first, bidirectional=bidirectional, bias=bias, **kw
    )
    ours = ours_cls(
        4, 5, layers, batch_first=batch_first, bidirectional=bidirectional, bias=bias, **kw
    )
    ours.load_state_dict(ref.state_dict())
    return ours.double(), ref.double()


def _states(cls, layers, directions, batch, seed):
    g = torch.Generator().manual_seed(seed)
    make = lambda: torch.randn(layers * directions, batch, 5, generator=g, dtype=torch.float64)  # noqa: E731
    return (make(), make()) if cls is nn.LSTM else make()


def _flat(out):
    y, state = out
    return [y, *(state if isinstance(state, tuple) else (state,))]


@pytest.mark.parametrize(("ours_cls", "ref_cls", "kw"), PAIRS, ids=IDS)
@pytest.mark.parametrize("config", CONFIGS, ids=["1layer", "2layer-bf-bi", "3layer-bi-nobias"])
@pytest.mark.parametrize("initial_state", [True, False])
def test_recurrent_module_matches_torch(rand, ours_cls, ref_cls, kw, config, initial_state):
    layers, batch_first, bidirectional, bias, batch = config
    ours, ref = _pair(ours_cls, ref_cls, kw, layers, batch_first, bidirectional, bias)
    assert list(ours.state_dict()) == list(ref.state_dict())
    x = rand(batch, 7, 4) if batch_first else rand(7, batch, 4)
    hx = (
        _states(ours_cls, layers, 2 if bidirectional else 1, batch, seed=1)
        if initial_state
        else None
    )
    leaves = []
    results = []
    for module in (ours, ref):
        xi = x.clone().requires_grad_()
        hi = (
            None
            if hx is None
            else tuple(h.clone().requires_grad_() for h in hx)
            if isinstance(hx, tuple)
            else hx.clone().requires_grad_()
        )
        outs = _flat(module(xi, hi))
        g = torch.Generator().manual_seed(5)
        loss = sum((o * torch.randn(o.shape, generator=g, dtype=torch.float64)).sum() for o in outs)
        wrt = [
            xi,
            *([] if hi is None else hi if isinstance(hi, tuple) else [hi]),
            *module.parameters(),
        ]
        results.append((outs, torch.autograd.grad(loss, wrt)))
        leaves.append(wrt)
    (o1, g1), (o2, g2) = results
    for a, b in zip(o1, o2, strict=True):  # output, h_n (and c_n)
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    for a, b in zip(g1, g2, strict=True):  # input, initial states, every parameter
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(("ours_cls", "ref_cls", "kw"), PAIRS, ids=IDS)
def test_unbatched_and_float32(ours_cls, ref_cls, kw):
    ours, ref = _pair(ours_cls, ref_cls, kw, 2, False, True, True)
    ours, ref = ours.float(), ref.float()
    x = torch.randn(6, 4)
    for a, b in zip(_flat(ours(x)), _flat(ref(x)), strict=True):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_layers_pass_gradcheck(rand, reverse):
    x, h0, c0 = rand(3, 2, 2), rand(2, 3, seed=1), rand(2, 3, seed=2)  # tiny: T=3, B=2, I=2, H=3
    for k, layer in ((1, RNNLayer), (4, LSTMLayer), (3, GRULayer)):
        w_ih, w_hh = 0.5 * rand(k * 3, 2, seed=3), 0.5 * rand(k * 3, 3, seed=4)
        b_ih, b_hh = rand(k * 3, seed=5), rand(k * 3, seed=6)
        params = [
            t.requires_grad_() for t in (x.clone(), h0.clone(), c0.clone(), w_ih, w_hh, b_ih, b_hh)
        ]
        if layer is LSTMLayer:
            fn = lambda *a: LSTMLayer.apply(*a, reverse)  # noqa: E731
            assert torch.autograd.gradcheck(fn, params)
        else:
            args = [params[0], params[1], *params[3:]]
            extra = (reverse, False) if layer is RNNLayer else (reverse,)
            assert torch.autograd.gradcheck(lambda *a, L=layer, e=extra: L.apply(*a, *e), args)


def test_inter_layer_dropout_only_in_training():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    assert torch.equal(a, b)
    lstm.train()
    assert not torch.equal(lstm(x)[0], a)


def test_bad_recurrent_arguments():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = torch.zeros(5, 2, 3)
    bad = torch.zeros(2, 2, 4)
    with pytest.raises(ValueError, match=r"hx must have shape \(4, 2, 4\) .* got \(2, 2, 4\)"):
        lstm(x, (bad, torch.zeros(4, 2, 4)))
    with pytest.raises(ValueError, match=r"cx must have shape \(4, 2, 4\)"):
        lstm(x, (torch.zeros(4, 2, 4), bad))
    with pytest.raises(ValueError, match="hx must be a pair"):
        lstm(x, torch.zeros(4, 2, 4))
    with pytest.raises(ValueError, match=r"input.shape\[-1\]=2 must equal input_size=3"):
        nn.GRU(3, 4)(torch.zeros(5, 2, 2))
    with pytest.raises(
        ValueError, match="nonlinearity must be one of 'tanh', 'relu'; got 'sigmoid'"
    ):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be >= 1, got 0"):
        nn.GRU(3, 0)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_frozen_weights_get_no_gradient_and_the_others_match_torch(name):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4).double()
    ours = getattr(nn, name)(3, 4).double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    for m in (theirs, ours):
        m.weight_hh_l0.requires_grad_(False)
        m.bias_ih_l0.requires_grad_(False)
        m(x)[0].pow(2).sum().backward()
    assert ours.weight_hh_l0.grad is None and ours.bias_ih_l0.grad is None
    for key in ("weight_ih_l0", "bias_hh_l0"):
        torch.testing.assert_close(getattr(ours, key).grad, getattr(theirs, key).grad)


def test_lstm_takes_torch_default_proj_size():
    """torch.nn.LSTM's ``proj_size`` (positional after ``bidirectional``) at its default 0 is
    taken (it raised TypeError): same parameters and outputs as torch; > 0 is refused with a
    ValueError naming it."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, 2, True, True, 0.0, True, 0).double()
    torch.manual_seed(0)
    ours = nn.LSTM(3, 4, 2, True, True, 0.0, True, 0).double()
    assert ours.proj_size == ref.proj_size == 0
    for a, b in zip(ours.state_dict().values(), ref.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    (y, (h, c)), (ref_y, (ref_h, ref_c)) = ours(x), ref(x)
    torch.testing.assert_close((y, h, c), (ref_y, ref_h, ref_c))
    with pytest.raises(ValueError, match=r"proj_size=4 must be smaller than hidden_size=4"):
        nn.LSTM(3, 4, proj_size=4)
    # a GRU has no projection: refused as torch refuses it, not built with an unused weight_hr
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        torch.nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)


PACKED = [  # (num_layers, bidirectional, bias, lengths, sorted)
    (2, True, True, [6, 4, 1], True),
    (2, True, True, [2, 6, 1, 4], False),
    (3, False, False, [5, 5, 2, 2, 2, 1], True),
    (1, True, False, [3, 7, 1, 7, 3, 3, 2], False),
    (2, False, True, [4], True),
]


@pytest.mark.parametrize("case", PACKED, ids=["sorted", "unsorted", "3layer", "ties", "one"])
@pytest.mark.parametrize(("ours_cls", "ref_cls", "kw"), PAIRS, ids=IDS)
def test_packed_sequence_matches_torch(ours_cls, ref_cls, kw, case):
    # a PackedSequence was refused ("input must be a torch.Tensor"), so a model converted with
    # from_torch broke on packed batches; torch runs each sequence over its own length only.
    # The batch runs step by step on the sequences still going (it ran one sequence at a time):
    # outputs, h_n (c_n) and the gradients of the input, hx and every weight stay torch's
    from torch.nn.utils.rnn import pack_padded_sequence

    layers, bidirectional, bias, lengths, enforce_sorted = case
    ours, ref = _pair(ours_cls, ref_cls, kw, layers, True, bidirectional, bias)
    g = torch.Generator().manual_seed(3)
    lengths = torch.tensor(lengths)
    x = torch.randn(len(lengths), int(lengths.max()), 4, generator=g, dtype=torch.float64)
    directions = 2 if bidirectional else 1
    state = _states(ours_cls, layers, directions, len(lengths), seed=4)
    results = []
    for model in (ours, ref):
        model.zero_grad()
        xi = x.clone().requires_grad_()
        hi = (
            tuple(s.clone().requires_grad_() for s in state)
            if isinstance(state, tuple)
            else state.clone().requires_grad_()
        )
        packed = pack_padded_sequence(xi, lengths, batch_first=True, enforce_sorted=enforce_sorted)
        y, h = model(packed, hi)
        flat = [y.data, *(h if isinstance(h, tuple) else (h,))]
        g_out = torch.Generator().manual_seed(5)
        sum(
            (f * torch.randn(f.shape, generator=g_out, dtype=f.dtype)).sum() for f in flat
        ).backward()
        hx_grads = [s.grad for s in (hi if isinstance(hi, tuple) else (hi,))]
        grads = [xi.grad, *hx_grads] + [p.grad for p in model.parameters()]
        results.append((y, flat, grads))
    (y, flat, grads), (y_ref, flat_ref, grads_ref) = results
    assert torch.equal(y.batch_sizes, y_ref.batch_sizes)
    for key in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(y, key), getattr(y_ref, key)
        assert (a is None and b is None) or torch.equal(a, b)
    for a, b in zip(flat + grads, flat_ref + grads_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize(
    ("layers", "bidirectional", "bias", "batch_first"),
    [(1, False, True, False), (2, True, True, True), (3, True, False, False)],
    ids=["1layer", "2layer-bi-bf", "3layer-bi-nobias"],
)
def test_lstm_projection_matches_torch(layers, bidirectional, bias, batch_first, packed):
    """proj_size > 0 was refused: h_t = W_hr (o tanh c_t) of size proj_size (weight_hr_l{k}),
    h_0 and the outputs that size, c hidden_size. Same state_dict keys and shapes as torch,
    outputs, h_n, c_n and the gradients of input, h_0, c_0 and every weight to 1e-10."""
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    kw = {"bidirectional": bidirectional, "bias": bias, "batch_first": batch_first}
    ref = torch.nn.LSTM(4, 5, layers, proj_size=2, **kw).double()
    ours = nn.LSTM(4, 5, layers, proj_size=2, **kw).double()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in ref.state_dict().items()
    ]
    ours.load_state_dict(ref.state_dict())
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([3, 6, 1, 6])
    shape = (4, 6, 4) if batch_first else (6, 4, 4)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    d = 2 if bidirectional else 1
    h0 = torch.randn(layers * d, 4, 2, generator=g, dtype=torch.float64)
    c0 = torch.randn(layers * d, 4, 5, generator=g, dtype=torch.float64)
    results = []
    for model in (ours, ref):
        leaves = [t.clone().requires_grad_() for t in (x, h0, c0)]
        inp = leaves[0]
        if packed:
            inp = pack_padded_sequence(inp, lengths, batch_first=batch_first, enforce_sorted=False)
        y, (h, c) = model(inp, (leaves[1], leaves[2]))
        flat = [y.data if packed else y, h, c]
        g_out = torch.Generator().manual_seed(2)
        loss = sum((f * torch.randn(f.shape, generator=g_out, dtype=f.dtype)).sum() for f in flat)
        results.append(flat + list(torch.autograd.grad(loss, [*leaves, *model.parameters()])))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_packed_rnn_double_backward_matches_torch(nonlinearity):
    """The Elman RNN's backward is differentiable (create_graph): on a packed batch, whose
    states stop and start with the sequences, the second derivatives are torch's too."""
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    ref = torch.nn.RNN(3, 4, 2, nonlinearity=nonlinearity, bidirectional=True).double()
    ours = nn.RNN(3, 4, 2, nonlinearity=nonlinearity, bidirectional=True).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    results = []
    for model in (ours, ref):
        leaf = x.clone().requires_grad_()
        packed = pack_padded_sequence(leaf, torch.tensor([2, 5, 3]), enforce_sorted=False)
        y, h = model(packed)
        wrt = [leaf, *model.parameters()]
        grads = torch.autograd.grad(y.data.pow(2).sum() + h.pow(3).sum(), wrt, create_graph=True)
        second = torch.autograd.grad(sum(g.pow(2).sum() for g in grads), wrt)
        results.append([*grads, *second])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_dropout_with_one_layer_warns_as_torch(cls):
    """dropout > 0 acts between layers only, so with num_layers=1 it does nothing: torch warns
    (UserWarning), ours was silent. The same message; none with 2 layers or dropout 0."""
    import warnings

    messages = []
    for lib in (nn, torch.nn):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater") as w:
            getattr(lib, cls)(3, 4, 1, dropout=0.25)
        messages.append([str(r.message) for r in w])
    assert messages[0] == messages[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(nn, cls)(3, 4, 2, dropout=0.25)
        getattr(nn, cls)(3, 4, 1, dropout=0.0)


@pytest.mark.parametrize(("ours_cls", "ref_cls", "kw"), PAIRS, ids=IDS)
def test_packed_dropout_draws_as_torch(ours_cls, ref_cls, kw):
    """Dropout between layers on a packed batch in training: torch drops the packed rows
    (sum of lengths, D * H); ours dropped the padded (T, B, D * H) tensor, other draws, so the
    outputs differed from torch's under the same seed. Now the same masks, outputs, gradients
    and random stream afterwards."""
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    ref = ref_cls(3, 4, 3, dropout=0.4, bidirectional=True, **kw).double()
    ours = ours_cls(3, 4, 3, dropout=0.4, bidirectional=True, **kw).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    results = []
    for model in (ours, ref):
        leaf = x.clone().requires_grad_()
        torch.manual_seed(5)
        packed = pack_padded_sequence(leaf, torch.tensor([2, 5, 3]), enforce_sorted=False)
        y, h = model(packed)
        flat = [y.data, *(h if isinstance(h, tuple) else (h,))]
        loss = sum(f.pow(2).sum() for f in flat)
        results.append([*flat, *torch.autograd.grad(loss, [leaf, *model.parameters()])])
        results[-1].append(torch.rand(3))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
