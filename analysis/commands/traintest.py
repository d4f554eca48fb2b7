"""``landscapes traintest``: concentration of the test loss with width (Choromanska et al. 2015).

``landscapes traintest --widths 4 8 16 32 64 128 --seeds 50 --epochs 100`` trains
one-hidden-layer ReLU networks on the digits from many initializations (SGD, batch 32) and
runs simulated annealing on the same loss for a few widths; it writes the per-run and
per-width tables (sd of test loss, train-test correlation) and the three-panel figure.
"""

from __future__ import annotations

import argparse

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
    """Add ``traintest`` to the CLI."""
    q = subparsers.add_parser(
        "traintest",
        help="spread of test loss and train-test correlation vs width; SA vs SGD (digits)",
        description=__doc__.split("\n\n")[1],
    )
    add_list(q, "--widths", item=int, default=[4, 8, 16, 32, 64, 128], help="hidden widths")
    q.add_argument("--seeds", type=int, default=50, help="SGD initializations per width (50)")
    q.add_argument("--epochs", type=int, default=100, help="SGD epochs (default 100)")
    add_step_options(q, step=0.05, step_help="SGD step")
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
    for w in args.widths:
        check_range(w, "--widths", low=1, integer=True)
    for w in args.anneal_widths or ():
        check_range(w, "--anneal-widths", low=1, integer=True)
    check_range(args.seeds, "--seeds (a correlation needs 3 runs)", low=3, integer=True)
    check_range(args.epochs, "--epochs", low=1, integer=True)
    check_range(args.step, "--step", low=0, low_open=True)
    check_range(args.batch_size, "--batch-size", low=1, high=1000, integer=True)
    if args.anneal_widths:
        check_range(args.anneal_seeds, "--anneal-seeds", low=3, integer=True)
        check_range(args.anneal_steps, "--anneal-steps", low=1, integer=True)


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes traintest``."""
    _check(args)
    check_run_options(args)
    rf = open_run_folder(args, "traintest", run_config(args))
    with command_context(args):
        return _run(args, rf)


def _run(args, rf) -> int:
    from analysis.plots import use_agg
    from analysis.plots.traintest import traintest_figure
    from analysis.report import ReportFigure, markdown_table, write_run_report
    from analysis.studies.traintest import train_test_concentration
    from landscapes.progress import phase

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
    rf.write_table("runs.csv", study.runs)
    rf.write_table("summary.csv", study.summary)
    use_agg()
    with phase("traintest: figures", total=1) as bar:
        rf.save_figure("traintest.png", traintest_figure(study.summary, study.runs))
        bar.update(1)
    cols = ["method", "width", "n", "train_mean", "test_mean", "test_sd", "test_sd_se", "r"]
    cols += ["r_lo", "r_hi"]
    md = (
        "# Train-test concentration (digits)\n\n"
        f"Protocol: {study.params}\n\nSeed: {study.seed}\n\n"
        + markdown_table([{c: r[c] for c in cols} for r in study.summary])
        + "\n![traintest](figures/traintest.png)\n"
    )
    write_run_report(
        rf,
        title="Train-test concentration",
        text="Test loss against width: spread of the test loss and train-test correlation "
        "over initializations (SGD), and simulated annealing on the same loss.",
        protocol=[(k, str(v)) for k, v in study.params.items()],
        tables=["summary.csv", "runs.csv"],
        figures=[
            ReportFigure(
                "figures/traintest.png",
                "Spread, correlation, SA vs SGD",
                "sd of the test loss and the train-test correlation should fall with "
                "width; SA should land in the SGD band.",
            ),
        ],
        markdown=md,
    )
    print("traintest: method width  n  test mean   test sd   r(train,test)")
    for r in study.summary:
        print(
            f"  {r['method']:4s} {r['width']:5d} {r['n']:3d}  {r['test_mean']:.4f}  "
            f"{r['test_sd']:.4f}  {r['r']:+.2f} [{r['r_lo']:+.2f}, {r['r_hi']:+.2f}]"
        )
    print(f"run folder: {rf.path}")
    return 0
