"""Support vector machines: SMO solver with kernel cache, kernel SVC and epsilon-SVR."""

from ._classes import SVC
from ._regression import SVR

__all__ = ["SVC", "SVR"]
