import re

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.utils.data import WeightedRandomSampler

from mlcanon.train import ClassBalancedSampler, class_balanced_weights


def _imbalanced_digits(seed):
    _, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    keep = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 10 + 15 * c, replace=False) for c in range(10)]
    )
    return y[keep]


def test_weights_hand_case():
    w = class_balanced_weights(["a", "b", "a", "a", "c", "b"])
    np.testing.assert_array_equal(w, [1 / 3, 1 / 2, 1 / 3, 1 / 3, 1.0, 1 / 2])
    assert w.sum() == pytest.approx(3.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("replacement", [True, False])
def test_same_indices_as_weighted_random_sampler(seed, replacement):
    y = _imbalanced_digits(seed)
    counts = np.bincount(y)
    ref_w = torch.tensor([1.0 / counts[c] for c in y], dtype=torch.double)
    ours = ClassBalancedSampler(y, 300, replacement, generator=torch.Generator().manual_seed(seed))
    ref = WeightedRandomSampler(
        ref_w, 300, replacement, generator=torch.Generator().manual_seed(seed)
    )
    assert list(ours) == list(ref)
    assert len(ours) == len(ref) == 300


@pytest.mark.parametrize("seed", [0, 1])
def test_class_frequencies_are_uniform(seed):
    y = _imbalanced_digits(seed)  # class 9 is 14x class 0
    n = 40_000
    idx = list(ClassBalancedSampler(y, n, generator=torch.Generator().manual_seed(seed)))
    freq = np.bincount(y[idx], minlength=10) / n
    # binomial standard deviation sqrt(0.1 * 0.9 / n) = 0.0015; allow 5 of them
    np.testing.assert_allclose(freq, 0.1, atol=5 * np.sqrt(0.09 / n))


def test_default_num_samples_and_no_replacement_is_permutation():
    y = np.array([0, 0, 0, 1, 2, 2])
    s = ClassBalancedSampler(y, replacement=False, generator=torch.Generator().manual_seed(0))
    assert len(s) == 6
    assert sorted(s) == list(range(6))


def test_works_in_dataloader():
    y = np.array([0] * 30 + [1] * 3)
    ds = torch.utils.data.TensorDataset(torch.arange(33), torch.tensor(y))
    s = ClassBalancedSampler(y, 64, generator=torch.Generator().manual_seed(0))
    batches = list(torch.utils.data.DataLoader(ds, batch_size=16, sampler=s))
    assert sum(len(b[0]) for b in batches) == 64


def test_errors():
    with pytest.raises(ValueError, match="num_samples=7 must be <= len"):
        ClassBalancedSampler([0, 1, 1], 7, replacement=False)
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        ClassBalancedSampler([0, 1], 0)
    with pytest.raises(TypeError, match="num_samples must be int"):
        ClassBalancedSampler([0, 1], 2.5)
    with pytest.raises(TypeError, match=re.escape("generator must be a torch.Generator")):
        ClassBalancedSampler([0, 1], generator=0)
    with pytest.raises(TypeError, match=r"replacement must be bool, got str 'yes'"):
        ClassBalancedSampler([0, 1], replacement="yes")
    # torch's WeightedRandomSampler refuses NumPy's bool too; the message said 'got bool'
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        WeightedRandomSampler([1.0, 1.0], 2, replacement=np.True_)
    with pytest.raises(TypeError, match=re.escape("must be bool, got numpy.bool np.True_")):
        ClassBalancedSampler([0, 1], replacement=np.True_)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        class_balanced_weights([[0, 1]])


@pytest.mark.parametrize("world", [2, 3])
def test_replicas_split_the_single_process_stream(world):
    y = _imbalanced_digits(0)
    n = len(y) - len(y) % world
    one = ClassBalancedSampler(y, num_samples=n, seed=7)
    parts = [
        ClassBalancedSampler(y, num_samples=n, seed=7, num_replicas=world, rank=r)
        for r in range(world)
    ]
    for s in (one, *parts):
        s.set_epoch(3)
    stream = list(one)
    drawn = [list(p) for p in parts]
    assert [len(d) for d in drawn] == [n // world] * world == [len(p) for p in parts]
    # rank r holds positions r, r + W, ... of the stream: disjoint, and together all of it
    for r, d in enumerate(drawn):
        assert d == stream[r::world]
    # the stream is the seeded multinomial draw of the class-balanced weights
    g = torch.Generator().manual_seed(7 + 3)
    expected = torch.multinomial(torch.as_tensor(class_balanced_weights(y)), n, True, generator=g)
    assert stream == expected.tolist()
    one.set_epoch(4)
    assert list(one) != stream


def test_replica_errors():
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match=r"num_samples=10 must be a multiple of num_replicas=3"):
        ClassBalancedSampler(y, seed=0, num_replicas=3, rank=0)
    with pytest.raises(ValueError, match="seed is required with num_replicas=2"):
        ClassBalancedSampler(y, num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="rank must be <= 1, got 2"):
        ClassBalancedSampler(y, seed=0, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="either seed or generator"):
        ClassBalancedSampler(y, seed=0, generator=torch.Generator())


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "dog", "eel", "eel", "eel"], dtype=object),
        np.array([3, 7, 7, 9, 9, 9], dtype=object),
    ],
    ids=["strings", "ints"],
)
def test_object_labels_as_scikit_learn_weighs_them(labels):
    """Labels in an object array (a pandas column of strings) were a TypeError; scikit-learn's
    'balanced' sample weights are n / (K n_c), ours 1 / n_c: the same up to K / n."""
    from sklearn.utils.class_weight import compute_sample_weight

    expected = compute_sample_weight("balanced", labels) * 3 / len(labels)
    np.testing.assert_allclose(class_balanced_weights(labels), expected, rtol=1e-15)
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    ours = list(ClassBalancedSampler(labels, num_samples=12, generator=g1))
    ref = list(WeightedRandomSampler(torch.as_tensor(expected), 12, generator=g2))
    assert ours == ref


def test_object_labels_of_mixed_kinds_are_refused():
    with pytest.raises(
        ValueError, match=r"labels must be all strings or all numbers, .*'int', 'str'"
    ):
        class_balanced_weights(np.array([0, "a", "a"], dtype=object))


def test_seed_outside_torch_range_is_refused_at_construction():
    """torch.Generator.manual_seed takes seeds in [-2**63, 2**64 - 1]; a seed past it failed
    only when the first epoch was drawn, with torch's 'Overflow when unpacking long long'."""
    too_big = "seed must be <= 18446744073709551615, got 18446744073709551616"
    with pytest.raises(ValueError, match=too_big):
        ClassBalancedSampler([0, 1, 1], seed=2**64)
    with pytest.raises(ValueError, match="seed must be >= -9223372036854775808"):
        ClassBalancedSampler([0, 1, 1], seed=-(2**63) - 1)
    # the largest seed is usable, and its next epoch wraps to seed 0 instead of overflowing
    sampler = ClassBalancedSampler([0, 1, 1, 1], seed=np.uint64(2**64 - 1))
    w = torch.as_tensor(class_balanced_weights([0, 1, 1, 1]))
    first = torch.multinomial(w, 4, True, generator=torch.Generator().manual_seed(2**64 - 1))
    assert list(sampler) == first.tolist()
    sampler.set_epoch(1)
    wrapped = torch.multinomial(w, 4, True, generator=torch.Generator().manual_seed(0))
    assert list(sampler) == wrapped.tolist()
