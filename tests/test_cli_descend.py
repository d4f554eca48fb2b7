"""``landscapes descend``: run folder contents, resumability, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

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
        "--step",
        "0.2",
        "--gtol",
        "1e-4",
        "--out",
        str(out),
        *extra,
    ]


def test_descend_writes_run_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out)) == 0
    for name in (
        "config.json",
        "tables/final.csv",
        "arrays/trajectories.npz",
        "tables/summary.json",
        "figures/final_energy_hist.png",
        "figures/energy_vs_time.png",
        "report.md",
    ):
        assert (out / name).exists(), name
    df = pd.read_csv(out / "tables/final.csv")
    assert len(df) == 8 and df["converged"].all()
    assert np.allclose(df["final_energy"] / 12, df["final_energy_per_spin"])
    assert (df["grad_norm_rms"] <= 1e-4).all()
    # halting steps increase along the gradient ladder (-1: never reached)
    h = df[[c for c in df if c.startswith("halting_step")]].to_numpy()
    reached = np.where(h < 0, np.iinfo(np.int64).max, h)
    assert np.all(np.diff(reached[:, :4], axis=1) >= 0) and (h[:, :4] >= 0).all()
    with np.load(out / "arrays/trajectories.npz") as z:
        assert z["energy_per_spin"].shape == (z["steps"].size, 8)
        assert z["final_x"].shape == (8, 12)
    summary = json.loads((out / "tables/summary.json").read_text())
    assert summary["replicas"] == 8 and len(summary["fingerprints"]) == 2
    # a lost chunk is recomputed on --resume, identically
    tasks = sorted((out / "tasks").glob("*.json"))
    assert len(tasks) == 4
    tasks[1].unlink()
    assert main(_args(out, "--resume")) == 0
    df2 = pd.read_csv(out / "tables/final.csv")
    assert np.array_equal(df2["final_energy"].to_numpy(), df["final_energy"].to_numpy())
    # without --resume an existing run is refused; a changed configuration cannot resume
    assert main(_args(out)) == 2
    assert main(_args(out, "--resume", "--N", "13")) == 2
    err = capsys.readouterr().err
    assert "already holds a 'descend' run" in err and "configuration differs" in err


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
    df = pd.read_csv(out / "tables/final.csv")
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


def _mlp_args(out, *extra):
    return [
        "descend",
        "mlp",
        "--dataset",
        "teacher_student",
        "--n-train",
        "40",
        "--input-dim",
        "3",
        "--hidden",
        "3",
        "--replicas",
        "4",
        "--chunk",
        "2",
        "--step",
        "0.5",
        "--max-steps",
        "200",
        "--out",
        str(out),
        *extra,
    ]


def test_descend_mlp_gd_run_folder_matches_the_model(tmp_path):
    from analysis.studies.descend import mlp_model as _mlp_model

    out = tmp_path / "mlp"
    assert main(_mlp_args(out)) == 0
    for name in (
        "config.json",
        "tables/final.csv",
        "arrays/trajectories.npz",
        "tables/summary.json",
        "report.md",
        "report.html",
    ):
        assert (out / name).exists(), name
    for name in ("figures/final_energy_hist.png", "figures/energy_vs_time.png"):
        assert (out / name).stat().st_size > 1000, name
    df = pd.read_csv(out / "tables/final.csv")
    assert len(df) == 4 and not df["diverged"].any()
    # the table's loss is the model's mean loss at the stored final parameters
    cfg = json.loads((out / "config.json").read_text())["config"]
    data_seed = np.random.SeedSequence(cfg["seed"]).spawn(2)[0].spawn(1)[0]
    model = _mlp_model(cfg, data_seed)
    with np.load(out / "arrays/trajectories.npz") as z:
        X, L = z["final_x"], z["mean_loss"]
    assert X.shape == (4, model.dim)
    np.testing.assert_allclose(model.energy(X), df["final_mean_loss"], rtol=1e-12, atol=1e-15)
    # GD on a realizable teacher-student problem lowers every replica's loss
    assert np.all(L[-1] < 0.5 * L[0])
    summary = json.loads((out / "tables/summary.json").read_text())
    assert summary["quantity"] == "mean loss per sample"
    assert summary["theory"] == {"teacher (global minimum)": 0.0}


def test_descend_mlp_sgd_digits_resume_and_errors(tmp_path, capsys):
    args = [
        "descend",
        "mlp",
        "--dataset",
        "digits",
        "--n-train",
        "60",
        "--hidden",
        "4",
        "--replicas",
        "4",
        "--chunk",
        "2",
        "--method",
        "sgd",
        "--batch-size",
        "10",
        "--epochs",
        "2",
        "--record-every",
        "3",
    ]
    out = tmp_path / "sgd"
    assert main([*args, "--out", str(out)]) == 0
    df = pd.read_csv(out / "tables/final.csv")
    assert (df["steps"] == 2 * (60 // 10)).all()
    assert df["train_accuracy"].between(0, 1).all() and "test_accuracy" in df
    tasks = sorted((out / "tasks").glob("*.json"))
    tasks[0].unlink()
    assert main([*args, "--out", str(out), "--resume"]) == 0
    df2 = pd.read_csv(out / "tables/final.csv")
    assert np.array_equal(df2["final_mean_loss"].to_numpy(), df["final_mean_loss"].to_numpy())
    bad = tmp_path / "bad"
    assert main(_mlp_args(bad, "--loss", "cross_entropy")) == 2
    assert main(_mlp_args(bad, "--method", "sgd", "--schedule", "armijo")) == 2
    err = capsys.readouterr().err
    assert "classification dataset" in err and "GD only" in err


def _trajectories(out):
    with np.load(out / "arrays/trajectories.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("target", ["pspin", "mlp"])
def test_descend_local_cluster_gives_identical_tables(tmp_path, target):
    pytest.importorskip("distributed", reason="needs the extra landscapes[distributed]")
    from landscapes import threads

    args = _args if target == "pspin" else _mlp_args
    a, b = tmp_path / "inproc", tmp_path / "cluster"
    with threads.limit(1):  # Dask workers run one BLAS thread: bit-identity needs the same
        assert main(args(a)) == 0
    assert main(args(b, "--scheduler", "local:2")) == 0
    assert (a / "tables/final.csv").read_bytes() == (b / "tables/final.csv").read_bytes()
    ta, tb = _trajectories(a), _trajectories(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k])
    sa = json.loads((a / "tables/summary.json").read_text())
    assert sa == json.loads((b / "tables/summary.json").read_text())


def test_descend_resume_runs_only_missing_chunks(tmp_path):
    out = tmp_path / "run"
    assert main(_args(out)) == 0
    final = (out / "tables/final.csv").read_bytes()
    tasks = sorted((out / "tasks").glob("*.json"))
    stamps = {p.name: p.stat().st_mtime_ns for p in tasks}
    for p in tasks[1:3]:
        p.unlink()
    assert main(_args(out, "--resume", "--executor", "processes", "--workers", "2")) == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.json")}
    assert set(after) == set(stamps)
    assert sorted(k for k in after if after[k] != stamps[k]) == sorted(p.name for p in tasks[1:3])
    assert (out / "tables/final.csv").read_bytes() == final
