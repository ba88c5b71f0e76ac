"""Section I lessons: non-maximum suppression, box offsets and the IoU family."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson


def _detections() -> tuple:
    """Three objects, the second overlapping the first (IoU 0.64), eight jittered detections
    each (the first one exact)."""
    import torch

    rng = np.random.default_rng(0)
    gts = np.array([[50, 50, 150, 150], [70, 52, 170, 152], [220, 40, 290, 130.0]])
    boxes, scores = [], []
    for g, top in zip(gts, (0.95, 0.9, 0.85), strict=True):
        for j in range(8):
            boxes.append(g + (rng.normal(0, 3, 4) if j else 0))
            scores.append(top - 0.05 * j * rng.uniform(0.5, 1))
    return torch.tensor(gts), torch.tensor(np.array(boxes)), torch.tensor(scores)


def _greedy_loop(boxes: Any, scores: Any, thr: float) -> list[int]:
    """The notes' procedure, literally: keep the best, drop what overlaps it, repeat."""
    from mlcanon.vision import box_iou

    iou = box_iou(boxes, boxes).tolist()
    remaining = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []
    while remaining:
        keep.append(remaining.pop(0))
        remaining = [j for j in remaining if not iou[keep[-1]][j] > thr]
    return keep


def _rect(box: list[float], color: str, alpha: float = 1.0) -> Any:
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    return Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=color, alpha=min(alpha, 1))


@lesson("nms")
def nms_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.vision import batched_nms, box_iou, nms, soft_nms

    ctx.say("""
        A detector fires many overlapping boxes on each object. Greedy non-maximum suppression
        keeps the highest-scoring box, deletes every remaining box whose IoU with it exceeds a
        threshold, and repeats on what is left. Batched (per-class) NMS runs this within each
        class, so a dog never suppresses a person. Ours runs the loop in a numba kernel.

        Greedy NMS fails in crowds: a second object whose box overlaps the first object's box more
        than the threshold vanishes. Soft-NMS decays the scores of overlapping boxes instead,
        s <- s exp(-IoU^2 / sigma) (Gaussian) or s <- s (1 - IoU) above N_t (linear), so that an
        overlapped object survives with a lower score.
        """)
    gts, boxes, scores = _detections()
    keep = nms(boxes, scores, 0.5)
    ctx.check(
        "nms = the textbook loop", keep, _greedy_loop(boxes, scores, 0.5), ref="pure-Python NMS"
    )

    def torchvision_nms() -> Any:
        from torchvision.ops import nms as reference

        return reference(boxes.float(), scores.float(), 0.5)

    ctx.check(
        "nms (float32)",
        nms(boxes.float(), scores.float(), 0.5),
        torchvision_nms,
        ref="torchvision.ops.nms",
    )
    labels = torch.tensor([0] * 8 + [1] * 8 + [0] * 8)
    shifted = nms(boxes + 1000 * labels[:, None], scores, 0.5)  # classes moved apart never overlap
    ctx.check(
        "batched_nms = nms on classes moved apart",
        batched_nms(boxes, scores, labels, 0.5),
        shifted,
        ref="torchvision's coordinate-offset trick",
    )
    found = {"greedy, IoU > 0.5": box_iou(gts, boxes[keep]).max(1).values}
    for method in ("gaussian", "linear"):
        kept, decayed = soft_nms(boxes, scores, method=method)
        found[f"soft-NMS {method}, score > 0.3"] = (
            box_iou(gts, boxes[kept[decayed > 0.3]]).max(1).values
        )
    ctx.table(
        "best IoU of each object with a kept box",
        ["method", "object 1", "object 2", "object 3"],
        [[k, *v.tolist()] for k, v in found.items()],
    )
    lost = found["greedy, IoU > 0.5"][1] < 0.7
    ctx.claim(
        "greedy NMS loses the overlapped object, soft-NMS keeps it",
        bool(lost and (found["soft-NMS gaussian, score > 0.3"] > 0.8).all()),
        "the two objects' boxes overlap with IoU 0.64 > 0.5",
    )
    with ctx.figure("before-after", figsize=(10, 3.5)) as fig:
        for ax, (title, idx) in zip(
            fig.subplots(1, 2),
            [("24 detections", range(24)), ("after NMS (0.5)", keep.tolist())],
            strict=True,
        ):
            for i in idx:
                ax.add_patch(_rect(boxes[i].tolist(), f"C{i // 8}", 0.3 + 0.7 * float(scores[i])))
            ax.set(xlim=(30, 310), ylim=(170, 20), title=title, aspect="equal")


@lesson("box-offsets")
def box_offsets_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.vision import AnchorGenerator, BoxCoder

    ctx.say("""
        Detectors regress offsets from an anchor, not coordinates: t_x = (x - x_a)/w_a,
        t_y = (y - y_a)/h_a, t_w = log(w/w_a), t_h = log(h/h_a). Three reasons, measured below.
        (1) A convolution computes the same function at every position, so it outputs the same
        numbers for the same local evidence: two identical cars at different places have
        different coordinates but the same offsets from their own anchors. (2) Dividing by the
        anchor size makes the targets scale-free. (3) The log makes growing and shrinking
        symmetric (x2 and x0.5 give +log 2 and -log 2), and its inverse exp always gives a
        positive size, whatever the network outputs.
        """)
    same = partial(ctx.check, rtol=1e-12)
    coder = BoxCoder()
    anchors = AnchorGenerator(((64,),), ((0.5, 1.0, 2.0),))((256, 256), [(8, 8)]).double()
    move = torch.tensor([96.0, 160.0, 96.0, 160.0])
    car, anchor = torch.tensor([[-28.0, -14.0, 36.0, 20.0]], dtype=torch.float64), anchors[1:2]
    t1, t2 = coder.encode_single(car, anchor), coder.encode_single(car + move, anchor + move)
    same("same car, two places: same offsets", t2, t1, ref="translation")
    same(
        "scaled x3 with its anchor: same offsets",
        coder.encode_single(3 * car, 3 * anchor),
        t1,
        ref="scale",
    )
    unit = torch.tensor([[0.0, 0, 10, 10]], dtype=torch.float64)
    grow, shrink = (
        coder.encode_single(unit * torch.tensor([[1, 1, f, 1]]), unit)[0, 2] for f in (2, 0.5)
    )
    same("t_w(x2) = -t_w(x0.5) = log 2", [grow, -shrink], [math.log(2)] * 2, ref="hand computation")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 200, (100, 2))
    gt = torch.tensor(np.hstack([xy, xy + rng.uniform(5, 80, (100, 2))]))
    picked = anchors[rng.integers(0, len(anchors), 100)]
    weighted = BoxCoder((10, 10, 5, 5))
    codes = weighted.encode_single(gt, picked)
    same(
        "decode(encode(box)) = box",
        weighted.decode_single(codes, picked),
        gt,
        atol=1e-10,
        ref="identity",
    )
    wild = coder.decode_single(torch.tensor(rng.normal(0, 5, (100, 4))), picked)
    ctx.claim(
        "decoded sizes are positive for any output",
        bool(((wild[:, 2] > wild[:, 0]) & (wild[:, 3] > wild[:, 1])).all()),
        "exp(t_w) > 0, with t_w clamped at log(1000/16) first",
    )

    def torchvision_codes() -> Any:
        from torchvision.models.detection._utils import BoxCoder as Reference

        return Reference((10.0, 10.0, 5.0, 5.0)).encode_single(gt.float(), picked.float())

    ctx.check(
        "encode (float32)",
        codes.float(),
        torchvision_codes,
        rtol=1e-5,
        atol=1e-5,
        ref="torchvision BoxCoder",
    )
    ctx.table(
        "offsets of the two cars",
        ["", "t_x", "t_y", "t_w", "t_h"],
        [["car 1", *t1[0].tolist()], ["car 2", *t2[0].tolist()]],
    )
    with ctx.figure("anchors", figsize=(5, 5)) as fig:
        ax = fig.subplots()
        for box in anchors[:3].tolist():
            ax.add_patch(_rect(box, "C0", 0.6))
        ax.add_patch(_rect(car[0].tolist(), "C3"))
        ax.set(
            xlim=(-60, 60), ylim=(60, -60), aspect="equal", title="anchors of one cell, a car (red)"
        )


@lesson("iou-family")
def iou_family_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import vision as V

    ctx.say("""
        IoU = |A and B| / |A or B| is the detection metric, but 1 - IoU is a poor loss: for
        disjoint boxes it is 1 whatever their distance, so its gradient is zero. GIoU subtracts
        the share of the smallest enclosing box C not covered by the union, which keeps growing
        as the boxes separate. DIoU subtracts rho^2 / c^2, the squared centre distance over the
        squared diagonal of C: it pulls the centres together and, unlike GIoU, still tells
        positions apart when one box contains the other (C is then the union and GIoU = IoU).
        CIoU adds alpha v, v measuring the aspect-ratio mismatch and alpha = v / (1 - IoU + v)
        giving it weight once the boxes overlap.
        """)
    a, b = (
        torch.tensor([[0.0, 0, 2, 2]], dtype=torch.float64),
        torch.tensor([[1.0, 1, 3, 3]]).double(),
    )
    ours = [
        V.box_iou(a, b).item(),
        V.generalized_box_iou(a, b).item(),
        V.distance_box_iou(a, b, eps=0).item(),
    ]
    ctx.check(
        "IoU, GIoU, DIoU of [0,0,2,2], [1,1,3,3]",
        ours,
        [1 / 7, 1 / 7 - 2 / 9, 1 / 7 - 2 / 18],
        rtol=1e-12,
        ref="closed form",
    )
    _iou_against_torchvision(ctx)
    inside = torch.tensor([[1.0, 1, 3, 3], [4.0, 4, 6, 6]], dtype=torch.float64)
    target = torch.tensor([[0.0, 0, 10, 10]], dtype=torch.float64)
    giou, diou = (
        V.generalized_box_iou(inside, target)[:, 0],
        V.distance_box_iou(inside, target)[:, 0],
    )
    ctx.claim(
        "inside the target, GIoU cannot tell positions apart, DIoU can",
        bool(giou[0] == giou[1] and diou[1] > diou[0]),
        f"corner vs centre: GIoU {giou[0]:.4f} = {giou[1]:.4f}, DIoU {diou[0]:.4f} < {diou[1]:.4f}",
    )
    losses = {
        "IoU": lambda p, t: 1 - V.box_iou(p, t).diagonal(),
        "GIoU": V.generalized_box_iou_loss,
        "DIoU": V.distance_box_iou_loss,
        "CIoU": V.complete_box_iou_loss,
    }
    steps = {name: _regress(loss) for name, loss in losses.items()}
    ctx.table(
        "gradient descent on the corners of a disjoint box until IoU >= 0.9",
        ["loss", "steps"],
        [[k, "never: zero gradient" if v is None else v] for k, v in steps.items()],
    )
    ctx.claim(
        "IoU loss never starts; GIoU, DIoU and CIoU converge",
        steps["IoU"] is None and None not in [steps[k] for k in ("GIoU", "DIoU", "CIoU")],
        str(steps),
    )
    shifts = np.linspace(-6, 6, 241)
    moved = torch.tensor([[s, 0.0, s + 2, 2] for s in shifts], dtype=torch.float64)
    with ctx.figure("sliding", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        for name in ("box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"):
            ax.plot(shifts, getattr(V, name)(moved, a)[:, 0], label=name)
        ax.set(xlabel="horizontal shift of a 2x2 box", ylabel="similarity", title="the IoU family")
        ax.legend()


def _iou_against_torchvision(ctx: Context) -> None:
    import torch

    from mlcanon import vision as V

    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50, (20, 2))
    boxes = torch.tensor(np.hstack([xy, xy + rng.uniform(1, 30, (20, 2))]), dtype=torch.float32)
    for name in (
        "box_iou",
        "generalized_box_iou",
        "distance_box_iou",
        "complete_box_iou",
        "generalized_box_iou_loss",
        "distance_box_iou_loss",
        "complete_box_iou_loss",
    ):
        args = (boxes, boxes.flip(0)) if name.endswith("loss") else (boxes[:12], boxes[8:])

        def reference(name: str = name, args: tuple = args) -> Any:
            import torchvision.ops

            return getattr(torchvision.ops, name)(*args)

        ctx.check(
            name, getattr(V, name)(*args), reference, rtol=1e-5, atol=1e-6, ref="torchvision.ops"
        )


def _regress(loss: Any, lr: float = 0.5, goal: float = 0.9) -> int | None:
    """Steps of gradient descent moving [0,0,1,1] onto [4,4,6,6]; None if the gradient is 0."""
    import torch

    from mlcanon.vision import box_iou

    box = torch.tensor([[0.0, 0, 1, 1]], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([[4.0, 4, 6, 6]], dtype=torch.float64)
    for step in range(2000):
        if box_iou(box.detach(), target).item() >= goal:
            return step
        box.grad = None
        loss(box, target).sum().backward()
        if not box.grad.any():
            return None  # stuck for good
        with torch.no_grad():
            box -= lr * box.grad
    return None
