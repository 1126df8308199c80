"""Adversarial losses, penalties and VAE likelihood terms: golden values and properties."""

import math

import pytest
import torch

from imagesmith.losses.adversarial import d_loss, g_loss, gradient_penalty, r1_penalty
from imagesmith.losses.kl import (
    discretized_logistic_log_prob,
    elbo_terms,
    gaussian_kl,
    importance_sampled_nll,
)
from imagesmith.models.vaes import ConvVAE


def test_bce_golden_values():
    zero = torch.zeros(4)
    assert float(d_loss("ns", zero, zero)) == pytest.approx(2 * math.log(2))
    assert float(g_loss("ns", zero)) == pytest.approx(math.log(2))
    # minimax G loss is log(1 - D(G(z))): log(0.5) at D = 0.5
    assert float(g_loss("minimax", zero)) == pytest.approx(math.log(0.5))
    # a confident, correct D has a loss near 0
    assert float(d_loss("ns", torch.full((4,), 20.0), torch.full((4,), -20.0))) < 1e-6


def test_hinge_and_wgan():
    real, fake = torch.tensor([1.5, 0.5]), torch.tensor([-2.0, 0.0])
    # relu(1 - real) = [0, .5]; relu(1 + fake) = [0, 1]
    assert float(d_loss("hinge", real, fake)) == pytest.approx(0.25 + 0.5)
    assert float(d_loss("wgan", real, fake)) == pytest.approx(-1.0 - 1.0)
    assert float(g_loss("hinge", fake)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="hinge"):
        d_loss("lsgan", real, fake)


class _Linear(torch.nn.Module):
    def __init__(self, norm: float) -> None:
        super().__init__()
        w = torch.randn(1, 2, 3, 3)
        self.w = torch.nn.Parameter(w / w.norm() * norm)

    def forward(self, x, y=None):
        return (x * self.w).flatten(1).sum(1)


@pytest.mark.parametrize("norm", [1.0, 2.0])
def test_penalties_on_a_linear_critic(norm):
    """grad_x D = w everywhere: GP = (||w|| - 1)^2 and R1 = ||w||^2."""
    d = _Linear(norm)
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    gp = float(gradient_penalty(d, real, fake).detach())
    assert gp == pytest.approx((norm - 1) ** 2, abs=1e-5)
    x = real.clone().requires_grad_(True)
    assert float(r1_penalty(d(x), x).detach()) == pytest.approx(norm**2, rel=1e-5)
    gradient_penalty(d, real, fake).backward()  # differentiable w.r.t. D's weights
    assert d.w.grad is not None


def test_gaussian_kl_matches_torch_distributions():
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(5), torch.ones(5))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar), expected, atol=1e-5)
    assert float(gaussian_kl(torch.zeros(1, 4), torch.zeros(1, 4))) == 0


@pytest.mark.parametrize("mean, log_scale", [(0.0, -3.0), (0.9, -5.0), (-1.2, 0.5), (0.3, -9)])
def test_discretized_logistic_is_a_distribution_over_256_levels(mean, log_scale):
    levels = torch.arange(256, dtype=torch.float64) / 127.5 - 1.0
    x = levels.view(256, 1, 1, 1)
    lp = discretized_logistic_log_prob(
        x, torch.full_like(x, mean), torch.full_like(x, float(log_scale))
    )
    assert float(lp.exp().sum()) == pytest.approx(1.0, abs=1e-3)


def test_importance_sampling_tightens_the_elbo():
    torch.manual_seed(0)
    vae = ConvVAE(resolution=28, channels=1, latent=4, width=4).eval()
    x = (torch.randint(0, 256, (6, 1, 28, 28)).float() / 127.5) - 1.0
    with torch.no_grad():
        neg_elbo = torch.stack([sum(elbo_terms(vae, x)) for _ in range(50)]).mean(0)
    nll = importance_sampled_nll(vae, x, samples=64, chunk=16)
    assert nll.shape == (6,) and torch.isfinite(nll).all()
    assert (nll <= neg_elbo + 0.1).all()  # a bound at least as tight (up to Monte Carlo noise)
