"""Data preparation: imputation, cleaning, label encoding and resampling of imbalanced
classes."""

from ._class_weight import compute_class_weight
from ._knn_imputer import KNNImputer
from ._label import LabelEncoder
from ._missing import MissingIndicator
from ._outliers import drop_duplicates, duplicated, iqr_outliers, zscore_outliers
from ._resample import RandomOverSampler, RandomUnderSampler
from ._simple_imputer import SimpleImputer
from ._smote import SMOTE

__all__: list[str] = []
__all__ += ["KNNImputer", "LabelEncoder", "MissingIndicator", "SimpleImputer"]
__all__ += ["drop_duplicates", "duplicated", "iqr_outliers", "zscore_outliers"]
__all__ += ["SMOTE", "RandomOverSampler", "RandomUnderSampler", "compute_class_weight"]
