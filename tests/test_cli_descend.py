"""``landscapes descend``: run folder contents, resumability, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis.cli import main


def _args(out, *extra):
    return [
        "descend",
        "pspin",
        "--N",
        "12",
        "--replicas",
        "8",
        "--samples",
        "2",
        "--chunk",
        "2",
        "--max-steps",
        "3000",
        "--out",
        str(out),
        *extra,
    ]


def test_descend_writes_run_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out)) == 0
    for name in (
        "config.json",
        "final.csv",
        "trajectories.npz",
        "summary.json",
        "final_energy_hist.png",
        "energy_vs_time.png",
        "report.md",
    ):
        assert (out / name).exists(), name
    df = pd.read_csv(out / "final.csv")
    assert len(df) == 8 and df["converged"].all()
    assert np.allclose(df["final_energy"] / 12, df["final_energy_per_spin"])
    assert (df["grad_norm_rms"] <= 1e-5).all()
    # halting steps increase along the gradient ladder (-1: never reached)
    h = df[[c for c in df if c.startswith("halting_step")]].to_numpy()
    reached = np.where(h < 0, np.iinfo(np.int64).max, h)
    assert np.all(np.diff(reached[:, :5], axis=1) >= 0)
    with np.load(out / "trajectories.npz") as z:
        assert z["energy_per_spin"].shape == (z["steps"].size, 8)
        assert z["final_x"].shape == (8, 12)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replicas"] == 8 and len(summary["fingerprints"]) == 2
    # a lost chunk is recomputed on --resume, identically
    tasks = sorted((out / "tasks").glob("*.json"))
    assert len(tasks) == 4
    tasks[1].unlink()
    assert main(_args(out, "--resume")) == 0
    df2 = pd.read_csv(out / "final.csv")
    assert np.array_equal(df2["final_energy"].to_numpy(), df["final_energy"].to_numpy())
    # without --resume an existing run is refused; a changed configuration cannot resume
    assert main(_args(out)) == 2
    assert main(_args(out, "--resume", "--N", "13")) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "configuration differs" in err


def test_descend_langevin_and_errors(tmp_path, capsys):
    out = tmp_path / "lang"
    rc = main(
        [
            "descend",
            "pspin",
            "--N",
            "10",
            "--replicas",
            "4",
            "--method",
            "langevin",
            "--temperature",
            "1.5",
            "--adjusted",
            "--n-steps",
            "200",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    df = pd.read_csv(out / "final.csv")
    assert "acceptance" in df and (df["acceptance"] > 0.3).all()
    assert (
        main(["descend", "pspin", "--N", "10", "--method", "sgd", "--out", str(tmp_path / "s")])
        == 2
    )
    assert (
        main(
            ["descend", "pspin", "--replicas", "5", "--samples", "2", "--out", str(tmp_path / "t")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "finite-sum" in err and "multiple of --samples" in err
