"""Bad input to the kernel SVMs: the cases found by an independent bad-input suite and their
neighbours."""

import numpy as np
import pytest
from sklearn import svm as sk_svm
from sklearn.datasets import make_classification

from mlcanon import svm as mlcanon_svm
from mlcanon.svm import SVC

X, Y = make_classification(n_samples=60, n_features=4, random_state=0)


@pytest.mark.parametrize("scale", [1e200, 1e160])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_overflowing_kernel_is_refused_like_scikit_learn(scale, kernel):
    with pytest.raises(ValueError, match="dual coefficients or intercepts are not finite"):
        with np.errstate(over="ignore", invalid="ignore"):
            sk_svm.SVC(kernel=kernel).fit(X * scale, Y)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match=r"not finite.*max \|X\| = .*StandardScaler"):
            SVC(kernel=kernel).fit(X * scale, Y)


def test_non_finite_input_is_refused():
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SVC().fit(bad, Y)


@pytest.mark.parametrize("name", ["NuSVC", "NuSVR", "OneClassSVM"])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_nu_svms_refuse_an_overflowing_kernel_like_scikit_learn(name, kernel):
    """The kernel of X * 1e200 overflows: scikit-learn's nu-SVMs and one-class SVM refuse the
    non-finite solution, and so do ours (naming the size of X)."""
    args = (X * 1e200,) if name == "OneClassSVM" else (X * 1e200, Y)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match="dual coefficients or intercepts are not finite"):
            getattr(sk_svm, name)(kernel=kernel).fit(*args)
        with pytest.raises(ValueError, match=r"not finite.*max \|X\| = .*StandardScaler"):
            getattr(mlcanon_svm, name)(kernel=kernel).fit(*args)


@pytest.mark.parametrize("name", ["SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM"])
def test_sample_weight_of_another_length_names_x(name):
    """scikit-learn: 'sample_weight and X have incompatible shapes'. Ours named y, which
    OneClassSVM is not given."""
    w = np.ones(len(Y) - 1)
    y = None if name == "OneClassSVM" else Y
    with pytest.raises(ValueError, match="sample_weight and X have incompatible shapes"):
        getattr(sk_svm, name)().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match=f"sample_weight={len(Y) - 1}, X={len(Y)}"):
        getattr(mlcanon_svm, name)().fit(X, y, sample_weight=w)
