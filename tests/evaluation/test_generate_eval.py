"""Generator evaluation: report with card and real floor; VAE likelihoods; CLI refusals."""

import json

import pytest
import torch

from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.evaluation.generate import evaluate_generator, vae_likelihood
from imagesmith.metrics.extractors import load_extractor
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines.generate import GeneratePipeline


@pytest.fixture
def vae_dir(tmp_path):
    torch.manual_seed(0)
    args = {"resolution": 28, "channels": 1, "latent": 3, "width": 4}
    model = create_model("conv-vae", **args).eval()
    return save_pretrained(
        model,
        tmp_path / "vae",
        ModelSpec(
            "conv-vae",
            "generate",
            args,
            channels_in=1,
            channels_out=1,
            value_range=(-1.0, 1.0),
            kind="vae",
        ),
    )


def test_report_has_card_and_floor(tiny_generator_dir, split_gray_folder, tiny_features_dir):
    gen = GeneratePipeline.from_pretrained(tiny_generator_dir)
    ext = load_extractor(str(tiny_features_dir))
    with pytest.raises(UserError, match="at least 2048"):
        evaluate_generator(gen, str(split_gray_folder), ext, n=40)
    report = evaluate_generator(gen, str(split_gray_folder), ext, n=40, allow_small=True)
    assert report.card.n_real == 50 and report.card.n_fake == 40 and report.card.allow_small
    assert report.card.weights_sha256 and "28x28" in report.card.resize
    assert report.floor is not None
    # real train images are far closer to real test images than an untrained generator
    assert report.floor.fid < report.fid
    assert 0 <= report.precision <= 1 and 0 <= report.recall <= 1
    again = evaluate_generator(gen, str(split_gray_folder), ext, n=40, allow_small=True)
    assert again.fid == report.fid  # same seed, same number


def test_half_split_floor_for_data_without_a_test_split(
    tiny_generator_dir, split_gray_folder, tiny_features_dir
):
    gen = GeneratePipeline.from_pretrained(tiny_generator_dir)
    ext = load_extractor(str(tiny_features_dir))
    report = evaluate_generator(
        gen, str(split_gray_folder), ext, n=20, split=None, floor_split="half", allow_small=True
    )
    assert report.card.n_real == 25 and report.floor.card.n_fake == 20
    assert "other half" in report.floor.card.reference


def test_vae_likelihood_bounds(vae_dir, split_gray_folder):
    gen = GeneratePipeline.from_pretrained(vae_dir)
    lik = vae_likelihood(gen, str(split_gray_folder), images=10, samples=8)
    assert lik.nll_bpd <= lik.elbo_bpd + 0.01 and 0 < lik.nll_bpd < 20


def test_cli_eval_generate(vae_dir, split_gray_folder, tiny_features_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["eval", "generate", "--model", vae_dir, "--data", split_gray_folder, "-n", 30]
    argv += [
        "--extractor",
        tiny_features_dir,
        "--allow-small",
        "--nll-images",
        5,
        "--nll-samples",
        4,
    ]
    code = main([str(a) for a in [*argv, "--json", out]])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "FID" in text and "real floor" in text and "NLL bpd" in text and "card:" in text
    data = json.loads(out.read_text())
    assert data["card"]["n_fake"] == 30 and data["floor"] is not None
    assert data["likelihood"]["samples"] == 4


def test_cli_refuses_small_fid(vae_dir, split_gray_folder, tiny_features_dir, capsys):
    argv = ["eval", "generate", "--model", vae_dir, "--data", split_gray_folder, "-n", 30]
    code = main([str(a) for a in [*argv, "--extractor", tiny_features_dir]])
    err = capsys.readouterr().err
    assert code == 2 and "2048" in err and len(err.strip().splitlines()) == 1
