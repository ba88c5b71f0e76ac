"""Entropy, KL and JS divergence vs scipy.stats.entropy, scipy's jensenshannon and torch kl_div."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from mlcanon.metrics import entropy, js_divergence, kl_divergence

stats = pytest.importorskip("scipy.stats")
RTOL = 1e-12


@pytest.fixture(scope="module")
def pixel_histograms():
    """Per-digit histograms of the 17 pixel intensities of the digits data: (17, 10) counts."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.stack(
        [np.bincount(X[y == d].astype(int).ravel(), minlength=17) for d in range(10)], axis=1
    ).astype(float)


def _random(seed, shape, zeros=False):
    rng = np.random.default_rng(seed)
    x = rng.random(shape) * 5
    if zeros:
        x[rng.random(shape) < 0.2] = 0.0
    return x


@pytest.mark.parametrize("base", [None, 2, 10, np.e, 0.5])
def test_entropy_matches_scipy_on_digit_histograms(pixel_histograms, base):
    h = pixel_histograms
    assert_allclose(entropy(h, base=base), stats.entropy(h, base=base), rtol=RTOL)
    assert_allclose(entropy(h.T, base=base, axis=1), stats.entropy(h.T, base=base, axis=1))
    # KL of every digit from every other, broadcast (17, 10, 1) against (17, 1, 10)
    a, b = h[:, :, None], h[:, None, :]
    assert_allclose(entropy(a, b, base=base), stats.entropy(a, b, base=base), rtol=RTOL)
    assert_allclose(kl_divergence(a, b, base=base), stats.entropy(a, b, base=base), rtol=RTOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("zeros", [False, True])
def test_entropy_and_kl_match_scipy_on_random_data(seed, axis, zeros):
    p = _random(seed, (6, 9), zeros)
    q = _random(seed + 10, (6, 9))
    assert_allclose(entropy(p, axis=axis), stats.entropy(p, axis=axis), rtol=RTOL)
    assert_allclose(kl_divergence(p, q, axis=axis), stats.entropy(p, q, axis=axis), rtol=RTOL)


def test_broadcast_happens_before_normalizing_like_scipy():
    p, q = np.array([2.0]), np.array([1.0, 2.0, 3.0, 4.0])  # p stretches to 4 equal weights
    assert_allclose(kl_divergence(p, q), stats.entropy(p, q), rtol=RTOL)


def test_kl_is_infinite_where_q_misses_support_of_p():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])
    assert kl_divergence(p, q) == np.inf == stats.entropy(p, q)
    assert kl_divergence(q, p) == pytest.approx(np.log(2), rel=1e-15)  # 0 log 0 terms vanish


@pytest.mark.parametrize("base", [None, 2.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("zeros", [False, True])
def test_js_matches_scipy_jensenshannon_squared(base, seed, zeros):
    distance = pytest.importorskip("scipy.spatial.distance")
    p, q = _random(seed, (12, 4), zeros), _random(seed + 5, (12, 4), zeros)
    assert_allclose(js_divergence(p, q, base), distance.jensenshannon(p, q, base) ** 2, rtol=RTOL)


def test_js_on_digit_histograms(pixel_histograms):
    distance = pytest.importorskip("scipy.spatial.distance")
    a, b = pixel_histograms[:, 0], pixel_histograms[:, 1]
    assert_allclose(js_divergence(a, b), distance.jensenshannon(a, b) ** 2, rtol=RTOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_matches_torch_kl_div(seed):
    torch = pytest.importorskip("torch")
    p, q = _random(seed, 20, zeros=True), _random(seed + 3, 20)
    p_n, q_n = p / p.sum(), q / q.sum()
    # torch's kl_div takes log q as input and p as target
    ref = torch.nn.functional.kl_div(
        torch.from_numpy(np.log(q_n)), torch.from_numpy(p_n), reduction="sum"
    )
    assert_allclose(kl_divergence(p, q), ref.item(), rtol=RTOL)


def test_hand_computed_values():
    assert entropy([0.5, 0.5], base=2) == 1.0
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert entropy([1, 1, 1, 1]) == pytest.approx(np.log(4), rel=1e-15)  # counts are normalized
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected, rel=1e-15)
    # disjoint supports: JS reaches its maximum, log 2 (1 bit)
    assert js_divergence([1, 0], [0, 1], base=2) == pytest.approx(1.0, rel=1e-15)


distributions = (
    st.integers(2, 12)
    .flatmap(
        lambda k: st.tuples(
            arrays(np.float64, k, elements=st.floats(0.0, 10.0)),
            arrays(np.float64, k, elements=st.floats(0.01, 10.0)),
        )
    )
    .filter(lambda pq: pq[0].sum() > 0)
)


@given(distributions)
def test_property_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    p_n, q_n = p / p.sum(), q / q.sum()
    cross = -np.sum(np.where(p_n > 0, p_n * np.log(q_n), 0.0))
    assert entropy(p) + kl_divergence(p, q) == pytest.approx(cross, rel=1e-12, abs=1e-14)


@given(distributions)
def test_property_gibbs_inequality_and_js_bounds(pq):
    p, q = pq
    assert kl_divergence(p, q) >= -1e-15
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    js = js_divergence(p, q)
    assert js == pytest.approx(js_divergence(q, p), rel=1e-12, abs=1e-15)
    assert -1e-15 <= js <= np.log(2) + 1e-15


def test_errors():
    with pytest.raises(ValueError, match="p must be non-negative"):
        entropy([0.5, -0.1, 0.6])
    with pytest.raises(ValueError, match="q must be non-negative"):
        kl_divergence([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match="p sums to 0"):
        entropy([0.0, 0.0])
    with pytest.raises(ValueError, match="p contains NaN"):
        entropy([np.nan, 1.0])
    with pytest.raises(ValueError, match=r"base must be > 0\.0"):
        entropy([0.5, 0.5], base=-2)
    with pytest.raises(ValueError, match="other than 1"):
        js_divergence([0.5, 0.5], [0.2, 0.8], base=1)
    with pytest.raises(ValueError, match="do not broadcast"):
        kl_divergence(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="axis must be <= 0"):
        entropy([0.5, 0.5], axis=1)
    with pytest.raises(ValueError, match="at least 1-D"):
        entropy(0.5)
    with pytest.raises(TypeError, match="kl_divergence needs q"):
        kl_divergence([0.5, 0.5], None)
