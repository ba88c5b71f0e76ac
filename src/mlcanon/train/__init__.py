"""Training utilities: class-balanced sampling, the LR range test, warmup, early stopping."""

from ._early_stopping import EarlyStopping
from ._lr_finder import LRRangeTestResult, lr_range_test
from ._sampler import ClassBalancedSampler, class_balanced_weights
from ._schedule import warmup_cosine

__all__ = [
    "ClassBalancedSampler",
    "EarlyStopping",
    "LRRangeTestResult",
    "class_balanced_weights",
    "lr_range_test",
    "warmup_cosine",
]
