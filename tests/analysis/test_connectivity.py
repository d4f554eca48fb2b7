"""Minima connected through index-1 saddles, the disconnectivity tree and its drawing."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from analysis.catalogue import Catalogue
from analysis.connectivity import (
    connect_minima,
    connections_from_catalogue,
    disconnectivity_tree,
)
from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points


def _graph(minima, saddles):
    G = nx.MultiGraph()
    for i, e in enumerate(minima):
        G.add_node(i, energy=e)
    for a, b, e in saddles:
        G.add_edge(a, b, energy=e)
    return G


def _crossings(segs):
    """Number of pairs of segments that cross at a point inside both (not at an end)."""

    def orient(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    n = 0
    for (a, b), (c, d) in itertools.combinations(segs, 2):
        if orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0:
            n += 1
    return n


@pytest.fixture(scope="module")
def pspin6():
    model = SphericalPSpin(6, 3, seed=100)
    ref = pspin_critical_points(model, seed=0)  # complete: every minimum is known
    return model, ref, connect_minima(model, ref.points, ref.indices)


def test_tree_of_a_hand_made_graph():
    # minima A..D = 0..3; saddles A-B at -2.5, C-D at -2.8, B-C at -1.5
    G = _graph([-5.0, -4.0, -3.0, -4.5], [(0, 1, -2.5), (2, 3, -2.8), (1, 2, -1.5)])
    t = disconnectivity_tree(G, levels=[-4.8, -3.5, -2.7, -2.0, -1.0])
    assert [t.groups(j) for j in range(5)] == [
        [[0]],
        [[0], [1], [3]],
        [[0], [1], [2, 3]],
        [[0, 1], [2, 3]],
        [[0, 1, 2, 3]],
    ]
    np.testing.assert_array_equal(t.merge_energy, [-2.0, -2.0, -2.7, -2.7])
    # depth-first order, lowest branch first: A, B | D, C
    np.testing.assert_array_equal(t.x_minima, [0, 1, 3, 2])
    assert t.n_components == 1
    # every node's parent contains it, one level up
    for a, p in enumerate(t.node_parent):
        if p >= 0:
            assert t.node_level[p] == t.node_level[a] + 1
            assert set(t.node_members[a]) <= set(t.node_members[p])
    # minimum C appears at level 2 inside the basin {C, D}: its line goes from -3 to -2.7
    segs = t.segments()
    c = [s for s in segs if s[0, 0] == 3 and s[0, 1] == -3.0]
    assert len(c) == 1 and c[0][1, 1] == -2.7 and c[0][1, 0] == 2.5
    # A's line is vertical up to the merge at -2.0
    a_vert = [s for s in segs if s[0, 0] == 0 and s[1, 0] == 0]
    assert max(s[1, 1] for s in a_vert) == -2.7
    assert _crossings(segs) == 0
    d = t.to_dict()
    assert len(d["nodes"]) == len(t.node_members) and d["n_components"] == 1


def test_tree_disconnected_and_empty():
    G = _graph([-3.0, -2.0, -2.5], [(0, 1, -1.0)])  # minimum 2 joined to nothing
    t = disconnectivity_tree(G, levels=8)
    assert t.n_components == 2
    assert t.groups(7) == [[0, 1], [2]]
    assert np.isinf(t.merge_energy[2])
    assert _crossings(t.segments()) == 0
    with pytest.raises(ValueError, match="no minima"):
        disconnectivity_tree(nx.MultiGraph())
    with pytest.raises(ValueError, match="increasing"):
        disconnectivity_tree(G, levels=[0.0, -1.0])


def test_plots_of_disconnected_and_single_minimum(tmp_path):
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_disconnectivity

    use_agg()
    t = disconnectivity_tree(_graph([-3.0, -2.0, -2.5], [(0, 1, -1.0)]), levels=8)
    fig = plot_disconnectivity(t, title="two components")
    assert "2 disconnected components" in fig.axes[0].get_title()
    fig.savefig(tmp_path / "a.png")
    one = disconnectivity_tree(_graph([-1.0], []), levels=4)  # no saddle at all
    assert one.n_components == 1 and one.groups(3) == [[0]]
    plot_disconnectivity(one).savefig(tmp_path / "b.png")


def test_pspin_saddles_join_known_minima(pspin6):
    model, ref, conn = pspin6
    n_min = int(np.sum(ref.indices == 0))
    n_sad = int(np.sum(ref.indices == 1))
    assert conn.ends.shape == (n_sad, 2)
    # every descent ends at one of the known minima: no new minimum appears
    assert np.all(conn.ends >= 0) and conn.minima.shape[0] == n_min
    # a saddle lies above both minima it joins
    for s, (a, b) in enumerate(conn.ends):
        assert conn.saddle_energies[s] > max(conn.minima_energies[a], conn.minima_energies[b])
    assert conn.graph.number_of_edges() == n_sad


def test_pspin_tree_matches_bottleneck_barriers(pspin6):
    # two minima share a basin at level L iff the highest saddle on the best path joining
    # them (the minimax / bottleneck path, read off a minimum spanning tree) is <= L
    model, ref, conn = pspin6
    t = disconnectivity_tree(conn, levels=25)
    simple = nx.Graph()  # lowest saddle per pair of minima
    for a, b, e in conn.graph.edges(data="energy"):
        if not simple.has_edge(a, b) or simple.edges[a, b]["energy"] > e:
            simple.add_edge(a, b, energy=e)
    mst = nx.minimum_spanning_tree(simple, weight="energy")
    m = conn.minima.shape[0]
    for j, L in enumerate(t.levels):
        basin = {}
        for g, mem in enumerate(t.groups(j)):
            basin.update({i: g for i in mem})
        for a, b in itertools.combinations(range(m), 2):
            if a not in basin or b not in basin:  # a minimum above the level: not drawn yet
                assert max(conn.minima_energies[a], conn.minima_energies[b]) > L
                continue
            path = nx.shortest_path(mst, a, b)
            neck = max(mst.edges[u, v]["energy"] for u, v in itertools.pairwise(path))
            assert (basin[a] == basin[b]) == (neck <= L)
    assert t.groups(0) == [[int(np.argmin(conn.minima_energies))]]
    assert len(t.groups(len(t.levels) - 1)) == conn.n_components == 1
    assert _crossings(t.segments()) == 0


def test_catalogue_connections_roundtrip(pspin6, tmp_path):
    model, ref, conn = pspin6
    with Catalogue(tmp_path / "c.sqlite") as cat:
        info = cat.add_connections(model, conn)
        assert info["n_new_points"] == conn.minima.shape[0] + conn.saddles.shape[0]
        again = cat.add_connections(model, conn)  # rerun: no new point, no duplicate row
        assert again["n_new_points"] == 0
        np.testing.assert_array_equal(again["saddle_ids"], info["saddle_ids"])
        rows = cat.connections(model.fingerprint)
        assert len(rows) == conn.saddles.shape[0]
        back = connections_from_catalogue(cat, model.fingerprint)
        assert connections_from_catalogue(cat, "no-such-fingerprint") is None
    np.testing.assert_allclose(back.saddle_energies, conn.saddle_energies)
    np.testing.assert_array_equal(back.ends, conn.ends)
    assert nx.utils.edges_equal(back.graph.edges(), conn.graph.edges())


def test_empty_gives_clear_message():
    model = SphericalPSpin(6, 3, seed=1)
    with pytest.raises(ValueError, match="no index-1 saddle"):
        connect_minima(model, np.zeros((0, 6)), np.zeros(0, dtype=int))
