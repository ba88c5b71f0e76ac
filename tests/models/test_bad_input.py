"""Bad input to the model building blocks."""

import pytest

from mlcanon.models._blocks import make_divisible


@pytest.mark.parametrize(
    ("divisor", "error", "words"),
    [
        (0, ValueError, "divisor must be >= 1, got 0"),
        (-8, ValueError, "divisor must be >= 1, got -8"),
        (2.5, TypeError, "divisor must be Integral, got float 2.5"),
    ],
)
def test_bad_divisor_is_refused(divisor, error, words):
    with pytest.raises(error, match=words):
        make_divisible(10, divisor)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_bad_channel_count_is_refused(value):
    with pytest.raises(ValueError, match="value must be"):
        make_divisible(value, 8)


def test_rule_of_the_mobilenet_reference():
    # TF-slim _make_divisible: nearest multiple of 8, at least 8, never 10% below the value
    # (10 rounds to 8, which is 20% below, so it goes up to 16)
    assert [make_divisible(v) for v in (3, 10, 12, 16 * 0.75, 37, 44)] == [8, 16, 16, 16, 40, 48]
