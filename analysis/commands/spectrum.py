"""``landscapes spectrum``: Hessian spectra of a p-spin point or of a trained network.

``landscapes spectrum pspin --N 400 --p 3 --at minimum|random|saddle`` and
``landscapes spectrum mlp --dataset digits --hidden 32 --train-steps 2000`` write a run folder
with the eigenvalues (``spectrum.npz``), the density, a summary table, the outlier count and
figures (linear and log density scales, theory overlay, bulk and outliers marked). Each stage
is a stored task, so ``--resume`` redoes nothing already done. The protocols are
:func:`analysis.studies.spectrum.pspin_spectrum` and :func:`~analysis.studies.spectrum.mlp_spectrum`.
"""

from __future__ import annotations

import argparse

from analysis.commands._options import (
    DATASET_ALIASES,
    SPECTRUM_ALIASES,
    SPECTRUM_METHODS,
    add_choice,
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
    """Add ``spectrum pspin`` and ``spectrum mlp`` to the CLI."""
    p = subparsers.add_parser(
        "spectrum",
        help="Hessian spectra (dense, Lanczos, SLQ) of a p-spin point or a trained network",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True

    def common(q):
        add_choice(
            q,
            "--method",
            SPECTRUM_METHODS,
            aliases=SPECTRUM_ALIASES,
            default="both",
            help="density by dense eigh, by SLQ, or both (default)",
        )
        q.add_argument("--n-probes", type=int, default=10, help="SLQ probes (default 10)")
        q.add_argument("--lanczos-steps", type=int, default=80, help="SLQ steps (default 80)")
        q.add_argument("--k", type=int, default=5, help="top eigenvalues by Lanczos (default 5)")
        add_run_options(q, seed=0)
        q.set_defaults(func=run)

    q = sub.add_parser("pspin", help="spectrum of the Riemannian Hessian of a p-spin energy")
    q.add_argument("--N", type=int, default=400, help="number of spins (default 400)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument(
        "--at",
        choices=("minimum", "random", "saddle"),
        default="minimum",
        help="the point: a gradient-descent endpoint, a uniform random point, or a "
        "critical point found by Newton's method (attracted to saddles)",
    )
    add_step_options(
        q,
        step=0.1,
        max_steps=1000,
        step_help="descent step size",
        max_steps_help="descent steps",
        max_steps_aliases=("--gd-steps",),
    )
    common(q)

    q = sub.add_parser("mlp", help="spectrum of the loss Hessian of an MLP trained by GD")
    add_choice(
        q,
        "--dataset",
        ("digits", "gaussian_mixture"),
        aliases=DATASET_ALIASES,
        default="digits",
        help="training data (default digits)",
    )
    q.add_argument("--classes", type=int, default=10, help="classes (default 10)")
    q.add_argument("--hidden", type=int, nargs="+", default=[32], help="hidden widths")
    q.add_argument("--activation", default="tanh", help="hidden nonlinearity (default tanh)")
    q.add_argument("--loss", choices=("cross_entropy", "mse"), default="cross_entropy")
    q.add_argument("--weight-decay", type=float, default=0.0)
    add_step_options(
        q,
        step=0.5,
        max_steps=2000,
        step_help="GD step size",
        max_steps_help="GD training steps",
        step_aliases=("--lr",),
        max_steps_aliases=("--train-steps",),
    )
    q.add_argument(
        "--stop-loss",
        type=float,
        default=None,
        help="stop training once the training loss is at most this",
    )
    q.add_argument(
        "--n-top",
        type=int,
        default=None,
        help="outliers: largest relative gap among this many top eigenvalues "
        "(default 3C for cross-entropy, 3C^2 = 3C groups of C for MSE)",
    )
    common(q)


# --------------------------------------------------------------------------- run
def _check(args) -> None:
    """Every argument, before any folder is created."""
    for name in ("n_probes", "lanczos_steps", "k"):
        check_range(getattr(args, name), f"--{name.replace('_', '-')}", low=1, integer=True)
    check_range(args.step, "--step", low=0, low_open=True)
    check_range(args.max_steps, "--max-steps", low=0, integer=True)
    if args.target == "pspin":
        if args.N < 3 or args.p < 2:
            raise ValueError("--N must be >= 3 and --p >= 2")
        if args.k >= args.N - 1:
            raise ValueError(f"--k must be below the tangent dimension {args.N - 1}")
        return
    top = 10 if args.dataset == "digits" else 64
    check_range(args.classes, "--classes", low=2, high=top, integer=True)
    check_range(args.weight_decay, "--weight-decay", low=0)
    if args.stop_loss is not None:
        check_range(args.stop_loss, "--stop-loss", low=0)
    if args.n_top is not None:
        check_range(args.n_top, "--n-top", low=1, integer=True)
    if any(h < 1 for h in args.hidden):
        raise ValueError(f"--hidden widths must be >= 1; got {args.hidden}")


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes spectrum pspin|mlp``."""
    from analysis.report import write_run_report
    from analysis.studies import spectrum as study

    _check(args)
    check_run_options(args)
    common = dict(
        method={"dense": "exact"}.get(args.method, args.method),  # the study's name
        k=args.k,
        n_probes=args.n_probes,
        lanczos_steps=args.lanczos_steps,
        seed=args.seed,
    )
    rf = open_run_folder(
        args,
        f"spectrum-{args.target}",
        run_config(args, skip=("command",)),
        label=f"spectrum {args.target}",
    )
    with command_context(args):
        if args.target == "pspin":
            res = study.pspin_spectrum(
                rf,
                N=args.N,
                p=args.p,
                at=args.at,
                gd_steps=args.max_steps,
                step=args.step,
                **common,
            )
        else:
            res = study.mlp_spectrum(
                rf,
                dataset={"gaussian_mixture": "mixture"}.get(args.dataset, args.dataset),
                classes=args.classes,
                hidden=args.hidden,
                activation=args.activation,
                loss=args.loss,
                weight_decay=args.weight_decay,
                train_steps=args.max_steps,
                lr=args.step,
                stop_loss=args.stop_loss,
                n_top=args.n_top,
                **common,
            )
        _write(rf, res)
        _figure(rf, res, args)
        row = res.row
        if args.target == "pspin":
            title = f"spectrum pspin (N={args.N}, p={args.p}, at={args.at})"
        else:
            title = "spectrum mlp"
        md = "\n".join([f"# {title}", ""] + [f"- {k}: {v}" for k, v in row.items()]) + "\n"
        write_run_report(
            rf,
            title=title,
            tables=["summary.csv"],
            figures=[("spectrum.png", "Hessian spectrum")],
            markdown=md,
        )
    if args.target == "pspin":
        print(
            f"H/N={row['H_per_N']:.5f} rms|rgrad|={row['rms_rgrad']:.2e} "
            + (
                f"index={row['index']} KS={row['ks_semicircle']:.4f} "
                if res.eigenvalues is not None
                else ""
            )
            + f"-> {rf.path}"
        )
    else:
        print(
            f"P={row['P']} loss={row['train_loss']:.4f} "
            + (f"outliers={row['outliers']} " if res.eigenvalues is not None else "")
            + f"-> {rf.path}"
        )
    return 0


def _write(rf, res) -> None:
    """summary.csv (one row) and spectrum.npz (point, eigenvalues, density)."""
    rf.write_table(
        "summary.csv", [{k: (str(v) if isinstance(v, list) else v) for k, v in res.row.items()}]
    )
    arrays = {"x": res.x, "lanczos_top": res.lanczos_top}
    if res.eigenvalues is not None:
        arrays["eigenvalues"] = res.eigenvalues
    d = res.density
    if d is not None:
        arrays.update(
            grid=d.grid,
            density=d.density,
            density_stderr=d.density_stderr,
            nodes=d.nodes,
            weights=d.weights,
        )
    rf.write_arrays("spectrum.npz", **arrays)


def _figure(rf, res, args) -> None:
    from analysis.plots import use_agg
    from analysis.plots.spectrum import plot_spectrum

    use_agg()
    row = res.row
    if args.target == "pspin":
        c, r = row["semicircle_centre"], row["semicircle_radius"]
        fig = plot_spectrum(
            eigenvalues=res.eigenvalues,
            density=res.density,
            theory=res.theory_density,
            theory_label=f"semicircle: centre -p·u = {c:.3f}, radius 2√(p(p-1)) = {r:.3f}",
            xlabel="eigenvalue of the Riemannian Hessian (tangent space, dim N-1)",
            title=f"p-spin p={args.p}, N={args.N}, {args.at}: H/N = {row['H_per_N']:.4f}",
        )
    else:
        out = res.outliers
        fig = plot_spectrum(
            eigenvalues=res.eigenvalues,
            density=res.density,
            outliers=None if out is None else out.values,
            edge=None if out is None else out.edge,
            xlabel="eigenvalue of the Hessian of the mean training loss",
            title=(
                f"MLP {res.energy.sizes} on {args.dataset}, {args.loss}, P={res.energy.dim}, "
                f"loss={row['train_loss']:.4f}"
            ),
        )
    rf.save_figure("spectrum.png", fig)
