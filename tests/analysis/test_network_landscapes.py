"""The landscape study: LJ7 as the exact reference, a tiny network, the p-spin, the catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.catalogue import Catalogue
from analysis.connectivity import connections_from_catalogue, disconnectivity_tree
from analysis.critical import verify
from analysis.studies.network_landscapes import (
    checkerboard_data,
    explore_landscape,
    network_model,
    normalized_connections,
    pspin_landscape,
    random_label_data,
    store_landscape,
    xor_data,
)
from landscapes.clusters import LennardJones

LJ7 = np.array([-16.50538417, -15.93504306, -15.59321094, -15.53306005])


@pytest.fixture(scope="module")
def lj7():
    E = LennardJones(7)
    land = explore_landscape(
        E, name="LJ7", seed=0, bh_replicas=8, bh_steps=15, hef_minima=4, hef_modes=2,
        ef_starts=16, ef_kick=0.3, mr_starts=8, mr_scales=(1.0,),
    )  # fmt: skip
    return E, land


def test_datasets_and_models():
    d = xor_data(5, seed=1)
    assert d.X.shape == (20, 2) and set(np.unique(d.y)) == {0, 1}
    np.testing.assert_array_equal(d.y[:5], 0)
    cb = checkerboard_data(2)  # k = 2 is XOR on the corners
    np.testing.assert_array_equal(cb.y, [0, 1, 1, 0])
    m = network_model("checkerboard", hidden=3, weight_decay=1e-2, k=3)
    assert m.dim == 2 * 3 + 3 + 3 * 2 + 2 and m.weight_decay == 1e-2  # one-hot MSE targets
    assert network_model("digits", hidden=2, n_train=30, classes=3).dim == 64 * 2 + 2 + 2 * 3 + 3
    with pytest.raises(ValueError, match="dataset"):
        network_model("mnist")
    with pytest.raises(ValueError, match="k must"):
        checkerboard_data(1)


def test_random_label_data_is_seeded_and_has_no_label_symmetry():
    d = random_label_data(12, classes=2, seed=3)
    assert d.X.shape == (12, 2) and d.n_classes == 2
    np.testing.assert_array_equal(d.X, random_label_data(12, classes=2, seed=3).X)
    np.testing.assert_array_equal(d.y, random_label_data(12, classes=2, seed=3).y)
    assert not np.array_equal(d.X, random_label_data(12, classes=2, seed=4).X)
    m = network_model("random", hidden=4, n_train=12, classes=2, seed=3)
    assert m.dim == 2 * 4 + 4 + 4 * 2 + 2
    np.testing.assert_array_equal(m.data.y, d.y)
    with pytest.raises(ValueError, match="classes"):
        random_label_data(12, classes=1)


def test_index_ladder_adds_verified_points_one_index_up():
    E = network_model("random", hidden=2, weight_decay=1e-2, n_train=8, classes=2, seed=0)
    kw = dict(bh_replicas=4, bh_steps=3, bh_temperature=0.01, bh_step=0.5, quench_gtol=1e-5,
              quench_max_iter=300, hef_minima=0, ef_starts=0, mr_starts=8,
              mr_scales=(0.05, 1.0))  # fmt: skip
    base = explore_landscape(E, seed=1, **kw)
    land = explore_landscape(E, seed=1, tef_ladder=2, tef_ladder_width=4, **kw)
    assert land.counts["ladder_starts"] > 0
    assert land.census_energies.size == base.census_energies.size + land.counts["ladder_new_points"]
    assert land.census_indices.max() >= base.census_indices.max()
    np.testing.assert_allclose(land.census_index_fractions, land.census_indices / E.dim)


def test_search_rounds_climb_from_the_minima_the_descents_found():
    E = network_model("random", hidden=3, weight_decay=1e-2, n_train=12, classes=2, seed=0)
    kw = dict(bh_replicas=4, bh_steps=3, bh_temperature=0.01, bh_step=0.5, quench_gtol=1e-5,
              quench_max_iter=300, hef_minima=2, hef_modes=1, ef_starts=16, mr_starts=0)  # fmt: skip
    one = explore_landscape(E, seed=2, **kw)
    two = explore_landscape(E, seed=2, rounds=3, **kw)
    assert two.minima_energies.size >= one.minima_energies.size
    assert two.saddle_energies.size >= one.saddle_energies.size
    assert two.counts["rounds"] >= 2  # round 1 found a minimum to climb from
    assert two.counts["hef_attempts"] > one.counts["hef_attempts"]
    assert two.ends.shape == (two.saddle_energies.size, 2)
    vs = verify(E, two.saddles)
    assert np.all(vs.kind == "critical") and np.all(vs.indices == 1)
    vm = verify(E, two.minima)
    assert np.all(vm.kind == "critical") and np.all(vm.indices == 0)
    # every saddle's ends are minima below it
    b = two.barriers()
    assert np.all(b[two.ends >= 0] > 0)


def test_lj7_landscape_is_the_known_one(lj7):
    E, land = lj7
    np.testing.assert_allclose(land.minima_energies, LJ7, atol=5e-8)
    assert land.n_zero_modes == 6
    v = verify(E, land.saddles)
    assert np.all(v.kind == "critical") and np.all(v.indices == 1)
    np.testing.assert_allclose(v.energies, land.saddle_energies)
    assert land.n_connected == len(land.saddle_energies) >= 4
    assert np.all(land.barriers() > 0)
    conn = land.connections()
    assert conn.n_components == 1
    # the census holds the minima (index 0) and the saddles (index 1)
    assert np.sum(land.census_indices == 0) == 4
    assert np.sum(land.census_indices == 1) >= len(land.saddle_energies)
    G, info = normalized_connections(land)
    e = [d["energy"] for _, d in G.nodes(data=True)]
    s = [d["energy"] for *_, d in G.edges(data=True)]
    assert min(e) == 0.0 and max(s) == pytest.approx(1.0)
    assert info["E_min"] == pytest.approx(LJ7[0])
    assert disconnectivity_tree(G, 10).n_minima == 4


def test_landscape_in_the_catalogue(lj7, tmp_path):
    E, land = lj7
    with Catalogue(tmp_path / "c.sqlite") as cat:
        ids = store_landscape(cat, E, land)
        conn = connections_from_catalogue(cat, E.fingerprint)
    assert len(ids["minima_ids"]) == 4 and len(ids["saddle_ids"]) == len(land.saddle_energies)
    assert conn.graph.number_of_edges() == land.n_connected
    np.testing.assert_allclose(np.sort(conn.minima_energies), LJ7, atol=5e-8)


def test_small_network_landscape_is_verified():
    E = network_model("checkerboard", hidden=2, weight_decay=1e-2, k=2)
    land = explore_landscape(
        E, seed=1, bh_replicas=4, bh_steps=5, bh_temperature=0.01, bh_step=0.5,
        quench_gtol=1e-5, quench_max_iter=300, hef_minima=2, hef_modes=1, ef_starts=8,
        mr_starts=8, mr_scales=(0.05, 1.0),
    )  # fmt: skip
    assert land.minima_energies.size >= 1
    v = verify(E, land.minima)
    assert np.all(v.kind == "critical") and np.all(v.indices == 0)
    if land.saddles.shape[0]:
        vs = verify(E, land.saddles)
        assert np.all(vs.kind == "critical") and np.all(vs.indices == 1)
    assert land.census_energies.size == land.census_indices.size
    np.testing.assert_allclose(land.census_index_fractions, land.census_indices / E.dim)
    assert land.flat_energies.size == land.flat_null_fractions.size
    s = land.summary()
    assert s["minima"] == land.minima_energies.size and s["dim"] == E.dim
    assert set(land.tables()) == {"minima", "saddles", "critical", "flat"}


def test_pspin_landscape_from_the_census():
    land = pspin_landscape(6, 3, seed=2)
    assert land.counts["census_complete"] == 1
    assert land.minima_energies.size >= 1
    np.testing.assert_allclose(land.census_index_fractions, land.census_indices / 5)
    assert np.all(land.ends >= 0)
