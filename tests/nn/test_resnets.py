"""Ruthotto-Haber residual networks: forward maps, stability, reversibility, exact derivatives."""

from __future__ import annotations

import numpy as np
import pytest

from landscapes import datasets
from landscapes.nn import (
    HamiltonianResNet,
    ParabolicResNet,
    SecondOrderResNet,
    hamiltonian_forward,
    hamiltonian_inverse,
    leapfrog_forward,
    parabolic_forward,
)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def _matrix_with_norm(rng, w, norm):
    K = rng.standard_normal((w, w))
    return K * (norm / np.linalg.norm(K, 2))


def test_hamiltonian_forward_is_reversible_over_1000_layers():
    rng = np.random.default_rng(0)
    w, depth, h = 8, 1000, 0.1
    K1 = _matrix_with_norm(rng, w, np.sqrt(2.8))
    K2 = _matrix_with_norm(rng, w, np.sqrt(2.8))
    K1s, K2s = np.broadcast_to(K1, (depth, w, w)), np.broadcast_to(K2, (depth, w, w))
    b1s = np.broadcast_to(0.1 * rng.standard_normal(w), (depth, w))
    b2s = np.broadcast_to(0.1 * rng.standard_normal(w), (depth, w))
    Y0, Z0 = rng.standard_normal((5, w)), rng.standard_normal((5, w))
    Y, Z = hamiltonian_forward(Y0, Z0, K1s, b1s, K2s, b2s, h)
    assert np.linalg.norm(Y - Y0) > 1e-2  # the map did something
    Yb, Zb = hamiltonian_inverse(Y, Z, K1s, b1s, K2s, b2s, h)
    assert max(np.abs(Yb - Y0).max(), np.abs(Zb - Z0).max()) < 1e-10


@pytest.mark.parametrize("activation", ["tanh", "softplus", "relu"])
def test_parabolic_layer_is_non_expansive_at_the_bound(activation):
    rng = np.random.default_rng(1)
    w, depth = 6, 50
    Ks = np.stack([rng.standard_normal((w, w)) for _ in range(depth)])
    # max s' = 1 for tanh, softplus and relu: h |K_j|^2 = 2 exactly, the edge of the bound
    hs = 2.0 / np.array([np.linalg.norm(K, 2) ** 2 for K in Ks])
    Ks = Ks * np.sqrt(hs / hs[0])[:, None, None]  # every |K_j| equal: one step h for all
    h = hs[0]
    bs = rng.standard_normal((depth, w))
    Y, Yt = rng.standard_normal((200, w)), rng.standard_normal((200, w))
    for j in range(depth):
        Y1 = parabolic_forward(Y, Ks[j : j + 1], bs[j : j + 1], h, activation)
        Yt1 = parabolic_forward(Yt, Ks[j : j + 1], bs[j : j + 1], h, activation)
        gains = np.linalg.norm(Y1 - Yt1, axis=1) / np.linalg.norm(Y - Yt, axis=1)
        assert gains.max() <= 1 + 1e-12
        Y, Yt = Y1, Yt1
    # beyond the bound the linear layer I - h K K^T expands along the top singular direction
    K = Ks[0]
    u = np.linalg.svd(K)[0][:, 0]
    step = parabolic_forward(u[None], (1.5 * K)[None], np.zeros((1, w)), h, "linear")
    assert np.linalg.norm(step) > 1.2


def test_leapfrog_linear_stability_edge_at_h_norm_2():
    rng = np.random.default_rng(2)
    w, depth = 6, 2000
    K = _matrix_with_norm(rng, w, 1.0)
    Y0 = rng.standard_normal((3, w))
    zeros = np.zeros((depth, w))
    norms = {}
    for hk in (1.9, 2.1):
        with np.errstate(over="ignore", invalid="ignore"):  # 2.1 overflows to inf, then nan
            path = leapfrog_forward(
                Y0, np.broadcast_to(K, (depth, w, w)), zeros, hk, "linear", return_path=True
            )
            norms[hk] = np.nanmax([np.linalg.norm(Yj) for Yj in path]) / np.linalg.norm(Y0)
    assert norms[1.9] < 5
    assert norms[2.1] > 1e6


def test_hamiltonian_energy_drift_is_first_order_in_h():
    """Drift of H = sum Phi(Y K1) + sum Phi(Z K2) (Phi = log cosh) over a fixed time is O(h).

    The continuous flow conserves H exactly. The staggered update (symplectic Euler) conserves
    a modified energy within O(h) of H, so halving h halves the maximal drift (the reference
    check: ratio 1.9 +- 0.3), and the drift stays bounded (no secular growth).
    """
    rng = np.random.default_rng(3)
    w = 8
    K1, K2 = _matrix_with_norm(rng, w, 1.2), _matrix_with_norm(rng, w, 1.2)
    Y0, Z0 = rng.standard_normal((1, w)), rng.standard_normal((1, w))
    b = np.zeros(w)

    def ham(Y, Z):
        return np.sum(np.log(np.cosh(Y @ K1))) + np.sum(np.log(np.cosh(Z @ K2)))

    drifts = []
    for h in (0.1, 0.05):
        steps = int(round(10 / h))
        Y, Z, d = Y0, Z0, 0.0
        for _ in range(steps):
            Y, Z = hamiltonian_forward(Y, Z, [K1], [b], [K2], [b], h)
            d = max(d, abs(ham(Y, Z) - ham(Y0, Z0)))
        drifts.append(d)
    ratio = drifts[0] / drifts[1]
    assert 1.6 < ratio < 2.2
    assert drifts[0] < 0.1 * ham(Y0, Z0)


def test_energies_use_the_forward_maps():
    data = datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=12, seed=4)
    rng = np.random.default_rng(5)
    E = ParabolicResNet(data, width=5, depth=4, h=0.3)
    x = E.random_point(rng) + 0.1 * rng.standard_normal(E.dim)
    p = E.unflatten(x)
    Y0 = data.X @ p["W_in"] + p["b_in"]
    assert _rel(E.features(x), parabolic_forward(Y0, p["K"], p["b"], 0.3)) < 1e-14
    E = HamiltonianResNet(data, width=5, depth=4, h=0.3)
    x = E.random_point(rng) + 0.1 * rng.standard_normal(E.dim)
    p = E.unflatten(x)
    Y0 = data.X @ p["W_in"] + p["b_in"]
    Y, Z = hamiltonian_forward(Y0, 0 * Y0, p["K1"], p["b1"], p["K2"], p["b2"], 0.3)
    assert _rel(E.features(x), np.hstack([Y, Z])) < 1e-14
    E = SecondOrderResNet(data, width=5, depth=4, h=0.3, activation="gelu")
    x = E.random_point(rng) + 0.1 * rng.standard_normal(E.dim)
    p = E.unflatten(x)
    Y0 = data.X @ p["W_in"] + p["b_in"]
    assert _rel(E.features(x), leapfrog_forward(Y0, p["K"], p["b"], 0.3, "gelu")) < 1e-14
    assert np.array_equal(E.flatten(p), x)
    out = E.outputs(x)
    assert np.isclose(E.accuracy(x), np.mean(out.argmax(1) == data.y))


@pytest.mark.parametrize("cls", [ParabolicResNet, HamiltonianResNet, SecondOrderResNet])
def test_deep_net_hessian_is_exact(cls):
    """A deeper net (depth 12) than the contract cases: dense Hessian vs gradient differences."""
    data = datasets.gaussian_mixture(2, dim=3, separation=3.0, n_samples=10, seed=6)
    E = cls(data, width=2, depth=12, h=0.3, activation="tanh")
    rng = np.random.default_rng(7)
    x = E.random_point(rng) + 0.3 * rng.standard_normal(E.dim)
    H = E.hessian(x)
    eps = 1e-5
    eye = np.eye(E.dim)
    fd = (E.gradient(x[None] + eps * eye) - E.gradient(x[None] - eps * eye)) / (2 * eps)
    assert _rel(H, fd) < 1e-6


def test_bad_input():
    data = datasets.gaussian_mixture(2, dim=3, seed=0)
    with pytest.raises(ValueError, match="activation"):
        ParabolicResNet(data, activation="swish")
    with pytest.raises(ValueError, match="h must"):
        HamiltonianResNet(data, h=0)
    with pytest.raises(ValueError, match="depth"):
        SecondOrderResNet(data, depth=0)
    E = ParabolicResNet(data, width=2, depth=2)
    with pytest.raises(ValueError, match=f"P = {E.dim}"):
        E.energy(np.zeros(E.dim + 1))
    with pytest.raises(ValueError, match="loss"):
        ParabolicResNet(data, loss="hinge")
