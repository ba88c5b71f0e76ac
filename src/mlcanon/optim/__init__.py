"""Optimization: first-order optimizers (torch and NumPy), Newton and quasi-Newton methods.

The first-order optimizers are :class:`torch.optim.Optimizer` subclasses with torch's parameter
names; ``Optimizer.for_arrays([...])`` runs the same update rule on NumPy arrays in place.
"""

from ._first_order import ArrayOptimizer
from ._first_order_adam import Adam, Adamax, AdamW
from ._first_order_adaptive import Adadelta, Adagrad, RMSprop
from ._first_order_sgd import SGD
from ._line_search import LineSearchResult, line_search_armijo, line_search_wolfe
from ._minimize import (
    minimize,
    minimize_bfgs,
    minimize_cg,
    minimize_gd,
    minimize_lbfgs,
    minimize_newton,
)
from ._numdiff import approx_gradient, check_grad
from ._objective import OptimizeResult
from ._sqrt import (
    NaiveSqrtResult,
    sqrt_bisection,
    sqrt_gradient_descent,
    sqrt_gradient_descent_naive,
    sqrt_newton,
)

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "ArrayOptimizer",
    "LineSearchResult",
    "NaiveSqrtResult",
    "OptimizeResult",
    "RMSprop",
    "approx_gradient",
    "check_grad",
    "line_search_armijo",
    "line_search_wolfe",
    "minimize",
    "minimize_bfgs",
    "minimize_cg",
    "minimize_gd",
    "minimize_lbfgs",
    "minimize_newton",
    "sqrt_bisection",
    "sqrt_gradient_descent",
    "sqrt_gradient_descent_naive",
    "sqrt_newton",
]
