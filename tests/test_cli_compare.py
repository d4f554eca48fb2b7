"""`landscapes compare` and `landscapes plot` end to end on tiny configurations."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main

TINY = """
seed = 3
[pspin]
sizes = [8, 12]
replicas = 4
samples = 2
max_steps = 400
census_size = 8
census_starts = 32
[networks]
widths = [3, 5]
replicas = 3
gd_steps = 30
sgd_epochs = 2
n_train = 40
n_test = 20
[spectra]
endpoints = 2
dense_max = 60
slq_probes = 3
slq_steps = 12
[graphs]
pspin_N = 8
pspin_starts = 32
bh_replicas = 2
bh_steps = 2
saddle_minima = 1
saddle_modes = 1
ef_starts = 4
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    out = d / "run"
    rc = main(["compare", "--quick", "--config", str(cfg), "--out", str(out), "--no-progress"])
    assert rc == 0
    return out, cfg


def test_run_folder_has_tables_figures_and_report(tiny_run):
    out, _ = tiny_run
    stored = json.loads((out / "config.json").read_text())
    assert stored["command"] == "compare" and stored["config"]["seed"] == 3
    rep = pd.read_csv(out / "tables" / "replicas.csv")
    assert {"model", "size", "seed_entropy", "method", "final_energy", "converged"} <= set(
        rep.columns
    )
    # p-spin: 2 sizes x 2 samples x 4 replicas; networks: 2 families x 2 widths x 3 x (gd + sgd)
    assert (rep["model"] == "pspin").sum() == 2 * 2 * 4
    assert len(rep[rep["model"] != "pspin"]) == 2 * 2 * 3 * 2
    summ = pd.read_csv(out / "tables" / "summary.csv")
    gd = summ[summ["method"] == "gd"]
    # the converged fraction in the summary is the fraction of converged replicas
    for r in gd.itertuples():
        g = rep[(rep["model"] == r.model) & (rep["size"] == r.size) & (rep["method"] == "gd")]
        assert r.converged_fraction == pytest.approx(g["converged"].mean())
    # 30 GD steps cannot converge a network: it must say so, not pass them off as minima
    nets = gd[gd["model"] != "pspin"]
    assert (nets["converged_fraction"] < 1).all()
    html = (out / "report.html").read_text()
    assert "unconverged" in html and "-1.63299" in html and "-1.65700" in html
    assert "Protocol" in html and "wd = 0.005" in html and "GD armijo" in html
    for name in (
        "final_energies",
        "concentration",
        "spectra",
        "overlaps",
        "halting_times",
        "slices_1d",
        "paths",
        "index_energy",
        "pca",
    ):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"figures/{name}.png" in html
    sp = pd.read_csv(out / "tables" / "spectra.csv")
    ps = sp[sp["model"] == "pspin"]
    assert (ps["method"] == "dense").all() and (ps["index"] >= 0).all()
    # the endpoint's converged flag and its negative spectral weight are reported per spectrum
    assert sp["negative_weight"].between(0, 1).all()
    nets_sp = sp[sp["model"] != "pspin"]
    assert not nets_sp["converged"].any()  # 30 GD steps: none converged, and said so
    assert "weight below 0" in html
    ov = pd.read_csv(out / "tables" / "overlaps.csv")
    assert set(ov["kind"]) == {"q_param", "q_func"}
    assert ov["q"].between(-1, 1).all()


def test_report_layout_warnings_and_new_figures(tiny_run):
    """Warnings in ONE table before the content, every figure linked to its PNG and shown at
    full width, the figures a Sagun et al. reader expects, report.md mirroring report.html,
    and the Morse index raw and tolerant (NaN, i.e. empty, where not measured)."""
    import re

    out, _ = tiny_run
    html = (out / "report.html").read_text()
    assert 'class="note"' not in html and html.count("<h2>Warnings") == 1
    assert html.index("<h2>Warnings") < html.index("<h2>Summary")
    imgs = re.findall(r"<img [^>]*>", html)
    links = re.findall(r'<a href="([^"]+)"[^>]*><img src="([^"]+)"', html)
    assert len(links) == len(imgs) >= 14 and all(a == b for a, b in links)
    assert 'class="grid one"' in html and 'class="grid"' not in html
    for name in (
        "learning_curves",
        "final_collapse",
        "halting_collapse",
        "spectra_normalized",
        "networks",
        "census",
    ):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"figures/{name}.png" in html
    md = (out / "report.md").read_text()
    for src, _ in links:
        assert f"]({src})" in md
    assert "## Warnings" in md and "unconverged" in md and "| model | size |" in md
    mi = pd.read_csv(out / "tables" / "endpoint_index.csv")
    dense = mi["method"] == "dense"
    assert dense.any() and mi.loc[dense, "index_raw"].notna().all()
    assert (mi.loc[dense, "index_tolerant"] <= mi.loc[dense, "index_raw"]).all()
    assert mi.loc[~dense, ["index_raw", "index_tolerant"]].isna().all().all()
    sp = pd.read_csv(out / "tables" / "spectra.csv")
    ps = mi[mi["model"] == "pspin"]
    np.testing.assert_array_equal(ps["index_raw"], sp[sp["model"] == "pspin"]["index"])


def test_report_has_the_landscape_graphs_section(tiny_run):
    """The network and the run's census p-spin drawn side by side, the unit said in the
    report, one table row per system and one barrier row per connected saddle."""
    out, _ = tiny_run
    assert (out / "figures" / "landscape_graphs.png").stat().st_size > 1000
    md = (out / "report.md").read_text()
    assert "## Landscape graphs" in md and "(E - E_min) / (E_top - E_min)" in md
    t = pd.read_csv(out / "tables" / "landscape_graphs.csv")
    assert len(t) == 2 and t["system"].iloc[1] == "spherical 3-spin, N = 8"
    assert (t["saddles_connected"] <= t["saddles"]).all() and (t["E_top"] >= t["E_min"]).all()
    b = pd.read_csv(out / "tables" / "landscape_graph_barriers.csv")
    assert len(b) == t["saddles_connected"].sum()
    assert b["energy_normalized"].between(0, 1 + 1e-12).all()


def test_figures_are_the_same_drawn_in_parallel_or_in_process(tiny_run, tmp_path):
    from analysis.store import RunFolder
    from analysis.studies.compare.report import draw_figures, figure_jobs, pspin_theory_lines
    from analysis.studies.compare.tables import load_tables

    out, _ = tiny_run
    run = RunFolder.open(out)
    jobs = figure_jobs(load_tables(run, run.config), pspin_theory_lines(3), 3)[:4]
    seen = []
    one = draw_figures(jobs, workers=1)
    two = draw_figures(jobs, workers=2, progress=seen.append)
    assert list(one) == list(two) == [j[0] for j in jobs] and sorted(seen) == sorted(one)
    assert one == two  # byte-identical PNGs
    # with another Python thread alive the workers come from a forkserver, never a fork
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert draw_figures(jobs, workers=2) == one
    finally:
        stop.set()


def test_plot_run_dir_redraws_without_recomputing(tiny_run):
    out, _ = tiny_run
    tasks = sorted((out / "tasks").iterdir())
    stamps = {p: p.stat().st_mtime_ns for p in tasks}
    fig = out / "figures" / "spectra.png"
    fig.unlink()
    assert main(["plot", str(out)]) == 0
    assert fig.exists()
    assert {p: p.stat().st_mtime_ns for p in sorted((out / "tasks").iterdir())} == stamps


def test_resume_skips_stored_tasks_and_redoes_a_missing_one(tiny_run, tmp_path, capsys):
    out, cfg = tiny_run
    tasks = out / "tasks"
    jsons = sorted(tasks.glob("*.json"))
    # a (model, size) task of the sweep (the slices are stored beside them)
    victim = next(p for p in jsons if "task" in json.loads(p.read_text()))
    record = json.loads(victim.read_text())
    arrays_before = dict(np.load(tasks / f"{victim.stem}.npz"))
    victim.unlink()  # as if Ctrl-C struck before this task finished
    others = {p: p.stat().st_mtime_ns for p in jsons if p != victim}
    capsys.readouterr()
    assert main(["compare", "--resume", str(out), "--no-progress"]) == 0
    assert "compare tasks: 1 run, 5 already stored, 0 failed" in capsys.readouterr().out
    assert victim.exists() and json.loads(victim.read_text())["task"] == record["task"]
    after = dict(np.load(tasks / f"{victim.stem}.npz"))
    for k, v in arrays_before.items():  # recomputed bit for bit from the same seeds
        np.testing.assert_array_equal(after[k], v)
    assert {p: p.stat().st_mtime_ns for p in others} == others


MICRO = """
seed = 5
[pspin]
sizes = [8, 10]
replicas = 3
samples = 1
max_steps = 200
census_size = 0
[networks]
widths = [3]
families = ["teacher_student"]
replicas = 3
gd_steps = 10
sgd_epochs = 1
n_train = 32
n_test = 20
[spectra]
endpoints = 1
dense_max = 60
slq_probes = 2
slq_steps = 10
[graphs]
enabled = false
"""


def test_compare_on_a_local_dask_cluster_gives_identical_tables(tmp_path):
    """The sweep on a local Dask cluster and in-process: identical tables (no figures drawn:
    the CLI's figures and report are covered by the tests above)."""
    pytest.importorskip("distributed", reason="the dask executor needs landscapes[distributed]")
    from analysis.config import build_config, load_toml
    from analysis.store import RunFolder
    from analysis.studies.compare import load_tables, run_comparison
    from analysis.sweep import ExecutorSpec
    from landscapes import threads

    cfg = tmp_path / "micro.toml"
    cfg.write_text(MICRO)
    config = build_config("quick", load_toml(cfg))
    runs = {}
    for name, spec in (("dask", ExecutorSpec("dask", scheduler="local:2")), ("here", None)):
        runs[name] = RunFolder(tmp_path / name, "compare", config)
        with threads.limit(1):  # one BLAS thread, as on a Dask worker
            res = run_comparison(config, runs[name], progress=False, executor=spec)
        assert res.ok and len(res.completed) == 3
        assert res.executor == ("dask" if spec else "inprocess")
    for name in ("replicas", "summary", "spectra", "overlaps"):
        got = {}
        for k, run in runs.items():
            run.write_table(f"tables/{name}.csv", load_tables(run, config)[name])
            got[k] = (run.path / "tables" / f"{name}.csv").read_bytes()
        assert got["dask"] == got["here"], name


def test_bad_config_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[pspin]\nsizes = [50, 'a']\n")
    assert main(["compare", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "pspin.sizes[1]" in err and "integer" in err
    bad.write_text("[pspin]\nsize = [50]\n")
    assert main(["compare", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "unknown key pspin.size" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert main(["compare", "--resume", str(tmp_path / "nowhere")]) == 2
    assert not os.path.exists(tmp_path / "r" / "tasks")


@pytest.mark.parametrize("what", ["slice", "path"])
def test_plot_slice_and_path(tmp_path, what):
    out = tmp_path / what
    rc = main(
        [
            "plot",
            what,
            "--model",
            "pspin",
            "--size",
            "16",
            "--points",
            "9",
            "--steps",
            "400",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    figs = list((out / "figures").glob("*.png"))
    assert figs and all(f.stat().st_size > 1000 for f in figs)
    meta = json.loads((out / "tables" / f"{what}.json").read_text())
    assert (out / "arrays" / f"{what}.npz").is_file() and (out / "report.html").is_file()
    if what == "path":
        assert meta["path_kind"] == "geodesic" and meta["barrier"] >= 0
    else:
        assert meta["normalization"] == "geodesic"


def test_compare_report_loads_every_image_in_chromium(tiny_run, tmp_path):
    from tests.test_report_browser import CHROMIUM, check_report

    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    out, _ = tiny_run
    states = check_report(out / "report.html", tmp_path)
    assert len(states) >= 10
    assert all(s == "1" for _, s in states), states
