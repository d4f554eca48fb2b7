"""Halting-time study: power statement, normalization, protocols, GD vs SGD on the split p-spin."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.dynamics import gradient_descent
from analysis.studies import halting as hs
from analysis.studies.pspin_sgd import gd_vs_sgd, sagun_sgd, settle_epochs
from landscapes.random import child
from pspin import SphericalPSpin
from pspin.split import SplitPSpin


def test_ks_detectable_distance_closed_form_and_power_by_simulation():
    n1, n2 = 120, 80
    d80 = hs.ks_detectable_distance(n1, n2)
    c = stats.kstwobign.isf(0.05)
    assert c == pytest.approx(1.3581, abs=1e-4)
    assert d80 == pytest.approx((c + 0.5 * stats.norm.ppf(0.8)) * math.sqrt(1 / n1 + 1 / n2))
    # two normal laws shifted by delta are sup|F - G| = 2 Phi(delta / 2) - 1 apart
    rng = np.random.default_rng(0)

    def power(D, reps=300):
        delta = 2 * stats.norm.ppf((1 + D) / 2)
        hits = 0
        for _ in range(reps):
            a = rng.standard_normal(n1)
            b = rng.standard_normal(n2) + delta
            hits += stats.ks_2samp(a, b).pvalue < 0.05
        return hits / reps

    # Massey's bound is conservative: at d80 the power is at least 0.8 (3 s.e. of 300 reps)
    assert power(d80) > 0.8 - 3 * math.sqrt(0.16 / 300)
    # and the statement has teeth: half that distance is detected far less often
    assert power(d80 / 2) < 0.6
    with pytest.raises(ValueError, match="sample sizes"):
        hs.ks_detectable_distance(0, 5)


def test_normalized_and_two_sample():
    t = np.array([3, 5, -1, 7, 9, 11])
    z = hs.normalized(t)
    assert z.size == 5 and abs(z.mean()) < 1e-12 and z.std(ddof=1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2"):
        hs.normalized([4, -1])
    rng = np.random.default_rng(1)
    same = hs.two_sample(rng.standard_normal(200), rng.standard_normal(200))
    diff = hs.two_sample(rng.standard_normal(200), rng.standard_normal(200) + 1.0)
    assert same["ks_pvalue"] > 0.01 and diff["ks_pvalue"] < 1e-6
    assert diff["ad_pvalue"] <= 0.001 + 1e-12
    assert same["ks_critical"] < same["ks_detectable"]


def test_pspin_halting_matches_a_direct_descent_and_compares_laws():
    study = hs.pspin_halting([8, 10], replicas=6, models=2, seed=3, max_steps=5000)
    assert len(study.runs) == 2 * 4 * 6
    # group (gaussian, N=10, model 1) equals a direct run on the same streams
    root = np.random.SeedSequence(3)
    m = SphericalPSpin(10, 3, seed=child(root, "model", 10, 0, 1))
    x0 = m.random_point(child(root, "starts", 10, 0, 1), size=3)
    res = gradient_descent(m, x0, step=0.2, max_steps=5000, gtol=0.01 / math.sqrt(10))
    taus = [
        r["tau"]
        for r in study.runs
        if r["ensemble"] == "gaussian" and r["size"] == 10 and r["model"] == 1
    ]
    # censored runs (threshold never reached) are NaN, not a -1 sentinel
    want = [float(s) if c else np.nan for s, c in zip(res.steps, res.converged, strict=True)]
    np.testing.assert_array_equal(taus, want)
    summary = hs.summarize(study)
    assert len(summary) == 8 and all(r["runs"] == 6 for r in summary)
    tests = hs.compare_laws(study)
    # 6 ensemble pairs at each of 2 sizes, 4 ensembles across the 2 sizes, 6 pooled pairs
    assert len(tests) == 16 + 6
    pooled = [r for r in tests if r["a"].endswith("@all")]
    halted = {}
    for r in summary:
        halted[r["ensemble"]] = halted.get(r["ensemble"], 0) + r["halted"]
    assert len(pooled) == 6
    assert all(r["n1"] == halted[r["a"][:-4]] and r["n2"] == halted[r["b"][:-4]] for r in pooled)
    assert len(hs.compare_laws(study, pooled=False)) == 16
    assert all(0 <= r["ks_pvalue"] <= 1 and r["ks_detectable"] > r["ks_critical"] for r in tests)
    with pytest.raises(ValueError, match="ensemble"):
        hs.pspin_halting([8], ensembles=["cauchy"])


def test_first_below_and_network_halting():
    traj = np.array([[3.0, 3.0], [1.0, 2.5], [0.5, 2.0]])
    np.testing.assert_array_equal(hs._first_below(traj, 1.0), [1, np.nan])
    # stored halting times: NaN for censored, also for the -1 of earlier stored runs
    assert hs._tau(3) == 3.0 and np.isnan(hs._tau(-1)) and np.isnan(hs._tau(np.nan))
    study = hs.network_halting(
        data_seeds=2,
        inits=2,
        hidden=4,
        n_train=64,
        epochs=6,
        thresholds={"digits": 1.8, "teacher": 0.5},
        seed=1,
    )
    fams = {(r["family"], r["ensemble"]) for r in study.runs}
    assert fams == {(f, e) for f in ("mlp-gd", "mlp-sgd") for e in ("digits", "teacher")}
    assert len(study.runs) == 2 * 2 * 2 * 2
    assert all(np.isnan(r["tau"]) or 0 <= r["tau"] <= 6 for r in study.runs)
    with pytest.raises(ValueError, match="methods"):
        hs.network_halting(methods=["adam"])


def test_settle_epochs():
    traj = np.array([[0.0, 5.0], [1.0, 1.05], [1.5, 1.0], [1.0, 1.0]])
    assert settle_epochs(traj, np.array([1.0, 1.0]), 0.1).tolist() == [3, 1]


def test_sagun_sgd_and_gd_vs_sgd_small():
    split = SplitPSpin(10, 3, 3, seed=2)
    x0 = split.random_point(5, size=4)
    st = sagun_sgd(split, x0, epochs=4, final_gd_steps=30, seed=7)
    assert st.sgd.steps.tolist() == [12] * 4  # P steps per epoch
    assert st.sgd.params["step"] == pytest.approx(0.3 / 3)
    assert st.trajectory.shape[0] == 4 + 1 + 30
    assert st.epochs.tolist() == [34] * 4
    # the last GD row is the final energy
    assert np.allclose(st.trajectory[-1], st.gd.intensive)
    cmp = gd_vs_sgd(10, P=3, samples=1, replicas=5, sgd_epochs=5, final_gd_steps=200, seed=0)
    s = cmp.summary
    assert cmp.gd_energy.shape == (5,) and cmp.sgd_energy.shape == (5,)
    assert s["gd_mean"] == pytest.approx(cmp.gd_energy.mean())
    assert 0 <= s["test_ks_pvalue"] <= 1 and s["test_n1"] == 5
    # both methods stop in a local minimum: below the random level, above the ground state
    assert np.all(cmp.gd_energy < -1.0) and np.all(cmp.sgd_energy < -1.0)
    assert np.all(cmp.sgd_energy > -2.0) and np.all(cmp.gd_energy > -2.0)


def test_gd_vs_sgd_paired_reports_shared_minima():
    kw = dict(P=3, samples=1, replicas=4, sgd_epochs=3, final_gd_steps=100, seed=1)
    paired = gd_vs_sgd(10, paired=True, **kw)
    indep = gd_vs_sgd(10, **kw)
    assert 0.0 <= paired.summary["same_minimum"] <= 1.0
    assert math.isnan(indep.summary["same_minimum"])
    # GD runs are the same in both designs; SGD starts differ unless paired
    assert np.array_equal(paired.gd_energy, indep.gd_energy)
    assert not np.allclose(paired.sgd_energy, indep.sgd_energy)
