"""Hand-written backward passes vs torch's native kernels: forward + backward, float32, CPU."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

from benchmarks._harness import compare
from mlcanon import nn
from mlcanon.nn import functional as F


def _fwd_bwd(fn, *inputs):
    """A closure running fn(*inputs) forward and backward (gradients reset each time)."""

    def run():
        for t in inputs:
            t.grad = None
        out = fn(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(torch.ones_like(out))

    return run


def _leaves(*tensors):
    return [t.clone().requires_grad_() for t in tensors]


def main() -> None:
    torch.manual_seed(0)
    # conv2d: a ResNet stage-2 layer (64 channels, 56x56), batch 16, 3x3, stride 1, padding 1
    x, w, b = torch.randn(16, 64, 56, 56), torch.randn(64, 64, 3, 3) * 0.05, torch.randn(64)
    compare(
        "conv2d fwd+bwd 16x64x56x56, 3x3",
        _fwd_bwd(lambda *a: F.conv2d(*a, padding=1), *_leaves(x, w, b)),
        _fwd_bwd(lambda *a: TF.conv2d(*a, padding=1), *_leaves(x, w, b)),
        ref_name="torch",
        target=3.0,
        repeat=5,
    )

    # what bounds the ratio: the three matrix products of im2col convolution alone (forward,
    # weight gradient, and the input gradient, at stride 1 itself a correlation of the same
    # shape as the forward), with torch.matmul (MKL sgemm), against torch's whole conv
    # forward+backward (oneDNN kernels)
    cols = torch.randn(16, 1, 576, 3136)
    w2, g = w.reshape(1, 64, 576), torch.randn(16, 1, 64, 3136)

    def three_gemms():
        w2.matmul(cols), g.matmul(cols.transpose(2, 3)), w2.matmul(cols)

    compare(
        "  its 3 GEMMs alone (floor of the im2col route)",
        three_gemms,
        _fwd_bwd(lambda *a: TF.conv2d(*a, padding=1), *_leaves(x, w, b)),
        ref_name="torch",
        repeat=5,
        note="no target: shows the bound",
    )

    # the two layer kinds that take most of MobileNetV2's step, at the shapes of its third stage
    xd, wd = torch.randn(16, 144, 24, 24), torch.randn(144, 1, 3, 3) * 0.1
    compare(
        "depthwise conv2d fwd+bwd 16x144x24x24, 3x3",
        _fwd_bwd(lambda *a: F.conv2d(*a, padding=1, groups=144), *_leaves(xd, wd)),
        _fwd_bwd(lambda *a: TF.conv2d(*a, padding=1, groups=144), *_leaves(xd, wd)),
        ref_name="torch",
        note="no target: a part of the MobileNetV2 step",
    )
    xp, wp = torch.randn(16, 24, 24, 24), torch.randn(144, 24, 1, 1) * 0.1
    compare(
        "pointwise conv2d fwd+bwd 16x24x24x24 -> 144",
        _fwd_bwd(F.conv2d, *_leaves(xp, wp)),
        _fwd_bwd(TF.conv2d, *_leaves(xp, wp)),
        ref_name="torch",
        note="no target: a part of the MobileNetV2 step",
    )

    # LSTM: T = 100, batch 32, hidden 256 (input 256)
    ref = torch.nn.LSTM(256, 256)
    ours = nn.LSTM(256, 256)
    ours.load_state_dict(ref.state_dict())
    seq = torch.randn(100, 32, 256)
    compare(
        "LSTM fwd+bwd T=100 B=32 H=256",
        _fwd_bwd(lambda s: ours(s)[0], *_leaves(seq)),
        _fwd_bwd(lambda s: ref(s)[0], *_leaves(seq)),
        ref_name="torch",
        target=2.0,
        repeat=5,
    )

    # the same LSTM on a PackedSequence of 64 sequences of random lengths 1..100 (unsorted):
    # each step runs on the sequences still going, as torch's (a loop over the sequences, one
    # at a time, took 8x longer at this size)
    lengths = torch.randint(1, 101, (64,), generator=torch.Generator().manual_seed(0))
    seq_p = torch.randn(100, 64, 256)

    def packed_run(model):
        def run(s):
            packed = torch.nn.utils.rnn.pack_padded_sequence(s, lengths, enforce_sorted=False)
            return model(packed)[0].data

        return run

    compare(
        "LSTM fwd+bwd packed T<=100 B=64 H=256",
        _fwd_bwd(packed_run(ours), *_leaves(seq_p)),
        _fwd_bwd(packed_run(ref), *_leaves(seq_p)),
        ref_name="torch",
        target=2.0,
        repeat=5,
    )

    # what bounds it: the LSTM's matrix products alone (input projection, one (B, H) @ (H, 4H)
    # product per step forward and one (B, 4H) @ (4H, H) backward, then the input and the two
    # weight gradients), with torch.matmul (MKL sgemm), against torch's whole LSTM (oneDNN)
    w_ih, w_hh = ref.weight_ih_l0.detach(), ref.weight_hh_l0.detach()
    d_gates, h_prev = torch.randn(100, 32, 1024), torch.randn(100, 32, 256)

    def lstm_gemms():
        pre = seq.matmul(w_ih.t())
        h = h_prev[0]
        for t in range(100):
            torch.addmm(pre[t], h, w_hh.t())
        for t in range(100):
            d_gates[t].matmul(w_hh)
        d2 = d_gates.reshape(-1, 1024)
        (
            d_gates.matmul(w_ih),
            d2.t().matmul(seq.reshape(-1, 256)),
            d2.t().matmul(h_prev.view(-1, 256)),
        )

    compare(
        "  its GEMMs alone (floor of this route)",
        lstm_gemms,
        _fwd_bwd(lambda s: ref(s)[0], *_leaves(seq)),
        ref_name="torch",
        repeat=5,
        note="no target: shows the bound",
    )

    # normalization on the conv activations
    gamma, beta = torch.rand(64) + 0.5, torch.randn(64)
    rm, rv = torch.zeros(64), torch.ones(64)
    compare(
        "batch_norm fwd+bwd 16x64x56x56 (training)",
        _fwd_bwd(lambda *a: F.batch_norm(a[0], rm, rv, a[1], a[2], True), *_leaves(x, gamma, beta)),
        _fwd_bwd(
            lambda *a: TF.batch_norm(a[0], rm, rv, a[1], a[2], True), *_leaves(x, gamma, beta)
        ),
        ref_name="torch",
        target=2.0,
    )
    compare(
        "group_norm fwd+bwd 16x64x56x56, 8 groups",
        _fwd_bwd(lambda *a: F.group_norm(a[0], 8, a[1], a[2]), *_leaves(x, gamma, beta)),
        _fwd_bwd(lambda *a: TF.group_norm(a[0], 8, a[1], a[2]), *_leaves(x, gamma, beta)),
        ref_name="torch",
        target=2.0,
    )

    # layer norm over a transformer's token features (batch 32, 128 tokens, width 512): a
    # memory-bound op against torch's fused kernel, so the target allows the extra sweeps
    tokens, ln_w, ln_b = torch.randn(32, 128, 512), torch.rand(512) + 0.5, torch.randn(512)
    compare(
        "layer_norm fwd+bwd 32x128x512",
        _fwd_bwd(lambda *a: F.layer_norm(a[0], (512,), a[1], a[2]), *_leaves(tokens, ln_w, ln_b)),
        _fwd_bwd(lambda *a: TF.layer_norm(a[0], (512,), a[1], a[2]), *_leaves(tokens, ln_w, ln_b)),
        ref_name="torch",
        target=3.0,
    )

    # cross-entropy of 1000-class logits
    logits, labels = torch.randn(2048, 1000), torch.randint(0, 1000, (2048,))
    compare(
        "cross_entropy fwd+bwd 2048x1000",
        _fwd_bwd(lambda z: F.cross_entropy(z, labels), *_leaves(logits)),
        _fwd_bwd(lambda z: TF.cross_entropy(z, labels), *_leaves(logits)),
        ref_name="torch",
        target=1.5,
    )

    mobilenet_v2_step()


def mobilenet_v2_step() -> None:
    """One SGD training step of MobileNetV2 (batch 16, 3x96x96): torch's layers against the same
    model after :func:`mlcanon.nn.from_torch` (hand-written backward passes throughout)."""
    from mlcanon.models import mobilenet_v2

    torch.manual_seed(0)
    theirs = mobilenet_v2(num_classes=10)
    ours = nn.from_torch(theirs)
    x, y = torch.randn(16, 3, 96, 96), torch.randint(0, 10, (16,))

    def step(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def run():
            opt.zero_grad()
            TF.cross_entropy(model(x), y).backward()
            opt.step()

        return run

    compare(
        "MobileNetV2 train step 16x3x96x96",
        step(ours),
        step(theirs),
        ref_name="torch",
        target=1.5,
        repeat=5,
    )


if __name__ == "__main__":
    main()
