"""Training: the checkpointed training loop (alone or under torchrun), class-balanced sampling,
the LR range test, warmup schedules and early stopping."""

from ._checkpoint import CheckpointError
from ._early_stopping import EarlyStopping
from ._loop import Trainer, load_weights, save_weights
from ._lr_finder import LRRangeTestResult, lr_range_test
from ._sampler import ClassBalancedSampler, class_balanced_weights
from ._schedule import warmup_cosine

__all__ = [
    "CheckpointError",
    "ClassBalancedSampler",
    "EarlyStopping",
    "LRRangeTestResult",
    "Trainer",
    "class_balanced_weights",
    "load_weights",
    "lr_range_test",
    "save_weights",
    "warmup_cosine",
]
