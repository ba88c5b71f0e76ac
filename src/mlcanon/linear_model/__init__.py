"""Linear models: least squares, ridge, lasso / elastic net (coordinate descent), logistic."""

from ._cd_cv import ElasticNetCV, LassoCV, MultiTaskElasticNetCV, MultiTaskLassoCV
from ._coordinate_descent import ElasticNet, Lasso, enet_path, lasso_path
from ._least_squares import LinearRegression, Ridge
from ._logistic import LogisticRegression
from ._logistic_cv import LogisticRegressionCV
from ._multi_task import MultiTaskElasticNet, MultiTaskLasso
from ._ridge_classifier import RidgeClassifier, RidgeClassifierCV
from ._ridge_cv import RidgeCV

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "LinearRegression",
    "LogisticRegression",
    "LogisticRegressionCV",
    "MultiTaskElasticNet",
    "MultiTaskElasticNetCV",
    "MultiTaskLasso",
    "MultiTaskLassoCV",
    "Ridge",
    "RidgeCV",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "enet_path",
    "lasso_path",
]
