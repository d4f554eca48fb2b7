"""``landscapes meanfield``: run folders, figures, resume, errors as one line."""

from __future__ import annotations

import json

from analysis.cli import main


def test_meanfield_clt_writes_and_resumes(tmp_path, capsys):
    out = tmp_path / "clt"
    argv = [
        "meanfield",
        "clt",
        "--widths",
        "20",
        "40",
        "--seeds",
        "6",
        "--T",
        "0.5",
        "--n-samples",
        "30",
        "--dynamics",
        "online_sgd",
        "--d",
        "3",
        "--n-boot",
        "50",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    for f in ("table.csv", "summary.csv", "result.json"):
        assert (out / "tables" / "online_sgd" / f).exists(), f
    for f in ("scaling.png", "normality.png"):
        assert (out / "figures" / "online_sgd" / f).exists(), f
    assert not (out / "tables" / "gd").exists()
    meta = json.loads((out / "tables" / "online_sgd" / "result.json").read_text())
    assert meta["theory_slope"] == -1.0 and meta["slope_se"] > 0
    first = (out / "tables" / "online_sgd" / "table.csv").read_text()
    # resume: nothing is recomputed, the stored table is kept
    assert main(["meanfield", "clt", *argv[2:-2], "--resume", str(out)]) == 0
    assert (out / "tables" / "online_sgd" / "table.csv").read_text() == first
    assert "slope" in (out / "report.md").read_text()


def test_meanfield_limit_and_errors(tmp_path, capsys):
    out = tmp_path / "lim"
    assert (
        main(
            [
                "meanfield",
                "limit",
                "--widths",
                "8",
                "16",
                "--seeds",
                "5",
                "--T",
                "0.3",
                "--n-boot",
                "50",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    figs = out / "figures" / "limit"
    assert (figs / "limit.png").exists() and (figs / "scaling.png").exists()
    capsys.readouterr()
    assert (
        main(
            [
                "meanfield",
                "lln",
                "--widths",
                "0",
                "8",
                "--seeds",
                "5",
                "--out",
                str(tmp_path / "bad"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "error" in err and "width" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------- the sweep
def _frames_equal(a, b):
    import pandas as pd

    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_sweep_tasks_reproduce_the_library_experiments_bit_for_bit():
    import numpy as np

    from analysis.studies import meanfield as mf
    from analysis.studies.meanfield import scaling_combine, scaling_plan, scaling_tasks
    from landscapes.meanfield import one_neuron_teacher

    data = one_neuron_teacher(20, 3, seed=0)
    cases = [
        ("lln", (6, 12), {}, dict(data=data)),
        ("clt", (8, 16), {"dynamics": "online_sgd"}, dict(data=data, dynamics="online_sgd")),
        ("limit", (4, 8), {}, {}),
    ]
    for kind, widths, plan_kw, lib_kw in cases:
        fn = {"lln": mf.lln_experiment, "clt": mf.clt_experiment, "limit": mf.limit_experiment}
        lib = fn[kind](widths, 3, 7, T=0.2, n_boot=30, progress=False, **lib_kw)
        plan = scaling_plan(kind, widths, 3, 7, n_samples=20, d=3, T=0.2, n_boot=30, **plan_kw)
        tasks = scaling_tasks(plan)
        # one task per width (+ the reference or the exact limit), seeded by the run's streams
        assert len(tasks) == len(widths) + (kind != "clt")
        assert [t.seed["spawn_key"] for t in tasks[: len(widths)]] == [[0], [1]]
        res = scaling_combine(plan, [t.run() for t in tasks])
        _frames_equal(res.table, lib.table)
        _frames_equal(res.summary, lib.summary)
        assert res.slopes == lib.slopes and res.config == lib.config, kind
        for k, v in lib.extra.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(res.extra[k], v)
            elif k != "limit":
                assert res.extra[k] == v or (v != v and res.extra[k] != res.extra[k]), k


LLN = [
    "meanfield",
    "lln",
    "--widths",
    "6",
    "12",
    "--seeds",
    "3",
    "--T",
    "0.3",
    "--n-samples",
    "20",
    "--d",
    "3",
    "--n-boot",
    "30",
]


def test_meanfield_on_a_local_dask_cluster_gives_identical_tables(tmp_path, capsys):
    import pytest

    pytest.importorskip("distributed", reason="the dask executor needs landscapes[distributed]")
    here, dask = tmp_path / "here", tmp_path / "dask"
    assert main([*LLN, "--threads", "1", "--out", str(here)]) == 0
    assert main([*LLN, "--scheduler", "local:2", "--out", str(dask)]) == 0
    assert "tasks: 3 run, 0 already stored, 0 failed (dask" in capsys.readouterr().out
    for f in ("table.csv", "summary.csv", "result.json"):
        a, b = (dask / "tables" / "lln" / f), (here / "tables" / "lln" / f)
        assert a.read_bytes() == b.read_bytes(), f


def test_interrupted_meanfield_run_resumes_only_the_missing_widths(tmp_path, capsys):
    out = tmp_path / "lln"
    assert main([*LLN, "--out", str(out)]) == 0
    table = (out / "tables" / "lln" / "table.csv").read_bytes()
    records = {p: json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")}
    assert sorted(r["task"]["config"]["width"] for r in records.values()) == [6, 12, 16 * 12]
    # as if the run had been killed while width 12 was training
    victim = next(p for p, r in records.items() if r["task"]["config"]["width"] == 12)
    victim.unlink()
    stamps = {p: p.stat().st_mtime_ns for p in records if p != victim}
    capsys.readouterr()
    assert main([*LLN, "--resume", str(out)]) == 0
    assert "tasks: 1 run, 2 already stored, 0 failed" in capsys.readouterr().out
    assert victim.exists() and {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert (out / "tables" / "lln" / "table.csv").read_bytes() == table


def test_meanfield_landscape_records_the_coupled_estimator(tmp_path, capsys):
    out = tmp_path / "land"
    argv = ["meanfield", "landscape", "--widths", "8", "16", "--seeds", "4", "--T", "2"]
    argv += ["--eps", "0.5", "--n-samples", "40", "--d", "4", "--n-boot", "20"]
    assert main([*argv, "--fit-min-width", "8", "--out", str(out)]) == 0
    res = json.loads((out / "tables" / "result.json").read_text())
    assert res["fit_min_width"] == 8 and "coupled_slope" in res and "coupled_slope_se" in res
    for png in ("coupled_excess.png", "excess_loss.png", "loss_spread.png"):
        assert (out / "figures" / png).stat().st_size > 0
    assert "coupled excess slope" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["meanfield", "landscape", "--seeds", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--seeds >= 4" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
