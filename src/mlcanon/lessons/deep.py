"""Section G lessons on deep-learning mechanics: backpropagation, vanishing gradients,
activations, and Function vs Module — all run on the hand-differentiated ops of
:mod:`mlcanon.nn`."""

from __future__ import annotations

from functools import partial

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _digits, _grads, _seeded


@lesson("backprop")
def backprop_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import MLP

    ctx.say("""
        A network computes z^l = W^l a^(l-1) + b^l and a^l = sigma(z^l) layer after layer. The
        chain rule gives every derivative of the cost C, but applied naively it recomputes the
        same products for every weight. Backpropagation names the shared quantity, the error
        delta^l = dC/dz^l, and computes it once per layer, from the top down:

        BP1, output layer: delta^L = grad_a C * sigma'(z^L). BP2, one layer back:
        delta^l = ((W^(l+1))^T delta^(l+1)) * sigma'(z^l). BP3 and BP4, the parameters:
        dC/db^l = delta^l and dC/dW^l = delta^l (a^(l-1))^T. (The notes number the two
        parameter equations the other way round; the equations are the same.) With a softmax
        output and cross-entropy, BP1 collapses to delta^L = p - y.

        One backward sweep costs about as much as one forward sweep: each layer does one
        matrix product forward (W a) and two backward (W^T delta and delta a^T). The check
        below compares the four equations, written out in NumPy in mlcanon.nn.MLP, with
        central differences (C(w + e) - C(w - e)) / 2e, which need two forward passes per
        parameter, and with torch's autograd.
        """)
    d = _digits()
    X, y = d.X.numpy(), d.y.numpy()
    small = MLP([64, 12, 10], "tanh", "cross_entropy", random_state=0)
    dW, db = small.backward(X[:40], y[:40])
    params = [p.copy() for p in small.weights + small.biases]  # the order of dW + db

    def written_out_cost(flat: np.ndarray) -> float:
        """The net's mean cross-entropy, written out: tanh hidden layer, softmax output."""
        sizes = np.cumsum([p.size for p in params])[:-1]
        Ws_bs = [f.reshape(p.shape) for f, p in zip(np.split(flat, sizes), params, strict=True)]
        Ws, bs = Ws_bs[: len(params) // 2], Ws_bs[len(params) // 2 :]
        a = X[:40]
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = a @ W.T + b
            a = z if i == len(Ws) - 1 else np.tanh(z)
        z = a - a.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(40), y[:40]]))

    def central_differences(eps: float = 1e-6) -> np.ndarray:
        theta = np.concatenate([p.ravel() for p in params])
        out = np.empty_like(theta)
        for i in range(theta.size):
            e = np.zeros_like(theta)
            e[i] = eps
            out[i] = (written_out_cost(theta + e) - written_out_cost(theta - e)) / (2 * eps)
        return out

    ctx.check(
        "BP1-BP4 vs central differences, every weight and bias",
        np.concatenate([g.ravel() for g in dW + db]),
        central_differences,
        rtol=1e-5,
        atol=1e-9,
        ref="central differences (eps=1e-6) of the cost written out in NumPy",
    )

    mlp = MLP([64, 32, 16, 10], "sigmoid", "cross_entropy", random_state=1)
    dW, db = mlp.backward(X[:200], y[:200])

    def torch_grads():
        Ws = [torch.tensor(W, requires_grad=True) for W in mlp.weights]
        bs = [torch.tensor(b, requires_grad=True) for b in mlp.biases]
        a = torch.tensor(X[:200])
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = a @ W.T + b
            a = z if i == len(Ws) - 1 else torch.sigmoid(z)
        torch.nn.functional.cross_entropy(a, torch.tensor(y[:200])).backward()
        return np.concatenate([t.grad.numpy().ravel() for t in Ws + bs])

    ctx.check(
        "BP1-BP4 vs torch autograd (3-layer sigmoid net, 200 digits)",
        np.concatenate([g.ravel() for g in dW + db]),
        torch_grads,
        rtol=1e-10,
        atol=1e-14,
        ref="torch autograd",
    )

    costs, accs = [], []
    for _ in range(200):
        costs.append(mlp.step(X, y, 1.5))
        accs.append(float((mlp.predict(d.X_test.numpy()) == d.y_test.numpy()).mean()))
    deltas = []
    zs, _ = mlp.forward(X)
    p = np.exp(zs[-1] - zs[-1].max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(10)[y]) / len(y)
    for layer in range(len(mlp.weights) - 1, -1, -1):
        deltas.append(np.linalg.norm(delta))  # |delta^l|, summed over the batch
        if layer:
            s = 1 / (1 + np.exp(-zs[layer - 1]))
            delta = (delta @ mlp.weights[layer]) * s * (1 - s)
    ctx.table(
        "training the sigmoid MLP by BP1-BP4 (full-batch gradient descent, lr 1.5)",
        ["step", "cost", "test accuracy"],
        [[k, costs[k], accs[k]] for k in (0, 49, 99, 149, 199)],
    )
    ctx.claim(
        "gradient descent with these gradients learns the digits",
        accs[-1] > 0.85,
        f"test accuracy {accs[-1]:.3f} after 200 steps (chance 0.1)",
    )
    ctx.say("""
        The error shrinks as it travels down: BP2 multiplies by sigma'(z) <= 1/4 at every
        sigmoid layer (see the vanishing-gradients lesson for what that does to deep nets).
        """)
    with ctx.figure("backprop-training", figsize=(9, 3.5)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(costs, label="cost")
        ax1.plot(accs, label="test accuracy")
        ax1.set(xlabel="gradient step", title="training with the four equations")
        ax1.legend()
        ax2.bar([f"delta^{len(deltas) - k}" for k in range(len(deltas))], deltas)
        ax2.set(yscale="log", title="size of the error per layer (after training)")


def _deep_net(activation: str, init: str, norm: bool, depth: int = 20, width: int = 64):
    """A deep MLP of our modules with the given hidden activation, initialization and norm."""
    import torch

    from mlcanon import nn

    layers: list = []
    for i in range(depth):
        lin = nn.Linear(64 if i == 0 else width, width)
        fan_in = lin.weight.shape[1]
        fan_out = lin.weight.shape[0]
        var = {
            "small": 1e-4,
            "xavier": 2.0 / (fan_in + fan_out),
            "he": 2.0 / fan_in,
            "large": 8.0 / fan_in,
        }[init]
        std = var**0.5
        with torch.no_grad():
            lin.weight.normal_(0.0, std)
            lin.bias.zero_()
        layers += [lin, *([nn.BatchNorm1d(width)] if norm else [])]
        layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    layers.append(nn.Linear(width, 10))
    return torch.nn.Sequential(*layers).double()


@lesson("vanishing-gradients")
def vanishing_gradients_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import nn
    from mlcanon.nn import functional as F

    ctx.say("""
        Backpropagation multiplies the error by W^T and by the activation's derivative once per
        layer. If the typical factor is below 1 the gradient shrinks geometrically towards the
        input (vanishing); above 1 it grows (exploding). Two things set the factor: the
        derivative of the activation (sigmoid' <= 1/4, ReLU' is 0 or 1) and the scale of the
        weights, i.e. the initialization. Normalization layers reset the scale of every layer's
        input and so decouple the gradient from both.

        Measured below: the norm of dC/dW for each of the 20 layers of a width-64 network on
        200 digits, at initialization, for several combinations. Xavier (Glorot & Bengio 2010)
        draws W with variance 2/(fan_in + fan_out), a compromise between keeping the forward
        variance (1/fan_in, LeCun's initialization) and the backward one (1/fan_out); He (He et
        al. 2015) uses 2/fan_in to make up for ReLU zeroing half its inputs. Here the hidden
        layers are square (64 x 64), so Xavier and LeCun coincide.
        """)
    d = _digits()
    x, y = d.X[:200], d.y[:200]
    configs = [
        ("sigmoid", "xavier", False),
        ("sigmoid", "small", False),
        ("relu", "small", False),
        ("relu", "xavier", False),
        ("relu", "he", False),
        ("relu", "large", False),
        ("sigmoid", "small", True),
        ("relu", "small", True),
    ]
    norms, rows = {}, []
    for k, (act, init, norm) in enumerate(configs):
        with _seeded(k):
            net = _deep_net(act, init, norm)
        grads = _grads(net, F.cross_entropy(net(x), y))
        per_layer = [
            g.norm().item() for g, p in zip(grads, net.parameters(), strict=True) if p.dim() == 2
        ][:-1]
        name = f"{act} + {init}{' + BN' if norm else ''}"
        norms[name] = per_layer
        rows.append([name, per_layer[0], per_layer[-1], per_layer[0] / per_layer[-1]])
    ctx.table(
        "|dC/dW| of the first and last hidden layer",
        ["network", "layer 1", "layer 20", "ratio first / last"],
        rows,
    )
    sig = norms["sigmoid + xavier"]
    ctx.claim(
        "sigmoid' <= 1/4: a 20-layer sigmoid net's first layer gets < 1e-3 of the last's "
        "gradient even with Xavier init",
        sig[0] / sig[-1] < 1e-3,
        f"ratio {sig[0] / sig[-1]:.2e}",
        ref="notes' claim, measured",
    )
    he = norms["relu + he"]
    ctx.claim(
        "ReLU with He init keeps every layer's gradient within a factor 10 of the last's",
        max(he) / min(he) < 10,
        f"max/min over layers = {max(he) / min(he):.2f}",
    )
    small = norms["relu + small"]
    ctx.claim(
        "ReLU alone does not prevent vanishing: with std 0.01 weights every layer's "
        "gradient is below 1e-20",
        max(small) < 1e-20,
        f"largest |dC/dW| = {max(small):.1e}",
    )
    big = norms["relu + large"]
    ctx.claim(
        "ReLU with twice He's standard deviation explodes: every layer's gradient is > 1e4 "
        "times the He net's",
        min(big) > 1e4 * max(he),
        f"smallest |dC/dW| {min(big):.2e} vs largest with He init {max(he):.2e}",
    )
    bn = [norms["sigmoid + small + BN"], norms["relu + small + BN"]]
    spread = max(max(v) / min(v) for v in bn)
    ctx.claim(
        "batch normalization after every layer repairs the bad initialization: all layers "
        "within a factor 100 of each other",
        spread < 100,
        f"max/min over layers = {spread:.1f} (sigmoid and ReLU nets)",
    )
    relu_bn = norms["relu + small + BN"]
    ctx.claim(
        "with BN the ReLU net's first layer gets a larger gradient than its last",
        relu_bn[0] > relu_bn[-1],
        f"layer 1 {relu_bn[0]:.2e}, layer 20 {relu_bn[-1]:.2e}",
    )
    ctx.say(f"""
        The ReLU net with tiny weights shows why the ratio alone can mislead: dC/dW^l =
        delta^l (a^(l-1))^T, and here both factors vanish — the activations die going forward
        and the error dies going backward — so every layer's gradient lies between
        {min(small):.0e} and {max(small):.0e} and the ratio of the first to the last is
        {small[0] / small[-1]:.2f}. With BN the ReLU net's first layer gets
        {relu_bn[0] / relu_bn[-1]:.1f} times the gradient of its last: in a deep plain network
        batch normalization itself makes gradients grow towards the input (Yang et al. 2019),
        one reason residual connections accompany it in practice.
        """)
    ctx.claim(
        "ReLU with tiny weights gives every layer a smaller gradient than the sigmoid net "
        "with Xavier weights gives its first",
        max(small) < sig[0],
        f"largest |dC/dW| {max(small):.1e} (ReLU, std 0.01) vs {sig[0]:.1e} (sigmoid, layer 1)",
    )
    ctx.say("""
        So the notes' explanation is half the story: the sigmoid's small derivative does make
        deep sigmoid networks vanish, but the scale of the weights matters as much — ReLU with
        tiny weights vanishes faster than sigmoid with Xavier weights, and too large weights
        explode instead. The cures act on the factor per layer: activations with derivative 1
        (ReLU), variance-preserving initialization (Xavier, He), normalization (BN, LN, GN),
        and residual connections that add an identity path to every factor.
        """)
    _exploding(ctx, x, y)
    with _seeded(0):
        ref = torch.nn.Sequential(
            torch.nn.Linear(64, 64),
            torch.nn.BatchNorm1d(64),
            torch.nn.Sigmoid(),
            torch.nn.Linear(64, 10),
        ).double()
    ours = torch.nn.Sequential(
        nn.Linear(64, 64), nn.BatchNorm1d(64), nn.Sigmoid(), nn.Linear(64, 10)
    ).double()
    ours.load_state_dict(ref.state_dict())
    ctx.check(
        "per-layer gradients of our modules vs the same torch.nn network",
        torch.cat([g.ravel() for g in _grads(ours, F.cross_entropy(ours(x), y))]).numpy(),
        lambda: torch.cat(
            [g.ravel() for g in _grads(ref, torch.nn.functional.cross_entropy(ref(x), y))]
        ).numpy(),
        rtol=1e-9,
        atol=1e-12,
        ref="torch autograd",
    )
    with ctx.figure("gradient-norm-per-layer", figsize=(7, 4)) as fig:
        ax = fig.subplots()
        for name, vals in norms.items():
            ax.semilogy(range(1, 21), vals, marker=".", label=name)
        ax.set(
            xlabel="layer (1 = next to the input)",
            ylabel="|dC/dW|",
            title="gradient norm per layer at initialization",
        )
        ax.legend(fontsize=7)


def _clip_by_total_norm(grads: list, max_norm: float) -> float:
    """Scale all gradients in place by min(1, max_norm / ||g||), ||g|| over all of them."""
    import torch

    total = torch.sqrt(sum((g**2).sum() for g in grads)).item()
    for g in grads:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total


def _exploding(ctx: Context, x, y) -> None:
    """Train the exploding ReLU net with and without clipping, and the He-initialized one."""
    import torch

    from mlcanon.nn import functional as F

    runs = {}
    for name, init, clip in (
        ("std 2x He, no clipping", "large", None),
        ("std 2x He, clipped to norm 1", "large", 1.0),
        ("He init, no clipping", "he", None),
    ):
        with _seeded(7):
            net = _deep_net("relu", init, False)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        losses = []
        for _ in range(20):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            if clip:
                _clip_by_total_norm([p.grad for p in net.parameters()], clip)
            opt.step()
            losses.append(loss.item())
        runs[name] = losses
    ctx.table(
        "SGD (learning rate 0.01, 20 full-batch steps on 200 digits), 20-layer ReLU net",
        ["run", "loss at step 1", "step 2", "step 20"],
        [[k, v[0], v[1], v[-1]] for k, v in runs.items()],
    )
    raw, clipped, he = runs.values()
    ctx.claim(
        "without clipping the exploding net's loss blows up (> 1e10 after one step, not "
        "finite at the end); clipped, it stays finite and falls",
        raw[1] > 1e10
        and not np.isfinite(raw[-1])
        and bool(np.all(np.isfinite(clipped)))
        and clipped[-1] < clipped[0],
        f"unclipped: {raw[0]:.3g}, {raw[1]:.3g}, ..., {raw[-1]};"
        f" clipped: {clipped[0]:.3g} -> {clipped[-1]:.3g}",
    )
    ctx.say(f"""
        Exploding: with weights of twice He's standard deviation each ReLU layer doubles the
        signal, forward and backward, and after 20 layers the loss starts at {raw[0]:.3g}
        and the gradient is so large that one SGD step takes it to {raw[1]:.3g} (and to
        {raw[-1]} after {len(raw)} steps). Clipping the total gradient norm to 1 bounds the
        step, so training proceeds ({clipped[0]:.3g} -> {clipped[-1]:.3g} in {len(raw)}
        steps), but it only treats the symptom: the net is still badly scaled and learns
        slowly. Fixing the initialization removes the cause: the He net starts at
        {he[0]:.3g}. Clipping is what recurrent nets use, where the same matrix multiplies
        the gradient at every time step (see the rnn lesson).
        """)
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(5, 3, generator=gen, dtype=torch.float64) * 10 for _ in range(3)]
    ours = [g.clone() for g in grads]
    _clip_by_total_norm(ours, 1.0)
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    ctx.check(
        "clipping by total norm",
        torch.cat([g.ravel() for g in ours]).numpy(),
        torch.cat([p.grad.ravel() for p in params]).numpy(),
        rtol=1e-12,
        ref="torch.nn.utils.clip_grad_norm_",
    )


@lesson("activations")
def activations_lesson(ctx: Context) -> None:
    import torch
    import torch.nn.functional as TF

    from mlcanon import nn
    from mlcanon.nn import functional as F

    vs_torch = partial(ctx.check, rtol=1e-12, atol=1e-15, ref="torch.nn.functional")
    ctx.say("""
        ReLU, max(x, 0): derivative 1 for x > 0, so it does not shrink gradients, and it is
        cheap; but a unit whose input stays negative gets gradient 0 and stops learning (a
        "dead" unit). LeakyReLU keeps a fixed small slope a (0.01) for x < 0, so negative
        inputs still pass some gradient. PReLU (He et al. 2015) makes that slope a learned
        parameter, one per channel, trained by backpropagation like any weight:
        dC/da_c = sum over the positions of channel c with x <= 0 of g * x. ReLU6 clips at 6:
        min(max(x, 0), 6); the bounded range keeps activations representable in low-precision
        arithmetic (MobileNet), at the price of gradient 0 above 6.
        """)
    x = torch.linspace(-8, 8, 161, dtype=torch.float64)
    slope = torch.tensor([0.25], dtype=torch.float64)
    ours = {
        "ReLU": F.relu,
        "LeakyReLU(0.01)": F.leaky_relu,
        "PReLU(a=0.25)": lambda t: F.prelu(t, slope),
        "ReLU6": F.relu6,
        "ELU": F.elu,
    }
    refs = {
        "ReLU": TF.relu,
        "LeakyReLU(0.01)": TF.leaky_relu,
        "PReLU(a=0.25)": lambda t: TF.prelu(t, slope),
        "ReLU6": TF.relu6,
        "ELU": TF.elu,
    }
    curves = {}
    for name, fn in ours.items():
        xo, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
        yo, yr = fn(xo), refs[name](xr)
        yo.sum().backward()
        yr.sum().backward()
        vs_torch(f"{name}: forward on [-8, 8]", yo.detach().numpy(), yr.detach().numpy())
        vs_torch(f"{name}: derivative on [-8, 8]", xo.grad.numpy(), xr.grad.numpy())
        curves[name] = (yo.detach().numpy(), xo.grad.numpy())
    ctx.table(
        "values and derivatives",
        ["activation", "f(-2)", "f'(-2)", "f(7)", "f'(7)"],
        [[n, c[0][60], c[1][60], c[0][150], c[1][150]] for n, c in curves.items()],
    )

    d = _digits()
    with _seeded(0):
        net = torch.nn.Sequential(nn.Linear(64, 32), nn.PReLU(32), nn.Linear(32, 10)).double()
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        F.cross_entropy(net(d.X), d.y).backward()
        opt.step()
    a = net[1].weight.detach()
    acc = (net(d.X_test).argmax(1) == d.y_test).double().mean().item()
    ctx.say(f"""
        A PReLU layer with 32 slopes, all starting at 0.25, trained with the rest of a
        64-32-10 network on the digits (Adam, 150 full-batch steps, test accuracy {acc:.3f}).
        The slopes move apart: the data decide per unit how much of the negative side to let
        through — from {a.min():.2f} to {a.max():.2f}, mean {a.mean():.2f}.
        """)
    ctx.claim(
        "trained PReLU slopes leave their common start 0.25 and spread out",
        (a - 0.25).abs().max().item() > 0.1 and a.std().item() > 0.05,
        f"slopes in [{a.min():.3f}, {a.max():.3f}], std {a.std():.3f}",
    )
    h = net[0](d.X).detach()
    xs, ws = h.clone().requires_grad_(), a.clone().requires_grad_()
    xr, wr = h.clone().requires_grad_(), a.clone().requires_grad_()
    F.prelu(xs, ws).pow(2).sum().backward()
    TF.prelu(xr, wr).pow(2).sum().backward()
    vs_torch("PReLU slope gradient at the trained state", ws.grad.numpy(), wr.grad.numpy())
    negative = (h <= 0).double().mean().item()
    ctx.say(f"""
        {100 * negative:.0f}% of the inputs to the PReLU are negative on the training images. A
        ReLU would pass zero gradient through every one of them; the PReLU passes a times the
        gradient, and learns a from exactly those inputs.
        """)
    with ctx.figure("activations", figsize=(10, 3.8)) as fig:
        ax1, ax2, ax3 = fig.subplots(1, 3)
        for name, (yv, gv) in curves.items():
            ax1.plot(x.numpy(), yv, label=name)
            ax2.plot(x.numpy(), gv, label=name)
        ax1.set(title="f(x)", xlabel="x")
        ax2.set(title="f'(x)", xlabel="x")
        ax1.legend(fontsize=7)
        ax3.hist(a.numpy(), bins=12)
        ax3.axvline(0.25, color="k", ls="--", label="initial 0.25")
        ax3.set(title="learned PReLU slopes", xlabel="a_c")
        ax3.legend(fontsize=7)


class _SwishFunction:
    """Built lazily so that importing the lessons does not import torch."""

    cls = None

    @classmethod
    def get(cls):
        if cls.cls is None:
            from torch.autograd import Function

            class Swish(Function):
                """y = x sigmoid(beta x); forward saves what backward needs."""

                @staticmethod
                def forward(fctx, x, beta):
                    s = (beta * x).sigmoid()
                    fctx.save_for_backward(x, beta, s)
                    return x * s

                @staticmethod
                def backward(fctx, grad):
                    x, beta, s = fctx.saved_tensors
                    ds = s * (1 - s)  # sigma'
                    grad_x = grad * (s + x * beta * ds)
                    grad_beta = (grad * x * x * ds).sum().reshape(beta.shape)
                    return grad_x, grad_beta

            cls.cls = Swish
        return cls.cls


def _jacobians(fn, inputs, h: float = 1e-6):
    """Jacobian of ``fn`` w.r.t. all inputs: from its backward (one vector-Jacobian product per
    output entry) and from central differences (the definition), as two (n_out, n_in) arrays."""
    import torch

    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    analytic = np.stack(
        [
            torch.cat([g.ravel() for g in torch.autograd.grad(o, leaves, retain_graph=True)])
            .detach()
            .numpy()
            for o in out.ravel()
        ]
    )
    columns = []
    with torch.no_grad():
        for t in leaves:
            for i in range(t.numel()):
                flat = t.view(-1)
                old = flat[i].item()
                flat[i] = old + h
                up = fn(*leaves).ravel()
                flat[i] = old - h
                down = fn(*leaves).ravel()
                flat[i] = old
                columns.append(((up - down) / (2 * h)).numpy())
    return analytic, np.stack(columns, axis=1)


@lesson("function-vs-module")
def function_vs_module_lesson(ctx: Context) -> None:
    import torch
    from torch import nn as tnn

    from mlcanon import nn
    from mlcanon.nn import functional as F

    ctx.say("""
        A torch.autograd.Function is one differentiable operation without state: a static
        forward(ctx, inputs) that computes the output and saves what the gradient will need
        (ctx.save_for_backward), and a static backward(ctx, grad_output) that returns one
        gradient per input. Autograd calls backward for you; a Function is how a new primitive
        — a fused kernel, a custom derivative — enters the graph. Every op of mlcanon.nn is
        one.

        An nn.Module is a stateful building block: it owns Parameters (registered, so
        .parameters() hands them to an optimizer), buffers (running statistics), a train/eval
        flag, and serialization (state_dict). Its forward composes Functions and other
        Modules; it has no backward of its own. mlcanon.nn.Linear holds weight and bias and
        calls mlcanon.nn.functional.linear, whose Function has the hand-written backward.

        Below, both written in a dozen lines: Swish y = x sigmoid(beta x) (Ramachandran et al.
        2017) as a Function with dy/dx = s + beta x s(1 - s) and dy/dbeta = x^2 s(1 - s), and a
        Module holding a learnable beta.
        """)
    swish = _SwishFunction.get()

    class Swish(tnn.Module):
        def __init__(self):
            super().__init__()
            self.beta = tnn.Parameter(torch.tensor(1.0, dtype=torch.float64))

        def forward(self, x):
            return swish.apply(x, self.beta)

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    beta = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ctx.check(
        "Swish's Jacobian from its backward vs central differences",
        *_jacobians(swish.apply, (x, beta)),
        rtol=1e-6,
        atol=1e-9,
        ref="central differences (h = 1e-6)",
    )
    x2, b2 = x.detach().clone().requires_grad_(), beta.detach().clone().requires_grad_()
    (swish.apply(x, beta) ** 2).sum().backward()
    (x2 * torch.sigmoid(b2 * x2)).pow(2).sum().backward()
    ctx.check(
        "Swish gradients vs autograd through torch built-ins",
        np.append(x.grad.numpy().ravel(), beta.grad.item()),
        np.append(x2.grad.numpy().ravel(), b2.grad.item()),
        rtol=1e-12,
        atol=1e-15,
        ref="torch autograd",
    )
    for name, fn, inputs in [
        (
            "linear",
            F.linear,
            (
                torch.randn(3, 4, dtype=torch.float64, generator=gen),
                torch.randn(2, 4, dtype=torch.float64, generator=gen),
            ),
        ),
        (
            "conv2d",
            F.conv2d,
            (
                torch.randn(1, 2, 5, 4, dtype=torch.float64, generator=gen),
                torch.randn(3, 2, 2, 3, dtype=torch.float64, generator=gen),
            ),
        ),
        (
            "layer_norm",
            lambda t: F.layer_norm(t, (4,)),
            (torch.randn(3, 4, dtype=torch.float64, generator=gen),),
        ),
    ]:
        ctx.check(
            f"mlcanon.nn.functional.{name}: Jacobian from its backward vs central differences",
            *_jacobians(fn, inputs),
            rtol=1e-6,
            atol=1e-9,
            ref="central differences (h = 1e-6)",
        )

    module = Swish()
    opt = torch.optim.SGD(module.parameters(), lr=2.0, momentum=0.9)
    target = torch.linspace(-3, 3, 61, dtype=torch.float64)
    for _ in range(400):
        opt.zero_grad()
        ((module(target) - target * torch.sigmoid(2.5 * target)) ** 2).mean().backward()
        opt.step()
    ctx.claim(
        "the Module's beta is found by an optimizer through the Function's backward",
        abs(module.beta.item() - 2.5) < 1e-3,
        f"beta = {module.beta.item():.5f}, true 2.5",
        ref="measured",
    )

    with _seeded(0):
        ref = tnn.Sequential(tnn.Linear(6, 5), tnn.BatchNorm1d(5), tnn.Dropout(0.5)).double()
    ours = tnn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Dropout(0.5)).double()
    ctx.check(
        "state_dict keys of our modules",
        np.array(list(ours.state_dict())),
        np.array(list(ref.state_dict())),
        ref="torch.nn",
    )
    ours.load_state_dict(ref.state_dict())
    ours.eval(), ref.eval()
    xs = torch.randn(4, 6, dtype=torch.float64, generator=gen)
    ctx.check(
        "eval output after loading torch's state_dict",
        ours(xs).detach().numpy(),
        ref(xs).detach().numpy(),
        rtol=1e-12,
        atol=1e-15,
        ref="torch.nn",
    )
    ours.train()
    a, b = ours(xs), ours(xs)
    ctx.claim(
        "train() switches dropout on (two calls differ), eval() off",
        not torch.equal(a, b),
        "module flag, not a Function argument the caller must thread through",
    )
    ctx.table(
        "Function vs Module",
        ["", "autograd.Function", "nn.Module"],
        [
            [
                "holds",
                "nothing between calls (ctx lives for one call)",
                "Parameters, buffers, submodules",
            ],
            ["defines", "forward and backward", "forward only (backward by autograd)"],
            ["used for", "new primitives, custom gradients", "layers, whole models"],
            ["called as", "Fn.apply(x, w)", "module(x)"],
            ["examples here", "_Linear, _Conv2d, LSTMLayer", "Linear, Conv2d, LSTM"],
        ],
    )
