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


def check_first_available(
    ctx: Context, name: str, ours: Any, refs: list[tuple[str, Any]], **tol: float
) -> bool:
    """Compare ``ours`` with the first reference ``(label, callable)`` whose package imports:
    torchvision where it is installed, an independent definition everywhere else."""
    for label, reference in refs:
        try:
            value = reference()
        except ModuleNotFoundError:
            continue
        return ctx.check(name, ours, value, ref=label, **tol)
    ctx.skip(name, "no reference package installed", ref=" / ".join(r[0] for r in refs))
    return False


# --------------------------------------------------------------------------------------------
# the definitions written out with Python floats: the references of this section's checks
def _plain_iou(a: list[float], b: list[float]) -> float:
    """|A and B| / |A or B| of two xyxy boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def _greedy_loop(boxes: Any, scores: Any, thr: float, labels: Any = None) -> list[int]:
    """The notes' procedure, literally: keep the best, drop what overlaps it (in its class),
    repeat."""
    b, s = boxes.tolist(), [float(v) for v in scores]
    lab = [0] * len(s) if labels is None else [int(v) for v in labels]
    remaining = sorted(range(len(s)), key=lambda i: -s[i])  # stable: ties in input order
    keep = []
    while remaining:
        i = remaining.pop(0)
        keep.append(i)
        remaining = [j for j in remaining if lab[j] != lab[i] or not _plain_iou(b[i], b[j]) > thr]
    return keep


def _soft_nms_loop(
    boxes: Any, scores: Any, method: str, nt: float = 0.3, sigma: float = 0.5, floor: float = 0.001
) -> tuple[list[int], list[float]]:
    """Soft-NMS (Bodla et al. 2017, Algorithm 1) with lists: pick the best, decay the rest,
    drop the decayed boxes under ``floor`` (every box starts in play, as the authors' code)."""
    b, s = boxes.tolist(), [float(v) for v in scores]
    alive = sorted(range(len(s)), key=lambda i: -s[i])
    keep, kept = [], []
    while alive:
        m = max(alive, key=lambda i: s[i])  # the first of equal scores
        alive.remove(m)
        keep.append(m)
        kept.append(s[m])
        for i in alive:
            iou = _plain_iou(b[m], b[i])
            if method == "gaussian":
                s[i] *= math.exp(-iou * iou / sigma)
            elif iou >= nt:
                s[i] *= 1 - iou
        alive = [i for i in alive if s[i] >= floor]
    return keep, kept


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
    b32, s32 = boxes.float(), scores.float()

    def torchvision_nms() -> Any:
        from torchvision.ops import nms as reference

        return reference(b32, s32, 0.5)

    check_first_available(
        ctx,
        "nms (float32)",
        nms(b32, s32, 0.5),
        [
            ("torchvision.ops.nms", torchvision_nms),
            ("pure-Python NMS", lambda: _greedy_loop(b32.double(), s32, 0.5)),
        ],
    )
    labels = torch.tensor([0] * 8 + [1] * 8 + [0] * 8)

    def torchvision_batched() -> Any:
        from torchvision.ops import batched_nms as reference

        return reference(boxes, scores, labels, 0.5)

    check_first_available(
        ctx,
        "batched_nms: boxes of different classes never suppress each other",
        batched_nms(boxes, scores, labels, 0.5),
        [
            ("torchvision.ops.batched_nms", torchvision_batched),
            ("pure-Python NMS per class", lambda: _greedy_loop(boxes, scores, 0.5, labels)),
        ],
    )
    for method in ("gaussian", "linear"):  # float64 scores: decayed scores to 1e-12
        kept, decayed = soft_nms(boxes, scores.double(), method=method)
        loop_keep, loop_scores = _soft_nms_loop(boxes, scores.double(), method)
        ctx.check(f"soft-NMS ({method}): kept boxes", kept, loop_keep, ref="pure-Python soft-NMS")
        ctx.check(
            f"soft-NMS ({method}): decayed scores",
            decayed,
            loop_scores,
            rtol=1e-12,
            ref="pure-Python soft-NMS",
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
    overlap = box_iou(gts[:1], gts[1:2]).item()
    ctx.claim(
        "greedy NMS loses the overlapped object, soft-NMS keeps it",
        bool(overlap > 0.5 and lost and (found["soft-NMS gaussian, score > 0.3"] > 0.8).all()),
        f"the two objects' boxes overlap with IoU {overlap:.2f} > 0.5; object 2's best IoU with "
        f"a kept box: greedy {found['greedy, IoU > 0.5'][1]:.2f}, soft-NMS gaussian "
        f"{found['soft-NMS gaussian, score > 0.3'][1]:.2f}",
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


def _encode_loop(gt: Any, anchors: Any, weights: tuple = (1, 1, 1, 1)) -> list[list[float]]:
    """(t_x, t_y, t_w, t_h) of each box from its anchor (R-CNN, Appendix C), box by box."""
    wx, wy, ww, wh = weights
    out = []
    for (x1, y1, x2, y2), (a1, b1, a2, b2) in zip(gt.tolist(), anchors.tolist(), strict=True):
        w, h, w_a, h_a = x2 - x1, y2 - y1, a2 - a1, b2 - b1
        dx, dy = (x1 + w / 2) - (a1 + w_a / 2), (y1 + h / 2) - (b1 + h_a / 2)
        out.append([wx * dx / w_a, wy * dy / h_a, ww * math.log(w / w_a), wh * math.log(h / h_a)])
    return out


def _decode_loop(codes: Any, anchors: Any, weights: tuple = (1, 1, 1, 1)) -> list[list[float]]:
    """The inverse, with t_w and t_h clamped at log(1000 / 16) before exp."""
    wx, wy, ww, wh = weights
    clip = math.log(1000 / 16)
    out = []
    for (tx, ty, tw, th), (a1, b1, a2, b2) in zip(codes.tolist(), anchors.tolist(), strict=True):
        w_a, h_a = a2 - a1, b2 - b1
        cx, cy = a1 + w_a / 2 + tx / wx * w_a, b1 + h_a / 2 + ty / wy * h_a
        w, h = math.exp(min(tw / ww, clip)) * w_a, math.exp(min(th / wh, clip)) * h_a
        out.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return out


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
    formula = _encode_loop(car, anchor)  # the offsets of the car at its first place
    same("offsets of the car = the formula", t1, formula, ref="definition written out")
    same("same car, second place: the same offsets", t2, formula, ref="definition written out")
    same(
        "scaled x3 with its anchor: the same offsets",
        coder.encode_single(3 * car, 3 * anchor),
        formula,
        ref="definition written out",
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

    b32, g32 = picked.float(), gt.float()
    raw = torch.tensor(rng.normal(0, 2, (100, 4)), dtype=torch.float32)  # some t_w clamped

    def torchvision_coder() -> Any:
        from torchvision.models.detection._utils import BoxCoder as Reference

        return Reference((10.0, 10.0, 5.0, 5.0))

    check_first_available(
        ctx,
        "encode (float32)",
        weighted.encode_single(g32, b32),
        [
            ("torchvision BoxCoder", lambda: torchvision_coder().encode_single(g32, b32)),
            ("definition written out", lambda: _encode_loop(g32, b32, (10, 10, 5, 5))),
        ],
        rtol=1e-5,
        atol=1e-5,
    )
    check_first_available(
        ctx,
        "decode (float32, t_w and t_h clamped at log(1000/16))",
        weighted.decode_single(raw * 20, b32),
        [
            ("torchvision BoxCoder", lambda: torchvision_coder().decode_single(raw * 20, b32)),
            ("definition written out", lambda: _decode_loop(raw * 20, b32, (10, 10, 5, 5))),
        ],
        rtol=1e-5,
        atol=1e-4,
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
    _iou_against_references(ctx)
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


def _family_by_definition(a: Any, b: Any, eps: float = 1e-7) -> dict[str, Any]:
    """IoU, GIoU, DIoU, CIoU and their losses for one pair of xyxy boxes, written from the
    papers with torch scalars (so that autograd differentiates the formula itself)."""
    import torch

    x1, y1, x2, y2 = a.unbind()
    u1, v1, u2, v2 = b.unbind()
    inter = max(min(x2, u2) - max(x1, u1), 0) * max(min(y2, v2) - max(y1, v1), 0)
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    enclose_w, enclose_h = max(x2, u2) - min(x1, u1), max(y2, v2) - min(y1, v1)
    enclose, diag2 = enclose_w * enclose_h, enclose_w**2 + enclose_h**2
    rho2 = ((x1 + x2 - u1 - u2) / 2) ** 2 + ((y1 + y2 - v1 - v2) / 2) ** 2
    v = (
        4
        / math.pi**2
        * (torch.atan((u2 - u1) / (v2 - v1)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
    )
    iou = inter / union
    iou_eps = inter / (union + eps)  # the losses add eps to every denominator
    alpha_eps = (v / (1 - iou_eps + v + eps)).detach()  # a weight, not differentiated
    return {
        "box_iou": iou,
        "generalized_box_iou": iou - (enclose - union) / enclose,
        "distance_box_iou": iou - rho2 / (diag2 + eps),
        "complete_box_iou": iou - rho2 / (diag2 + eps) - (v / (1 - iou + v + eps)) * v,
        "generalized_box_iou_loss": 1 - iou_eps + (enclose - union) / (enclose + eps),
        "distance_box_iou_loss": 1 - iou_eps + rho2 / (diag2 + eps),
        "complete_box_iou_loss": 1 - iou_eps + rho2 / (diag2 + eps) + alpha_eps * v,
    }


def _by_definition(name: str, boxes1: Any, boxes2: Any) -> list:
    """``name`` for every pair (pairwise ops) or for matching rows (losses), in float64."""
    b1, b2 = boxes1.double(), boxes2.double()
    if name.endswith("loss"):
        return [_family_by_definition(a, b)[name].item() for a, b in zip(b1, b2, strict=True)]
    return [[_family_by_definition(a, b)[name].item() for b in b2] for a in b1]


def _coco_iou(boxes1: Any, boxes2: Any) -> Any:
    """pycocotools' box IoU (it takes x, y, w, h and a crowd flag per ground truth)."""
    from pycocotools import mask

    from mlcanon.vision import box_convert

    xywh1, xywh2 = (box_convert(b.double(), "xyxy", "xywh").numpy() for b in (boxes1, boxes2))
    return mask.iou(xywh1, xywh2, [0] * len(boxes2))


def _iou_against_references(ctx: Context) -> None:
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

        def torchvision_op(name: str = name, args: tuple = args) -> Any:
            import torchvision.ops

            return getattr(torchvision.ops, name)(*args)

        refs = [("torchvision.ops", torchvision_op)]
        if name == "box_iou":
            refs.append(("pycocotools.mask.iou", lambda args=args: _coco_iou(*args)))
        refs.append(("definition written out", lambda n=name, a=args: _by_definition(n, *a)))
        check_first_available(ctx, name, getattr(V, name)(*args), refs, rtol=1e-5, atol=1e-6)
    pred, target = boxes.double(), boxes.flip(0).double()
    for name in ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"):
        ours = pred.clone().requires_grad_(True)
        getattr(V, name)(ours, target).sum().backward()
        plain = pred.clone().requires_grad_(True)
        total = sum(_family_by_definition(a, b)[name] for a, b in zip(plain, target, strict=True))
        total.backward()
        ctx.check(
            f"{name}: gradient",
            ours.grad,
            plain.grad,
            rtol=1e-10,
            atol=1e-12,
            ref="torch autograd through the written-out formula",
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
