"""SVC against scikit-learn's LIBSVM: same support vectors, dual coefficients, predictions.

Both run SMO with the same second-order working-set selection and single-precision kernel
rows, so on the same data they take the same steps.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.svm import SVC


def _scaled(loader, n=None):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X)[:n], y[:n]


DATA = {
    "iris": _scaled(load_iris),
    "wine": _scaled(load_wine),
    "breast_cancer": _scaled(load_breast_cancer),
    "digits": _scaled(load_digits, 600),
}
KERNELS = ["linear", "poly", "rbf", "sigmoid"]


def fit_both(X, y, **params):
    return SVC(**params).fit(X, y), sk.SVC(**params).fit(X, y)


def assert_same_model(ours, ref, X):
    np.testing.assert_array_equal(ours.support_, ref.support_)
    for name in ("support_", "n_support_", "n_iter_", "dual_coef_", "intercept_"):
        assert getattr(ours, name).dtype == getattr(ref, name).dtype, name
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_sklearn(data, kernel):
    X, y = DATA[data]
    ours, ref = fit_both(X, y, kernel=kernel)
    assert_same_model(ours, ref, X)
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    "params",
    [
        {"kernel": "rbf", "gamma": "auto", "C": 10.0},
        {"kernel": "poly", "degree": 2, "coef0": 1.0, "gamma": 0.1},
        {"kernel": "rbf", "class_weight": "balanced", "decision_function_shape": "ovo"},
        {"kernel": "linear", "C": 0.05, "class_weight": {0: 2.0, 2: 0.5}},
        {"kernel": "rbf", "break_ties": True},
        {"kernel": "rbf", "tol": 1e-6, "cache_size": 0.01},  # a cache of a few rows: evictions
    ],
    ids=str,
)
def test_parameters_match_sklearn(params):
    X, y = DATA["wine"]
    ours, ref = fit_both(X, y, **params)
    assert_same_model(ours, ref, X)
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("break_ties", [False, True])
def test_exact_zero_pairwise_decisions_break_ties_as_sklearn(break_ties):
    # gamma = 1e6: away from the training points every kernel value underflows to 0, each
    # pairwise decision is its intercept, and the (0, 1) intercept is exactly 0 here
    X, y = make_blobs(random_state=42, n_samples=20, n_features=2)
    grid = np.random.default_rng(0).uniform(X.min(axis=0), X.max(axis=0), size=(200, 2))
    ours, ref = fit_both(X, y, gamma=1e6, break_ties=break_ties)
    assert ref.intercept_[0] == 0.0
    np.testing.assert_array_equal(ours.decision_function(grid), ref.decision_function(grid))
    np.testing.assert_array_equal(ours.predict(grid), ref.predict(grid))


def test_sample_weight_and_string_labels_match_sklearn():
    X, y = DATA["iris"]
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    ours = SVC().fit(X, labels, sample_weight=w)
    ref = sk.SVC().fit(X, labels, sample_weight=w)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert_same_model(ours, ref, X)


def test_separable_points_by_hand():
    # two points per class, symmetric about x = 0: w = (1, 0), b = 0, margin 1; all four points
    # lie on the margin; with C large this is the hard-margin SVM
    X = np.array([[-1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [1.0, -1.0]])
    y = np.array([0, 0, 1, 1])
    model = SVC(kernel="linear", C=1e6, tol=1e-10).fit(X, y)
    w = model.dual_coef_ @ model.support_vectors_
    np.testing.assert_allclose(w, [[1.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(model.intercept_, [0.0], atol=1e-9)
    np.testing.assert_allclose(model.decision_function(X), [-1, -1, 1, 1], atol=1e-9)
    # KKT: sum_i y_i alpha_i = 0
    assert model.dual_coef_.sum() == pytest.approx(0.0, abs=1e-9)


def test_dual_constraints_hold():
    X, y = DATA["breast_cancer"]
    model = SVC(C=0.5).fit(X, y)
    alpha = np.abs(model.dual_coef_)
    assert (alpha > 0).all() and (alpha <= 0.5 + 1e-12).all()
    assert model.dual_coef_.sum() == pytest.approx(0.0, abs=1e-10)


@parametrize_with_checks(
    [SVC(), SVC(kernel="linear")],
    expected_failed_checks=lambda est: {
        # as for scikit-learn's SVC: weights rescale C, and two solves stopped at tol=1e-3
        # from different starting problems agree only to about that tolerance
        "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
        "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_save_load_round_trip(tmp_path):
    X, y = DATA["wine"]
    model = SVC(kernel="poly").fit(X, y)
    back = io.load(io.save(model, tmp_path / "svc.npz"))
    np.testing.assert_array_equal(back.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_errors_name_the_parameter():
    X, y = DATA["iris"]
    with pytest.raises(
        ValueError,
        match=r"kernel must be one of 'linear', .* 'precomputed' or a callable; got str 'cosine'",
    ):
        SVC(kernel="cosine").fit(X, y)
    match = r"^gamma must be one of 'scale', 'auto' or a float in the range \[0, inf\);"
    with pytest.raises(ValueError, match=match):
        SVC(gamma="big").fit(X, y)
    with pytest.raises(ValueError, match="C must be > 0, got 0"):
        SVC(C=0).fit(X, y)
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        SVC(gamma=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        SVC().fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="class_weight has labels \\[7\\]"):
        SVC(class_weight={7: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="has no sample with positive sample_weight"):
        SVC().fit(X, y, sample_weight=np.r_[np.zeros(50), np.ones(100)])
    with pytest.raises(ValueError, match="break_ties must be False"):
        SVC(break_ties=True, decision_function_shape="ovo").fit(X, y).predict(X)
    with pytest.warns(Warning, match="max_iter=3"):
        SVC(max_iter=3).fit(X, y)


@pytest.mark.parametrize("data", ["iris", "wine"])
def test_precomputed_and_callable_kernels_match_sklearn(data):
    X, y = DATA[data]
    rbf = lambda A, B: np.exp(-0.1 * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))  # noqa: E731
    K = rbf(X, X)
    ours, ref = fit_both(K, y, kernel="precomputed")
    assert_same_model(ours, ref, K)
    np.testing.assert_allclose(ours.decision_function(K), ref.decision_function(K), atol=1e-3)
    ours_c, ref_c = SVC(kernel=rbf).fit(X, y), sk.SVC(kernel=rbf).fit(X, y)
    assert_same_model(ours_c, ref_c, X)
    with pytest.raises(ValueError, match="Precomputed matrix must be a square matrix"):
        SVC(kernel="precomputed").fit(X, y)
    with pytest.raises(ValueError, match="must return the Gram matrix"):
        SVC(kernel=lambda A, B: A).fit(X, y)


@pytest.mark.parametrize("data", ["iris", "breast_cancer"])
def test_linear_coef_matches_sklearn_and_is_read_only(data):
    X, y = DATA[data]
    ours, ref = fit_both(X, y, kernel="linear")
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError):
        ours.coef_[0, 0] = 0.0
    assert not hasattr(SVC().fit(X, y), "coef_")


def test_infinite_C_is_the_hard_margin():
    X, y = DATA["breast_cancer"]
    ours, ref = SVC(C=np.inf).fit(X, y), sk.SVC(C=1e10).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_non_positive_weights_drop_samples_as_libsvm():
    X, y = DATA["iris"]
    X, y = X[50:], y[50:]
    w = np.where(np.arange(len(y)) % 3 == 0, -0.5, 1.0)
    ours, ref = SVC(kernel="linear").fit(X, y, sample_weight=w), sk.SVC(kernel="linear")
    ref.fit(X, y, sample_weight=w)
    # support_ indexes the X given (scikit-learn's indexes the samples left after masking)
    np.testing.assert_array_equal(ours.support_vectors_, ref.support_vectors_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    with pytest.raises(ValueError, match="all samples have zero or negative weights"):
        SVC().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="positive weights belong to the same class"):
        SVC().fit(X, y, sample_weight=np.r_[np.ones(50), np.zeros(50)])


def test_callable_kernel_sees_raw_input_and_the_training_set_as_sklearn():
    """A kernel on strings (counts of 'A' and 'B'), called with the training input at predict."""
    data = ["A A", "A", "B", "B B", "A B", "B A B"]
    y = np.array([1, 1, 2, 2, 1, 2])

    def counts(A, B):
        a = np.array([[s.count("A"), s.count("B")] for s in A], dtype=float)
        b = np.array([[s.count("A"), s.count("B")] for s in B], dtype=float)
        return a @ b.T

    ours, ref = SVC(kernel=counts).fit(data, y), sk.SVC(kernel=counts).fit(data, y)
    np.testing.assert_allclose(ours.decision_function(data), ref.decision_function(data), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(["A", "B B B"]), ref.predict(["A", "B B B"]))


def test_a_class_without_weight_is_named():
    """class_weight 0 on a whole class leaves the intercept undefined; scikit-learn reports
    non-finite dual coefficients, ours names the class."""
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="not finite"):
        sk.SVC(class_weight={1: 0.0}).fit(X, y)
    with pytest.raises(ValueError, match=r"class 1 has C \* class_weight \* sample_weight = 0"):
        SVC(class_weight={1: 0.0}).fit(X, y)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_fits_as_sklearn(kernel, fmt):
    """scikit-learn's SVC fits scipy.sparse data (ours refused it with a TypeError): the same
    support vectors, dual coefficients and decisions, sparse or dense X to score; a model fitted
    on dense data refuses sparse X with scikit-learn's ValueError."""
    import scipy.sparse as sp

    X, y = DATA["wine"]
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # a sparse-looking matrix
    Xs = sp.csr_matrix(X).asformat(fmt)
    ours, ref = SVC(kernel=kernel).fit(Xs, y), sk.SVC(kernel=kernel).fit(Xs, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    # after a sparse fit both keep CSR matrices (ours kept dense arrays)
    for name in ("support_vectors_", "dual_coef_") + (("coef_",) if kernel == "linear" else ()):
        assert type(getattr(ours, name)) is type(getattr(ref, name)) is sp.csr_matrix, name
    np.testing.assert_allclose(ours.support_vectors_.toarray(), ref.support_vectors_.toarray())
    assert ours.support_vectors_.nnz == ref.support_vectors_.nnz
    np.testing.assert_allclose(
        ours.dual_coef_.toarray(), ref.dual_coef_.toarray(), rtol=1e-5, atol=1e-8
    )
    if kernel == "linear":
        np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=1e-5, atol=1e-7)
    for X_test in (Xs, X):
        want = ref.decision_function(X_test)
        np.testing.assert_allclose(ours.decision_function(X_test), want, rtol=1e-5, atol=1e-8)
        np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    dense_ours, dense_ref = SVC(kernel=kernel).fit(X, y), sk.SVC(kernel=kernel).fit(X, y)
    for model in (dense_ours, dense_ref):
        with pytest.raises(ValueError, match="cannot use sparse input in 'SVC' trained on dense"):
            model.predict(Xs)


def test_a_model_fitted_on_sparse_data_saves_and_loads(tmp_path):
    """The CSR support vectors and dual coefficients of a sparse fit round-trip through
    mlcanon.io (they were dense arrays before), and the loaded model decides as scikit-learn's."""
    import scipy.sparse as sp

    X, y = DATA["wine"]
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    ours, ref = SVC(kernel="linear").fit(Xs, y), sk.SVC(kernel="linear").fit(Xs, y)
    back = io.load(io.save(ours, tmp_path / "svc.npz"))
    assert type(back.support_vectors_) is type(back.dual_coef_) is sp.csr_matrix
    assert (back.support_vectors_ != ours.support_vectors_).nnz == 0
    want = ref.decision_function(Xs)
    np.testing.assert_allclose(back.decision_function(Xs), want, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(back.coef_.toarray(), ref.coef_.toarray(), rtol=1e-5, atol=1e-7)


def test_sklearn_signature_shrinking_verbose_probability():
    """scikit-learn's SVC(shrinking=..., verbose=..., probability=False) constructed and fitted
    (ours raised TypeError: unexpected keyword argument); the solution is the same up to tol,
    probability=False warns as scikit-learn 1.9.1 does and probability=True is refused."""
    X, y = DATA["wine"]
    kw = dict(shrinking=False, verbose=False)
    ours, ref = SVC(**kw).fit(X, y), sk.SVC(**kw).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-4)
    assert set(sk.SVC().get_params()) - {"probability"} <= set(SVC().get_params())
    for model in (SVC(probability=False), sk.SVC(probability=False)):
        with pytest.warns(FutureWarning, match=r"`probability` parameter was deprecated in 1\.9"):
            model.fit(X, y)
    with pytest.raises(ValueError, match=r"probability=True is not offered.*Calibrated"):
        SVC(probability=True).fit(X, y)
    with pytest.raises(TypeError, match="shrinking must be bool"):
        SVC(shrinking="yes").fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_callable_kernel_on_sparse_input_matches_sklearn(fmt):
    """A callable kernel receives scipy.sparse X as given (ours raised TypeError: sparse array
    length is ambiguous, checking the Gram matrix's shape with len)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)) * (rng.random((40, 4)) < 0.5)
    y = np.arange(40) % 3
    Xs, Xt = sp.csr_matrix(X).asformat(fmt), sp.csr_matrix(rng.normal(size=(7, 4))).asformat(fmt)

    def linear_plus_one(A, B):
        return (A @ B.T).toarray() + 1.0

    ours = SVC(kernel=linear_plus_one).fit(Xs, y)
    ref = sk.SVC(kernel=linear_plus_one).fit(Xs, y)
    np.testing.assert_allclose(ours.decision_function(Xt), ref.decision_function(Xt), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    np.testing.assert_array_equal(ours.support_, ref.support_)
    assert ours.shape_fit_ == ref.shape_fit_ == (40, 4)
    np.testing.assert_array_equal(ours.support_vectors_.toarray(), X[ours.support_])


@pytest.mark.parametrize(("bad", "word"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_callable_kernel_with_non_finite_output_is_named(bad, word):
    """The error names the kernel's call (it read "Input the kernel's output contains NaN.")."""
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6) % 2

    def kernel(A, B):
        K = A @ B.T
        K[0, 0] = bad
        return K

    with pytest.raises(ValueError, match=rf"^Input kernel\(A, B\) contains {word}\.$"):
        SVC(kernel=kernel).fit(X, y)
