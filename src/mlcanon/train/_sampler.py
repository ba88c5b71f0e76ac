"""Class-balanced sampling: every class is drawn with the same probability."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from mlcanon._validation import check_array, check_scalar

__all__ = ["ClassBalancedSampler", "class_balanced_weights"]


def class_balanced_weights(labels: Any) -> np.ndarray:
    r"""Per-sample weights :math:`w_i = 1 / n_{y_i}` that give every class the same total mass.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class label of each sample (integers or strings).

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
    y = check_array(labels, "labels", ndim=1, dtype=None)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse].astype(np.float64)


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
    ) -> None:
        weights = class_balanced_weights(labels)
        n = len(weights)
        if num_samples is None:
            num_samples = n
        check_scalar(num_samples, "num_samples", kind=int, low=1)
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement must be bool, got {type(replacement).__name__}")
        if not replacement and num_samples > n:
            raise ValueError(
                f"num_samples={num_samples} must be <= len(labels)={n} when replacement=False"
            )
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        self.weights = torch.as_tensor(weights, dtype=torch.double)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        idx = torch.multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from idx.tolist()

    def __len__(self) -> int:
        return self.num_samples
