"""Data preparation: imputation, cleaning and resampling of imbalanced classes."""

__all__: list[str] = []
