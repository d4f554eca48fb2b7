"""``landscapes theory``: the exact theory of the spherical p-spin glass, as tables and figures.

``landscapes theory --p 3 --N 12`` prints the landscape and thermodynamic constants (E_inf,
E_0, E_1..E_5, T_d, T_s, q_EA and energies at T_d and T_s) in the ABC and Crisanti–Sommers
conventions, and writes a run folder with the exact finite-N Kac–Rice table (mean number of
critical points per index, over all energies and below the threshold; optionally checked by
Monte Carlo), the complexity curves and the index-vs-energy law. ``--xi 3:0.5,4:0.5`` does the
same for a mixture, where the formulas extend (paramagnet, T_d, total counts via p_eff).
"""

from __future__ import annotations

import argparse

from analysis.commands._options import (
    add_run_options,
    check_run_options,
    command_context,
    open_run_folder,
    run_config,
)

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add ``theory`` to the CLI."""
    q = subparsers.add_parser(
        "theory",
        help="exact p-spin theory: thresholds, complexities, Kac-Rice counts, temperatures",
        description=__doc__.split("\n\n")[1],
    )
    q.add_argument("--p", type=int, default=3, help="order of the pure model (default 3)")
    q.add_argument(
        "--xi",
        default=None,
        help="a mixture instead of --p, as 'p:a_p,...' (e.g. '3:0.5,4:0.5' for (q^3+q^4)/2)",
    )
    q.add_argument(
        "--N", type=int, default=12, help="number of spins of the exact Kac-Rice table (default 12)"
    )
    q.add_argument(
        "--mc-samples",
        type=int,
        default=0,
        help="also estimate the Kac-Rice table by Monte Carlo over this many GOE "
        "matrices (default 0: no Monte Carlo)",
    )
    add_run_options(q, seed=0, seed_help="Monte Carlo seed (default 0)")
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes theory``."""
    from analysis.plots import theory as plots
    from analysis.plots import use_agg
    from analysis.report import write_run_report
    from analysis.studies import theory as study
    from landscapes.progress import phase

    xi = study.parse_xi(args.xi) if args.xi is not None else None
    if xi is None and args.p < 2:
        raise ValueError(f"--p must be >= 2; got {args.p}")
    if args.N < 2:
        raise ValueError(f"--N must be >= 2; got {args.N}")
    if args.N > study.MAX_TABLE_N:
        raise ValueError(
            f"--N {args.N}: the exact per-index table costs ~N^5 (about 15 s at N = 40); "
            "use pspin.theory.kac_rice_mean(N, p, per_index=False) for the total at larger N"
        )
    if args.mc_samples < 0 or args.mc_samples == 1:
        raise ValueError(f"--mc-samples must be 0 or >= 2; got {args.mc_samples}")
    model = xi if xi is not None else args.p
    m = study.theory_model(args.p, xi)  # validates p / xi (ValueError on bad input)

    check_run_options(args)
    rf = open_run_folder(args, "theory", run_config(args, skip=("command",)))
    with command_context(args):
        with phase("theory: constants"):
            rows = study.constants_table(model)
            rf.write_table("constants.csv", rows)
        N = args.N
        with phase(f"theory: Kac-Rice table at N = {N}"):
            kr = study.kac_rice_tables(rf, model, N, args.mc_samples, args.seed)
            rf.write_table(f"kac_rice_N{N}.csv", kr["table"])
        use_agg()
        figures = {}
        with phase("theory: figures", total=3 if m.pure else 1) as bar:
            if m.pure:
                curves = study.theory_curves(model)
                rf.write_arrays("curves.npz", **curves)
                figures["complexity.png"] = plots.plot_complexity(model, curves)
                bar.update()
                figures["index_vs_energy.png"] = plots.plot_index_energy(
                    model, curves, N, kr["arr"]
                )
                bar.update()
                what = f"pure p = {model}"
            else:
                what = f"mixture {args.xi} (p_eff = {kr['meta']['p_eff']:.4f})"
            figures[f"kac_rice_N{N}.png"] = plots.plot_kac_rice(N, kr["arr"], kr["mc"], what)
            bar.update()
            for name, fig in figures.items():
                rf.save_figure(name, fig)
        text = study.report_text(
            m, rows, N, kr["arr"], kr["meta"], kr["mc"], [f"figures/{f}" for f in figures]
        )
        write_run_report(
            rf,
            title=f"landscapes theory: {m.describe()}",
            tables=["constants.csv", f"kac_rice_N{N}.csv"],
            figures=list(figures),
            markdown=text,
        )
    print(text)
    print(f"run folder: {rf.path}")
    return 0
