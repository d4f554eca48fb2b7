"""Finite N beside the exact p-spin dynamics: the a(t)/N fit, per-sample errors, resumable runs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from analysis.store import RunFolder
from analysis.studies import dynamics as study
from analysis.studies.dynamics_compare import comparison_table, fit_table, inverse_n_fit
from pspin import SphericalPSpin


def test_inverse_n_fit_recovers_a_known_slope():
    sizes = np.array([100.0, 200.0, 400.0, 800.0])
    err = np.array([0.004, 0.003, 0.002, 0.001])
    f = inverse_n_fit(sizes, 3.0 / sizes, err)
    assert f["a"] == pytest.approx(3.0, rel=1e-12) and f["chi2"] == pytest.approx(0.0, abs=1e-20)
    assert f["dof"] == 3
    assert f["a_se"] == pytest.approx(1.0 / np.sqrt(np.sum((1 / sizes) ** 2 / err**2)))
    # a residual of one sigma at one size: chi2 = 1 - (its projection on 1/N), computed by hand
    y = 3.0 / sizes + np.array([0.0, 0.0, 0.0, 0.001])
    f = inverse_n_fit(sizes, y, err)
    w = (1 / sizes) ** 2 / err**2
    a = np.sum((1 / sizes) * y / err**2) / w.sum()
    assert f["a"] == pytest.approx(a) and f["chi2"] == pytest.approx(
        np.sum(((y - a / sizes) / err) ** 2)
    )
    with pytest.raises(ValueError, match="error"):
        inverse_n_fit(sizes, y, np.zeros(4))
    with pytest.raises(ValueError, match="length"):
        inverse_n_fit(sizes, y[:2], err)


def test_comparison_table_fits_a_synthetic_one_over_n_deviation():
    t = np.linspace(0.0, 4.0, 201)
    e_inf = -np.log1p(t)
    sol = SimpleNamespace(
        t=t, t_max=4.0, error=np.zeros_like(t), energy_at=lambda s: -np.log1p(np.asarray(s))
    )
    a_true = 2.0 + t  # a(t)
    runs = {
        N: dict(energy=e_inf + a_true / N, energy_err=np.full_like(t, 0.1 / N)) for N in (50, 100)
    }
    res = dict(theory=sol, times=t, runs=runs, step_bias=None)
    rows = comparison_table(res, at=(1.0, 2.0, 8.0))
    assert {r["t"] for r in rows} == {1.0, 2.0}  # t = 8 is past the runs
    for r in rows:
        assert r["a"] == pytest.approx(2.0 + r["t"]) and abs(r["z_after"]) < 1e-9
        assert r["N_times_deviation"] == pytest.approx(2.0 + r["t"])
    fits = fit_table(rows)
    assert [f["sizes"] for f in fits] == ["50 100", "50 100"] and fits[0]["dof"] == 1
    # a step bias b(t) is subtracted before the fit: the same a(t) comes back
    b = 0.01 * t
    runs2 = {N: dict(r, energy=r["energy"] + b) for N, r in runs.items()}
    bias = dict(N=50, times=t, difference=b / 2, difference_err=np.zeros_like(t))
    rows2 = comparison_table(dict(res, runs=runs2, step_bias=bias), at=(1.0, 2.0))
    for r in rows2:
        assert r["a"] == pytest.approx(2.0 + r["t"]) and r["step_bias"] == pytest.approx(
            0.01 * r["t"]
        )


def test_lowest_hessian_eigenvalues_match_the_projected_dense_hessian():
    model = SphericalPSpin(12, 3, seed=5)
    X = model.random_point(1, size=2)
    got = study.lowest_hessian_eigenvalues(model, X, k=3)
    for x, lam in zip(X, got, strict=True):
        H = model.hessian(x)
        g = model.gradient(x)
        P = np.eye(12) - np.outer(x, x) / 12
        R = P @ (H - (x @ g / 12) * np.eye(12)) @ P
        ev = np.linalg.eigvalsh(R)
        ev = np.delete(ev, np.argmin(np.abs(ev)))  # the normal direction x: eigenvalue 0
        assert np.allclose(lam, ev[:3], atol=1e-9)


class _Store:
    """A dict-backed task store (the RunFolder task API) that counts what was computed."""

    def __init__(self):
        self.tasks, self.saved = {}, 0

    def has_task(self, key):
        return key in self.tasks

    def save_task(self, key, meta, **arrays):
        self.tasks[key] = (meta, {k: np.array(v) for k, v in arrays.items()})
        self.saved += 1

    def load_task(self, key):
        return self.tasks[key]


def test_pspin_study_per_sample_errors_sizes_and_resume():
    store = _Store()
    kw = dict(
        sizes=(10, 14),
        samples=(3, 2),
        replicas=2,
        t_max=(1.0, 0.6),
        step=0.02,
        waiting_times=(0.2,),
        lags=(0.0, 0.2),
        grid=32,
        hessian=True,
        step_check=10,
        store=store,
        log=lambda m: None,
    )
    r = study.pspin_study(**kw)
    assert store.saved == 3 + 2 + 3  # samples, and the half-step reruns of N = 10
    run = r["runs"][10]
    S = run["energy_samples"]
    assert S.shape == (3, r["times"].size)
    # the error is the s.e. over disorder samples of the replica means, not over replicas
    assert np.allclose(run["energy_err"], S.std(axis=0, ddof=1) / np.sqrt(3))
    assert np.allclose(run["energy"], S.mean(axis=0))
    # N = 14 stops at t = 0.6: NaN afterwards, finite before
    e14 = r["runs"][14]["energy"]
    assert (
        np.isnan(e14[r["times"] > 0.6 + 1e-9]).all() and np.isfinite(e14[r["times"] <= 0.6]).all()
    )
    assert run["lambda_min"].shape == (3, 2, 3)
    b = r["step_bias"]
    assert b["N"] == 10 and b["difference"][0] == 0.0 and np.isfinite(b["difference"]).all()
    c = run["twotime"]
    per = run["correlation_samples"]
    assert np.allclose(c.correlation, per.mean(axis=0), equal_nan=True)
    assert np.allclose(c.correlation_err, per.std(axis=0, ddof=1) / np.sqrt(3), equal_nan=True)
    tables, _ = study.pspin_outputs(r)
    assert {"comparison.csv", "fit.csv", "endpoints.csv", "step_bias.csv"} <= set(tables)
    assert {row["N"] for row in tables["comparison.csv"] if row["t"] > 0.7} == {10}
    # a second call with the same store computes nothing and gives the same numbers
    again = study.pspin_study(**kw)
    assert store.saved == 8
    assert np.array_equal(again["runs"][10]["energy"], run["energy"])


def test_pspin_study_stores_tasks_in_a_run_folder(tmp_path):
    rf = RunFolder(tmp_path / "run", command="dynamics", config={"x": 1})
    kw = dict(sizes=(8,), samples=2, replicas=2, t_max=0.4, step=0.02, grid=32,
              waiting_times=(0.1,), lags=(0.0,), log=lambda m: None)  # fmt: skip
    first = study.pspin_study(store=rf, **kw)
    assert rf.has_task("N8_s0") and rf.has_task("N8_s1")
    again = study.pspin_study(
        store=RunFolder(tmp_path / "run", command="dynamics", config={"x": 1}, resume=True), **kw
    )
    assert np.array_equal(first["runs"][8]["energy"], again["runs"][8]["energy"])


def test_pspin_study_bad_input():
    with pytest.raises(ValueError, match="samples"):
        study.pspin_study(sizes=(8, 10), samples=(2,), log=lambda m: None)
    with pytest.raises(ValueError, match="waiting_times"):
        study.pspin_study(sizes=(8, 9), t_max=(2, 0.5), waiting_times=(1.0,), log=lambda m: None)
    with pytest.raises(ValueError, match="step_check"):
        study.pspin_study(
            sizes=(8,), t_max=2.0, step_check=9, waiting_times=(1,), log=lambda m: None
        )


def test_stored_samples_must_hold_the_waiting_times():
    store = _Store()
    kw = dict(sizes=(8,), samples=2, replicas=2, t_max=0.6, step=0.02, grid=32, lags=(0.0, 0.1),
              store=store, log=lambda m: None)  # fmt: skip
    study.pspin_study(waiting_times=(0.2,), **kw)
    with pytest.raises(ValueError, match="waiting times"):
        study.pspin_study(waiting_times=(0.2, 0.4), **kw)
