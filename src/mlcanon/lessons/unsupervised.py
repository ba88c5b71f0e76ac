"""Section E lessons: k-means as hard EM, Gaussian mixtures, hidden Markov models."""

from __future__ import annotations

from functools import partial

import numpy as np

from mlcanon.cluster import KMeans, kmeans_elbow
from mlcanon.hmm import CategoricalHMM
from mlcanon.lessons import Context, lesson
from mlcanon.metrics._cluster import silhouette_score
from mlcanon.mixture import GaussianMixture


def _stretched_blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs sheared into long parallel ellipses (k-means' worst case)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(600, 2, centers=[[-4, -4], [0, 0], [4, 4]], random_state=170)
    return X @ np.array([[0.6, -0.64], [-0.41, 0.85]]), y


def _soft_step(X: np.ndarray, means: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """One EM step for equal-weight Gaussians N(mu_k, sigma^2 I): responsibilities, new means."""
    sq = ((X[:, None, :] - means[None]) ** 2).sum(axis=-1)  # (n, k)
    logits = -sq / (2 * sigma**2)
    resp = np.exp(logits - logits.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    return resp, (resp.T @ X) / resp.sum(axis=0)[:, None]


def _lloyd_inertia_path(X: np.ndarray, init: np.ndarray, steps: int) -> list[float]:
    """Inertia after each of the first ``steps`` Lloyd iterations (max_iter = 1, 2, ...)."""
    return [
        KMeans(len(init), init=init, max_iter=i, tol=0.0).fit(X).inertia_
        for i in range(1, steps + 1)
    ]


@lesson("kmeans-em")
def kmeans_em(ctx: Context) -> None:
    from threadpoolctl import threadpool_limits

    # one thread: the data are small, and OpenMP spin-waiting on a busy machine costs far more
    with threadpool_limits(1):
        _kmeans_em(ctx)


def _kmeans_em(ctx: Context) -> None:
    from sklearn import cluster as skc
    from sklearn import metrics as skm
    from sklearn import mixture as skmix

    X, y = _stretched_blobs()
    init = X[[0, 1, 2]]
    km = KMeans(3, init=init).fit(X)
    ctx.say("""
        k-means looks for k centers that minimise the inertia J = sum_i ||x_i - mu_(z_i)||^2.
        Lloyd's algorithm alternates two steps, each of which can only lower J: assign every
        point to its nearest center (best z for fixed mu), then move every center to the mean
        of its points (best mu for fixed z). That is the structure of EM, which alternates an
        E-step (posterior over the hidden labels) and an M-step (parameters that maximise the
        expected log-likelihood). Started from the same three centers, our Lloyd run reproduces
        scikit-learn's to the last label.
        """)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X)
    ctx.check("labels from the same initial centers", km.labels_, ref.labels_, ref="sklearn KMeans")
    ctx.check("inertia", km.inertia_, ref.inertia_, rtol=1e-10, ref="sklearn KMeans")
    ctx.check(
        "centers",
        km.cluster_centers_,
        ref.cluster_centers_,
        rtol=1e-10,
        atol=1e-12,
        ref="sklearn KMeans",
    )

    _hard_limit_of_em(ctx, X, km, init)
    _soft_em_vs_kmeans(ctx, X, y, km, skm=skm, skmix=skmix)
    _elbow_and_silhouette(ctx, X_blobs=_four_blobs(), skc=skc, skm=skm)


def _hard_limit_of_em(ctx: Context, X: np.ndarray, km: KMeans, init: np.ndarray) -> None:
    sigmas = [3.0, 1.0, 0.3, 0.1, 0.03, 0.01]
    rows = []
    for s in sigmas:
        resp, new_means = _soft_step(X, km.cluster_centers_, s)
        hard = np.mean(resp.max(axis=1) > 0.999)
        rows.append([s, hard, float(np.abs(new_means - km.cluster_centers_).max())])
    ctx.say("""
        The precise link: take a mixture of k Gaussians with equal weights and one shared,
        fixed covariance sigma^2 I. Its E-step gives each point soft responsibilities
        r_ik proportional to exp(-||x_i - mu_k||^2 / (2 sigma^2)), and its M-step moves mu_k to
        the r-weighted mean. As sigma shrinks, the largest responsibility tends to 1 and the
        others to 0: the E-step becomes the nearest-center assignment and the M-step becomes
        the plain mean. k-means is this hard-assignment limit of EM. Below, one soft EM step
        from the converged k-means centers, for decreasing sigma: the share of points with a
        responsibility above 0.999 grows to 1 and the step stops moving the centers.
        """)
    ctx.table(
        "one soft EM step from the k-means centers",
        ["sigma", "share hard (r > 0.999)", "max |mu_new - mu_kmeans|"],
        rows,
    )
    ctx.claim(
        "as sigma -> 0 the soft EM step is the Lloyd fixed point",
        rows[-1][1] == 1.0 and rows[-1][2] < 1e-12,
        f"sigma = {sigmas[-1]}: shift {rows[-1][2]:.2e}",
    )

    path = _lloyd_inertia_path(X, init, 8)
    ctx.claim(
        "Lloyd never increases the inertia",
        bool(np.all(np.diff(path) <= 1e-9)),
        "inertia after iterations 1-8: " + ", ".join(f"{v:.1f}" for v in path),
    )


def _soft_em_vs_kmeans(
    ctx: Context, X: np.ndarray, y: np.ndarray, km: KMeans, *, skm, skmix
) -> None:
    start = dict(
        weights_init=np.full(3, 1 / 3),
        means_init=km.cluster_centers_,
        precisions_init=np.tile(np.eye(2), (3, 1, 1)),
        tol=1e-8,
        max_iter=500,
    )
    gm = GaussianMixture(3, **start).fit(X)
    ref_gm = skmix.GaussianMixture(3, **start).fit(X)
    ari_km = skm.adjusted_rand_score(y, km.labels_)
    ari_gm = skm.adjusted_rand_score(y, gm.predict(X))
    ctx.say("""
        What the hard, spherical limit gives up shows on stretched clusters. The three blobs
        below were sheared into long parallel ellipses. k-means can only draw straight
        boundaries halfway between centers, so it cuts across the ellipses; a full-covariance
        mixture fitted by soft EM (started from the k-means centers with unit covariances)
        learns each ellipse's shape and recovers the groups. The adjusted Rand index compares
        each labelling with the truth (1 = identical, 0 = chance).
        """)
    ctx.check(
        "GMM soft EM from the k-means centers: means",
        gm.means_,
        ref_gm.means_,
        rtol=1e-6,
        ref="sklearn GaussianMixture",
    )
    ctx.table(
        "agreement with the true groups",
        ["method", "adjusted Rand index"],
        [["k-means (hard, spherical)", ari_km], ["GMM, full covariance (soft)", ari_gm]],
    )
    ctx.claim(
        "soft full-covariance EM beats k-means on sheared clusters",
        ari_gm > ari_km + 0.3,
        f"ARI {ari_gm:.3f} vs {ari_km:.3f}",
    )

    with ctx.figure("kmeans-vs-gmm", figsize=(10, 4)) as fig:
        axes = fig.subplots(1, 2)
        for ax, labels, title in [
            (axes[0], km.labels_, f"k-means (ARI {ari_km:.2f})"),
            (axes[1], gm.predict(X), f"GMM full (ARI {ari_gm:.2f})"),
        ]:
            ax.scatter(X[:, 0], X[:, 1], c=labels, s=6, cmap="viridis")
            ax.set_title(title)


def _four_blobs() -> np.ndarray:
    from sklearn.datasets import make_blobs

    return make_blobs(800, 2, centers=[[0, 0], [8, 0], [0, 8], [8, 8]], random_state=0)[0]


def _elbow_and_silhouette(ctx: Context, *, X_blobs: np.ndarray, skc, skm) -> None:
    ks = list(range(1, 11))
    elbow = kmeans_elbow(X_blobs, ks, n_init=10, random_state=0)
    ref_inertia = np.array(
        [skc.KMeans(k, n_init=10, random_state=0).fit(X_blobs).inertia_ for k in ks]
    )
    sil = [
        silhouette_score(X_blobs, KMeans(k, n_init=10, random_state=0).fit_predict(X_blobs))
        for k in ks[1:]
    ]
    labels4 = KMeans(4, n_init=10, random_state=0).fit_predict(X_blobs)
    ctx.say("""
        How many clusters? The inertia always falls as k grows (k = n gives zero), so its
        minimum is useless. The elbow method plots inertia against k and picks the k after which
        an extra cluster buys little; we locate the bend automatically as the point farthest
        below the chord of the log-inertia curve. The silhouette s_i = (b_i - a_i) / max(a_i,
        b_i) compares each point's mean distance to its own cluster (a) with that to the nearest
        other cluster (b); its mean peaks at the k whose clusters are compact and separated.
        Four generated blobs: both criteria should say 4.
        """)
    ctx.claim(
        "k-means++ (n_init = 10) inertia never 1% above scikit-learn's, k = 1..10",
        bool(np.all(elbow.inertia <= 1.01 * ref_inertia)),
        "ours / sklearn: " + ", ".join(f"{r:.3f}" for r in elbow.inertia / ref_inertia),
        ref="sklearn KMeans",
    )
    ctx.check(
        "silhouette score (k = 4 labels)",
        silhouette_score(X_blobs, labels4),
        lambda: skm.silhouette_score(X_blobs, labels4),
        rtol=1e-12,
        ref="sklearn.metrics",
    )
    ctx.table(
        "elbow and silhouette",
        ["k", "inertia", "silhouette"],
        [[k, i, s] for k, i, s in zip(ks, elbow.inertia, [float("nan"), *sil], strict=True)],
    )
    best_sil = ks[1:][int(np.argmax(sil))]
    ctx.claim(
        "elbow and silhouette both pick the 4 generating blobs",
        elbow.knee == 4 and best_sil == 4,
        f"elbow k = {elbow.knee}, silhouette argmax k = {best_sil}",
    )
    with ctx.figure("elbow-silhouette", figsize=(10, 3.5)) as fig:
        a1, a2 = fig.subplots(1, 2)
        a1.plot(ks, elbow.inertia, "o-")
        a1.axvline(elbow.knee, ls="--", c="gray")
        a1.set(xlabel="k", ylabel="inertia", yscale="log", title="elbow")
        a2.plot(ks[1:], sil, "o-")
        a2.set(xlabel="k", ylabel="mean silhouette", title="silhouette")


@lesson("gmm")
def gmm(ctx: Context) -> None:
    from sklearn import mixture as skmix
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(load_wine().data[:, [0, 6, 9, 12]])
    rng = np.random.default_rng(0)
    means0 = X[rng.choice(len(X), 3, replace=False)]
    d = X.shape[1]
    precisions0 = {
        "full": np.tile(np.eye(d), (3, 1, 1)),
        "tied": np.eye(d),
        "diag": np.ones((3, d)),
        "spherical": np.ones(3),
    }
    ctx.say("""
        A Gaussian mixture models the density as p(x) = sum_k pi_k N(x | mu_k, Sigma_k). EM
        fits it by alternating responsibilities r_ik = pi_k N(x_i | mu_k, Sigma_k) / p(x_i)
        (computed in log space with log-sum-exp) and weighted maximum-likelihood updates
        pi_k = N_k / n, mu_k = sum_i r_ik x_i / N_k, Sigma_k = sum_i r_ik (x_i - mu_k)(x_i -
        mu_k)^T / N_k + reg I. The covariance structure sets the number of parameters: 'full'
        (one matrix per component), 'tied' (one shared matrix), 'diag' (axis-aligned
        ellipses), 'spherical' (one variance per component). Every EM iteration can only raise
        the log-likelihood; below, four standardised wine features, three components, and the
        same start (equal weights, three random samples as means, unit covariances) for every
        structure and for scikit-learn.
        """)
    rows, curves = [], {}
    check = partial(ctx.check, rtol=1e-6, ref="sklearn GaussianMixture")
    for cov in ("full", "tied", "diag", "spherical"):
        kw = dict(
            n_components=3,
            covariance_type=cov,
            weights_init=np.full(3, 1 / 3),
            means_init=means0,
            precisions_init=precisions0[cov],
            tol=1e-8,
            max_iter=1000,
        )
        ours = GaussianMixture(**kw).fit(X)
        ref = skmix.GaussianMixture(**kw).fit(X)
        check(
            f"{cov}: lower bound after each iteration",
            np.array(ours.lower_bounds_),
            np.array(ref.lower_bounds_),
        )
        check(
            f"{cov}: weights, means",
            np.r_[ours.weights_, ours.means_.ravel()],
            np.r_[ref.weights_, ref.means_.ravel()],
            atol=1e-9,
        )
        check(f"{cov}: covariances", ours.covariances_, ref.covariances_, atol=1e-9)
        check(f"{cov}: BIC", ours.bic(X), ref.bic(X))
        curves[cov] = ours.lower_bounds_
        rows.append([cov, ours._n_parameters(), ours.n_iter_, ours.score(X), ours.bic(X)])
        ctx.claim(
            f"{cov}: the log-likelihood never decreases",
            bool(np.all(np.diff(ours.lower_bounds_) >= -1e-12)),
            f"{ours.n_iter_} iterations, smallest step {np.diff(ours.lower_bounds_).min():.2e}",
        )
    ctx.table(
        "covariance structures (3 components)",
        ["covariance_type", "parameters", "EM iterations", "mean log-likelihood", "BIC"],
        rows,
    )
    ll = {r[0]: r[3] for r in rows}
    nested = (("diag", "spherical"), ("full", "diag"), ("full", "tied"))
    below = [(a, b) for a, b in nested if ll[a] < ll[b] - 1e-9]
    local = (
        "here "
        + ", ".join(f"'{a}' stops below '{b}'" for a, b in below)
        + " although it contains it, a reminder to try several starts (n_init)"
        if below
        else "here each richer structure did reach at least the likelihood of those it"
        " contains, but that is not guaranteed from every start: try several (n_init)"
    )
    ctx.say(f"""
        The structures are partly nested: spherical within diag within full, and tied within
        full (tied and spherical are not nested: tied shares one full matrix, spherical gives
        each component its own scalar variance). At its best optimum a richer structure fits
        the training data at least as well as one it contains, so the training likelihood
        cannot choose the structure. EM only finds a local optimum, though; {local}.
        BIC = -2 log L + p log n charges each parameter log n; the lowest BIC balances fit
        against size.
        """)
    ctx.claim(
        "full covariances reach the highest training likelihood",
        ll["full"] == max(ll.values()),
        ", ".join(f"{k} {v:.3f}" for k, v in ll.items()),
    )
    with ctx.figure("em-monotone", figsize=(6.5, 4)) as fig:
        ax = fig.subplots()
        for cov, c in curves.items():
            ax.plot(np.arange(1, len(c) + 1), c, label=cov)
        ax.set(
            xscale="log",
            xlabel="EM iteration",
            ylabel="mean log-likelihood",
            title="EM never goes down",
        )
        ax.legend()


def _casino() -> CategoricalHMM:
    """The occasionally dishonest casino: a fair die and a die loaded towards six."""
    model = CategoricalHMM(2, init_params="")
    model.startprob_ = np.array([1.0, 0.0])
    model.transmat_ = np.array([[0.95, 0.05], [0.10, 0.90]])
    model.emissionprob_ = np.array([np.full(6, 1 / 6), [0.1] * 5 + [0.5]])
    return model


@lesson("hmm")
def hmm(ctx: Context) -> None:
    casino = _casino()
    X, states = casino.sample(2000, random_state=0)
    ctx.say("""
        A hidden Markov model has a hidden state that moves by a Markov chain (start
        probabilities pi, transition matrix A) and, at each step, emits an observation from a
        distribution that depends on the state (B). The textbook example is a casino that
        mostly rolls a fair die but sometimes switches to one loaded towards six (Durbin et al.,
        Biological Sequence Analysis, 1998). We see only the rolls; the three classic questions
        are: how likely are they (forward algorithm), which die was used when (Viterbi, or the
        forward-backward posteriors), and what are pi, A and B (Baum-Welch, which is EM).
        """)
    ref = _hmmlearn_twin(casino)
    lp, post = casino.score_samples(X)
    vit_lp, path = casino.decode(X)
    check = partial(ctx.check, ref="hmmlearn")
    check("log-likelihood of 2000 rolls", lp, lambda: ref().score(X), rtol=1e-10)
    check("posteriors P(loaded | rolls)", post, lambda: ref().predict_proba(X), atol=1e-10)
    check("Viterbi path", path, lambda: ref().decode(X)[1])
    check("Viterbi log-probability", vit_lp, lambda: ref().decode(X)[0], rtol=1e-10)

    direct = np.prod(casino.emissionprob_[states, X[:, 0]])  # P(x | z) alone, in plain floats
    ctx.say(f"""
        Why log space? The probability of 2000 rolls is about e^{lp:.0f}, far below the smallest
        double (about e^-745): multiplied out in plain floating point, even the probability of
        the rolls given the true states is {direct:.1f}. Our forward-backward keeps every
        quantity as a logarithm, and takes one log-sum-exp shift per time step so that the inner
        sum over states is a plain product with A (N exponentials per step instead of N^2).
        """)
    ctx.claim(
        "the direct product underflows, the log-space forward pass does not",
        direct == 0.0 and np.isfinite(lp),
        f"product = {direct}, log-likelihood = {lp:.2f}",
    )

    acc_vit = np.mean(path == states)
    acc_post = np.mean(post.argmax(axis=1) == states)
    ctx.table(
        "decoding the dice",
        ["decoder", "steps labelled correctly"],
        [
            ["Viterbi (best joint path)", acc_vit],
            ["posterior argmax (best per step)", acc_post],
            ["always 'fair'", np.mean(states == 0)],
        ],
    )
    ctx.claim(
        "decoding beats always guessing the common state",
        min(acc_vit, acc_post) > np.mean(states == 0) + 0.05,
        f"Viterbi {acc_vit:.3f}, posterior {acc_post:.3f}, baseline {np.mean(states == 0):.3f}",
    )
    _baum_welch_part(ctx, X, casino)
    with ctx.figure("decoded-dice", figsize=(10, 3.5)) as fig:
        ax = fig.subplots()
        t = np.arange(400)
        ax.fill_between(
            t, 0, states[:400], step="mid", alpha=0.25, color="tab:red", label="true: loaded"
        )
        ax.plot(t, post[:400, 1], lw=1, label="P(loaded | all rolls)")
        ax.step(t, path[:400] * 1.05, where="mid", lw=1, color="k", label="Viterbi path")
        ax.set(xlabel="roll", ylabel="loaded?", title="first 400 rolls of the dishonest casino")
        ax.legend(loc="upper right", fontsize=8)


def _hmmlearn_twin(model: CategoricalHMM):
    """A factory of the model's current parameters in hmmlearn (raises if hmmlearn is missing)."""
    params = {k: getattr(model, k).copy() for k in ("startprob_", "transmat_", "emissionprob_")}

    def make():
        from hmmlearn import hmm as H

        twin = H.CategoricalHMM(model.n_components, init_params="", n_iter=1)
        for name, value in params.items():
            setattr(twin, name, value.copy())
        return twin

    return make


def _baum_welch_part(ctx: Context, X: np.ndarray, truth: CategoricalHMM) -> None:
    import warnings

    start = _casino()
    start.transmat_ = np.array([[0.8, 0.2], [0.2, 0.8]])
    start.startprob_ = np.array([0.5, 0.5])
    start.emissionprob_ = np.array(
        [np.full(6, 1 / 6) + np.array([0.02, 0, 0, 0, 0, -0.02]), [0.15] * 5 + [0.25]]
    )
    one = CategoricalHMM(2, init_params="", n_iter=1)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        setattr(one, name, getattr(start, name).copy())
    twin = _hmmlearn_twin(one)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one.fit(X)

    def ref_update():
        r = twin()
        r.fit(X)
        return np.r_[r.startprob_, r.transmat_.ravel(), r.emissionprob_.ravel()]

    ctx.check(
        "one Baum-Welch update",
        np.r_[one.startprob_, one.transmat_.ravel(), one.emissionprob_.ravel()],
        ref_update,
        rtol=1e-8,
        atol=1e-12,
        ref="hmmlearn",
    )
    model = CategoricalHMM(2, init_params="", n_iter=300, tol=1e-6)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        setattr(model, name, getattr(start, name).copy())
    model.fit(X)
    ctx.say("""
        Baum-Welch is EM for the HMM: the E-step runs forward-backward to get the expected
        state occupancies gamma_t(i) and transitions xi_t(i, j); the M-step sets pi, A and B to
        their normalised expected counts. Like every EM it never lowers the likelihood. Started
        from a vague guess, it finds the loaded die from the rolls alone (the state order is
        whatever the start suggested).
        """)
    six = model.emissionprob_[:, 5]
    ctx.table(
        "Baum-Welch from a vague start",
        ["", "P(six | state 0)", "P(six | state 1)", "stay in 0", "stay in 1"],
        [
            ["truth", *truth.emissionprob_[:, 5], *np.diag(truth.transmat_)],
            ["learned", *six, *np.diag(model.transmat_)],
        ],
    )
    ctx.claim(
        "the log-likelihood never decreases over Baum-Welch iterations",
        bool(np.all(np.diff(model.lower_bounds_) >= -1e-9)),
        f"{model.n_iter_} iterations",
    )
    ctx.claim(
        "the learned loaded state favours six (true 0.5)",
        abs(six.max() - 0.5) < 0.08,
        f"learned P(six) = {six.max():.3f}",
    )
