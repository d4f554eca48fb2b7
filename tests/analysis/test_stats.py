"""Error bars for correlated series: checked on AR(1) chains with exact autocorrelation times."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats import autocorrelation, batch_means, integrated_autocorr_time


def ar1(phi: float, n: int, k: int, seed: int) -> np.ndarray:
    """AR(1) chains x_t = phi x_{t-1} + e_t started in equilibrium (variance 1)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n, k)) * np.sqrt(1 - phi**2)
    x = np.empty((n, k))
    x[0] = rng.standard_normal(k)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def test_white_noise_tau_is_one():
    x = np.random.default_rng(0).standard_normal((20000, 4))
    tau = integrated_autocorr_time(x)
    assert tau.reliable
    assert abs(tau.tau - 1.0) < 0.1


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_ar1_tau_matches_exact(phi):
    # exact: rho(t) = phi^t, tau_int = (1 + phi) / (1 - phi)
    x = ar1(phi, 40000, 8, seed=1)
    exact = (1 + phi) / (1 - phi)
    rho = autocorrelation(x)
    assert np.allclose(rho[:5], phi ** np.arange(5), atol=0.02)
    tau = integrated_autocorr_time(x)
    assert tau.reliable
    # Sokal's statistical error: var(tau)/tau^2 ~ 2 (2M + 1) / n, pooled over 8 chains;
    # plus the truncation bias 2 phi^(M+1)/(1-phi) which is < 1e-3 relative at M >= 5 tau
    rel = np.sqrt(2 * (2 * tau.window + 1) / (40000 * 8))
    assert abs(tau.tau - exact) / exact < 4 * rel + 0.01


def test_batch_means_error_bar_is_honest():
    # the standard error of the mean of an AR(1) chain of length n is sqrt(tau / n);
    # over 200 independent repetitions the z-scores of the batch-means estimate have unit spread
    phi, n = 0.8, 4000
    tau = (1 + phi) / (1 - phi)
    x = ar1(phi, n, 200, seed=2)
    z = []
    ses = []
    for j in range(200):
        est = batch_means(x[:, j])
        z.append(est.mean / est.stderr)
        ses.append(est.stderr)
    z = np.array(z)
    # the spread of z must be ~1 (naive std/sqrt(n) would give sqrt(tau) = 3)
    assert 0.8 < z.std() < 1.3
    assert abs(np.mean(ses) - np.sqrt(tau / n)) / np.sqrt(tau / n) < 0.15


def test_batch_means_several_chains_and_given_size():
    x = ar1(0.5, 5000, 4, seed=3)
    est = batch_means(x, batch_size=100)
    assert est.n_batches == 200 and est.batch_size == 100
    assert est.mean == pytest.approx(x.mean())
    assert est.reliable


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        integrated_autocorr_time(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        batch_means(np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="fewer than 2 blocks"):
        batch_means(np.arange(10.0), batch_size=6)
    with pytest.raises(ValueError, match="at least 2"):
        batch_means(np.array([1.0]))


def test_constant_series():
    tau = integrated_autocorr_time(np.ones(100))
    assert tau.tau == pytest.approx(1.0)
