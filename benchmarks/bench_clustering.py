"""KMeans, GaussianMixture and HMM forward-backward: ours vs scikit-learn and hmmlearn.

Both sides start from the same parameters and run the same number of iterations (printed), so
the ratio compares the work per iteration. Every case runs with one thread everywhere (BLAS and
OpenMP), which measures work rather than how many idle cores the machine has; KMeans, where the
two sides parallelize differently (scikit-learn: OpenMP over chunks; ours: BLAS for the cross
products, one numba pass for labels and sums), also runs with the default thread pools.
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import compare


def _kmeans_case(threads: str) -> None:
    from sklearn.cluster import KMeans as SkKMeans
    from sklearn.datasets import make_blobs

    from mlcanon.cluster import KMeans

    X, _ = make_blobs(100_000, 20, centers=10, cluster_std=4.0, random_state=0)
    init = X[np.random.default_rng(0).choice(len(X), 10, replace=False)]
    kw = dict(init=init, n_init=1, max_iter=10, tol=0.0)
    ours, ref = KMeans(10, **kw).fit(X), SkKMeans(10, **kw).fit(X)
    assert np.array_equal(ours.labels_, ref.labels_)
    compare(
        f"KMeans 100000x20 k=10 ({threads})",
        lambda: KMeans(10, **kw).fit(X),
        lambda: SkKMeans(10, **kw).fit(X),
        ref_name="sklearn",
        target=1.5,
        repeat=3,
        note=f"n_iter {ours.n_iter_} vs {ref.n_iter_}",
    )


def _gmm_case(threads: str) -> None:
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    from mlcanon.mixture import GaussianMixture

    X, _ = make_blobs(20_000, 10, centers=5, cluster_std=3.0, random_state=0)
    means = X[np.random.default_rng(0).choice(len(X), 5, replace=False)]
    kw = dict(
        n_components=5, covariance_type="full", weights_init=np.full(5, 0.2), means_init=means,
        precisions_init=np.tile(np.eye(10) / 9.0, (5, 1, 1)), max_iter=10, tol=0.0,
    )  # fmt: skip
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0 never converges: a fixed number of iterations
        ours, ref = GaussianMixture(**kw).fit(X), SkGaussianMixture(**kw).fit(X)
        assert np.allclose(ours.means_, ref.means_)
        compare(
            f"GaussianMixture full 20000x10 k=5 ({threads})",
            lambda: GaussianMixture(**kw).fit(X),
            lambda: SkGaussianMixture(**kw).fit(X),
            ref_name="sklearn",
            target=2.0,
            repeat=3,
            note=f"n_iter {ours.n_iter_} vs {ref.n_iter_}",
        )


def _hmm_case(threads: str) -> None:
    from hmmlearn import hmm

    from mlcanon.hmm import CategoricalHMM, GaussianHMM

    rng = np.random.default_rng(0)
    start, trans = np.full(4, 0.25), rng.dirichlet(np.full(4, 0.5) + 4 * np.eye(4)[0], size=4)
    gauss = dict(startprob_=start, transmat_=trans, means_=rng.normal(size=(4, 3)) * 2,
                 covars_=rng.uniform(0.5, 2.0, (4, 3)))  # fmt: skip
    cat = dict(startprob_=start, transmat_=trans, emissionprob_=rng.dirichlet(np.ones(8), size=4))
    cases = [
        ("GaussianHMM diag", GaussianHMM, hmm.GaussianHMM, gauss),
        ("CategoricalHMM", CategoricalHMM, hmm.CategoricalHMM, cat),
    ]
    for label, Ours, Ref, params in cases:
        ours, ref = Ours(4, init_params=""), Ref(4, init_params="")
        for k, v in params.items():
            setattr(ours, k, v.copy())
            setattr(ref, k, v.copy())
        X, _ = ref.sample(100_000, random_state=0)
        assert np.allclose(ours.score_samples(X)[1], ref.score_samples(X)[1], atol=1e-8)
        compare(
            f"{label} forward-backward 1e5 steps ({threads})",
            lambda ours=ours, X=X: ours.score_samples(X),
            lambda ref=ref, X=X: ref.score_samples(X),
            ref_name="hmmlearn",
            target=1.0,
            repeat=5,
            note="score_samples: log-likelihood + posteriors",
        )


def main() -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        for case in (_kmeans_case, _gmm_case, _hmm_case):
            case("1 thread")
    _kmeans_case("default threads")
