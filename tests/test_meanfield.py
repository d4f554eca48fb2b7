"""Mean-field networks: the energy, the time scale, the dynamics and the measured LLN/CLT laws."""

from __future__ import annotations

import types

import numpy as np
import pytest

from landscapes.meanfield import (
    DivergenceError,
    MeanFieldNet,
    clt_experiment,
    fit_loglog,
    gd,
    isotropic_gaussians,
    limit_experiment,
    line_teacher,
    lln_experiment,
    meanfield_limit,
    one_neuron_teacher,
    online_sgd,
)

DATA = one_neuron_teacher(60, 5, seed=0)


def _check_slope(res, tol_se=0.15):
    assert 0 < res.slope_se <= tol_se, res.slope_se
    assert abs(res.slope - res.theory_slope) <= 3 * res.slope_se, (res.slope, res.slope_se)


# ------------------------------------------------------------------ the energy
def test_data_forms_and_layout():
    X, y = DATA
    obj = types.SimpleNamespace(X=X, y=y[:, None], task="regression")
    a, b = MeanFieldNet(obj, 4), MeanFieldNet((X, y), 4)
    assert a.fingerprint == b.fingerprint and a.dim == 4 * 6
    th = b.random_point(3)
    c, W = b.unpack(th)
    assert c.shape == (4,) and W.shape == (4, 5)
    assert np.array_equal(b.pack(c, W), th)
    # g_N = (1/N) sum c_i tanh(w_i . x), checked against a plain loop
    g = np.array([np.mean([c[i] * np.tanh(W[i] @ x) for i in range(4)]) for x in X[:3]])
    assert np.allclose(b.predict(th, X[:3]), g, rtol=1e-13, atol=1e-15)
    assert np.isclose(b.energy(th), 0.5 * np.mean((b.predict(th) - y) ** 2), rtol=1e-13)
    assert not np.shares_memory(b.X, X)


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


def test_diverging_step_is_detected_and_reported():
    net = MeanFieldNet(DATA, 20)
    th = net.random_point(0, size=3)
    with pytest.raises(DivergenceError, match="eps=.*too large"):
        gd(net, th, eps=200.0, T=2000.0)
    with pytest.raises(DivergenceError, match="alpha=.*too large"):
        online_sgd(net, th, alpha=500.0, T=20.0, seed=1)
    assert issubclass(DivergenceError, ValueError)


# ------------------------------------------------------------------ the time scale
def test_gd_step_is_eps_times_n_times_gradient():
    net = MeanFieldNet(DATA, 30)
    th = net.random_point(1, size=2)
    tr = gd(net, th, eps=0.1, T=0.1, n_records=2)
    assert tr.steps == 1 and np.allclose(tr.times, [0.0, 0.1])
    assert np.allclose(tr.theta, th - 0.1 * 30 * net.gradient(th), rtol=1e-12, atol=1e-14)
    # the number of steps depends on T/eps only, not on N
    assert (
        gd(MeanFieldNet(DATA, 300), MeanFieldNet(DATA, 300).random_point(0), eps=0.1, T=0.5).steps
        == 5
    )


def test_online_sgd_is_sirignano_spiliopoulos_update():
    X, y = DATA
    net = MeanFieldNet(DATA, 7)
    th = net.random_point(2)
    tr = online_sgd(net, th, alpha=0.7, T=1 / 7, seed=5, n_records=2)
    k = int(np.random.default_rng(5).integers(60, size=(1, 1))[0, 0])
    c, W = net.unpack(th)
    s = np.tanh(W @ X[k])
    gk = np.mean(c * s)
    c2 = c + (0.7 / 7) * (y[k] - gk) * s
    W2 = W + (0.7 / 7) * (y[k] - gk) * (c * (1 - s**2))[:, None] * X[k]
    assert tr.steps == 7 * 1 / 7 and np.allclose(tr.times, [0, 1 / 7])
    assert np.allclose(tr.theta[0], net.pack(c2, W2), rtol=1e-12, atol=1e-14)


def test_batched_replicas_equal_single_runs():
    net = MeanFieldNet(DATA, 12)
    th = net.random_point(4, size=3)
    Xt = DATA[0][:2]
    tr = gd(net, th, eps=0.2, T=1.0, test_X=Xt)
    seeds = [np.random.SeedSequence(9).spawn(3)[k] for k in range(3)]
    sg = online_sgd(net, th, alpha=1.0, T=1.0, seed=list(np.random.SeedSequence(9).spawn(3)))
    for k in range(3):
        one = gd(net, th[k], eps=0.2, T=1.0, test_X=Xt)
        assert np.allclose(one.theta[0], tr.theta[k], rtol=1e-12, atol=1e-13)
        assert np.allclose(one.outputs[:, 0], tr.outputs[:, k], rtol=1e-12, atol=1e-13)
        s1 = online_sgd(net, th[k], alpha=1.0, T=1.0, seed=[seeds[k]])
        assert np.allclose(s1.theta[0], sg.theta[k], rtol=1e-12, atol=1e-13)
    assert np.array_equal(th, net.random_point(4, size=3))  # argument not mutated


def test_ntk_scaling_is_a_different_object():
    """Output variance at init: C/N in the mean-field scaling, O(1) under 1/sqrt(N) (NTK)."""
    X = DATA[0][:1]
    widths = [8, 32, 128, 512]
    rng = np.random.default_rng(11)
    var_mf, var_ntk = [], []
    for N in widths:
        mf = MeanFieldNet(DATA, N)
        ntk = MeanFieldNet(DATA, N, scaling="ntk")
        th = mf.random_point(rng, size=2000)
        var_mf.append(mf.predict(th, X)[:, 0].var())
        var_ntk.append(ntk.predict(th, X)[:, 0].var())
    # exact constant: Var = E[c^2] E[tanh(w.x)^2] = E tanh(|x| z / sqrt(d))^2, z ~ N(0, 1)
    z = np.random.default_rng(0).standard_normal(400_000)
    C = np.mean(np.tanh(np.linalg.norm(X[0]) / np.sqrt(5) * z) ** 2)
    # sample variance of 2000 draws: relative sd ~ sqrt(2/2000) * kurtosis factor <= 0.1
    assert np.allclose(np.array(var_mf) * widths, C, rtol=0.25)
    assert np.allclose(var_ntk, C, rtol=0.25)
    assert abs(fit_loglog(widths, var_mf)[0] + 1) < 0.1
    assert abs(fit_loglog(widths, var_ntk)[0]) < 0.1


# ------------------------------------------------------------------ the exact limit
def test_limit_solver_exact_at_init_and_converged():
    data = line_teacher()
    lim = meanfield_limit(data, eps=0.05, T=1.0, nodes=20, refine=4, test_X=data[0][:3])
    assert lim.quadrature_error < 1e-6
    # t = 0: <c> = 0 so g = 0, and the moments of the uniform initial law
    assert np.isclose(lim.loss[0], 0.5 * np.mean(data[1] ** 2), rtol=1e-12)
    assert np.allclose(lim.outputs[0], 0.0, atol=1e-13)
    assert np.isclose(lim.mean_c2[0], 1.0, rtol=1e-12) and np.isclose(lim.mean_w2[0], 1.0)
    assert lim.loss[-1] < 0.5 * lim.loss[0]
    g = meanfield_limit(data, eps=0.05, T=0.5, init="gaussian", nodes=16, refine=4)
    assert g.quadrature_error < 1e-3  # Gauss-Hermite: slower, but converging


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


def test_isotropic_gaussians_shape():
    X, y = isotropic_gaussians(400, 3, delta=0.5, seed=2)
    assert set(np.unique(y)) == {-1.0, 1.0}
    r = np.linalg.norm(X, axis=1) / np.sqrt(3)
    assert r[y > 0].mean() > 1.3 and r[y < 0].mean() < 0.7


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
    from landscapes import meanfield as mf

    data = one_neuron_teacher(20, 3, seed=0)
    ws, S, kw = [4, 8, 16], 3, dict(T=0.1, n_boot=20)
    for kind in ("lln", "clt", "limit"):
        extra = dict(dynamics="online_sgd", alpha=0.5) if kind == "clt" else {}
        d_kind = mf.line_teacher() if kind == "limit" else data
        X, _ = mf.as_data(d_kind)
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
    from landscapes import meanfield as mf

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
    from landscapes.meanfield import bootstrap_slope

    ws = np.array([10.0, 20.0, 40.0, 80.0])
    rows = np.array([-0.4, -0.5, -0.7, -0.55])
    boot = 3.0 * ws[None, :] ** rows[:, None]
    sl, se = bootstrap_slope(ws, 2.0 * ws**-0.5, boot)
    assert sl == pytest.approx(-0.5, abs=1e-12)
    assert se == pytest.approx(np.std(rows, ddof=1), abs=1e-12)
