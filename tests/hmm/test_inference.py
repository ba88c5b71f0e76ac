"""Forward-backward and Viterbi against a brute-force oracle that enumerates every state path."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from mlcanon.hmm import CategoricalHMM, GaussianHMM


def _log(a):
    with np.errstate(divide="ignore"):
        return np.log(a)


def brute_force(log_start, log_trans, log_frame):
    """Log-likelihood, posteriors and the best path by summing over all N**T paths."""
    T, N = log_frame.shape
    paths = np.array(list(itertools.product(range(N), repeat=T)))  # (N**T, T)
    score = log_start[paths[:, 0]] + log_frame[np.arange(T), paths].sum(axis=1)
    score += log_trans[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    log_prob = logsumexp(score)
    post = np.zeros((T, N))
    for t in range(T):
        for i in range(N):
            post[t, i] = np.exp(logsumexp(score[paths[:, t] == i]) - log_prob)
    best = int(np.argmax(score))
    return log_prob, post, paths[best], score[best]


def _random_categorical(seed, N=3, M=4):
    rng = np.random.default_rng(seed)
    model = CategoricalHMM(N, init_params="")
    model.startprob_ = rng.dirichlet(np.ones(N))
    model.transmat_ = rng.dirichlet(np.ones(N), size=N)
    model.emissionprob_ = rng.dirichlet(np.ones(M), size=N)
    return model, rng.integers(0, M, size=(7, 1))


@pytest.mark.parametrize("seed", range(4))
def test_categorical_matches_brute_force(seed):
    model, X = _random_categorical(seed)
    log_frame = np.log(model.emissionprob_[:, X[:, 0]].T)
    log_prob, post, path, path_score = brute_force(
        np.log(model.startprob_), np.log(model.transmat_), log_frame
    )
    ours_lp, ours_post = model.score_samples(X)
    np.testing.assert_allclose(ours_lp, log_prob, rtol=1e-13)
    np.testing.assert_allclose(ours_post, post, atol=1e-13)
    vit_lp, vit_path = model.decode(X)
    np.testing.assert_array_equal(vit_path, path)
    np.testing.assert_allclose(vit_lp, path_score, rtol=1e-13)


def test_hand_computed_two_steps():
    # P(x) = sum_ij pi_i b_i(x1) a_ij b_j(x2) for x = (0, 1)
    model = CategoricalHMM(2, init_params="")
    model.startprob_ = np.array([0.6, 0.4])
    model.transmat_ = np.array([[0.7, 0.3], [0.2, 0.8]])
    model.emissionprob_ = np.array([[0.9, 0.1], [0.3, 0.7]])
    p = 0.6 * 0.9 * (0.7 * 0.1 + 0.3 * 0.7) + 0.4 * 0.3 * (0.2 * 0.1 + 0.8 * 0.7)
    assert model.score([[0], [1]]) == pytest.approx(np.log(p), rel=1e-15)
    # best path: 0 -> 1 with 0.6 * 0.9 * 0.3 * 0.7 = 0.1134
    lp, path = model.decode([[0], [1]])
    assert lp == pytest.approx(np.log(0.1134), rel=1e-15)
    np.testing.assert_array_equal(path, [0, 1])


def test_forbidden_transition_far_below_the_best_state():
    """A state that the leading state cannot reach stays reachable through a path ~e^-1600 less
    likely: the shifted sum underflows, the exact log-space fallback must keep it finite."""
    model = GaussianHMM(2, covariance_type="diag", init_params="")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[1.0, 0.0], [0.5, 0.5]])  # state 0 is absorbing
    model.means_ = np.array([[0.0], [60.0]])
    model.covars_ = np.array([[1.0], [1.0]])
    X = np.array([[0.0], [0.0], [60.0], [60.0]])  # only state 1 explains the end
    log_frame = model._log_frameprob(X)
    log_prob, post, path, _ = brute_force(
        np.log(model.startprob_), _log(model.transmat_), log_frame
    )
    assert np.isfinite(log_prob) and log_prob < -1500
    ours_lp, ours_post = model.score_samples(X)
    np.testing.assert_allclose(ours_lp, log_prob, rtol=1e-13)
    np.testing.assert_allclose(ours_post, post, atol=1e-13)
    np.testing.assert_array_equal(model.predict(X), path)


def test_several_sequences_are_independent():
    model, X = _random_categorical(5)
    X2 = np.vstack([X, X[:3], X[2:]])
    lp, post = model.score_samples(X2, lengths=[7, 3, 5])
    parts = [model.score_samples(X), model.score_samples(X[:3]), model.score_samples(X[2:])]
    assert lp == pytest.approx(sum(p[0] for p in parts), rel=1e-14)
    np.testing.assert_allclose(post, np.vstack([p[1] for p in parts]), atol=1e-14)
    _, path = model.decode(X2, lengths=[7, 3, 5])
    np.testing.assert_array_equal(
        path, np.concatenate([model.decode(x)[1] for x in (X, X[:3], X[2:])])
    )


def test_long_sequence_does_not_underflow():
    model, _ = _random_categorical(1)
    X, _ = model.sample(20000, random_state=0)
    lp, post = model.score_samples(X)
    assert np.isfinite(lp) and lp < -20000 * 0.5  # far below the smallest double, in log space
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)


def test_map_decoding_takes_the_posterior_argmax():
    model, X = _random_categorical(2)
    lp, states = model.decode(X, algorithm="map")
    post = model.predict_proba(X)
    np.testing.assert_array_equal(states, post.argmax(axis=1))
    assert lp == pytest.approx(np.log(post.max(axis=1)).sum())
