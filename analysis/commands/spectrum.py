"""``landscapes spectrum``: Hessian spectra of a p-spin point or of a trained network.

``landscapes spectrum pspin --N 400 --p 3 --at minimum|random|saddle`` and
``landscapes spectrum mlp --dataset digits --hidden 32 --train-steps 2000`` write a run folder
with the eigenvalues (``spectrum.npz``), the density, a summary table, the outlier count and
figures (linear and log density scales, theory overlay, bulk and outliers marked). Each stage
is a stored task, so ``--resume`` redoes nothing already done.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

__all__ = ["register", "run", "find_point", "semicircle_theory"]


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
        q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
        q.add_argument(
            "--method",
            choices=("exact", "slq", "both"),
            default="both",
            help="density by dense eigh, by SLQ, or both (default)",
        )
        q.add_argument("--n-probes", type=int, default=10, help="SLQ probes (default 10)")
        q.add_argument("--lanczos-steps", type=int, default=80, help="SLQ steps (default 80)")
        q.add_argument("--k", type=int, default=5, help="top eigenvalues by Lanczos (default 5)")
        q.add_argument("--out", default=None, help="run folder (default runs/spectrum-...)")
        q.add_argument("--resume", action="store_true", help="resume an existing run folder")
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
    q.add_argument("--gd-steps", type=int, default=1000, help="descent steps (default 1000)")
    q.add_argument("--step", type=float, default=0.1, help="descent step size (default 0.1)")
    common(q)

    q = sub.add_parser("mlp", help="spectrum of the loss Hessian of an MLP trained by GD")
    q.add_argument("--dataset", choices=("digits", "mixture"), default="digits")
    q.add_argument("--classes", type=int, default=10, help="classes (default 10)")
    q.add_argument("--hidden", type=int, nargs="+", default=[32], help="hidden widths")
    q.add_argument("--activation", default="tanh")
    q.add_argument("--loss", choices=("cross_entropy", "mse"), default="cross_entropy")
    q.add_argument("--weight-decay", type=float, default=0.0)
    q.add_argument("--train-steps", type=int, default=2000, help="GD steps (default 2000)")
    q.add_argument("--lr", type=float, default=0.5, help="GD step size (default 0.5)")
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


# --------------------------------------------------------------------------- p-spin points
def semicircle_theory(u: float, p: int):
    """(centre, radius) of the Hessian semicircle at H/N = u: pspin.theory when present."""
    try:
        from pspin import theory  # noqa: PLC0415

        hs = theory.hessian_spectrum(u, p)
        centre = float(getattr(hs, "center", getattr(hs, "centre", None)))
        radius = float(hs.radius)
        return centre, radius
    except Exception:  # theory module absent or different: the closed form
        return -p * u, 2.0 * math.sqrt(p * (p - 1))


def _newton_critical(energy, x, max_iter: int = 80, gtol: float = 1e-10):
    """A critical point near ``x``: Levenberg–Marquardt on the Riemannian gradient.

    Minimizes |rgrad|^2 with steps ``-(A^2 + mu I)^{-1} A g`` (A the dense Riemannian Hessian
    in tangent coordinates, g the gradient), mu adapted so |rgrad| decreases; stops at
    ``|rgrad| / sqrt(dim) <= gtol``. Like Newton's method it is attracted to saddles.
    """
    from analysis.spectrum import tangent_operator

    man = energy.manifold
    rd = math.sqrt(energy.dim)

    def gn(y):
        return float(np.linalg.norm(energy.rgrad(y))) / rd

    mu = 1.0
    for _ in range(max_iter):
        if gn(x) <= gtol:
            break
        op = tangent_operator(energy, x)
        g = op.to_coords(energy.rgrad(x))
        w, U = np.linalg.eigh(op.dense())
        c = U.T @ g
        for _ in range(40):
            xn = man.retract(x, op.to_ambient(-U @ (w * c / (w**2 + mu))))
            if gn(xn) < gn(x):
                mu = max(mu / 3.0, 1e-14)
                break
            mu *= 4.0
        else:
            break  # no decrease possible: a local minimum of |rgrad|, reported as such
        x = xn
    return x


def find_point(energy, at: str, seed, gd_steps: int = 1000, step: float = 0.1, K: int = 1):
    """Points to measure on a sphere energy: ``(K, dim)`` random, GD endpoints or saddles."""
    from analysis.dynamics import gradient_descent
    from landscapes.random import spawn

    s_init, _ = spawn(seed, 2)
    X0 = energy.random_point(s_init, size=K)
    if at == "random":
        return X0
    if at == "minimum":
        res = gradient_descent(energy, X0, step=step, max_steps=gd_steps, gtol=1e-9, progress=None)
        return np.array(res.x)
    if at == "saddle":  # up to 4 starts per point; the first that converges is kept
        X0 = energy.random_point(s_init, size=4 * K)
        res = gradient_descent(energy, X0, step=step, max_steps=10, gtol=1e-9, progress=False)
        found, best = [], []
        for x in res.x:
            y = _newton_critical(energy, x)
            gn = float(np.linalg.norm(energy.rgrad(y))) / math.sqrt(energy.dim)
            (found if gn <= 1e-8 else best).append((gn, y))
            if len(found) == K:
                break
        found += sorted(best, key=lambda t: t[0])[: K - len(found)]
        return np.stack([y for _, y in found[:K]])
    raise ValueError(f"unknown point kind {at!r}; choose minimum, random or saddle")


# --------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    """Run ``landscapes spectrum pspin|mlp``."""
    for name in ("n_probes", "lanczos_steps", "k"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    if args.target == "pspin":
        return _run_pspin(args)
    return _run_mlp(args)


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "out", "resume", "command")}


def _spectra(rf, energy, x, args, key_prefix: str):
    """Exact eigenvalues, Lanczos top-k and SLQ density at x (stored tasks)."""
    from analysis.spectrum import hessian_eigenvalues, spectral_density

    out = {}
    if args.method in ("exact", "both") and not rf.has_task(f"{key_prefix}exact"):
        t0 = time.perf_counter()
        r = hessian_eigenvalues(energy, x)
        rf.save_task(
            f"{key_prefix}exact",
            {
                "n_hvp": r.n_hvp,
                "seconds": time.perf_counter() - t0,
                "max_residual": float(r.residuals.max()),
            },
            eigenvalues=r.eigenvalues,
        )
    if args.method in ("exact", "both"):
        meta, arr = rf.load_task(f"{key_prefix}exact")
        out["exact"] = (meta, arr["eigenvalues"])
    if not rf.has_task(f"{key_prefix}lanczos"):
        t0 = time.perf_counter()
        r = hessian_eigenvalues(energy, x, k=args.k, which="LA", method="lanczos", seed=args.seed)
        rf.save_task(
            f"{key_prefix}lanczos",
            {
                "n_hvp": r.n_hvp,
                "seconds": time.perf_counter() - t0,
                "converged": bool(r.all_converged),
            },
            eigenvalues=r.eigenvalues,
            residuals=r.residuals,
        )
    out["lanczos"] = rf.load_task(f"{key_prefix}lanczos")
    if args.method in ("slq", "both") and not rf.has_task(f"{key_prefix}slq"):
        t0 = time.perf_counter()
        d = spectral_density(
            energy,
            x,
            method="slq",
            n_probes=args.n_probes,
            lanczos_steps=args.lanczos_steps,
            seed=args.seed,
        )
        rf.save_task(
            f"{key_prefix}slq",
            {"n_hvp": d.n_hvp, "seconds": time.perf_counter() - t0, "bandwidth": d.bandwidth},
            nodes=d.nodes,
            weights=d.weights,
            steps=d.steps,
        )
    if args.method in ("slq", "both"):
        out["slq"] = rf.load_task(f"{key_prefix}slq")
    return out


def _write_results(rf, row: dict, res: dict, x, ev):
    """Write summary.csv and spectrum.npz; return the SLQ density (or None)."""
    dens = _density_from(res["slq"]) if "slq" in res else None
    if dens is not None:
        row["slq_n_hvp"] = dens.n_hvp
    rf.write_table(
        "summary.csv", [{k: (str(v) if isinstance(v, list) else v) for k, v in row.items()}]
    )
    arrays = {"x": x, "lanczos_top": res["lanczos"][1]["eigenvalues"]}
    if ev is not None:
        arrays["eigenvalues"] = ev
    if dens is not None:
        arrays.update(
            grid=dens.grid,
            density=dens.density,
            density_stderr=dens.density_stderr,
            nodes=dens.nodes,
            weights=dens.weights,
        )
    rf.write_arrays("spectrum.npz", **arrays)
    return dens


def _density_from(task, bandwidth=None, grid=None):
    """Rebuild a DensityResult from stored nodes/weights."""
    from analysis.spectrum import DensityResult, default_bandwidth, gaussian_smooth

    meta, arr = task
    nodes, weights = arr["nodes"], arr["weights"]
    bw = bandwidth or meta.get("bandwidth") or default_bandwidth(np.nanmin(nodes), np.nanmax(nodes))  # noqa: E501
    if grid is None:
        grid = np.linspace(np.nanmin(nodes) - 5 * bw, np.nanmax(nodes) + 5 * bw, 512)
    per = gaussian_smooth(nodes, weights, grid, bw)
    se = per.std(axis=0, ddof=1) / np.sqrt(per.shape[0]) if per.shape[0] > 1 else 0 * grid
    return DensityResult(
        nodes,
        weights,
        grid,
        per.mean(axis=0),
        se,
        per,
        float(bw),
        arr.get("steps", np.array([nodes.shape[1]])),
        int(meta.get("n_hvp", 0)),
        "slq",
        int(nodes.shape[1]),
    )


def _run_pspin(args) -> int:
    from analysis.plots import use_agg
    from analysis.plots.spectrum import plot_spectrum
    from analysis.spectrum import ks_distance, semicircle_cdf, semicircle_pdf
    from analysis.store import RunFolder
    from landscapes.progress import Progress
    from pspin import SphericalPSpin

    if args.N < 3 or args.p < 2:
        raise ValueError("--N must be >= 3 and --p >= 2")
    if args.k >= args.N - 1:
        raise ValueError(f"--k must be below the tangent dimension {args.N - 1}")
    rf = RunFolder(args.out, "spectrum-pspin", _config(args), resume=args.resume)
    model = SphericalPSpin(args.N, args.p, seed=args.seed)
    with Progress(4, desc="spectrum pspin") as bar:
        if not rf.has_task("point"):
            x = find_point(model, args.at, args.seed + 1, args.gd_steps, args.step, K=1)[0]
            rf.save_task("point", {"at": args.at}, x=x)
        x = rf.load_task("point")[1]["x"]
        bar.update(1, stage="point")
        u = model.energy(x) / args.N
        gnorm = float(np.linalg.norm(model.rgrad(x)) / math.sqrt(args.N))
        res = _spectra(rf, model, x, args, "")
        bar.update(3, stage="spectra")
    centre, radius = semicircle_theory(u, args.p)
    row = {
        "N": args.N,
        "p": args.p,
        "at": args.at,
        "H_per_N": u,
        "rms_rgrad": gnorm,
        "fingerprint": model.fingerprint,
        "semicircle_centre": centre,
        "semicircle_radius": radius,
        "lanczos_top": res["lanczos"][1]["eigenvalues"].tolist(),
        "lanczos_n_hvp": res["lanczos"][0]["n_hvp"],
    }
    ev = None
    if "exact" in res:
        ev = res["exact"][1]
        row.update(
            index=int(np.sum(ev < 0)),
            mean_minus_centre=float(ev.mean() - centre),
            ks_semicircle=ks_distance(ev, lambda t: semicircle_cdf(t, centre, radius)),
            lanczos_rel_err=float(
                np.max(
                    np.abs(res["lanczos"][1]["eigenvalues"] - ev[-args.k :]) / np.abs(ev[-args.k :])
                )
            ),
        )
    dens = _write_results(rf, row, res, x, ev)
    use_agg()
    fig = plot_spectrum(
        eigenvalues=ev,
        density=dens,
        theory=lambda t: semicircle_pdf(t, centre, radius),
        theory_label=f"semicircle: centre -p·u = {centre:.3f}, radius 2√(p(p-1)) = {radius:.3f}",
        xlabel="eigenvalue of the Riemannian Hessian (tangent space, dim N-1)",
        title=f"p-spin p={args.p}, N={args.N}, {args.at}: H/N = {u:.4f}",
    )
    rf.save_figure("spectrum.png", fig)
    lines = [f"# spectrum pspin (N={args.N}, p={args.p}, at={args.at})", ""]
    lines += [f"- {k}: {v}" for k, v in row.items()]
    rf.write_text("report.md", "\n".join(lines) + "\n")
    print(
        f"H/N={u:.5f} rms|rgrad|={gnorm:.2e} "
        + (f"index={row['index']} KS={row['ks_semicircle']:.4f} " if ev is not None else "")
        + f"-> {rf.path}"
    )
    return 0


def _run_mlp(args) -> int:
    from analysis.dynamics import gradient_descent
    from analysis.plots import use_agg
    from analysis.plots.spectrum import plot_spectrum
    from analysis.spectrum import gauss_newton_split, outliers
    from analysis.store import RunFolder
    from landscapes import datasets
    from landscapes.nn import MLPLoss
    from landscapes.progress import Progress

    if args.train_steps < 0 or args.lr <= 0:
        raise ValueError("--train-steps must be >= 0 and --lr > 0")
    rf = RunFolder(args.out, "spectrum-mlp", _config(args), resume=args.resume)
    if args.dataset == "digits":
        data = datasets.digits(
            scaling="unit", seed=args.seed, classes=args.classes if args.classes < 10 else None
        )
    else:
        data = datasets.gaussian_mixture(
            n_classes=args.classes,
            dim=64,
            separation=4.0,
            n_samples=60 * args.classes,
            seed=args.seed,
        )
    energy = MLPLoss(
        data,
        hidden=tuple(args.hidden),
        activation=args.activation,
        loss=args.loss,
        weight_decay=args.weight_decay,
    )
    with Progress(3, desc="spectrum mlp") as bar:
        if not rf.has_task("train"):
            x0 = energy.random_point(args.seed)
            x = _train(energy, x0, args.train_steps, args.lr, args.stop_loss, gradient_descent)
            rf.save_task("train", {"loss": energy.energy(x)}, x=x)
        x = rf.load_task("train")[1]["x"]
        bar.update(1, stage="trained")
        res = _spectra(rf, energy, x, args, "")
        bar.update(2, stage="spectra")
    loss = energy.energy(x)
    # protocol: top 3C eigenvalues (cross-entropy: ~C-1 outliers); MSE: top 3C groups of C
    n_top = args.n_top or (3 * args.classes * (args.classes if args.loss == "mse" else 1))
    row = {
        "dataset": args.dataset,
        "classes": args.classes,
        "hidden": str(args.hidden),
        "loss": args.loss,
        "P": energy.dim,
        "train_loss": loss,
        "fingerprint": energy.fingerprint,
        "lanczos_top": str(res["lanczos"][1]["eigenvalues"].tolist()),
    }
    ev = res["exact"][1] if "exact" in res else None
    out = None
    if ev is not None:
        out = outliers(ev, n_top=n_top)
        row.update(
            outliers=out.count,
            groups=round(out.count / args.classes, 2),
            bulk_edge=out.edge,
            lambda_max=float(ev[-1]),
            lambda_min=float(ev[0]),
            frac_negative=float(np.mean(ev < 0)),
        )
        if energy.dim <= 5000:
            gn = gauss_newton_split(energy, x, k=min(args.classes, energy.dim - 1), seed=args.seed)
            row.update(gn_overlap=gn.overlap, gn_rel_residual=gn.rel_residual)
    dens = _write_results(rf, row, res, x, ev)
    use_agg()
    fig = plot_spectrum(
        eigenvalues=ev,
        density=dens,
        outliers=None if out is None else out.values,
        edge=None if out is None else out.edge,
        xlabel="eigenvalue of the Hessian of the mean training loss",
        title=f"MLP {energy.sizes} on {args.dataset}, {args.loss}, P={energy.dim}, loss={loss:.4f}",
    )
    rf.save_figure("spectrum.png", fig)
    rf.write_text(
        "report.md", "# spectrum mlp\n\n" + "\n".join(f"- {k}: {v}" for k, v in row.items()) + "\n"
    )
    print(
        f"P={energy.dim} loss={loss:.4f} "
        + (f"outliers={row['outliers']} " if ev is not None else "")
        + f"-> {rf.path}"
    )
    return 0


def _train(energy, x0, steps: int, lr: float, stop_loss, gradient_descent):
    """Full-batch GD, stopped at ``stop_loss`` (checked every 50 steps) or after ``steps``."""
    x = np.array(x0)
    done = 0
    chunk = 50 if stop_loss is not None else max(steps, 1)
    while done < steps:
        if stop_loss is not None and energy.energy(x) <= stop_loss:
            break
        n = min(chunk, steps - done)
        x = np.array(gradient_descent(energy, x, step=lr, max_steps=n, gtol=0.0, progress=False).x)
        x = x[0] if x.ndim == 2 else x
        done += n
    return x
