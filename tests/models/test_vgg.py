"""VGG-16's initialisation against torchvision's rule, written out here (torchvision itself is
not installed): every Conv2d ``kaiming_normal_(weight, mode='fan_out', nonlinearity='relu')``,
i.e. N(0, 2 / (out_channels * kh * kw)), bias 0; every Linear N(0, 0.01^2), bias 0; applied in
``self.modules()`` order after all layers are built with torch's default initialisation."""

import math

import pytest
import torch
from torch import nn

from mlcanon import models


@pytest.fixture(scope="module")
def vgg():
    torch.manual_seed(0)
    return models.vgg16()


def test_vgg16_weights_have_torchvisions_spread(vgg):
    convs = [m for m in vgg.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in vgg.modules() if isinstance(m, nn.Linear)]
    assert len(convs) == 13 and len(linears) == 3
    for m in convs + linears:
        w = m.weight.detach().flatten()[: 1 << 20].double()  # i.i.d. draws: the first 2^20
        if isinstance(m, nn.Conv2d):  # He (2015) with fan_out: Var = 2 / (C_out k_h k_w)
            std = math.sqrt(2.0 / (m.out_channels * m.kernel_size[0] * m.kernel_size[1]))
        else:
            std = 0.01
        n = w.numel()
        # the sample std of n normal draws has relative standard error 1 / sqrt(2n); the mean
        # has standard error std / sqrt(n): 5 standard errors each
        assert abs(w.std().item() / std - 1) < 5 / math.sqrt(2 * n), (m, w.std().item(), std)
        assert abs(w.mean().item()) < 5 * std / math.sqrt(n), m
        # normal, not uniform: excess kurtosis 0 (uniform: -1.2), standard error sqrt(24 / n)
        z = (w - w.mean()) / w.std()
        assert abs((z**4).mean().item() - 3) < 5 * math.sqrt(24 / n), m
        assert torch.equal(m.bias, torch.zeros_like(m.bias)), m


def _torchvision_vgg16(num_classes=1000):
    """torchvision.models.vgg16() as its source builds it: make_layers(cfg 'D'), then the
    classifier, then the initialisation loop."""
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"] + [512, 512, 512, "M"] * 2:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            c = v
    net = nn.Module()
    net.features = nn.Sequential(*layers)
    net.avgpool = nn.AdaptiveAvgPool2d((7, 7))
    net.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(True),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(True),
        nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes),
    )
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)
    return net


def test_vgg16_equals_torchvisions_construction_for_one_seed(vgg):
    torch.manual_seed(0)
    ref = _torchvision_vgg16().state_dict()
    ours = vgg.state_dict()
    assert list(ours) == list(ref)
    for key, value in ref.items():
        assert torch.equal(ours[key], value), key


def test_vgg16_init_weights_false_keeps_torchs_default_init():
    torch.manual_seed(0)
    net = models.vgg16(num_classes=10, init_weights=False)
    conv = net.features[0]  # torch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 27
    assert conv.weight.abs().max() <= 1 / math.sqrt(27) and conv.bias.abs().max() > 0
