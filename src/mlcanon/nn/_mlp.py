r"""A multilayer perceptron in NumPy whose backward pass is the four backpropagation equations.

With :math:`z^l = W^l a^{l-1} + b^l`, :math:`a^l = \sigma(z^l)` and the error
:math:`\delta^l = \partial C/\partial z^l` (samples are rows below, so the products transpose):

.. math::
    \text{(BP1)}\ \delta^L = \nabla_a C \odot \sigma'(z^L) \qquad
    \text{(BP2)}\ \delta^l = ((W^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)

    \text{(BP3)}\ \partial C/\partial b^l = \delta^l \qquad
    \text{(BP4)}\ \partial C/\partial W^l = \delta^l (a^{l-1})^T

References
----------
.. [1] Rumelhart, Hinton & Williams, "Learning representations by back-propagating errors",
   Nature 323, 1986.
.. [2] Nielsen, "Neural networks and deep learning", 2015, ch. 2 (the BP1-BP4 naming).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from mlcanon._validation import (
    check_array,
    check_consistent_length,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["MLP"]


def _sigmoid(z):
    e = np.exp(-np.abs(z))  # never exponentiates a large positive number
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# activation: (f, f' written in terms of z)
_ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "identity": (lambda z: z, np.ones_like),
}


class MLP:
    r"""Fully connected network trained by backpropagation written out as BP1-BP4.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_inputs, hidden..., n_outputs]``.
    activation : {'sigmoid', 'tanh', 'relu'}
        Hidden-layer activation.
    loss : {'mse', 'cross_entropy'}
        ``'mse'``: :math:`C = \frac{1}{2n}\sum \|a^L - y\|^2` with ``output_activation``;
        ``'cross_entropy'``: softmax output and :math:`C = -\frac1n\sum y\log a^L` (integer labels).
    output_activation : {'identity', 'sigmoid', 'tanh', 'relu'}
        Output nonlinearity for ``'mse'`` (ignored for cross-entropy).
    random_state : None, int or Generator
        Weights start as :math:`\mathcal N(0, 1/n_{in})`, biases at 0.

    Attributes
    ----------
    weights : list of ndarray (n_out, n_in)
    biases : list of ndarray (n_out,)
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "sigmoid",
        loss: str = "mse",
        output_activation: str = "identity",
        random_state=None,
    ) -> None:
        if len(layer_sizes) < 2:
            raise ValueError(f"layer_sizes needs at least 2 entries, got {list(layer_sizes)}")
        for s in layer_sizes:
            check_scalar(s, "layer_sizes", kind=(int, np.integer), low=1)
        self.activation = check_option(activation, "activation", ("sigmoid", "tanh", "relu"))
        self.loss = check_option(loss, "loss", ("mse", "cross_entropy"))
        self.output_activation = check_option(output_activation, "output_activation", _ACTIVATIONS)
        rng = check_random_state(random_state)
        sizes = list(layer_sizes)
        self.weights = [rng.normal(0, 1 / np.sqrt(i), (o, i)) for i, o in itertools.pairwise(sizes)]
        self.biases = [np.zeros(o) for o in sizes[1:]]

    def _act(self, layer: int):
        last = layer == len(self.weights) - 1
        name = (
            ("identity" if self.loss == "cross_entropy" else self.output_activation)
            if last
            else self.activation
        )
        return _ACTIVATIONS[name]

    def forward(self, X) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return the pre-activations ``zs`` and activations ``activations`` (input first)."""
        a = check_array(X, "X", ndim=2)
        if a.shape[1] != self.weights[0].shape[1]:
            raise ValueError(f"X has {a.shape[1]} features, expected {self.weights[0].shape[1]}")
        zs, activations = [], [a]
        for layer, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ W.T + b  # (n, n_out)
            a = self._act(layer)[0](z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def _targets(self, y, n: int) -> np.ndarray:
        if self.loss == "cross_entropy":
            y = check_array(y, "y", ndim=1, dtype=None)
            k = self.weights[-1].shape[0]
            if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= k:
                raise ValueError(f"y must hold integer labels in [0, {k}), got {y[:5]}...")
            return np.eye(k)[y]
        y = check_array(y, "y", ndim=(1, 2))
        k = self.weights[-1].shape[0]
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape != (n, k):  # a reshape would silently pair targets with the wrong samples
            one = f" or ({n},)" if k == 1 else ""
            raise ValueError(f"y must have shape ({n}, {k}){one} for {n} samples, got {y.shape}")
        return Y

    def cost(self, X, y) -> float:
        """The training objective :math:`C` on ``(X, y)``."""
        _, activations = self.forward(X)
        out = activations[-1]
        Y = self._targets(y, out.shape[0])
        check_consistent_length(X=out, y=Y)
        if self.loss == "mse":
            return float(0.5 * np.sum((out - Y) ** 2) / len(Y))
        z = out - out.max(axis=1, keepdims=True)  # log-softmax by log-sum-exp
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.sum(Y * logp) / len(Y))

    def backward(self, X, y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradients ``(dW, db)`` of :meth:`cost` for every layer, by BP1-BP4."""
        zs, activations = self.forward(X)
        Y = self._targets(y, activations[0].shape[0])
        check_consistent_length(X=activations[0], y=Y)
        n, L = len(Y), len(self.weights)
        if self.loss == "mse":  # BP1: dC/da^L = (a^L - y)/n, times sigma'(z^L)
            delta = (activations[-1] - Y) / n * self._act(L - 1)[1](zs[-1])
        else:  # BP1 for softmax + cross-entropy collapses to (p - y)/n
            z = zs[-1] - zs[-1].max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            delta = (p - Y) / n
        dW, db = [None] * L, [None] * L
        for layer in range(L - 1, -1, -1):
            db[layer] = delta.sum(axis=0)  # BP3
            dW[layer] = delta.T @ activations[layer]  # BP4: delta^l (a^{l-1})^T, summed over n
            if layer > 0:  # BP2: push the error one layer back
                delta = (delta @ self.weights[layer]) * self._act(layer - 1)[1](zs[layer - 1])
        return dW, db

    def numerical_gradient(self, X, y, eps: float = 1e-6) -> tuple[list, list]:
        r"""Central differences :math:`(C(\theta+\epsilon) - C(\theta-\epsilon)) / 2\epsilon`."""
        check_scalar(eps, "eps", low=0.0, include_low=False)
        grads = []
        for params in (self.weights, self.biases):
            out = []
            for p in params:
                g = np.zeros_like(p)
                for idx in np.ndindex(p.shape):
                    old = p[idx]
                    p[idx] = old + eps
                    up = self.cost(X, y)
                    p[idx] = old - eps
                    down = self.cost(X, y)
                    p[idx] = old
                    g[idx] = (up - down) / (2 * eps)
                out.append(g)
            grads.append(out)
        return grads[0], grads[1]

    def step(self, X, y, learning_rate: float) -> float:
        """One gradient-descent step on ``(X, y)``; returns the cost before the step."""
        check_scalar(learning_rate, "learning_rate", low=0.0, include_low=False)
        cost = self.cost(X, y)
        dW, db = self.backward(X, y)
        for W, b, gW, gb in zip(self.weights, self.biases, dW, db, strict=True):
            W -= learning_rate * gW
            b -= learning_rate * gb
        return cost

    def predict(self, X) -> np.ndarray:
        """Network output (class labels for cross-entropy)."""
        out = self.forward(X)[1][-1]
        return out.argmax(axis=1) if self.loss == "cross_entropy" else out
