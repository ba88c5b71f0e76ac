"""Nonlinear conjugate gradient (Polak-Ribière+, with restarts)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_scalar
from ._objective import OptimizeResult, _Run

__all__ = ["minimize_cg"]


def minimize_cg(
    fun: Callable[[np.ndarray], Any],
    x0: Any,
    jac: Callable[[np.ndarray], Any] | bool | None = None,
    *,
    tol: float = 1e-5,
    max_iter: int | None = None,
    callback: Callable[[np.ndarray], Any] | None = None,
    return_path: bool = False,
    restart: int | None = None,
    c1: float = 1e-4,
    c2: float = 0.1,
) -> OptimizeResult:
    r"""Nonlinear conjugate gradient with the Polak-Ribière+ formula.

    Parameters
    ----------
    fun, x0, jac, tol, max_iter, callback, return_path, c1
        As in :func:`minimize_gd`.
    restart : int, optional
        Reset to steepest descent every ``restart`` iterations (default ``n``).
    c2 : float, default=0.1
        Curvature constant; conjugate gradient needs more accurate line searches than
        quasi-Newton methods, hence the smaller default (N&W Section 5.2).

    Returns
    -------
    OptimizeResult

    Notes
    -----
    .. math::

        p_{k+1} = -\nabla f_{k+1} + \beta_{k+1} p_k, \qquad
        \beta_{k+1} = \max\left(0,\ \frac{\nabla f_{k+1}^\top (\nabla f_{k+1} - \nabla f_k)}
                                         {\nabla f_k^\top \nabla f_k}\right).

    Only two vectors are stored. On a strictly convex quadratic with exact line searches the
    directions are conjugate and the method is linear CG, which ends in at most :math:`n`
    steps. Clipping :math:`\beta` at 0 (PR+) and restarting every ``restart`` steps or whenever
    :math:`p_{k+1}` is not a descent direction keep the method globally convergent.

    References
    ----------
    .. [1] E. Polak and G. Ribière, "Note sur la convergence de méthodes de directions
       conjuguées", Rev. Française Informat. Recherche Opérationnelle 3(16), 1969.
    .. [2] J. C. Gilbert and J. Nocedal, "Global convergence properties of conjugate gradient
       methods for optimization", SIAM J. Optim. 2(1), 1992.
    .. [3] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Section 5.2.
    """
    run = _Run.start(locals())
    period = run.x.size if restart is None else restart
    check_scalar(period, "restart", kind=numbers.Integral, low=1)
    p = -run.g
    since_restart = 0
    while run.going():
        ls = run.search(p, run.initial_step(p))
        if ls is None:
            break
        g_old = run.g
        run.accept(run.x + ls.alpha * p, ls.fun, ls.jac)
        g = run.g
        beta = max(0.0, float(g @ (g - g_old)) / float(g_old @ g_old))
        since_restart += 1
        if since_restart >= period:
            beta, since_restart = 0.0, 0
        p = -g + beta * p
        if g @ p >= 0:
            p, since_restart = -g, 0
    return run.result()
