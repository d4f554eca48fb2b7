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

from analysis.commands._options import (
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
)

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
    p.add_argument("--points", type=int, default=41, help="points per slice axis / along the path")
    p.add_argument(
        "--span",
        type=float,
        default=None,
        help="half-width of the slice (radians on the sphere; default pi/2, or 1 for networks)",
    )
    add_step_options(
        p,
        max_steps=2000,
        max_steps_help="GD step budget to reach the minima",
        max_steps_aliases=("--steps",),
    )
    add_run_options(p, seed=0)
    p.set_defaults(func=run)


def _spec(args) -> tuple[dict, dict]:
    """The model spec of ``--model``/``--size`` and its GD protocol (validated)."""
    from analysis.config import preset
    from analysis.studies.compare import ModelTask, network_spec, pspin_spec

    if args.model == "pspin":
        if args.size < 4 or args.size > 400:
            raise ValueError(f"--size for the p-spin must be in 4..400; got {args.size}")
        return pspin_spec(args.size, args.p, args.seed), dict(step=0.2, gtol=1e-4)
    if args.size < 1:
        raise ValueError(f"--size (hidden width) must be >= 1; got {args.size}")
    cfg = preset("default")
    cfg["seed"] = args.seed
    return network_spec(cfg, ModelTask(args.model, args.size), args.seed), dict(step=0.5, gtol=1e-4)


def _slice_or_path(args) -> int:
    import numpy as np

    if args.points < 3:
        raise ValueError(f"--points must be >= 3; got {args.points}")
    half = args.span if args.span is not None else (np.pi / 2 if args.model == "pspin" else 1.0)
    check_range(half, "--span", low=0, low_open=True)
    check_range(args.max_steps, "--max-steps", low=1, integer=True)
    if args.p < 2:
        raise ValueError(f"--p must be >= 2; got {args.p}")
    spec, gd = _spec(args)
    check_run_options(args)
    config = {
        k: getattr(args, k) for k in ("target", "model", "size", "p", "seed", "points", "span")
    }
    config["steps"] = args.max_steps
    run = open_run_folder(args, f"plot-{args.target}", config, label=f"plot {args.target}")
    with command_context(args):
        return _draw(args, run, spec, gd, half)


def _draw(args, run, spec, gd, half) -> int:
    from analysis.plots import slices as psl
    from analysis.plots import use_agg
    from analysis.report import write_run_report
    from analysis.studies.compare import path_between_minima, slice_at_minimum
    from landscapes.progress import phase
    from landscapes.spec import build

    energy = build(spec)
    common = dict(gd=gd, steps=args.max_steps, seed=args.seed, points=args.points)
    use_agg()
    with phase(f"plot {args.target}: descents and {args.target}"):
        if args.target == "slice":
            meta, arrays = slice_at_minimum(energy, half=half, **common)
        else:
            meta, arrays = path_between_minima(energy, **common)
    if args.target == "slice":
        meta = {"family": args.model, "size": args.size, **meta}
        run.write_arrays("slice.npz", **arrays)
        run.write_json("tables/slice.json", meta)
        run.save_figure("figures/slice_1d.png", psl.plot_slices_1d([(meta, arrays)]))
        run.save_figure("figures/slice_2d.png", psl.plot_slices_2d([(meta, arrays)]))
    else:
        meta = {"family": args.model, "size": args.size, **meta}
        run.write_arrays("path.npz", **arrays)
        run.write_json("tables/path.json", meta)
        run.save_figure("figures/path.png", psl.plot_paths([(meta, arrays)]))
    unconverged = len(meta["converged"]) - sum(meta["converged"])
    if unconverged:
        print(f"note: {unconverged} GD endpoint(s) did not reach gtol in {args.max_steps} steps")
    figs = sorted(f.name for f in (run.path / "figures").glob("*.png"))
    write_run_report(
        run,
        title=f"plot {args.target}: {args.model}, size {args.size}",
        text=(
            f"{unconverged} GD endpoint(s) did not reach gtol in {args.max_steps} steps."
            if unconverged
            else ""
        ),
        figures=figs,
    )
    print(f"figures: {run.path / 'figures'}")
    return 0


def run(args) -> int:
    """Dispatch: a run folder is redrawn; 'slice' and 'path' compute and draw."""
    if args.target in ("slice", "path"):
        return _slice_or_path(args)
    from analysis.store import RunFolder
    from analysis.studies.compare import make_figures_and_report
    from landscapes.progress import phase

    if not Path(args.target).is_dir():
        raise ValueError(f"{args.target!r} is neither 'slice', 'path' nor a run folder")
    if args.out is not None or args.resume is not None:
        raise ValueError(
            "plot RUN_DIR redraws the figures of RUN_DIR in place; --out and "
            "--resume are for plot slice|path"
        )
    run_folder = RunFolder.open(args.target)
    if run_folder.command != "compare":
        raise ValueError(
            f"{args.target} is a '{run_folder.command}' run; plot RUN_DIR redraws compare runs"
        )
    print(f"landscapes plot: redrawing {run_folder.path}", flush=True)
    with command_context(args), phase("plot: figures") as bar:
        written = make_figures_and_report(
            run_folder, progress=lambda name: bar.update(1, last=str(name))
        )
    print(f"redrew {len(written)} figures and {run_folder.path / 'report.html'}")
    return 0
