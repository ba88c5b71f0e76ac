"""Vision toolkit: conv arithmetic, receptive fields, a params/FLOPs profiler, box ops, NMS and
anchors (box-op names and signatures follow ``torchvision.ops``)."""

from ._anchors import AnchorGenerator, KMeansAnchors, kmeans_anchors, wh_iou
from ._box_coder import BoxCoder
from ._box_losses import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    predicted_box_loss,
)
from ._boxes import (
    box_area,
    box_convert,
    box_iou,
    check_boxes,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    pairwise_terms,
)
from ._conv_arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size
from ._graph import check_input_shape
from ._nms import batched_nms, nms, soft_nms
from ._profile import LayerProfile, Profile, profile
from ._receptive_field import (
    Misalignment,
    ReceptiveField,
    ReceptiveFieldResult,
    receptive_field,
    receptive_field_single_path,
)
from ._shape_walk import output_shapes

__all__ = [
    "AnchorGenerator",
    "BoxCoder",
    "KMeansAnchors",
    "LayerProfile",
    "Misalignment",
    "Profile",
    "ReceptiveField",
    "ReceptiveFieldResult",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "check_boxes",
    "check_input_shape",
    "complete_box_iou",
    "complete_box_iou_loss",
    "conv_output_size",
    "conv_transpose_output_size",
    "distance_box_iou",
    "distance_box_iou_loss",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "kmeans_anchors",
    "nms",
    "output_shapes",
    "pairwise_terms",
    "pool_output_size",
    "predicted_box_loss",
    "profile",
    "receptive_field",
    "receptive_field_single_path",
    "soft_nms",
    "wh_iou",
]
