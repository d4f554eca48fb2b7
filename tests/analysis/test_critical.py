"""Critical points: batched Hessians, Newton search, verification, census, ensembles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.critical import (
    census,
    census_ensemble,
    deduplicate,
    detect_symmetry,
    newton_search,
    riemannian_hessians,
    verify,
)
from landscapes import Quadratic
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean
from pspin import MixedPSpin, SphericalPSpin
from pspin.homotopy import pspin_critical_points


class _Toy(Energy):
    """Two-dimensional test energies given by closed forms (value, gradient, Hessian)."""

    def __init__(self, kind):
        self.kind = kind
        self.manifold = Euclidean(2)

    def params(self):
        return {"kind": self.kind}

    def _parts(self, X):
        x, y = X[:, 0], X[:, 1]
        z = np.zeros_like(x)
        if self.kind == "flat":  # 1e-7 y + x^2: gradient (0, 1e-7) in the kernel of diag(2, 0)
            e = 1e-7 * y + x**2
            g = np.stack([2 * x, z + 1e-7], 1)
            H = np.stack([np.stack([z + 2, z], 1), np.stack([z, z], 1)], 1)
        elif self.kind == "cubic":  # x^3 + y^2: degenerate critical point at 0
            e = x**3 + y**2
            g = np.stack([3 * x**2, 2 * y], 1)
            H = np.stack([np.stack([6 * x, z], 1), np.stack([z, z + 2], 1)], 1)
        else:  # mexican hat (|x|^2 - 1)^2: a circle of minima, rotation symmetry
            r2 = x**2 + y**2
            e = (r2 - 1) ** 2
            g = 4 * (r2 - 1)[:, None] * X
            H = 4 * (r2 - 1)[:, None, None] * np.eye(2) + 8 * X[:, :, None] * X[:, None, :]
        return e, g, H

    def _energy_and_gradient(self, X):
        e, g, _ = self._parts(X)
        return e, g

    def _hvp(self, X, V):
        return np.einsum("kij,kj->ki", self._parts(X)[2], V)

    def symmetry_directions(self, x):
        if self.kind != "hat":
            return np.zeros((0, 2))
        return np.array([[-x[1], x[0]]])


@pytest.mark.parametrize(
    "energy",
    [
        SphericalPSpin(7, 3, seed=1),
        MixedPSpin(6, {3: 1.0, 4: 0.5}, seed=2),
        Quadratic(dim=5, manifold="sphere", seed=3),
        Quadratic(dim=5, manifold="euclidean", seed=3),
    ],
    ids=["pspin", "mixed", "quad-sphere", "quad-euclid"],
)
def test_riemannian_hessians_match_rhessian(energy):
    X = energy.random_point(0, size=4)
    d = riemannian_hessians(energy, X)
    R = energy.rhessian(X)
    np.testing.assert_allclose(d["R"], R, atol=1e-11)
    np.testing.assert_allclose(d["rgrad"], energy.rgrad(X), atol=1e-12)
    np.testing.assert_allclose(d["e"], energy.energy(X), atol=1e-12)


def test_newton_targets_index_on_quadratic_sphere():
    # critical points of x.Ax/2 on the sphere: +-sqrt(N) eigenvectors, index = rank
    q = Quadratic(dim=6, manifold="sphere", seed=4)
    w, V = np.linalg.eigh(q.A)
    X0 = q.random_point(1, size=12)
    for k in range(6):
        X, gn, _ = newton_search(q, X0, mode="index", target_index=k)
        ok = gn < 1e-10 * q.scale
        assert ok.mean() > 0.9
        np.testing.assert_allclose(np.abs(X[ok] @ V[:, k]), np.sqrt(6), atol=1e-8)


def test_quadratic_sphere_census_exact():
    q = Quadratic(dim=7, manifold="sphere", seed=5)
    c = census(q, seed=0, batch_size=32)
    assert c.symmetry == "even"
    np.testing.assert_array_equal(c.counts_by_index, [2] * 7)
    assert c.complete and c.stopped_by == "certificate"
    assert c.certificate.morse_sum == 2 == c.certificate.morse_expected
    w = np.linalg.eigvalsh(q.A)
    np.testing.assert_allclose(np.sort(c.energies), np.repeat(7 * w / 2, 2) / q.scale, atol=1e-12)


def test_adaptive_search_options_reach_the_same_points():
    # adaptive trust radii (for ill-conditioned network losses) change the path, not the set
    q = Quadratic(dim=6, manifold="sphere", seed=6)
    c = census(q, seed=1, batch_size=16, search_options={"adaptive": True, "trust_radius": 0.5})
    np.testing.assert_array_equal(c.counts_by_index, [2] * 6)
    assert c.complete
    w, V = np.linalg.eigh(q.A)
    X, gn, _ = newton_search(
        q, q.random_point(2, size=8), mode="index", target_index=2, adaptive=True
    )
    assert np.all(gn < 1e-10 * q.scale)
    np.testing.assert_allclose(np.abs(X @ V[:, 2]), np.sqrt(6), atol=1e-8)


@pytest.mark.parametrize("N,seed", [(6, 100), (6, 101), (8, 100), (8, 103)])
def test_census_finds_exactly_the_homotopy_points(N, seed):
    model = SphericalPSpin(N, 3, seed=seed)
    ref = pspin_critical_points(model, seed=0)
    assert ref.complete
    c = census(model, seed=seed)
    assert c.complete and c.stopped_by == "certificate"
    assert c.symmetry == "odd"
    np.testing.assert_array_equal(c.counts_by_index, ref.counts_by_index)
    D = np.linalg.norm(c.points[:, None] - ref.points[None], axis=-1)
    j = np.argmin(D, axis=1)
    assert np.all(D[np.arange(len(j)), j] < 1e-8)
    assert len(set(j.tolist())) == len(ref.points)
    np.testing.assert_array_equal(c.indices, ref.indices[j])
    np.testing.assert_allclose(c.energies, ref.energies[j], atol=1e-12)
    # frozen, consistent result
    assert c.counts_by_index_energy.sum() == c.n_points
    assert c.saturation[-1, 1] == c.n_points and c.saturation[-1, 0] == c.certificate.n_starts
    with pytest.raises(AttributeError):
        c.points = None  # type: ignore[misc]


def test_census_reproducible_and_budget():
    model = SphericalPSpin(6, 3, seed=7)
    a = census(model, seed=3, batch_size=64, max_starts=128)
    b = census(model, seed=3, batch_size=64, max_starts=128)
    assert a.stopped_by == "max_starts" and a.certificate.n_starts == 128
    np.testing.assert_array_equal(a.points, b.points)
    assert not a.certificate.saturation_ok  # last new point in the last batch


def test_verify_flat_degenerate_and_symmetry():
    flat = verify(_Toy("flat"), np.array([[0.0, 0.3]]))
    assert flat.kind.tolist() == ["flat"]
    cub = verify(_Toy("cubic"), np.array([[0.0, 0.0]]))
    assert cub.kind.tolist() == ["degenerate"]
    hat = verify(_Toy("hat"), np.array([[math.cos(0.4), math.sin(0.4)]]))
    assert hat.kind.tolist() == ["critical"]
    assert hat.n_zero_modes.tolist() == [1] and hat.indices.tolist() == [0]
    np.testing.assert_allclose(hat.min_abs_eigs, [8.0])
    # the local maximum at 0 of the hat (no symmetry direction there: zero vector)
    top = verify(_Toy("hat"), np.array([[0.0, 0.0]]))
    assert top.kind.tolist() == ["critical"] and top.indices.tolist() == [2]


def test_flat_points_reported_apart():
    c = census(_Toy("flat"), seed=0, batch_size=16, max_starts=32, symmetry=None)
    assert c.n_points == 0 and c.counts_by_index.sum() == 0
    assert len(c.flat_points) >= 1
    assert np.all(np.abs(c.flat_points[:, 0]) < 1e-6)


def test_detect_symmetry_and_deduplicate():
    assert detect_symmetry(SphericalPSpin(5, 3, seed=0)) == "odd"
    assert detect_symmetry(SphericalPSpin(5, 4, seed=0)) == "even"
    assert detect_symmetry(MixedPSpin(5, {3: 1.0, 4: 1.0}, seed=0)) is None
    X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1e-9], [2.0, 0.0]])
    np.testing.assert_array_equal(deduplicate(np.zeros((0, 2)), X, 1e-6), [1, 1, 0, 1])
    np.testing.assert_array_equal(deduplicate(X[:1], X, 1e-6), [0, 1, 0, 1])


def test_bad_input():
    q = Quadratic(dim=4, manifold="sphere", seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        census(q, batch_size=0)
    with pytest.raises(ValueError, match="symmetry"):
        census(q, symmetry="mirror")
    with pytest.raises(ValueError, match="mode"):
        newton_search(q, q.random_point(0, 2), mode="bfgs")
    with pytest.raises(ValueError, match="off the manifold"):
        verify(q, np.ones((1, 4)) * 3)
    with pytest.raises(ValueError, match="Energy"):
        census("not an energy")
    with pytest.raises(ValueError, match="theory"):
        census_ensemble(lambda s: q, [0, 1], theory=[1.0, 2.0], batch_size=16)


def _kac_rice_reference(N):
    """Reference E Crt (total, minima) for p = 3 from pspin-theory.md section 3.3."""
    return {6: (50.873137, 4.411781), 8: (124.091986, 5.235448)}[N]


def _check_against_kac_rice(ens, N):
    total, minima = _kac_rice_reference(N)
    assert ens.complete.all()
    assert abs(ens.total_mean - total) < 3 * ens.total_stderr
    # odd p: minima and maxima have the same mean count
    assert abs(ens.mean[0] - minima) < 3 * ens.stderr[0]
    assert abs(ens.mean[-1] - minima) < 3 * ens.stderr[-1]
    try:
        from pspin.theory import kac_rice_mean
    except ImportError:  # written concurrently; per-index check runs once it exists
        return
    th = np.asarray(kac_rice_mean(N, 3).by_index, dtype=float)
    np.testing.assert_allclose(th.sum(), total, rtol=1e-5)
    assert np.all(np.abs(ens.mean - th) < 3 * ens.stderr)


def test_ensemble_against_kac_rice_n6():
    # 20 disorder samples of p = 3, N = 6: sample-to-sample s.d. ~ 20% of the mean
    N = 6
    theory = np.zeros(N)
    theory[0] = theory[-1] = _kac_rice_reference(N)[1]
    ens = census_ensemble(
        lambda s: SphericalPSpin(N, 3, seed=s), range(1000, 1020), theory=theory, batch_size=64
    )
    assert ens.n_samples == 20
    assert ens.counts.shape == (20, N)
    np.testing.assert_allclose(ens.z[0], (ens.mean[0] - theory[0]) / ens.stderr[0])
    assert ens.counts_by_index_energy.sum() == ens.counts.sum()
    _check_against_kac_rice(ens, N)


@pytest.mark.slow
def test_ensemble_against_kac_rice_n8():
    # `pytest -m slow tests/analysis/test_critical.py` (about 1-2 min on 2 cores)
    N = 8
    ens = census_ensemble(lambda s: SphericalPSpin(N, 3, seed=s), range(2000, 2024), batch_size=128)
    _check_against_kac_rice(ens, N)


@pytest.mark.slow
def test_census_exact_n10():
    model = SphericalPSpin(10, 3, seed=30)
    ref = pspin_critical_points(model, seed=0)
    c = census(model, seed=0)
    assert c.complete
    np.testing.assert_array_equal(c.counts_by_index, ref.counts_by_index)


def test_partner_batch_validates_its_input():
    from analysis.critical import partner_batch

    model = SphericalPSpin(5, 3, seed=0)
    x = model.random_point(1)
    with pytest.raises(ValueError, match="sources"):
        partner_batch(model, x, [0])  # one point must be given as a (1, dim) array
    with pytest.raises(ValueError, match="source_indices"):
        partner_batch(model, x[None], [0, 1])
    with pytest.raises(ValueError, match="kick"):
        partner_batch(model, x[None], [0], kick=0.0)
    with pytest.raises(ValueError, match="n_zero_modes"):
        partner_batch(model, x[None], [0], n_zero_modes=4)
