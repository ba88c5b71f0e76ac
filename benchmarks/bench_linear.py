"""Lasso, MultiTaskLasso, LassoCV, RidgeCV, LogisticRegression, the SVMs and PCA: ours vs
scikit-learn, same data, same settings.

Each pair is checked to produce the same model before it is timed (same iteration counts where
both report them). Everything runs with one BLAS thread, which measures work rather than how
many idle cores the shared machine has at that moment; the Newton-Cholesky case runs with
the default threads.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks._harness import compare


def _lasso_case() -> None:
    from sklearn.linear_model import Lasso as SkLasso

    from mlcanon.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 1000))
    w = np.zeros(1000)
    w[:50] = rng.standard_normal(50) * 3.0
    y = X @ w + rng.standard_normal(5000)
    kw = dict(alpha=0.01, tol=1e-6)
    ours, ref = Lasso(**kw).fit(X, y), SkLasso(**kw).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ and np.allclose(ours.coef_, ref.coef_, rtol=1e-6)
    compare(
        "Lasso 5000x1000 dense, alpha=0.01",
        lambda: Lasso(**kw).fit(X, y),
        lambda: SkLasso(**kw).fit(X, y),
        ref_name="sklearn",
        target=1.5,
        repeat=5,
        note=f"{ours.n_iter_} sweeps each, {np.count_nonzero(ours.coef_)} nonzero",
    )


def _multi_task_lasso_case() -> None:
    from sklearn.linear_model import MultiTaskLasso as SkMultiTaskLasso

    from mlcanon.linear_model import MultiTaskLasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 500))
    W = np.zeros((10, 500))
    W[:, :30] = rng.standard_normal((10, 30)) * 2.0
    Y = X @ W.T + rng.standard_normal((2000, 10))
    kw = dict(alpha=0.1, tol=1e-6)
    ours, ref = MultiTaskLasso(**kw).fit(X, Y), SkMultiTaskLasso(**kw).fit(X, Y)
    assert ours.n_iter_ == ref.n_iter_ and np.allclose(ours.coef_, ref.coef_, rtol=1e-6)
    compare(
        "MultiTaskLasso 2000x500, 10 targets, alpha=0.1",
        lambda: MultiTaskLasso(**kw).fit(X, Y),
        lambda: SkMultiTaskLasso(**kw).fit(X, Y),
        ref_name="sklearn",
        target=1.5,
        repeat=5,
        note=f"{ours.n_iter_} sweeps each, {ours.coef_.any(axis=0).sum()} features kept",
    )


def _lasso_cv_case() -> None:
    from sklearn.linear_model import LassoCV as SkLassoCV

    from mlcanon.linear_model import LassoCV

    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 200))
    w = np.zeros(200)
    w[:20] = rng.standard_normal(20)
    y = X @ w + rng.standard_normal(2000)
    kw = dict(cv=5, tol=1e-6)  # 100 alphas per fold, the Gram matrix ('auto': n > p)
    ours, ref = LassoCV(**kw).fit(X, y), SkLassoCV(**kw).fit(X, y)
    assert ours.alpha_ == ref.alpha_ and np.allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    compare(
        "LassoCV 2000x200, 5 folds x 100 alphas",
        lambda: LassoCV(**kw).fit(X, y),
        lambda: SkLassoCV(**kw).fit(X, y),
        ref_name="sklearn",
        target=1.5,
        repeat=5,
        note=f"alpha_={ours.alpha_:.4g} on both",
    )


def _ridge_cv_case() -> None:
    from sklearn.linear_model import RidgeCV as SkRidgeCV

    from mlcanon.linear_model import RidgeCV

    rng = np.random.default_rng(0)
    for n, p, mode in ((5000, 200, "eigen"), (5000, 200, "svd"), (500, 2000, "eigen")):
        X = rng.standard_normal((n, p))
        Y = X @ rng.standard_normal((p, 3)) + 10.0 * rng.standard_normal((n, 3))
        kw = dict(alphas=np.logspace(-3, 3, 13), gcv_mode=mode, alpha_per_target=True)
        ours, ref = RidgeCV(**kw).fit(X, Y), SkRidgeCV(**kw).fit(X, Y)
        assert np.array_equal(ours.alpha_, ref.alpha_)
        assert np.allclose(ours.coef_, ref.coef_, rtol=1e-8)
        compare(
            f"RidgeCV {n}x{p} 3 targets, 13 alphas, {mode}",
            lambda X=X, Y=Y, kw=kw: RidgeCV(**kw).fit(X, Y),
            lambda X=X, Y=Y, kw=kw: SkRidgeCV(**kw).fit(X, Y),
            ref_name="sklearn",
            target=1.5,
            repeat=5,
        )


def _logistic_case(solver: str = "lbfgs", n_class: int = 10) -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    from mlcanon.linear_model import LogisticRegression

    X, y = load_digits(n_class=n_class, return_X_y=True)
    X = X / 16.0
    kw = dict(solver=solver, tol=1e-4, max_iter=1000)
    ours, ref = LogisticRegression(**kw).fit(X, y), SkLogisticRegression(**kw).fit(X, y)
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.999
    compare(
        f"LogisticRegression {solver} multinomial digits"
        + ("" if n_class == 10 else f", {n_class} classes"),
        lambda: LogisticRegression(**kw).fit(X, y),
        lambda: SkLogisticRegression(**kw).fit(X, y),
        ref_name="sklearn",
        target=2.0,
        repeat=5,
        note=f"{ours.n_iter_[0]} vs {ref.n_iter_[0]} iterations",
    )


def _svc_case() -> None:
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC as SkSVC

    from mlcanon.svm import SVC

    X, y = make_classification(5000, 20, n_informative=10, flip_y=0.05, random_state=0)
    ours, ref = SVC().fit(X, y), SkSVC().fit(X, y)
    assert np.array_equal(ours.support_, ref.support_)
    compare(
        "SVC rbf 5000x20",
        lambda: SVC().fit(X, y),
        lambda: SkSVC().fit(X, y),
        ref_name="sklearn",
        target=3.0,
        repeat=3,
        note=f"{ours.n_iter_[0]} vs {ref.n_iter_[0]} SMO iterations, {len(ours.support_)} SVs",
    )


def _libsvm_family_case() -> None:
    """SVR, NuSVC and OneClassSVM on the SMO solver that SVC uses (LIBSVM's, which shrinks
    its working set where ours does not)."""
    from sklearn import svm as sk
    from sklearn.datasets import make_classification, make_regression

    from mlcanon import svm

    Xc, yc = make_classification(3000, 20, n_informative=10, flip_y=0.05, random_state=0)
    Xr, yr = make_regression(3000, 20, noise=10.0, random_state=0)
    for name, X, y, kw in (
        ("SVR", Xr, yr / yr.std(), dict(epsilon=0.1)),
        ("NuSVC", Xc, yc, {}),
        ("OneClassSVM", Xc, None, {}),
    ):
        ours, ref = getattr(svm, name)(**kw).fit(X, y), getattr(sk, name)(**kw).fit(X, y)
        assert np.array_equal(ours.support_, ref.support_)
        compare(
            f"{name} rbf 3000x20",
            lambda name=name, X=X, y=y, kw=kw: getattr(svm, name)(**kw).fit(X, y),
            lambda name=name, X=X, y=y, kw=kw: getattr(sk, name)(**kw).fit(X, y),
            ref_name="sklearn",
            target=3.0,
            repeat=3,
            note=f"{len(ours.support_)} SVs",
        )


def _linear_svc_case() -> None:
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC as SkLinearSVC

    from mlcanon.svm import LinearSVC

    rng = np.random.default_rng(0)
    Xd = rng.standard_normal((20_000, 50))
    yd = (Xd[:, :5].sum(1) + rng.standard_normal(20_000) > 0).astype(int)
    Xs = sp.random(20_000, 5_000, density=0.005, format="csr", random_state=0, dtype=np.float64)
    ys = Xs[:, :200].sum(1).A1 + 0.02 * rng.standard_normal(20_000) > Xs[:, :200].sum(1).mean()
    for label, X, y in (("dense 20000x50", Xd, yd), ("CSR 20000x5000, 0.5%", Xs, ys.astype(int))):
        kw = dict(dual=True, C=0.1, tol=1e-6, max_iter=5000)
        ours, ref = LinearSVC(**kw).fit(X, y), SkLinearSVC(**kw).fit(X, y)
        assert np.allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
        compare(
            f"LinearSVC dual {label}",
            lambda X=X, y=y, kw=kw: LinearSVC(**kw).fit(X, y),
            lambda X=X, y=y, kw=kw: SkLinearSVC(**kw).fit(X, y),
            ref_name="sklearn",
            target=3.0,
            repeat=3,
            note=f"{ours.n_iter_} vs {ref.n_iter_} epochs",
        )


def _pca_case() -> None:
    from sklearn.decomposition import PCA as SkPCA

    from mlcanon.decomposition import PCA

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 20)) @ rng.standard_normal((20, 200))
    X += 0.1 * rng.standard_normal(X.shape)
    for solver in ("covariance_eigh", "full"):
        Xs = X if solver == "covariance_eigh" else X[:2000]
        compare(
            f"PCA {Xs.shape[0]}x200 k=10 {solver}",
            lambda Xs=Xs, solver=solver: PCA(10, svd_solver=solver).fit(Xs),
            lambda Xs=Xs, solver=solver: SkPCA(10, svd_solver=solver).fit(Xs),
            ref_name="sklearn",
            target=1.2,
            repeat=5,
        )


def main() -> None:
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    # threadpool_limits reaches only the BLAS libraries already loaded: scipy's (which numba's
    # np.dot and scikit-learn's Cython solvers call) is loaded by these imports
    import mlcanon.linear_model  # noqa: F401

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for case in (
            _lasso_case,
            _multi_task_lasso_case,
            _lasso_cv_case,
            _ridge_cv_case,
            _logistic_case,
            _svc_case,
            _libsvm_family_case,
            _linear_svc_case,
            _pca_case,
        ):
            case()
    # A Newton step alternates NumPy's products (the Hessian) with a factorization: timed with
    # the default BLAS threads too, where NumPy's and SciPy's OpenBLAS thread pools can contend.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        _logistic_case("newton-cholesky", 4)
