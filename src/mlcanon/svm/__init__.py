"""Support vector machines: SMO solver with kernel cache, kernel SVC and epsilon-SVR, their
nu variants NuSVC and NuSVR, the one-class SVM; LIBLINEAR's LinearSVC."""

from ._classes import SVC, NuSVC
from ._linear import LinearSVC
from ._oneclass import OneClassSVM
from ._regression import SVR, NuSVR

__all__ = ["SVC", "SVR", "LinearSVC", "NuSVC", "NuSVR", "OneClassSVM"]
