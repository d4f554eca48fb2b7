"""``landscapes compare``: the spherical p-spin against neural networks, end to end.

Runs the comparison protocol of :mod:`analysis.compare` on the default comparison (p = 3
p-spin at N = 50, 100, 200 against MLPs on digits and on a teacher–student task at widths
8-64), writes the run folder (config.json, tables, arrays, figures, report.html) and prints
where the report is. ``--quick`` is a one-minute smoke run; ``--full`` is the converged
Sagun experiment (N up to 400, widths up to 128, hundreds of replicas: hours on 2 cores).

Each (model, size) is one task of a sweep (:mod:`analysis.tasks`): ``--scheduler local:N``
runs them on a local Dask cluster, ``--scheduler tcp://HOST:PORT`` on an existing one,
``--executor processes`` on a local process pool; the tables are identical wherever the tasks
run, and ``--resume RUN_DIR`` runs only the tasks whose results are missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.tasks import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run", "make_figures_and_report"]


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of integers; got {text!r}"
        ) from None


def register(subparsers) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="p-spin vs neural networks: descents, final energies, spectra, overlaps, report",
        description=(
            "Apply one protocol (GD and SGD ensembles from random starts, final intensive "
            "energies, halting times, Hessian spectra at endpoints, overlaps) to the spherical "
            "p-spin and to MLP losses, and write a run folder with tables, figures and "
            "report.html. Sizes and budgets come from a preset (default, --quick, --full), "
            "a TOML file (--config) and the flags below, in that order."
        ),
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small smoke run (about a minute)")
    g.add_argument(
        "--full",
        action="store_true",
        help="the converged Sagun experiment: N up to 400, widths up to 128, hundreds of replicas (hours)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="TOML file overriding the preset (see analysis.config)"
    )
    p.add_argument("--seed", type=int, help="root seed of the run (default 0)")
    p.add_argument("--sizes", type=_int_list, metavar="N,N,...", help="p-spin sizes N")
    p.add_argument("--p", type=int, help="order of the p-spin interaction (default 3)")
    p.add_argument("--widths", type=_int_list, metavar="W,W,...", help="network hidden widths")
    p.add_argument("--replicas", type=int, help="p-spin replicas per coupling sample")
    p.add_argument("--net-replicas", type=int, help="network replicas per width")
    p.add_argument(
        "--families",
        metavar="F,F",
        type=lambda s: [t for t in s.replace(",", " ").split()],
        help="network families: digits, teacher_student",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/compare-<time>-<hash>)")
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue an interrupted run, skipping stored work"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads (default: leave as is; 1 avoids oversubscription on a busy machine)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_executor_arguments(p)
    p.set_defaults(func=run)


def _flags(args) -> dict:
    return {
        "seed": args.seed,
        "pspin.sizes": args.sizes,
        "pspin.p": args.p,
        "pspin.replicas": args.replicas,
        "networks.widths": args.widths,
        "networks.replicas": args.net_replicas,
        "networks.families": args.families,
    }


def make_figures_and_report(run, config: dict | None = None) -> list[Path]:
    """Draw every figure and write report.html from the tables stored in ``run``.

    Nothing is recomputed: the tidy tables are rebuilt from the stored task arrays.
    Returns the paths of the figures written.
    """
    from analysis.compare import MODEL_LABELS, load_tables, pspin_theory_lines
    from analysis.plots import compare as pc
    from analysis.plots import slices as psl
    from analysis.plots import use_agg
    from analysis.report import ReportFigure, ReportSection, write_report

    use_agg()
    config = config if config is not None else run.config
    tables = load_tables(run, config)
    if not tables["tasks"]:
        raise ValueError(f"{run.path} holds no finished comparison task yet; nothing to plot")
    run.write_table("tables/replicas.csv", tables["replicas"])
    run.write_table("tables/summary.csv", tables["summary"])
    run.write_table("tables/spectra.csv", tables["spectra"])
    run.write_table("tables/overlaps.csv", tables["overlaps"])
    p = int(config["pspin"]["p"])
    theory = pspin_theory_lines(p)
    figs = {
        "figures/final_energies.png": pc.plot_final_energies(tables, theory),
        "figures/concentration.png": pc.plot_concentration(tables, theory),
        "figures/halting_times.png": pc.plot_halting_times(tables),
        "figures/spectra.png": pc.plot_spectra(tables, theory, p=p),
        "figures/overlaps.png": pc.plot_overlaps(tables),
    }
    has_pspin_index = (
        len(tables["spectra"])
        and ((tables["spectra"]["model"] == "pspin") & (tables["spectra"]["index"] >= 0)).any()
    )
    if tables["census"] is not None or has_pspin_index:
        figs["figures/index_energy.png"] = pc.plot_index_energy(tables, theory, p=p)
    if tables["slices"]:
        figs["figures/slices_1d.png"] = psl.plot_slices_1d(tables["slices"])
        figs["figures/slices_2d.png"] = psl.plot_slices_2d(tables["slices"])
        figs["figures/paths.png"] = psl.plot_paths(tables["slices"])
        if any("pca_coords" in a for _, a in tables["slices"]):
            figs["figures/pca.png"] = psl.plot_pca_slices(tables["slices"])
    written = []
    for name, fig in figs.items():
        written.append(run.save_figure(name, fig))
    s = tables["summary"]
    unconv = s[(s["method"] == "gd") & (s["converged_fraction"] < 1)]
    notes = [
        f"{MODEL_LABELS[r.model]}, size {r.size}: {100 * (1 - r.converged_fraction):.0f}% of GD "
        f"endpoints unconverged at the step budget (gradient above gtol); they are reported as "
        f"such, not as minima."
        for r in unconv.itertuples()
    ]
    nets = config["networks"]
    ps_c = config["pspin"]
    protocol = [
        (
            "p-spin protocol",
            f"{ps_c['samples']} coupling draw(s) x {ps_c['replicas']} GD replicas per N, uniform "
            f"random starts, fixed step {ps_c['step']:g}, stop at |rgrad|/sqrt(N) <= "
            f"{ps_c['gtol']:g} or {ps_c['max_steps']} steps",
        ),
        (
            "network protocol",
            f"{nets['replicas']} replicas per width, n_train = {nets['n_train']}, "
            f"{nets['activation']} MLP, loss = mean loss + (wd/2)|theta|^2 with wd = "
            f"{nets['weight_decay']:g}; GD {nets['gd_schedule']} step {nets['gd_step']:g}, stop "
            f"at |grad|/sqrt(P) <= {nets['gtol']:g} or {nets['gd_steps']} steps"
            + (
                f"; SGD batch {nets['sgd_batch']}, step {nets['sgd_step']:g}, "
                f"{nets['sgd_epochs']} epochs (no stopping rule)"
                if nets["sgd"]
                else ""
            ),
        ),
    ]
    sp_t = tables["spectra"]
    if len(sp_t):
        for r in (
            sp_t[sp_t["model"] != "pspin"]
            .groupby(["model", "size"])
            .agg(
                neg=("negative_weight", "max"),
                lmin=("min_eigenvalue", "min"),
                lmax=("max_eigenvalue", "max"),
                conv=("converged", "all"),
            )
            .itertuples()
        ):
            model, size = r.Index
            notes.append(
                f"{MODEL_LABELS[model]}, width {size}: Hessian at the measured GD endpoints "
                f"({'converged' if r.conv else 'NOT all converged'}): spectral weight below 0 "
                f"at most {100 * r.neg:.1f}%, lowest eigenvalue {r.lmin:.2e} against the "
                f"largest {r.lmax:.2e}."
            )
    F = ReportFigure
    sections = [
        ReportSection(
            "Final energies and their concentration",
            (
                F(
                    "figures/final_energies.png",
                    "Final intensive energies of GD endpoints",
                    " p-spin: H/N per N with -E_inf (threshold) and -E_0 (ground state); networks: "
                    "final training loss per width. Legends give the converged fraction.",
                ),
                F(
                    "figures/concentration.png",
                    "Concentration with size",
                    " The p-spin mean moves toward -E_inf and its spread shrinks with N; network "
                    "losses (GD and SGD) and their coefficient of variation against width.",
                ),
            ),
        ),
        ReportSection(
            "Hessian spectra at the endpoints and halting times",
            (
                F(
                    "figures/spectra.png",
                    "Hessian spectra at GD endpoints, side by side",
                    " p-spin: Riemannian Hessian eigenvalues with the semicircle centred at -pu of "
                    "radius 2 sqrt(p(p-1)); networks: bulk near zero and outliers (dense or SLQ).",
                ),
                F(
                    "figures/halting_times.png",
                    "Halting times",
                    " Steps for GD to reach the gradient tolerance; crosses mark replicas still "
                    "unconverged at the budget.",
                ),
            ),
        ),
        ReportSection(
            "Overlaps between endpoints",
            (
                F(
                    "figures/overlaps.png",
                    "P(q) between replica endpoints",
                    " p-spin q = x.y/N; networks after canonical form (sorted units, fixed signs) "
                    "and in function space (correlation of outputs on held-out data).",
                ),
            ),
        ),
    ]
    if "figures/index_energy.png" in figs:
        sections.append(
            ReportSection(
                "Index vs energy of critical points",
                (
                    F(
                        "figures/index_energy.png",
                        "Index fraction against H/N",
                        " Every critical point a census found on one small instance (dots) "
                        "and the GD endpoints whose dense spectrum was measured (diamonds: "
                        "index 0, minima) against the large-N law alpha(u), the semicircle "
                        "CDF at 0, which vanishes below -E_inf: minima sit at and below the "
                        "threshold, saddles of growing index above it.",
                    ),
                ),
            )
        )
    if tables["slices"]:
        sections.append(
            ReportSection(
                "Landscape slices",
                (
                    F(
                        "figures/slices_1d.png",
                        "1D slices through a GD endpoint",
                        " Geodesics on the sphere (angle in radians); filter-normalized random "
                        "directions for networks (Li et al. 2018).",
                    ),
                    F(
                        "figures/slices_2d.png",
                        "2D slices through a GD endpoint",
                        " The same two directions spanning a plane (geodesic surface on the sphere).",
                    ),
                    F(
                        "figures/paths.png",
                        "Paths between two GD endpoints",
                        " Great-circle arc on the sphere, straight segment for networks; the barrier "
                        "is the bump above the higher endpoint.",
                    ),
                )
                + (
                    (
                        F(
                            "figures/pca.png",
                            "GD trajectories on their PCA plane",
                            " Three fresh GD descents of the largest size of each model, "
                            "projected on the two principal directions of all their points "
                            "(through the first endpoint, after Li et al. 2018).",
                        ),
                    )
                    if "figures/pca.png" in figs
                    else ()
                ),
            )
        )
    cols = [
        "model",
        "size",
        "method",
        "replicas",
        "converged_fraction",
        "mean",
        "std",
        "cv",
        "min",
        "median",
        "max",
        "median_halting_steps",
    ]
    write_report(
        run,
        title="landscapes compare: spherical p-spin vs neural networks",
        subtitle=f"run folder {run.path} · seed {config['seed']} · theory from {theory['source']}",
        theory=[
            (f"-E_inf (p = {p} threshold, per spin)", f"{-theory['E_inf']:.5f}"),
            (f"-E_0 (p = {p} ground state, per spin)", f"{-theory['E_0']:.5f}"),
            (
                "Hessian at a critical point of energy Nu",
                f"semicircle centred at -{p}u, radius 2 sqrt(p(p-1)) = {theory['radius']:.4f}",
            ),
        ],
        protocol=protocol,
        summary=s[cols],
        sections=sections,
        notes=notes,
    )
    return written


def run(args) -> int:
    """Run (or resume) the comparison, then write figures and the report."""
    from analysis.compare import run_comparison
    from analysis.config import build_config, load_toml
    from analysis.store import RunFolder

    preset = "quick" if args.quick else "full" if args.full else "default"
    toml = load_toml(args.config) if args.config else None
    flags = _flags(args)
    spec = executor_from_args(args)  # checked before any folder is written
    if args.resume:
        if args.out and Path(args.out) != Path(args.resume):
            raise ValueError("give either --out or --resume RUN_DIR, not two different folders")
        stored = RunFolder.open(args.resume)
        if stored.command != "compare":
            raise ValueError(f"{args.resume} is a '{stored.command}' run, not a compare run")
        explicit = args.quick or args.full or toml or any(v is not None for v in flags.values())
        config = build_config(preset, toml, flags) if explicit else stored.config
        run_folder = RunFolder(args.resume, "compare", config, resume=True)
    else:
        config = build_config(preset, toml, flags)
        run_folder = RunFolder(args.out, "compare", config)
    progress = False if args.no_progress else None
    limiter = None
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1; got {args.threads}")
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.threads)
    try:
        result = run_comparison(config, run_folder, progress=progress, executor=spec)
    except SweepError as exc:
        print(str(exc))
        return 1
    finally:
        if limiter is not None:
            limiter.unregister()
    print(f"compare tasks: {result.summary()}")
    make_figures_and_report(run_folder, config)
    print(f"report: {run_folder.path / 'report.html'}")
    return 0
