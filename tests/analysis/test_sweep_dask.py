"""Sweeps on a real Dask cluster (distributed.LocalCluster on loopback).

The cluster has 2 single-threaded worker *processes* (processes=True): a worker is then a
real OS process that can be SIGKILLed, and tasks cross a process boundary exactly as on a
remote cluster (function imported by name, results serialized back to the client).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

distributed = pytest.importorskip(
    "distributed",
    reason="dask.distributed is not installed (pip install 'landscapes[distributed]')",
)

from analysis.sweep import (  # noqa: E402
    SweepError,
    make_tasks,
    run_tasks,
)
from landscapes.spec import spec_of  # noqa: E402
from pspin.model import SphericalPSpin  # noqa: E402
from tests.analysis.sweep_cases import (  # noqa: E402
    CENSUS,
    DESCENT,
    ECHO,
    assert_same_tables,
    run_folder,
    stored_tables,
)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        host="127.0.0.1",
    ) as c:
        yield c


def _sweep(n_descent=6, steps=40):
    model = SphericalPSpin(24, 3, seed=5)
    cfg = {"model": spec_of(model), "replicas": 4, "steps": steps}
    critical = "analysis.studies.pspin_descent:pspin_critical_census_task"
    return (
        make_tasks(DESCENT, [cfg] * n_descent, 7)
        + make_tasks(CENSUS, [{"N": 10, "p": 3, "starts": 6, "steps": 300, "lr": 0.1}] * 2, 8)
        + make_tasks(critical, [{"N": 4, "p": 3, "batch_size": 16, "max_starts": 64}], 9)
    )


def test_cluster_and_inprocess_give_bit_identical_tables(cluster, tmp_path):
    tasks = _sweep()
    ref = run_folder(tmp_path, "inprocess")
    run_tasks(tasks, ref, progress=False)
    dist = run_folder(tmp_path, "dask")
    res = run_tasks(
        tasks, dist, executor="dask", scheduler=cluster.scheduler_address, progress=False
    )
    assert res.ok and len(res.completed) == len(tasks)
    pids = {dist.load_task(t.key)[0]["run"]["pid"] for t in tasks}
    assert os.getpid() not in pids  # really ran on the workers
    assert_same_tables(stored_tables(ref, tasks), stored_tables(dist, tasks))


def test_sigkill_of_a_worker_mid_run_loses_nothing_and_a_rerun_completes(cluster, tmp_path):
    tasks = _sweep(n_descent=10, steps=150)  # ~0.05-0.5 s per task: the kill lands mid-run
    ref = run_folder(tmp_path, "ref")
    run_tasks(tasks, ref, progress=False)
    folder = run_folder(tmp_path, "killed")
    with distributed.Client(cluster.scheduler_address) as client:
        worker_pids = sorted(client.run(os.getpid).values())
    assert len(worker_pids) == 2
    killed = {}

    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            n = len(folder.task_keys())
            if n >= 2:
                killed["stored_before"] = n
                os.kill(worker_pids[0], signal.SIGKILL)
                killed["pid"] = worker_pids[0]
                return
            time.sleep(0.01)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    res = run_tasks(
        tasks,
        folder,
        executor="dask",
        scheduler=cluster.scheduler_address,
        retries=2,
        on_failure="report",
        progress=False,
    )
    th.join()
    assert killed.get("pid") == worker_pids[0], "the worker was not killed"
    assert killed["stored_before"] < len(tasks), "the kill came after the run"
    # nothing written before the kill is lost; whatever the kill interrupted is either
    # rescheduled by Dask or retried by run_tasks, and a rerun runs only what is missing
    stored = set(folder.task_keys())
    assert set(res.completed) <= stored
    rerun = run_tasks(
        tasks, folder, executor="dask", scheduler=cluster.scheduler_address, progress=False
    )
    assert set(rerun.skipped) == stored and set(rerun.completed) == {t.key for t in tasks} - stored
    assert_same_tables(stored_tables(ref, tasks), stored_tables(folder, tasks))
    # the nanny restarts the killed worker, so the cluster is whole again for other tests
    with distributed.Client(cluster.scheduler_address) as client:
        client.wait_for_workers(2, timeout=60)


def test_a_task_that_raises_on_a_worker_is_reported_with_its_key_and_error(cluster, tmp_path):
    ok = make_tasks(ECHO, [{"n": 3}, {"n": 5}], 1)
    bad = make_tasks(ECHO, [{"fail": "boom on the worker"}], 2)[0]
    folder = run_folder(tmp_path, "fail")
    with pytest.raises(SweepError) as info:
        run_tasks(
            [ok[0], bad, ok[1]],
            folder,
            executor="dask",
            scheduler=cluster.scheduler_address,
            retries=1,
            progress=False,
        )
    msg = str(info.value)
    assert bad.key in msg and "RuntimeError: boom on the worker" in msg
    res = info.value.result
    assert [f.key for f in res.failed] == [bad.key] and res.failed[0].attempts == 2
    assert "echo_task" in res.failed[0].traceback
    assert set(res.completed) == {ok[0].key, ok[1].key}
    assert folder.read_json("failures.json")[0]["error"] == "RuntimeError: boom on the worker"
    # a model spec whose fingerprint does not match what the worker builds is an error
    spec = spec_of(SphericalPSpin(6, 3, seed=1))
    wrong = make_tasks(
        DESCENT, [{"model": {**spec, "fingerprint": "f" * 64}, "replicas": 1, "steps": 1}], 4
    )
    res = run_tasks(
        wrong,
        folder,
        executor="dask",
        scheduler=cluster.scheduler_address,
        retries=0,
        on_failure="report",
        progress=False,
    )
    assert res.failed[0].key == wrong[0].key and "fingerprint mismatch" in res.failed[0].error
    # a task that fails once is retried and succeeds
    flaky = make_tasks(ECHO, [{"flaky": str(tmp_path / "marker")}], 3)
    res = run_tasks(
        flaky, folder, executor="dask", scheduler=cluster.scheduler_address, progress=False
    )
    assert res.ok and res.retried == 1 and res.completed == (flaky[0].key,)


def test_local_scheduler_starts_and_stops_its_own_cluster(tmp_path):
    tasks = make_tasks(ECHO, [{"n": 4}] * 3, 11)
    ref = run_folder(tmp_path, "ref")
    run_tasks(tasks, ref, progress=False)
    folder = run_folder(tmp_path, "local")
    res = run_tasks(tasks, folder, executor="dask", scheduler="local:1", progress=False)
    assert res.ok and len(res.completed) == 3
    assert_same_tables(stored_tables(ref, tasks), stored_tables(folder, tasks))


def test_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    import socket

    import analysis.sweep.executors

    monkeypatch.setattr(analysis.sweep.executors, "CONNECT_TIMEOUT_S", 1.0)

    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = run_folder(tmp_path, "none")
    with pytest.raises(
        analysis.sweep.executors.SchedulerError, match="cannot reach the Dask scheduler"
    ):
        run_tasks(
            make_tasks(ECHO, [{}], 0),
            folder,
            executor="dask",
            scheduler=f"tcp://127.0.0.1:{port}",
            progress=False,
        )
