"""The NumPy MLP: BP1-BP4 against central differences and against torch autograd."""

import numpy as np
import pytest
import torch

from mlcanon.nn import MLP


def _data(seed, n=7, d=5, k=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k)), rng.integers(0, k, n)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize(
    ("loss", "output"), [("mse", "identity"), ("mse", "sigmoid"), ("cross_entropy", "identity")]
)
def test_backprop_equals_central_differences(seed, activation, loss, output):
    X, Y, labels = _data(seed)
    mlp = MLP([5, 4, 6, 3], activation, loss, output, random_state=seed)
    y = labels if loss == "cross_entropy" else Y
    dW, db = mlp.backward(X, y)
    nW, nb = mlp.numerical_gradient(X, y)
    for a, b in zip(dW + db, nW + nb, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)  # central differences: O(eps^2)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_backprop_equals_torch_autograd(activation, loss):
    X, Y, labels = _data(3, n=9)
    mlp = MLP(
        [5, 8, 4, 3], activation, loss, "sigmoid" if loss == "mse" else "identity", random_state=3
    )
    y = labels if loss == "cross_entropy" else Y
    dW, db = mlp.backward(X, y)
    Ws = [torch.tensor(W, requires_grad=True) for W in mlp.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in mlp.biases]
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    a = torch.tensor(X)
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = a @ W.T + b
        a = z if i == len(Ws) - 1 else act(z)
    if loss == "mse":
        cost = 0.5 * ((torch.sigmoid(a) - torch.tensor(Y)) ** 2).sum() / len(X)
    else:
        cost = torch.nn.functional.cross_entropy(a, torch.tensor(labels))
    np.testing.assert_allclose(mlp.cost(X, y), cost.item(), rtol=1e-12)
    cost.backward()
    for ours, ref in zip(dW + db, [W.grad for W in Ws] + [b.grad for b in bs], strict=True):
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-10, atol=1e-12)


def test_training_reduces_the_cost_on_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:200] / 16.0
    y = y[:200]
    mlp = MLP([64, 16, 10], "tanh", "cross_entropy", random_state=0)
    first = mlp.step(X, y, 0.5)
    for _ in range(60):
        last = mlp.step(X, y, 0.5)
    assert last < 0.25 * first
    assert (mlp.predict(X) == y).mean() > 0.9


def test_bad_mlp_arguments():
    with pytest.raises(ValueError, match=r"layer_sizes needs at least 2 entries, got \[3\]"):
        MLP([3])
    with pytest.raises(
        ValueError, match="activation must be one of 'sigmoid', 'tanh', 'relu'; got 'elu'"
    ):
        MLP([3, 2], "elu")
    mlp = MLP([3, 2], loss="cross_entropy")
    with pytest.raises(ValueError, match="X has 4 features, expected 3"):
        mlp.cost(np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match=r"y must hold integer labels in \[0, 2\)"):
        mlp.cost(np.zeros((2, 3)), [0, 2])
    with pytest.raises(ValueError, match=r"learning_rate must be > 0\.0, got -1\.0"):
        mlp.step(np.zeros((2, 3)), [0, 1], -1.0)
