"""CycleGAN: shapes, parameter counts, the losses against torch's own formulas, training, errors."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlcanon.models import (
    CycleGAN,
    CycleGANLoss,
    PatchDiscriminator,
    ResnetGenerator,
    cyclegan,
    patch_discriminator,
    resnet_generator,
)


def _model64(seed: int, **kwargs) -> CycleGAN:
    torch.manual_seed(seed)
    return cyclegan(ngf=4, n_blocks=1, ndf=4, **kwargs).double()


def _images(seed: int, n: int = 6, side: int = 8, channels: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, side, side, generator=gen, dtype=torch.float64) * 2 - 1


@pytest.mark.parametrize(("side", "channels"), [(8, 1), (16, 3), (12, 2)])
def test_generator_keeps_the_image_shape(side, channels):
    g = resnet_generator(in_channels=channels, out_channels=channels, ngf=4, n_blocks=2)
    out = g(torch.rand(3, channels, side, side))
    assert out.shape == (3, channels, side, side)
    assert bool((out.abs() < 1).all())  # tanh output


def test_generator_can_change_channels():
    assert ResnetGenerator(3, 1, ngf=4)(torch.rand(2, 3, 8, 8)).shape == (2, 1, 8, 8)


@pytest.mark.parametrize(("side", "n_layers", "out_side"), [(8, 2, 2), (16, 2, 4), (16, 3, 2)])
def test_patch_discriminator_score_map(side, n_layers, out_side):
    d = patch_discriminator(in_channels=2, ndf=4, n_layers=n_layers)
    assert d(torch.rand(5, 2, side, side)).shape == (5, 1, out_side, out_side)


def test_parameter_counts_by_hand():
    # conv weights c_in * k * k * c_out + biases; instance norms carry no parameters
    g = (1 * 9 * 4 + 4) + (4 * 9 * 8 + 8) + 2 * (8 * 9 * 8 + 8) + (8 * 9 * 4 + 4) + (4 * 9 + 1)
    d = (1 * 16 * 4 + 4) + (4 * 16 * 8 + 8) + (8 * 9 + 1)
    assert sum(p.numel() for p in ResnetGenerator(ngf=4, n_blocks=1).parameters()) == g
    assert sum(p.numel() for p in PatchDiscriminator(ndf=4).parameters()) == d
    model = CycleGAN(ngf=4, n_blocks=1, ndf=4)
    assert sum(p.numel() for p in model.generator_parameters()) == 2 * g
    assert sum(p.numel() for p in model.discriminator_parameters()) == 2 * d


def test_least_squares_and_l1_by_hand():
    pred = torch.tensor([[0.2, 1.5], [-0.3, 1.0]], dtype=torch.float64)
    # real: (0.8^2 + 0.5^2 + 1.3^2 + 0) / 4; fake: (0.04 + 2.25 + 0.09 + 1) / 4
    assert CycleGANLoss.adversarial(pred, True).item() == pytest.approx(0.645, abs=1e-15)
    assert CycleGANLoss.adversarial(pred, False).item() == pytest.approx(0.845, abs=1e-15)
    other = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    assert CycleGANLoss.l1(pred, other).item() == pytest.approx(2.0 / 4, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_terms_match_torch_formulas(seed):
    model, crit = _model64(seed), CycleGANLoss(lambda_cyc=7.0, lambda_id=1.5)
    a, b = _images(seed), _images(seed + 100)
    terms = crit.generator(model, a, b)
    g, f, d_a, d_b = model.g_ab, model.g_ba, model.d_a, model.d_b
    ones, zeros = torch.ones_like, torch.zeros_like
    ref = {
        "gan_ab": F.mse_loss(d_b(g(a)), ones(d_b(g(a)))),
        "gan_ba": F.mse_loss(d_a(f(b)), ones(d_a(f(b)))),
        "cycle": F.l1_loss(f(g(a)), a) + F.l1_loss(g(f(b)), b),
        "identity": F.l1_loss(g(b), b) + F.l1_loss(f(a), a),
    }
    ref["total"] = ref["gan_ab"] + ref["gan_ba"] + 7.0 * ref["cycle"] + 1.5 * ref["identity"]
    for key, value in ref.items():
        torch.testing.assert_close(terms[key], value, rtol=1e-12, atol=0)
    loss_d = crit.discriminator(d_b, b, terms["fake_b"])
    fake_score = d_b(g(a))
    ref_d = 0.5 * (F.mse_loss(d_b(b), ones(d_b(b))) + F.mse_loss(fake_score, zeros(fake_score)))
    torch.testing.assert_close(loss_d, ref_d, rtol=1e-12, atol=0)


def test_gradients_of_the_losses_match_torch():
    model, crit = _model64(3), CycleGANLoss()
    a, b = _images(3), _images(4)
    ours = torch.autograd.grad(crit.generator(model, a, b)["cycle"], model.generator_parameters())
    g, f = model.g_ab, model.g_ba
    ref = F.l1_loss(f(g(a)), a) + F.l1_loss(g(f(b)), b)
    theirs = torch.autograd.grad(ref, model.generator_parameters())
    for x, y in zip(ours, theirs, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-15)


def test_identity_generators_give_zero_cycle_and_identity_loss():
    model = _model64(0)
    model.g_ab, model.g_ba = nn.Identity(), nn.Identity()
    terms = CycleGANLoss().generator(model, _images(0), _images(1))
    assert terms["cycle"].item() == 0.0 and terms["identity"].item() == 0.0
    assert terms["total"].item() == pytest.approx((terms["gan_ab"] + terms["gan_ba"]).item())


def test_lambda_id_zero_drops_the_identity_term():
    model = _model64(1)
    a, b = _images(2), _images(3)
    terms = CycleGANLoss(lambda_cyc=10.0, lambda_id=0.0).generator(model, a, b)
    assert terms["identity"].item() == 0.0
    expected = terms["gan_ab"] + terms["gan_ba"] + 10.0 * terms["cycle"]
    torch.testing.assert_close(terms["total"], expected, rtol=1e-15, atol=0)


def test_discriminator_loss_does_not_reach_the_generator():
    model = _model64(0)
    fake = model.g_ab(_images(0))
    CycleGANLoss().discriminator(model.d_b, _images(1), fake).backward()
    assert all(p.grad is None for p in model.g_ab.parameters())
    assert all(p.grad is not None for p in model.d_b.parameters())


def test_each_half_of_the_step_moves_only_its_own_networks():
    model, crit = _model64(0), CycleGANLoss()
    g_before = [p.detach().clone() for p in model.generator_parameters()]
    d_before = [p.detach().clone() for p in model.discriminator_parameters()]
    opt_g = torch.optim.SGD(model.generator_parameters(), lr=0.0)  # generators frozen
    opt_d = torch.optim.SGD(model.discriminator_parameters(), lr=0.1)
    model.training_step(_images(0), _images(1), crit, opt_g, opt_d)
    assert all(
        torch.equal(p, q) for p, q in zip(model.generator_parameters(), g_before, strict=True)
    )
    assert any(
        not torch.equal(p, q)
        for p, q in zip(model.discriminator_parameters(), d_before, strict=True)
    )
    assert all(p.requires_grad for p in model.discriminator_parameters())


@pytest.mark.parametrize("seed", [0, 1])
def test_a_few_steps_lower_the_cycle_loss(seed):
    torch.manual_seed(seed)
    model, crit = CycleGAN(ngf=8, n_blocks=1, ndf=8), CycleGANLoss()
    a, b = _images(seed).float(), _images(seed + 50).float()
    opt_g = torch.optim.Adam(model.generator_parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(model.discriminator_parameters(), lr=2e-3, betas=(0.5, 0.999))
    with torch.no_grad():
        first = crit.generator(model, a, b)["cycle"].item()
    for _ in range(30):
        model.training_step(a, b, crit, opt_g, opt_d)
    with torch.no_grad():
        last = crit.generator(model, a, b)["cycle"].item()
    assert last < 0.5 * first


def test_forward_translates_a_to_b():
    model = _model64(0)
    a = _images(0)
    torch.testing.assert_close(model(a), model.g_ab(a), rtol=0, atol=0)


def test_errors():
    with pytest.raises(ValueError, match="ngf must be >= 1, got 0"):
        ResnetGenerator(ngf=0)
    with pytest.raises(ValueError, match="n_blocks must be >= 0"):
        ResnetGenerator(n_blocks=-1)
    with pytest.raises(TypeError, match="ndf must be int, got float"):
        PatchDiscriminator(ndf=2.5)
    with pytest.raises(ValueError, match="n_layers must be >= 1"):
        PatchDiscriminator(n_layers=0)
    with pytest.raises(ValueError, match="lambda_cyc must be >= 0"):
        CycleGANLoss(lambda_cyc=-1.0)
    with pytest.raises(TypeError, match="lambda_id must be"):
        CycleGANLoss(lambda_id="0.5")
    g, d = ResnetGenerator(ngf=4), PatchDiscriminator(ndf=4)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, H, W\), got \(2, 3, 8, 8\)"):
        g(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="height and width must be positive and even"):
        g(torch.rand(2, 1, 7, 8))
    with pytest.raises(ValueError, match=r"divisible by 2\*\*n_layers=4"):
        d(torch.rand(2, 1, 6, 6))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor"):
        d([[0.0]])
    with pytest.raises(TypeError, match="target_is_real must be a bool"):
        CycleGANLoss.adversarial(torch.zeros(2), 1)
    with pytest.raises(ValueError, match="shapes must match"):
        CycleGANLoss.l1(torch.zeros(2, 3), torch.zeros(3, 2))
    model = CycleGAN(ngf=4, n_blocks=1, ndf=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="criterion must be a CycleGANLoss"):
        model.training_step(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), nn.L1Loss(), opt, opt)


def test_patch_size_of_the_default_critic():
    # brute force: the input pixels that reach one score, with the instance norms (which mix
    # in statistics of the whole map) taken out; kernels 4, 4, 3 and strides 2, 2, 1 give
    # 1 + 3 + 3 * 2 + 2 * 4 = 18, the size stated in the docstring
    torch.manual_seed(0)
    d = patch_discriminator()
    plain = nn.Sequential(
        *[nn.Identity() if isinstance(m, nn.InstanceNorm2d) else m for m in d.net]
    )
    x = torch.randn(1, 1, 32, 32, dtype=torch.float64, requires_grad=True)
    plain.double()(x)[0, 0, 4, 4].backward()
    seen = x.grad[0, 0] != 0
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (18, 18)
    assert "18 x 18 pixel patch" in PatchDiscriminator.__doc__


@pytest.mark.parametrize(
    ("model", "shape"),
    [(patch_discriminator(), (1, 32, 32)), (resnet_generator(), (1, 16, 16))],
)
def test_profiled_and_walked_like_any_model(model, shape):
    # the input checks in forward stopped torch.fx from tracing the models
    from mlcanon.vision import output_shapes, profile, receptive_field

    assert profile(model, shape).params == sum(p.numel() for p in model.parameters())
    out = model.eval()(torch.zeros(1, *shape))
    assert list(output_shapes(model, shape).values())[-1] == tuple(out.shape[1:])
    if isinstance(model, PatchDiscriminator):
        field = receptive_field(model, shape).final
        assert field.size == (18, 18) and field.global_context  # instance norm: whole image


def test_identity_term_needs_equal_channels():
    # with 1 and 3 channels, G: A -> B cannot take domain-B images; the error named a tensor
    # "x" the user never passed (the reference implementation asserts input_nc == output_nc)
    model = CycleGAN(channels_a=1, channels_b=3, ngf=4, n_blocks=1, ndf=4)
    a, b = torch.rand(2, 1, 8, 8), torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"as many channels in both domains, got 1 and 3"):
        CycleGANLoss().generator(model, a, b)
    terms = CycleGANLoss(lambda_id=0.0).generator(model, a, b)
    assert terms["fake_b"].shape == b.shape and terms["identity"].item() == 0.0


def test_a_failed_generator_half_leaves_the_critics_as_they_were():
    model = CycleGAN(ngf=4, n_blocks=1, ndf=4)
    model.d_a.net[0].bias.requires_grad_(False)  # a critic parameter the user froze
    before = [p.requires_grad for p in model.discriminator_parameters()]
    opt_g = torch.optim.SGD(model.generator_parameters(), lr=0.1)
    opt_d = torch.optim.SGD(model.discriminator_parameters(), lr=0.1)
    real_a, real_b = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 6, 6)  # 6 x 6: critic refuses
    with pytest.raises(ValueError, match="divisible by 2"):
        model.training_step(real_a, real_b, CycleGANLoss(), opt_g, opt_d)
    # before: every critic parameter stayed frozen after the error, and a successful step
    # unfroze the one the user had frozen
    assert [p.requires_grad for p in model.discriminator_parameters()] == before
    model.training_step(real_a, torch.rand(2, 1, 8, 8), CycleGANLoss(), opt_g, opt_d)
    assert [p.requires_grad for p in model.discriminator_parameters()] == before


@pytest.mark.parametrize(
    ("n_blocks", "smallest", "too_small"),
    [(2, [(4, 4)], [(2, 2), (2, 4), (4, 2), (2, 8)]), (0, [(2, 4), (4, 2)], [(2, 2)])],
)
def test_generator_names_the_smallest_input(n_blocks, smallest, too_small):
    """Below the minimum torch fails deep inside (reflection pad of a 1-row map: 'Padding size
    should be less than the corresponding input dimension'; instance norm of a 1 x 1 map):
    a ValueError naming the input size and the minimum instead. At the minimum torch runs."""
    g = ResnetGenerator(ngf=4, n_blocks=n_blocks)
    for h, w in smallest:
        assert g(torch.rand(1, 1, h, w)).shape == (1, 1, h, w)
    least = "4 x 4" if n_blocks else "2 x 4 or 4 x 2"
    for h, w in too_small:
        with pytest.raises(ValueError, match=rf"x of {h} x {w} pixels is too small.*is {least}$"):
            g(torch.rand(1, 1, h, w))
    with pytest.raises(ValueError, match=r"positive and even, got \(0, 4\)"):
        g(torch.rand(1, 1, 0, 4))


def test_discriminator_names_the_smallest_input():
    d = PatchDiscriminator(ndf=4, n_layers=2)
    assert d(torch.rand(1, 1, 4, 8)).shape == (1, 1, 1, 2)
    with pytest.raises(ValueError, match=r"x of 4 x 4 pixels is too small.*is 4 x 8 or 8 x 4$"):
        d(torch.rand(1, 1, 4, 4))
    assert PatchDiscriminator(ndf=4, n_layers=1)(torch.rand(1, 1, 2, 2)).shape == (1, 1, 1, 1)
