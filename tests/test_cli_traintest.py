"""``landscapes traintest``: run folder and clear errors."""

from __future__ import annotations

import pandas as pd

from analysis.cli import main


def test_traintest_writes_run_folder(tmp_path):
    out = tmp_path / "t"
    argv = ["traintest", "--widths", "2", "4", "--seeds", "4", "--epochs", "2"]
    argv += ["--anneal-widths", "2", "--anneal-seeds", "3", "--anneal-steps", "5"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    summary = pd.read_csv(out / "tables/summary.csv")
    assert set(zip(summary["method"], summary["width"], strict=True)) == {
        ("sgd", 2),
        ("sgd", 4),
        ("sa", 2),
    }
    for f in ["figures/traintest.png", "report.md", "report.html", "tables/runs.csv"]:
        assert (out / f).is_file(), f


def test_traintest_bad_input(tmp_path, capsys):
    assert main(["traintest", "--seeds", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
