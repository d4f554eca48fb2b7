"""Transition states: lowest modes modulo symmetries, hybrid eigenvector-following, NEB
refinement and connections, checked on Lennard-Jones clusters (LJ4 exactly, LJ7's network)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from analysis.connectivity import disconnectivity_tree
from analysis.critical import verify
from analysis.critical.basinhopping import basin_hopping, verified_minima
from analysis.critical.transition import (
    connect_saddles,
    explore_saddles,
    hybrid_eigenvector_following,
    lowest_modes,
    neb_transition_state,
    symmetry_basis,
)
from analysis.plots.critical import plot_disconnectivity
from landscapes import Quadratic
from landscapes.clusters import LennardJones

LJ7 = np.array([-16.50538417, -15.93504306, -15.59321094, -15.53306005])


@pytest.fixture(scope="module")
def lj7():
    E = LennardJones(7)
    bh = basin_hopping(E, n_replicas=8, n_steps=30, seed=1)
    Y, ver = verified_minima(E, bh.minima)
    return E, Y[np.argsort(ver.energies)]


def _tetrahedron():
    P = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    return (P * 2 ** (1 / 6) / np.sqrt(8.0)).ravel()


def test_lowest_modes_equal_dense_eigh_without_zero_modes():
    E = LennardJones(4)
    x = _tetrahedron()
    w = np.linalg.eigvalsh(E.hessian(x))  # 6 zero modes first, then the vibrations
    lam, V = lowest_modes(E, x, 3)
    np.testing.assert_allclose(lam, w[6:9], rtol=1e-10)
    Q = symmetry_basis(E, x)
    assert Q.shape == (6, 12)
    np.testing.assert_allclose(V @ Q.T, 0.0, atol=1e-10)
    np.testing.assert_allclose(V @ E.hessian(x), lam[:, None] * V, atol=1e-9)
    # no symmetries declared: plain eigh
    A = Quadratic(dim=5, seed=2)
    np.testing.assert_allclose(lowest_modes(A, np.zeros(5), 2)[0], np.linalg.eigvalsh(A.A)[:2])


def test_lanczos_agrees_with_dense(lj7):
    E, M = lj7
    x = M[3]  # the bicapped trigonal bipyramid: its two lowest vibrations are simple
    ld, Vd = lowest_modes(E, x, 2, method="dense")
    ll, Vl = lowest_modes(E, x, 2, method="lanczos")
    np.testing.assert_allclose(ll, ld, rtol=1e-8)
    np.testing.assert_allclose(np.abs(np.sum(Vl * Vd, axis=1)), 1.0, atol=1e-6)
    # at a degenerate pair (the capped octahedron) the spanned subspace agrees
    ld, Vd = lowest_modes(E, M[1], 2, method="dense")
    ll, Vl = lowest_modes(E, M[1], 2, method="lanczos")
    np.testing.assert_allclose(ll, ld, rtol=1e-8)
    np.testing.assert_allclose(Vl.T @ Vl, Vd.T @ Vd, atol=1e-6)
    with pytest.raises(ValueError, match="k must"):
        lowest_modes(E, x, 16)


def test_hef_from_the_global_minimum_reaches_a_verified_connected_saddle(lj7):
    E, M = lj7
    _, V = lowest_modes(E, M[0], 1)
    ts = hybrid_eigenvector_following(E, M[0] + 0.1 * V[0], v0=V[0])
    assert ts.verified and ts.index == 1 and ts.grad_norm <= 1e-10
    assert ts.eigenvalue < 0
    ver = verify(E, ts.x[None])
    assert ver.n_zero_modes[0] == 6
    pair, ok = connect_saddles(E, ts.x[None], ts.unstable[None])
    assert ok.all()
    ends = np.asarray(E.energy(pair[0]))
    assert np.all(ends < ts.energy)
    # every end is one of the four LJ7 minima
    assert np.all(np.min(np.abs(ends[:, None] - LJ7[None]), axis=1) < 1e-7)


def test_lj7_network_connects_all_four_minima(lj7):
    E, M = lj7
    net = explore_saddles(E, M, n_modes=3, seed=0)
    assert net.minima.shape[0] == 4
    np.testing.assert_allclose(net.minima_energies, LJ7, atol=5e-8)
    assert len(net.saddles) >= 4
    ver = verify(E, net.saddles)
    assert np.all(ver.kind == "critical") and np.all(ver.indices == 1)
    assert np.all(net.ends >= 0)
    assert np.all(net.barriers() > 0)
    conn = net.connections()
    assert conn.n_components == 1
    tree = disconnectivity_tree(conn, levels=20)
    assert tree.n_minima == 4 and tree.n_components == 1
    fig = plot_disconnectivity(tree, title="LJ7")
    assert fig.axes


def test_neb_refined_by_eigenvector_following(lj7):
    E, M = lj7
    _, V = lowest_modes(E, M[0], 1)
    ts = hybrid_eigenvector_following(E, M[0] + 0.1 * V[0], v0=V[0])
    pair, ok = connect_saddles(E, ts.x[None], ts.unstable[None])
    assert ok.all()
    neb = neb_transition_state(E, pair[0, 0], pair[0, 1], n_images=9)
    assert neb.verified and neb.index == 1
    assert neb.energy == pytest.approx(ts.energy, abs=1e-8)


def test_hef_bad_follow():
    with pytest.raises(ValueError, match="follow"):
        hybrid_eigenvector_following(LennardJones(3), np.arange(9.0), follow="up")
