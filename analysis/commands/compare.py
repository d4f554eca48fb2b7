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

The report's "Landscape graphs" section (:mod:`analysis.studies.compare.graphs`: a tiny
network and a small p-spin catalogued and drawn side by side as disconnectivity graphs in
``(E - E_min) / (E_top - E_min)``) is computed once per run folder; ``--no-landscape-graphs``
(or ``[graphs] enabled = false``) leaves it out.
"""

from __future__ import annotations

from analysis.commands._options import (
    add_list,
    add_run_options,
    check_run_options,
    command_context,
    open_run_folder,
    resolve_out,
)
from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run"]

FAMILIES = ("digits", "teacher_student")


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
    add_list(p, "--sizes", int, metavar="N", help="p-spin sizes N (e.g. --sizes 50 100)")
    p.add_argument("--p", type=int, help="order of the p-spin interaction (default 3)")
    add_list(p, "--widths", int, metavar="W", help="network hidden widths (e.g. --widths 8 16)")
    p.add_argument("--replicas", type=int, help="p-spin replicas per coupling sample")
    p.add_argument("--net-replicas", type=int, help="network replicas per width")
    add_list(
        p,
        "--families",
        str,
        metavar="F",
        help=f"network families: {' '.join(FAMILIES)} (default both)",
    )
    p.add_argument(
        "--no-landscape-graphs",
        action="store_true",
        help="skip the 'Landscape graphs' section (a tiny network and a small p-spin, "
        "catalogued and drawn as disconnectivity graphs; a few seconds with --quick)",
    )
    add_run_options(p, seed=None, seed_help="root seed of the run (default 0)")
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
        "graphs.enabled": False if getattr(args, "no_landscape_graphs", False) else None,
    }


def _check(args) -> None:
    for flag, values in (("--sizes", args.sizes), ("--widths", args.widths)):
        if values is not None and any(v < 1 for v in values):
            raise ValueError(f"{flag} must be positive integers; got {values}")
    if args.families is not None:
        bad = [f for f in args.families if f not in FAMILIES]
        if bad:
            raise ValueError(f"--families must be among {', '.join(FAMILIES)}; got {bad}")
    for flag, v in (("--p", args.p), ("--replicas", args.replicas)):
        if v is not None and v < (2 if flag == "--p" else 1):
            raise ValueError(f"{flag} must be >= {2 if flag == '--p' else 1}; got {v}")
    if args.net_replicas is not None and args.net_replicas < 1:
        raise ValueError(f"--net-replicas must be >= 1; got {args.net_replicas}")


def run(args) -> int:
    """Run (or resume) the comparison, then write tables, figures and the report."""
    from analysis.config import build_config, load_toml
    from analysis.store import RunFolder
    from analysis.studies.compare import make_figures_and_report, run_comparison
    from landscapes.progress import phase

    _check(args)
    preset = "quick" if args.quick else "full" if args.full else "default"
    toml = load_toml(args.config) if args.config else None
    flags = _flags(args)
    spec = executor_from_args(args)  # checked before any folder is written
    check_run_options(args)
    out, resume = resolve_out(args)
    explicit = args.quick or args.full or toml or any(v is not None for v in flags.values())
    if resume and not explicit:
        config = RunFolder.open(out, command="compare").config
    else:
        config = build_config(preset, toml, flags)
    run_folder = open_run_folder(args, "compare", config)
    progress = False if args.no_progress else None
    with command_context(args):
        try:
            result = run_comparison(config, run_folder, progress=progress, executor=spec)
        except SweepError as exc:
            print(str(exc))
            return 1
        print(f"compare tasks: {result.summary()}")
        with phase("compare: figures and report") as bar:
            make_figures_and_report(
                run_folder, config, progress=lambda name: bar.update(1, last=str(name))
            )
    print(f"report: {run_folder.path / 'report.html'}")
    return 0
