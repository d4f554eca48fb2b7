"""The comparison's "Dynamics" section: exact curve stored, two-time observables exact."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.config import build_config
from landscapes.random import as_seed_sequence, child

MICRO = {
    "seed": 5,
    "pspin": {"sizes": [8, 10], "replicas": 3, "samples": 1, "max_steps": 100, "census_size": 0},
    "networks": {
        "widths": [3],
        "families": ["teacher_student"],
        "replicas": 3,
        "gd_steps": 12,
        "sgd_epochs": 2,
        "sgd_batch": 8,
        "n_train": 32,
        "n_test": 20,
    },
    "spectra": {"endpoints": 1, "dense_max": 60, "slq_probes": 2, "slq_steps": 10},
    "graphs": {"enabled": False},
}


def test_report_has_a_dynamics_section_with_the_exact_curve_stored(tmp_path, monkeypatch):
    """The report shows the dynamics figures; the stored exact curve is pspin.theory.dynamics
    to step x max_steps; a redraw reads it back instead of solving again."""
    from analysis.store import RunFolder
    from analysis.studies.compare import make_figures_and_report, run_comparison
    from pspin import theory

    config = build_config("quick", MICRO)
    run = RunFolder(tmp_path / "run", "compare", config)
    run_comparison(config, run, progress=False)
    written = {p.name for p in make_figures_and_report(run, config, workers=1)}
    assert {"dynamics_energy.png", "dynamics_teacher_student.png"} <= written
    md = (run.path / "report.md").read_text()
    html = (run.path / "report.html").read_text()
    for text in (md, html):
        assert "Dynamics" in text and "figures/dynamics_energy.png" in text
        assert "Cugliandolo" in text
    t_max = config["pspin"]["step"] * config["pspin"]["max_steps"]
    stored = run.read_arrays(f"dynamics_theory_p3_t{t_max:g}.npz")
    sol = theory.dynamics(3, 0.0, t_max, grid=int(stored["grid"]))
    np.testing.assert_allclose(stored["t"], sol.t, rtol=1e-12)
    np.testing.assert_allclose(stored["energy"], sol.energy, rtol=1e-12)
    a = 1
    tw, lag = stored["waiting_times"][a], stored["lags"]
    ok = np.isfinite(stored["correlation"][a])
    np.testing.assert_allclose(
        stored["correlation"][a, ok], sol.correlation(tw + lag[ok], np.full(ok.sum(), tw))
    )
    assert stored["correlation"][a, 0] == pytest.approx(1.0)

    # redrawing never solves again
    def refuse(*_a, **_k):
        raise AssertionError("the exact dynamics was solved again")

    monkeypatch.setattr(theory, "dynamics", refuse)
    again = {p.name for p in make_figures_and_report(run, config, workers=1)}
    assert "dynamics_energy.png" in again


@pytest.mark.parametrize("budget", [None, 0])
def test_two_time_arrays_are_the_recorded_descents_and_change_nothing(monkeypatch, budget):
    """tt_gd_* / tt_sgd_* equal two_time of the first replicas recorded directly (recording in
    the main run, or rerunning those replicas when the memory budget is 0); the final values
    equal a run without recording."""
    from analysis.dynamics import gradient_descent, sgd, two_time
    from analysis.studies.compare import ModelTask, build_energy, measure_ensemble, protocol
    from analysis.studies.compare.dynamics import two_time_ladder

    if budget is not None:
        monkeypatch.setattr(protocol, "_RECORD_BYTES", budget)
    config = build_config("quick", {"networks": {"n_train": 40, "n_test": 30}})
    e = build_energy(config, ModelTask("digits", 3), 7)
    gd = dict(step=1.0, max_steps=30, gtol=1e-4, schedule="armijo")
    sg = dict(batch_size=8, step=0.2, epochs=3)
    a = measure_ensemble(e, replicas=3, seed=1, gd=gd, sgd=sg, spectra=0, record_replicas=2)
    plain = measure_ensemble(e, replicas=3, seed=1, gd=gd, sgd=sg, spectra=0)
    for k in ("gd_final", "sgd_final", "gd_trace", "q_param"):
        np.testing.assert_array_equal(a.arrays[k], plain.arrays[k])
    assert not any(k.startswith("tt_") for k in plain.arrays)
    ss = as_seed_sequence(1)
    x0 = e.random_point(child(ss, 0), size=3)[:2]
    rg = gradient_descent(e, x0, progress=False, record_every=1, record_points=True, **gd)
    streams = [child(child(ss, 1), k) for k in range(2)]
    rs = sgd(e, x0, **sg, seed=streams, record_every=1, record_points=True, progress=False)
    for name, r, step in (("gd", rg, 1.0), ("sgd", rs, 0.2)):
        got = a.arrays
        assert int(got[f"tt_{name}_replicas"]) == 2
        t = step * r.trajectory_steps
        tw, lags = two_time_ladder(t)
        np.testing.assert_allclose(got[f"tt_{name}_waiting_times"], tw)
        want = two_time(r.trajectory_x, t, tw, lags)
        np.testing.assert_allclose(got[f"tt_{name}_correlation"], want.correlation, rtol=1e-9)
        np.testing.assert_allclose(got[f"tt_{name}_msd"], want.msd, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(got[f"tt_{name}_correlation"][:, 0], 1.0, rtol=1e-12)
        np.testing.assert_array_equal(got[f"tt_{name}_msd"][:, 0], 0.0)
