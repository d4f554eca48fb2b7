"""Tests of the public Manifold API: tangent coordinates, inverse retraction, geodesics."""

from __future__ import annotations

import numpy as np
import pytest

from landscapes.manifolds import (
    Euclidean,
    ProductManifold,
    Sphere,
    manifold_from_spec,
    manifold_spec,
)

MANIFOLDS = {
    "euclidean": Euclidean(6),
    "sphere": Sphere(6),
    "sphere-r2": Sphere(5, radius=2.0),
    "circle": Sphere(2, radius=0.5),
    "sphere-x-euclidean": ProductManifold([Sphere(4), Euclidean(3)]),
    "sphere-x-sphere": ProductManifold([Sphere(3, radius=1.5), Sphere(3)]),
}


def _points(man, seed, size=None):
    return man.random_point(seed, size)


@pytest.fixture(params=sorted(MANIFOLDS))
def man(request):
    return MANIFOLDS[request.param]


def test_tangent_coords_match_explicit_basis(man):
    x = _points(man, 1)
    V = np.random.default_rng(2).standard_normal((4, man.dim))
    B = man.tangent_basis(x)
    np.testing.assert_allclose(man.tangent_coords(x, V), V @ B, atol=1e-13)
    np.testing.assert_allclose(man.tangent_coords(x, V[0]), V[0] @ B, atol=1e-13)
    C = np.random.default_rng(3).standard_normal((3, man.intrinsic_dim))
    np.testing.assert_allclose(man.from_tangent_coords(x, C), C @ B.T, atol=1e-13)
    # round trip on tangent vectors; coords of the tangent part for ambient vectors
    T = man.proj(x, V)
    np.testing.assert_allclose(man.from_tangent_coords(x, man.tangent_coords(x, T)), T, atol=1e-12)
    np.testing.assert_allclose(man.tangent_coords(x, V), man.tangent_coords(x, T), atol=1e-12)


def test_tangent_coords_batched(man):
    X = _points(man, 4, size=3)
    rng = np.random.default_rng(5)
    V = rng.standard_normal((3, man.dim))
    V3 = rng.standard_normal((3, 2, man.dim))
    C = man.tangent_coords(X, V)
    C3 = man.tangent_coords(X, V3)
    assert C.shape == (3, man.intrinsic_dim) and C3.shape == (3, 2, man.intrinsic_dim)
    for k in range(3):
        B = man.tangent_basis(X[k])
        np.testing.assert_allclose(C[k], V[k] @ B, atol=1e-13)
        np.testing.assert_allclose(C3[k], V3[k] @ B, atol=1e-13)
        np.testing.assert_allclose(man.from_tangent_coords(X, C)[k], B @ C[k], atol=1e-13)
        np.testing.assert_allclose(man.from_tangent_coords(X, C3)[k], C3[k] @ B.T, atol=1e-13)


def test_tangent_coords_do_not_mutate(man):
    x = _points(man, 6)
    V = np.random.default_rng(7).standard_normal((2, man.dim))
    x0, V0 = x.copy(), V.copy()
    man.tangent_coords(x, V)
    man.from_tangent_coords(x, V[:, : man.intrinsic_dim])
    man.inverse_retract(x, man.retract(x, man.proj(x, V[0])))
    man.geodesic(x, man.retract(x, man.proj(x, V[0])), [0.0, 0.5])
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(V, V0)


def test_inverse_retract(man):
    X = _points(man, 8, size=4)
    rng = np.random.default_rng(9)
    V = 0.3 * man.length_scale * man.proj(X, rng.standard_normal((4, man.dim)))
    Y = man.retract(X, V)
    W = man.inverse_retract(X, Y)
    np.testing.assert_allclose(W, V, atol=1e-10 * man.length_scale)
    np.testing.assert_allclose(man.retract(X, W), Y, atol=1e-12 * man.length_scale)
    np.testing.assert_allclose(man.proj(X, W), W, atol=1e-12 * man.length_scale)
    np.testing.assert_allclose(man.inverse_retract(X[1], Y[1]), W[1], atol=1e-13)


def test_sphere_inverse_retract_closed_form():
    s = Sphere(3, radius=2.0)
    x = np.array([2.0, 0.0, 0.0])
    y = np.array([0.0, 2.0, 0.0])
    y = 2.0 * (x + y) / np.linalg.norm(x + y)  # 45 degrees: v = (0, 2, 0)
    np.testing.assert_allclose(s.inverse_retract(x, y), [0.0, 2.0, 0.0], atol=1e-14)


def test_sphere_inverse_retract_opposite_hemisphere_raises():
    s = Sphere(4)
    x = s.random_point(1)
    with pytest.raises(ValueError, match="x . y > 0"):
        s.inverse_retract(x, -x)
    Y = np.stack([x, -x])
    with pytest.raises(ValueError, match=r"replicas \[1\]"):
        s.inverse_retract(np.stack([x, x]), Y)


def test_geodesic_endpoints_and_constant_speed(man):
    X = _points(man, 10, size=3)
    rng = np.random.default_rng(11)
    Y = man.retract(X, 0.8 * man.length_scale * man.proj(X, rng.standard_normal((3, man.dim))))
    t = np.linspace(0.0, 1.0, 9)
    P = man.geodesic(X, Y, t)
    assert P.shape == (3, 9, man.dim)
    for k in range(3):
        np.testing.assert_allclose(P[k, 0], X[k], atol=1e-12)
        np.testing.assert_allclose(P[k, -1], Y[k], atol=1e-12)
        np.testing.assert_allclose(man.distance_to(P[k]), 0.0, atol=1e-12)
        steps = man.dist(P[k, :-1], P[k, 1:])
        np.testing.assert_allclose(steps, man.dist(X[k], Y[k]) / 8, rtol=1e-7)
        np.testing.assert_allclose(man.geodesic(X[k], Y[k], t), P[k], atol=1e-13)


def test_geodesic_is_minimizing_arc_and_line():
    s = Sphere(3, radius=1.0)
    x = np.array([1.0, 0.0, 0.0])
    y = np.array([0.0, 1.0, 0.0])
    P = s.geodesic(x, y, [0.5])
    np.testing.assert_allclose(P[0], [np.sqrt(0.5), np.sqrt(0.5), 0.0], atol=1e-14)
    e = Euclidean(2)
    np.testing.assert_allclose(
        e.geodesic([0.0, 0.0], [2.0, 4.0], [0.25, 1.5]), [[0.5, 1.0], [3.0, 6.0]]
    )
    # coincident points: constant path
    np.testing.assert_allclose(s.geodesic(x, x, [0.0, 0.3, 1.0]), np.tile(x, (3, 1)), atol=1e-15)


def test_geodesic_antipodal_raises():
    s = Sphere(5)
    x = s.random_point(3)
    with pytest.raises(ValueError, match="antipodal"):
        s.geodesic(x, -x, [0.5])


def test_geodesic_bad_t():
    with pytest.raises(ValueError, match="t must"):
        Sphere(3).geodesic(Sphere(3).random_point(1), Sphere(3).random_point(2), [[0.1]])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 11])
def test_euler_characteristic_of_spheres(n):
    s = Sphere(n)
    assert s.euler_characteristic == 1 + (-1) ** (n - 1)
    assert s.euler_characteristic == (2 if (n - 1) % 2 == 0 else 0)
    assert s.is_compact
    assert s.length_scale == pytest.approx(np.sqrt(n))
    assert Sphere(n, radius=3.0).length_scale == 3.0


def test_euclidean_global_facts():
    e = Euclidean(7)
    assert not e.is_compact
    assert e.euler_characteristic is None
    assert e.length_scale == pytest.approx(np.sqrt(7))


def test_product_blocks_and_basis():
    m = ProductManifold([Sphere(4), Euclidean(3)])
    assert m.dim == 7 and m.intrinsic_dim == 6
    x = m.random_point(0)
    np.testing.assert_allclose(np.linalg.norm(x[:4]), 2.0)
    assert m.distance_to(x) < 1e-12
    B = m.tangent_basis(x)
    np.testing.assert_array_equal(B[:4, :3], Sphere(4).tangent_basis(x[:4]))
    np.testing.assert_array_equal(B[4:, 3:], np.eye(3))
    assert not B[:4, 3:].any() and not B[4:, :3].any()
    v = np.arange(7.0)
    np.testing.assert_allclose(m.proj(x, v)[:4], Sphere(4).proj(x[:4], v[:4]))
    np.testing.assert_array_equal(m.proj(x, v)[4:], v[4:])
    y = m.random_point(1)
    d = m.dist(x, y)
    assert d == pytest.approx(np.hypot(Sphere(4).dist(x[:4], y[:4]), np.linalg.norm(x[4:] - y[4:])))
    X = m.random_point(2, size=3)
    assert X.shape == (3, 7) and np.all(m.distance_to(X) < 1e-12)
    off = x + np.concatenate([x[:4], np.zeros(3)])  # twice as far out on the sphere factor
    assert m.distance_to(off) == pytest.approx(2.0)


def test_product_curvature_term_is_per_factor():
    m = ProductManifold([Sphere(3, radius=2.0), Euclidean(2), Sphere(3)])
    x = m.random_point(3)
    g = np.random.default_rng(4).standard_normal(8)
    c = m.curvature_term(x, g)
    c1 = x[:3] @ g[:3] / 4.0
    c3 = x[5:] @ g[5:] / 3.0
    np.testing.assert_allclose(c, [c1, c1, 0, 0, c3, c3])
    with pytest.raises(ValueError, match="curvature_term"):
        m.curvature_shift(x, g)
    s = Sphere(5)
    xs = s.random_point(1)
    gs = np.ones(5)
    np.testing.assert_allclose(s.curvature_term(xs, gs), np.full(4, s.curvature_shift(xs, gs)))
    assert not Euclidean(3).curvature_term(np.zeros(3), np.ones(3)).any()
    X = m.random_point(5, size=2)
    assert m.curvature_term(X, np.ones((2, 8))).shape == (2, 6)


def test_product_global_facts():
    assert ProductManifold([Sphere(3), Sphere(3)]).euler_characteristic == 4
    assert ProductManifold([Sphere(2), Sphere(3)]).euler_characteristic == 0
    p = ProductManifold([Sphere(3), Euclidean(2)])
    assert p.euler_characteristic is None and not p.is_compact and not p.is_flat
    assert ProductManifold([Euclidean(2), Euclidean(1)]).is_flat
    assert p.length_scale == pytest.approx(np.sqrt(3 + 2))
    with pytest.raises(ValueError, match="factors"):
        ProductManifold([])


def test_manifold_spec_round_trip():
    for m in MANIFOLDS.values():
        assert manifold_from_spec(manifold_spec(m)) == m
    with pytest.raises(ValueError, match="kind"):
        manifold_from_spec({"kind": "torus"})
