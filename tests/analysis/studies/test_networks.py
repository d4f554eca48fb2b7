"""The network critical-point study (analysis.studies.networks): minima of narrower networks
embedded with dead units are verified critical points whose index grows with the loss."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical import verify
from analysis.studies.networks import network_critical_points
from landscapes import datasets
from landscapes.nn import MLPLoss


def test_network_index_grows_with_loss():
    # minima of narrower networks embedded with dead units (Fukumizu & Amari 2000) are
    # critical points of the 64-4-4 tanh MLP (P = 280): verified, canonical, distinct, and the
    # index grows with the loss (Dauphin et al. 2014)
    data = datasets.digits(n_train=100, classes=4)
    net = MLPLoss(data, hidden=(4,), activation="tanh", loss="mse", weight_decay=1e-2)
    r = network_critical_points(net, n_starts=3, seed=0, gd_steps=200, max_iter=40)
    assert r.n_points >= 6
    v = verify(net, r.points)
    assert np.all(v.kind == "critical")
    np.testing.assert_array_equal(v.indices, r.indices)
    np.testing.assert_allclose(v.energies, r.losses, rtol=1e-12)
    assert np.all(r.grad_norms <= 1e-10) and np.all(r.n_zero_modes == 0)
    np.testing.assert_allclose(net.canonical_form(r.points), r.points)
    D = np.linalg.norm(r.points[:, None] - r.points[None], axis=-1)
    assert np.all(D[np.triu_indices(r.n_points, 1)] > 1e-6 * np.sqrt(net.dim))
    # every minimum of the full-width network has index 0; dead units add negative modes
    assert np.all(r.indices[r.active_units == 4] == 0)
    assert np.all(r.indices[r.active_units < 4] > 0)
    # index increases with loss: Spearman rho > 0, one-sided significance 1% (fixed seed)
    assert r.spearman > 0 and r.spearman_pvalue / 2 < 0.01


def test_network_critical_points_rejects_bad_input():
    data = datasets.digits(n_train=40, classes=2)
    relu = MLPLoss(data, hidden=(2,), activation="softplus", loss="mse", weight_decay=1e-2)
    with pytest.raises(ValueError, match="act\\(0\\) = 0"):
        network_critical_points(relu)
    deep = MLPLoss(data, hidden=(2, 2), activation="tanh", loss="mse")
    with pytest.raises(ValueError, match="one hidden layer"):
        network_critical_points(deep)
    net = MLPLoss(data, hidden=(2,), activation="tanh", loss="mse", weight_decay=1e-2)
    with pytest.raises(ValueError, match="widths"):
        network_critical_points(net, widths=[3])
