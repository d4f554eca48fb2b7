"""The comparison's "Landscape graphs" section: catalogues stored once, graphs in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.config import build_config

TINY = {
    "seed": 1,
    "pspin": {"sizes": [8], "census_size": 6, "census_starts": 48},
    "networks": {
        "widths": [3],
        "families": ["teacher_student"],
        "n_train": 32,
        "n_test": 10,
        "ts_dim": 3,
    },
    "graphs": {
        "pspin_N": 6,
        "pspin_starts": 48,
        "bh_replicas": 4,
        "bh_steps": 3,
        "saddle_minima": 2,
        "saddle_modes": 1,
        "ef_starts": 8,
    },
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    from analysis.store import RunFolder
    from analysis.studies.compare import run_landscape_graphs

    config = build_config("quick", TINY)
    run = RunFolder(tmp_path_factory.mktemp("graphs") / "run", "compare", config)
    done = run_landscape_graphs(config, run)
    return config, run, done


def test_graphs_are_stored_once_and_drawn_in_the_common_unit(stored):
    from analysis.studies.compare import landscape_graphs_data, run_landscape_graphs
    from analysis.studies.compare.graphs import (
        BARRIER_COLUMNS,
        UNIT,
        graphs_census_config,
        graphs_key,
    )
    from analysis.studies.compare.models import census_key

    config, run, done = stored
    # the network catalogue and the p-spin census (the run's own census: same key)
    assert done == [graphs_key(config), census_key(config)]
    assert census_key(graphs_census_config(config)) == census_key(config)
    assert run_landscape_graphs(config, run) == []  # resumed: nothing recomputed
    data = landscape_graphs_data(run, config)
    assert data["unit"] == UNIT == "(E - E_min) / (E_top - E_min)"
    assert [p["title"].split()[0] for p in data["panels"]] == ["tanh", "spherical"]
    assert data["network"]["dim"] == 3 * 2 + 2 + 2 + 1  # 3 inputs (ts_dim), 2 hidden, 1 out
    for panel, row in zip(data["panels"], data["summary"], strict=True):
        m, s, ends = panel["minima"], panel["saddles"], panel["ends"]
        assert m.size == row["minima_drawn"] >= 1 and s.size == row["saddles_connected"]
        # every drawn saddle joins two drawn minima; every drawn minimum is joined (or none is)
        assert np.all((ends >= 0) & (ends < m.size))
        if s.size:
            assert set(ends.ravel()) == set(range(m.size))
            assert np.max(s) == pytest.approx(1.0) and np.min(m) == pytest.approx(0.0)
            # a saddle lies above both of its minima
            assert np.all(s[:, None] >= m[ends] - 1e-12)
        assert np.all((m >= -1e-12) & (m <= 1 + 1e-12)) and np.all((s >= 0) & (s <= 1 + 1e-12))
        assert row["E_top"] >= row["E_min"]
    assert data["summary"][1]["saddles_connected"] >= 1  # the p-spin graph has edges
    assert set(data["summary"][0]) >= {
        "system",
        "degrees_of_freedom",
        "minima",
        "saddles",
        "saddles_connected",
        "components",
        "E_min",
        "E_top",
        "barrier_low_median_normalized",
    }
    for r in data["barriers"]:
        assert tuple(r) == BARRIER_COLUMNS
        assert min(r["barrier_a"], r["barrier_b"]) >= 0
        assert 0 <= r["barrier_a_normalized"] <= 1 + 1e-12


def test_panel_normalization_against_hand_values():
    from analysis.studies.compare.graphs import graph_panel

    # minima 1, 2, 3 (index 2 unjoined); saddles 4 (joins 0-1), 9 (a descent failed)
    panel, row, bars = graph_panel(
        "toy", "E", 5, np.array([1.0, 2.0, 3.0]), np.array([4.0, 9.0]), [[0, 1], [1, np.nan]]
    )
    np.testing.assert_allclose(panel["minima"], [0.0, 1 / 3])
    np.testing.assert_allclose(panel["saddles"], [1.0])
    assert panel["ends"].tolist() == [[0, 1]]
    assert (row["minima"], row["minima_drawn"], row["saddles"], row["saddles_connected"]) == (
        3,
        2,
        2,
        1,
    )
    assert (row["E_min"], row["E_top"], row["components"]) == (1.0, 4.0, 1)
    assert bars[0]["barrier_a"] == 3.0 and bars[0]["barrier_b"] == 2.0
    assert row["barrier_low_median_normalized"] == pytest.approx(2 / 3)


def test_the_flag_skips_the_section(stored, tmp_path):
    import argparse

    from analysis.commands import compare as cmd
    from analysis.store import RunFolder
    from analysis.studies.compare import landscape_graphs_data, run_landscape_graphs
    from analysis.studies.compare.report import figure_jobs

    p = argparse.ArgumentParser()
    cmd.register(p.add_subparsers())
    args = p.parse_args(["compare", "--quick", "--no-landscape-graphs"])
    off = build_config("quick", TINY, cmd._flags(args))
    assert off["graphs"]["enabled"] is False
    on = build_config("quick", TINY, cmd._flags(p.parse_args(["compare", "--quick"])))
    assert on["graphs"]["enabled"] is True
    run = RunFolder(tmp_path / "run", "compare", off)
    assert run_landscape_graphs(off, run) == []
    assert not list((run.path / "tasks").glob("*.json")) if (run.path / "tasks").exists() else True
    assert landscape_graphs_data(run, off) is None
    # a stored section is not drawn either once the flag is given
    config, stored_run, _ = stored
    off_stored = {**config, "graphs": {**config["graphs"], "enabled": False}}
    assert landscape_graphs_data(stored_run, off_stored) is None
    tables = {"tasks": [], "spectra": [], "census": None, "slices": []}
    assert all("landscape_graphs" not in j[0] for j in figure_jobs(tables, {}, 3, None, None))
