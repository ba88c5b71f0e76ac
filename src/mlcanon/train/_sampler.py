"""Class-balanced sampling: every class is drawn with the same probability."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from mlcanon._validation import check_array, check_integer, check_scalar

from ._distributed import world

__all__ = ["ClassBalancedSampler", "class_balanced_weights"]

_SEED_MAX = 2**64 - 1


def class_balanced_weights(labels: Any) -> np.ndarray:
    r"""Per-sample weights :math:`w_i = 1 / n_{y_i}` that give every class the same total mass.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class label of each sample (integers or strings; an object array holding only strings
        or only numbers too).

    Returns
    -------
    weights : ndarray of shape (n_samples,), float64
        The weights sum to the number of classes :math:`K`.

    Notes
    -----
    Sampling index :math:`i` with probability :math:`w_i / \sum_j w_j` draws class :math:`c` with
    probability :math:`n_c \cdot (1/n_c) / K = 1/K`, whatever the class counts :math:`n_c`.

    References
    ----------
    .. [1] Buda, Maki and Mazurowski, "A systematic study of the class imbalance problem in
       convolutional neural networks", Neural Networks 106, 2018 (oversampling, sec. 2.1).
    """
    if not isinstance(labels, torch.Tensor):
        labels = np.asarray(labels)
        if labels.dtype == object:  # a pandas column of strings, or of numbers
            labels = _plain_labels(labels)
    y = check_array(labels, "labels", ndim=1, dtype=None)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse].astype(np.float64)


def _plain_labels(labels: np.ndarray) -> np.ndarray:
    """An object array of labels as strings or as float64; a mix of kinds is refused."""
    items = labels.ravel().tolist()
    if all(isinstance(v, str) for v in items):
        return labels.astype(str)
    if all(isinstance(v, numbers.Real) for v in items):
        return labels.astype(np.float64)
    kinds = sorted({type(v).__name__ for v in items})
    raise ValueError(f"labels must be all strings or all numbers, got a mix of {kinds}")


class ClassBalancedSampler(Sampler[int]):
    r"""Draw dataset indices so that each class appears with equal probability.

    A ``torch.utils.data.Sampler``: pass it as ``DataLoader(dataset, sampler=...)``. Each epoch
    yields ``num_samples`` indices drawn with probabilities proportional to
    :func:`class_balanced_weights`, with the same draw as
    ``torch.utils.data.WeightedRandomSampler`` fed those weights and the same generator.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class label of each sample of the dataset.
    num_samples : int, optional
        Indices per epoch; defaults to ``len(labels)``.
    replacement : bool, default=True
        Draw with replacement. Without it, ``num_samples`` may not exceed ``len(labels)`` and the
        minority classes run out first, so the balance holds only at the start of the epoch.
    generator : torch.Generator, optional
        Source of randomness (the global torch generator when ``None``).
    num_replicas : int >= 1, optional
        Number of data-parallel processes sharing the stream; default: the world size of the
        initialised ``torch.distributed`` process group, else 1.
    rank : int in [0, num_replicas), optional
        This process's part; default: its ``torch.distributed`` rank, else 0.
    seed : int, optional
        Seed of the stream: epoch :math:`e` draws from a generator seeded with ``seed + e``
        (see :meth:`set_epoch`), identical on every rank. Required when ``num_replicas > 1``;
        excludes ``generator``.

    With ``num_replicas`` :math:`W > 1`, every rank draws the same global stream of
    ``num_samples`` indices and keeps positions ``rank, rank + W, rank + 2W, ...`` (as
    ``DistributedSampler`` splits a permutation), so the ranks' parts are disjoint and together
    form the single-process stream. ``num_samples`` must be a multiple of :math:`W`, so that
    every rank takes the same number of steps. A ``DataLoader`` with batch size :math:`B` per
    rank then gives, at each step, the same global batch of :math:`W B` indices as a single
    process with batch size :math:`W B`.

    Notes
    -----
    :math:`P(i) = \frac{1/n_{y_i}}{K}`, hence :math:`P(y = c) = 1/K` for each of the :math:`K`
    classes; a minority sample is repeated about :math:`N / (K n_c)` times per epoch.

    References
    ----------
    .. [1] Buda, Maki and Mazurowski, "A systematic study of the class imbalance problem in
       convolutional neural networks", Neural Networks 106, 2018.
    """

    def __init__(
        self,
        labels: Any,
        num_samples: int | None = None,
        replacement: bool = True,
        generator: torch.Generator | None = None,
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int | None = None,
    ) -> None:
        weights = class_balanced_weights(labels)
        n = len(weights)
        if num_samples is None:
            num_samples = n
        num_samples = check_integer(num_samples, "num_samples", low=1)
        check_scalar(replacement, "replacement", kind=bool)  # NumPy's bool too, as torch
        if not replacement and num_samples > n:
            raise ValueError(
                f"num_samples={num_samples} must be <= len(labels)={n} when replacement=False"
            )
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        dist_rank, dist_size = world()
        num_replicas = dist_size if num_replicas is None else num_replicas
        rank = dist_rank if rank is None else rank
        num_replicas = check_integer(num_replicas, "num_replicas", low=1)
        rank = check_integer(rank, "rank", low=0, high=num_replicas - 1)
        if seed is not None:  # torch.Generator.manual_seed's range
            check_scalar(seed, "seed", kind=numbers.Integral, low=-(2**63), high=_SEED_MAX)
            seed = int(seed)
            if generator is not None:
                raise ValueError("pass either seed or generator, not both")
        if num_replicas > 1 and seed is None:
            raise ValueError(
                f"seed is required with num_replicas={num_replicas}: every rank must draw "
                f"the same stream"
            )
        if num_samples % num_replicas:
            raise ValueError(
                f"num_samples={num_samples} must be a multiple of num_replicas={num_replicas} "
                f"(the world size), so that every rank takes the same number of steps"
            )
        self.weights = torch.as_tensor(weights, dtype=torch.double)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator
        self.num_replicas, self.rank, self.seed, self.epoch = num_replicas, rank, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Use the stream of ``epoch`` (with ``seed``); the training loop calls it every epoch."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        gen = self.generator
        if self.seed is not None:  # wraps past manual_seed's largest seed rather than failing
            seed = self.seed + self.epoch
            gen = torch.Generator().manual_seed(
                seed - (_SEED_MAX + 1) if seed > _SEED_MAX else seed
            )
        idx = torch.multinomial(self.weights, self.num_samples, self.replacement, generator=gen)
        yield from idx[self.rank :: self.num_replicas].tolist()

    def __len__(self) -> int:
        return self.num_samples // self.num_replicas
