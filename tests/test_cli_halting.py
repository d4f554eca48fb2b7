"""``landscapes halting``: run folders and clear errors."""

from __future__ import annotations

import pandas as pd

from analysis.cli import main


def test_halting_pspin_writes_run_folder(tmp_path, capsys):
    out = tmp_path / "h"
    argv = ["halting", "pspin", "--N", "8", "10", "--replicas", "4", "--models", "2"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    for f in [
        "config.json",
        "tables/halting.csv",
        "tables/tests.csv",
        "tables/runs.csv",
        "arrays/halting.npz",
        "figures/collapse.png",
        "figures/raw.png",
        "report.md",
        "report.html",
    ]:
        assert (out / f).is_file(), f
    tests = pd.read_csv(out / "tables/tests.csv")
    assert len(tests) == 22 and {"ks_pvalue", "ad_pvalue", "ks_detectable"} <= set(tests)
    assert "pairs reject" in capsys.readouterr().out
    # an existing run folder is never overwritten
    assert main([*argv, "--out", str(out), "--no-progress"]) == 2


def test_halting_mlp_and_sgd(tmp_path):
    out = tmp_path / "m"
    argv = ["halting", "mlp", "--data-seeds", "2", "--inits", "2", "--hidden", "4"]
    argv += ["--n-train", "64", "--epochs", "4", "--threshold-digits", "2.0"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    runs = pd.read_csv(out / "tables/runs.csv")
    assert set(runs["family"]) == {"mlp-gd", "mlp-sgd"}
    out2 = tmp_path / "s"
    argv = ["halting", "sgd", "--N", "10", "--P", "3", "--samples", "1", "--replicas", "4"]
    argv += ["--sgd-epochs", "3", "--final-gd-steps", "100"]
    assert main([*argv, "--out", str(out2), "--no-progress"]) == 0
    table = pd.read_csv(out2 / "tables/gd_vs_sgd.csv")
    assert {"gd_mean", "sgd_mean", "test_ks_pvalue", "test_ad_pvalue"} <= set(table)
    assert (out2 / "figures/gd_vs_sgd.png").is_file()


def test_halting_bad_input(tmp_path, capsys):
    assert main(["halting", "pspin", "--N", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--N" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["halting", "mlp", "--batch-size", "0", "--out", str(tmp_path / "y")]) == 2
    assert main(["halting", "sgd", "--P", "0", "--out", str(tmp_path / "z")]) == 2
