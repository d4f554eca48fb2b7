"""``landscapes landscape``: minima, connected saddles, disconnectivity graph and index census.

``landscapes landscape lj --atoms 7`` (a Lennard-Jones cluster, the reference landscape),
``landscapes landscape mlp --dataset xor|checkerboard|digits|random --hidden H [--weight-decay W]``
(a one-hidden-layer network) and ``landscapes landscape pspin --N 10`` run the protocol of
:mod:`analysis.studies.network_landscapes`: basin-hopping for minima, hybrid
eigenvector-following / Newton eigenvector-following / Newton-MR for saddles, every point
verified (|grad| <= 1e-10 relative to the scale; index modulo declared symmetries), every
saddle connected to its two minima, and a Newton-MR census by index with gradient-flat points
apart. The run folder holds tables (minima, saddles, critical, flat, summary), arrays, the
SQLite catalogue, figures and report.md; ``--pspin-N`` adds a p-spin sample drawn beside it.
"""

from __future__ import annotations

from analysis.commands._options import (
    add_run_options,
    add_step_options,
    check_run_options,
    command_context,
    open_run_folder,
)

__all__ = ["register", "run"]


def _common(q) -> None:
    q.add_argument("--replicas", type=int, default=16, help="basin-hopping replicas (16)")
    add_step_options(
        q,
        step=None,
        max_steps=30,
        step_help="basin-hopping step size (default: 0.4 per coordinate for lj, 0.5 for mlp)",
        max_steps_help="basin-hopping steps",
        max_steps_aliases=("--steps",),
    )
    q.add_argument("--temperature", type=float, default=None, help="basin-hopping temperature")
    q.add_argument("--hef-minima", type=int, default=10, help="minima to climb from (10)")
    q.add_argument("--hef-modes", type=int, default=2, help="soft modes per minimum (2)")
    q.add_argument("--ef-starts", type=int, default=64, help="index-1 Newton starts (64)")
    q.add_argument("--mr-starts", type=int, default=64, help="Newton-MR starts per kind (64)")
    q.add_argument(
        "--tef-starts", type=int, default=64, help="index-targeted EF starts (64; networks)"
    )
    q.add_argument(
        "--tef-ladder",
        type=int,
        default=0,
        help="rounds of the index ladder: index k -> k + 1 from the highest-index points "
        "(0; networks)",
    )
    q.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds of saddle searches, each from the minima the previous one found (1)",
    )
    q.add_argument("--levels", type=int, default=30, help="levels of the tree (30)")
    q.add_argument(
        "--pspin-N",
        type=int,
        default=0,
        help="also run a 3-spin sample of this N and draw both graphs side by side (0: no)",
    )
    add_run_options(q, seed=0)
    q.set_defaults(func=run)


def register(subparsers) -> None:
    """Add ``landscape lj|mlp|pspin`` to the CLI."""
    p = subparsers.add_parser(
        "landscape",
        help="minima, verified saddles, disconnectivity graph and index census of a landscape",
        description=__doc__.split("\n\n")[1],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser("lj", help="a Lennard-Jones cluster (reduced units)")
    q.add_argument("--atoms", type=int, default=7, help="number of atoms (default 7)")
    _common(q)
    q = sub.add_parser("mlp", help="a one-hidden-layer tanh network, mean squared error")
    q.add_argument(
        "--dataset", default="xor", help="xor | checkerboard | digits | random (default xor)"
    )
    q.add_argument("--hidden", type=int, default=4, help="hidden units (default 4)")
    q.add_argument("--weight-decay", type=float, default=1e-3, help="weight decay (1e-3)")
    q.add_argument("--n-train", type=int, default=30, help="training samples (xor, digits, random)")
    q.add_argument("--classes", type=int, default=3, help="classes (digits, random; default 3)")
    q.add_argument("--k", type=int, default=4, help="checkerboard size k x k (default 4)")
    _common(q)
    q = sub.add_parser("pspin", help="a pure spherical p-spin sample (complete census)")
    q.add_argument("--N", type=int, default=10, help="number of spins (default 10)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--max-time", type=float, default=None, help="census budget (seconds)")
    _common(q)


def _check(args) -> None:
    names = (
        "replicas",
        "max_steps",
        "hef_minima",
        "hef_modes",
        "ef_starts",
        "mr_starts",
        "tef_starts",
        "tef_ladder",
    )
    if args.rounds < 1:
        raise ValueError("--rounds must be >= 1")
    for name in names:
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
    if args.replicas < 1:
        raise ValueError("--replicas must be >= 1")
    if args.levels < 2:
        raise ValueError("--levels must be >= 2")
    if args.pspin_N and args.pspin_N < 3:
        raise ValueError("--pspin-N must be 0 (none) or >= 3")
    if args.target == "lj" and args.atoms < 3:
        raise ValueError("--atoms must be >= 3")
    if args.target == "mlp":
        from analysis.studies.network_landscapes import DATASETS

        if args.dataset not in DATASETS:
            raise ValueError(f"--dataset must be one of {', '.join(DATASETS)}")
        if args.hidden < 1 or args.weight_decay < 0:
            raise ValueError("--hidden must be >= 1 and --weight-decay >= 0")
    if args.target == "pspin" and (args.N < 3 or args.p < 2):
        raise ValueError("--N must be >= 3 and --p >= 2")
    if args.step is not None and not args.step > 0:
        raise ValueError(f"--step must be > 0; got {args.step}")
    if args.temperature is not None and not args.temperature > 0:
        raise ValueError(f"--temperature must be > 0; got {args.temperature}")
    check_run_options(args)


def _config(args) -> dict:
    skip = {"func", "out", "resume", "command", "threads", "no_progress", "recompute_corrupted"}
    return {k: v for k, v in vars(args).items() if k not in skip}


def run(args) -> int:
    """Run ``landscape TARGET``; returns the exit status."""
    _check(args)
    rf = open_run_folder(args, "landscape", _config(args), label=f"landscape {args.target}")
    with command_context(args):
        return _run(args, rf)


def _run(args, rf) -> int:
    from analysis.catalogue import Catalogue
    from analysis.connectivity import disconnectivity_tree
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_disconnectivity
    from analysis.plots.landscape import (
        plot_barriers_vs_energy,
        plot_disconnectivity_panels,
        plot_index_vs_energy,
    )
    from analysis.report import write_run_report
    from analysis.studies import network_landscapes as nl

    energy = None
    if args.target == "pspin":
        land = nl.pspin_landscape(args.N, args.p, seed=args.seed, max_time=args.max_time)
    else:
        if args.target == "lj":
            from landscapes.clusters import LennardJones

            energy = LennardJones(args.atoms)
            name, defaults = f"LJ{args.atoms}", {"bh_temperature": 1.0, "bh_step": None}
            extra = {"ef_kick": 0.3, "mr_scales": (1.0,)}
        else:
            energy = nl.network_model(
                args.dataset,
                args.hidden,
                args.weight_decay,
                n_train=args.n_train,
                classes=args.classes,
                k=args.k,
                seed=args.seed,
            )
            name = f"MLP {args.dataset} h={args.hidden} wd={args.weight_decay:g} (P={energy.dim})"
            defaults = {"bh_temperature": 0.01, "bh_step": 0.5}
            extra = {
                "quench_gtol": 1e-5,
                "quench_max_iter": 500,
                "mr_scales": (0.05, 0.2, 0.5, 1.0, 2.0, 4.0),
                "tef_starts": args.tef_starts,
                "tef_ladder": args.tef_ladder,
            }
        land = nl.explore_landscape(
            energy,
            name=name,
            seed=args.seed,
            bh_replicas=args.replicas,
            bh_steps=args.max_steps,
            bh_temperature=args.temperature or defaults["bh_temperature"],
            bh_step=args.step if args.step is not None else defaults["bh_step"],
            hef_minima=args.hef_minima,
            hef_modes=args.hef_modes,
            ef_starts=args.ef_starts,
            mr_starts=args.mr_starts,
            rounds=args.rounds,
            **extra,
        )
        with Catalogue(rf.file("landscape.sqlite")) as cat:
            nl.store_landscape(cat, energy, land)
    for key, table in land.tables().items():
        rf.write_table(f"{key}.csv", table)
    summ = land.summary()
    rf.write_table("summary.csv", {k: [v] for k, v in summ.items()})
    # wall times apart from the results, so that a rerun writes byte-identical result tables
    rf.write_table("timings.csv", {f"seconds_{k}": [round(v, 2)] for k, v in land.timings.items()})
    rf.write_arrays("landscape.npz", minima=land.minima, saddles=land.saddles, ends=land.ends)
    use_agg()
    lines = [f"# landscape {args.target}: {land.name}", ""]
    pspin = None
    if args.pspin_N:
        pspin = nl.pspin_landscape(args.pspin_N, 3, seed=args.seed)
        rf.write_table("pspin_summary.csv", {k: [v] for k, v in pspin.summary().items()})
    has_tree = bool(land.minima_energies.size)
    if has_tree:
        tree = disconnectivity_tree(land.connections(), levels=args.levels)
        rf.write_json(rf.name_of("table", "tree.json"), tree.to_dict())
        rf.save_figure(
            "disconnectivity.png",
            plot_disconnectivity(tree, energy_label=land.energy_unit, title=land.name),
        )
        panels = [(land.name, disconnectivity_tree(nl.normalized_connections(land)[0], 30))]
        if pspin is not None and pspin.minima_energies.size:
            panels.append(
                (pspin.name, disconnectivity_tree(nl.normalized_connections(pspin)[0], 30))
            )
        rf.save_figure(
            "disconnectivity_normalized.png",
            plot_disconnectivity_panels(panels, "(E - E_min) / (E_top - E_min)"),
        )
    rf.save_figure("index_vs_energy.png", plot_index_vs_energy(land, pspin=pspin))
    if land.saddle_energies.size:
        rf.save_figure("barriers.png", plot_barriers_vs_energy(land))
    lines += [f"- {k}: {v}" for k, v in summ.items()]
    lines += [f"- seconds_{k}: {v:.2f}" for k, v in land.timings.items()]
    lines += ["", "## stages", ""] + [f"- {k}: {v}" for k, v in land.counts.items()]
    if energy is not None:
        lines += ["", f"fingerprint: {energy.fingerprint}"]
    lines += [
        "",
        "Energies are intensive (`energy / scale`): "
        f"{land.energy_unit}. Every minimum and saddle is verified (|grad| <= 1e-10 times "
        "the scale; index modulo the declared symmetry directions). Gradient-flat points "
        "(flat.csv) are not critical points. disconnectivity_normalized.png draws each "
        "landscape in (E - E_min) / (E_top - E_min).",
    ]
    text = "\n".join(lines) + "\n"
    figs = [f for f in ("disconnectivity.png", "disconnectivity_normalized.png") if has_tree]
    figs += ["index_vs_energy.png"] + (["barriers.png"] if land.saddle_energies.size else [])
    write_run_report(
        rf,
        title=f"landscape {args.target}: {land.name}",
        tables=["summary.csv", "minima.csv", "saddles.csv", "critical.csv", "flat.csv"],
        figures=figs,
        markdown=text,
    )
    print(text, end="")
    print(f"run folder: {rf.path}")
    return 0
