"""Support vector machines: SMO solver with kernel cache, kernel SVC and epsilon-SVR, NuSVC
and the one-class SVM; LIBLINEAR's LinearSVC."""

from ._classes import SVC, NuSVC
from ._linear import LinearSVC
from ._oneclass import OneClassSVM
from ._regression import SVR

__all__ = ["SVC", "SVR", "LinearSVC", "NuSVC", "OneClassSVM"]
