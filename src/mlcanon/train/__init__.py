"""Training: the checkpointed training loop (alone or under torchrun), class-balanced sampling,
the LR range test, warmup schedules and early stopping."""

from ._checkpoint import CheckpointError
from ._early_stopping import EarlyStopping
from ._loop import SettingsMismatch, Trainer, load_weights, save_weights
from ._lr_finder import LRRangeTestResult, lr_range_test
from ._sampler import ClassBalancedSampler, class_balanced_weights
from ._schedule import warmup_cosine
from ._tasks import TaskConfig, TaskSetup, get_task, register_task, registered_tasks, run_task

__all__ = [
    "CheckpointError",
    "ClassBalancedSampler",
    "EarlyStopping",
    "LRRangeTestResult",
    "SettingsMismatch",
    "TaskConfig",
    "TaskSetup",
    "Trainer",
    "class_balanced_weights",
    "get_task",
    "load_weights",
    "lr_range_test",
    "register_task",
    "registered_tasks",
    "run_task",
    "save_weights",
    "warmup_cosine",
]
