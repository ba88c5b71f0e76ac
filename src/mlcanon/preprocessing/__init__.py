"""Data preparation: imputation, cleaning and resampling of imbalanced classes."""

from ._knn_imputer import KNNImputer
from ._missing import MissingIndicator
from ._outliers import drop_duplicates, duplicated, iqr_outliers, zscore_outliers
from ._resample import SMOTE, RandomOverSampler, RandomUnderSampler, compute_class_weight
from ._simple_imputer import SimpleImputer

__all__: list[str] = []
__all__ += ["KNNImputer", "MissingIndicator", "SimpleImputer"]
__all__ += ["drop_duplicates", "duplicated", "iqr_outliers", "zscore_outliers"]
__all__ += ["SMOTE", "RandomOverSampler", "RandomUnderSampler", "compute_class_weight"]
