"""Network architectures built from plain torch layers (a class and a lowercase builder each)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from torch import nn

from ._autoencoder import ConvAutoEncoder, conv_autoencoder
from ._blocks import (
    ConvBNAct,
    DepthwiseSeparableConv,
    HSigmoid,
    HSwish,
    InvertedResidual,
    SqueezeExcitation,
    make_divisible,
)
from ._cyclegan import (
    CycleGAN,
    CycleGANLoss,
    PatchDiscriminator,
    ResnetGenerator,
    cyclegan,
    patch_discriminator,
    resnet_generator,
)
from ._detection_backbone import MobileNetV2FPN, build_backbone, mobilenet_v2_fpn
from ._fpn import FPN, TinyBackbone, TinyFPNBackbone, tiny_fpn_backbone
from ._ghostnet import GhostBottleneck, GhostModule, GhostNet, ghostnet
from ._mobilenet_v1 import MobileNetV1, mobilenet_v1
from ._mobilenet_v2 import MobileNetV2, mobilenet_v2
from ._mobilenet_v3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from ._refinedet import TinyRefineDet, refinedet_mobilenet_v2
from ._retinanet import (
    TinyRetinaNet,
    match_anchors,
    retinanet_loss,
    retinanet_mobilenet_v2,
    tiny_retinanet,
)
from ._shufflenet import (
    ShuffleNetUnit,
    ShuffleNetV1,
    channel_shuffle,
    shuffle_order,
    shufflenet_v1,
)
from ._vgg import VGG16, vgg16
from ._yolo import (
    TinyYOLOv3,
    assign_yolo_targets,
    decode_yolo,
    tiny_yolo_v3,
    yolo_loss,
    yolo_postprocess,
    yolov3_mobilenet_v2,
)
from ._yolo_family import (
    CSPBlock,
    PANet,
    SpaceToDepth,
    mosaic,
    yolo_v1_decode,
    yolo_v1_loss,
)

__all__ = [
    "FPN",
    "VGG16",
    "CSPBlock",
    "ConvAutoEncoder",
    "ConvBNAct",
    "CycleGAN",
    "CycleGANLoss",
    "DepthwiseSeparableConv",
    "GhostBottleneck",
    "GhostModule",
    "GhostNet",
    "HSigmoid",
    "HSwish",
    "InvertedResidual",
    "MobileNetV1",
    "MobileNetV2",
    "MobileNetV2FPN",
    "MobileNetV3",
    "PANet",
    "PatchDiscriminator",
    "ResnetGenerator",
    "ShuffleNetUnit",
    "ShuffleNetV1",
    "SpaceToDepth",
    "SqueezeExcitation",
    "TinyBackbone",
    "TinyFPNBackbone",
    "TinyRefineDet",
    "TinyRetinaNet",
    "TinyYOLOv3",
    "assign_yolo_targets",
    "build_backbone",
    "channel_shuffle",
    "conv_autoencoder",
    "cyclegan",
    "decode_yolo",
    "get_model",
    "ghostnet",
    "list_models",
    "make_divisible",
    "match_anchors",
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v2_fpn",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "mosaic",
    "patch_discriminator",
    "refinedet_mobilenet_v2",
    "resnet_generator",
    "retinanet_loss",
    "retinanet_mobilenet_v2",
    "shuffle_order",
    "shufflenet_v1",
    "tiny_fpn_backbone",
    "tiny_retinanet",
    "tiny_yolo_v3",
    "vgg16",
    "yolo_loss",
    "yolo_postprocess",
    "yolo_v1_decode",
    "yolo_v1_loss",
    "yolov3_mobilenet_v2",
]

_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "ghostnet": ghostnet,
    "shufflenet_v1": shufflenet_v1,
    "vgg16": vgg16,
}


def list_models() -> list[str]:
    """Names accepted by :func:`get_model`."""
    return list(_BUILDERS)


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a bundled architecture by name, or call ``'package.module:callable'``.

    Parameters
    ----------
    name : str
        One of :func:`list_models`, or an import path such as ``'torchvision.models:resnet18'``
        whose callable returns an ``nn.Module`` (called with ``kwargs``).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot load {name!r}: {type(exc).__name__}: {exc}") from exc
        model = obj(**kwargs) if callable(obj) and not isinstance(obj, nn.Module) else obj
        if not isinstance(model, nn.Module):
            raise TypeError(f"{name!r} did not give a torch.nn.Module but {type(model).__name__}")
        return model
    if name not in _BUILDERS:
        allowed = ", ".join(repr(n) for n in _BUILDERS)
        raise ValueError(
            f"name must be one of {allowed} or 'package.module:callable'; got {name!r}"
        )
    return _BUILDERS[name](**kwargs)
