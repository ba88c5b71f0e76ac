"""Lessons on SVM kernels, PCA, LDA, naive Bayes, and discriminative vs generative models."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from mlcanon.decomposition import PCA
from mlcanon.discriminant_analysis import LinearDiscriminantAnalysis
from mlcanon.lessons import Context, lesson
from mlcanon.linear_model import LogisticRegression
from mlcanon.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from mlcanon.svm import SVC, LinearSVC


def _split(X, y, test_size=0.5, seed=0) -> SimpleNamespace:
    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return SimpleNamespace(X_tr=X_tr, X_te=X_te, y_tr=y_tr, y_te=y_te)


def _standardize(s: SimpleNamespace) -> SimpleNamespace:
    mu, sd = s.X_tr.mean(0), s.X_tr.std(0)
    sd[sd == 0] = 1.0
    return SimpleNamespace(
        X_tr=(s.X_tr - mu) / sd, X_te=(s.X_te - mu) / sd, y_tr=s.y_tr, y_te=s.y_te
    )


# --- SVM: linear vs Gaussian kernel ------------------------------------------------------------


def _bag_of_words(n: int = 300, p: int = 500, relevant: int = 50, seed: int = 1):
    """Text-like data: sparse binary 'word present' features, a linear rule on 50 words."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < 0.05).astype(float)
    w = np.zeros(p)
    w[:relevant] = 2.0 * rng.standard_normal(relevant)
    score = X @ w + 0.2 * rng.standard_normal(n)
    return X, (score > np.median(score)).astype(int)


def _svm_datasets() -> dict[str, SimpleNamespace]:
    from sklearn.datasets import make_blobs, make_moons

    X1, y1 = make_blobs(400, centers=[[-1.5, -1.0], [1.5, 1.0]], cluster_std=1.0, random_state=0)
    X2, y2 = make_moons(400, noise=0.15, random_state=0)
    return {
        "blobs (linear boundary)": _standardize(_split(X1, y1)),
        "moons (curved boundary)": _standardize(_split(X2, y2)),
        "300 samples x 500 features": _standardize(_split(*_bag_of_words())),
    }


@lesson("svm-kernels")
def svm_kernels_lesson(ctx: Context) -> None:
    from sklearn import svm as sk

    ctx.say("""
        A soft-margin SVM solves, in its dual form, min_a 1/2 a^T Q a - sum a_i subject to
        0 <= a_i <= C and y^T a = 0, with Q_ij = y_i y_j K(x_i, x_j). The data enter only
        through the kernel K, so replacing the inner product x^T z (linear kernel) by
        exp(-gamma ||x - z||^2) (Gaussian/RBF kernel) fits a linear separator in an
        infinite-dimensional feature space without ever computing it. Only the support vectors
        (a_i > 0) appear in the decision function f(x) = sum_i y_i a_i K(x_i, x) + b.

        We solve the dual with SMO (two multipliers at a time, pairs picked by the second-order
        rule of Fan, Chen & Lin 2005, as LIBSVM does) and check each fit against scikit-learn's
        SVC, which wraps LIBSVM: the same support vectors, the same dual coefficients.
        """)
    rows, models = [], {}
    for name, d in _svm_datasets().items():
        for kernel in ("linear", "rbf"):
            ours = SVC(kernel=kernel, C=1.0).fit(d.X_tr, d.y_tr)
            ref = sk.SVC(kernel=kernel, C=1.0).fit(d.X_tr, d.y_tr)
            ctx.check(
                f"{name}, {kernel}: support vectors", ours.support_, ref.support_, ref="sklearn SVC"
            )
            ctx.check(
                f"{name}, {kernel}: dual coefficients",
                ours.dual_coef_,
                ref.dual_coef_,
                rtol=1e-3,
                atol=1e-3,
                ref="sklearn SVC",
            )
            ctx.check(
                f"{name}, {kernel}: test predictions",
                ours.predict(d.X_te),
                ref.predict(d.X_te),
                ref="sklearn SVC",
            )
            acc = (ours.predict(d.X_te) == d.y_te).mean()
            rows.append(
                [name, kernel, len(ours.support_), (ours.predict(d.X_tr) == d.y_tr).mean(), acc]
            )
            models[name, kernel] = (ours, acc)
    ctx.table(
        "linear vs RBF kernel (C = 1, gamma = 'scale')",
        ["data", "kernel", "support vectors", "train accuracy", "test accuracy"],
        rows,
    )
    acc = {k: v[1] for k, v in models.items()}
    moons = "moons (curved boundary)"
    ctx.claim(
        "curved boundary: the RBF kernel wins clearly",
        acc[moons, "rbf"] > acc[moons, "linear"] + 0.03,
        f"moons test accuracy rbf {acc[moons, 'rbf']:.3f} vs linear {acc[moons, 'linear']:.3f}",
    )
    blobs = "blobs (linear boundary)"
    ctx.claim(
        "linear boundary: both kernels reach the same test accuracy",
        abs(acc[blobs, "rbf"] - acc[blobs, "linear"]) <= 0.01,
        f"blobs test accuracy linear {acc[blobs, 'linear']:.3f}, rbf {acc[blobs, 'rbf']:.3f}",
    )
    wide = "300 samples x 500 features"
    lin = models[wide, "linear"][0]
    d_wide = _svm_datasets()[wide]
    train_acc = (lin.predict(d_wide.X_tr) == d_wide.y_tr).mean()
    ctx.claim(
        "500 features, 150 training samples: the linear kernel already separates the "
        "training set (p >= n), so a richer feature map has nothing left to fit",
        train_acc == 1.0,
        f"linear train accuracy {train_acc:.3f}; test accuracy linear "
        f"{acc[wide, 'linear']:.3f} vs rbf {acc[wide, 'rbf']:.3f}",
    )
    primal = _linear_svc_in_n(ctx, d_wide)
    ctx.say(f"""
        When to use which. Linear kernel: when the number of features is large compared with the
        number of samples (text, genomics). With p >= n a hyperplane already separates the training
        set, so the RBF map has nothing left to fit; on the text-like data above the two kernels
        reach {acc[wide, "linear"]:.3f} (linear) and {acc[wide, "rbf"]:.3f} (RBF) on the test half
        (both limited by 150 training documents), and the linear model is the cheaper one: trained
        without a kernel matrix (LinearSVC, liblinear's coordinate descent), its fit time grew as
        n^{primal["linear"]:.2f} against n^{primal["svc"]:.2f} for SVC's linear kernel above, and
        it predicts with one dot product. Gaussian kernel: few features, enough samples and a
        boundary that bends (moons); it needs scaled features and tuning of C and gamma, and its
        cost grows as n^2 (the kernel matrix) to n^3. When the boundary is linear (blobs) both give
        the same answer, so start linear and move to RBF when the linear model underfits.
        """)
    _boundary_figure(ctx, models)


def _linear_svc_in_n(ctx: Context, wide: SimpleNamespace) -> dict[str, float]:
    """LinearSVC (liblinear's model) against scikit-learn's on the wide text-like data, then
    the growth of its fit time in n against SVC(kernel='linear')'s: the slopes of log time on
    log n (returned by name, 'linear' and 'svc')."""
    import time

    import scipy.sparse as sp
    from sklearn import svm as sk

    ctx.say("""
        The linear SVM need not go through the kernel at all. LinearSVC keeps the weight vector
        w = sum_i a_i y_i x_i itself and runs coordinate descent on the dual, one a_i at a time
        (Hsieh et al. 2008): each step costs one pass over a row, so an epoch is linear in n. Its
        intercept is liblinear's, an extra feature of constant value whose weight is regularized
        (so it differs slightly from SVC's model), and its default loss is the squared hinge.
        """)
    ours = LinearSVC(tol=1e-10, max_iter=10_000).fit(wide.X_tr, wide.y_tr)
    ref = sk.LinearSVC(tol=1e-10, max_iter=10_000).fit(wide.X_tr, wide.y_tr)
    ctx.check(
        "text-like data: LinearSVC weights",
        ours.coef_,
        ref.coef_,
        atol=1e-10,
        ref="sklearn LinearSVC",
    )
    ctx.check(
        "text-like data: LinearSVC intercept",
        ours.intercept_,
        ref.intercept_,
        atol=1e-10,
        ref="sklearn LinearSVC",
    )
    ctx.check(
        "text-like data: LinearSVC test predictions",
        ours.predict(wide.X_te),
        ref.predict(wide.X_te),
        ref="sklearn LinearSVC",
    )

    def seconds(model, X, y, repeat):
        best = np.inf
        for _ in range(repeat):
            start = time.perf_counter()
            model.fit(X, y)
            best = min(best, time.perf_counter() - start)
        return best

    # LinearSVC reads the CSR rows (cost per epoch ~ nonzeros ~ n); SVC's SMO works on dense
    # kernel rows. LinearSVC is fast enough for n up to 16000; SVC stops at 4000 to keep the
    # lesson short (a log-log slope needs no common range).
    sizes = {"linear": [2000, 4000, 8000, 16000], "svc": [1000, 2000, 4000]}
    times, epochs = {"linear": [], "svc": []}, []
    LinearSVC(dual=True).fit(sp.csr_matrix(np.eye(4)), [0, 1, 0, 1])  # compile before timing
    for n in sizes["linear"]:
        X, y = _bag_of_words(n, 200, relevant=50, seed=2)
        model = LinearSVC(dual=True, C=0.1)
        times["linear"].append(seconds(model, sp.csr_matrix(X), y, 7))
        epochs.append(model.n_iter_)
    for n in sizes["svc"]:
        X, y = _bag_of_words(n, 200, relevant=50, seed=2)
        times["svc"].append(seconds(SVC(kernel="linear", C=0.1), X, y, 1))
    slope = {k: float(np.polyfit(np.log(sizes[k]), np.log(t), 1)[0]) for k, t in times.items()}
    lin = dict(zip(sizes["linear"], zip(times["linear"], epochs, strict=True), strict=True))
    svc = dict(zip(sizes["svc"], times["svc"], strict=True))
    ctx.table(
        "fit time (s) on text-like data (200 words, 5% present), C = 0.1",
        ["n", "LinearSVC (dual CD, CSR)", "epochs", "SVC(kernel='linear') (SMO)"],
        [
            [
                n,
                f"{lin[n][0]:.4f}" if n in lin else "-",
                lin[n][1] if n in lin else "-",
                f"{svc[n]:.3f}" if n in svc else "-",
            ]
            for n in sorted({*lin, *svc})
        ],
    )
    ctx.claim(
        "LinearSVC's fit time grows about linearly in n, SVC's linear kernel faster",
        slope["linear"] < 1.5 and slope["svc"] > slope["linear"],
        f"log-log slopes: LinearSVC {slope['linear']:.2f} (n = 2000 to 16000, "
        f"{epochs[0]} to {epochs[-1]} epochs), SVC(kernel='linear') {slope['svc']:.2f} "
        "(n = 1000 to 4000)",
    )
    return slope


def _boundary_figure(ctx: Context, models: dict) -> None:
    with ctx.figure("decision-boundaries", figsize=(9, 3.8)) as fig:
        d = _svm_datasets()["moons (curved boundary)"]
        g1, g2 = np.meshgrid(np.linspace(-2.5, 2.5, 200), np.linspace(-2.5, 2.5, 200))
        grid = np.c_[g1.ravel(), g2.ravel()]
        for ax, kernel in zip(fig.subplots(1, 2), ("linear", "rbf"), strict=True):
            model = models["moons (curved boundary)", kernel][0]
            f = model.decision_function(grid).reshape(g1.shape)
            ax.contourf(g1, g2, f, levels=[-10, 0, 10], colors=["C0", "C1"], alpha=0.2)
            ax.contour(g1, g2, f, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"])
            ax.scatter(d.X_tr[:, 0], d.X_tr[:, 1], c=[f"C{k}" for k in d.y_tr], s=8)
            sv = model.support_vectors_
            ax.scatter(sv[:, 0], sv[:, 1], s=30, facecolors="none", edgecolors="k", lw=0.5)
            ax.set(title=f"{kernel} kernel: {len(sv)} support vectors (circled)")


# --- PCA ---------------------------------------------------------------------------------------


@lesson("pca")
def pca_lesson(ctx: Context) -> None:
    from sklearn import decomposition as sk
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    n = X.shape[0]
    ctx.say("""
        PCA looks for the orthonormal directions along which the data vary most. Recipe:
        (1) center: X_c = X - mean; (2) covariance C = X_c^T X_c / (n - 1); (3) eigen-
        decomposition C = V diag(lambda) V^T with lambda sorted decreasingly; (4) project:
        Z = X_c V_k. The eigenvalue lambda_j is the variance of the data along v_j, and
        lambda_j / sum(lambda) is its explained-variance ratio. Equivalently, from the SVD
        X_c = U S V^T: the same V, and lambda = S^2 / (n - 1) (numerically safer: the
        covariance squares the condition number). Below, the 8 x 8 digit images (64 features).
        """)
    full = PCA(svd_solver="full").fit(X)
    eig = PCA(svd_solver="covariance_eigh").fit(X)
    ref = sk.PCA(svd_solver="full").fit(X)
    k = 20
    signs = np.sign(np.sum(full.components_[:k] * ref.components_[:k], axis=1))
    ctx.check(
        "first 20 components (up to sign)",
        full.components_[:k] * signs[:, None],
        ref.components_[:k],
        atol=1e-8,
        ref="sklearn PCA",
    )
    ctx.check(
        "explained variance",
        full.explained_variance_,
        ref.explained_variance_,
        rtol=1e-10,
        atol=1e-10,
        ref="sklearn PCA",
    )
    cov = np.cov(X.T)
    ctx.check(
        "eigenvalues of the covariance = explained variance (SVD solver)",
        full.explained_variance_,
        lambda: np.clip(np.linalg.eigvalsh(cov)[::-1], 0, None),
        rtol=1e-9,
        atol=1e-9,
        ref="numpy.linalg.eigvalsh",
    )
    ctx.check(
        "covariance-eigh solver: explained variance",
        eig.explained_variance_,
        lambda: sk.PCA(svd_solver="covariance_eigh").fit(X).explained_variance_,
        rtol=1e-9,
        atol=1e-9,
        ref="sklearn PCA(svd_solver='covariance_eigh')",
    )
    ratio = np.cumsum(full.explained_variance_ratio_)
    need = {q: int(np.searchsorted(ratio, q) + 1) for q in (0.5, 0.8, 0.9, 0.95, 0.99)}
    ctx.table(
        "components needed for a share of the variance",
        ["variance kept", "components"],
        [[f"{q:.0%}", m] for q, m in need.items()],
    )
    # Eckart-Young: the best rank-k reconstruction leaves exactly the discarded eigenvalues
    pca10 = PCA(10).fit(X)
    err = np.sum((X - pca10.inverse_transform(pca10.transform(X))) ** 2) / (n - 1)
    ctx.check(
        "squared reconstruction error with 10 components = sum of discarded eigenvalues",
        err,
        np.clip(np.linalg.eigvalsh(cov), 0, None)[:-10].sum(),  # ascending: all but the top 10
        rtol=1e-9,
        ref="Eckart-Young theorem, numpy.linalg.eigvalsh",
    )
    Z = PCA(2).fit_transform(X)
    # a digit is set apart when most of its images lie nearest its own mean in the plane
    means = np.array([Z[y == d].mean(0) for d in range(10)])
    nearest = np.argmin(((Z[:, None] - means[None]) ** 2).sum(-1), axis=1)
    own = np.array([(nearest[y == d] == d).mean() for d in range(10)])
    apart = [int(d) for d in np.argsort(-own) if own[d] >= 0.8]
    ctx.claim(
        "two components already set several digits apart (>= 80% nearest their own mean)",
        len(apart) >= 2,
        ", ".join(f"{d}: {own[d]:.2f}" for d in range(10)),
    )
    shares = ", ".join(f"{d} ({own[d]:.0%})" for d in apart)
    ctx.say(f"""
        Two components keep {ratio[1]:.0%} of the variance of the digits, yet the projection below
        already sets several digits apart: {shares} of their images lie nearest their own digit's
        mean in the plane, against {own.min():.0%} for digit {int(own.argmin())}. {need[0.9]}
        components keep 90%. PCA is unsupervised: it ignores the labels, so a direction of large
        variance is not necessarily a direction that separates classes (compare LDA).
        """)
    with ctx.figure("digits-2d", figsize=(9, 3.8)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        for digit in range(10):
            pts = Z[y == digit]
            ax1.scatter(pts[:, 0], pts[:, 1], s=4, color=f"C{digit}", label=str(digit))
            ax1.annotate(str(digit), pts.mean(0), fontsize=12, weight="bold")
        ax1.set(xlabel="PC 1", ylabel="PC 2", title="digits on the first two components")
        ax2.plot(np.arange(1, 65), ratio, ".-")
        ax2.axhline(0.9, color="0.5", lw=0.8)
        ax2.set(xlabel="components", ylabel="cumulative explained variance")


# --- LDA ---------------------------------------------------------------------------------------


def _fisher_ratio(Z: np.ndarray, y: np.ndarray) -> float:
    """Between-class over within-class scatter of a projection (trace ratio)."""
    mean = Z.mean(0)
    between = sum(np.sum(y == k) * np.sum((Z[y == k].mean(0) - mean) ** 2) for k in np.unique(y))
    within = sum(np.sum((Z[y == k] - Z[y == k].mean(0)) ** 2) for k in np.unique(y))
    return float(between / within)


@lesson("lda")
def lda_lesson(ctx: Context) -> None:
    from sklearn import discriminant_analysis as sk
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    d = _split(X, y)
    ctx.say("""
        Linear discriminant analysis is a generative classifier: it models each class as a
        Gaussian N(mu_k, Sigma) with one covariance shared by all classes, plus a prior pi_k,
        and classifies with Bayes' rule. Because the covariance is shared, the quadratic terms
        x^T Sigma^{-1} x cancel between classes and the log-posterior is linear in x:
        delta_k(x) = x^T Sigma^{-1} mu_k - 1/2 mu_k^T Sigma^{-1} mu_k + log pi_k.

        The same model gives a supervised projection (Fisher 1936): the directions v maximizing
        the ratio of between-class to within-class variance, v^T S_b v / v^T S_w v, at most
        K - 1 of them. Below, the wine data (13 features, 3 cultivars).
        """)
    for solver in ("svd", "eigen"):
        ours = LinearDiscriminantAnalysis(solver=solver).fit(d.X_tr, d.y_tr)
        ref = sk.LinearDiscriminantAnalysis(solver=solver).fit(d.X_tr, d.y_tr)
        _check_classifier(ctx, solver, ours, ref, d.X_te, "sklearn LinearDiscriminantAnalysis")
    lda = LinearDiscriminantAnalysis().fit(d.X_tr, d.y_tr)
    ref = sk.LinearDiscriminantAnalysis().fit(d.X_tr, d.y_tr)
    Z, Z_ref = lda.transform(X), ref.transform(X)
    signs = np.sign(np.sum(Z * Z_ref, axis=0))
    ctx.check(
        "projection on the 2 discriminant directions (up to sign)",
        Z * signs,
        Z_ref,
        rtol=1e-8,
        atol=1e-8,
        ref="sklearn LinearDiscriminantAnalysis",
    )
    mu, sd = d.X_tr.mean(0), d.X_tr.std(0)
    pca = PCA(2).fit((d.X_tr - mu) / sd)
    Zp = pca.transform((X - mu) / sd)
    ratios = {"LDA": _fisher_ratio(Z, y), "PCA (standardized)": _fisher_ratio(Zp, y)}
    ctx.claim(
        "LDA's 2-D projection separates the classes better than PCA's",
        ratios["LDA"] > ratios["PCA (standardized)"],
        f"between/within scatter ratio: {ratios}",
    )
    acc = (lda.predict(d.X_te) == d.y_te).mean()
    ctx.table(
        "wine",
        ["quantity", "value"],
        [
            ["test accuracy (LDA classifier)", acc],
            *[[f"Fisher ratio of the 2-D projection, {k}", v] for k, v in ratios.items()],
            [
                "explained variance ratio of the discriminants",
                np.round(lda.explained_variance_ratio_, 3).tolist(),
            ],
        ],
    )
    with ctx.figure("projections", figsize=(9, 3.8)) as fig:
        for ax, (name, P) in zip(fig.subplots(1, 2), (("LDA", Z), ("PCA", Zp)), strict=True):
            for k in range(3):
                ax.scatter(P[y == k, 0], P[y == k, 1], s=8, label=f"cultivar {k}")
            ax.set(title=f"wine projected by {name}", xlabel="direction 1", ylabel="direction 2")
            ax.legend(fontsize=7)


# --- naive Bayes -------------------------------------------------------------------------------


@lesson("naive-bayes")
def naive_bayes_lesson(ctx: Context) -> None:
    from sklearn import naive_bayes as sk
    from sklearn.datasets import load_digits

    ctx.say("""
        Naive Bayes applies Bayes' rule, P(c | x) ~ P(c) P(x | c), with the "naive" assumption
        that the features are independent given the class: P(x | c) = prod_j P(x_j | c). The
        class-conditional model is then a product of one-dimensional distributions, each
        estimated by counting or averaging, so training is one pass over the data and needs
        few samples. The variants differ only in P(x_j | c):

        Gaussian: x_j ~ N(mu_cj, sigma_cj^2), for continuous features.
        Multinomial: x is a vector of counts drawn with probabilities theta_cj, for word or
        pixel counts; theta_cj = (N_cj + alpha) / (N_c + alpha p).
        Bernoulli: each binary feature is on with probability p_cj, and an absent feature
        counts as evidence too: P(x | c) = prod_j p_cj^{x_j} (1 - p_cj)^{1 - x_j}.

        Computations are done in logs (a product of 64 small probabilities underflows) and the
        posterior is normalized with log-sum-exp. Below, digits (pixel intensities 0..16).
        """)
    X, y = load_digits(return_X_y=True)
    d = _split(X, y)
    models = {
        "GaussianNB": (GaussianNB(), sk.GaussianNB()),
        "MultinomialNB": (MultinomialNB(), sk.MultinomialNB()),
        "BernoulliNB (x > 4)": (BernoulliNB(binarize=4.0), sk.BernoulliNB(binarize=4.0)),
    }
    rows = []
    for name, (ours, ref) in models.items():
        ours.fit(d.X_tr, d.y_tr)
        ref.fit(d.X_tr, d.y_tr)
        _check_classifier(ctx, name, ours, ref, d.X_te, "sklearn naive_bayes")
        rows.append([name, (ours.predict(d.X_te) == d.y_te).mean()])
    ctx.table("digits, test accuracy", ["model", "accuracy"], rows)
    # the zero-frequency problem: a pixel never lit in a class's training images
    unsmoothed = MultinomialNB(alpha=0.0).fit(d.X_tr, d.y_tr)
    with np.errstate(divide="ignore"):
        log_p = unsmoothed.predict_log_proba(d.X_te)
    n_impossible = int(np.isinf(log_p).all(axis=1).sum() + np.isnan(log_p).any(axis=1).sum())
    zero_rows = int((np.exp(log_p).max(axis=1) == 0).sum() + np.isnan(log_p).any(axis=1).sum())
    smoothed_acc = rows[1][1]
    unsmoothed_pred = np.nan_to_num(log_p, nan=-np.inf).argmax(axis=1)
    unsmoothed_acc = (unsmoothed.classes_[unsmoothed_pred] == d.y_te).mean()
    ctx.claim(
        "without smoothing (alpha = 0) unseen pixel/class pairs make classes impossible "
        "and cost accuracy",
        unsmoothed_acc < smoothed_acc,
        f"accuracy alpha=0: {unsmoothed_acc:.3f}, alpha=1: {smoothed_acc:.3f}; test images "
        f"with every class impossible: {max(n_impossible, zero_rows)}",
    )
    ctx.say("""
        Laplace smoothing (alpha = 1) is not cosmetic: a single pixel that was never lit in a
        class's training images gives theta_cj = 0, so log P(x | c) = -inf for any test image
        with that pixel lit, whatever the other 63 pixels say.
        """)
    gnb = models["GaussianNB"][0]
    with ctx.figure("class-means", figsize=(9, 2.2)) as fig:
        for k, ax in enumerate(fig.subplots(1, 10)):
            ax.imshow(gnb.theta_[k].reshape(8, 8), cmap="gray_r")
            ax.set(xticks=[], yticks=[], title=f"mu_{k}")


# --- discriminative vs generative ---------------------------------------------------------------


def _learning_curves(X, y, sizes, n_repeats, seed=0):
    """Mean test error of LR and Gaussian NB trained on the first m points of random splits."""
    rng = np.random.default_rng(seed)
    err = {"LR": np.zeros(len(sizes)), "NB": np.zeros(len(sizes))}
    count = np.zeros(len(sizes))
    for _ in range(n_repeats):
        perm = rng.permutation(len(y))
        test, pool = perm[-250:], perm[:-250]
        for i, m in enumerate(sizes):
            train = pool[:m]
            if len(np.unique(y[train])) < 2:
                continue
            mu, sd = X[train].mean(0), X[train].std(0)
            sd[sd == 0] = 1.0
            lr = LogisticRegression(C=100.0, max_iter=300).fit((X[train] - mu) / sd, y[train])
            nb = GaussianNB().fit(X[train], y[train])
            err["LR"][i] += np.mean(lr.predict((X[test] - mu) / sd) != y[test])
            err["NB"][i] += np.mean(nb.predict(X[test]) != y[test])
            count[i] += 1
    return {k: v / count for k, v in err.items()}


@lesson("discriminative-vs-generative")
def discriminative_vs_generative_lesson(ctx: Context) -> None:
    import warnings

    from sklearn import linear_model as sk_lm
    from sklearn import naive_bayes as sk_nb
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning

    ctx.say("""
        A generative model learns the joint distribution P(x, y) = P(y) P(x | y) and classifies
        through Bayes' rule (naive Bayes, LDA, HMMs, GMMs); a discriminative model learns
        P(y | x) or the decision boundary directly (logistic regression, SVMs, neural nets).
        Gaussian naive Bayes and logistic regression are a matched pair: with class-independent
        variances, naive Bayes' posterior has exactly the logistic form sigma(w^T x + b). The
        difference is how w is chosen: naive Bayes plugs in per-feature means and variances
        (estimated separately, fast to converge, but biased when features are correlated),
        logistic regression optimizes the conditional likelihood directly.

        Ng & Jordan (2002) made the trade-off precise: naive Bayes approaches its (higher)
        asymptotic error with O(log p) samples, logistic regression reaches its (lower)
        asymptote with O(p). The experiment below repeats theirs on the breast-cancer data
        (30 features): train both on m examples, test on 250 held-out ones, average over 30
        random splits.
        """)
    X, y = load_breast_cancer(return_X_y=True)
    d = _standardize(_split(X, y, test_size=0.5))
    ours_lr = LogisticRegression(C=100.0, tol=1e-8, max_iter=5000).fit(d.X_tr, d.y_tr)
    ref_lr = sk_lm.LogisticRegression(C=100.0, tol=1e-10, max_iter=5000).fit(d.X_tr, d.y_tr)
    ctx.check(
        "logistic regression (C = 100) test predictions",
        ours_lr.predict(d.X_te),
        ref_lr.predict(d.X_te),
        ref="sklearn LogisticRegression",
    )
    ours_nb, ref_nb = GaussianNB().fit(d.X_tr, d.y_tr), sk_nb.GaussianNB().fit(d.X_tr, d.y_tr)
    ctx.check(
        "Gaussian naive Bayes test probabilities",
        ours_nb.predict_proba(d.X_te),
        ref_nb.predict_proba(d.X_te),
        rtol=1e-10,
        atol=1e-10,
        ref="sklearn GaussianNB",
    )
    sizes = np.array([10, 16, 24, 40, 64, 100, 160, 250])
    with warnings.catch_warnings():  # tiny training sets can be separable: LR stops at max_iter
        warnings.simplefilter("ignore", ConvergenceWarning)
        err = _learning_curves(X, y, sizes, n_repeats=30)
    ctx.table(
        "mean test error vs training-set size (30 random splits)",
        ["m", "logistic regression", "Gaussian naive Bayes"],
        [[int(m), err["LR"][i], err["NB"][i]] for i, m in enumerate(sizes)],
    )
    ctx.claim(
        "logistic regression has the lower error with the most data",
        err["LR"][-1] < err["NB"][-1],
        f"m = {sizes[-1]}: LR {err['LR'][-1]:.3f}, NB {err['NB'][-1]:.3f}",
    )
    drop = {k: v[2] - v[-1] for k, v in err.items()}
    ctx.claim(
        "naive Bayes is near its asymptote sooner (less left to gain after m = 24)",
        drop["NB"] < drop["LR"],
        f"error drop from m = 24 to {sizes[-1]}: NB {drop['NB']:.3f}, LR {drop['LR']:.3f}",
    )
    cross = [int(m) for i, m in enumerate(sizes) if err["NB"][i] <= err["LR"][i]]
    ctx.say(f"""
        Result: from m = 24 to {sizes[-1]} naive Bayes' error falls by only {drop["NB"]:.3f},
        while logistic regression keeps improving (by {drop["LR"]:.3f}) and ends lower
        ({err["LR"][-1]:.3f} against {err["NB"][-1]:.3f}). Naive Bayes is as good or better at
        m in {cross if cross else "none of the sizes"}. So with little data, or as a fast
        baseline, the generative model is competitive; with enough data the discriminative
        model wins, because it does not pay for the wrong independence assumption (the 30
        features here are strongly correlated: radius, perimeter and area).
        """)
    with ctx.figure("learning-curves", figsize=(6.4, 4)) as fig:
        ax = fig.subplots()
        ax.plot(sizes, err["LR"], "o-", label="logistic regression (discriminative)")
        ax.plot(sizes, err["NB"], "s-", label="Gaussian naive Bayes (generative)")
        ax.set(
            xscale="log",
            xlabel="training examples m",
            ylabel="test error",
            title="breast cancer: learning curves (Ng & Jordan 2002)",
        )
        ax.legend()


def _check_classifier(ctx: Context, label: str, ours, ref, X: np.ndarray, ref_name: str) -> None:
    """Our fitted classifier against the reference's: test predictions and probabilities."""
    ctx.check(f"{label}: test predictions", ours.predict(X), ref.predict(X), ref=ref_name)
    ctx.check(
        f"{label}: test probabilities",
        ours.predict_proba(X),
        ref.predict_proba(X),
        rtol=1e-10,
        atol=1e-10,
        ref=ref_name,
    )
