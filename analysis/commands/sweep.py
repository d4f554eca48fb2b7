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

from analysis.commands._options import (
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
    run_config,
)
from analysis.studies.pspin_descent import sweep_tables, sweep_tasks
from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

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
        add_run_options(q, seed=0, seed_help="root seed of the sweep (default 0)")
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
    add_step_options(
        q, step=0.05, max_steps=500, step_aliases=("--lr",), max_steps_aliases=("--steps",)
    )
    q.add_argument("--gtol", type=float, default=1e-6, help="|rgrad|/sqrt(N) tolerance")
    common(q)

    q = sub.add_parser("echo", help="tiny tasks that check an executor or a cluster")
    q.add_argument("--tasks", type=int, default=8, help="tasks (default 8)")
    q.add_argument("--sleep", type=float, default=0.0, help="seconds each task sleeps")
    common(q)


def _params(args) -> dict:
    names = {
        "census": ("N", "p", "samples", "batch_size", "max_starts"),
        "descent": ("N", "p", "model_seed", "tasks", "replicas", "max_steps", "step", "gtol"),
        "echo": ("tasks", "sleep"),
    }[args.kind]
    # the task configurations keep their names (steps, lr): stored task keys stay the same
    rename = {"max_steps": "steps", "step": "lr"}
    return {rename.get(n, n): getattr(args, n) for n in names}


def run(args: argparse.Namespace) -> int:
    """Run the sweep; exit status 1 when some tasks failed (they are listed)."""
    from analysis.report import write_run_report

    _check(args)
    spec = executor_from_args(args)
    tasks = sweep_tasks(args.kind, _params(args), args.seed)
    check_run_options(args)
    rf = open_run_folder(
        args,
        f"sweep-{args.kind}",
        run_config(args, skip=("command", *_EXEC_KEYS)),
        label=f"sweep {args.kind}",
    )
    print(f"{len(tasks)} tasks, {spec.executor}")
    with command_context(args):
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
        names = []
        if res.failed:
            lines.append(
                f"- FAILED: {len(res.failed)} tasks (failures.json); rerun with --resume {rf.path}"
            )
            lines += [f"  - {f}" for f in res.failed]
        else:
            tables, more = sweep_tables(args.kind, rf, tasks)
            for name, table in tables.items():
                rf.write_table(name, table)
                names.append(name)
            lines += more
        write_run_report(
            rf, title=f"sweep {args.kind}", tables=names, markdown="\n".join(lines) + "\n"
        )
    print("\n".join(lines[2:]))
    return 1 if res.failed else 0


def _check(args) -> None:
    """Every argument, before any folder or worker is created."""
    for name in ("N", "p", "samples", "batch_size", "max_starts", "tasks", "replicas"):
        if hasattr(args, name):
            low = 2 if name in ("N", "p") else 1
            check_range(getattr(args, name), f"--{name.replace('_', '-')}", low=low, integer=True)
    if args.kind == "descent":
        check_range(args.step, "--step", low=0, low_open=True)
        check_range(args.max_steps, "--max-steps", low=1, integer=True)
        check_range(args.gtol, "--gtol", low=0)
    if args.kind == "echo":
        check_range(args.sleep, "--sleep", low=0)
