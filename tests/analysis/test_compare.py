"""The comparison protocol against exact answers (quadratic on the sphere, closed forms)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.config import build_config, validate
from analysis.studies.compare import (
    function_overlaps,
    measure_ensemble,
    overlaps,
    pspin_theory_lines,
)
from landscapes import Quadratic
from landscapes.random import as_seed_sequence, child


def test_overlaps_and_function_overlaps_match_direct_formulas():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 7))
    q = overlaps(X)
    i, j = np.triu_indices(5, k=1)
    direct = [
        X[a] @ X[b] / np.linalg.norm(X[a]) / np.linalg.norm(X[b]) for a, b in zip(i, j, strict=True)
    ]
    np.testing.assert_allclose(q, direct, rtol=1e-12)
    O = rng.standard_normal((4, 6, 3))
    C = np.corrcoef(O.reshape(4, -1))
    np.testing.assert_allclose(function_overlaps(O), C[np.triu_indices(4, k=1)], rtol=1e-12)
    assert overlaps(X, max_pairs=4, seed=1).size == 4
    with pytest.raises(ValueError, match="two points"):
        overlaps(X[:1])


def test_theory_lines_match_published_values():
    from pspin import theory

    for th in (pspin_theory_lines(3),):
        assert th["E_inf"] == pytest.approx(2 * np.sqrt(2 / 3), rel=1e-12)
        assert th["E_0"] == pytest.approx(1.65700, abs=5e-6)  # ABC / Crisanti-Sommers p = 3
        assert th["radius"] == pytest.approx(2 * np.sqrt(6))
        assert th["radius"] == pytest.approx(theory.hessian_spectrum(-th["E_0"], 3).radius)
    # p = 2: no exponential number of critical points, E_0 = E_inf (the assertion kept from
    # the inline fallback, now against pspin.theory directly)
    assert float(theory.ground_state_energy(2)) == pytest.approx(float(theory.threshold_energy(2)))


def test_protocol_on_a_sphere_quadratic_is_exact():
    """GD on x.Ax/2 over the sphere ends at +-r v_min: energy, spectrum and overlaps known."""
    lam = np.array([-1.0, 0.3, 0.7, 1.2, 2.0, 2.5])
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    A = Q @ np.diag(lam) @ Q.T
    e = Quadratic(A, manifold="sphere")
    r = e.manifold.radius
    res = measure_ensemble(
        e,
        replicas=5,
        seed=2,
        gd=dict(step=0.2, max_steps=5000, gtol=1e-12),
        spectra=2,
        dense_max=100,
    )
    a = res.arrays
    assert a["gd_converged"].all() and res.meta["gd_converged_fraction"] == 1.0
    np.testing.assert_allclose(a["gd_final"], 0.5 * r**2 * lam[0], rtol=1e-10)
    # Riemannian Hessian at the minimum: r^2-free here: eigenvalues lam_i - lam_0 (i > 0)
    w = a["spec_nodes"][0]
    np.testing.assert_allclose(np.sort(w), lam[1:] - lam[0], atol=1e-8)
    assert (a["spec_index"] == 0).all()
    np.testing.assert_allclose(np.abs(a["q_param"]), 1.0, atol=1e-10)  # the two minima +-v
    assert "sgd_final" not in a and "q_func" not in a


def test_unconverged_replicas_are_flagged():
    e = Quadratic(dim=6, manifold="sphere", seed=3)
    res = measure_ensemble(
        e, replicas=4, seed=0, gd=dict(step=0.01, max_steps=3, gtol=1e-12), spectra=1
    )
    assert not res.arrays["gd_converged"].any()
    assert res.meta["gd_converged_fraction"] == 0.0
    with pytest.raises(ValueError, match="replicas"):
        measure_ensemble(e, replicas=1, seed=0, gd=dict(step=0.1, max_steps=3))


def test_config_layers_and_validation():
    c = build_config("quick", {"pspin": {"sizes": [40, 20]}}, {"seed": 7, "networks.widths": [4]})
    assert c["pspin"]["sizes"] == [20, 40] and c["seed"] == 7 and c["networks"]["widths"] == [4]
    assert c["pspin"]["replicas"] == build_config("quick")["pspin"]["replicas"]
    assert build_config("default", {"preset": "quick"}) == build_config("quick")
    full = build_config("full")
    assert max(full["pspin"]["sizes"]) == 400 and max(full["networks"]["widths"]) == 128
    cases = [
        ({"pspin": {"sizes": [50, "a"]}}, r"pspin.sizes\[1\]"),
        ({"pspin": {"sizes": [50, 50]}}, "distinct"),
        ({"pspin": {"step": -1}}, "pspin.step: expected a positive number"),
        ({"networks": {"families": ["mnist"]}}, "networks.families"),
        ({"networks": {"sgd": "yes"}}, "true or false"),
        ({"nets": {}}, "unknown configuration key 'nets'"),
        ({"spectra": {"probes": 3}}, "unknown key spectra.probes"),
        ({"networks": {"sgd_batch": 1000}}, "exceeds networks.n_train"),
        ({"seed": -1}, "seed"),
        ({"networks": {"weight_decay": -1e-3}}, "networks.weight_decay: expected a number >= 0"),
        ({"networks": {"gd_schedule": "adam"}}, "networks.gd_schedule"),
        ({"pspin": {"census_size": 2}}, "pspin.census_size"),
    ]
    for override, msg in cases:
        with pytest.raises(ValueError, match=msg):
            build_config("quick", override)
    with pytest.raises(ValueError, match="missing"):
        validate({"seed": 0})
    with pytest.raises(ValueError, match="unknown preset"):
        build_config("huge")


# --------------------------------------------------------------------------- the sweep
MICRO = {
    "seed": 5,
    "pspin": {"sizes": [8, 10], "replicas": 3, "samples": 1, "max_steps": 200, "census_size": 0},
    "networks": {
        "widths": [3],
        "families": ["teacher_student"],
        "replicas": 3,
        "gd_steps": 10,
        "sgd_epochs": 1,
        "n_train": 32,
        "n_test": 20,
    },
    "spectra": {"endpoints": 1, "dense_max": 60, "slq_probes": 2, "slq_steps": 10},
    "graphs": {"enabled": False},
}


def test_comparison_tasks_carry_parameters_and_the_run_streams():
    from analysis.studies.compare import ModelTask, comparison_tasks, model_tasks, task_seed
    from landscapes.random import seed_info

    config = build_config("quick", MICRO)
    tasks = comparison_tasks(config)
    models = model_tasks(config)
    assert len(models) == 3
    assert [t.func for t in tasks] == ["analysis.studies.compare:compare_task"] * 3
    for t, m in zip(tasks, models, strict=True):
        assert (t.config["family"], t.config["size"]) == (m.family, m.size)
        assert t.seed == seed_info(task_seed(config, m))
        assert "couplings" not in t.config  # parameters only, never a model
    # a (model, size)'s key depends only on what its result depends on
    more = build_config("quick", {**MICRO, "pspin": {**MICRO["pspin"], "sizes": [8, 10, 12]}})
    assert {t.key for t in tasks} < {t.key for t in comparison_tasks(more)}
    assert ModelTask("pspin", 8).label.endswith("N = 8")


def test_interrupted_comparison_resumes_only_the_missing_tasks(tmp_path):
    import pandas as pd

    from analysis.store import RunFolder
    from analysis.studies.compare import comparison_tasks, load_tables, run_comparison

    config = build_config("quick", MICRO)
    run = RunFolder(tmp_path / "run", "compare", config)
    first = run_comparison(config, run, progress=False)
    tasks = comparison_tasks(config)
    assert first.ok and set(first.completed) == {t.key for t in tasks}
    before = load_tables(run, config)
    # as if the run had been killed before two tasks finished: their records are missing
    lost = [tasks[0].key, tasks[2].key]
    for k in lost:
        (run.path / "tasks" / f"{k}.json").unlink()
    again = run_comparison(config, RunFolder(run.path, "compare", config, resume=True))
    assert sorted(again.completed) == sorted(lost)
    assert again.skipped == (tasks[1].key,)
    after = load_tables(run, config)
    for name in ("replicas", "summary", "spectra", "overlaps"):
        pd.testing.assert_frame_equal(after[name], before[name], check_exact=True)


def test_census_task_obeys_morse_and_the_index_law_limits():
    """Critical points of a small p-spin: Morse sum = Euler characteristic of S^{N-1}."""
    from analysis.plots.compare import index_fraction_theory
    from analysis.studies.compare import census_task

    config = build_config("quick", {"pspin": {"census_size": 8, "census_starts": 64}})
    meta, a = census_task(config)
    k, e = a["indices"], a["energies"]
    n = meta["size"]
    assert meta["n_points"] == k.size > 2 and k.min() == 0 and k.max() == n - 1
    # Morse: sum_k (-1)^k n_k = chi(S^{n-1}) = 1 + (-1)^(n-1), exact for a complete census;
    # the lowest point found is a minimum and the highest a maximum (x -> -x maps one to the other)
    assert np.sum((-1.0) ** k) == 1 + (-1) ** (n - 1)
    assert k[np.argmin(e)] == 0 and k[np.argmax(e)] == n - 1
    np.testing.assert_allclose(e.min(), -e.max(), rtol=1e-10)  # odd H: H(-x) = -H(x)
    einf = 2 * np.sqrt(2 / 3)
    np.testing.assert_allclose(index_fraction_theory([-2.0, -einf, 0.0, einf], 3), [0, 0, 0.5, 1])


def test_default_network_protocol_ends_at_minima():
    """The network GD protocol (weight decay, Armijo, gtol): converged endpoints are minima.

    A small teacher-student net with the default protocol: every replica reaches gtol and
    the dense Hessian at each endpoint has no eigenvalue below -1e-3 lambda_max (weight decay
    lifts the flat directions to +wd, so a near-critical point near a minimum has a
    (near) positive semi-definite Hessian; the unregularized 400-step protocol this replaced
    ended with 17% negative spectral weight).
    """
    from analysis.studies.compare import ModelTask, build_energy

    config = build_config("default", {"networks": {"n_train": 40}})
    c = config["networks"]
    e = build_energy(config, ModelTask("teacher_student", 4), 7)
    assert e.weight_decay == c["weight_decay"] > 0 and c["gd_schedule"] == "armijo"
    res = measure_ensemble(
        e,
        replicas=3,
        seed=1,
        gd=dict(step=c["gd_step"], max_steps=c["gd_steps"], gtol=c["gtol"], schedule="armijo"),
        spectra=3,
        dense_max=100,
    )
    a = res.arrays
    assert a["gd_converged"].all() and (a["gd_grad"] <= c["gtol"]).all()
    assert res.meta["spectrum_method"] == "dense"
    lam = a["spec_nodes"]  # at gtol a few tiny negative eigenvalues may remain
    assert (lam.min(axis=1) > -1e-3 * lam.max(axis=1)).all(), lam.min(axis=1)


def test_learning_curves_are_the_recorded_descent_and_held_out_values_the_models():
    """The stored learning curve starts at the random starts' energies and ends at the final
    values; held-out loss and accuracy equal the network's own split_loss / accuracy at the
    GD endpoints; recording changes nothing else (same final energies as without it)."""
    from analysis.dynamics import gradient_descent
    from analysis.studies.compare import ModelTask, build_energy

    config = build_config("quick", {"networks": {"n_train": 40, "n_test": 30}})
    e = build_energy(config, ModelTask("digits", 3), 7)
    gd = dict(step=1.0, max_steps=40, gtol=1e-4, schedule="armijo")
    res = measure_ensemble(e, replicas=3, seed=1, gd=gd, spectra=0)
    a = res.arrays
    t, tr = a["gd_trace_steps"], a["gd_trace"]
    assert t[0] == 0 and t[-1] == a["gd_steps"].max() and tr.shape == (t.size, 3)
    np.testing.assert_allclose(tr[-1], a["gd_final"], rtol=1e-12)
    x0 = e.random_point(child(as_seed_sequence(1), 0), size=3)
    np.testing.assert_allclose(tr[0], e.energy(x0) / e.scale, rtol=1e-12)
    plain = gradient_descent(e, x0, progress=False, **gd)
    np.testing.assert_array_equal(plain.intensive, a["gd_final"])
    np.testing.assert_allclose(a["gd_test_loss"], e.split_loss(plain.x, "test"), rtol=1e-12)
    np.testing.assert_allclose(a["gd_test_accuracy"], e.accuracy(plain.x, "test"))
    assert ((a["gd_test_accuracy"] >= 0) & (a["gd_test_accuracy"] <= 1)).all()


def test_merged_learning_curves_keep_a_stopped_sample_at_its_last_value():
    from analysis.studies.compare.tasks import _merge_traces

    steps, traces = _merge_traces(
        [np.array([0, 2, 4, 5]), np.array([0, 2, 4, 6, 8])],
        [np.arange(4.0)[:, None], 10 + np.arange(5.0)[:, None]],
    )
    np.testing.assert_array_equal(steps, [0, 2, 4, 5, 6, 8])
    np.testing.assert_array_equal(traces[:, 0], [0, 1, 2, 3, 3, 3])
    np.testing.assert_array_equal(traces[:, 1], [10, 11, 12, 12, 13, 14])


def test_census_task_stores_the_minima_saddle_graph():
    """The census's minima joined through its index-1 saddles: saddles above both minima
    they join (NaN where a descent reached no verified minimum), and the graph the report
    draws as a disconnectivity graph is built from exactly these arrays."""
    from analysis.plots.compare_spectra import census_graph
    from analysis.studies.compare import census_task

    config = build_config("quick", {"pspin": {"census_size": 8, "census_starts": 64}})
    meta, a = census_task(config)
    m, s = a["minima_energies"], a["saddle_energies"]
    assert meta["n_minima_connected"] == m.size >= int(np.sum(a["indices"] == 0))
    assert meta["n_saddles"] == s.size == int(np.sum(a["indices"] == 1))
    ends = a["saddle_ends"]
    ok = np.all(np.isfinite(ends), axis=1)
    assert ok.any()
    i, j = ends[ok].astype(int).T
    assert (s[ok] >= np.maximum(m[i], m[j]) - 1e-12).all()
    g = census_graph((meta, a))
    assert g.number_of_nodes() == m.size
    assert g.number_of_edges() == int(np.sum(ok & (ends[:, 0] != ends[:, 1])))
