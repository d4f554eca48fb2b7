"""``landscapes compare``: the spherical p-spin against neural networks, end to end.

Runs the comparison study (:mod:`analysis.studies.compare`) on the default comparison (p = 3
p-spin at N = 50, 100, 200 against MLPs on digits and on a teacher–student task at widths
8-64), writes the run folder (config.json, tables, arrays, figures, report.html) and prints
where the report is. ``--quick`` is a one-minute smoke run; ``--full`` is the converged
Sagun experiment (N up to 400, widths up to 128, hundreds of replicas: hours on 2 cores).

Each (model, size) is one task of a sweep (:mod:`analysis.sweep`): ``--scheduler local:N``
runs them on a local Dask cluster, ``--scheduler tcp://HOST:PORT`` on an existing one,
``--executor processes`` on a local process pool; the tables are identical wherever the tasks
run, and ``--resume RUN_DIR`` runs only the tasks whose results are missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run"]


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of integers; got {text!r}"
        ) from None


def register(subparsers) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="p-spin vs neural networks: descents, final energies, spectra, overlaps, report",
        description=(
            "Apply one protocol (GD and SGD ensembles from random starts, final intensive "
            "energies, halting times, Hessian spectra at endpoints, overlaps) to the spherical "
            "p-spin and to MLP losses, and write a run folder with tables, figures and "
            "report.html. Sizes and budgets come from a preset (default, --quick, --full), "
            "a TOML file (--config) and the flags below, in that order."
        ),
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small smoke run (about a minute)")
    g.add_argument(
        "--full",
        action="store_true",
        help="the converged Sagun experiment: N up to 400, widths up to 128, hundreds of replicas (hours)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="TOML file overriding the preset (see analysis.config)"
    )
    p.add_argument("--seed", type=int, help="root seed of the run (default 0)")
    p.add_argument("--sizes", type=_int_list, metavar="N,N,...", help="p-spin sizes N")
    p.add_argument("--p", type=int, help="order of the p-spin interaction (default 3)")
    p.add_argument("--widths", type=_int_list, metavar="W,W,...", help="network hidden widths")
    p.add_argument("--replicas", type=int, help="p-spin replicas per coupling sample")
    p.add_argument("--net-replicas", type=int, help="network replicas per width")
    p.add_argument(
        "--families",
        metavar="F,F",
        type=lambda s: [t for t in s.replace(",", " ").split()],
        help="network families: digits, teacher_student",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/compare-<time>-<hash>)")
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue an interrupted run, skipping stored work"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads (default: leave as is; 1 avoids oversubscription on a busy machine)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_executor_arguments(p)
    p.set_defaults(func=run)


def _flags(args) -> dict:
    return {
        "seed": args.seed,
        "pspin.sizes": args.sizes,
        "pspin.p": args.p,
        "pspin.replicas": args.replicas,
        "networks.widths": args.widths,
        "networks.replicas": args.net_replicas,
        "networks.families": args.families,
    }


def run(args) -> int:
    """Run (or resume) the comparison, then write tables, figures and the report."""
    import contextlib

    from analysis.config import build_config, load_toml
    from analysis.store import RunFolder
    from analysis.studies.compare import make_figures_and_report, run_comparison
    from landscapes import threads

    preset = "quick" if args.quick else "full" if args.full else "default"
    toml = load_toml(args.config) if args.config else None
    flags = _flags(args)
    spec = executor_from_args(args)  # checked before any folder is written
    n_threads = threads.check_threads(args.threads, "--threads")
    if args.resume:
        if args.out and Path(args.out) != Path(args.resume):
            raise ValueError("give either --out or --resume RUN_DIR, not two different folders")
        stored = RunFolder.open(args.resume)
        if stored.command != "compare":
            raise ValueError(f"{args.resume} is a '{stored.command}' run, not a compare run")
        explicit = args.quick or args.full or toml or any(v is not None for v in flags.values())
        config = build_config(preset, toml, flags) if explicit else stored.config
        run_folder = RunFolder(args.resume, "compare", config, resume=True)
    else:
        config = build_config(preset, toml, flags)
        run_folder = RunFolder(args.out, "compare", config)
    progress = False if args.no_progress else None
    # --threads absent: leave the BLAS pools as they are
    pools = threads.limit(n_threads) if n_threads is not None else contextlib.nullcontext()
    try:
        with pools:
            result = run_comparison(config, run_folder, progress=progress, executor=spec)
    except SweepError as exc:
        print(str(exc))
        return 1
    print(f"compare tasks: {result.summary()}")
    make_figures_and_report(run_folder, config)
    print(f"report: {run_folder.path / 'report.html'}")
    return 0
