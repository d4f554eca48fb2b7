"""Figures and report.html of a comparison run, drawn from its stored tables."""

from __future__ import annotations

import math
from pathlib import Path

from analysis.report import ReportFigure, ReportSection, write_report
from analysis.studies.compare.models import MODEL_LABELS
from analysis.studies.compare.tables import load_tables
from pspin import theory

__all__ = ["pspin_theory_lines", "make_figures_and_report"]


def pspin_theory_lines(p: int) -> dict:
    """-E_inf, -E_0 (per spin) and the Hessian semicircle radius of the pure p-spin.

    From :mod:`pspin.theory` (ABC convention): the threshold ``E_inf = 2 sqrt((p-1)/p)``, the
    ground state ``E_0`` and the radius ``2 sqrt(p (p-1))`` of the semicircle law of the
    Riemannian Hessian at a critical point.
    """
    return {
        "E_inf": float(theory.threshold_energy(p)),
        "E_0": float(theory.ground_state_energy(p)),
        "radius": 2.0 * math.sqrt(p * (p - 1)),
        "source": "pspin.theory",
    }


def make_figures_and_report(run, config: dict | None = None) -> list[Path]:
    """Draw every figure and write report.html from the tables stored in ``run``.

    Nothing is recomputed: the tidy tables are rebuilt from the stored task arrays.
    Returns the paths of the figures written.
    """
    from analysis.plots import compare as pc  # noqa: PLC0415 (matplotlib only when drawing)
    from analysis.plots import slices as psl  # noqa: PLC0415
    from analysis.plots import use_agg  # noqa: PLC0415

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
    lines = pspin_theory_lines(p)
    figs = {
        "figures/final_energies.png": pc.plot_final_energies(tables, lines),
        "figures/concentration.png": pc.plot_concentration(tables, lines),
        "figures/halting_times.png": pc.plot_halting_times(tables),
        "figures/spectra.png": pc.plot_spectra(tables, lines, p=p),
        "figures/overlaps.png": pc.plot_overlaps(tables),
    }
    has_pspin_index = (
        len(tables["spectra"])
        and ((tables["spectra"]["model"] == "pspin") & (tables["spectra"]["index"] >= 0)).any()
    )
    if tables["census"] is not None or has_pspin_index:
        figs["figures/index_energy.png"] = pc.plot_index_energy(tables, lines, p=p)
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
        subtitle=f"run folder {run.path} · seed {config['seed']} · theory from {lines['source']}",
        theory=[
            (f"-E_inf (p = {p} threshold, per spin)", f"{-lines['E_inf']:.5f}"),
            (f"-E_0 (p = {p} ground state, per spin)", f"{-lines['E_0']:.5f}"),
            (
                "Hessian at a critical point of energy Nu",
                f"semicircle centred at -{p}u, radius 2 sqrt(p(p-1)) = {lines['radius']:.4f}",
            ),
        ],
        protocol=protocol,
        summary=s[cols],
        sections=sections,
        notes=notes,
    )
    return written
