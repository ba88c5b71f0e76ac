"""Modules: torch state_dicts load, outputs match, and a small network trains like torch's."""

import pytest
import torch

import mlcanon.nn as nn

# (ours, torch, input shape): modules with parameters or buffers are built with the same seed
MODULES = [
    (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    (
        lambda: nn.Conv2d(4, 6, 3, 2, 1, groups=2),
        lambda: torch.nn.Conv2d(4, 6, 3, 2, 1, groups=2),
        (2, 4, 7, 6),
    ),
    (
        lambda: nn.ConvTranspose2d(4, 6, 3, 2, 1, 1),
        lambda: torch.nn.ConvTranspose2d(4, 6, 3, 2, 1, 1),
        (2, 4, 5, 3),
    ),
    (lambda: nn.BatchNorm2d(4), lambda: torch.nn.BatchNorm2d(4), (3, 4, 5, 2)),
    (
        lambda: nn.BatchNorm1d(4, momentum=None),
        lambda: torch.nn.BatchNorm1d(4, momentum=None),
        (5, 4),
    ),
    (
        lambda: nn.InstanceNorm2d(4, affine=True),
        lambda: torch.nn.InstanceNorm2d(4, affine=True),
        (3, 4, 5, 2),
    ),
    (  # torch: momentum=None leaves the running statistics as they are
        lambda: nn.InstanceNorm2d(4, momentum=None, track_running_stats=True),
        lambda: torch.nn.InstanceNorm2d(4, momentum=None, track_running_stats=True),
        (3, 4, 5, 2),
    ),
    (lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (3, 4, 5, 2)),
    (lambda: nn.LayerNorm((5, 2)), lambda: torch.nn.LayerNorm((5, 2)), (3, 4, 5, 2)),
    (lambda: nn.PReLU(4), lambda: torch.nn.PReLU(4), (3, 4, 5)),
    (
        lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        lambda: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        (2, 3, 7, 6),
    ),
    (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (2, 3, 7, 6)),
    (
        lambda: nn.AdaptiveAvgPool2d((3, 2)),
        lambda: torch.nn.AdaptiveAvgPool2d((3, 2)),
        (2, 3, 7, 6),
    ),
    (lambda: nn.LeakyReLU(0.3), lambda: torch.nn.LeakyReLU(0.3), (3, 4)),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (3, 4)),
    (lambda: nn.LogSoftmax(1), lambda: torch.nn.LogSoftmax(1), (3, 4)),
    (lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh"), (3, 4)),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU(), (3, 4)),
    (lambda: nn.Softplus(2.0, 1.5), lambda: torch.nn.Softplus(2.0, 1.5), (3, 4)),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"), MODULES, ids=[str(i) for i in range(len(MODULES))]
)
@pytest.mark.parametrize("train", [True, False])
def test_module_matches_torch(rand, ours, theirs, shape, train):
    torch.manual_seed(0)
    ref = theirs().double()
    torch.manual_seed(0)
    mod = ours().double()
    assert list(mod.state_dict()) == list(ref.state_dict())
    for a, b in zip(mod.state_dict().values(), ref.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # same names, shapes and default initialization
    mod.train(train)
    ref.train(train)
    for step in range(2):  # twice, so that running statistics are used and updated
        x = rand(*shape, seed=step)
        torch.testing.assert_close(mod(x), ref(x), rtol=1e-10, atol=1e-10)
    for a, b in zip(mod.state_dict().values(), ref.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", ["BatchNorm2d", "InstanceNorm2d"])
@pytest.mark.parametrize("built_with", [True, False])
def test_norm_track_running_stats_switched_after_init_as_torch(rand, cls, built_with):
    """torch decides by the buffers, not the flag: a BatchNorm built with running statistics
    and then switched off (a fine-tuning idiom) normalizes by batch statistics in training
    without updating them, and by the running statistics in eval mode. It updated them and
    used batch statistics in eval mode; switched on without buffers it raised AttributeError."""
    mods = [getattr(lib, cls)(3, track_running_stats=built_with).double() for lib in (nn, torch.nn)]
    for m in mods:
        m.track_running_stats = not built_with
    for step, train in enumerate([True, True, False, True, False]):
        x = 2.0 * rand(4, 3, 5, 2, seed=step) + 1.0
        got = []
        for m in mods:
            m.train(train)
            try:
                got.append((m(x), m.state_dict()))
            except (RuntimeError, ValueError) as e:  # eval with no statistics at all
                got.append(type(e))
        (mine, ref) = got
        if isinstance(ref, type):
            assert isinstance(mine, type)  # both refuse
            continue
        torch.testing.assert_close(mine[0], ref[0], rtol=1e-10, atol=1e-10)
        assert list(mine[1]) == list(ref[1])
        for a, b in zip(mine[1].values(), ref[1].values(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def _cnn(lib):
    return torch.nn.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, groups=2), lib.GroupNorm(3, 6), lib.PReLU(6),
        lib.AvgPool2d(2, ceil_mode=True), torch.nn.Flatten(), lib.Linear(6, 10), lib.Dropout(0.0),
    )  # fmt: skip


def test_small_cnn_trains_step_for_step_like_torch():
    # every op sits mid-network here; three SGD steps compare all parameters afterwards
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    x = torch.tensor(X[:32] / 16.0).reshape(-1, 1, 8, 8)
    t = torch.tensor(y[:32])
    torch.manual_seed(0)
    ref = _cnn(torch.nn).double()
    ours = _cnn(nn).double()
    ours.load_state_dict(ref.state_dict())
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (ours, ref)]
    losses = [
        nn.CrossEntropyLoss(label_smoothing=0.1),
        torch.nn.CrossEntropyLoss(label_smoothing=0.1),
    ]
    for _ in range(3):
        for model, opt, loss_fn in zip((ours, ref), opts, losses, strict=True):
            opt.zero_grad()
            loss_fn(model(x), t).backward()
            opt.step()
    for a, b in zip(ours.state_dict().values(), ref.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


LOSSES = [
    (lambda: nn.MSELoss(), lambda: torch.nn.MSELoss()),
    (lambda: nn.L1Loss(reduction="sum"), lambda: torch.nn.L1Loss(reduction="sum")),
    (lambda: nn.SmoothL1Loss(beta=0.5), lambda: torch.nn.SmoothL1Loss(beta=0.5)),
    (lambda: nn.HuberLoss(delta=0.5), lambda: torch.nn.HuberLoss(delta=0.5)),
    (
        lambda: nn.BCEWithLogitsLoss(pos_weight=torch.full((4,), 2.0)),
        lambda: torch.nn.BCEWithLogitsLoss(pos_weight=torch.full((4,), 2.0)),
    ),
]


@pytest.mark.parametrize(("ours", "theirs"), LOSSES, ids=["mse", "l1", "smoothl1", "huber", "bce"])
def test_loss_modules_match_torch(rand, ours, theirs):
    x, t = rand(3, 4), rand(3, 4, seed=1, low=0, high=1)
    torch.testing.assert_close(
        ours().double()(x, t), theirs().double()(x, t), rtol=1e-10, atol=1e-10
    )


def test_kl_and_cross_entropy_modules_match_torch(rand):
    x = torch.log_softmax(rand(3, 4), 1)
    p = torch.softmax(rand(3, 4, seed=1), 1)
    torch.testing.assert_close(
        nn.KLDivLoss("batchmean")(x, p), torch.nn.KLDivLoss(reduction="batchmean")(x, p)
    )
    w, t = rand(4, low=0.5, high=1.0), torch.tensor([0, 3, 1])
    torch.testing.assert_close(nn.CrossEntropyLoss(w)(x, t), torch.nn.CrossEntropyLoss(w)(x, t))


def test_bad_module_arguments():
    with pytest.raises(
        ValueError, match="in_channels=4 and out_channels=6 must both be divisible by groups=4"
    ):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"BatchNorm2d expects 4-D input, got shape \(3, 4\)"):
        nn.BatchNorm2d(4)(torch.zeros(3, 4))
    with pytest.raises(TypeError, match=r"LeakyReLU got unexpected arguments \['slope'\]"):
        nn.LeakyReLU(slope=0.1)
    with pytest.raises(
        ValueError, match="reduction must be one of 'none', 'mean', 'sum'; got 'batchmean'"
    ):
        nn.MSELoss("batchmean")


@pytest.mark.parametrize("unbatched", [False, True])
def test_conv_transpose_output_size_picks_the_output_padding_as_torch(rand, unbatched):
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose2d(4, 2, 3, stride=(2, 3), padding=1, dilation=(1, 2)).double()
    ours = nn.ConvTranspose2d(4, 2, 3, stride=(2, 3), padding=1, dilation=(1, 2)).double()
    ours.load_state_dict(ref.state_dict())
    x = rand(4, 5, 3) if unbatched else rand(2, 4, 5, 3)
    lead = tuple(x.shape[:-2])[:1] if unbatched else (2, 2)
    for size in [(9, 9), (10, 9), (9, 11), (10, 10)]:  # every size torch accepts for this input
        for given in (size, [*lead, *size], torch.Size(size)):
            torch.testing.assert_close(ours(x, output_size=given), ref(x, output_size=given))
    for size in [(8, 9), (11, 9), (9, 12)]:
        with pytest.raises(ValueError, match="valid sizes range"):  # torch refuses these too
            ref(x, output_size=size)
        with pytest.raises(
            ValueError, match=r"output_size=\(\d+, \d+\) cannot be reached: valid sizes range "
            r"from \(9, 9\) to \(10, 11\)"
        ):  # fmt: skip
            ours(x, output_size=size)
    with pytest.raises(ValueError, match="output_size must hold 2 ints"):
        ours(x, output_size=(9,))


def test_batch_norm_module_names_the_channel_count():
    with pytest.raises(
        ValueError, match=r"num_features=4 but the input has 3 channels \(dim 1 of shape"
    ):
        nn.BatchNorm2d(4).eval()(torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"num_features=4 but the input has 3 channels \(dim 0"):
        nn.InstanceNorm2d(4, affine=True)(torch.randn(3, 4, 4))
    # no per-channel tensor to fit: torch runs these, so do we
    assert nn.BatchNorm2d(4, affine=False, track_running_stats=False)(torch.randn(2, 3, 4, 4)).shape
    assert nn.InstanceNorm2d(4)(torch.randn(2, 3, 4, 4)).shape == (2, 3, 4, 4)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("Linear", (3, 4)),
        ("Conv1d", (3, 4, 3)),
        ("Conv2d", (3, 4, 3)),
        ("ConvTranspose1d", (3, 6, 3, 2, 1, 1, 3)),
        ("ConvTranspose2d", (3, 4, 3)),
        ("BatchNorm2d", (3,)),
        ("InstanceNorm2d", (3, 1e-5, 0.1, True, True)),
        ("GroupNorm", (2, 4)),
        ("LayerNorm", (5,)),
        ("PReLU", (3,)),
        ("MultiheadAttention", (8, 2)),
        ("LSTM", (3, 4, 2)),
        ("RNN", (3, 4)),
    ],
)
@pytest.mark.parametrize(
    "factory", [{"dtype": torch.float64}, {"device": "meta"}, {"dtype": torch.float16}]
)
def test_modules_take_torchs_device_and_dtype_options(name, args, factory):
    # torch.nn layers take device= and dtype=; here they were TypeErrors
    ref = getattr(torch.nn, name)(*args, **factory)
    ours = getattr(nn, name)(*args, **factory)
    spec = lambda m: {k: (v.dtype, v.device, v.shape) for k, v in m.state_dict().items()}  # noqa: E731
    assert spec(ours) == spec(ref)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("Linear", (5, 7), {}),
        ("Conv1d", (3, 4, 3), {"groups": 1}),
        ("Conv2d", (3, 4, 3), {}),
        ("ConvTranspose1d", (3, 6, 3), {"groups": 3}),
        ("ConvTranspose2d", (3, 4, (2, 3)), {"groups": 1}),
        ("BatchNorm2d", (3,), {}),
        ("PReLU", (3, 0.1), {}),
        ("MultiheadAttention", (8, 2), {}),
        ("MultiheadAttention", (8, 2), {"kdim": 3, "vdim": 5}),
        ("LSTM", (3, 4, 2), {"bidirectional": True}),
        ("GRU", (3, 4), {}),
        ("RNN", (3, 4, 1), {"nonlinearity": "relu"}),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_initial_values_equal_torchs_for_a_dtype(name, args, kwargs, dtype):
    """torch draws the initial values in the dtype asked for (a float64 uniform draw is not a
    float32 draw cast up): with the same seed our module's state_dict must equal torch's,
    exactly. Ours drew in float32 and cast, so float64 (and float16, bfloat16) differed."""
    torch.manual_seed(123)
    ref = getattr(torch.nn, name)(*args, **kwargs, dtype=dtype).state_dict()
    torch.manual_seed(123)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype).state_dict()
    assert list(ours) == list(ref)
    for key, value in ref.items():
        assert ours[key].dtype == value.dtype and torch.equal(ours[key], value), key


def test_meta_device_allocates_nothing():
    """Parameters are made on the device asked for: 10^6 x 10^6 float64 weights (8 TB) on the
    meta device, which a CPU draw moved afterwards could not hold."""
    for module in (
        nn.Linear(10**6, 10**6, device="meta", dtype=torch.float64),
        nn.Conv2d(10**5, 10**5, 30, device="meta"),
        nn.LSTM(10**5, 10**5, device="meta"),
        nn.MultiheadAttention(10**6, 2, device="meta"),
    ):
        assert {p.device.type for p in module.parameters()} == {"meta"}
    with pytest.raises(TypeError, match=r"dtype must be a floating-point torch.dtype.*int64"):
        nn.Linear(2, 3, dtype=torch.int64)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "options",
    [
        dict(kernel_size=3, padding=1),
        dict(kernel_size=3, padding=(2, 1), stride=2),
        dict(kernel_size=(2, 3), padding="same", dilation=2),  # uneven: extra at bottom/right
        dict(kernel_size=4, padding="same"),
        dict(kernel_size=3, padding="valid"),
    ],
    ids=["1", "2x1-stride2", "same-dilated", "same-even", "valid"],
)
@pytest.mark.parametrize("unbatched", [False, True])
def test_conv2d_padding_mode_as_torch(rand, mode, options, unbatched):
    """torch's padding_mode (it was a TypeError): the input padded by reflection, edge
    replication or wrapping, then an unpadded convolution; gradients for input and parameters."""
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(4, 6, groups=2, padding_mode=mode, **options).double()
    ours = nn.Conv2d(4, 6, groups=2, padding_mode=mode, **options).double()
    ours.load_state_dict(ref.state_dict())
    x = rand(4, 6, 7) if unbatched else rand(2, 4, 6, 7)
    got = []
    for module in (ours, ref):
        leaf = x.clone().requires_grad_()
        y = module(leaf)
        upstream = torch.linspace(-1.0, 1.0, y.numel(), dtype=y.dtype).reshape(y.shape)
        got.append((y, *torch.autograd.grad(y, [leaf, *module.parameters()], upstream)))
    for a, b in zip(*got, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_padding_mode_limits_and_transposed_convolution():
    with pytest.raises(ValueError, match=r"padding_mode must be one of 'zeros', 'reflect'"):
        nn.Conv2d(2, 3, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="ConvTranspose2d supports only padding_mode='zeros'"):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"the top padding 3 must be less than the input's size 3"):
        nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(torch.randn(1, 1, 3, 8))
    with pytest.raises(ValueError, match=r"the left padding 4 must be at most the input's size 3"):
        nn.Conv2d(1, 1, 3, padding=(0, 4), padding_mode="circular")(torch.randn(1, 1, 3, 3))
