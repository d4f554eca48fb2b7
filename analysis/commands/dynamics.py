"""``landscapes dynamics``: measured descents beside the exact N = inf dynamics; aging in networks.

``landscapes dynamics pspin --p 3 --T 0 --N 50 100 200 --samples 2 --replicas 4 --seed 0``
runs gradient descent (``--T 0``) or Langevin dynamics from uniform starts on the p-spin and
overlays the measured energy per spin e(t) and the two-time correlation C(t_w + tau, t_w) on
the exact Cugliandolo–Kurchan curves (pspin.theory.dynamics), with the finite-N deviations
and their standard errors (tables/comparison.csv, energy.csv, twotime.csv; figures/energy.png,
correlation.png). ``landscapes dynamics mlp`` measures the same observables (cosine
correlation and mean-square displacement) for GD and SGD on a small network and draws them
beside the exact p-spin correlation (figures/network.png, loss.png). The study is
:mod:`analysis.studies.dynamics`.
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

__all__ = ["register", "run_pspin", "run_mlp"]


def _common(q, *, step: float, t_max: float, replicas: int) -> None:
    q.add_argument("--replicas", type=int, default=replicas, help=f"replicas (default {replicas})")
    add_step_options(q, step=step, step_help="step size h")
    q.add_argument(
        "--t-max", type=float, default=t_max, help=f"last time t = h x steps (default {t_max})"
    )
    add_list(
        q,
        "--waiting-times",
        item=float,
        default=[1.0, 4.0, 16.0],
        help="waiting times t_w of C(t_w + tau, t_w) (default 1 4 16)",
    )
    add_run_options(q, seed=0)


def register(subparsers) -> None:
    """Add ``dynamics`` (``pspin`` and ``mlp``) to the CLI."""
    q = subparsers.add_parser(
        "dynamics",
        help="descents and Langevin beside the exact N = inf dynamics; aging in networks",
        description=__doc__.split("\n\n")[1],
    )
    sub = q.add_subparsers(dest="target", metavar="TARGET")
    a = sub.add_parser("pspin", help="finite-N p-spin dynamics vs the exact solution")
    a.add_argument("--p", type=int, default=3, help="order of the pure model (default 3)")
    a.add_argument("--T", type=float, default=0.0, help="temperature (default 0: gradient flow)")
    add_list(a, "--N", item=int, default=[50, 100, 200], help="sizes (default 50 100 200)")
    a.add_argument("--samples", type=int, default=2, help="disorder samples per size (default 2)")
    a.add_argument(
        "--grid", type=int, default=256, help="times per grid of the exact solver (default 256)"
    )
    _common(a, step=0.02, t_max=50.0, replicas=4)
    a.set_defaults(func=run_pspin)
    b = sub.add_parser("mlp", help="two-time observables of GD and SGD on a small network")
    b.add_argument(
        "--dataset",
        choices=("teacher_student", "digits"),
        default="teacher_student",
        help="data (default teacher_student)",
    )
    add_list(b, "--hidden", item=int, default=[16], help="hidden widths (default 16)")
    b.add_argument(
        "--methods", nargs="+", choices=("gd", "sgd"), default=["gd", "sgd"], help="dynamics"
    )
    b.add_argument("--batch-size", type=int, default=16, help="SGD minibatch (default 16)")
    b.add_argument("--n-train", type=int, default=256, help="training samples (default 256)")
    _common(b, step=0.2, t_max=400.0, replicas=4)
    b.set_defaults(func=run_mlp)
    q.set_defaults(func=lambda args: q.print_help() or 0)


def _check(args) -> None:
    check_range(args.replicas, "--replicas", low=1, integer=True)
    check_range(args.step, "--step", low=0, low_open=True)
    check_range(args.t_max, "--t-max", low=args.step, low_open=True)
    for w in args.waiting_times:
        check_range(w, "--waiting-times", low=0)
        if w >= args.t_max:
            raise ValueError(f"--waiting-times must lie in [0, --t-max); got {args.waiting_times}")


def _write(rf, tables: dict, arrays: dict) -> None:
    for name, rows in tables.items():
        rf.write_table(name, rows)
    for name, arr in arrays.items():
        rf.write_arrays(name, **arr)


def _draw(rf, cmd: str, figures: dict) -> None:
    """Draw and save ``figures`` (name -> zero-argument function) under one progress phase."""
    from analysis.plots import use_agg
    from landscapes.progress import phase

    use_agg()
    with phase(f"{cmd}: figures", total=len(figures)) as bar:
        for name, draw in figures.items():
            rf.save_figure(name, draw())
            bar.update(1)


def run_pspin(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics pspin``."""
    from analysis.plots import dynamics as plots
    from analysis.report import write_run_report
    from analysis.studies import dynamics as study
    from pspin import theory

    _check(args)
    check_range(args.p, "--p", low=2, integer=True)
    check_range(args.T, "--T", low=0)
    check_range(args.samples, "--samples", low=1, integer=True)
    check_range(args.grid, "--grid", low=2, integer=True)
    for n in args.N:
        check_range(n, "--N", low=2, integer=True)
    check_run_options(args)
    rf = open_run_folder(args, "dynamics", run_config(args), label="dynamics pspin")
    with command_context(args):
        res = study.pspin_study(
            p=args.p,
            temperature=args.T,
            sizes=args.N,
            samples=args.samples,
            replicas=args.replicas,
            seed=args.seed,
            step=args.step,
            t_max=args.t_max,
            waiting_times=args.waiting_times,
            grid=args.grid,
        )
        tables, arrays = study.pspin_outputs(res)
        _write(rf, tables, arrays)
        lines = {"-E_inf (threshold)": -theory.threshold_energy(args.p)}
        if args.T > theory.dynamical_transition(args.p).temperature:
            lines = {"-1/T (paramagnet)": float(theory.paramagnetic_energy(args.T, args.p))}
        figures = {
            "energy.png": lambda: plots.energy_vs_theory(res, lines=lines),
            "correlation.png": lambda: plots.correlation_vs_theory(res),
        }
        _draw(rf, "dynamics pspin", figures)
        md = ["# dynamics pspin", "", "finite N - exact (N = inf) energy per spin:", ""]
        md += [
            f"N = {r['N']:>5}  t = {r['t']:>7.2f}  e_N = {r['e_N']:+.5f} +- {r['se']:.5f}  "
            f"e_inf = {r['e_inf']:+.5f}  N x dev = {r['N_times_deviation']:+.3f}"
            for r in tables["comparison.csv"]
        ]
        text = "\n".join(md) + "\n"
        write_run_report(
            rf,
            title=f"dynamics pspin (p = {args.p}, T = {args.T:g})",
            text="Finite-N gradient descent / Langevin beside the exact N = inf "
            "(Cugliandolo-Kurchan) energy and two-time correlation; the deviation e_N - e_inf "
            "and N x deviation are in comparison.csv.",
            tables=list(tables),
            figures=[
                ("energy.png", "energy per spin against time"),
                ("correlation.png", "C(t_w + tau, t_w) against tau"),
            ],
            markdown=text + "\n![energy](figures/energy.png)\n\n"
            "![correlation](figures/correlation.png)\n",
        )
    print(text)
    print(f"run folder: {rf.path}")
    return 0


def run_mlp(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics mlp``."""
    from analysis.plots import dynamics as plots
    from analysis.report import write_run_report
    from analysis.studies import dynamics as study

    _check(args)
    check_range(args.n_train, "--n-train", low=1, integer=True)
    check_range(args.batch_size, "--batch-size", low=1, high=args.n_train, integer=True)
    for h in args.hidden:
        check_range(h, "--hidden", low=1, integer=True)
    check_run_options(args)
    rf = open_run_folder(args, "dynamics", run_config(args), label="dynamics mlp")
    with command_context(args):
        net = study.network_study(
            dataset=args.dataset,
            hidden=tuple(args.hidden),
            methods=tuple(args.methods),
            replicas=args.replicas,
            seed=args.seed,
            step=args.step,
            t_max=args.t_max,
            batch_size=args.batch_size,
            n_train=args.n_train,
            waiting_times=args.waiting_times,
        )
        ps = study.exact_pspin_ladder(waiting_times=args.waiting_times, max_lag=args.t_max)
        tables, arrays = study.network_outputs(net)
        _write(rf, tables, arrays)
        figures = {
            "network.png": lambda: plots.network_beside_pspin(net, ps),
            "loss.png": lambda: plots.loss_vs_time(net),
        }
        _draw(rf, "dynamics mlp", figures)
        write_run_report(
            rf,
            title=f"dynamics mlp ({args.dataset}, {' '.join(args.methods)})",
            text="Two-time observables (cosine correlation, mean-square displacement) of GD "
            "and SGD on a small network, beside the exact p-spin correlation.",
            tables=list(tables),
            figures=[
                ("network.png", "network C and MSD beside the p-spin"),
                ("loss.png", "loss against time"),
            ],
        )
    print(f"run folder: {rf.path}")
    return 0
