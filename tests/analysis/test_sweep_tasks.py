"""The task model and the in-process / local-process executors of analysis.sweep, and the
p-spin sweep task functions (analysis.studies.pspin_descent)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from analysis.store import RunFolder, task_key
from analysis.studies.pspin_descent import pspin_census_task, pspin_descent_task
from analysis.sweep import (
    ExecutorSpec,
    SweepError,
    Task,
    add_executor_arguments,
    execute_task,
    executor_from_args,
    make_tasks,
    results_table,
    run_tasks,
)
from landscapes.random import child, seed_from_info, seed_info
from landscapes.spec import build, file_spec, spec_of
from pspin.model import MixedPSpin, SphericalPSpin
from tests.analysis.sweep_cases import (
    CENSUS,
    DESCENT,
    ECHO,
    assert_same_tables,
    run_folder,
    stored_tables,
)


# ----------------------------------------------------------------------------- task model
def test_make_tasks_spawns_children_of_the_root_without_advancing_it():
    root = np.random.SeedSequence(1234)
    tasks = make_tasks(ECHO, [{"n": 3}] * 4, root)
    assert root.n_children_spawned == 0  # the argument is not advanced
    children = np.random.SeedSequence(1234).spawn(4)
    for t, c in zip(tasks, children, strict=True):
        assert t.seed == seed_info(c)
        a = np.random.default_rng(t.seed_sequence()).standard_normal(5)
        b = np.random.default_rng(c).standard_normal(5)
        assert np.array_equal(a, b)
    # the same root gives the same tasks; an int root equals SeedSequence(int)
    assert [t.key for t in make_tasks(ECHO, [{"n": 3}] * 4, 1234)] == [t.key for t in tasks]
    assert len({t.key for t in tasks}) == 4
    # a spawned root keeps its spawn key as prefix
    sub = np.random.SeedSequence(5).spawn(3)[2]
    assert make_tasks(ECHO, [{}], sub)[0].seed["spawn_key"] == [2, 0]


def test_task_is_json_normalized_and_keyed_by_func_config_seed():
    cfg = {"shape": (2, 3), "x": np.float64(0.5), "nested": {"k": np.int64(4)}}
    t = Task(ECHO, cfg, seed_info(np.random.SeedSequence(3)))
    assert t.config == {"shape": [2, 3], "x": 0.5, "nested": {"k": 4}}
    assert cfg["shape"] == (2, 3)  # the argument is untouched
    assert t.key == task_key({"func": ECHO, "config": t.config, "seed": t.seed})
    other_cfg = Task(ECHO, {**t.config, "x": 0.25}, t.seed)
    other_seed = Task(ECHO, t.config, seed_info(np.random.SeedSequence(4)))
    other_func = Task(DESCENT, t.config, t.seed)
    assert len({t.key, other_cfg.key, other_seed.key, other_func.key}) == 4
    rec = t.record()
    rec["config"]["x"] = 99.0
    assert t.config["x"] == 0.5  # records are copies


@pytest.mark.parametrize(
    "func, config, seed, match",
    [
        ("analysis.sweep.testing.echo_task", {}, None, "module:function"),
        ("a:b:c", {}, None, "module:function"),
        (ECHO, [1, 2], None, "must be a dict"),
        (ECHO, {"f": object()}, None, "JSON-able"),
        (ECHO, {}, {"entropy": 1}, "seed record"),
    ],
)
def test_task_rejects_bad_input(func, config, seed, match):
    seed = seed_info(np.random.SeedSequence(1)) if seed is None else seed
    with pytest.raises(ValueError, match=match):
        Task(func, config, seed)


def test_execute_task_validates_what_the_function_returns(monkeypatch):
    import analysis.sweep.testing as mod
    from analysis.sweep.tasks import resolve_task_function

    rec = make_tasks(ECHO, [{"n": 2}], 0)[0].record()
    out = execute_task(rec)
    assert set(out) == {"meta", "arrays", "elapsed_s", "cpu_s", "host", "pid"}
    assert out["meta"]["n"] == 2 and out["arrays"]["draws"].shape == (2,)
    monkeypatch.setattr(mod, "echo_task", lambda c, s: {"not": "a pair"})
    resolve_task_function.cache_clear()
    try:
        with pytest.raises(TypeError, match=r"must return \(meta, arrays\)"):
            execute_task(rec)
        monkeypatch.setattr(mod, "echo_task", lambda c, s: ({}, {"o": np.array([None])}))
        resolve_task_function.cache_clear()
        with pytest.raises(TypeError, match="dtype object"):
            execute_task(rec)
    finally:
        resolve_task_function.cache_clear()


# ----------------------------------------------------------------------------- models
def test_task_models_travel_as_specs_and_are_rebuilt_with_their_fingerprint_checked():
    model = SphericalPSpin(12, 3, seed=np.random.SeedSequence(77).spawn(2)[1])
    spec = spec_of(model)
    assert json.loads(json.dumps(spec)) == spec  # a few JSON numbers, not the tensor
    assert len(json.dumps(spec)) < 500
    rebuilt = build(spec)
    assert rebuilt.fingerprint == model.fingerprint
    assert np.array_equal(rebuilt.tensor, model.tensor)
    with pytest.raises(ValueError, match="fingerprint"):
        build({**spec, "fingerprint": "0" * 64})
    with pytest.raises(ValueError, match="fingerprint"):
        build({**spec, "seed": seed_info(np.random.SeedSequence(78))})
    no_fp = {k: v for k, v in spec.items() if k != "fingerprint"}
    assert build(no_fp).fingerprint == model.fingerprint
    with pytest.raises(ValueError, match="unknown"):
        build({"class": "Ising", "params": {}, "seed": spec["seed"]})
    # a descent task rebuilds the model of its spec on the worker
    meta, _ = pspin_descent_task(
        {"model": spec, "replicas": 1, "steps": 1}, np.random.SeedSequence(1)
    )
    assert meta["n_replicas"] == 1
    with pytest.raises(ValueError, match="fingerprint"):
        pspin_descent_task(
            {"model": {**spec, "fingerprint": "0" * 64}, "replicas": 1, "steps": 1},
            np.random.SeedSequence(1),
        )


def test_mixed_and_file_model_specs(tmp_path):
    mixed = MixedPSpin(10, {2: 0.5, 3: 0.5}, seed=9)
    assert build(spec_of(mixed)).fingerprint == mixed.fingerprint
    loaded = SphericalPSpin.from_couplings(np.random.default_rng(0).standard_normal((8, 8, 8)))
    with pytest.raises(ValueError, match="file_spec"):
        spec_of(loaded)
    path = loaded.save(tmp_path / "model.npz")
    spec = file_spec(path)
    assert spec["fingerprint"] == loaded.fingerprint
    assert build(spec).fingerprint == loaded.fingerprint


# ----------------------------------------------------------------------------- task functions
def test_descent_on_p2_reaches_the_exact_ground_state():
    """For p = 2, H(x)/N = x.Sx/N on |x|^2 = N: the minimum is lambda_min(S), exactly."""
    model = SphericalPSpin(8, 2, seed=3)
    lam = np.linalg.eigvalsh(model.tensor)
    [task] = make_tasks(
        DESCENT, [{"model": spec_of(model), "replicas": 3, "steps": 20000, "lr": 0.1}], 5
    )
    meta, arrays = task.run()
    assert meta["n_converged"] == 3
    np.testing.assert_allclose(arrays["energy"], lam[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(arrays["x"], axis=1), np.sqrt(8), rtol=1e-12)
    assert np.all(arrays["grad_norm"] < 1e-6)


def test_descent_replica_k_is_the_single_replica_run_from_stream_k():
    from analysis.dynamics import gradient_descent

    model = SphericalPSpin(16, 3, seed=4)
    cfg = {"model": spec_of(model), "replicas": 4, "steps": 60, "lr": 0.05}
    seed = child(11, 3)
    _, batch = pspin_descent_task(cfg, seed)
    for k in range(4):
        # replica k starts from child k of the task seed, and runs as if alone
        start = model.random_point(child(11, 3, k))
        r = gradient_descent(model, start[None], step=0.05, max_steps=60, gtol=1e-6)
        x, e, n = r.x, r.energies, r.steps
        np.testing.assert_allclose(batch["x"][k], x[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch["energy"][k], e[0] / 16, rtol=0, atol=1e-12)
        assert batch["steps"][k] == n[0] == 60
    # descent lowers the energy of every replica
    starts = np.stack([model.random_point(child(11, 3, k)) for k in range(4)])
    assert np.all(batch["energy"] < model.energy(starts) / 16)


def test_census_on_p2_finds_the_two_exact_minima():
    """p = 2: the minima on the sphere are +-v_min of S, energy lambda_1 per spin, and the
    Riemannian Hessian there is 2 (S - lambda_1) on the tangent space: smallest eigenvalue
    2 (lambda_2 - lambda_1)."""
    cfg = {"N": 8, "p": 2, "starts": 12, "steps": 20000, "lr": 0.1}
    seed = np.random.SeedSequence(21)
    meta, arrays = pspin_census_task(cfg, seed)
    model = SphericalPSpin(8, 2, seed=child(21, 0))
    assert meta["fingerprint"] == model.fingerprint
    lam = np.linalg.eigvalsh(model.tensor)
    assert meta["n_converged"] == 12
    assert meta["n_distinct"] == 2 and meta["n_minima"] == 2
    np.testing.assert_allclose(arrays["energy"], lam[0], atol=1e-10)
    assert np.array_equal(arrays["index"], [0, 0])
    np.testing.assert_allclose(arrays["lambda_min"], 2 * (lam[1] - lam[0]), atol=1e-8)


# ----------------------------------------------------------------------------- run_tasks
def _sweep(n=6):
    model = SphericalPSpin(20, 3, seed=2)
    cfg = {"model": spec_of(model), "replicas": 3, "steps": 40}
    return make_tasks(DESCENT, [cfg] * n, 99) + make_tasks(
        CENSUS, [{"N": 8, "p": 3, "starts": 4, "steps": 300, "lr": 0.1}] * 2, 100
    )


def test_run_tasks_stores_every_result_and_a_rerun_runs_nothing(tmp_path):
    tasks = _sweep()
    folder = run_folder(tmp_path)
    res = run_tasks(tasks, folder, progress=False)
    assert res.ok and set(res.completed) == {t.key for t in tasks} and res.skipped == ()
    for t in tasks:
        rec, arrays = folder.load_task(t.key)
        assert rec["task"] == t.record() and rec["run"]["executor"] == "inprocess"
        meta, direct = t.run()
        assert rec["result"] == meta
        for k in direct:
            assert np.array_equal(arrays[k], direct[k])
    again = run_tasks(tasks, RunFolder.open(folder.path), progress=False)
    assert again.completed == () and set(again.skipped) == {t.key for t in tasks}
    table = results_table(folder, tasks)
    assert list(table["key"]) == [t.key for t in tasks] and list(table["task"]) == list(range(8))
    assert "config.model.params.N" in table.columns and "e_mean" in table.columns


def test_resume_runs_only_the_missing_tasks_and_gives_the_same_tables(tmp_path):
    tasks = _sweep()
    ref = run_folder(tmp_path, "ref")
    run_tasks(tasks, ref, progress=False)
    part = run_folder(tmp_path, "part")
    first = run_tasks(tasks[::3], part, progress=False)
    assert len(first.completed) == 3
    rest = run_tasks(tasks, part, progress=False)
    assert set(rest.skipped) == {t.key for t in tasks[::3]}
    assert set(rest.completed) == {t.key for t in tasks} - set(rest.skipped)
    assert_same_tables(stored_tables(ref, tasks), stored_tables(part, tasks))


def test_a_failing_task_is_reported_with_its_key_and_error(tmp_path):
    ok = make_tasks(ECHO, [{"n": 2}, {"n": 3}], 1)
    bad = make_tasks(ECHO, [{"fail": "boom in the task"}], 2)[0]
    folder = run_folder(tmp_path)
    with pytest.raises(SweepError) as info:
        run_tasks([ok[0], bad, ok[1]], folder, retries=1, progress=False)
    msg = str(info.value)
    assert bad.key in msg and "RuntimeError: boom in the task" in msg and "2 attempt" in msg
    res = info.value.result
    assert [f.key for f in res.failed] == [bad.key] and res.failed[0].attempts == 2
    assert "boom in the task" in res.failed[0].traceback and res.retried == 1
    assert set(res.completed) == {ok[0].key, ok[1].key}  # the others are stored anyway
    assert folder.has_task(ok[1].key) and not folder.has_task(bad.key)
    assert folder.read_json("failures.json")[0]["key"] == bad.key
    rep = run_tasks([ok[0], bad, ok[1]], folder, retries=0, on_failure="report", progress=False)
    assert not rep.ok and rep.failed[0].attempts == 1 and len(rep.skipped) == 2


def test_a_flaky_task_succeeds_on_retry_and_fails_without_one(tmp_path):
    t = make_tasks(ECHO, [{"flaky": str(tmp_path / "marker")}], 3)
    res = run_tasks(t, run_folder(tmp_path, "a"), retries=1, progress=False)
    assert res.ok and res.retried == 1 and res.completed == (t[0].key,)
    t2 = make_tasks(ECHO, [{"flaky": str(tmp_path / "marker2")}], 3)
    res2 = run_tasks(t2, run_folder(tmp_path, "b"), retries=0, on_failure="report", progress=False)
    assert [f.key for f in res2.failed] == [t2[0].key]


def test_run_tasks_rejects_bad_input(tmp_path):
    folder = run_folder(tmp_path)
    t = make_tasks(ECHO, [{}], 0)
    with pytest.raises(ValueError, match="same task"):
        run_tasks(t + t, folder)
    with pytest.raises(ValueError, match="unknown executor"):
        run_tasks(t, folder, executor="threads")
    with pytest.raises(ValueError, match="only used by --executor dask"):
        run_tasks(t, folder, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        run_tasks(t, folder, executor="dask", scheduler="127.0.0.1:8786")
    with pytest.raises(ValueError, match="positive worker count"):
        run_tasks(t, folder, executor="dask", scheduler="local:0")
    with pytest.raises(ValueError, match="retries"):
        run_tasks(t, folder, retries=-1)
    with pytest.raises(ValueError, match="cannot import"):
        run_tasks(make_tasks("analysis.sweep.testing:no_such_task", [{}], 0), folder)
    with pytest.raises(ValueError, match="RunFolder"):
        run_tasks(t, str(tmp_path))


def test_processes_executor_gives_bit_identical_tables(tmp_path):
    tasks = _sweep(3)
    ref = run_folder(tmp_path, "ref")
    run_tasks(tasks, ref, progress=False)
    other = run_folder(tmp_path, "proc")
    res = run_tasks(tasks, other, executor="processes", workers=2, progress=False)
    assert res.ok and len(res.completed) == len(tasks)
    assert {other.load_task(t.key)[0]["run"]["executor"] for t in tasks} == {"processes"}
    assert_same_tables(stored_tables(ref, tasks), stored_tables(other, tasks))


def test_executor_arguments_for_commands():
    parser = argparse.ArgumentParser()
    add_executor_arguments(parser)
    spec = executor_from_args(parser.parse_args([]))
    assert spec == ExecutorSpec("inprocess", None, 2, None)
    spec = executor_from_args(parser.parse_args(["--scheduler", "tcp://10.0.0.1:8786"]))
    assert spec.executor == "dask" and spec.scheduler == "tcp://10.0.0.1:8786"
    spec = executor_from_args(parser.parse_args(["--executor", "processes", "--workers", "3"]))
    assert spec.kwargs() == {"executor": "processes", "scheduler": None, "retries": 2, "workers": 3}
    with pytest.raises(ValueError, match="only used by --executor dask"):
        executor_from_args(parser.parse_args(["--executor", "processes", "--scheduler", "local:2"]))
    with pytest.raises(ValueError, match="retries"):
        executor_from_args(parser.parse_args(["--retries", "-1"]))
    assert seed_from_info(seed_info(np.random.SeedSequence(3))).entropy == 3


def test_sweep_command_writes_a_resumable_run_folder(tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "sweep"
    argv = ["sweep", "descent", "--N", "12", "--tasks", "3", "--replicas", "2", "--steps", "20"]
    assert main([*argv, "--out", str(out)]) == 0
    rf = RunFolder.open(out)
    table = rf.read_table("results.csv")
    assert len(table) == 3 and len(rf.task_keys()) == 3
    assert "executor" not in rf.config  # where it ran is not part of the configuration
    # resumed on another executor: nothing is rerun, the table is the same
    assert main([*argv, "--out", str(out), "--resume", "--executor", "processes"]) == 0
    assert "0 run, 3 already stored" in rf.path.joinpath("report.md").read_text()
    assert rf.read_table("results.csv").equals(table)
    assert main([*argv, "--out", str(out)]) == 2  # no silent overwrite
    assert main(["sweep", "echo", "--tasks", "0", "--out", str(tmp_path / "e")]) == 2
    assert "--tasks must be >= 1" in capsys.readouterr().err
    assert (
        main(
            [
                "sweep",
                "census",
                "--N",
                "4",
                "--samples",
                "2",
                "--max-starts",
                "64",
                "--batch-size",
                "16",
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    counts = RunFolder.open(tmp_path / "c").read_table("counts_by_index.csv")
    assert list(counts["index"]) == [0, 1, 2, 3]


def crash_once_task(config, seed):
    """Test task: the first attempt SIGKILLs its own process (marker file), later ones echo."""
    import os
    import signal
    from pathlib import Path

    marker = Path(config["marker"])
    if not marker.exists():
        marker.write_text("crashed\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"n": 1}, {"x": np.arange(3.0)}


def test_processes_executor_survives_a_killed_worker_process(tmp_path):
    crash = make_tasks(
        "tests.analysis.test_sweep_tasks:crash_once_task", [{"marker": str(tmp_path / "m")}], 1
    )
    tasks = make_tasks(ECHO, [{"n": 2, "sleep": 0.2}] * 3, 2) + crash
    folder = run_folder(tmp_path)
    res = run_tasks(tasks, folder, executor="processes", workers=2, retries=3, progress=False)
    assert (tmp_path / "m").exists()  # the worker really died
    assert res.ok and res.retried >= 1
    assert set(folder.task_keys()) == {t.key for t in tasks}


def test_deterministic_failures_say_fix_the_input_not_resume(tmp_path):
    # n = -1 is bad input (ValueError): not retried, and --resume would fail the same way
    ok = make_tasks(ECHO, [{"n": 2}], 1)[0]
    bad = make_tasks(ECHO, [{"n": -1}], 2)[0]
    folder = run_folder(tmp_path)
    with pytest.raises(SweepError) as info:
        run_tasks([ok, bad], folder, retries=2, progress=False)
    msg = str(info.value)
    res = info.value.result
    assert [f.key for f in res.failed] == [bad.key]
    assert res.failed[0].deterministic and res.failed[0].attempts == 1 and res.retried == 0
    assert "fix the input" in msg and "--resume RUN_DIR to retry" not in msg
    assert folder.read_json("failures.json")[0]["deterministic"] is True
    # one failure that may pass on another try: --resume is suggested again
    flaky = make_tasks(ECHO, [{"fail": "transient"}], 3)[0]
    with pytest.raises(SweepError) as info2:
        run_tasks([bad, flaky], run_folder(tmp_path, "b"), retries=0, progress=False)
    msg2 = str(info2.value)
    assert "--resume RUN_DIR to retry" in msg2 and "fix the input" not in msg2
    kinds = {f.key: f.deterministic for f in info2.value.result.failed}
    assert kinds == {bad.key: True, flaky.key: False}


def test_task_labels_name_tasks_by_the_config_values_that_differ():
    from analysis.sweep import task_labels

    tasks = make_tasks(ECHO, [{"n": 2, "tag": "a"}, {"n": 3, "tag": "a"}], 1)
    labels = task_labels(tasks)
    assert labels == {tasks[0].key: "echo_task n=2", tasks[1].key: "echo_task n=3"}
    single = make_tasks(ECHO, [{"n": 5, "sleep": 0.0}], 2)[0]
    assert task_labels([single]) == {single.key: single.label}
    assert single.label.startswith("echo_task ") and "n=5" in single.label
    long = make_tasks(ECHO, [{"tag": "x" * 200}], 3)[0]
    assert len(long.label) <= 48 and long.label.endswith("...")


def test_the_sweep_bar_names_each_task_it_finishes(tmp_path, monkeypatch):
    import analysis.sweep.executors as ex

    seen = []

    class Recorder:
        def __init__(self, total, desc="", enabled=None, **kw):
            self.total = total

        def update(self, n=1, **info):
            seen.append((n, info))

        def close(self):
            pass

    monkeypatch.setattr(ex, "Progress", Recorder)
    ok = make_tasks(ECHO, [{"n": 2}, {"n": 3}], 1)
    bad = make_tasks(ECHO, [{"fail": "boom"}], 2)[0]
    run_tasks([*ok, bad], run_folder(tmp_path), retries=0, on_failure="report", progress=True)
    assert [n for n, _ in seen] == [1, 1, 1]
    assert [i["done"] for _, i in seen[:2]] == ["echo_task n=2", "echo_task n=3"]
    assert seen[2][1]["done"] == bad.label and seen[2][1]["failed"] == 1
