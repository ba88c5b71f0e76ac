"""A small convolutional autoencoder for 8 x 8 single-channel images (scikit-learn's digits)."""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn

__all__ = ["ConvAutoEncoder", "conv_autoencoder"]


class ConvAutoEncoder(nn.Module):
    """Encoder conv -> strided conv -> linear code; decoder mirrors it with a transposed conv.

    ========================  ==================  =========================================
    layer                     output              note
    ========================  ==================  =========================================
    Conv 3x3, 16, ReLU        (16, 8, 8)
    Conv 3x3 stride 2, 32     (32, 4, 4)          halves the map
    Linear -> latent_dim      (latent_dim,)       the code z
    Linear, ReLU              (32, 4, 4)
    ConvTranspose 4x4 s2, 16  (16, 8, 8)          (4 - 1) * 2 - 2 * 1 + 4 = 8
    Conv 3x3, 1, Sigmoid      (1, 8, 8)           pixels scaled to [0, 1]
    ========================  ==================  =========================================

    Parameters
    ----------
    latent_dim : int, default 2
        Size of the bottleneck code.

    Notes
    -----
    Trained to minimise :math:`\\frac{1}{N}\\sum_i \\|x_i - g(f(x_i))\\|^2`. With linear f, g and
    no non-linearity the optimum spans the same subspace as PCA (Baldi and Hornik, 1989); the
    non-linear encoder can do better at equal code size.

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
    Networks", Science 313, 2006. P. Baldi and K. Hornik, "Neural networks and principal
    component analysis", Neural Networks 2, 1989.
    """

    def __init__(self, latent_dim: int = 2) -> None:
        super().__init__()
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),  # (N, 32, 4, 4)
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 32 * 4 * 4),
            nn.ReLU(),
            nn.Unflatten(1, (32, 4, 4)),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
            nn.ReLU(),  # (N, 16, 8, 8)
            nn.Conv2d(16, 1, 3, padding=1),
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, latent_dim)`` of images ``(N, 1, 8, 8)``."""
        if not isinstance(x, fx.Proxy) and (x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8)):
            raise ValueError(f"x must have shape (N, 1, 8, 8), got {tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, 1, 8, 8)`` in [0, 1] from codes ``(N, latent_dim)``."""
        if not isinstance(z, fx.Proxy) and (z.ndim != 2 or z.shape[1] != self.latent_dim):
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def conv_autoencoder(**kwargs: Any) -> ConvAutoEncoder:
    """Build a :class:`ConvAutoEncoder` (``latent_dim``, default 2)."""
    return ConvAutoEncoder(**kwargs)
