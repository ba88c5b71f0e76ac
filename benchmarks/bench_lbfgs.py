"""L-BFGS: mlcanon.optim.minimize(method='lbfgs') vs scipy.optimize.minimize(method='L-BFGS-B').

Both sides get the same objective (value and gradient from one call, ``jac=True``), the same
start, memory m = 10 and the same stopping rule: max |g_i| <= 1e-5 with scipy's relative
function-decrease test switched off (``ftol=0``), so that the iterations, not the stopping rules,
are compared. The number of function evaluations of each side is printed beside the ratio.

BLAS runs single-threaded for both sides: the vectors are at most 1000 long, too short for
threads to help, and on a busy machine scipy's BLAS calls inside L-BFGS-B were measured to slow
down 20x or more when OpenBLAS threads compete for the cores.
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import compare
from mlcanon.optim import minimize

TOL = 1e-5


def _problems():
    from scipy import optimize
    from sklearn.datasets import load_breast_cancer

    def rosen(x):
        return optimize.rosen(x), optimize.rosen_der(x)

    X, y = load_breast_cancer(return_X_y=True)
    X = np.hstack([(X - X.mean(0)) / X.std(0), np.ones((X.shape[0], 1))])
    lam = 1e-2

    def logistic(w):
        z = X @ w
        p = 1.0 / (1.0 + np.exp(-z))
        f = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * (w[:-1] @ w[:-1])
        g = X.T @ (p - y) / len(y)
        g[:-1] += lam * w[:-1]
        return float(f), g

    return [
        ("1000-D Rosenbrock", rosen, np.tile([-1.2, 1.0], 500)),
        ("100-D Rosenbrock", rosen, np.tile([-1.2, 1.0], 50)),
        ("logistic loss, breast cancer (31-D)", logistic, np.zeros(X.shape[1])),
    ]


def main() -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        _run()


def _run() -> None:
    from scipy import optimize

    options = {"gtol": TOL, "ftol": 0.0, "maxcor": 10, "maxiter": 100_000, "maxfun": 100_000}
    for name, fg, x0 in _problems():

        def ours(fg=fg, x0=x0):
            return minimize(fg, x0, True, method="lbfgs", tol=TOL, m=10)

        def ref(fg=fg, x0=x0):
            return optimize.minimize(fg, x0, jac=True, method="L-BFGS-B", options=options)

        a, b = ours(), ref()
        assert a.success and b.success, (a.message, b.message)
        np.testing.assert_allclose(a.fun, b.fun, atol=1e-8)
        compare(
            f"L-BFGS, {name}",
            ours,
            ref,
            ref_name="scipy",
            target=2.0,
            note=f"nfev ours {a.nfev} / scipy {b.nfev}, nit {a.nit} / {b.nit}",
        )


if __name__ == "__main__":
    main()
