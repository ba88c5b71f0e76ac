"""Section K lesson: CycleGAN translating thin digits into bold ones without paired examples."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _seeded


def _thicken(img: np.ndarray) -> np.ndarray:
    """Grey-level dilation with a plus-shaped element: each pixel takes its 4-neighbour max."""
    p = np.pad(img, [(0, 0)] * (img.ndim - 2) + [(1, 1), (1, 1)])
    shifted = [p[..., 1:-1, 1:-1], p[..., :-2, 1:-1], p[..., 2:, 1:-1], p[..., 1:-1, :-2]]
    return np.max(np.stack([*shifted, p[..., 1:-1, 2:]]), axis=0)


def _two_domain_digits(n_train: int = 600, seed: int = 0) -> SimpleNamespace:
    """Unpaired digits: domain A thin strokes, domain B bold (dilated) strokes of other images.

    The two training sets are drawn from disjoint halves of a shuffled ``load_digits``, so no
    B image is the bold version of any A image. The remaining digits form a held-out A set
    whose bold versions (``b_true``) show what an ideal translation would give. Pixels are
    scaled to [-1, 1] to match the generator's tanh output.
    """
    import torch
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0  # (1797, 8, 8) in [0, 1]
    order = np.random.default_rng(seed).permutation(len(images))
    a, b = images[order[:n_train]], _thicken(images[order[n_train : 2 * n_train]])
    test = images[order[2 * n_train :]]

    def as_tensor(x: np.ndarray) -> torch.Tensor:
        return torch.tensor(2 * x - 1, dtype=torch.float32)[:, None]  # (N, 1, 8, 8)

    return SimpleNamespace(
        a=as_tensor(a), b=as_tensor(b), a_test=as_tensor(test), b_true=as_tensor(_thicken(test))
    )


def _train(data: SimpleNamespace, steps: int = 200, batch: int = 32):
    """Adam (lr 2e-3, beta1 0.5 as in the paper) on random unpaired minibatches."""
    import torch

    from mlcanon.models import CycleGAN, CycleGANLoss

    with _seeded(0):
        model, crit = CycleGAN(ngf=16, n_blocks=2, ndf=16), CycleGANLoss(10.0, 5.0)
        opt_g = torch.optim.Adam(model.generator_parameters(), lr=2e-3, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(model.discriminator_parameters(), lr=2e-3, betas=(0.5, 0.999))
        before = _held_out_cycle(model, data)
        history = []
        for _ in range(steps):
            ia = torch.randint(len(data.a), (batch,))
            ib = torch.randint(len(data.b), (batch,))  # independent: the domains are unpaired
            history.append(model.training_step(data.a[ia], data.b[ib], crit, opt_g, opt_d))
    return model.eval(), crit, before, history


def _held_out_cycle(model, data) -> float:
    """Mean |F(G(a)) - a| over the held-out A digits."""
    import torch

    with torch.no_grad():
        return float(torch.mean(torch.abs(model.g_ba(model.g_ab(data.a_test)) - data.a_test)))


def _domain_scores(data, fake_b, rec_a) -> dict[str, float]:
    """Mean P(domain B) of a logistic regression fitted on real A vs real B training images."""
    from mlcanon.linear_model import LogisticRegression

    X = np.concatenate([data.a.reshape(len(data.a), -1), data.b.reshape(len(data.b), -1)])
    y = np.r_[np.zeros(len(data.a)), np.ones(len(data.b))]
    clf = LogisticRegression(C=1.0, max_iter=500).fit(X.astype(np.float64), y)
    sets = {"held-out A": data.a_test, "G(A)": fake_b, "F(G(A))": rec_a, "bold A": data.b_true}
    return {
        k: float(clf.predict_proba(v.reshape(len(v), -1).double().numpy())[:, 1].mean())
        for k, v in sets.items()
    }


@lesson("cyclegan")
def cyclegan_lesson(ctx: Context) -> None:
    import torch

    ctx.say("""
        CycleGAN learns to translate images between two domains when no image comes with its
        counterpart. Two generators map G: A -> B and F: B -> A; two discriminators D_A and
        D_B each learn to tell real images of their domain from translated ones, and each
        generator is trained to fool its discriminator. Adversarial training alone only makes
        G(a) look like some B image, not like a's own B version: any mapping onto the B
        distribution fools D_B. The cycle-consistency loss pins it down: F(G(a)) must return
        a and G(F(b)) must return b (L1, weight lambda_cyc = 10), so the translation has to
        keep enough of the input to be undone. An identity loss (weight 5 = 0.5 lambda_cyc)
        asks G to leave images that are already in B alone, which keeps overall tone.

        The adversarial term is least squares (LSGAN): the discriminator regresses its score
        map to 1 on real and 0 on fake, and the generator pushes the score of its fakes to 1.
        The discriminators are PatchGANs: they score overlapping patches, not whole images.
        Here domain A is scikit-learn's 8 x 8 digits, domain B is bold digits (each pixel the
        maximum of its 4 neighbours) made from a disjoint set of images, so the pairs are
        never seen; both generators and critics come from mlcanon.models (CycleGAN).
        """)
    data = _two_domain_digits()
    model, crit, before, history = _train(data)
    after = _held_out_cycle(model, data)
    with torch.no_grad():
        fake_b = model.g_ab(data.a_test)
        rec_a = model.g_ba(fake_b)
    _loss_checks(ctx, model, crit, data)
    _measure(ctx, data, fake_b, rec_a, before, after)
    _figures(ctx, data, fake_b, rec_a, history)


def _loss_checks(ctx: Context, model, crit, data) -> None:
    """Every loss term against torch.nn.functional, in float64 on held-out images."""
    import copy

    import torch
    import torch.nn.functional as F

    m = copy.deepcopy(model).double()
    a, b = data.a_test[:64].double(), data.b_true[-64:].double()
    g, f, d_b = m.g_ab, m.g_ba, m.d_b

    def lsgan_g():
        score = d_b(g(a))
        return F.mse_loss(score, torch.ones_like(score))

    def lsgan_d():
        real, fake = d_b(b), d_b(g(a))
        return 0.5 * (
            F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))
        )

    with torch.no_grad():
        terms = crit.generator(m, a, b)
        pairs = [
            ("LSGAN generator term E[(D_B(G(a)) - 1)^2]", terms["gan_ab"], lsgan_g),
            (
                "cycle term |F(G(a)) - a|_1 + |G(F(b)) - b|_1",
                terms["cycle"],
                lambda: F.l1_loss(f(g(a)), a) + F.l1_loss(g(f(b)), b),
            ),
            (
                "identity term |G(b) - b|_1 + |F(a) - a|_1",
                terms["identity"],
                lambda: F.l1_loss(g(b), b) + F.l1_loss(f(a), a),
            ),
            ("LSGAN critic loss for D_B", crit.discriminator(d_b, b, g(a)), lsgan_d),
        ]
        for name, ours, ref in pairs:
            ctx.check(
                name,
                ours.item(),
                lambda ref=ref: ref().item(),
                rtol=1e-12,
                ref="torch.nn.functional",
            )


def _measure(ctx: Context, data, fake_b, rec_a, before: float, after: float) -> None:
    import torch

    def ink(x: torch.Tensor) -> float:  # mean pixel value mapped back to [0, 1]
        return float((x.mean() + 1) / 2)

    scores = _domain_scores(data, fake_b, rec_a)
    mse_in = float(torch.mean((data.a_test - data.b_true) ** 2))
    mse_out = float(torch.mean((fake_b - data.b_true) ** 2))
    ctx.table(
        "held-out A digits: mean ink and a logistic regression's P(domain B)",
        ["images", "mean ink", "P(B)"],
        [
            [k, ink(v), scores[k]]
            for k, v in {
                "held-out A": data.a_test,
                "G(A)": fake_b,
                "F(G(A))": rec_a,
                "bold A": data.b_true,
            }.items()
        ],
    )
    factor = before / after
    ctx.claim(
        "training lowers the held-out cycle error |F(G(a)) - a| at least fivefold",
        factor >= 5,
        f"{before:.3f} -> {after:.3f} (x{factor:.1f})",
    )
    ctx.claim(
        "G(A) carries more ink than A, at least half-way to the bold digits",
        ink(fake_b) - ink(data.a_test) >= 0.5 * (ink(data.b_true) - ink(data.a_test)),
        f"ink A {ink(data.a_test):.3f}, G(A) {ink(fake_b):.3f}, bold {ink(data.b_true):.3f}",
    )
    ctx.claim(
        "a classifier of real A vs real B calls G(A) domain B and F(G(A)) domain A",
        scores["G(A)"] > 0.5 > scores["F(G(A))"],
        f"mean P(B): G(A) {scores['G(A)']:.3f}, F(G(A)) {scores['F(G(A))']:.3f}",
    )
    ctx.claim(
        "G(a) is closer to a's unseen bold version than a itself is",
        mse_out < mse_in,
        f"MSE to bold: input {mse_in:.4f}, G(a) {mse_out:.4f}",
    )
    ctx.say(f"""
        Measured here: the held-out cycle error falls from {before:.3f} to {after:.3f}
        (x{factor:.1f}); the translated digits carry {ink(fake_b):.3f} mean ink against
        {ink(data.a_test):.3f} for the inputs and {ink(data.b_true):.3f} for the real bold
        versions, and a linear classifier trained on real A vs B gives them P(B) =
        {scores["G(A)"]:.2f} on average. No pair was ever shown, yet G(a) lands closer to a's
        own bold version (MSE {mse_out:.4f}) than a does ({mse_in:.4f}): the cycle term made
        the translation keep each digit's shape while the adversarial term made it bold.
        Mean ink and a linear score are coarse; they show the direction of the change, not
        that the images are indistinguishable from real bold digits.
        """)


def _figures(ctx: Context, data, fake_b, rec_a, history) -> None:
    rows = {"A": data.a_test, "G(A)": fake_b, "F(G(A))": rec_a, "bold A (unseen)": data.b_true}
    with ctx.figure("translations", figsize=(8, 4.4)) as fig:
        axes = fig.subplots(4, 8)
        for r, (label, imgs) in enumerate(rows.items()):
            for i in range(8):
                axes[r, i].imshow(imgs[i, 0].numpy(), cmap="gray_r", vmin=-1, vmax=1)
                axes[r, i].set_xticks([])
                axes[r, i].set_yticks([])
            axes[r, 0].set_ylabel(label, fontsize=8)
        fig.suptitle("held-out digits translated A -> B -> A")
    with ctx.figure("losses", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        for key in ("cycle", "identity", "gan_ab", "d_b"):
            ax.plot([h[key] for h in history], label=key, lw=1)
        ax.set(xlabel="step", ylabel="loss", title="CycleGAN training terms", yscale="log")
        ax.legend()
