"""Decision trees (CART) with a numba split search and learned missing-value directions."""

from ._classes import DecisionTreeClassifier, DecisionTreeRegressor
from ._export import export_text
from ._tree import Tree

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor", "Tree", "export_text"]
