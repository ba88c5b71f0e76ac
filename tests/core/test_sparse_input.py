"""Sparse input kept sparse by the shared reader (``as_float_array(..., accept_sparse='csr')``):
a complex matrix is refused, as scikit-learn's and imbalanced-learn's check_array refuse it.
The reader cast it to float64, dropping the imaginary part with only numpy's ComplexWarning,
and every estimator that keeps CSR data fitted the real part."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster as skc
from sklearn import linear_model as sklm
from sklearn import svm as sksvm
from sklearn.datasets import make_classification

from mlcanon import cluster, linear_model, preprocessing, svm

imblearn = pytest.importorskip("imblearn")
from imblearn import over_sampling  # noqa: E402

X, Y = make_classification(60, 5, random_state=0)
Y_IMBALANCED = np.r_[np.zeros(50, int), np.ones(10, int)]


@pytest.mark.parametrize(
    "ours, ref, y",
    [
        (lambda: svm.LinearSVC(), lambda: sksvm.LinearSVC(), Y),
        (lambda: cluster.KMeans(2, n_init=1), lambda: skc.KMeans(2, n_init=1), None),
        (lambda: linear_model.RidgeClassifier(), lambda: sklm.RidgeClassifier(), Y),
        (
            lambda: preprocessing.SMOTE(k_neighbors=2),
            lambda: over_sampling.SMOTE(k_neighbors=2),
            Y_IMBALANCED,
        ),
    ],
    ids=["LinearSVC", "KMeans", "RidgeClassifier", "SMOTE"],
)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_complex_sparse_x_is_refused_as_sklearn(ours, ref, y, fmt):
    Xc = sp.csr_matrix(X + 1j).asformat(fmt)
    for make in (ref, ours):
        est = make()
        fit = est.fit_resample if hasattr(est, "fit_resample") else est.fit
        with pytest.raises(ValueError, match="Complex data not supported"):
            fit(Xc, y) if y is not None else fit(Xc)


def test_complex_sparse_x_is_refused_by_kmeans_plusplus():
    with pytest.raises(ValueError, match="Complex data not supported"):
        skc.kmeans_plusplus(sp.csr_matrix(X + 1j), 2, random_state=0)
    with pytest.raises(ValueError, match="Complex data not supported: X has dtype complex128"):
        cluster.kmeans_plusplus(sp.csr_matrix(X + 1j), 2, random_state=0)
