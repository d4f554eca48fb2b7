"""``landscapes sweep``: run a sweep of independent tasks in-process, on processes or on Dask.

Sub-commands:

* ``census``: critical-point census (:func:`analysis.critical.census`) of ``--samples``
  disorder samples of the pure spherical p-spin, one task per sample;
* ``descent``: ``--tasks`` batches of ``--replicas`` Riemannian gradient descents on one
  p-spin model (built on each worker from ``--model-seed``, its fingerprint checked);
* ``echo``: tiny tasks that check an executor or a cluster (numpy version on the workers).

Every task's result is stored in the run folder as it completes (``tasks/<key>.json`` and
``.npz``); ``results.csv`` holds one row per task and ``report.md`` the outcome. Where the
tasks run (``--executor``, ``--scheduler``, ``--retries``, ``--workers``) is not part of the
run's configuration: a sweep started in-process can be resumed on a cluster (``--resume``)
and gives the same tables.
"""

from __future__ import annotations

import argparse

import numpy as np

from analysis.store import RunFolder
from analysis.tasks import (
    SweepError,
    add_executor_arguments,
    executor_from_args,
    make_tasks,
    model_spec,
    results_table,
)

_EXEC_KEYS = ("executor", "scheduler", "retries", "workers")


def register(subparsers) -> None:
    """Add ``landscapes sweep`` and its sub-commands."""
    p = subparsers.add_parser(
        "sweep",
        help="run a sweep of independent tasks in-process, on local processes or on Dask",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="kind", metavar="KIND", required=True)

    def common(q):
        q.add_argument("--seed", type=int, default=0, help="root seed of the sweep (default 0)")
        q.add_argument("--out", default=None, help="run folder (default runs/sweep-...)")
        q.add_argument("--resume", action="store_true", help="resume an existing run folder")
        add_executor_arguments(q)
        q.set_defaults(func=run)

    q = sub.add_parser("census", help="critical-point census over disorder samples")
    q.add_argument("--N", type=int, default=6, help="spins (default 6; dense Hessians)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--samples", type=int, default=32, help="disorder samples (default 32)")
    q.add_argument("--batch-size", type=int, default=32, help="starts per batch (default 32)")
    q.add_argument("--max-starts", type=int, default=512, help="starts per sample (default 512)")
    common(q)

    q = sub.add_parser("descent", help="batches of gradient descents on one p-spin model")
    q.add_argument("--N", type=int, default=100, help="spins (default 100)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--model-seed", type=int, default=1, help="coupling seed (default 1)")
    q.add_argument("--tasks", type=int, default=8, help="tasks (default 8)")
    q.add_argument("--replicas", type=int, default=16, help="descents per task (default 16)")
    q.add_argument("--steps", type=int, default=500, help="max steps (default 500)")
    q.add_argument("--lr", type=float, default=0.05, help="step size (default 0.05)")
    q.add_argument("--gtol", type=float, default=1e-6, help="|rgrad|/sqrt(N) tolerance")
    common(q)

    q = sub.add_parser("echo", help="tiny tasks that check an executor or a cluster")
    q.add_argument("--tasks", type=int, default=8, help="tasks (default 8)")
    q.add_argument("--sleep", type=float, default=0.0, help="seconds each task sleeps")
    common(q)


def _positive(args, *names):
    for n in names:
        v = getattr(args, n)
        if v < 1:
            raise ValueError(f"--{n.replace('_', '-')} must be >= 1; got {v}")


def _tasks(args):
    if args.kind == "census":
        _positive(args, "samples", "batch_size", "max_starts")
        if args.N < 2 or args.p < 2:
            raise ValueError(f"--N and --p must be >= 2; got N={args.N}, p={args.p}")
        cfg = {"N": args.N, "p": args.p, "batch_size": args.batch_size}
        cfg["max_starts"] = args.max_starts
        func = "analysis.tasks:pspin_critical_census_task"
        return make_tasks(func, [cfg] * args.samples, args.seed)
    if args.kind == "descent":
        _positive(args, "tasks", "replicas")
        if args.steps < 0 or not args.lr > 0:
            raise ValueError(f"--steps must be >= 0 and --lr > 0; got {args.steps}, {args.lr}")
        from pspin.model import SphericalPSpin

        # built once here for its fingerprint; workers rebuild it from the spec
        spec = model_spec(SphericalPSpin(args.N, args.p, seed=args.model_seed))
        cfg = {"model": spec, "replicas": args.replicas, "steps": args.steps, "lr": args.lr}
        cfg["gtol"] = args.gtol
        return make_tasks("analysis.tasks:pspin_descent_task", [cfg] * args.tasks, args.seed)
    _positive(args, "tasks")
    if args.sleep < 0:
        raise ValueError(f"--sleep must be >= 0; got {args.sleep}")
    cfg = {"n": 4, "sleep": args.sleep}
    return make_tasks("analysis.tasks:echo_task", [cfg] * args.tasks, args.seed)


def _config(args) -> dict:
    skip = {"func", "out", "resume", "command", *_EXEC_KEYS}
    return {k: v for k, v in vars(args).items() if k not in skip}


def run(args: argparse.Namespace) -> int:
    """Run the sweep; exit status 1 when some tasks failed (they are listed)."""
    spec = executor_from_args(args)
    tasks = _tasks(args)
    rf = RunFolder(args.out, f"sweep-{args.kind}", _config(args), resume=args.resume)
    print(f"run folder: {rf.path} ({len(tasks)} tasks, {spec.executor})")
    try:
        res = spec.run(tasks, rf, desc=f"sweep {args.kind}")
    except SweepError as exc:
        res = exc.result
        print(str(exc))
    lines = [
        f"# sweep {args.kind}",
        "",
        f"- tasks: {len(tasks)}; {res.summary()}",
        f"- executor: {spec.executor}" + (f" ({spec.scheduler})" if spec.scheduler else ""),
    ]
    if res.failed:
        lines.append(f"- FAILED: {len(res.failed)} tasks (failures.json); rerun with --resume")
        lines += [f"  - {f}" for f in res.failed]
    else:
        table = results_table(rf, tasks)
        rf.write_table("results.csv", table)
        lines.append("- results: results.csv (one row per task, in task order)")
        if args.kind == "census":
            counts = np.stack([rf.load_task(t.key)[1]["counts_by_index"] for t in tasks])
            S = counts.shape[0]
            mean = counts.mean(axis=0)
            se = counts.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.full_like(mean, np.nan)
            rf.write_table(
                "counts_by_index.csv",
                {"index": np.arange(counts.shape[1]), "mean": mean, "stderr": se},
            )
            lines.append(
                f"- mean number of critical points per sample: {counts.sum(1).mean():.3f} "
                f"(counts_by_index.csv); complete certificates: "
                f"{int(table['complete'].sum())}/{S}"
            )
        elif args.kind == "descent":
            lines.append(
                f"- final energy per spin H/N: mean {table['e_mean'].mean():.6f}, "
                f"lowest {table['e_min'].min():.6f}"
            )
    rf.write_text("report.md", "\n".join(lines) + "\n")
    print("\n".join(lines[2:]))
    return 1 if res.failed else 0
