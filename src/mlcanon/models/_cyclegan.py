"""CycleGAN for small images: a ResNet-style generator, a PatchGAN critic and the three losses.

Two generators translate between unpaired domains, ``G: A -> B`` and ``F: B -> A``; two
discriminators ``D_A`` and ``D_B`` tell real images of their domain from translated ones.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn

from mlcanon._validation import check_scalar

__all__ = [
    "CycleGAN",
    "CycleGANLoss",
    "PatchDiscriminator",
    "ResnetGenerator",
    "cyclegan",
    "patch_discriminator",
    "resnet_generator",
]


def _check_int(value: Any, name: str, low: int) -> int:
    return check_scalar(value, name, kind=int, low=low)


def _check_image(x: Any, name: str, channels: int, multiple: int, rule: str) -> None:
    """``x`` is ``(N, channels, H, W)`` with H and W multiples of ``multiple`` (a symbolic
    ``torch.fx`` trace, as the profiler makes, carries no shape to check)."""
    if isinstance(x, fx.Proxy):
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} must have shape (N, {channels}, H, W), got {tuple(x.shape)}")
    if x.shape[2] % multiple or x.shape[3] % multiple or 0 in x.shape[2:]:
        raise ValueError(
            f"{name} height and width must be positive and {rule}, got {tuple(x.shape[2:])}"
        )


def _check_min_size(x: Any, name: str, model: str, step: int, square: bool, why: str) -> None:
    """The map that ``x`` (H, W) becomes after ``step``-fold downsampling must be at least 2 x 2
    (``square``: a reflection pad of 1 needs 2 rows and 2 columns) or hold at least 2 pixels
    (instance norm in training needs more than one value per channel)."""
    if isinstance(x, fx.Proxy):
        return
    h, w = x.shape[2], x.shape[3]
    small = min(h, w) < 2 * step if square else h * w < 2 * step * step
    if small:
        least = (
            f"{2 * step} x {2 * step}" if square else f"{step} x {2 * step} or {2 * step} x {step}"
        )
        raise ValueError(
            f"{name} of {h} x {w} pixels is too small for {model}: it becomes a "
            f"{h // step} x {w // step} map, and {why}; the smallest input is {least}"
        )


class _ResidualBlock(nn.Module):
    """``x + conv(relu(norm(conv(x))))`` with reflection padding, so the block keeps the size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image-to-image generator: downsample, residual blocks, upsample (Johnson et al. layout).

    =================================  ==================  ===============================
    layer                              output              note
    =================================  ==================  ===============================
    ReflectPad 1, Conv 3x3, IN, ReLU   (ngf, H, W)         reflection avoids border seams
    Conv 3x3 stride 2, IN, ReLU        (2 ngf, H/2, W/2)   one halving
    n_blocks x residual block          (2 ngf, H/2, W/2)   the translation happens here
    ConvT 3x3 s2 p1 op1, IN, ReLU      (ngf, H, W)         (H/2 - 1) * 2 - 2 + 3 + 1 = H
    ReflectPad 1, Conv 3x3, Tanh       (out_channels, H, W)  pixels in (-1, 1)
    =================================  ==================  ===============================

    The paper uses 7x7 outer convolutions, two halvings and 6 or 9 blocks for 128-256 pixel
    images; for 8 x 8 or 16 x 16 images one halving and 3x3 kernels keep the receptive field
    inside the image. H and W must be even, and at least 4 (2 x 4 or 4 x 2 without residual
    blocks).

    Parameters
    ----------
    in_channels, out_channels : int, default 1
        Channels of the input and output images.
    ngf : int, default 16
        Width of the first layer (``ngf`` in the reference implementation).
    n_blocks : int, default 3
        Number of residual blocks.

    References
    ----------
    J.-Y. Zhu, T. Park, P. Isola and A. A. Efros, "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017, Appendix 7.2. J. Johnson, A. Alahi and
    L. Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and Super-Resolution", ECCV 2016.
    """

    def __init__(
        self, in_channels: int = 1, out_channels: int = 1, ngf: int = 16, n_blocks: int = 3
    ) -> None:
        super().__init__()
        self.in_channels = _check_int(in_channels, "in_channels", 1)
        _check_int(out_channels, "out_channels", 1)
        _check_int(ngf, "ngf", 1)
        self.n_blocks = _check_int(n_blocks, "n_blocks", 0)
        self.net = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(in_channels, ngf, 3),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(),
            nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1),
            nn.InstanceNorm2d(2 * ngf),
            nn.ReLU(),
            *[_ResidualBlock(2 * ngf) for _ in range(n_blocks)],  # (N, 2 ngf, H/2, W/2)
            nn.ConvTranspose2d(2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(),  # (N, ngf, H, W)
            nn.ReflectionPad2d(1),
            nn.Conv2d(ngf, out_channels, 3),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(N, in_channels, H, W)`` (H, W even) to ``(N, out_channels, H, W)``."""
        _check_image(x, "x", self.in_channels, 2, "even")
        if self.n_blocks:
            why = "the residual blocks reflect-pad it by 1 pixel, which needs 2 rows and 2 columns"
        else:
            why = "instance norm needs more than one pixel in it"
        model = f"ResnetGenerator(n_blocks={self.n_blocks})"
        _check_min_size(x, "x", model, 2, bool(self.n_blocks), why)
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN critic: a map of real/fake scores, one per overlapping image patch.

    =================================  ============================  =====================
    layer                              output                        note
    =================================  ============================  =====================
    Conv 4x4 s2 p1, LeakyReLU 0.2      (ndf, H/2, W/2)               no norm on the input
    (n_layers - 1) x [Conv 4x4 s2 p1,  (ndf 2^k, H/2^(k+1), ...)     halves each time
    IN, LeakyReLU 0.2]
    Conv 3x3 s1 p1                     (1, H/2^n_layers, W/2^n_layers)  raw score (no sigmoid)
    =================================  ============================  =====================

    The score map has no sigmoid because the least-squares loss regresses it to 1 (real) and
    0 (fake) directly. With the defaults each score sees an 18 x 18 pixel patch: 8 x 8 images
    give a 2 x 2 map, 16 x 16 images a 4 x 4 map.

    Parameters
    ----------
    in_channels : int, default 1
    ndf : int, default 16
        Width of the first layer.
    n_layers : int, default 2
        Number of stride-2 convolutions; H and W must be divisible by ``2 ** n_layers``.

    References
    ----------
    P. Isola, J.-Y. Zhu, T. Zhou and A. A. Efros, "Image-to-Image Translation with Conditional
    Adversarial Networks", CVPR 2017, Sec. 3.2.2. Zhu et al. 2017, Appendix 7.2 (70 x 70 PatchGAN).
    """

    def __init__(self, in_channels: int = 1, ndf: int = 16, n_layers: int = 2) -> None:
        super().__init__()
        self.in_channels = _check_int(in_channels, "in_channels", 1)
        _check_int(ndf, "ndf", 1)
        self.n_layers = _check_int(n_layers, "n_layers", 1)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = ndf
        for _ in range(n_layers - 1):
            layers += [nn.Conv2d(width, 2 * width, 4, 2, 1), nn.InstanceNorm2d(2 * width)]
            layers.append(nn.LeakyReLU(0.2))
            width *= 2
        layers.append(nn.Conv2d(width, 1, 3, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(N, 1, H / 2**n_layers, W / 2**n_layers)`` for images ``(N, C, H, W)``."""
        step = 2**self.n_layers
        _check_image(x, "x", self.in_channels, step, f"divisible by 2**n_layers={step}")
        if self.n_layers > 1:  # the last instance norm sees the map downsampled 2**n_layers-fold
            model = f"PatchDiscriminator(n_layers={self.n_layers})"
            _check_min_size(
                x, "x", model, step, False, "instance norm needs more than one pixel in it"
            )
        return self.net(x)


class CycleGANLoss(nn.Module):
    """The CycleGAN objective: least-squares adversarial, cycle-consistency and identity terms.

    Parameters
    ----------
    lambda_cyc : float, default 10.0
        Weight of the cycle-consistency term (the paper's lambda).
    lambda_id : float, default 5.0
        Weight of the identity term; the paper uses ``0.5 * lambda_cyc``. 0 switches it off.

    Notes
    -----
    With ``G: A -> B``, ``F: B -> A`` and critics ``D_A``, ``D_B`` (score maps, means over
    all entries), the generators minimise

    .. math::

        L_G = E_a[(D_B(G(a)) - 1)^2] + E_b[(D_A(F(b)) - 1)^2]
              + \\lambda_{cyc} (E_a\\|F(G(a)) - a\\|_1 + E_b\\|G(F(b)) - b\\|_1)
              + \\lambda_{id} (E_b\\|G(b) - b\\|_1 + E_a\\|F(a) - a\\|_1)

    and each critic minimises the least-squares GAN loss (Mao et al. 2017, targets 1 for real
    and 0 for fake), halved so that it learns more slowly than the generators:

    .. math:: L_{D_B} = \\tfrac12 E_b[(D_B(b) - 1)^2] + \\tfrac12 E_a[D_B(G(a))^2].

    L1 norms are means over pixels. The least-squares loss replaces the log-likelihood of the
    original GAN because it gives non-vanishing gradients to fakes that the critic already
    rejects, which made training more stable in the paper (Sec. 4).

    References
    ----------
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017, Eqs. (1)-(3), Sec. 4 and 5.2 (identity loss). X. Mao et al.,
    "Least Squares Generative Adversarial Networks", ICCV 2017.
    """

    def __init__(self, lambda_cyc: float = 10.0, lambda_id: float = 5.0) -> None:
        super().__init__()
        self.lambda_cyc = float(check_scalar(lambda_cyc, "lambda_cyc", low=0))
        self.lambda_id = float(check_scalar(lambda_id, "lambda_id", low=0))

    @staticmethod
    def adversarial(pred: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """Least-squares GAN loss ``mean((pred - t)^2)`` with ``t = 1`` (real) or ``0`` (fake)."""
        if not isinstance(target_is_real, bool):
            raise TypeError(f"target_is_real must be a bool, got {target_is_real!r}")
        return torch.mean((pred - float(target_is_real)) ** 2)

    @staticmethod
    def l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean absolute difference, used by both the cycle and the identity terms."""
        if x.shape != y.shape:
            raise ValueError(f"shapes must match, got {tuple(x.shape)} and {tuple(y.shape)}")
        return torch.mean(torch.abs(x - y))

    def discriminator(self, d: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """``0.5 * (mean((d(real) - 1)^2) + mean(d(fake)^2))``; ``fake`` is detached."""
        return 0.5 * (self.adversarial(d(real), True) + self.adversarial(d(fake.detach()), False))

    def generator(
        self, model: CycleGAN, real_a: torch.Tensor, real_b: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Generator terms and their weighted sum ``'total'``, plus the fakes for the critics.

        Returns a dict with keys ``'gan_ab'``, ``'gan_ba'``, ``'cycle'``, ``'identity'``,
        ``'total'``, ``'fake_a'`` and ``'fake_b'``.
        """
        if self.lambda_id > 0 and real_a.shape[1] != real_b.shape[1]:
            raise ValueError(
                "the identity term feeds domain-B images to G: A -> B, so it needs as many "
                f"channels in both domains, got {real_a.shape[1]} and {real_b.shape[1]}; "
                "use lambda_id=0"
            )
        fake_b, fake_a = model.g_ab(real_a), model.g_ba(real_b)
        out = {
            "gan_ab": self.adversarial(model.d_b(fake_b), True),
            "gan_ba": self.adversarial(model.d_a(fake_a), True),
            "cycle": self.l1(model.g_ba(fake_b), real_a) + self.l1(model.g_ab(fake_a), real_b),
        }
        if self.lambda_id > 0:
            out["identity"] = self.l1(model.g_ab(real_b), real_b) + self.l1(
                model.g_ba(real_a), real_a
            )
        else:  # skip two generator passes when the term has no weight
            out["identity"] = real_a.new_zeros(())
        out["total"] = (
            out["gan_ab"]
            + out["gan_ba"]
            + self.lambda_cyc * out["cycle"]
            + self.lambda_id * out["identity"]
        )
        out["fake_a"], out["fake_b"] = fake_a, fake_b
        return out


class CycleGAN(nn.Module):
    """Two generators (``g_ab``: A -> B, ``g_ba``: B -> A) and two critics (``d_a``, ``d_b``).

    Parameters
    ----------
    channels_a, channels_b : int, default 1
        Image channels of each domain.
    ngf, n_blocks : int
        Passed to both :class:`ResnetGenerator`.
    ndf, n_layers : int
        Passed to both :class:`PatchDiscriminator`.

    Notes
    -----
    :meth:`training_step` alternates one generator update (critics frozen) and one update of
    both critics on the same fakes, as in the reference implementation. The history buffer of
    50 past fakes that the paper feeds the critics (Shrivastava et al. 2017) is left out.

    References
    ----------
    Zhu et al., ICCV 2017.
    """

    def __init__(
        self,
        channels_a: int = 1,
        channels_b: int = 1,
        ngf: int = 16,
        n_blocks: int = 3,
        ndf: int = 16,
        n_layers: int = 2,
    ) -> None:
        super().__init__()
        self.g_ab = ResnetGenerator(channels_a, channels_b, ngf, n_blocks)
        self.g_ba = ResnetGenerator(channels_b, channels_a, ngf, n_blocks)
        self.d_a = PatchDiscriminator(channels_a, ndf, n_layers)
        self.d_b = PatchDiscriminator(channels_b, ndf, n_layers)

    def generator_parameters(self) -> list[nn.Parameter]:
        return [*self.g_ab.parameters(), *self.g_ba.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [*self.d_a.parameters(), *self.d_b.parameters()]

    def forward(self, real_a: torch.Tensor) -> torch.Tensor:
        """Translate domain-A images to domain B."""
        return self.g_ab(real_a)

    def training_step(
        self,
        real_a: torch.Tensor,
        real_b: torch.Tensor,
        criterion: CycleGANLoss,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
    ) -> dict[str, float]:
        """One generator update, then one critic update; returns every loss term as a float.

        ``opt_g`` must hold :meth:`generator_parameters` and ``opt_d``
        :meth:`discriminator_parameters`.
        """
        if not isinstance(criterion, CycleGANLoss):
            raise TypeError(f"criterion must be a CycleGANLoss, got {type(criterion).__name__}")
        critics = self.discriminator_parameters()
        flags = [p.requires_grad for p in critics]
        for p in critics:  # the generator loss must not move the critics
            p.requires_grad_(False)
        try:
            opt_g.zero_grad()
            terms = criterion.generator(self, real_a, real_b)
            terms["total"].backward()
            opt_g.step()
        finally:  # an error in the generator half must not leave the critics frozen
            for p, flag in zip(critics, flags, strict=True):
                p.requires_grad_(flag)
        opt_d.zero_grad()
        loss_da = criterion.discriminator(self.d_a, real_a, terms["fake_a"])
        loss_db = criterion.discriminator(self.d_b, real_b, terms["fake_b"])
        (loss_da + loss_db).backward()
        opt_d.step()
        out = {k: float(v.detach()) for k, v in terms.items() if k not in ("fake_a", "fake_b")}
        out.update(d_a=float(loss_da.detach()), d_b=float(loss_db.detach()))
        return out


def resnet_generator(**kwargs: Any) -> ResnetGenerator:
    """Build a :class:`ResnetGenerator` (in_channels, out_channels, ngf, n_blocks)."""
    return ResnetGenerator(**kwargs)


def patch_discriminator(**kwargs: Any) -> PatchDiscriminator:
    """Build a :class:`PatchDiscriminator` (``in_channels``, ``ndf``, ``n_layers``)."""
    return PatchDiscriminator(**kwargs)


def cyclegan(**kwargs: Any) -> CycleGAN:
    """Build a :class:`CycleGAN` with two generators and two critics."""
    return CycleGAN(**kwargs)
