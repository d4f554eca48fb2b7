"""The mean-field scaling experiments: the measured LLN/CLT laws, the limit, the units."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.studies.meanfield import (
    clt_experiment,
    limit_experiment,
    lln_experiment,
)
from landscapes.meanfield import MeanFieldNet, one_neuron_teacher

DATA = one_neuron_teacher(60, 5, seed=0)


def _check_slope(res, tol_se=0.15):
    assert 0 < res.slope_se <= tol_se, res.slope_se
    assert abs(res.slope - res.theory_slope) <= 3 * res.slope_se, (res.slope, res.slope_se)


def test_bad_input_is_a_clear_error():
    X, y = DATA
    with pytest.raises(ValueError, match="N"):
        MeanFieldNet(DATA, 0)
    with pytest.raises(ValueError, match="y must have shape"):
        MeanFieldNet((X, y[:-1]), 4)
    with pytest.raises(ValueError, match="X must have shape"):
        MeanFieldNet((X[:, 0], y), 4)
    with pytest.raises(ValueError, match="data must be"):
        MeanFieldNet(X, 4)
    with pytest.raises(ValueError, match="activation"):
        MeanFieldNet(DATA, 4, "relu")
    net = MeanFieldNet(DATA, 4)
    with pytest.raises(ValueError, match="inputs must have shape"):
        net.predict(net.random_point(0), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="two distinct widths"):
        clt_experiment([8], 5, seed=0)
    with pytest.raises(ValueError, match="seeds"):
        clt_experiment([8, 16], 2, seed=0)
    with pytest.raises(ValueError, match="dimension"):
        limit_experiment([8, 16], 5, data=DATA)


# ------------------------------------------------------------------ the exact limit


def test_limit_experiment_particles_approach_the_pde():
    res = limit_experiment([16, 32, 64, 128, 256], 30, seed=1, T=1.0, n_boot=300)
    _check_slope(res)
    assert res.extra["quadrature_error"] < 1e-6
    assert set(res.slopes) == {"output", "mean_c2", "mean_w2", "loss_curve"}
    assert {"observable", "width", "seed", "value", "limit"} <= set(res.table.columns)


# ------------------------------------------------------------------ LLN and CLT
def test_lln_rms_distance_to_limit_scales_as_inverse_sqrt_n():
    res = lln_experiment([25, 50, 100, 200], 30, seed=1, T=1.0, n_boot=300, data=DATA)
    _check_slope(res)
    for name in ("loss_curve", "mean_abs_c"):
        sl, se = res.slopes[name]
        assert se <= 0.15 and abs(sl + 0.5) <= 3 * se
    assert res.config["ref_width"] == 16 * 200


def test_clt_variance_scales_as_inverse_n_for_gd_and_sgd():
    kw = dict(seed=1, T=1.0, n_boot=300, data=DATA)
    g = clt_experiment([25, 50, 100, 200, 400], 30, eps=0.1, **kw)
    s = clt_experiment([50, 100, 200, 400], 30, dynamics="online_sgd", **kw)
    _check_slope(g)
    _check_slope(s)
    assert g.extra["normality_pvalue"] > 0.01
    # SGD's constant N * Var is larger (martingale term): compare the means over widths
    cg, cs = g.summary["scaled"].mean(), s.summary["scaled"].mean()
    se = np.hypot(
        (g.summary["stat_se"] * g.summary["width"]).mean(),
        (s.summary["stat_se"] * s.summary["width"]).mean(),
    )
    assert cs - cg > 2 * se, (cg, cs, se)
    # reproducible from the seed; the seed is recorded
    again = clt_experiment([25, 50], 5, eps=0.1, **kw)
    assert np.array_equal(
        again.table["output"].to_numpy(),
        clt_experiment([25, 50], 5, eps=0.1, **kw).table["output"].to_numpy(),
    )
    assert g.config["seed"]["entropy"] == 1


# ------------------------------------------------------------------ per-width units
def _same_result(a, b):
    import pandas as pd

    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    assert a.slopes == b.slopes and a.config == b.config and a.slope_se == b.slope_se
    for k, v in b.extra.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(a.extra[k], v)
        elif k != "limit":
            assert a.extra[k] == v or (v != v and a.extra[k] != a.extra[k]), k


def test_units_run_in_any_order_give_the_experiments_bit_for_bit():
    from analysis.studies import meanfield as mf
    from landscapes.meanfield import as_data, line_teacher

    data = one_neuron_teacher(20, 3, seed=0)
    ws, S, kw = [4, 8, 16], 3, dict(T=0.1, n_boot=20)
    for kind in ("lln", "clt", "limit"):
        extra = dict(dynamics="online_sgd", alpha=0.5) if kind == "clt" else {}
        d_kind = line_teacher() if kind == "limit" else data
        X, _ = as_data(d_kind)
        fn = {"lln": lln_experiment, "clt": clt_experiment, "limit": limit_experiment}[kind]
        lib = fn(ws, S, 7, data=d_kind, progress=False, **kw, **extra)
        cfg = mf.scaling_config(kind, ws[::-1], S, 7, n_samples=len(X), d=X.shape[1], **kw, **extra)
        assert cfg == lib.config and list(cfg) == list(lib.config)  # same record, same order
        streams = mf.scaling_streams(kind, len(ws), 7)
        Xt = mf.scaling_test_inputs(
            kind, X.shape[1], n_test=cfg.get("n_test", 1), seed=streams.get("test")
        )
        wkw = mf.scaling_width_params(cfg)
        # widest first: every width depends only on its own stream
        obs = {
            N: mf.scaling_width(kind, d_kind, N, S, s, Xt, **wkw)
            for N, s in reversed(list(zip(ws, streams["widths"], strict=True)))
        }
        obs = [obs[N] for N in ws]
        boot = streams["bootstrap"]
        if kind == "lln":
            ref = mf.scaling_width(
                kind, d_kind, cfg["ref_width"], cfg["ref_seeds"], streams["reference"], Xt, **wkw
            )
            res = mf.lln_combine(cfg, obs, ref, bootstrap_seed=boot, test_X=Xt)
        elif kind == "clt":
            res = mf.clt_combine(cfg, obs, bootstrap_seed=boot, test_X=Xt)
        else:
            lim = mf.limit_solution(d_kind, eps=cfg["eps"], T=cfg["T"], nodes=cfg["nodes"])
            res = mf.limit_combine(cfg, obs, lim, bootstrap_seed=boot)
        _same_result(res, lib)
        assert res.kind == kind


def test_scaling_config_and_units_reject_bad_input():
    from analysis.studies import meanfield as mf

    with pytest.raises(ValueError, match="unknown lln parameter"):
        mf.scaling_config("lln", [4, 8], 3, 0, n_samples=10, d=2, nodes=4)
    with pytest.raises(ValueError, match="n_boot"):
        mf.scaling_config("clt", [4, 8], 3, 0, n_samples=10, d=2, n_boot=1)
    with pytest.raises(ValueError, match="dimension <= 2"):
        mf.scaling_config("limit", [4, 8], 3, 0, n_samples=10, d=3)
    with pytest.raises(ValueError, match="two distinct widths"):
        mf.scaling_config("lln", [4, 4], 3, 0, n_samples=10, d=2)
    with pytest.raises(ValueError, match="unknown scaling experiment"):
        mf.scaling_width("ntk", DATA, 4, 3, 0, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="dynamics"):
        mf.scaling_width("clt", DATA, 4, 3, 0, np.zeros((2, 5)), dynamics="adam")
    cfg = mf.scaling_config("clt", [4, 8], 3, 0, n_samples=60, d=5, n_test=2)
    obs = [mf.scaling_width("clt", DATA, N, 4, N, np.zeros((2, 5))) for N in (4, 8)]
    with pytest.raises(ValueError, match="4 seeds"):
        mf.clt_combine(cfg, obs, bootstrap_seed=0, test_X=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="one observables dict per width"):
        mf.clt_combine(cfg, obs[:1], bootstrap_seed=0, test_X=np.zeros((2, 5)))


def test_bootstrap_slope_is_exact_on_power_laws():
    from analysis.studies.meanfield import bootstrap_slope

    ws = np.array([10.0, 20.0, 40.0, 80.0])
    rows = np.array([-0.4, -0.5, -0.7, -0.55])
    boot = 3.0 * ws[None, :] ** rows[:, None]
    sl, se = bootstrap_slope(ws, 2.0 * ws**-0.5, boot)
    assert sl == pytest.approx(-0.5, abs=1e-12)
    assert se == pytest.approx(np.std(rows, ddof=1), abs=1e-12)
