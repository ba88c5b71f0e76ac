"""The Cholesky step of 'newton-cholesky': its solution, and its refusals, against NumPy's solve
and SciPy's positive-definite solve (which warns where the step must refuse)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

from mlcanon.linear_model._newton import _cholesky_step


def _spd(n: int, cond: float, seed: int = 0) -> np.ndarray:
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (Q * np.geomspace(1.0, 1.0 / cond, n)) @ Q.T


def test_step_solves_the_newton_system():
    H, g = _spd(40, 1e6), np.random.default_rng(1).standard_normal(40)
    np.testing.assert_allclose(_cholesky_step(H, g), np.linalg.solve(H, -g), rtol=1e-8)


def test_indefinite_hessian_is_refused():
    H = _spd(10, 10.0)
    H[0, 0] = -1.0
    with pytest.raises(np.linalg.LinAlgError):
        _cholesky_step(H, np.ones(10))


@pytest.mark.parametrize("cond", [1e10, 1e14, 1e17, 1e20])
def test_refuses_exactly_where_scipy_warns(cond):
    """Ill-conditioned: the step refuses where SciPy's solve(assume_a='pos') warns that its
    reciprocal condition estimate is below the machine epsilon."""
    H, g = _spd(30, cond, seed=2), np.ones(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            scipy.linalg.solve(H, -g, assume_a="pos")
            scipy_refuses = False
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
            scipy_refuses = True
    try:
        _cholesky_step(H, g)
        ours_refuses = False
    except np.linalg.LinAlgError:
        ours_refuses = True
    assert ours_refuses == scipy_refuses
    assert ours_refuses == (cond > 1e16)
