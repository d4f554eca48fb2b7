"""``landscapes halting``: universal halting-time fluctuations (Sagun, Trogdon & LeCun 2018).

``landscapes halting pspin --N 50 100 200 --replicas 40`` runs gradient descent on the
spherical 3-spin to a gradient threshold over four coupling ensembles and the given sizes;
``landscapes halting mlp`` runs GD and SGD on small networks over two data ensembles (digits,
teacher-student). Both write the halting-time table, the pairwise KS / Anderson-Darling tests
of the normalized laws (tau - mean)/sd with the KS distance each test could detect, the
collapse figure and a short report. ``landscapes halting sgd --N 100 200`` compares GD with
Sagun et al.'s SGD on the split p-spin: final-energy distributions (means, spreads, KS / AD
tests) and epochs to stop.
"""

from __future__ import annotations

import argparse

import numpy as np

from analysis.commands._options import (
    add_list,
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
    run_config,
)

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add ``halting`` to the CLI."""
    q = subparsers.add_parser(
        "halting",
        help="halting-time fluctuations of GD/SGD across ensembles (universality)",
        description=__doc__.split("\n\n")[1],
    )
    kinds = q.add_subparsers(dest="kind", metavar="KIND")
    ps = kinds.add_parser("pspin", help="GD on the p-spin over four coupling ensembles")
    add_list(ps, "--N", item=int, default=[50, 100, 200], help="sizes (default 50 100 200)")
    ps.add_argument("--p", type=int, default=3, help="order of the interaction (default 3)")
    ps.add_argument(
        "--replicas", type=int, default=40, help="runs per ensemble and size (default 40)"
    )
    ps.add_argument(
        "--models", type=int, default=4, help="coupling draws per ensemble and size (default 4)"
    )
    ps.add_argument(
        "--grad-threshold",
        type=float,
        default=0.01,
        help="stop at |Riemannian gradient| <= this (total norm; default 0.01)",
    )
    add_step_options(
        ps,
        step=0.2,
        max_steps=20000,
        step_help="GD step (Sagun et al.)",
        max_steps_help="GD step budget",
    )
    nn = kinds.add_parser("mlp", help="GD and SGD on small networks over two data ensembles")
    nn.add_argument("--data-seeds", type=int, default=20, help="data draws per ensemble")
    nn.add_argument("--inits", type=int, default=5, help="initializations per data draw")
    nn.add_argument("--hidden", type=int, default=16, help="hidden width (default 16)")
    nn.add_argument("--n-train", type=int, default=300, help="training samples (default 300)")
    nn.add_argument("--epochs", type=int, default=400, help="epochs (default 400)")
    add_step_options(nn, step=0.5, step_help="GD step", step_aliases=("--gd-step",))
    nn.add_argument("--sgd-step", type=float, default=0.05, help="SGD step (default 0.05)")
    nn.add_argument("--batch-size", type=int, default=32, help="SGD batch (default 32)")
    nn.add_argument(
        "--threshold-digits", type=float, default=0.05, help="loss threshold, digits (0.05)"
    )
    nn.add_argument(
        "--threshold-teacher", type=float, default=0.012, help="loss threshold, teacher (0.012)"
    )
    sg = kinds.add_parser("sgd", help="GD vs SGD on the split p-spin (Sagun et al.)")
    add_list(sg, "--N", item=int, default=[100, 200], help="sizes (default 100 200)")
    sg.add_argument("--p", type=int, default=3, help="order of the interaction (default 3)")
    sg.add_argument("--P", type=int, default=5, help="parts of the couplings (default 5)")
    sg.add_argument("--samples", type=int, default=2, help="coupling draws per N (default 2)")
    sg.add_argument("--replicas", type=int, default=20, help="starts per draw (default 20)")
    sg.add_argument(
        "--sgd-epochs", type=int, default=100, help="SGD epochs (default 100; Sagun: 500)"
    )
    sg.add_argument("--final-gd-steps", type=int, default=1000, help="final GD steps (1000)")
    sg.add_argument("--grad-threshold", type=float, default=0.01, help="|rgrad| to stop at (0.01)")
    for sp in (ps, nn, sg):
        add_run_options(sp, seed=0)
        sp.set_defaults(func=run)
    q.set_defaults(func=lambda args: q.print_help() or 0)


def _check(args) -> None:
    if args.kind in ("pspin", "sgd"):
        for n in args.N:
            check_range(n, "--N", low=2, integer=True)
        check_range(args.p, "--p", low=2, integer=True)
        check_range(args.grad_threshold, "--grad-threshold", low=0, low_open=True)
    if args.kind == "pspin":
        check_range(args.models, "--models", low=1, integer=True)
        check_range(args.replicas, "--replicas", low=max(2, args.models), integer=True)
        check_range(args.step, "--step", low=0, low_open=True)
        check_range(args.max_steps, "--max-steps", low=1, integer=True)
    elif args.kind == "sgd":
        check_range(args.P, "--P", low=1, integer=True)
        check_range(args.samples, "--samples", low=1, integer=True)
        check_range(args.replicas, "--replicas", low=1, integer=True)
        if args.samples * args.replicas < 2:
            raise ValueError("--samples x --replicas must be >= 2 (at least 2 runs)")
        check_range(args.sgd_epochs, "--sgd-epochs", low=1, integer=True)
        check_range(args.final_gd_steps, "--final-gd-steps", low=0, integer=True)
    else:
        check_range(args.data_seeds, "--data-seeds", low=1, integer=True)
        check_range(args.inits, "--inits", low=1, integer=True)
        if args.data_seeds * args.inits < 2:
            raise ValueError("--data-seeds x --inits must be >= 2 (at least 2 runs)")
        check_range(args.hidden, "--hidden", low=1, integer=True)
        check_range(args.n_train, "--n-train", low=2, integer=True)
        check_range(args.epochs, "--epochs", low=1, integer=True)
        check_range(args.step, "--step", low=0, low_open=True)
        check_range(args.sgd_step, "--sgd-step", low=0, low_open=True)
        check_range(args.batch_size, "--batch-size", low=1, high=args.n_train, integer=True)
        check_range(args.threshold_digits, "--threshold-digits", low=0, low_open=True)
        check_range(args.threshold_teacher, "--threshold-teacher", low=0, low_open=True)


def _md_table(rows: list[dict], cols: list[str]) -> str:
    """The columns ``cols`` of ``rows`` as a Markdown table (:func:`analysis.report.markdown_table`)."""
    from analysis.report import markdown_table

    return markdown_table([{c: r[c] for c in cols} for r in rows]) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes halting``."""
    _check(args)
    check_run_options(args)
    progress = False if args.no_progress else None
    rf = open_run_folder(args, "halting", run_config(args), label=f"halting {args.kind}")
    with command_context(args):
        if args.kind == "sgd":
            return _run_sgd(args, rf, progress)
        return _run_halting(args, rf, progress)


def _run_halting(args, rf, progress) -> int:
    """``halting pspin`` / ``halting mlp``: halting times, tests, collapse figure, report."""
    import pandas as pd

    from analysis.plots import use_agg
    from analysis.plots.halting import collapse_figure, raw_halting_figure
    from analysis.report import ReportFigure, write_run_report
    from analysis.studies import halting as hs
    from landscapes.progress import phase

    if args.kind == "pspin":
        study = hs.pspin_halting(
            args.N,
            p=args.p,
            replicas=args.replicas,
            models=args.models,
            step=args.step,
            grad_threshold=args.grad_threshold,
            max_steps=args.max_steps,
            seed=args.seed,
            progress=progress,
            store=rf,
        )
    else:
        study = hs.network_halting(
            data_seeds=args.data_seeds,
            inits=args.inits,
            hidden=args.hidden,
            n_train=args.n_train,
            epochs=args.epochs,
            gd_step=args.step,
            sgd_step=args.sgd_step,
            batch_size=args.batch_size,
            thresholds={"digits": args.threshold_digits, "teacher": args.threshold_teacher},
            seed=args.seed,
            progress=progress,
            store=rf,
        )
    summary = hs.summarize(study)
    tests = hs.compare_laws(study)
    groups = study.groups()
    normalized = {k: hs.normalized(v) for k, v in groups.items() if np.sum(v >= 0) >= 2}
    rf.write_table("runs.csv", study.runs)
    rf.write_table("halting.csv", summary)
    rf.write_table("tests.csv", tests)
    rf.write_arrays("halting.npz", **{"__".join(map(str, k)): v for k, v in groups.items()})
    use_agg()
    with phase(f"halting {args.kind}: figures", total=2) as bar:
        rf.save_figure("collapse.png", collapse_figure(normalized, tests))
        bar.update(1)
        rf.save_figure("raw.png", raw_halting_figure(groups))
        bar.update(1)

    n_reject = sum(r["ks_pvalue"] < 0.05 for r in tests)
    cols_s = ["family", "ensemble", "size", "runs", "halted", "tau_mean", "tau_sd", "skewness"]
    cols_t = ["family", "a", "b", "n1", "n2", "ks", "ks_pvalue", "ad_pvalue", "ks_detectable"]
    md = (
        f"# Halting times ({args.kind})\n\n"
        f"Protocol: {study.params}\n\nSeed: {study.seed}\n\n"
        "## Halting times\n\n" + _md_table(summary, cols_s) + "\n"
        "## Normalized laws, pairwise (KS, Anderson-Darling)\n\n"
        f"{n_reject} of {len(tests)} pairs reject equality at 5% (KS). `ks_detectable`: the KS "
        "distance each pair would detect with 80% power at 5% (Massey's bound).\n\n"
        + _md_table(tests, cols_t)
        + "\n![collapse](figures/collapse.png)\n\n![raw](figures/raw.png)\n"
    )
    write_run_report(
        rf,
        title=f"Halting times: {args.kind}",
        text=f"Collapse of normalized halting times: {n_reject} of {len(tests)} pairwise KS "
        "tests reject at 5%.",
        protocol=[(k, str(v)) for k, v in study.params.items()],
        tables=[
            (name, pd.DataFrame(rows))
            for name, rows in (
                ("halting.csv", summary),
                ("tests.csv", tests),
                ("runs.csv", study.runs),
            )
        ],
        figures=[
            ReportFigure(
                "figures/collapse.png",
                "ECDFs of (tau - mean)/sd",
                "One panel per algorithm; curves of different ensembles should overlap.",
            ),
            ReportFigure("figures/raw.png", "Raw halting times", "Before normalization."),
        ],
        markdown=md,
    )
    print(f"halting {args.kind}: {len(study.runs)} runs, {n_reject}/{len(tests)} pairs reject")
    for r in summary:
        print(
            f"  {r['family']:9s} {r['ensemble']:12s} {r['size']:>4}: tau {r['tau_mean']:.1f} "
            f"+- {r['tau_sd']:.1f} ({r['halted']}/{r['runs']} halted)"
        )
    print(f"run folder: {rf.path}")
    return 0


def _run_sgd(args, rf, progress) -> int:
    """``halting sgd``: GD against SGD on the split p-spin at each N."""
    import pandas as pd

    from analysis.plots import use_agg
    from analysis.plots.halting import gd_sgd_figure
    from analysis.report import ReportFigure, write_run_report
    from analysis.studies.pspin_sgd import gd_vs_sgd
    from landscapes.progress import phase
    from pspin import theory

    comps = [
        gd_vs_sgd(
            N,
            p=args.p,
            P=args.P,
            samples=args.samples,
            replicas=args.replicas,
            sgd_epochs=args.sgd_epochs,
            final_gd_steps=args.final_gd_steps,
            grad_threshold=args.grad_threshold,
            seed=args.seed,
            progress=progress,
            store=rf,
        )
        for N in args.N
    ]
    summary = [c.summary for c in comps]
    runs = [
        {"N": c.N, "method": m, "run": i, "energy": float(e), "settle_epochs": int(t)}
        for c in comps
        for m, E, S in (("gd", c.gd_energy, c.gd_settle), ("sgd", c.sgd_energy, c.sgd_settle))
        for i, (e, t) in enumerate(zip(E, S, strict=True))
    ]
    rf.write_table("gd_vs_sgd.csv", summary)
    rf.write_table("sgd_runs.csv", runs)
    rf.write_arrays(
        "gd_vs_sgd.npz",
        **{f"{m}_{c.N}": getattr(c, f"{m}_energy") for c in comps for m in ("gd", "sgd")},
    )
    use_agg()
    lines = {"-E_inf": -float(theory.threshold_energy(args.p))}
    with phase("halting sgd: figures", total=1) as bar:
        rf.save_figure("gd_vs_sgd.png", gd_sgd_figure(comps, lines))
        bar.update(1)
    cols = ["N", "runs", "gd_mean", "gd_sd", "sgd_mean", "sgd_sd", "diff_mean", "diff_se"]
    cols += ["test_ks_pvalue", "test_ad_pvalue", "test_ks_detectable"]
    cols += ["gd_halting_median", "gd_settle_median", "sgd_settle_median", "sgd_epochs_median"]
    md = (
        "# GD vs SGD on the split p-spin\n\n"
        f"Protocol: {comps[0].params} (N varies)\n\nSeed: {comps[0].seed}\n\n"
        + _md_table(summary, cols)
        + "\n![gd vs sgd](figures/gd_vs_sgd.png)\n"
    )
    write_run_report(
        rf,
        title="GD vs SGD on the split p-spin",
        text="Final energies and epochs to stop of GD and SGD at each N.",
        protocol=[(k, str(v)) for k, v in comps[0].params.items() if k != "N"],
        tables=[("gd_vs_sgd.csv", pd.DataFrame(summary)), ("sgd_runs.csv", pd.DataFrame(runs))],
        figures=[
            ReportFigure(
                "figures/gd_vs_sgd.png",
                "Final H/N of GD and SGD; epochs to stop",
                "The two histograms should overlap; the epochs should be comparable.",
            ),
        ],
        markdown=md,
    )
    print("halting sgd: N   GD mean (sd)         SGD mean (sd)        KS p   epochs GD/SGD")
    for s in summary:
        print(
            f"  {s['N']:5d} {s['gd_mean']:.4f} ({s['gd_sd']:.4f})  {s['sgd_mean']:.4f} "
            f"({s['sgd_sd']:.4f})  {s['test_ks_pvalue']:.3f}  {s['gd_settle_median']:.0f}/"
            f"{s['sgd_settle_median']:.0f}"
        )
    print(f"run folder: {rf.path}")
    return 0
