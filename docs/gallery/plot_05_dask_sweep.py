"""
Sweeps on a Dask cluster
========================

Descents over many disorder samples, censuses over hundreds of instances, spectra of many
trained networks: these are *sweeps* of independent tasks. :func:`analysis.sweep.run_tasks`
runs them in-process, on local processes, or on a `Dask <https://distributed.dask.org>`_
cluster, stores each result in a run folder as it arrives, skips the tasks already stored
(so an interrupted sweep resumes), and gives the same numbers bit for bit wherever the tasks
ran: a task is a pure function of a JSON configuration and a seed record.

This tutorial starts a small ``distributed.LocalCluster`` on the loopback interface, runs a
sweep of p-spin gradient descents on it, and checks the results against an in-process run.
It needs the ``distributed`` extra (``pip install 'landscapes[distributed]'``). To use an
existing cluster instead, pass its address: ``run_tasks(..., executor="dask",
scheduler="tcp://HOST:PORT")``; :doc:`/distributed` shows the command-line side.
"""

# %%
# Tasks
# -----
# A task names its function as ``"module:function"`` (workers import it by name; nothing but
# the name, a small JSON configuration and a seed record travels), with a configuration that
# holds a model *spec* (:func:`landscapes.spec.spec_of`), never the coupling tensor: the worker
# rebuilds the model and checks its fingerprint. ``make_tasks`` gives task ``i`` the child
# stream ``i`` of the root seed.
import importlib.util
import shutil
import tempfile
from pathlib import Path

if importlib.util.find_spec("distributed") is None:
    raise SystemExit(
        "This tutorial needs dask.distributed: pip install 'landscapes[distributed]'"
    )

import distributed
import matplotlib.pyplot as plt

from analysis.store import RunFolder
from analysis.sweep import make_tasks, results_table, run_tasks
from landscapes.spec import spec_of
from pspin import SphericalPSpin, theory

TASK = "analysis.studies.pspin_descent:pspin_descent_task"
configs = [
    {
        "model": spec_of(SphericalPSpin(N=N, p=3, seed=sample)),
        "replicas": 8,
        "steps": 2000,
        "lr": 0.2,
        "gtol": 1e-3,
    }
    for N in (40, 80)
    for sample in range(3)
]
tasks = make_tasks(TASK, configs, seed=0)
print(f"{len(tasks)} tasks; the first: {tasks[0].func}, key {tasks[0].key}")

# %%
# Run them on a local cluster
# ---------------------------
# Two single-threaded worker processes, listening on 127.0.0.1 only. A connected
# ``distributed.Client`` is passed as the scheduler (``scheduler="local:2"`` would start and
# stop such a cluster for the call). The ``__main__`` guard matters when the script is run
# directly: Dask starts its worker processes by re-importing the main module.
if __name__ == "__main__":
    workdir = Path(
        tempfile.mkdtemp(prefix="landscapes-sweep-")
    )  # the run folders go here
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        folder = RunFolder(
            workdir / "on-dask", "sweep", {"tasks": [t.record() for t in tasks]}
        )
        result = run_tasks(
            tasks, folder, executor="dask", scheduler=client, progress=False
        )
    print(
        f"dask: {len(result.completed)} tasks run, {len(result.failed)} failed, "
        f"{result.task_cpu_s:.1f} s of task CPU time"
    )

    # %%
    # The same sweep in-process, and a resumed run
    # --------------------------------------------
    # Rerunning ``run_tasks`` on a folder that holds the results runs nothing; the in-process
    # run of the same tasks gives the same table.
    again = run_tasks(tasks, folder, progress=False)
    print(f"resumed: {len(again.completed)} run, {len(again.skipped)} already stored")
    local = RunFolder(
        workdir / "in-process", "sweep", {"tasks": [t.record() for t in tasks]}
    )
    run_tasks(tasks, local, executor="inprocess", progress=False)
    table = results_table(folder, tasks)
    same = table.equals(results_table(local, tasks))
    print(f"dask and in-process tables identical: {same}")
    print(table[["task", "config.model.params.N", "e_mean", "e_min", "n_converged"]])

    # %%
    # Mean final energy per disorder sample, against the threshold.
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for i, (N, rows) in enumerate(table.groupby("config.model.params.N")):
        ax.plot(rows["task"], rows["e_mean"], "o", color=f"C{i}", label=f"N = {N}")
        ax.vlines(rows["task"], rows["e_min"], rows["e_max"], color=f"C{i}", lw=1)
    ax.axhline(
        -theory.threshold_energy(3), color="k", ls="--", lw=1, label=r"$-E_\infty$"
    )
    ax.set_xlabel("task (one disorder sample each)")
    ax.set_ylabel("final H/N: mean and range over replicas")
    ax.set_title("a sweep of p-spin descents on a Dask cluster")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
    shutil.rmtree(
        workdir
    )  # a real sweep keeps its run folder: results, config.json, failures
