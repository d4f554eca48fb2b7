"""``landscapes census``: count critical points by index over disorder samples, against theory.

``landscapes census pspin --p 3 --N 10 --samples 20 --db census.sqlite`` runs one census per
disorder sample (batched Newton search, verified, deduplicated with the x -> -x symmetry,
stopped by its completeness certificate), stores the points in an SQLite catalogue, and writes
a run folder with the per-sample counts, the disorder average with standard errors beside the
exact Kac–Rice mean (pspin.theory), and figures.

The study is :func:`analysis.studies.census.run_census`. Each disorder sample is one task of a
sweep (:mod:`analysis.sweep`; task function
:func:`analysis.studies.census.census_sample_task`): ``--scheduler local:N`` runs the samples
on a local Dask cluster, ``--scheduler tcp://HOST:PORT`` on an existing one, ``--executor
processes`` on a local process pool. Workers build each sample's model from its parameters and
coupling seed (and check its fingerprint); they never touch the catalogue: the client commits a
sample's batches to it when the sample's result is stored (idempotently: no batch or point is
stored twice). Rerunning with ``--resume`` runs only the samples whose results are missing; the
tables are identical wherever the samples run (``--max-time`` makes a census depend on the
machine).
"""

from __future__ import annotations

from types import SimpleNamespace

from analysis.commands._options import (
    add_run_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
)
from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add ``census pspin`` to the CLI."""
    p = subparsers.add_parser(
        "census",
        help="count critical points by index and energy (p-spin, against Kac–Rice)",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser("pspin", help="census of pure spherical p-spin samples")
    q.add_argument("--N", type=int, default=8, help="number of spins (default 8)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--samples", type=int, default=20, help="disorder samples (default 20)")
    q.add_argument("--batch-size", type=int, default=256, help="starts per batch (default 256)")
    q.add_argument("--max-starts", type=int, default=1_000_000, help="budget per sample")
    q.add_argument("--max-time", type=float, default=None, help="seconds per sample (budget)")
    q.add_argument("--db", default=None, help="SQLite catalogue (default RUN_DIR/census.sqlite)")
    q.add_argument("--exact", action="store_true", help="also enumerate by homotopy (small N)")
    add_run_options(q, seed=0)
    add_executor_arguments(q)
    q.set_defaults(func=run)


def run(args) -> int:
    """Run ``census pspin``; returns the exit status."""
    if args.N < 2 or args.p < 2:
        raise ValueError("--N and --p must be >= 2")
    check_range(args.samples, "--samples", low=1, integer=True)
    check_range(args.batch_size, "--batch-size", low=1, integer=True)
    check_range(args.max_starts, "--max-starts", low=1, integer=True)
    if args.max_time is not None:
        check_range(args.max_time, "--max-time", low=0, low_open=True)
    spec = executor_from_args(args)  # checked before any folder is written
    check_run_options(args)
    config = {
        "target": "pspin",
        "N": args.N,
        "p": args.p,
        "samples": args.samples,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "max_starts": args.max_starts,
        "max_time": args.max_time,
        "exact": bool(args.exact),
    }
    rf = open_run_folder(args, "census", config)
    with command_context(args):
        return _run(args, rf, spec)


def _run(args, rf, spec) -> int:
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_counts_by_index, plot_saturation
    from analysis.report import write_run_report
    from analysis.studies.census import run_census
    from landscapes.progress import phase

    study = run_census(
        rf,
        N=args.N,
        p=args.p,
        samples=args.samples,
        seed=args.seed,
        batch_size=args.batch_size,
        max_starts=args.max_starts,
        max_time=args.max_time,
        exact=args.exact,
        db=args.db,
        executor=spec,
    )
    if not study.result.ok:
        print(str(SweepError(study.result)))
        return 1
    ens = study.ensemble
    # results only in samples.csv (byte-identical on a rerun); wall times in timings.csv
    rf.write_table(
        "samples.csv", [{k: v for k, v in r.items() if k != "seconds"} for r in study.rows]
    )
    rf.write_table(
        "timings.csv", [{"sample": r["sample"], "seconds": r.get("seconds")} for r in study.rows]
    )
    rf.write_table("counts_by_index.csv", study.counts_table())
    with phase("census: figures and report", total=2) as bar:
        use_agg()
        title = f"spherical {args.p}-spin, N = {args.N}"
        rf.save_figure("counts_by_index.png", plot_counts_by_index(ens, title=title))
        bar.update()
        rf.save_figure(
            "saturation.png",
            plot_saturation(
                [SimpleNamespace(saturation=s) for s in study.saturations], title=title
            ),
        )
        bar.update()
    lines = study.summary_lines(args.N, args.p)
    text = "\n".join(lines) + "\n"
    write_run_report(
        rf,
        title=f"census: spherical {args.p}-spin, N = {args.N}",
        text=" ".join(lines[:4]),
        tables=["counts_by_index.csv", "samples.csv"],
        figures=[
            ("counts_by_index.png", "critical points by index"),
            ("saturation.png", "distinct points against starts"),
        ],
        markdown=f"# census pspin\n\n```\n{text}```\n",
    )
    print(text, end="")
    print(f"run folder: {rf.path}")
    return 0
