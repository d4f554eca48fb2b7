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


def test_descend_pspin_sgd_runs_the_split_pspin(tmp_path):
    # (lives here with the other split p-spin commands; `descend` gained --splits / --epochs)
    import json

    import numpy as np

    from landscapes.random import child
    from pspin.split import SplitPSpin

    out = tmp_path / "d"
    argv = ["descend", "pspin", "--N", "10", "--replicas", "4", "--method", "sgd"]
    argv += ["--splits", "3", "--epochs", "5", "--step", "0.1", "--schedule", "decay"]
    assert main([*argv, "--decay", "0.0015", "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "tables/summary.json").read_text())
    model = SplitPSpin(10, 3, 3, seed=child(np.random.SeedSequence(0), 0, 0))
    assert summary["fingerprints"]["0"] == model.fingerprint
    final = pd.read_csv(out / "tables/final.csv")
    assert len(final) == 4 and (final["steps"] == 15).all()  # 5 epochs of P = 3 steps
    assert (final["final_energy_per_spin"] < -0.5).all()
    bad = ["descend", "pspin", "--N", "10", "--method", "sgd", "--splits", "0"]
    assert main([*bad, "--out", str(tmp_path / "b")]) == 2


def test_halting_resume_does_not_redo_stored_work(tmp_path, monkeypatch):
    import analysis.studies.halting as hs

    out = tmp_path / "r"
    argv = ["halting", "pspin", "--N", "8", "--replicas", "4", "--models", "2", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    before = (out / "tables/runs.csv").read_bytes()
    assert len(list((out / "tasks").glob("*.json"))) == 4 * 2  # ensembles x draws

    def boom(*a, **k):
        raise AssertionError("stored work was recomputed")

    monkeypatch.setattr(hs, "gradient_descent", boom)
    assert main([*argv, "--resume", str(out)]) == 0
    assert (out / "tables/runs.csv").read_bytes() == before


def test_halting_mlp_step_options_and_the_old_gd_step_spelling(capsys):
    from analysis.cli import build_parser

    args = build_parser().parse_args(["halting", "mlp", "--step", "0.3", "--sgd-step", "0.02"])
    assert args.step == 0.3 and args.sgd_step == 0.02
    capsys.readouterr()
    old = build_parser().parse_args(["halting", "mlp", "--gd-step", "0.4"])
    assert old.step == 0.4 and not hasattr(old, "gd_step")
    assert "--gd-step is deprecated" in capsys.readouterr().err
    assert build_parser().parse_args(["halting", "mlp"]).step == 0.5  # the old default
