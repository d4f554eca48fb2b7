"""The uncoupled 3-spin on a product of three spheres: normalization, kernels, storage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from landscapes.manifolds import ProductManifold, Sphere
from pspin import SphericalPSpin
from pspin.bipartite import Bipartite3Spin


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-300))


def test_energy_is_the_naive_trilinear_form_and_kernels_agree():
    rng = np.random.default_rng(0)
    N = 6
    J = rng.standard_normal((N, N, N))
    J0 = J.copy()
    m = Bipartite3Spin.from_couplings(J)
    assert np.array_equal(J, J0)
    assert m.manifold == ProductManifold([Sphere(N)] * 3) and m.dim == 3 * N
    W = m.random_point(rng, size=4)
    a, b, c = m.split(W)
    assert np.allclose(np.linalg.norm(a, axis=1), math.sqrt(N))
    naive = np.einsum("ijk,ni,nj,nk->n", J, a, b, c) / N
    assert _rel(m.energy(W), naive) < 1e-12
    # gradient blocks and multilinearity: each factor's block dotted with it is H
    g = m.gradient(W)
    for s in (slice(0, N), slice(N, 2 * N), slice(2 * N, 3 * N)):
        assert _rel(np.sum(g[:, s] * W[:, s], axis=1), naive) < 1e-12
    # the batched HVP equals the block HVP and the dense Hessian (zero diagonal blocks)
    V = rng.standard_normal(W.shape)
    hv = m.hvp(W, V)
    H = m.hessian(W[0])
    assert _rel(hv[0], H @ V[0]) < 1e-12
    assert _rel(m.hvp(W[0], V), V @ H) < 1e-12
    for s in (slice(0, N), slice(N, 2 * N), slice(2 * N, 3 * N)):
        assert np.all(H[s, s] == 0)


def test_covariance_over_coupling_draws():
    # E[H(w)^2] = N and E[H(w) H(w')] = N q_a q_b q_c (4 standard errors)
    N, draws = 5, 2000
    rng = np.random.default_rng(3)
    probe = Bipartite3Spin(N, seed=0)
    w, w2 = probe.random_point(rng), probe.random_point(rng)
    q = [float(x @ y) / N for x, y in zip(probe.split(w), probe.split(w2), strict=True)]
    h = np.empty(draws)
    h2 = np.empty(draws)
    for d in range(draws):
        m = Bipartite3Spin(N, seed=np.random.SeedSequence(100 + d))
        h[d], h2[d] = m.energy(np.stack([w, w2]))
    se = (h * h).std() / math.sqrt(draws)
    assert abs(np.mean(h * h) - N) < 4 * se
    se12 = (h * h2).std() / math.sqrt(draws)
    assert abs(np.mean(h * h2) - N * q[0] * q[1] * q[2]) < 4 * se12


def test_couplings_are_drawn_like_the_plain_model():
    # the raw tensor is the one SphericalPSpin(N, 3, seed) draws before symmetrizing
    m = Bipartite3Spin(5, seed=7)
    W = m.random_point(1)
    a, b, c = m.split(W)
    x = a  # on the diagonal a = b = c the symmetrization does not matter
    plain = SphericalPSpin(5, 3, seed=7)
    d = np.concatenate([x, x, x])
    assert m.energy(d) == pytest.approx(plain.energy(x), rel=1e-12)


def test_gradient_descent_reaches_a_critical_point_on_the_product():
    from analysis.dynamics import gradient_descent

    m = Bipartite3Spin(12, seed=2)
    X = m.random_point(3, size=3)
    res = gradient_descent(m, X, step=0.2, max_steps=5000, gtol=1e-8)
    assert res.converged.all()
    assert np.all(res.intensive < 0)
    R = m.rhessian(res.x[0])
    assert R.shape == (3 * 11, 3 * 11)
    assert np.linalg.eigvalsh(R).min() > -1e-6  # GD ends in a minimum


def test_save_load_spec_and_bad_input(tmp_path):
    from landscapes.spec import build, spec_of

    m = Bipartite3Spin(4, seed=np.random.SeedSequence(9), couplings="rademacher")
    path = m.save(tmp_path / "b.npz")
    again = Bipartite3Spin.load(path)
    assert again.fingerprint == m.fingerprint
    assert build(spec_of(m)).fingerprint == m.fingerprint
    assert Bipartite3Spin(4, seed=1).fingerprint != Bipartite3Spin(4, seed=2).fingerprint
    with pytest.raises(ValueError, match="shape"):
        Bipartite3Spin.from_couplings(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bytes"):
        Bipartite3Spin(100000)
    with pytest.raises(ValueError, match="coupling ensemble"):
        Bipartite3Spin(4, couplings="cauchy")
