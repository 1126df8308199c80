"""Discriminators for restoration GANs."""

import torch

from imagesmith.models.registry import create_model


def test_unet_discriminator_judges_every_pixel_of_any_size():
    d = create_model("unet-d", resolution=64, channels=3, width=4)
    for h, w in ((32, 48), (64, 64)):
        x = torch.rand(2, 3, h, w) * 2 - 1
        assert d(x).shape == (2, 1, h, w)
    maps = d.feature_maps(torch.rand(1, 3, 32, 32))
    assert len(maps) == 8 and maps[0].shape[-1] == 32 and maps[3].shape[-1] == 4
    # spectral norm on the encoder and decoder convs keeps D Lipschitz-bounded
    assert sum("parametrizations" in n for n, _ in d.named_parameters()) >= 8
