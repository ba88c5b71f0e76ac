"""Data preparation: imputation, cleaning and resampling of imbalanced classes."""

from ._impute import KNNImputer, SimpleImputer
from ._outliers import drop_duplicates, duplicated, iqr_outliers, zscore_outliers
from ._resample import SMOTE, RandomOverSampler, RandomUnderSampler, compute_class_weight

__all__: list[str] = []
__all__ += ["KNNImputer", "SimpleImputer"]
__all__ += ["drop_duplicates", "duplicated", "iqr_outliers", "zscore_outliers"]
__all__ += ["SMOTE", "RandomOverSampler", "RandomUnderSampler", "compute_class_weight"]
