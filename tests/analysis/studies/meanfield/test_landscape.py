"""Mean-field networks on the spherical 3-spin target, beside the 3-spin's landscape."""

from __future__ import annotations

import math

import numpy as np

from analysis.studies.meanfield.landscape import landscape_experiment, pspin_target_data


def test_pspin_target_data_is_the_pspin_energy():
    X, y, model = pspin_target_data(5, 50, seed=3)
    assert X.shape == (50, 5)
    assert np.allclose(np.linalg.norm(X, axis=1), math.sqrt(5))
    assert np.allclose(y, model.energy(X) / math.sqrt(5))
    # unit variance in the ABC normalization: E[y^2] = E[H^2]/d = 1 (50 points: loose)
    assert 0.4 < np.mean(y**2) < 2.0


def test_landscape_experiment_small():
    res = landscape_experiment(
        (8, 16, 32),
        8,
        seed=1,
        d=4,
        n_samples=60,
        T=2.0,
        eps=0.2,
        ref_factor=4,
        ref_seeds=2,
        hessian_max_width=16,
        pspin_sizes=(12, 24),
        pspin_seeds=4,
        pspin_steps=300,
        n_boot=100,
    )
    s = res.summary
    assert list(s["width"]) == [8, 16, 32]
    # losses decreased from the initial ~ 1/2 E[y^2]; spread over seeds shrinks with width
    assert (s["mean_loss"] < 0.5).all()
    assert s["spread"].iloc[-1] < s["spread"].iloc[0]
    # Hessian of N*L at the end point, dense, for the widths <= 16 only
    assert len(res.spectra["net 8"]) == 8 * 5 and np.isnan(s["hess_min"].iloc[-1])
    # p-spin: GD endpoints are minima (Hessian >= 0 up to tolerance) above the threshold
    ps = res.pspin
    assert (ps["mean_energy"] > -res.extra["e_inf"] - 0.05).all()
    assert (ps["hess_min"] > -1e-6).all()
    assert res.config["seed"]["entropy"] == 1


SMALL = dict(
    d=4,
    n_samples=40,
    T=1.0,
    ref_factor=2,
    ref_seeds=2,
    hessian_max_width=8,
    pspin_sizes=(8,),
    pspin_seeds=3,
    pspin_steps=100,
    n_boot=30,
)


def test_landscape_sweep_resumes_per_task_and_matches_the_experiment(tmp_path):
    import pandas as pd

    from analysis.store import RunFolder
    from analysis.studies.meanfield.landscape import (
        landscape_combine,
        landscape_plan,
        landscape_tasks,
    )
    from analysis.sweep import load_results, run_tasks

    plan = landscape_plan((8, 16), 4, 2, **SMALL)
    tasks = landscape_tasks(plan)
    # the reference, each width, each p-spin size: parameters and seed records only
    assert [t.config.get("width", t.config.get("n_spins")) for t in tasks] == [32, 8, 16, 8]
    assert [t.seed["spawn_key"] for t in tasks] == [[1], [4], [5], [3, 0]]
    folder = RunFolder(tmp_path / "run", "test", {"plan": plan})
    assert run_tasks(tasks, folder, progress=False).ok
    (folder.path / "tasks" / f"{tasks[2].key}.json").unlink()  # width 16 lost
    again = run_tasks(tasks, folder, progress=False)
    assert again.completed == (tasks[2].key,) and len(again.skipped) == 3
    res = landscape_combine(plan, load_results(folder, tasks))
    ref = landscape_experiment((8, 16), 4, 2, **SMALL, progress=False)
    for name in ("table", "summary", "pspin"):
        pd.testing.assert_frame_equal(getattr(res, name), getattr(ref, name), check_exact=True)
    # (the excess-loss slope is NaN at this tiny size: NaN == NaN for assert_equal)
    np.testing.assert_equal(
        (res.slope, res.slope_se, res.spread_slope, res.config),
        (ref.slope, ref.slope_se, ref.spread_slope, ref.config),
    )
    assert res.spectra.keys() == ref.spectra.keys() == {"net 8", "pspin 8"}


def test_coupled_union_net_is_the_pair_of_nets_side_by_side():
    # at T = 0 the union net of seeds 2i, 2i+1 outputs exactly the pair's average output
    from analysis.studies.meanfield.landscape import landscape_net_task
    from landscapes.meanfield import MeanFieldNet
    from landscapes.random import seed_info

    data_seed = np.random.SeedSequence(5)
    cfg = dict(d=4, n_samples=30, data_seed=seed_info(data_seed), eps=0.5, T=0.0)
    cfg.update(width=6, seeds=5, hessian=False, coupled=True)
    meta, arrays = landscape_net_task(cfg, np.random.SeedSequence(9))
    X, y, _ = pspin_target_data(4, 30, seed=data_seed)
    net = MeanFieldNet((X, y), 6)
    kids = np.random.SeedSequence(9).spawn(5)
    th = np.stack([net.random_point(np.random.default_rng(s)) for s in kids])
    g = net.predict(th)
    pair_mean = (g[0:4:2] + g[1:4:2]) / 2
    assert arrays["coupled_loss"].shape == (2,)  # 5 seeds: 2 pairs, the last seed unpaired
    np.testing.assert_allclose(arrays["coupled_loss"], 0.5 * np.mean((pair_mean - y) ** 2, 1))
    np.testing.assert_allclose(arrays["final_loss"], 0.5 * np.mean((g - y) ** 2, 1))


def test_coupled_excess_falls_like_one_over_n():
    # Rotskoff & Vanden-Eijnden: e(N) = E[L_N(T)] - L_inf(T) ~ b/N. The coupled difference
    # D = pair mean - union net (E[D] = e(N) - e(2N)) has noise ~ 1/N, not N^-1/2, so 20
    # pairs per width resolve the slope; the plain excess over a reference does not.
    res = landscape_experiment(
        (16, 32, 64, 128),
        40,
        seed=1,
        d=5,
        n_samples=100,
        eps=1.0,
        T=20.0,
        ref_factor=2,
        ref_seeds=2,
        hessian_max_width=0,
        pspin_sizes=(8,),
        pspin_seeds=2,
        pspin_steps=10,
        n_boot=200,
    )
    s = res.summary
    assert (s["coupled_excess"] > 3 * s["coupled_excess_se"]).all()
    # the noise of D falls like 1/N: N * sd(D) stays within a factor 3 across widths
    nsd = s["width"] * s["coupled_sd"]
    assert nsd.max() < 3 * nsd.min()
    assert res.coupled_slope_se <= 0.15
    assert abs(res.coupled_slope + 1.0) <= 3 * res.coupled_slope_se
    assert res.config["coupled"] is True and np.isnan(s["hess_min"]).all()
    from analysis.plots import use_agg

    use_agg()
    from analysis.plots.meanfield import coupled_excess_figure

    fig = coupled_excess_figure(s, res.coupled_slope, res.coupled_slope_se, res.slope, res.slope_se)
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_coupled_off_leaves_the_plain_measurement_unchanged():
    on = landscape_experiment((8, 16), 4, 2, **SMALL, progress=False)
    off = landscape_experiment((8, 16), 4, 2, **SMALL, coupled=False, progress=False)
    cols = list(off.summary.columns)
    assert "coupled_excess" not in cols and "coupled" not in off.config
    import pandas as pd

    pd.testing.assert_frame_equal(on.summary[cols], off.summary, check_exact=True)
    pd.testing.assert_frame_equal(on.table, off.table, check_exact=True)
    assert np.isnan(off.coupled_slope) and np.isfinite(on.coupled_slope_se)


def test_coupled_plan_errors():
    import pytest

    from analysis.studies.meanfield.landscape import landscape_plan

    with pytest.raises(ValueError, match="two pairs"):
        landscape_plan((8, 16), 3)
    with pytest.raises(ValueError, match="fit_min_width"):
        landscape_plan((8, 16, 32), 4, fit_min_width=17)
    assert "coupled" not in landscape_plan((8, 16), 3, coupled=False)
    assert landscape_plan((8, 16, 32), 4, fit_min_width=16)["fit_min_width"] == 16
