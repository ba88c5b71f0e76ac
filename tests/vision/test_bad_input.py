"""Bad input to conv arithmetic, and the profiler on layers it could not count before."""

import pytest
import torch
from torch import nn

from mlcanon.vision import conv_output_size, pool_output_size, profile


@pytest.mark.parametrize("size", [5.5, "5", None, {5}])
def test_non_integer_input_size_is_refused(size):
    with pytest.raises(TypeError, match=r"input_size must be an int or a tuple of ints, got"):
        conv_output_size(size, 3)
    with pytest.raises(TypeError, match="input_size must be an int or a tuple of ints"):
        pool_output_size(size, 2)


@pytest.mark.parametrize("size", [(5.5, 4), (True, 4)])
def test_tuple_with_a_non_integer_is_refused(size):
    with pytest.raises(ValueError, match=r"input_size must be an int or 2 ints \(one per axis\)"):
        conv_output_size(size, 3)


class Seq(nn.Module):
    def __init__(self, rnn: nn.Module, attention: nn.Module | None = None):
        super().__init__()
        self.rnn, self.attention = rnn, attention

    def forward(self, x):
        y, _ = self.rnn(x)
        if self.attention is not None:
            y, _ = self.attention(y, y, y)
        return y


@pytest.mark.parametrize(
    ("make", "gates", "per_unit"),
    [
        (lambda **kw: nn.RNN(6, 5, **kw), 1, 1),
        (lambda **kw: nn.GRU(6, 5, **kw), 3, 15),
        (lambda **kw: nn.LSTM(6, 5, **kw), 4, 18),
    ],
)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_macs_follow_the_written_out_formula(
    make, gates, per_unit, layers, bidirectional
):
    T, I, H, D = 7, 6, 5, 2 if bidirectional else 1
    rnn = make(num_layers=layers, bidirectional=bidirectional, batch_first=True)
    p = profile(Seq(rnn), (T, I))
    # layer 0 reads I inputs, later layers the D*H outputs of the previous one;
    # each of the G*H gate rows takes one dot product over (input + hidden) per step
    widths = [I] + [D * H] * (layers - 1)
    macs = T * sum(D * gates * H * (w + H) for w in widths)
    extra = T * layers * D * H * (2 * gates + per_unit)
    row = next(r for r in p.layers if r.name == "rnn")
    assert (row.macs, row.flops, row.counted) == (macs, 2 * macs + extra, True)
    assert p.uncounted == ()


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_macs_follow_the_written_out_formula(batch_first):
    L, E, heads = 6, 8, 2
    seq = Seq(
        nn.GRU(E, E, batch_first=batch_first),
        nn.MultiheadAttention(E, heads, batch_first=batch_first),
    )
    # profile() feeds (1, *input_shape): batch-first models see batch 1 and length L; the
    # others see length 1 and a batch of L sequences
    p = profile(seq, (L, E))
    lq, batch = (L, 1) if batch_first else (1, L)
    # Q, K, V projections + scores + weighted values + output projection, per sequence
    macs = batch * (3 * lq * E * E + 2 * lq * lq * E + lq * E * E)
    extra = batch * ((3 * lq) * E + lq * E + lq * E + 3 * heads * lq * lq)
    row = next(r for r in p.layers if r.name == "attention")
    assert (row.macs, row.flops, row.counted) == (macs, 2 * macs + extra, True)


def test_a_tuple_returning_op_without_a_rule_is_listed():
    class TopValues(nn.Module):
        def forward(self, x):
            return torch.max(x, 1)[0]

    p = profile(TopValues(), (5, 8))
    assert p.uncounted == ("max",)
    assert "(?) no counting rule, counted as 0: max" in p.table()
