"""Knowledge distillation: a student matches the teacher's softened class probabilities."""

from __future__ import annotations

import torch

from .._validation import check_scalar

__all__ = ["distillation_loss"]


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor,
    T: float = 4.0,
    alpha: float = 0.9,
) -> torch.Tensor:
    """Soft-target loss of Hinton et al. mixed with the hard-label cross-entropy.

    Parameters
    ----------
    student_logits, teacher_logits : Tensor[N, C]
        Unnormalised scores; the teacher's are detached (no gradient flows into the teacher).
    target : Tensor[N] (integer)
        Class indices in [0, C) for the hard-label term.
    T : float, default 4.0
        Temperature (> 0); larger T flattens both distributions and exposes the teacher's
        ranking of the wrong classes ("dark knowledge").
    alpha : float in [0, 1], default 0.9
        Weight of the soft term.

    Returns
    -------
    Tensor (scalar)

    Notes
    -----
    With :math:`p^T = \\mathrm{softmax}(t / T)` and :math:`q^T = \\mathrm{softmax}(s / T)`,

    .. math::
        L = \\alpha T^2 \\frac{1}{N} \\sum_i \\mathrm{KL}(p^T_i \\,\\|\\, q^T_i)
            + (1 - \\alpha) \\frac{1}{N} \\sum_i -\\log \\mathrm{softmax}(s_i)_{y_i}.

    The gradient of the soft term with respect to s scales as 1/T^2; the T^2 factor keeps the
    two terms' relative weight independent of T (Hinton et al., Section 2).

    References
    ----------
    G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural Network",
    arXiv:1503.02531, 2015.
    """
    for name, v in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(v, torch.Tensor) or v.ndim != 2:
            raise ValueError(f"{name} must be a 2-D tensor (N, C), got {getattr(v, 'shape', v)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student_logits and teacher_logits must have the same shape, got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    if not isinstance(target, torch.Tensor) or target.shape != student_logits.shape[:1]:
        raise ValueError(
            f"target must be a tensor of shape ({student_logits.shape[0]},), "
            f"got {getattr(target, 'shape', target)}"
        )
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    n_classes = student_logits.shape[1]
    if target.numel() and not bool(((target >= 0) & (target < n_classes)).all()):
        raise ValueError(
            f"target must hold class indices in [0, {n_classes - 1}], got values in "
            f"[{int(target.min())}, {int(target.max())}]"
        )
    check_scalar(T, "T", low=0.0, include_low=False)
    check_scalar(alpha, "alpha", low=0.0, high=1.0)
    log_q = torch.log_softmax(student_logits / T, dim=1)  # (N, C)
    log_p = torch.log_softmax(teacher_logits.detach() / T, dim=1)
    p = log_p.exp()
    # 0 log 0 = 0: a class the teacher rules out (logit -inf, a masked class) adds nothing
    kl = torch.where(p > 0, p * (log_p - log_q), 0.0).sum(1).mean()
    ce = -torch.log_softmax(student_logits, dim=1).gather(1, target[:, None].long()).mean()
    return alpha * T**2 * kl + (1.0 - alpha) * ce
