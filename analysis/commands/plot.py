"""``landscapes plot``: regenerate a run's figures, or draw landscape slices and paths.

* ``landscapes plot RUN_DIR``: redraw every figure (and report.html) of a ``compare`` run from
  its stored results, without recomputing anything.
* ``landscapes plot slice --model pspin --size 100``: descend to a minimum by GD from a random
  start and draw 1D and 2D slices through it (geodesic on the sphere, filter-normalized for
  networks), writing a run folder.
* ``landscapes plot path --model digits --size 16``: two GD minima from two random starts and
  the energy along the path between them (geodesic on the sphere, straight for networks).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["register", "run"]

MODELS = ("pspin", "digits", "teacher_student")


def register(subparsers) -> None:
    """Add the ``plot`` sub-command."""
    p = subparsers.add_parser(
        "plot",
        help="redraw a run's figures (plot RUN_DIR), or draw slices / paths (plot slice|path)",
        description=(
            "'landscapes plot RUN_DIR' regenerates every figure of a stored compare run without "
            "recomputing. 'landscapes plot slice' and 'landscapes plot path' descend to GD minima "
            "of a model and draw landscape slices through one, or the path between two."
        ),
    )
    p.add_argument("target", help="a compare run folder, or 'slice' or 'path'")
    p.add_argument("--model", choices=MODELS, default="pspin", help="model (slice/path)")
    p.add_argument(
        "--size", type=int, default=100, help="N for the p-spin, hidden width for networks"
    )
    p.add_argument("--p", type=int, default=3, help="p-spin order")
    p.add_argument("--seed", type=int, default=0, help="root seed")
    p.add_argument("--points", type=int, default=41, help="points per slice axis / along the path")
    p.add_argument(
        "--span",
        type=float,
        default=None,
        help="half-width of the slice (radians on the sphere; default pi/2, or 1 for networks)",
    )
    p.add_argument("--steps", type=int, default=2000, help="GD step budget to reach the minima")
    p.add_argument("--out", metavar="DIR", help="run folder (slice/path)")
    p.set_defaults(func=run)


def _energy(args):
    from analysis.compare import ModelTask, build_energy
    from analysis.config import preset

    if args.model == "pspin":
        from pspin import SphericalPSpin

        if args.size < 4 or args.size > 400:
            raise ValueError(f"--size for the p-spin must be in 4..400; got {args.size}")
        return SphericalPSpin(args.size, args.p, seed=args.seed), dict(step=0.2, gtol=1e-4)
    if args.size < 1:
        raise ValueError(f"--size (hidden width) must be >= 1; got {args.size}")
    cfg = preset("default")
    cfg["seed"] = args.seed
    return build_energy(cfg, ModelTask(args.model, args.size), args.seed), dict(step=0.5, gtol=1e-4)


def _minima(energy, gd: dict, steps: int, seed: int, k: int):
    from analysis.dynamics import gradient_descent

    x0 = energy.random_point(seed, size=k)
    return gradient_descent(energy, x0, max_steps=steps, progress=None, **gd)


def _slice_or_path(args) -> int:
    import numpy as np

    from analysis.plots import slices as psl
    from analysis.plots import use_agg
    from analysis.slices import path_between, slice_1d, slice_2d
    from analysis.store import RunFolder

    use_agg()
    if args.points < 3:
        raise ValueError(f"--points must be >= 3; got {args.points}")
    energy, gd = _energy(args)
    config = {
        k: getattr(args, k)
        for k in ("target", "model", "size", "p", "seed", "points", "span", "steps")
    }
    run = RunFolder(args.out, f"plot-{args.target}", config)
    r = _minima(energy, gd, args.steps, args.seed, 2 if args.target == "path" else 1)
    sphere = args.model == "pspin"
    half = args.span if args.span is not None else (np.pi / 2 if sphere else 1.0)
    if half <= 0:
        raise ValueError(f"--span must be > 0; got {half}")
    meta = {
        "family": args.model,
        "size": args.size,
        "intensive_name": getattr(energy, "intensive_name", "energy"),
        "converged": r.converged.tolist(),
        "endpoint_energies": r.intensive.tolist(),
    }
    if args.target == "slice":
        s2 = slice_2d(
            energy, r.x[0], span=(-half, half), n_points=min(args.points, 31), seed=args.seed
        )
        curves = [
            slice_1d(
                energy,
                r.x[0],
                direction=d,
                span=(-half, half),
                n_points=args.points,
                normalization="auto" if sphere else "none",
            )
            for d in s2.directions
        ]
        meta.update(normalization=s2.normalization, coordinate=s2.coordinate)
        arrays = {
            "alphas": curves[0].alphas,
            "slice1d": np.stack([c.energies for c in curves]),
            "grid": s2.alphas,
            "slice2d": s2.energies,
            "directions": s2.directions,
            "x": r.x[0],
        }
        run.write_arrays("arrays/slice.npz", **arrays)
        run.write_json("slice.json", meta)
        run.save_figure("figures/slice_1d.png", psl.plot_slices_1d([(meta, arrays)]))
        run.save_figure("figures/slice_2d.png", psl.plot_slices_2d([(meta, arrays)]))
    else:
        path = path_between(energy, r.x[0], r.x[1], n_points=args.points)
        meta.update(path_kind=path.kind, path_length=path.length, barrier=path.barrier)
        arrays = {"path_t": path.t, "path": path.energies, "x": r.x}
        run.write_arrays("arrays/path.npz", **arrays)
        run.write_json("path.json", meta)
        run.save_figure("figures/path.png", psl.plot_paths([(meta, arrays)]))
    if not r.converged.all():
        print(
            f"note: {int((~r.converged).sum())} GD endpoint(s) did not reach gtol in {args.steps} steps"
        )
    print(f"figures: {run.path / 'figures'}")
    return 0


def run(args) -> int:
    """Dispatch: a run folder is redrawn; 'slice' and 'path' compute and draw."""
    if args.target in ("slice", "path"):
        return _slice_or_path(args)
    from analysis.commands.compare import make_figures_and_report
    from analysis.store import RunFolder

    if not Path(args.target).is_dir():
        raise ValueError(f"{args.target!r} is neither 'slice', 'path' nor a run folder")
    run_folder = RunFolder.open(args.target)
    if run_folder.command != "compare":
        raise ValueError(
            f"{args.target} is a '{run_folder.command}' run; plot RUN_DIR redraws compare runs"
        )
    written = make_figures_and_report(run_folder)
    print(f"redrew {len(written)} figures and {run_folder.path / 'report.html'}")
    return 0
