"""Exact enumeration of p-spin critical points by homotopy continuation."""

from __future__ import annotations

import numpy as np
import pytest

from pspin import MixedPSpin, SphericalPSpin
from pspin.homotopy import pspin_critical_points, track_eigenvector_paths


def _check_result(model, r):
    N = model.N
    assert r.complete
    assert r.n_distinct == r.n_expected
    # every point is on the sphere, critical, non-degenerate, and its index agrees with a
    # dense eigendecomposition of Energy.rhessian (an independent code path)
    assert np.allclose(np.linalg.norm(r.points, axis=1), np.sqrt(N))
    assert np.all(r.grad_norms < 1e-10 * N)
    assert np.all(np.linalg.norm(model.rgrad(r.points), axis=1) < 1e-10 * N)
    assert np.all(r.min_abs_eigs > 1e-6)
    ev = np.linalg.eigvalsh(np.stack([model.rhessian(x) for x in r.points]))
    np.testing.assert_array_equal(np.sum(ev < 0, axis=1), r.indices)
    np.testing.assert_allclose(model.energy(r.points) / N, r.energies, atol=1e-12)
    # distinct points
    D = np.linalg.norm(r.points[:, None] - r.points[None], axis=-1)
    assert np.min(D + np.eye(len(D)) * 10) > 1e-6
    c = r.counts_by_index
    # Morse relation (Euler characteristic of S^{N-1}) and the Cartwright-Sturmfels bound
    assert sum((-1) ** k * int(n) for k, n in enumerate(c)) == (0 if N % 2 == 0 else 2)
    p = model.p
    assert len(r.points) <= 2 * ((p - 1) ** N - 1) // (p - 2)
    return c


@pytest.mark.parametrize("N", [4, 6, 8])
def test_pspin3_all_critical_points(N):
    model = SphericalPSpin(N, 3, seed=10 + N)
    r = pspin_critical_points(model, seed=0)
    c = _check_result(model, r)
    assert r.n_paths == 2**N
    # odd p: s -> -s maps index k to N-1-k (tangent dimension N-1) and energy u to -u
    np.testing.assert_array_equal(c, c[::-1])
    np.testing.assert_allclose(np.sort(r.energies), np.sort(-r.energies), atol=1e-12)
    # the ground state is the lowest minimum
    assert r.indices[0] == 0


def test_pspin4_both_signs():
    model = SphericalPSpin(5, 4, seed=3)
    r = pspin_critical_points(model, seed=1)
    _check_result(model, r)
    assert r.n_expected == 2 * 3**5
    # even p: -s is critical with the same energy and index
    for x, e, k in zip(r.points, r.energies, r.indices, strict=True):
        j = np.argmin(np.linalg.norm(r.points + x, axis=1))
        assert np.linalg.norm(r.points[j] + x) < 1e-8
        assert abs(r.energies[j] - e) < 1e-12 and r.indices[j] == k


def test_p2_eigenvectors_by_other_means():
    # the tracker solves S(x^{p-1}) = x for any p; at p = 2 these are eigenvectors of S
    # with eigenvalue 1, none for a generic matrix: the total degree is 1 and x = 0 is it
    S = np.diag([2.0, 3.0])
    X, info = track_eigenvector_paths(S, 2, 2, seed=0)
    assert info["n_distinct"] == 1 and np.allclose(X, 0)


def test_gamma_independent():
    model = SphericalPSpin(6, 3, seed=5)
    a = pspin_critical_points(model, seed=1)
    b = pspin_critical_points(model, seed=2)
    assert a.gammas != b.gammas
    np.testing.assert_allclose(a.points, b.points, atol=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="pure SphericalPSpin"):
        pspin_critical_points(MixedPSpin(5, {3: 1.0, 4: 1.0}, seed=0))
    with pytest.raises(ValueError, match="p >= 3"):
        pspin_critical_points(SphericalPSpin(5, 2, seed=0))


@pytest.mark.slow
def test_pspin3_n10():
    model = SphericalPSpin(10, 3, seed=20)
    _check_result(model, pspin_critical_points(model, seed=0))
