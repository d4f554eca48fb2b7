"""``landscapes traintest``: concentration of the test loss with width (Choromanska et al. 2015).

``landscapes traintest --widths 4 8 16 32 64 128 --seeds 50 --epochs 100`` trains
one-hidden-layer ReLU networks on the digits from many initializations (SGD, batch 32) and
runs simulated annealing on the same loss for a few widths; it writes the per-run and
per-width tables (sd of test loss, train-test correlation) and the three-panel figure.
"""

from __future__ import annotations

import argparse

from analysis.commands._options import (
    add_run_options,
    check_run_options,
    command_context,
    open_run_folder,
)

__all__ = ["register", "run"]

_NOT_CONFIG = ("func", "out", "resume", "recompute_corrupted", "no_progress", "threads")


def register(subparsers) -> None:
    """Add ``traintest`` to the CLI."""
    q = subparsers.add_parser(
        "traintest",
        help="spread of test loss and train-test correlation vs width; SA vs SGD (digits)",
        description=__doc__.split("\n\n")[1],
    )
    q.add_argument(
        "--widths", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128], help="hidden widths"
    )
    q.add_argument("--seeds", type=int, default=50, help="SGD initializations per width (50)")
    q.add_argument("--epochs", type=int, default=100, help="SGD epochs (default 100)")
    q.add_argument("--step", type=float, default=0.05, help="SGD step (default 0.05)")
    q.add_argument("--batch-size", type=int, default=32, help="SGD batch (default 32)")
    q.add_argument(
        "--anneal-widths",
        type=int,
        nargs="*",
        default=[8, 32, 128],
        help="widths also run by simulated annealing (default 8 32 128; none: no SA)",
    )
    q.add_argument("--anneal-seeds", type=int, default=10, help="SA runs per width (10)")
    q.add_argument("--anneal-steps", type=int, default=1000, help="SA steps (default 1000)")
    add_run_options(q, seed=0)
    q.set_defaults(func=run)


def _check(args) -> None:
    if min(args.widths) < 1 or (args.anneal_widths and min(args.anneal_widths) < 1):
        raise ValueError("--widths and --anneal-widths must be positive")
    if args.seeds < 3:
        raise ValueError(f"--seeds must be >= 3 (a correlation needs 3 runs); got {args.seeds}")
    if args.epochs < 1 or args.step <= 0:
        raise ValueError("--epochs must be >= 1 and --step > 0")
    if not 1 <= args.batch_size <= 1000:
        raise ValueError(f"--batch-size must lie in 1..1000; got {args.batch_size}")
    if args.anneal_widths and (args.anneal_seeds < 3 or args.anneal_steps < 1):
        raise ValueError("--anneal-seeds must be >= 3 and --anneal-steps >= 1")


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes traintest``."""
    _check(args)
    check_run_options(args)
    config = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG}
    rf = open_run_folder(args, "traintest", config)
    with command_context(args):
        return _run(args, rf)


def _run(args, rf) -> int:
    from analysis.plots import use_agg
    from analysis.plots.traintest import traintest_figure
    from analysis.report import ReportFigure, ReportSection, markdown_table, write_report
    from analysis.studies.traintest import train_test_concentration

    study = train_test_concentration(
        args.widths,
        seeds=args.seeds,
        epochs=args.epochs,
        step=args.step,
        batch_size=args.batch_size,
        anneal_widths=args.anneal_widths or (),
        anneal_seeds=args.anneal_seeds,
        anneal_steps=args.anneal_steps,
        seed=args.seed,
        progress=False if args.no_progress else None,
        store=rf,
    )
    rf.write_table("tables/runs.csv", study.runs)
    rf.write_table("tables/summary.csv", study.summary)
    use_agg()
    rf.save_figure("figures/traintest.png", traintest_figure(study.summary, study.runs))
    cols = ["method", "width", "n", "train_mean", "test_mean", "test_sd", "test_sd_se", "r"]
    cols += ["r_lo", "r_hi"]
    rf.write_text(
        "report.md",
        "# Train-test concentration (digits)\n\n"
        f"Protocol: {study.params}\n\nSeed: {study.seed}\n\n"
        + markdown_table([{c: r[c] for c in cols} for r in study.summary])
        + "\n![traintest](figures/traintest.png)\n",
    )
    write_report(
        rf,
        title="Train-test concentration",
        subtitle=str(rf.path),
        protocol=[(k, str(v)) for k, v in study.params.items()],
        summary=study.summary,
        sections=[
            ReportSection(
                "Test loss against width",
                figures=(
                    ReportFigure(
                        "figures/traintest.png",
                        "Spread, correlation, SA vs SGD",
                        "sd of the test loss and the train-test correlation should fall with "
                        "width; SA should land in the SGD band.",
                    ),
                ),
            )
        ],
    )
    print("traintest: method width  n  test mean   test sd   r(train,test)")
    for r in study.summary:
        print(
            f"  {r['method']:4s} {r['width']:5d} {r['n']:3d}  {r['test_mean']:.4f}  "
            f"{r['test_sd']:.4f}  {r['r']:+.2f} [{r['r_lo']:+.2f}, {r['r_hi']:+.2f}]"
        )
    print(f"run folder: {rf.path}")
    return 0
