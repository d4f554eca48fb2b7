"""Minima connected through index-1 saddles, and the disconnectivity tree."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.connectivity import connect_minima, disconnectivity_tree
from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points


def test_pspin_saddles_join_known_minima():
    model = SphericalPSpin(6, 3, seed=100)
    ref = pspin_critical_points(model, seed=0)  # complete: every minimum is known
    conn = connect_minima(model, ref.points, ref.indices)
    n_min = int(np.sum(ref.indices == 0))
    n_sad = int(np.sum(ref.indices == 1))
    assert conn.ends.shape == (n_sad, 2)
    # every descent ends at one of the known minima: no new minimum appears
    assert np.all(conn.ends >= 0) and conn.minima.shape[0] == n_min
    # a saddle lies above both minima it joins
    for s, (a, b) in enumerate(conn.ends):
        assert conn.saddle_energies[s] > max(conn.minima_energies[a], conn.minima_energies[b])
    assert conn.graph.number_of_edges() == n_sad
    tree = disconnectivity_tree(conn, levels=10)
    assert len(tree[-1]["groups"]) == conn.n_components
    # at the lowest level only the ground state exists
    assert tree[0]["groups"] == [[int(np.argmin(conn.minima_energies))]]


def test_empty_gives_clear_message():
    model = SphericalPSpin(6, 3, seed=1)
    with pytest.raises(ValueError, match="no index-1 saddle"):
        connect_minima(model, np.zeros((0, 6)), np.zeros(0, dtype=int))
