"""``landscapes dynamics``: measured descents beside the exact N = inf dynamics; aging in networks.

``landscapes dynamics pspin --p 3 --T 0 --N 50 100 200 --samples 2 --replicas 4 --seed 0``
runs gradient descent (``--T 0``) or Langevin dynamics from uniform starts on the p-spin and
overlays the measured energy per spin e(t) and the two-time correlation C(t_w + tau, t_w) on
the exact Cugliandolo–Kurchan curves (pspin.theory.dynamics), with the finite-N deviations
and their standard errors (tables comparison.csv, energy.csv, twotime.csv; figures
energy.png, correlation.png). ``landscapes dynamics mlp`` measures the same observables (cosine
correlation and mean-square displacement) for GD and SGD on a small network and draws them
beside the exact p-spin correlation (network.png, loss.png). The study is
:mod:`analysis.studies.dynamics`.
"""

from __future__ import annotations

import argparse

__all__ = ["register", "run_pspin", "run_mlp"]


def _common(q, *, step: float, t_max: float, replicas: int) -> None:
    q.add_argument("--replicas", type=int, default=replicas, help=f"replicas (default {replicas})")
    q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    q.add_argument("--step", type=float, default=step, help=f"step size h (default {step})")
    q.add_argument(
        "--t-max", type=float, default=t_max, help=f"last time t = h x steps (default {t_max})"
    )
    q.add_argument(
        "--waiting-times",
        type=float,
        nargs="+",
        default=[1.0, 4.0, 16.0],
        help="waiting times t_w of C(t_w + tau, t_w) (default 1 4 16)",
    )
    q.add_argument("--out", default=None, help="run folder (default runs/dynamics-...)")
    q.add_argument("--resume", action="store_true", help="resume an existing run folder")


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
    a.add_argument(
        "--N", type=int, nargs="+", default=[50, 100, 200], help="sizes (default 50 100 200)"
    )
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
    b.add_argument("--hidden", type=int, nargs="+", default=[16], help="hidden widths (default 16)")
    b.add_argument(
        "--methods", nargs="+", choices=("gd", "sgd"), default=["gd", "sgd"], help="dynamics"
    )
    b.add_argument("--batch-size", type=int, default=16, help="SGD minibatch (default 16)")
    b.add_argument("--n-train", type=int, default=256, help="training samples (default 256)")
    _common(b, step=0.2, t_max=400.0, replicas=4)
    b.set_defaults(func=run_mlp)
    q.set_defaults(func=lambda args: q.print_help() or 0)


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "out", "resume", "command")}


def _check(args) -> None:
    if args.replicas < 1:
        raise ValueError(f"--replicas must be >= 1; got {args.replicas}")
    if not (args.step > 0) or not (args.t_max > args.step):
        raise ValueError(f"need 0 < --step < --t-max; got {args.step}, {args.t_max}")
    if any(w < 0 or w >= args.t_max for w in args.waiting_times):
        raise ValueError(f"--waiting-times must lie in [0, --t-max); got {args.waiting_times}")


def _write(rf, tables: dict, arrays: dict, figures: dict) -> None:
    for name, rows in tables.items():
        rf.write_table(name, rows)
    for name, arr in arrays.items():
        rf.write_arrays(name, **arr)
    for name, fig in figures.items():
        rf.save_figure(name, fig)


def run_pspin(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics pspin``."""
    from analysis.plots import dynamics as plots
    from analysis.plots import use_agg
    from analysis.store import RunFolder
    from analysis.studies import dynamics as study
    from pspin import theory

    _check(args)
    if args.p < 2:
        raise ValueError(f"--p must be >= 2; got {args.p}")
    if args.T < 0:
        raise ValueError(f"--T must be >= 0; got {args.T}")
    if args.samples < 1 or any(n < 2 for n in args.N):
        raise ValueError("--samples must be >= 1 and every --N >= 2")
    rf = RunFolder(args.out, "dynamics", _config(args), resume=args.resume)
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
    use_agg()
    lines = {"-E_inf (threshold)": -theory.threshold_energy(args.p)}
    if args.T > theory.dynamical_transition(args.p).temperature:
        lines = {"-1/T (paramagnet)": float(theory.paramagnetic_energy(args.T, args.p))}
    figures = {
        "energy.png": plots.energy_vs_theory(res, lines=lines),
        "correlation.png": plots.correlation_vs_theory(res),
    }
    _write(rf, tables, arrays, figures)
    lines = ["# dynamics pspin", "", "finite N - exact (N = inf) energy per spin:", ""]
    lines += [
        f"N = {r['N']:>5}  t = {r['t']:>7.2f}  e_N = {r['e_N']:+.5f} +- {r['se']:.5f}  "
        f"e_inf = {r['e_inf']:+.5f}  N x dev = {r['N_times_deviation']:+.3f}"
        for r in tables["comparison.csv"]
    ]
    text = "\n".join(lines) + "\n"
    rf.write_text("report.md", text)
    print(text)
    print(f"run folder: {rf.path}")
    return 0


def run_mlp(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics mlp``."""
    from analysis.plots import dynamics as plots
    from analysis.plots import use_agg
    from analysis.store import RunFolder
    from analysis.studies import dynamics as study

    _check(args)
    if args.batch_size < 1 or args.n_train < args.batch_size:
        raise ValueError("need 1 <= --batch-size <= --n-train")
    rf = RunFolder(args.out, "dynamics", _config(args), resume=args.resume)
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
    use_agg()
    figures = {
        "network.png": plots.network_beside_pspin(net, ps),
        "loss.png": plots.loss_vs_time(net),
    }
    _write(rf, tables, arrays, figures)
    print(f"run folder: {rf.path}")
    return 0
