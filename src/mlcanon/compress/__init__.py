"""Model compression: knowledge distillation, pruning masks, low-rank factorization and affine
integer quantization (torch)."""

from ._distillation import distillation_loss
from ._low_rank import low_rank_conv2d, low_rank_linear, truncated_svd
from ._pruning import apply_masks, global_magnitude_masks, ln_structured_mask, magnitude_mask
from ._quantization import (
    calibrate_minmax,
    dequantize,
    fake_quantize,
    quantize_per_channel,
    quantize_per_tensor,
)

__all__ = [
    "apply_masks",
    "calibrate_minmax",
    "dequantize",
    "distillation_loss",
    "fake_quantize",
    "global_magnitude_masks",
    "ln_structured_mask",
    "low_rank_conv2d",
    "low_rank_linear",
    "magnitude_mask",
    "quantize_per_channel",
    "quantize_per_tensor",
    "truncated_svd",
]
