"""Section J lessons on sequence models: recurrent networks and backpropagation through time,
LSTM and GRU, and attention — on the hand-differentiated layers of :mod:`mlcanon.nn`."""

from __future__ import annotations

import math
from functools import partial

from mlcanon.lessons import Context, lesson

from ._nn_common import _seeded


def _compare_with_torch(ctx: Context, ours_cls, ref_cls, label: str, **kw) -> None:
    """Load a torch module's state_dict into ours; check outputs, final states and gradients."""
    import torch

    with _seeded(0):
        ref = ref_cls(5, 7, num_layers=2, bidirectional=True, batch_first=True, **kw).double()
    ours = ours_cls(5, 7, num_layers=2, bidirectional=True, batch_first=True, **kw).double()
    ours.load_state_dict(ref.state_dict())
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 11, 5, dtype=torch.float64, generator=gen)
    weights = torch.randn(3, 11, 14, dtype=torch.float64, generator=gen)
    results = []
    for module in (ours, ref):
        xi = x.clone().requires_grad_()
        out, state = module(xi)
        states = state if isinstance(state, tuple) else (state,)
        loss = (out * weights).sum() + sum((s**2).sum() for s in states)
        grads = torch.autograd.grad(loss, [xi, *module.parameters()])
        results.append((out, states, grads))
    (o1, s1, g1), (o2, s2, g2) = results
    check = partial(ctx.check, rtol=1e-10, atol=1e-12, ref=f"torch.nn.{ref_cls.__name__}")
    check(
        f"{label}: outputs (2 layers, bidirectional, 11 steps)",
        o1.detach().numpy(),
        o2.detach().numpy(),
    )
    check(
        f"{label}: final states",
        torch.cat([s.ravel() for s in s1]).detach().numpy(),
        torch.cat([s.ravel() for s in s2]).detach().numpy(),
    )
    check(
        f"{label}: gradients (input and every weight), hand-written BPTT",
        torch.cat([g.ravel() for g in g1]).numpy(),
        torch.cat([g.ravel() for g in g2]).numpy(),
    )


def _delay_task(n: int, length: int, delay: int, gen):
    """Binary inputs; the target at step t is the input at step t - delay."""
    import torch

    bits = torch.randint(0, 2, (n, length), generator=gen)
    x = bits.double().unsqueeze(2) * 2 - 1
    return x, bits[:, : length - delay]


def _train_delay(delay: int, seed: int = 0, steps: int = 150):
    import torch

    from mlcanon import nn
    from mlcanon.nn import functional as F

    with _seeded(seed):
        rnn, head = nn.RNN(1, 16, batch_first=True).double(), nn.Linear(16, 2).double()
    params = [*rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=0.02)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = _delay_task(32, 30, delay, gen)
        logits = head(rnn(x)[0][:, delay:])
        opt.zero_grad()
        F.cross_entropy(logits.reshape(-1, 2), y.reshape(-1)).backward()
        opt.step()
    x, y = _delay_task(256, 30, delay, gen)
    pred = head(rnn(x)[0][:, delay:]).argmax(2)
    return (pred == y).double().mean().item()


@lesson("rnn")
def rnn_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import nn

    ctx.say("""
        A recurrent network reads a sequence one step at a time and carries a hidden state:
        h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh). The same weights serve every step,
        so the number of parameters does not depend on the length, any length can be read,
        and what was seen earlier can influence what is computed now — the state is the
        network's memory. That is why RNNs suit text, speech and time series, where the
        meaning of an element depends on its context.

        Training unrolls the loop and backpropagates through time (BPTT): the gradient that
        reaches step t from step T is multiplied by W_hh^T diag(1 - h_s^2) once for every step
        in between. mlcanon.nn.RNN implements the loop and its backward by hand; it loads
        torch's weights and reproduces its outputs and gradients.
        """)
    _compare_with_torch(ctx, nn.RNN, torch.nn.RNN, "RNN (tanh)")

    gen = torch.Generator().manual_seed(3)
    x = torch.randn(1, 60, 4, dtype=torch.float64, generator=gen) * 0.5
    curves = {}
    w = torch.randn(32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    orth = torch.linalg.qr(w)[0]
    for label, nonlin, w_hh in [
        ("tanh, rho(W_hh) = 0.5", "tanh", w * 0.5 / torch.linalg.eigvals(w).abs().max()),
        ("tanh, rho = 0.9", "tanh", w * 0.9 / torch.linalg.eigvals(w).abs().max()),
        ("tanh, rho = 1.5", "tanh", w * 1.5 / torch.linalg.eigvals(w).abs().max()),
        ("ReLU, W_hh = 2 x orthogonal", "relu", 2.0 * orth),
    ]:
        with _seeded(4):
            rnn = nn.RNN(4, 32, nonlinearity=nonlin, batch_first=True).double()
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(w_hh)
        xi = x.clone().requires_grad_()
        rnn(xi)[0][0, -1].sum().backward()  # loss at the last step only
        curves[label] = xi.grad[0].norm(dim=1).flip(0).numpy()  # by distance T - t
    rows = [[k, v[0], v[10], v[30], v[59]] for k, v in curves.items()]
    ctx.table(
        "|dL/dx_t| for a loss on the last step, by distance T - t",
        ["recurrence", "0", "10", "30", "59"],
        rows,
    )
    c05, relu = curves["tanh, rho(W_hh) = 0.5"], curves["ReLU, W_hh = 2 x orthogonal"]
    ctx.claim(
        "with spectral radius 0.5 the gradient from 30 steps back is < 1e-6 of the nearest",
        c05[30] < 1e-6 * c05[0],
        f"ratio {c05[30] / c05[0]:.1e}",
    )
    ctx.claim(
        "a ReLU recurrence with W_hh = 2 x orthogonal (spectral radius 2) explodes instead",
        relu[59] > 100 * relu[0],
        f"ratio {relu[59] / relu[0]:.1e}",
    )

    acc = {k: _train_delay(k) for k in (2, 15)}
    ctx.say(f"""
        The consequence for learning: an RNN with 16 units trained for 150 Adam steps to
        output the bit it saw k steps earlier reaches accuracy {acc[2]:.2f} for k = 2 but only
        {acc[15]:.2f} for k = 15 (chance 0.5): the error signal that would connect the output
        to an input 15 steps back has faded before it arrives (Bengio, Simard & Frasconi
        1994). Gated cells (LSTM, GRU — next lesson) were designed for this.
        """)
    ctx.claim(
        "the RNN learns a 2-step memory but not a 15-step one",
        acc[2] > 0.95 and acc[15] < 0.75,
        f"accuracy {acc[2]:.3f} (k=2), {acc[15]:.3f} (k=15)",
    )
    with ctx.figure("bptt-gradient-decay", figsize=(6.5, 4)) as fig:
        ax = fig.subplots()
        for label, v in curves.items():
            ax.semilogy(v, label=label)
        ax.set(
            xlabel="distance T - t (steps back)",
            ylabel="|dL/dx_t|",
            title="backpropagation through time",
        )
        ax.legend(fontsize=8)


def _copy_task(n: int, length: int, gen, symbols: int = 4):
    """A symbol (one-hot) at step 0, then noise; the target is that symbol, at the last step."""
    import torch

    sym = torch.randint(0, symbols, (n,), generator=gen)
    x = torch.zeros(n, length, symbols + 2, dtype=torch.float64)
    x[torch.arange(n), 0, sym] = 1.0
    x[:, 1:, symbols:] = torch.randn(n, length - 1, 2, dtype=torch.float64, generator=gen)
    return x, sym


def _train_copy(cls, length: int = 20, steps: int = 250, hidden: int = 24, seed: int = 0):
    """Train cls on the copy task; return (test accuracy, trained module, its test input)."""
    import torch

    from mlcanon import nn
    from mlcanon.nn import functional as F

    with _seeded(seed):
        rnn, head = cls(6, hidden, batch_first=True).double(), nn.Linear(hidden, 4).double()
    if cls is nn.LSTM:  # forget-gate bias 3 (f ~ 0.95): start out remembering (Gers et al. 2000)
        with torch.no_grad():
            rnn.bias_ih_l0[hidden : 2 * hidden].fill_(3.0)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.01)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = _copy_task(64, length, gen)
        opt.zero_grad()
        F.cross_entropy(head(rnn(x)[0][:, -1]), y).backward()
        opt.step()
    x, y = _copy_task(500, length, gen)
    acc = (head(rnn(x)[0][:, -1]).argmax(1) == y).double().mean().item()
    return acc, rnn, x


def _lstm_internals(lstm, x):
    """Gates and cell states of a one-layer LSTM, recomputed from its weights."""
    import torch

    h = torch.zeros(x.shape[0], lstm.hidden_size, dtype=x.dtype)
    c = torch.zeros_like(h)
    f_plus_i, cells = [], []
    with torch.no_grad():
        for t in range(x.shape[1]):
            z = (
                x[:, t] @ lstm.weight_ih_l0.T
                + lstm.bias_ih_l0
                + h @ lstm.weight_hh_l0.T
                + lstm.bias_hh_l0
            )
            i, f, g, o = z.chunk(4, dim=1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            f_plus_i.append(f + i)
            cells.append(c)
    return torch.stack(f_plus_i), torch.stack(cells)


@lesson("lstm-gru")
def lstm_gru_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import nn

    ctx.say("""
        LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) keeps a
        cell state c beside the hidden state h. Gates i, f, o = sigmoid(.) and the candidate
        g = tanh(.) are computed from x_t and h_(t-1) (torch's row order [i, f, g, o]); then
        c_t = f * c_(t-1) + i * g and h_t = o * tanh(c_t). The cell is updated additively, so
        its gradient path is d c_t / d c_(t-1) = f: no weight matrix and no squashing
        derivative in between, and with f near 1 the error survives many steps.

        Backward through one step, with dh and dc the gradients arriving at step t (dh
        includes the output's gradient and dh_(t+1) W_hh): dc += dh * o * (1 - tanh^2 c_t);
        do = dh * tanh c_t; di = dc * g; dg = dc * i; df = dc * c_(t-1); then multiply by the
        gate derivatives (sigma(1 - sigma) for i, f, o, 1 - g^2 for g) to get the
        pre-activation gradients da_t, and pass on dc_(t-1) = dc * f and
        dh_(t-1) = da_t W_hh. The weight gradients sum da_t x_t^T and da_t h_(t-1)^T over
        time. mlcanon.nn.LSTM and GRU implement exactly this; they load torch's weights and
        match its outputs, final states and gradients:
        """)
    _compare_with_torch(ctx, nn.LSTM, torch.nn.LSTM, "LSTM")
    _compare_with_torch(ctx, nn.GRU, torch.nn.GRU, "GRU")

    acc = {}
    for name, cls in (("RNN", nn.RNN), ("LSTM", nn.LSTM), ("GRU", nn.GRU)):
        acc[name], module, x_test = _train_copy(cls)
        if name == "LSTM":
            lstm, x_lstm = module, x_test
        if name == "GRU":
            gru, x_gru = module, x_test
    ctx.say(f"""
        Long-range copy task: the first of 20 steps shows one of 4 symbols, the other 19
        steps are noise, and the network must name the symbol at the end. Same budget for all
        (24 units, 250 Adam steps of 64 sequences): accuracy RNN {acc["RNN"]:.2f}, LSTM
        {acc["LSTM"]:.2f}, GRU {acc["GRU"]:.2f} (chance 0.25). The vanilla RNN has to carry
        the symbol through 19 multiplications by W_hh and tanh'; the gated cells carry it on
        their additive path (c_t = f c_(t-1) + i g, h_t = (1 - z) n + z h_(t-1)) and learn
        gates that keep it there.
        """)
    ctx.claim(
        "LSTM and GRU solve the 20-step copy task, the vanilla RNN does not",
        acc["LSTM"] > 0.95 and acc["GRU"] > 0.95 and acc["RNN"] < 0.8,
        ", ".join(f"{k} {v:.3f}" for k, v in acc.items()),
    )

    n_lstm = sum(p.numel() for p in nn.LSTM(6, 24).parameters())
    n_gru = sum(p.numel() for p in nn.GRU(6, 24).parameters())
    ctx.check(
        "parameter counts (LSTM, GRU; 6 inputs, 24 units)",
        [n_lstm, n_gru],
        lambda: [
            sum(p.numel() for p in m.parameters())
            for m in (torch.nn.LSTM(6, 24), torch.nn.GRU(6, 24))
        ],
        ref="torch.nn.LSTM / GRU",
    )
    f_plus_i, cells = _lstm_internals(lstm, x_lstm)
    with torch.no_grad():
        h_gru = gru(x_gru)[0]
    ctx.say("""
        The notes say GRU and LSTM differ only in the number of gates. Measured on the two
        trained models, they differ in more:
        """)
    ctx.table(
        "GRU vs LSTM",
        ["", "LSTM", "GRU"],
        [
            [
                "gates",
                "input i, forget f, output o (+ candidate g)",
                "reset r, update z (+ candidate n)",
            ],
            ["memory", "separate cell c, exposed through o * tanh(c)", "the hidden state h itself"],
            [
                "forget vs write",
                "independent: f and i are separate gates",
                "coupled: h = (1 - z) n + z h_(t-1)",
            ],
            ["reset", "-", "r scales W_hn h_(t-1) inside the candidate"],
            ["weights per unit", "4 blocks", "3 blocks"],
            ["parameters here", n_lstm, n_gru],
            [
                "measured: range of f + i",
                f"{f_plus_i.min():.2f} .. {f_plus_i.max():.2f}",
                "(1 - z) + z = 1 always",
            ],
            [
                "measured: max |state|",
                f"|c| = {cells.abs().max():.2f}",
                f"|h| = {h_gru.abs().max():.2f}",
            ],
        ],
    )
    ctx.claim(
        "LSTM's forget and input gates are not tied: f + i ranges well away from 1",
        f_plus_i.min() < 0.8 and f_plus_i.max() > 1.2,
        f"f + i in [{f_plus_i.min():.2f}, {f_plus_i.max():.2f}]",
    )
    ctx.claim(
        "the LSTM cell grows beyond [-1, 1]; the GRU state cannot",
        cells.abs().max() > 1.0 and h_gru.abs().max() <= 1.0,
        f"max |c| = {cells.abs().max():.2f}, max |h_GRU| = {h_gru.abs().max():.3f}",
    )
    with ctx.figure("copy-task", figsize=(9, 3.5)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        ax1.bar(list(acc), list(acc.values()), color=["gray", "C0", "C1"])
        ax1.axhline(0.25, color="k", ls="--", label="chance")
        ax1.set(ylabel="test accuracy", title="20-step copy task")
        ax1.legend()
        ax2.hist(f_plus_i.ravel().numpy(), bins=40)
        ax2.axvline(1.0, color="k", ls="--")
        ax2.set(title="trained LSTM: f + i per unit and step", xlabel="f + i (GRU: always 1)")


def _seq2seq(vocab: int, hidden: int = 32):
    """Bahdanau-style encoder-decoder: a bidirectional GRU encoder, a GRU decoder that attends
    to the encoder states with additive attention before every step."""
    import torch

    from mlcanon import nn

    class Seq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.vocab, self.hidden = vocab, hidden
            self.embed = nn.Linear(vocab + 1, 16, bias=False)  # one-hot -> vector; +1: start
            self.encoder = nn.GRU(16, hidden, batch_first=True, bidirectional=True)
            self.init = nn.Linear(2 * hidden, hidden)
            self.attention = nn.AdditiveAttention(hidden, 2 * hidden, hidden)
            self.decoder = nn.GRU(16 + 2 * hidden, hidden, batch_first=True)
            self.out = nn.Linear(hidden + 2 * hidden, vocab)

        def onehot(self, tokens):
            return torch.nn.functional.one_hot(tokens, self.vocab + 1).double()

        def forward(self, src, tgt=None):
            """Teacher forcing when ``tgt`` is given, greedy decoding otherwise."""
            enc, _ = self.encoder(self.embed(self.onehot(src)))  # (B, S, 2H)
            s = torch.tanh(self.init(enc.mean(1)))  # (B, H)
            prev = torch.full((src.shape[0],), self.vocab, dtype=torch.long)  # start token
            logits, weights = [], []
            for i in range(src.shape[1]):
                context, w = self.attention(s, enc)  # query: the decoder state
                inp = torch.cat([self.embed(self.onehot(prev)), context], 1).unsqueeze(1)
                _, h = self.decoder(inp, s.unsqueeze(0))
                s = h[0]
                step = self.out(torch.cat([s, context], 1))
                logits.append(step)
                weights.append(w)
                prev = tgt[:, i] if tgt is not None else step.argmax(1)
            return torch.stack(logits, 1), torch.stack(weights, 1)  # (B, T, V), (B, T, S)

    return Seq2Seq().double()


@lesson("attention")
def attention_lesson(ctx: Context) -> None:
    import torch
    import torch.nn.functional as TF

    from mlcanon import nn
    from mlcanon.nn import functional as F

    ctx.say("""
        A plain encoder-decoder squeezes the whole input sequence into one vector, the
        encoder's last state. Attention (Bahdanau, Cho & Bengio 2015) lets the decoder look
        back at every encoder state at every step: scores e_ij = score(s_(i-1), h_j) between
        the decoder state and each encoder state, weights a_ij = softmax_j(e_ij), and a
        context c_i = sum_j a_ij h_j fed to the decoder. The weights are an alignment the
        network learns without supervision. Scores: additive (Bahdanau) v^T tanh(W_q s +
        W_k h), multiplicative (Luong) s^T W h, and scaled dot-product (Vaswani et al. 2017)
        q^T k / sqrt(d), the building block of multi-head attention.
        """)
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 8, dtype=torch.float64, generator=gen) for n in (5, 7, 7))
    mask = torch.rand(5, 7, generator=gen) > 0.3
    mask[:, 0] = True
    ctx.check(
        "scaled dot-product attention with a boolean mask",
        F.scaled_dot_product_attention(q, k, v, mask).numpy(),
        lambda: TF.scaled_dot_product_attention(q, k, v, mask).numpy(),
        rtol=1e-12,
        atol=1e-14,
        ref="torch F.scaled_dot_product_attention",
    )
    with _seeded(0):
        ref = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    mha.load_state_dict(ref.state_dict())
    x = torch.randn(3, 6, 8, dtype=torch.float64, generator=gen)
    ctx.check(
        "multi-head attention (2 heads) after loading torch's weights",
        mha(x, x, x)[0].detach().numpy(),
        lambda: ref(x, x, x)[0].detach().numpy(),
        rtol=1e-12,
        atol=1e-14,
        ref="torch.nn.MultiheadAttention",
    )
    add = nn.AdditiveAttention(4, 6, 5).double()
    qa, ka = (
        torch.randn(2, 4, dtype=torch.float64, generator=gen),
        torch.randn(2, 7, 6, dtype=torch.float64, generator=gen),
    )

    def additive_formula():
        e = torch.tanh((qa @ add.weight_query.T).unsqueeze(1) + ka @ add.weight_key.T) @ add.v
        return torch.softmax(e, -1).detach().numpy()

    ctx.check(
        "additive attention weights",
        add(qa, ka)[1].detach().numpy(),
        additive_formula,
        rtol=1e-12,
        atol=1e-14,
        ref="v^T tanh(W_q q + W_k k) with torch ops",
    )

    d = 64
    qs, ks = (torch.randn(1000, d, dtype=torch.float64, generator=gen) for _ in range(2))
    scores = (qs[:, None, :] * ks[:50][None]).sum(-1)  # (1000, 50) raw dot products

    def entropy(logits):
        p = torch.softmax(logits, -1)
        return -(p * p.clamp_min(1e-300).log()).sum(-1).mean().item()

    raw, scaled = entropy(scores), entropy(scores / d**0.5)
    ctx.say(f"""
        Why divide by sqrt(d): for random unit-variance queries and keys the dot product has
        variance d. With d = {d} the raw scores have standard deviation
        {scores.std():.1f}, the softmax over 50 keys is nearly one-hot (entropy {raw:.2f}
        nats, uniform would be {math.log(50):.2f}) and its gradient nearly zero; after dividing
        by sqrt(d) the spread is {(scores / d**0.5).std():.2f} and the entropy {scaled:.2f}.
        """)
    ctx.claim(
        "without the 1/sqrt(d) factor the attention weights saturate",
        raw < 0.5 * scaled,
        f"entropy {raw:.2f} (raw) vs {scaled:.2f} (scaled), d = {d}",
    )

    vocab, length = 8, 6
    with _seeded(0):
        model = _seq2seq(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(1)
    for _ in range(250):
        src = torch.randint(0, vocab, (64, length), generator=gen)
        tgt = src.flip(1)
        logits, _ = model(src, tgt)
        opt.zero_grad()
        F.cross_entropy(logits.reshape(-1, vocab), tgt.reshape(-1)).backward()
        opt.step()
    src = torch.randint(0, vocab, (500, length), generator=gen)
    with torch.no_grad():
        logits, weights = model(src)
    pred = logits.argmax(2)
    token_acc = (pred == src.flip(1)).double().mean().item()
    seq_acc = (pred == src.flip(1)).all(1).double().mean().item()
    aligned = (weights.argmax(2) == torch.arange(length - 1, -1, -1)).double().mean().item()
    ctx.say(f"""
        A seq2seq model with additive attention (bidirectional GRU encoder, GRU decoder, 32
        units, every layer from mlcanon.nn) trained for 250 Adam steps to reverse sequences of
        {length} tokens out of {vocab}: on 500 new sequences, greedy decoding gets
        {100 * token_acc:.1f}% of the tokens and {100 * seq_acc:.1f}% of the whole sequences
        right. Nobody told it where to look, yet at output step i the largest attention weight
        falls on input position {length} - 1 - i for {100 * aligned:.1f}% of the steps: the
        heat map is the anti-diagonal of a reversal.
        """)
    ctx.claim(
        "the attention model learns to reverse sequences",
        token_acc > 0.9,
        f"token accuracy {token_acc:.3f}, sequence accuracy {seq_acc:.3f}",
    )
    ctx.claim(
        "its attention aligns output i with input L - 1 - i (unsupervised)",
        aligned > 0.9,
        f"{100 * aligned:.1f}% of output steps",
    )
    with ctx.figure("attention-heatmap", figsize=(9, 3.6)) as fig:
        axes = fig.subplots(1, 2)
        for ax, b in zip(axes, (0, 1), strict=True):
            ax.imshow(weights[b].numpy(), cmap="viridis", vmin=0, vmax=1)
            ax.set(
                xticks=range(length),
                xticklabels=src[b].tolist(),
                yticks=range(length),
                yticklabels=pred[b].tolist(),
                xlabel="input tokens",
                ylabel="decoded tokens",
                title="attention weights",
            )
