"""Data preparation: imputation, cleaning and resampling of imbalanced classes."""

from ._resample import SMOTE, RandomOverSampler, RandomUnderSampler, compute_class_weight

__all__: list[str] = []
__all__ += ["SMOTE", "RandomOverSampler", "RandomUnderSampler", "compute_class_weight"]
