"""Support vector machines: SMO solver with kernel cache, kernel SVC."""

from ._classes import SVC

__all__ = ["SVC"]
