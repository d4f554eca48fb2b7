"""``landscapes census pspin``: one task per disorder sample, on any executor, resumable."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main


def _args(out, *extra):
    return [
        "census",
        "pspin",
        "--N",
        "4",
        "--samples",
        "2",
        "--batch-size",
        "16",
        "--seed",
        "3",
        "--out",
        str(out),
        *extra,
    ]


def _catalogue(db):
    """Every row of the catalogue's tables, in a fixed order."""
    con = sqlite3.connect(str(db))
    try:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall()
            for t, o in [
                ("models", "fingerprint"),
                ("points", "id"),
                ("runs", "run_key"),
                ("batches", "run_key, batch"),
                ("run_points", "run_key, ord"),
            ]
        }
    finally:
        con.close()


def _table(out):
    df = pd.read_csv(out / "tables" / "samples.csv")
    assert "seconds" not in df  # wall times live in timings.csv, apart from the results
    timings = pd.read_csv(out / "tables" / "timings.csv")
    assert list(timings.columns) == ["sample", "seconds"] and len(timings) == len(df)
    return df


def test_census_resume_runs_only_missing_samples(tmp_path):
    out = tmp_path / "run"
    assert main(_args(out)) == 0
    df = _table(out)
    assert len(df) == 2 and df["complete"].all()
    counts = (out / "tables" / "counts_by_index.csv").read_bytes()
    cat = _catalogue(out / "census.sqlite")
    assert len(cat["runs"]) == 2 and len(cat["points"]) == df["points"].sum()
    tasks = sorted((out / "tasks").glob("*.json"))
    assert len(tasks) == 2
    stamps = {p.name: p.stat().st_mtime_ns for p in tasks}
    tasks[1].unlink()
    assert main(_args(out, "--resume")) == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.json")}
    assert set(after) == set(stamps)
    rerun = [k for k in after if after[k] != stamps[k]]
    assert rerun == [tasks[1].name]  # only the missing sample ran again
    pd.testing.assert_frame_equal(_table(out), df)
    assert (out / "tables" / "counts_by_index.csv").read_bytes() == counts
    # the catalogue (written by the client only) gained nothing: no duplicate point or batch
    assert _catalogue(out / "census.sqlite") == cat
    # a new --db on the finished run is filled from the stored results, without rerunning
    assert main(_args(out, "--resume", "--db", str(tmp_path / "other.sqlite"))) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.json")} == after
    assert _catalogue(tmp_path / "other.sqlite") == cat


def test_census_local_cluster_gives_identical_tables(tmp_path):
    pytest.importorskip("distributed", reason="needs the extra landscapes[distributed]")
    a, b = tmp_path / "inproc", tmp_path / "cluster"
    assert main(_args(a)) == 0
    assert main(_args(b, "--scheduler", "local:2")) == 0
    pd.testing.assert_frame_equal(_table(a), _table(b), check_exact=True)
    for name in ("counts_by_index.csv", "samples.csv"):  # byte-identical results tables
        assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes()
    assert _catalogue(a / "census.sqlite") == _catalogue(b / "census.sqlite")
    ra, rb = sorted((a / "tasks").glob("*.npz")), sorted((b / "tasks").glob("*.npz"))
    assert [p.name for p in ra] == [p.name for p in rb]
    for pa, pb in zip(ra, rb, strict=True):
        with np.load(pa) as za, np.load(pb) as zb:
            for k in za.files:
                np.testing.assert_array_equal(za[k], zb[k])


def test_census_rejects_bad_executor_options(tmp_path, capsys):
    assert main(_args(tmp_path / "x", "--executor", "processes", "--scheduler", "local:2")) == 2
    assert "--scheduler is only used by --executor dask" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_census_one_sample_prints_no_nan(tmp_path, capsys):
    # one sample has no standard error: the summary says so instead of printing "± nan"
    out = tmp_path / "one"
    argv = ["census", "pspin", "--N", "4", "--samples", "1", "--batch-size", "16"]
    assert main([*argv, "--seed", "3", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "total per sample" in text and "nan" not in text.lower()
    assert "one sample" in text
    for name in ("report.md", "report.html"):
        assert "± nan" not in (out / name).read_text(), name


def test_counts_by_index_plot_has_no_nan_for_one_sample():
    from types import SimpleNamespace

    from analysis.plots import use_agg
    from analysis.plots.critical import plot_counts_by_index

    use_agg()
    ens = SimpleNamespace(
        mean=np.array([2.0, 4.0, 2.0]),
        stderr=np.full(3, np.nan),
        n_samples=1,
        theory=np.array([2.0, 4.0, 2.0]),
        total_mean=8.0,
        total_stderr=np.nan,
        theory_total=8.0,
    )
    fig = plot_counts_by_index(ens, title="one sample")
    ax = fig.axes[0]
    texts = [ax.get_title(), *(t.get_text() for t in ax.get_legend().get_texts())]
    assert all("nan" not in t for t in texts), texts
    assert "total 8.0" in ax.get_title()
    ens2 = SimpleNamespace(**{**vars(ens), "n_samples": 2, "total_stderr": 0.5})
    fig2 = plot_counts_by_index(ens2)
    assert "± 0.5" in fig2.axes[0].get_title()
