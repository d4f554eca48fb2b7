"""The Energy contract, checked for every energy in tests/energy_cases.py."""

from __future__ import annotations

import numpy as np
import pytest

from landscapes import FiniteSumEnergy, Sphere
from tests.energy_cases import ENERGY_CASES

NAMES = sorted(ENERGY_CASES)


@pytest.fixture(params=NAMES, scope="module")
def case(request):
    name = request.param
    energy = ENERGY_CASES[name](seed=1234)
    rng = np.random.default_rng(99)
    X = energy.random_point(rng, size=3)
    # move off special initializations (e.g. zero biases) to generic points on the manifold
    X = energy.manifold.retract(X, energy.manifold.proj(X, 0.1 * rng.standard_normal(X.shape)))
    return name, energy, X, rng


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1.0))


def _fd_step(x):
    return 1e-5 * max(1.0, float(np.linalg.norm(x)) / np.sqrt(x.size))


def test_gradient_matches_central_differences(case):
    _, energy, X, rng = case
    x = X[0]
    h = _fd_step(x)
    for _ in range(3):
        v = rng.standard_normal(energy.dim)
        fd = (energy.energy(x + h * v) - energy.energy(x - h * v)) / (2 * h)
        assert _rel(fd, energy.gradient(x) @ v) < 1e-6


def test_hvp_matches_gradient_differences(case):
    _, energy, X, rng = case
    x = X[1]
    h = _fd_step(x)
    v = rng.standard_normal(energy.dim)
    fd = (energy.gradient(x + h * v) - energy.gradient(x - h * v)) / (2 * h)
    assert _rel(energy.hvp(x, v), fd) < 1e-6


def test_hessian_symmetric_and_equal_to_hvp_columns(case):
    _, energy, X, rng = case
    x = X[0]
    H = energy.hessian(x)
    assert H.shape == (energy.dim, energy.dim)
    assert _rel(H, H.T) < 1e-12
    V = rng.standard_normal((4, energy.dim))
    assert _rel(V @ H, energy.hvp(x, V)) < 1e-10
    assert _rel(H[:, 2], energy.hvp(x, np.eye(energy.dim)[2])) < 1e-10


def test_energy_and_gradient_consistent(case):
    _, energy, X, _ = case
    e, g = energy.energy_and_gradient(X)
    assert np.allclose(e, energy.energy(X), rtol=1e-12, atol=1e-12)
    assert np.allclose(g, energy.gradient(X), rtol=1e-12, atol=1e-12)
    e0, g0 = energy.energy_and_gradient(X[0])
    assert isinstance(e0, float) and g0.shape == (energy.dim,)


def test_batch_equals_loop(case):
    _, energy, X, rng = case
    V = rng.standard_normal(X.shape)
    e, g = energy.energy_and_gradient(X)
    hv = energy.hvp(X, V)
    rg = energy.rgrad(X)
    rhv = energy.rhvp(X, V)
    for k in range(X.shape[0]):
        assert np.isclose(e[k], energy.energy(X[k]), rtol=1e-11, atol=1e-11)
        assert _rel(g[k], energy.gradient(X[k])) < 1e-11
        assert _rel(hv[k], energy.hvp(X[k], V[k])) < 1e-11
        assert _rel(rg[k], energy.rgrad(X[k])) < 1e-11
        assert _rel(rhv[k], energy.rhvp(X[k], V[k])) < 1e-11


def test_rgrad_is_tangent(case):
    _, energy, X, _ = case
    rg = energy.rgrad(X)
    P = energy.manifold.proj(X, rg)
    assert _rel(P, rg) < 1e-12
    if isinstance(energy.manifold, Sphere):
        assert np.all(np.abs(np.sum(rg * X, axis=1)) < 1e-9 * (1 + np.abs(rg).max()) * energy.dim)


def test_tangent_basis_orthonormal(case):
    _, energy, X, _ = case
    B = energy.manifold.tangent_basis(X[0])
    d = energy.manifold.intrinsic_dim
    assert B.shape == (energy.dim, d)
    assert np.allclose(B.T @ B, np.eye(d), atol=1e-12)
    assert np.allclose(energy.manifold.proj(X[0], B.T), B.T, atol=1e-12)
    # deterministic
    assert np.array_equal(B, energy.manifold.tangent_basis(X[0].copy()))


def test_rhessian_matches_geodesic_differences(case):
    _, energy, X, rng = case
    x = X[2]
    R = energy.rhessian(x)
    d = energy.manifold.intrinsic_dim
    assert R.shape == (d, d)
    assert _rel(R, R.T) < 1e-12
    B = energy.manifold.tangent_basis(x)
    exp = energy.manifold.exp
    f = energy.energy

    def mixed(v, w, h):
        # second mixed derivative of f(exp_x(s v + t w)) at 0: exp_x is a normal chart, so it
        # equals Hess f(x)[v, w]; central differences have error O(h^2)
        return (
            f(exp(x, h * (v + w)))
            - f(exp(x, h * (v - w)))
            - f(exp(x, h * (w - v)))
            + f(exp(x, -h * (v + w)))
        ) / (4 * h * h)

    for _ in range(3):
        a, b = rng.standard_normal(d), rng.standard_normal(d)
        a /= np.linalg.norm(a)
        b /= np.linalg.norm(b)
        v, w = B @ a, B @ b
        h = 2e-3 * max(1.0, float(np.linalg.norm(x)) / np.sqrt(x.size))
        fd = (4 * mixed(v, w, h / 2) - mixed(v, w, h)) / 3  # Richardson: error O(h^4)
        exact = a @ R @ b
        assert abs(fd - exact) < 1e-6 * (1 + abs(exact)) * (1 + np.abs(R).max())
    # rhvp acts as B R B^T on tangent vectors
    v = B @ rng.standard_normal(d)
    assert _rel(energy.rhvp(x, v), B @ (R @ (B.T @ v))) < 1e-10


def test_seeded_determinism(case):
    name, energy, X, _ = case
    again = ENERGY_CASES[name](seed=1234)
    other = ENERGY_CASES[name](seed=4321)
    assert again.fingerprint == energy.fingerprint
    assert np.array_equal(again.energy(X), energy.energy(X))
    assert other.fingerprint != energy.fingerprint
    assert not np.allclose(other.energy(X), energy.energy(X))
    p1 = energy.random_point(np.random.default_rng(5), size=2)
    p2 = energy.random_point(np.random.default_rng(5), size=2)
    assert np.array_equal(p1, p2)
    assert energy.manifold.distance_to(p1).max() < 1e-9 * max(1.0, np.linalg.norm(p1[0]))


def test_no_argument_is_mutated(case):
    _, energy, X, rng = case
    X0 = X.copy()
    V = rng.standard_normal(X.shape)
    V0 = V.copy()
    energy.energy(X)
    energy.gradient(X)
    energy.energy_and_gradient(X)
    energy.hvp(X, V)
    energy.hvp(X[0], V)
    energy.rgrad(X)
    energy.rhvp(X, V)
    energy.rhessian(X[0])
    energy.hessian(X[1])
    energy.manifold.proj(X, V)
    energy.manifold.retract(X, V)
    energy.manifold.exp(X, V)
    assert np.array_equal(X, X0) and np.array_equal(V, V0)


def test_bad_shapes_and_values_raise(case):
    _, energy, X, _ = case
    with pytest.raises(ValueError, match="shape"):
        energy.energy(np.zeros(energy.dim + 1))
    with pytest.raises(ValueError, match="shape"):
        energy.gradient(np.zeros((2, 2, energy.dim)))
    bad = X.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        energy.energy(bad)
    with pytest.raises(ValueError, match="one vector per point"):
        energy.hvp(X, X[:2])


def test_finite_sum_minibatches(case):
    _, energy, X, rng = case
    if not isinstance(energy, FiniteSumEnergy):
        pytest.skip("not a finite-sum energy")
    n = energy.n_samples
    idx = rng.choice(n, size=max(1, n // 3), replace=False)
    x = X[0]
    allidx = np.arange(n)
    assert np.isclose(energy.energy(x, idx=allidx), energy.energy(x), rtol=1e-12)
    h = _fd_step(x)
    v = rng.standard_normal(energy.dim)
    fd = (energy.energy(x + h * v, idx=idx) - energy.energy(x - h * v, idx=idx)) / (2 * h)
    assert _rel(fd, energy.gradient(x, idx=idx) @ v) < 1e-6
    fdg = (energy.gradient(x + h * v, idx=idx) - energy.gradient(x - h * v, idx=idx)) / (2 * h)
    assert _rel(energy.hvp(x, v, idx=idx), fdg) < 1e-6
    with pytest.raises(ValueError, match="idx"):
        energy.energy(x, idx=np.array([n]))


def test_finite_sum_per_replica_minibatches(case):
    # a 2-D idx (K, b) gives each point its own minibatch: row k equals the 1-D call on idx[k]
    _, energy, X, _ = case
    if not isinstance(energy, FiniteSumEnergy):
        pytest.skip("not a finite-sum energy")
    rng = np.random.default_rng(2024)
    n, K = energy.n_samples, X.shape[0]
    idx = np.stack([rng.permutation(n)[: max(2, n // 4)] for _ in range(K)])
    assert len({tuple(r) for r in idx}) == K  # distinct minibatches, so a mix-up shows
    V = rng.standard_normal(X.shape)
    e, g = energy.energy_and_gradient(X, idx=idx)
    assert np.allclose(energy.energy(X, idx=idx), e, rtol=1e-12, atol=1e-12)
    assert _rel(energy.gradient(X, idx=idx), g) < 1e-12
    hv = energy.hvp(X, V, idx=idx)
    for k in range(K):
        assert abs(e[k] - energy.energy(X[k], idx=idx[k])) < 1e-12 * (1 + abs(e[k]))
        assert _rel(g[k], energy.gradient(X[k], idx=idx[k])) < 1e-12
        assert _rel(hv[k], energy.hvp(X[k], V[k], idx=idx[k])) < 1e-12
    # a single point takes a 2-D idx of one row, the same as that row
    assert energy.energy(X[0], idx=idx[:1]) == pytest.approx(e[0], rel=1e-12, abs=1e-12)
    bad = [
        idx[:2],  # K - 1 rows for K points
        np.where(idx == idx[0, 0], n, idx),  # out of range
        -1 - idx,  # negative
        idx.astype(float),
        idx[:, :, None],  # 3-D
        np.zeros((K, 0), dtype=int),  # empty minibatches
    ]
    for b in bad:
        with pytest.raises(ValueError, match="idx"):
            energy.energy(X, idx=b)
        with pytest.raises(ValueError, match="idx"):
            energy.energy_and_gradient(X, idx=b)
        with pytest.raises(ValueError, match="idx"):
            energy.hvp(X, V, idx=b)
    with pytest.raises(ValueError, match="idx"):
        energy.gradient(X[0], idx=idx)  # K rows for one point
    with pytest.raises(ValueError, match="idx"):
        energy.hvp(X[0], V, idx=idx)  # one point with a block of vectors takes 1-D idx
