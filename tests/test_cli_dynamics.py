"""`landscapes dynamics`: p-spin runs beside the exact dynamics, networks, run folders, errors."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from pspin import theory as th

PSPIN = [
    "dynamics", "pspin", "--N", "8", "12", "--samples", "2", "--replicas", "2",
    "--t-max", "2", "--step", "0.02", "--waiting-times", "0.2", "0.5", "--grid", "64",
]  # fmt: skip


def _run(args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(args)
    return rc, buf.getvalue()


@pytest.fixture(scope="module")
def pspin_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dyn") / "run"
    rc, text = _run([*PSPIN, "--out", str(out)])
    return rc, out, text


def test_dynamics_pspin_writes_run_folder(pspin_run):
    rc, out, text = pspin_run
    assert rc == 0 and "N x dev" in text
    for name in (
        "config.json",
        "tables/comparison.csv",
        "tables/energy.csv",
        "tables/twotime.csv",
        "arrays/exact.npz",
        "arrays/finite_n.npz",
        "figures/energy.png",
        "figures/correlation.png",
        "report.md",
        "report.html",
    ):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert 'href="figures/energy.png"' in html and 'href="tables/comparison.csv"' in html
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["command"] == "dynamics" and cfg["config"]["N"] == [8, 12]
    comp = pd.read_csv(out / "tables/comparison.csv")
    assert set(comp["N"]) == {8, 12}
    # the exact column is the solver's e(t); the deviation is e_N - e_inf
    sol = th.dynamics(3, 0.0, 2.0, grid=64, error=False)
    assert np.allclose(comp["e_inf"], sol.energy_at(comp["t"]), atol=1e-9)
    assert np.allclose(comp["deviation"], comp["e_N"] - comp["e_inf"])
    tw = pd.read_csv(out / "tables/twotime.csv")
    zero = tw[tw["lag"] == 0]
    assert np.allclose(zero["correlation"], 1.0) and np.allclose(zero["correlation_exact"], 1.0)
    assert np.allclose(zero["msd"], 0.0)


def test_dynamics_pspin_is_reproducible(pspin_run, tmp_path):
    _, out, _ = pspin_run
    rc, _ = _run([*PSPIN, "--out", str(tmp_path / "again")])
    assert rc == 0
    for name in ("tables/comparison.csv", "tables/twotime.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()


def test_dynamics_mlp(tmp_path):
    rc, _ = _run(
        [
            "dynamics",
            "mlp",
            "--replicas",
            "2",
            "--t-max",
            "4",
            "--step",
            "0.2",
            "--n-train",
            "32",
            "--batch-size",
            "8",
            "--waiting-times",
            "0.4",
            "1",
            "--out",
            str(tmp_path / "mlp"),
        ]  # fmt: skip
    )
    assert rc == 0
    for name in (
        "tables/loss.csv",
        "tables/twotime.csv",
        "arrays/network.npz",
        "figures/network.png",
        "figures/loss.png",
        "report.html",
    ):
        assert (tmp_path / "mlp" / name).is_file(), name
    tw = pd.read_csv(tmp_path / "mlp" / "tables/twotime.csv")
    assert set(tw["method"]) == {"gd", "sgd"}
    assert (tw["correlation"] <= 1 + 1e-12).all() and (tw["msd"] >= 0).all()


@pytest.mark.parametrize(
    "extra",
    [["--step", "0"], ["--T", "-1"], ["--p", "1"], ["--waiting-times", "5"], ["--replicas", "0"]],
)
def test_dynamics_bad_input(extra, tmp_path, capsys):
    rc = main([*PSPIN, *extra, "--out", str(tmp_path / "bad")])
    assert rc == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # validated before anything is created
