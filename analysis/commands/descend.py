"""``landscapes descend``: gradient descent, SGD or Langevin dynamics over many replicas.

``landscapes descend pspin --N 200 --p 3 --replicas 256 --seed 0 [--method gd|langevin]``
and ``landscapes descend mlp --dataset digits|teacher_student --hidden 32 --method gd|sgd``
write a run folder with ``config.json``, ``final.csv`` (final energy, H/N, gradient norms,
steps, convergence and halting times per replica), ``trajectories.npz`` (energy per spin and
gradient norm against step, and final points), ``summary.json`` and two figures: the
histogram of the final H/N with -E_inf and -E_0 drawn, and H/N against time.

Seeds: the root seed spawns two children, one for the couplings (one stream per coupling
sample, ``--samples``) and one for the replicas (one stream per replica, itself split into an
initial-point stream and a dynamics stream). Replicas are split evenly over the coupling
samples (fresh couplings per sample, shared by that sample's replicas) and processed in chunks
of ``--chunk`` replicas. Each chunk is one task of a sweep (:mod:`analysis.sweep`, function
:func:`analysis.studies.descend.descend_chunk_task`; the study is
:func:`analysis.studies.descend.run_descend`): ``--scheduler local:N`` runs the chunks on a
local Dask cluster, ``--scheduler tcp://HOST:PORT`` on an existing one, ``--executor
processes`` on a local process pool; workers rebuild each sample's model from its parameters
and seed (and check its fingerprint), the tables are identical wherever the chunks run, and
``--resume`` continues an interrupted run without redoing finished chunks.

``descend mlp`` trains replicas of a fully connected network (``landscapes.nn.MLPLoss``) on
one dataset (``landscapes.datasets``: scikit-learn's digits, or a teacher-student regression
whose teacher is a network of the student's architecture, so the global minimum is 0). The
root seed spawns one stream for the data and one per replica (initialization + SGD order);
the tables and figures report the mean loss per sample (the loss is intensive).
"""

from __future__ import annotations

import argparse

import numpy as np

from analysis.commands._options import (
    add_choice,
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
)
from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run"]


def _common(q, *, step: float, max_steps: int | None, gtol: float, methods: tuple[str, ...]):
    q.add_argument("--replicas", type=int, default=256, help="number of replicas (default 256)")
    q.add_argument(
        "--method",
        choices=methods,
        default="gd",
        help=f"dynamics (default gd; {'|'.join(methods)})",
    )
    add_step_options(
        q,
        step=step,
        max_steps=max_steps,
        max_steps_help="GD (SGD: --epochs) step limit; Langevin: number of steps",
        max_steps_aliases=("--n-steps",) if "langevin" in methods else (),
    )
    q.add_argument(
        "--schedule",
        choices=("fixed", "decay", "armijo"),
        default="fixed",
        help="step schedule (default fixed; armijo for GD only)",
    )
    q.add_argument(
        "--decay",
        type=float,
        default=1e-3,
        help="c of the decaying step step/(1 + c t) (default 1e-3)",
    )
    q.add_argument(
        "--gtol",
        type=float,
        default=gtol,
        help=f"GD stops when |rgrad|/sqrt(dim) <= gtol (default {gtol:g})",
    )
    q.add_argument(
        "--record-every",
        type=int,
        default=10,
        help="record the trajectory every this many steps (default 10)",
    )
    q.add_argument("--chunk", type=int, default=64, help="replicas per stored task (default 64)")
    add_run_options(q, seed=0)
    add_executor_arguments(q)
    q.set_defaults(func=run)


def register(subparsers) -> None:
    """Add ``descend pspin`` and ``descend mlp`` to the CLI."""
    p = subparsers.add_parser(
        "descend",
        help="GD / SGD / Langevin over many replicas (Sagun et al. experiment)",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser(
        "pspin",
        help="replicas of GD or Langevin on the spherical p-spin glass",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--N", type=int, default=200, help="number of spins (default 200)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument(
        "--couplings",
        default="gaussian",
        choices=("gaussian", "rademacher", "uniform", "exponential"),
        help="law of the iid couplings (default gaussian)",
    )
    q.add_argument(
        "--samples",
        type=int,
        default=1,
        help="coupling samples; replicas are split evenly over them (default 1)",
    )
    q.add_argument("--temperature", type=float, default=0.5, help="Langevin temperature")
    q.add_argument("--adjusted", action="store_true", help="Metropolis-adjusted Langevin")
    q.add_argument(
        "--splits",
        type=int,
        default=None,
        help="SGD: split the couplings into P parts, J = sum_k X_k / sqrt(P), one part per step "
        "(pspin.split.SplitPSpin; Sagun et al.'s rate a is --step a/P)",
    )
    q.add_argument("--epochs", type=int, default=100, help="SGD epochs of P steps (default 100)")
    _common(q, step=0.1, max_steps=None, gtol=1e-5, methods=("gd", "sgd", "langevin"))

    m = sub.add_parser(
        "mlp",
        help="replicas of GD or SGD training a fully connected network",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_choice(
        m,
        "--dataset",
        ("digits", "teacher_student"),
        default="digits",
        help="training data (default digits)",
    )
    m.add_argument("--hidden", type=int, nargs="+", default=[32], help="hidden widths (default 32)")
    m.add_argument(
        "--activation",
        choices=("tanh", "relu", "softplus", "gelu", "linear"),
        default="tanh",
        help="hidden nonlinearity (default tanh)",
    )
    m.add_argument(
        "--loss",
        choices=("cross_entropy", "mse"),
        default=None,
        help="default: cross_entropy for digits, mse for teacher_student",
    )
    m.add_argument("--weight-decay", type=float, default=0.0, help="coefficient of |theta|^2/2")
    m.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="training samples (digits: stratified subsample; teacher_student: default 500)",
    )
    m.add_argument("--input-dim", type=int, default=10, help="teacher_student input dim")
    m.add_argument(
        "--teacher-hidden",
        type=int,
        nargs="+",
        default=None,
        help="teacher_student: the teacher's hidden widths (default: --hidden)",
    )
    m.add_argument("--noise", type=float, default=0.0, help="teacher_student label noise")
    m.add_argument("--batch-size", type=int, default=32, help="SGD minibatch (default 32)")
    m.add_argument("--epochs", type=int, default=20, help="SGD epochs (default 20)")
    _common(m, step=0.1, max_steps=None, gtol=1e-6, methods=("gd", "sgd"))


def _check_common(args) -> None:
    check_range(args.replicas, "--replicas", low=1, integer=True)
    check_range(args.chunk, "--chunk", low=1, integer=True)
    check_range(args.step, "--step", low=0, low_open=True)
    check_range(args.decay, "--decay", low=0)
    check_range(args.gtol, "--gtol", low=0)
    check_range(args.record_every, "--record-every", low=1, integer=True)
    if args.max_steps is not None:
        check_range(args.max_steps, "--max-steps", low=1, integer=True)


def _gd_config(args, max_steps: int) -> dict:
    steps = max_steps if args.max_steps is None else args.max_steps
    return dict(schedule=args.schedule, decay=args.decay, max_steps=steps, gtol=args.gtol)


def _config(args) -> dict:
    if args.target == "mlp":
        return _mlp_config(args)
    _check_common(args)
    if args.N < 2 or args.p < 2:
        raise ValueError(f"--N and --p must be >= 2; got N={args.N}, p={args.p}")
    if args.samples < 1:
        raise ValueError("--samples must be >= 1")
    if args.replicas % args.samples:
        raise ValueError(
            f"--replicas ({args.replicas}) must be a multiple of --samples ({args.samples})"
        )
    if args.method == "sgd" and args.splits is None:
        raise ValueError(
            "--method sgd on the p-spin needs --splits P: SGD steps along one of P parts of "
            "the couplings (the split p-spin, a finite-sum energy)"
        )
    cfg = dict(
        target="pspin",
        N=args.N,
        p=args.p,
        couplings=args.couplings,
        replicas=args.replicas,
        samples=args.samples,
        seed=args.seed,
        method=args.method,
        step=args.step,
        record_every=args.record_every,
        chunk=args.chunk,
    )
    if args.method == "gd":
        cfg.update(_gd_config(args, 20000))
    elif args.method == "sgd":
        check_range(args.splits, "--splits", low=1, integer=True)
        check_range(args.epochs, "--epochs", low=1, integer=True)
        if args.schedule == "armijo":
            raise ValueError("--schedule armijo is for GD only; SGD takes fixed or decay")
        cfg.update(
            splits=args.splits,
            batch_size=1,
            epochs=args.epochs,
            schedule=args.schedule,
            decay=args.decay,
        )
    else:
        check_range(args.temperature, "--temperature", low=0)
        n_steps = 2000 if args.max_steps is None else args.max_steps
        cfg.update(temperature=args.temperature, n_steps=n_steps, adjusted=args.adjusted)
    return cfg


def _mlp_config(args) -> dict:
    _check_common(args)
    check_range(args.weight_decay, "--weight-decay", low=0)
    check_range(args.noise, "--noise", low=0)
    if args.n_train is not None:
        check_range(args.n_train, "--n-train", low=2, integer=True)
    if any(h < 1 for h in args.hidden):
        raise ValueError(f"--hidden widths must be >= 1; got {args.hidden}")
    loss = args.loss or ("cross_entropy" if args.dataset == "digits" else "mse")
    if loss == "cross_entropy" and args.dataset != "digits":
        raise ValueError("--loss cross_entropy needs a classification dataset (digits)")
    if args.schedule == "armijo" and args.method == "sgd":
        raise ValueError("--schedule armijo is for GD only; SGD takes fixed or decay")
    cfg = dict(
        target="mlp",
        dataset=args.dataset,
        hidden=list(args.hidden),
        activation=args.activation,
        loss=loss,
        weight_decay=args.weight_decay,
        n_train=args.n_train,
        replicas=args.replicas,
        samples=1,
        seed=args.seed,
        method=args.method,
        step=args.step,
        record_every=args.record_every,
        chunk=args.chunk,
    )
    if args.dataset == "teacher_student":
        cfg.update(
            input_dim=args.input_dim,
            teacher_hidden=list(args.teacher_hidden or args.hidden),
            noise=args.noise,
        )
    if args.method == "gd":
        cfg.update(_gd_config(args, 2000))
    else:
        check_range(args.batch_size, "--batch-size", low=1, integer=True)
        check_range(args.epochs, "--epochs", low=1, integer=True)
        n_train = args.n_train or (500 if args.dataset == "teacher_student" else None)
        if n_train is not None and args.batch_size > n_train:
            raise ValueError(
                f"--batch-size must be <= the number of training samples ({n_train}); "
                f"got {args.batch_size}"
            )
        cfg.update(
            batch_size=args.batch_size, epochs=args.epochs, schedule=args.schedule, decay=args.decay
        )
    return cfg


def run(args) -> int:
    """Run ``descend pspin`` or ``descend mlp``; returns the exit status."""
    from analysis.plots import use_agg
    from analysis.plots.dynamics import energy_vs_time, final_energy_histogram
    from analysis.report import write_run_report
    from analysis.studies.descend import run_descend
    from landscapes.progress import phase

    cfg = _config(args)
    spec = executor_from_args(args)  # checked before any folder is written
    check_run_options(args)
    folder = open_run_folder(args, "descend", cfg)
    with command_context(args):
        try:
            study = run_descend(
                cfg, folder, spec, desc=f"descend {cfg['target']} ({cfg['method']})"
            )
        except SweepError as exc:
            print(str(exc))
            return 1
        rows, d, summary = study.rows, study.description, study.summary
        folder.write_table("final.csv", rows)
        folder.write_arrays(
            "trajectories.npz",
            steps=study.grid,
            **{study.trajectory_name: study.trajectories},
            final_x=study.final_x,
            sample=np.array([r["sample"] for r in rows]),
        )
        vals = np.array([r[d["column"]] for r in rows])
        lines = d["lines"]
        folder.write_json("tables/summary.json", summary)
        if cfg["method"] == "langevin":
            what = f"{'MALA' if cfg['adjusted'] else 'Langevin'} T={cfg['temperature']}"
        elif cfg["method"] == "sgd":
            what = f"SGD (batch {cfg['batch_size']})"
        else:
            what = "GD"
        title = f"{what}, " + d["model"].format(n=len(rows))
        with phase("descend: figures and report", total=3) as bar:
            use_agg()
            folder.save_figure(
                "final_energy_hist.png",
                final_energy_histogram(vals, label=f"final {d['what']}", lines=lines, title=title),
            )
            bar.update()
            folder.save_figure(
                "energy_vs_time.png",
                energy_vs_time(
                    study.grid, study.trajectories, label=d["what"], lines=lines, title=title
                ),
            )
            bar.update()
            acc = "".join(
                f"; mean {k.replace('_', ' ')} {summary['mean_' + k]:.4f}"
                for k in ("train_accuracy", "test_accuracy")
                if "mean_" + k in summary
            )
            text = (
                f"{title}. Final {d['what']}: mean {summary['mean']:.5f}, std "
                f"{summary['std']:.5f}, min {summary['min']:.5f}, max {summary['max']:.5f}; "
                f"converged {summary['converged']}/{len(rows)}, diverged "
                f"{summary['diverged']}{acc}. "
                + "; ".join(f"{k} = {v:.6f}" for k, v in lines.items())
            )
            write_run_report(
                folder,
                title=f"descend {cfg['target']} {cfg['method']}",
                text=text,
                tables=[("final.csv", folder.read_table("final.csv"))],
                figures=[
                    ("final_energy_hist.png", f"final {d['what']}"),
                    ("energy_vs_time.png", f"{d['what']} against step"),
                ],
            )
            bar.update()
    print(
        f"descend: {len(rows)} replicas, mean final {d['what']} {summary['mean']:.5f} "
        f"(std {summary['std']:.5f}); results in {folder.path}"
    )
    return 0
