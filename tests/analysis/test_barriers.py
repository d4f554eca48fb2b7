"""Barriers between minima: interpolation paths, nudged elastic bands, refined saddles."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.barriers import linear_path, nudged_elastic_band, refine_saddle
from analysis.connectivity import connect_minima
from landscapes import Quadratic
from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points


def test_linear_path_geodesic_and_straight():
    m = SphericalPSpin(6, 3, seed=2)
    a, b = m.random_point(0, size=2)
    p = linear_path(m, a, b, n=33)
    assert p.kind == "geodesic"
    np.testing.assert_allclose(np.linalg.norm(p.points, axis=1), np.sqrt(6), rtol=1e-12)
    np.testing.assert_allclose(p.points[[0, -1]], [a, b], atol=1e-12)
    # constant speed along the great circle
    np.testing.assert_allclose(np.diff(p.s), 1 / 32, rtol=1e-9)
    np.testing.assert_allclose(p.energies, m.energy(p.points) / 6, rtol=1e-12)
    assert p.barrier == pytest.approx(p.energies.max() - p.energies[0])
    # Euclidean: straight segment; x.Ax/2 along it is a parabola with known maximum
    q = Quadratic(dim=4, manifold="euclidean", seed=1)
    xa, xb = np.zeros(4), np.ones(4)
    s = linear_path(q, xa, xb, n=5)
    assert s.kind == "straight"
    np.testing.assert_allclose(s.points[2], 0.5 * np.ones(4))
    batch = linear_path(m, np.stack([a, b]), np.stack([b, a]))
    np.testing.assert_allclose(batch[1].energies, linear_path(m, b, a).energies)
    np.testing.assert_allclose(batch[0].energies, linear_path(m, a, b).energies)
    with pytest.raises(ValueError, match="antipodal"):
        linear_path(m, a, -a)
    with pytest.raises(ValueError, match="shape"):
        linear_path(m, a, b[:3])


def test_neb_on_pspin_crosses_a_true_saddle():
    # complete list of critical points (homotopy): every refined band maximum must be one
    # of the known index-1 saddles, at or below the geodesic's maximum, and a band between
    # two minima joined by a saddle crosses that saddle or a lower pass
    model = SphericalPSpin(6, 3, seed=100)
    ref = pspin_critical_points(model, seed=0)
    conn = connect_minima(model, ref.points, ref.indices)
    A, B = conn.minima[conn.ends[:, 0]], conn.minima[conn.ends[:, 1]]
    bands = nudged_elastic_band(model, A, B)
    lines = linear_path(model, A, B)
    Y, v = refine_saddle(model, np.array([b.x_max for b in bands]))
    assert all(b.converged for b in bands)
    assert np.all(v.kind == "critical") and np.all(v.indices == 1)
    known = ref.points[ref.indices == 1]
    D = np.linalg.norm(Y[:, None] - known[None], axis=-1)
    assert np.all(D.min(axis=1) < 1e-8)
    e_sad = v.energies / model.scale
    same = 0
    for s, (b, line) in enumerate(zip(bands, lines, strict=True)):
        assert e_sad[s] <= line.e_max + 1e-12
        assert b.e_max == pytest.approx(e_sad[s], abs=2e-3)  # climbing image near the saddle
        assert e_sad[s] <= conn.saddle_energies[s] + 1e-12  # the same saddle or a lower pass
        j = int(np.argmin(np.linalg.norm(conn.saddles - Y[s], axis=1)))
        same += set(conn.ends[j]) == set(conn.ends[s])
    assert same >= len(bands) - 1


def test_neb_on_a_network_between_permuted_minima():
    # a minimum and its copy with two hidden units swapped: the same loss, distinct points;
    # the band between them crosses an index-1 saddle below the straight path's maximum
    from analysis.connectivity import _descend
    from analysis.critical import newton_search, verify
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    data = datasets.teacher_student(n_samples=30, dim=2, hidden=(3,), noise=0.5, seed=1)
    net = MLPLoss(data, hidden=(3,), activation="tanh", loss="mse", weight_decay=1e-2)
    X = _descend(net, net.random_point(3, size=4), 400, 0.5)
    X, _, _ = newton_search(net, X, mode="index", target_index=0, max_iter=50)
    v = verify(net, X)
    x = X[np.nonzero((v.kind == "critical") & (v.indices == 0))[0][0]]
    (W1, b1), (W2, b2) = net.unflatten(x)
    perm = [1, 0, 2]
    y = net.flatten([(W1[:, perm], b1[perm]), (W2[perm], b2)])
    assert np.linalg.norm(x - y) > 0.1
    assert net.energy(y) == pytest.approx(net.energy(x), rel=1e-12)
    band = nudged_elastic_band(net, x, y, n_images=13)
    line = linear_path(net, x, y)
    assert band.kind == "neb" and line.kind == "straight" and band.converged
    assert band.barrier == pytest.approx(band.barrier_back, abs=1e-9)
    z, vz = refine_saddle(net, band.x_max)
    assert vz.kind[0] == "critical" and vz.indices[0] == 1
    assert net.energy(x) < vz.energies[0] <= line.e_max + 1e-12
    assert band.e_max == pytest.approx(vz.energies[0], abs=1e-4)
