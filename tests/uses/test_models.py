"""The bundle's networks, its config, and the strict loader that never unpickles."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from shared.hub import ModelSourceError
from shared.uses.models import VAE, AutoencoderUses, DenseAutoencoder, UsesConfig, load_uses
from tests.uses.test_train import tiny_folder


def test_config_needs_the_map_and_the_feature_code():
    with pytest.raises(ValueError, match="must include 2"):
        UsesConfig(code_sizes=[4, 8])
    with pytest.raises(ValueError, match="feature_code 16 is not in"):
        UsesConfig(code_sizes=[2, 8], feature_code=16)
    with pytest.raises(ValueError, match="max_noise"):
        UsesConfig(max_noise=0)


def test_shapes_ranges_and_the_elbo_bound():
    torch.manual_seed(0)
    x = torch.rand(5, 64)
    ae = DenseAutoencoder(3, [16])
    assert ae.encode(x).shape == (5, 3)
    out = ae(x)
    assert out.shape == (5, 64) and out.min() >= 0 and out.max() <= 1
    vae = VAE(2, [16])
    mean, log_var = vae.posterior(x)
    assert mean.shape == log_var.shape == (5, 2)
    elbo = vae.elbo(x, torch.Generator().manual_seed(0))
    # a Bernoulli log-likelihood is <= 0 and a KL divergence >= 0, so the bound is negative
    assert elbo.shape == (5,) and (elbo < 0).all()
    bundle = AutoencoderUses(UsesConfig(code_sizes=[2, 8], hidden=[16]))
    assert sorted(bundle.compressors) == ["2", "8"] and bundle.compressor(8).encode(x).shape[1] == 8
    assert "codes of 2, 8" in bundle.describe()


def test_a_folder_reloads_bit_for_bit_and_holds_no_pickle():
    folder = tiny_folder()
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "metrics.json",
        "model.safetensors",
    ]
    one, two = load_uses(folder), load_uses(str(folder))
    assert not one.training
    x = torch.rand(7, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        for a, b in zip(one.modules(), two.modules(), strict=True):
            if isinstance(a, DenseAutoencoder):
                assert torch.equal(a(x), b(x))
        assert torch.equal(
            one.vae.decode(one.vae.posterior(x)[0]), two.vae.decode(two.vae.posterior(x)[0])
        )
    weights = load_file(folder / "model.safetensors")  # safetensors parses it: no pickle inside
    assert set(weights) == set(one.state_dict())


def test_the_loader_refuses_missing_weights_and_pickles(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_folder(), folder)
    weights = load_file(folder / "model.safetensors")
    del weights["vae.decoder.0.weight"]
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelSourceError, match="do not fit its config.json"):
        load_uses(folder)
    torch.save({"x": torch.zeros(1)}, folder / "model.safetensors")  # a pickle, renamed
    with pytest.raises(ModelSourceError, match="not a valid safetensors file"):
        load_uses(folder)
    (folder / "config.json").write_text('{"code_sizes": [4]}')
    with pytest.raises(ModelSourceError, match="not an autoencoder-uses config"):
        load_uses(folder)
