"""The `landscapes connect` command: run folder, catalogue connections, rerun, user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.catalogue import Catalogue
from analysis.cli import main
from analysis.store import RunFolder


def test_connect_pspin_run_folder_and_rerun(tmp_path, capsys):
    db = tmp_path / "cat.sqlite"
    argv = ["connect", "pspin", "--N", "6", "--p", "3", "--seed", "4", "--levels", "12"]
    assert main([*argv, "--db", str(db), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "running its census first" in out and "computed and stored" in out
    assert "Newton from the NEB top: index-1 saddle" in out
    rf = RunFolder.open(tmp_path / "a")
    edges = rf.read_table("edges.csv")
    minima = rf.read_table("minima.csv")
    tree = json.loads((tmp_path / "a" / "tables" / "tree.json").read_text())
    assert (tmp_path / "a" / "figures" / "disconnectivity.png").stat().st_size > 10_000
    assert (tmp_path / "a" / "figures" / "barriers.png").stat().st_size > 10_000
    bar = rf.read_table("barrier.csv")
    assert bar["max_energy"][1] <= bar["max_energy"][0] + 1e-12  # NEB below the geodesic
    with Catalogue(db) as cat:
        (fp,) = cat.fingerprints()
        pts = cat.points(fp)
        rows = cat.connections(fp)
    n_sad = int(np.sum(pts["index"] == 1))
    assert len(rows) == n_sad == len(edges["saddle"])
    assert len(minima["energy"]) == int(np.sum(pts["index"] == 0))
    # every saddle lies above both of its minima; the tree ends with every minimum drawn
    assert np.all(np.asarray(edges["barrier_from_a"]) > 0)
    assert np.all(np.asarray(edges["barrier_from_b"]) > 0)
    top = [n for n in tree["nodes"] if n["level"] == len(tree["levels"]) - 1]
    assert sorted(i for n in top for i in n["members"]) == list(range(len(minima["energy"])))
    # a rerun on the same catalogue reads the connections back: nothing is added
    assert main([*argv, "--db", str(db), "--out", str(tmp_path / "b")]) == 0
    assert "read from the catalogue" in capsys.readouterr().out
    with Catalogue(db) as cat:
        assert cat.connections(fp) == rows
        assert cat.points(fp)["id"].size == pts["id"].size
    np.testing.assert_allclose(
        RunFolder.open(tmp_path / "b").read_table("edges.csv")["saddle_energy"],
        edges["saddle_energy"],
    )


def test_connect_user_errors(tmp_path, capsys):
    assert (
        main(["connect", "pspin", "--N", "6", "--levels", "1", "--out", str(tmp_path / "x")]) != 0
    )
    assert "--levels" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["connect", "nothing"])
