"""Lennard-Jones clusters: exact small-cluster energies, symmetries, invariants, random starts."""

from __future__ import annotations

import numpy as np
import pytest

from landscapes.clusters import LennardJones

R_MIN = 2.0 ** (1.0 / 6.0)  # pair distance of the LJ minimum


def _tetrahedron(edge: float) -> np.ndarray:
    P = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    return (P * edge / np.sqrt(8.0)).ravel()


def _pair_loop_energy(E: LennardJones, x: np.ndarray) -> float:
    R = x.reshape(E.n_atoms, E.space_dim)
    tot = 0.0
    for i in range(E.n_atoms):
        for j in range(i + 1, E.n_atoms):
            r = np.linalg.norm(R[i] - R[j]) / E.sigma
            tot += 4 * E.epsilon * (r**-12 - r**-6)
    return tot


def test_exact_small_clusters():
    assert LennardJones(2).energy(np.array([0, 0, 0, R_MIN, 0, 0.0])) == pytest.approx(-1.0)
    E4 = LennardJones(4)
    x = _tetrahedron(R_MIN)
    assert E4.energy(x) == pytest.approx(-6.0, abs=1e-12)
    assert np.linalg.norm(E4.gradient(x)) < 1e-12
    # units: epsilon scales the energy, sigma the lengths
    E4u = LennardJones(4, epsilon=2.5, sigma=1.3)
    assert E4u.energy(_tetrahedron(1.3 * R_MIN)) == pytest.approx(-15.0, abs=1e-12)
    assert E4.scale == 1.0


def test_energy_matches_pair_loop_and_batches():
    E = LennardJones(6, sigma=1.1, epsilon=0.7)
    X = E.random_point(3, size=4)
    ref = [_pair_loop_energy(E, x) for x in X]
    np.testing.assert_allclose(E.energy(X), ref, rtol=1e-12)


def test_hvp_against_gradient_differences_and_dense_hessian():
    E = LennardJones(5)
    x = E.random_point(7)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(E.dim)
    h = 1e-6
    fd = (E.gradient(x + h * v) - E.gradient(x - h * v)) / (2 * h)
    np.testing.assert_allclose(E.hvp(x, v), fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    H = E.hessian(x)
    np.testing.assert_allclose(H @ v, E.hvp(x, v), rtol=1e-10, atol=1e-10)


def test_symmetry_directions_are_zero_modes_at_a_minimum():
    E = LennardJones(4)
    x = _tetrahedron(R_MIN)
    S = E.symmetry_directions(x)
    assert S.shape == (6, 12)
    assert np.linalg.matrix_rank(S) == 6
    H = E.hessian(x)
    np.testing.assert_allclose(S @ H, 0.0, atol=1e-10)
    w = np.linalg.eigvalsh(H)
    assert np.sum(np.abs(w) < 1e-8) == 6 and np.all(w > -1e-8)
    # everywhere: the gradient is orthogonal to translations and rotations
    y = E.random_point(2)
    np.testing.assert_allclose(E.symmetry_directions(y) @ E.gradient(y), 0.0, atol=1e-9)
    # in 2-D: 2 translations and 1 rotation
    assert LennardJones(3, dim=2).symmetry_directions(np.arange(6.0)).shape == (3, 6)


def test_invariants_ignore_rotation_translation_permutation():
    E = LennardJones(6)
    x = E.random_point(11)
    R = x.reshape(6, 3)
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    y = (R[::-1] @ Q.T + np.array([0.3, -1.0, 2.0])).ravel()
    np.testing.assert_allclose(E.invariants(y), E.invariants(x), atol=1e-12)
    assert E.energy(y) == pytest.approx(E.energy(x), rel=1e-12)
    assert E.invariants(np.stack([x, y])).shape == (2, 15)


def test_random_point_density_spacing_and_seed():
    E = LennardJones(13, density=0.8)
    X = E.random_point(5, size=6)
    assert X.shape == (6, 39)
    np.testing.assert_array_equal(X, E.random_point(5, size=6))
    radius = (13 / (0.8 * 4 * np.pi / 3)) ** (1 / 3)
    R = X.reshape(6, 13, 3)
    assert np.linalg.norm(R, axis=-1).max() <= radius + 1e-12
    D = np.linalg.norm(R[:, :, None] - R[:, None], axis=-1) + 10 * np.eye(13)
    assert D.min() >= 0.7
    assert E.random_point(5).shape == (39,)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_atoms"):
        LennardJones(1)
    with pytest.raises(ValueError, match="dim"):
        LennardJones(3, dim=4)
    with pytest.raises(ValueError, match="sigma"):
        LennardJones(3, sigma=0.0)
    with pytest.raises(ValueError, match="symmetry_directions"):
        LennardJones(3).symmetry_directions(np.zeros((2, 9)))


def test_rebuilt_from_a_spec():
    from landscapes.spec import build

    E = LennardJones(7, sigma=1.2)
    spec = {"class": "LennardJones", "params": E.spec_params(), "seed": None}
    again = build({**spec, "fingerprint": E.fingerprint}, cache=False)
    assert again.fingerprint == E.fingerprint
    x = E.random_point(0)
    assert again.energy(x) == E.energy(x)
