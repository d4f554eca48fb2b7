"""`landscapes theory`: constants table, run folder, figures, resume, errors."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main

ARGS = ["theory", "--p", "3", "--N", "6", "--mc-samples", "4000"]


@pytest.fixture(scope="module")
def pure_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("theory") / "run"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main([*ARGS, "--out", str(out)])
    return rc, out, buf.getvalue()


def test_theory_pure_writes_run_folder(pure_run):
    rc, out, text = pure_run
    assert rc == 0
    assert "E_inf" in text and "1.632993" in text and "1.154701" in text  # ABC and CS columns
    assert "T_s" in text and "0.586054" in text
    for name in (
        "config.json",
        "tables/constants.csv",
        "tables/kac_rice_N6.csv",
        "arrays/curves.npz",
        "report.md",
        "figures/complexity.png",
        "figures/index_vs_energy.png",
        "figures/kac_rice_N6.png",
        "report.html",
    ):
        assert (out / name).exists(), name
    consts = pd.read_csv(out / "tables" / "constants.csv").set_index("symbol")
    assert consts.loc["E_0", "abc"] == pytest.approx(1.656998, abs=1e-6)
    assert consts.loc["E_0", "cs"] == pytest.approx(1.171675, abs=1e-6)
    assert consts.loc["T_d", "cs"] == pytest.approx(0.612372, abs=1e-6)
    kr = pd.read_csv(out / "tables" / "kac_rice_N6.csv")
    assert list(kr["index"]) == list(range(6))
    assert kr["mean"].sum() == pytest.approx(50.873137, abs=1e-6)
    assert (kr["mean_below_threshold"] <= kr["mean"]).all()
    assert np.all(np.abs(kr["z_score"]) < 5)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["command"] == "theory" and cfg["config"]["N"] == 6
    with np.load(out / "arrays" / "curves.npz", allow_pickle=False) as z:
        assert z["theta_0"].shape == z["u_low"].shape


def test_theory_resume_reuses_tasks(pure_run, capsys):
    _, out, _ = pure_run
    tasks = sorted((out / "tasks").glob("*"))
    stamp = [t.stat().st_mtime_ns for t in tasks]
    assert len(tasks) == 4  # exact and Monte Carlo tables, each .json + .npz
    assert main([*ARGS, "--out", str(out)]) == 2
    assert "already holds a 'theory' run" in capsys.readouterr().err
    assert main([*ARGS, "--out", str(out), "--resume"]) == 0
    assert [t.stat().st_mtime_ns for t in sorted((out / "tasks").glob("*"))] == stamp
    assert main(["theory", "--p", "4", "--N", "6", "--out", str(out), "--resume"]) == 2
    assert "configuration differs" in capsys.readouterr().err


def test_theory_mixture(tmp_path, capsys):
    out = tmp_path / "mix"
    assert main(["theory", "--xi", "3:0.5,4:0.5", "--N", "6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "n/a" in text and "p_eff" in text
    kr = pd.read_csv(out / "tables" / "kac_rice_N6.csv")
    assert kr["mean"].sum() == pytest.approx(90.1355, abs=1e-4)
    assert (out / "figures" / "kac_rice_N6.png").exists()


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["theory", "--p", "1"], "--p must be >= 2"),
        (["theory", "--N", "1"], "--N must be >= 2"),
        (["theory", "--xi", "3-0.5"], "--xi must look like"),
        (["theory", "--xi", "3:-1"], "weight"),
        (["theory", "--mc-samples", "-3"], "--mc-samples"),
    ],
)
def test_theory_bad_input_is_one_line(argv, msg, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1
