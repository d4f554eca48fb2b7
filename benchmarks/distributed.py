"""Sweeps on a Dask LocalCluster vs in-process: time ratio and per-task overhead.

The sweep is a census of critical points (``analysis.studies.pspin_descent.pspin_critical_census_task``,
i.e. ``analysis.critical.census``) over ``--samples`` disorder samples of the pure spherical
p-spin; each task builds its sample from its seed on the worker. The same sweep runs

* in-process (``executor="inprocess"``), and
* on a ``distributed.LocalCluster`` with ``--workers`` single-threaded worker processes
  (cluster start-up timed apart, then the sweep on the warm cluster),

into two run folders whose tables must be identical bit for bit (checked). A second, empty
sweep of ``--echo`` tiny tasks (``echo_task``: a few random draws) measures the machinery's
own cost per task: dispatch, serialization, and the atomic (fsynced) writes of each result.

Run: ``python -m benchmarks.distributed`` (about 1-5 minutes on 2 cores); the latest figures
are in benchmarks/distributed.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis.store import RunFolder
from analysis.sweep import load_results, make_tasks, results_table, run_tasks
from benchmarks._ceilings import machine_ceilings


def _tables(folder, tasks):
    return (
        results_table(folder, tasks).to_csv(index=False),
        [a for _, a in load_results(folder, tasks)],
    )


def _identical(a, b) -> bool:
    if a[0] != b[0]:
        return False
    for x, y in zip(a[1], b[1], strict=True):
        if sorted(x) != sorted(y) or not all(np.array_equal(x[k], y[k]) for k in x):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--samples", type=int, default=32, help="disorder samples (tasks)")
    ap.add_argument("--N", type=int, default=6, help="spins per sample")
    ap.add_argument("--p", type=int, default=3, help="interaction order")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--echo", type=int, default=200, help="tiny tasks for the overhead sweep")
    args = ap.parse_args(argv)

    import distributed

    ceil = machine_ceilings()
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores; {ceil['blas']}; matmul {ceil['matmul_gflops']:.1f} "
        f"GFLOP/s; read {ceil['read_gbps']:.2f} GB/s; load average at start {load[0]:.1f}"
    )
    print(
        f"numpy {np.__version__}, dask {distributed.__version__} (distributed); "
        f"sweep: census of N={args.N}, p={args.p}, {args.samples} disorder samples"
    )
    cfg = {"N": args.N, "p": args.p, "batch_size": 32, "max_starts": 512}
    tasks = make_tasks(
        "analysis.studies.pspin_descent:pspin_critical_census_task", [cfg] * args.samples, 2024
    )
    echo = make_tasks("analysis.sweep.testing:echo_task", [{"n": 4}] * args.echo, 7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def folder(name):
            return RunFolder(tmp / name, "bench-distributed", {"name": name})

        f_in = folder("inprocess")
        l0 = os.getloadavg()[0]
        c0 = time.process_time()
        r_in = run_tasks(tasks, f_in, progress=False)
        client_cpu_in = time.process_time() - c0 - r_in.task_cpu_s
        loads = {"in-process": (l0 + os.getloadavg()[0]) / 2}
        e_in = run_tasks(echo, folder("echo-inprocess"), progress=False)

        t0 = time.perf_counter()
        with (
            distributed.LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                host="127.0.0.1",
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            client.wait_for_workers(args.workers)
            t_start = time.perf_counter() - t0
            f_d = folder("dask")
            l0 = os.getloadavg()[0]
            c0 = time.process_time()  # client + scheduler (the LocalCluster's lives here)
            r_d = run_tasks(tasks, f_d, executor="dask", scheduler=client, progress=False)
            client_cpu_d = time.process_time() - c0
            loads["cluster"] = (l0 + os.getloadavg()[0]) / 2
            e_d = run_tasks(
                echo, folder("echo-dask"), executor="dask", scheduler=client, progress=False
            )
        same = _identical(_tables(f_in, tasks), _tables(f_d, tasks))
        table = results_table(f_in, tasks)

    n = len(tasks)
    W = args.workers
    rows.append(("in-process", r_in, 1, client_cpu_in, loads["in-process"]))
    rows.append((f"LocalCluster, {W} workers", r_d, W, client_cpu_d, loads["cluster"]))
    print()
    print(
        "| run | load avg | wall (s) | speed-up | sum task wall (s) | sum task CPU (s) | "
        "mean task CPU (s) | idle+dispatch per task (ms) | client CPU per task (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r, w, ccpu, load in rows:
        over = (r.wall_s * w - r.task_s) / n * 1e3
        print(
            f"| {name} | {load:.1f} | {r.wall_s:.2f} | {r_in.wall_s / r.wall_s:.2f} | "
            f"{r.task_s:.2f} | {r.task_cpu_s:.2f} | {r.task_cpu_s / n:.3f} | {over:.1f} | "
            f"{ccpu / n * 1e3:.1f} |"
        )
    print()
    print(f"cluster start-up ({W} worker processes, imports included): {t_start:.2f} s")
    print(
        f"time ratio in-process / cluster: {r_in.wall_s / r_d.wall_s:.2f} (sweep on a warm "
        f"cluster), {r_in.wall_s / (r_d.wall_s + t_start):.2f} (start-up included); "
        f"ideal on {W} idle cores: {W * r_in.task_cpu_s / max(r_d.task_cpu_s, 1e-9):.2f} "
        "(task CPU in-process / task CPU on the workers x workers)"
    )
    print(
        f"machinery per tiny task ({args.echo} echo tasks): in-process "
        f"{e_in.wall_s / args.echo * 1e3:.2f} ms, cluster {e_d.wall_s / args.echo * 1e3:.2f} ms"
    )
    print(f"tables identical in-process vs cluster (bit for bit): {same}")
    print(
        f"census totals: mean points per sample {table['n_points'].mean():.2f}, "
        f"complete certificates {int(table['complete'].sum())}/{n}"
    )
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
