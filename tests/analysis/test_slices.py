"""Slices, paths and PCA planes against exact answers (closed forms, invariances)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.slices import (
    filter_normalize,
    parameter_groups,
    path_between,
    pca_plane,
    random_directions,
    slice_1d,
    slice_2d,
)
from landscapes import Quadratic
from landscapes.datasets import digits
from landscapes.nn import MLPLoss
from pspin import SphericalPSpin


@pytest.fixture(scope="module")
def relu_net():
    data = digits(n_train=200, seed=0)
    return MLPLoss(data, hidden=(8,), activation="relu", loss="cross_entropy")


def _rescaled(net, x, c):
    """Layer 1 (weights and bias) times c, layer 2 weights times 1/c: same ReLU network."""
    (W1, b1), (W2, b2) = net.unflatten(x)
    return net.flatten([(c * W1, c * b1), (W2 / c, b2)])


def test_parameter_groups_are_neurons(relu_net):
    pg = parameter_groups(relu_net)
    g = pg.labels
    d, h, m = relu_net.sizes
    assert pg.is_bias.sum() == h + m
    labels, counts = np.unique(g[~pg.is_bias], return_counts=True)
    assert labels.tolist() == list(range(h)) + list(range(h + 1, h + 1 + m))
    assert counts.tolist() == [d] * h + [h] * m  # one filter = a unit's incoming weights
    # neuron j of layer 1 is column j of W1 (Z = A W + b); each bias vector is one group
    (W1, b1), (W2, b2) = relu_net.unflatten(np.arange(relu_net.dim, dtype=float))
    assert np.all(g[W1[:, 3].astype(int)] == 3)
    assert np.all(g[W2[:, 2].astype(int)] == h + 3)
    assert np.all(g[b1.astype(int)] == h) and np.all(g[b2.astype(int)] == h + m + 1)
    layer = parameter_groups(relu_net, by="layer")
    assert np.unique(layer.labels).tolist() == [0, 1, 2, 3]


def test_filter_normalize_matches_group_norms(relu_net):
    rng = np.random.default_rng(1)
    x = relu_net.random_point(seed=2)
    x = x + 0.1 * rng.standard_normal(x.shape)  # nonzero biases too
    d = rng.standard_normal(x.shape)
    pg = parameter_groups(relu_net)
    out = filter_normalize(x, d, pg)
    kept = filter_normalize(x, d, pg, ignore_bias=False)
    for j in range(pg.labels.max() + 1):
        sel = pg.labels == j
        np.testing.assert_allclose(np.linalg.norm(kept[sel]), np.linalg.norm(x[sel]), rtol=1e-12)
        # direction preserved within the filter
        np.testing.assert_allclose(
            kept[sel] / np.linalg.norm(kept[sel]), d[sel] / np.linalg.norm(d[sel])
        )
    assert np.all(out[pg.is_bias] == 0.0)
    np.testing.assert_array_equal(out[~pg.is_bias], kept[~pg.is_bias])
    # plain integer labels: -1 is ignored
    g = np.where(pg.is_bias, -1, pg.labels)
    np.testing.assert_allclose(filter_normalize(x, d, g), out, rtol=1e-14)
    assert np.all(d == np.random.default_rng(1).standard_normal((2, x.size))[1])  # not mutated


@pytest.mark.parametrize("ignore_bias", [True, False])
def test_filter_normalized_slices_invariant_under_relu_rescaling(relu_net, ignore_bias):
    x = relu_net.random_point(seed=3)
    x = x + 0.05 * np.random.default_rng(4).standard_normal(x.shape)
    y = _rescaled(relu_net, x, 10.0)
    assert relu_net.energy(y) == pytest.approx(relu_net.energy(x), rel=1e-12)
    # the same raw direction at both points; only the normalization differs
    raw = np.random.default_rng(5).standard_normal(x.shape)
    kw = dict(span=(-1, 1), n_points=11, normalization="filter", ignore_bias=ignore_bias)
    s1 = slice_1d(relu_net, x, direction=raw, **kw)
    s2 = slice_1d(relu_net, y, direction=raw, **kw)
    np.testing.assert_allclose(s2.energies, s1.energies, rtol=1e-10, atol=0)
    seed_slice = dict(span=(-1, 1), n_points=11, seed=7, ignore_bias=ignore_bias)
    np.testing.assert_allclose(
        slice_1d(relu_net, y, **seed_slice).energies,
        slice_1d(relu_net, x, **seed_slice).energies,
        rtol=1e-10,
    )
    p1 = slice_2d(relu_net, x, n_points=5, seed=8, ignore_bias=ignore_bias)
    p2 = slice_2d(relu_net, y, n_points=5, seed=8, ignore_bias=ignore_bias)
    np.testing.assert_allclose(p2.energies, p1.energies, rtol=1e-10)


def test_unnormalized_slices_change_under_rescaling(relu_net):
    """Without filter normalization the same picture changes: the invariance test can fail."""
    x = relu_net.random_point(seed=3)
    y = _rescaled(relu_net, x, 10.0)
    raw = 0.05 * np.random.default_rng(5).standard_normal(x.shape)
    kw = dict(span=(-1, 1), n_points=21, normalization="none")
    s1 = slice_1d(relu_net, x, direction=raw, **kw)
    s2 = slice_1d(relu_net, y, direction=raw, **kw)
    curv = [np.polyfit(s.alphas, s.energies, 2)[0] for s in (s1, s2)]
    assert abs(curv[0] - curv[1]) > 0.5 * abs(curv[0])


def test_euclidean_slices_of_a_quadratic_are_exact():
    q = Quadratic(dim=6, manifold="euclidean", seed=0)
    x = np.random.default_rng(0).standard_normal(6)
    D = np.random.default_rng(1).standard_normal((2, 6))
    s = slice_2d(q, x, directions=D, span=(-2, 1), n_points=7, normalization="none")
    a = s.alphas
    A, B = np.meshgrid(a, a, indexing="ij")
    P = x + A[..., None] * D[0] + B[..., None] * D[1]
    exact = 0.5 * np.einsum("abi,ij,abj->ab", P, q.A, P)
    np.testing.assert_allclose(s.energies, exact, rtol=1e-12, atol=1e-12)
    assert s.normalization == "none"
    d1 = slice_1d(q, x, direction=D[0], span=(-1, 1), n_points=5, normalization="none")
    np.testing.assert_allclose(
        d1.energies, [0.5 * (x + t * D[0]) @ q.A @ (x + t * D[0]) for t in d1.alphas], rtol=1e-12
    )
    # 'model' normalization: the direction has the norm of x
    D2, norm = random_directions(q, x, 2, seed=3)
    assert norm == "model"
    np.testing.assert_allclose(np.linalg.norm(D2, axis=1), np.linalg.norm(x), rtol=1e-12)


def test_sphere_slices_follow_geodesics_exactly():
    q = Quadratic(dim=8, manifold="sphere", seed=1)
    r = q.manifold.radius
    x = q.random_point(seed=2)
    s = slice_1d(q, x, span=(-np.pi, np.pi), n_points=13, seed=3)
    u = s.direction
    assert s.normalization == "geodesic"
    assert abs(u @ x) < 1e-12 and np.linalg.norm(u) == pytest.approx(1.0)
    a = s.alphas
    exact = 0.5 * (
        np.cos(a) ** 2 * (x @ q.A @ x)
        + 2 * np.cos(a) * np.sin(a) * r * (x @ q.A @ u)
        + np.sin(a) ** 2 * r**2 * (u @ q.A @ u)
    )
    np.testing.assert_allclose(s.energies, exact, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(s.energies[0], s.energies[-1], rtol=1e-12)  # a full great circle
    # the 2D geodesic surface agrees with the manifold's exponential map
    p = SphericalPSpin(12, 3, seed=0)
    y = p.random_point(seed=1)
    s2 = slice_2d(p, y, span=(-0.5, 0.5), n_points=5, seed=4)
    U = s2.directions
    np.testing.assert_allclose(U @ U.T, np.eye(2), atol=1e-12)
    i, j = 1, 4
    target = p.manifold.exp(y, p.manifold.radius * (s2.alphas[i] * U[0] + s2.betas[j] * U[1]))
    assert s2.energies[i, j] == pytest.approx(p.energy(target) / p.scale, rel=1e-12)
    assert s2.energies[2, 2] == pytest.approx(s2.center_energy, rel=1e-12)


def test_paths_straight_and_geodesic():
    q = Quadratic(np.diag([1.0, 2.0, 3.0]), manifold="euclidean")
    x, y = np.array([1.0, 0, 0]), np.array([0, 1.0, 1.0])
    pr = path_between(q, x, y, n_points=11)
    exact = [0.5 * ((1 - t) ** 2 * 1 + t**2 * 2 + t**2 * 3) for t in pr.t]
    np.testing.assert_allclose(pr.energies, exact, rtol=1e-12)
    assert pr.kind == "straight" and pr.barrier == 0.0  # convex: no bump
    assert pr.length == pytest.approx(np.sqrt(3))
    # double well on a line: the straight path between the wells has a bump of height 1/2
    dw = Quadratic(np.diag([-1.0, 1.0]), manifold="sphere")  # minima at +-e1 on the circle
    r = dw.manifold.radius
    a, b = np.array([r, 0.0]) * 1.0, np.array([np.cos(3.0), np.sin(3.0)]) * r
    pg = path_between(dw, a, b, n_points=301)
    assert pg.kind == "geodesic" and pg.length == pytest.approx(3.0 * r)
    th = 3.0 * pg.t
    np.testing.assert_allclose(
        pg.energies, 0.5 * r**2 * (-(np.cos(th) ** 2) + np.sin(th) ** 2), atol=1e-12
    )
    assert pg.barrier == pytest.approx(0.5 * r**2 - pg.energies[-1], abs=1e-4)
    with pytest.raises(ValueError, match="antipodal"):
        path_between(dw, a, -a)


def test_pca_plane_recovers_a_planar_trajectory():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((20, 2)))
    t = np.linspace(0, 1, 30)
    c = np.stack([np.exp(-3 * t) * np.cos(5 * t), np.exp(-3 * t) * np.sin(5 * t)], axis=1)
    o = rng.standard_normal(20)
    traj = o + c @ Q.T
    plane = pca_plane([traj, traj[::2]])
    assert plane.explained_variance_ratio.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(plane.origin, traj[-1])
    back = plane.origin + plane.coords[0] @ plane.components
    np.testing.assert_allclose(back, traj, atol=1e-10)
    with pytest.raises(ValueError, match="3 trajectory points"):
        pca_plane(np.zeros((2, 5)))


def test_bad_input_is_named():
    q = Quadratic(dim=5, manifold="sphere", seed=0)
    x = q.random_point(seed=1)
    with pytest.raises(ValueError, match="off the manifold"):
        slice_1d(q, 2 * x)
    with pytest.raises(ValueError, match="normalization"):
        slice_1d(q, x, normalization="filter")
    with pytest.raises(ValueError, match="span"):
        slice_1d(q, x, span=(1, -1))
    with pytest.raises(ValueError, match="n_points"):
        slice_1d(q, x, n_points=1)
    e = Quadratic(dim=5, manifold="euclidean", seed=0)
    with pytest.raises(ValueError, match="unflatten"):
        slice_1d(e, np.ones(5), normalization="filter")
    with pytest.raises(ValueError, match="shape"):
        slice_1d(e, np.ones(4))
    with pytest.raises(ValueError, match="unknown normalization"):
        slice_1d(e, np.ones(5), normalization="bogus")
