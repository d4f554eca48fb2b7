"""The `landscapes landscape` command: run folder, catalogue, figures, user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.catalogue import Catalogue
from analysis.cli import main
from analysis.store import RunFolder

SMALL = ["--replicas", "4", "--max-steps", "4", "--hef-minima", "2", "--hef-modes", "1"]


def test_landscape_lj_run_folder(tmp_path, capsys):
    out = tmp_path / "lj"
    argv = ["landscape", "lj", "--atoms", "6", *SMALL, "--ef-starts", "8", "--mr-starts", "4"]
    assert main([*argv, "--pspin-N", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "LJ6" in text and "run folder" in text
    rf = RunFolder.open(out)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["command"] == "landscape" and cfg["config"]["atoms"] == 6
    minima = rf.read_table("minima.csv")
    assert float(np.min(minima["energy"])) == pytest.approx(-12.712062, abs=1e-6)  # LJ6 octahedron
    summary = rf.read_table("summary.csv")
    assert int(summary["minima"][0]) == len(minima["energy"])
    for fig in ("disconnectivity.png", "disconnectivity_normalized.png", "index_vs_energy.png"):
        assert rf.path_of("figure", fig).stat().st_size > 10_000
    assert (out / "report.md").read_text().startswith("# landscape lj")
    assert (out / "report.html").exists()
    with Catalogue(out / "landscape.sqlite") as cat:
        (fp,) = cat.fingerprints()
        k = cat.points(fp)["index"]
    assert np.sum(k == 0) == len(minima["energy"])
    # the same folder is not overwritten without --resume; with it, the run is redone the same
    assert main([*argv, "--out", str(out)]) == 2
    assert main([*argv, "--pspin-N", "5", "--resume", str(out)]) == 0
    again = RunFolder.open(out).read_table("minima.csv")
    np.testing.assert_allclose(again["energy"], minima["energy"])


def test_landscape_mlp_and_errors(tmp_path, capsys):
    out = tmp_path / "mlp"
    argv = ["landscape", "mlp", "--dataset", "checkerboard", "--k", "2", "--hidden", "2"]
    argv += ["--weight-decay", "0.01", *SMALL, "--ef-starts", "4", "--mr-starts", "4"]
    assert main([*argv, "--out", str(out)]) == 0
    rf = RunFolder.open(out)
    assert rf.path_of("table", "critical.csv").exists() and rf.path_of("table", "flat.csv").exists()
    capsys.readouterr()
    bad = [
        ["landscape", "mlp", "--dataset", "mnist"],
        ["landscape", "lj", "--atoms", "2"],
        ["landscape", "lj", "--replicas", "0"],
        ["landscape", "pspin", "--N", "2"],
        ["landscape", "lj", "--pspin-N", "2"],
    ]
    for b in bad:
        assert main([*b, "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()  # validated before anything is created
    err = capsys.readouterr().err
    assert "--dataset must be one of" in err and "--atoms must be >= 3" in err


def test_landscape_mlp_random_labels_with_rounds_and_ladder(tmp_path, capsys):
    out = tmp_path / "rnd"
    argv = ["landscape", "mlp", "--dataset", "random", "--n-train", "8", "--classes", "2"]
    argv += ["--hidden", "2", "--weight-decay", "0.01", *SMALL, "--ef-starts", "4"]
    argv += ["--mr-starts", "4", "--tef-starts", "8", "--tef-ladder", "1", "--rounds", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["dataset"] == "random" and cfg["rounds"] == 2 and cfg["tef_ladder"] == 1
    summary = RunFolder.open(out).read_table("summary.csv")
    assert int(summary["saddles_connected"][0]) <= int(summary["saddles"][0])
    assert "ladder_starts" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["landscape", "mlp", "--rounds", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "--rounds must be >= 1" in capsys.readouterr().err
