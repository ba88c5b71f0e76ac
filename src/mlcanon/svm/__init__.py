"""Support vector machines: SMO solver with kernel cache, kernel SVC and epsilon-SVR, the
one-class SVM; LIBLINEAR's LinearSVC."""

from ._classes import SVC
from ._linear import LinearSVC
from ._oneclass import OneClassSVM
from ._regression import SVR

__all__ = ["SVC", "SVR", "LinearSVC", "OneClassSVM"]
