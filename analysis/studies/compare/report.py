"""Figures, report.html and report.md of a comparison run, drawn from its stored tables.

Nothing is recomputed: the tidy tables are rebuilt from the stored task arrays, the figures
are drawn from them (in parallel worker processes when more than one core is available,
each figure a top-level function of plain data, :func:`draw_png`) and the report gathers
every warning in one table at the top.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import numpy as np

from analysis.report import (
    ReportFigure,
    ReportSection,
    markdown_table,
    write_report,
    write_report_md,
)
from analysis.studies.compare.dynamics import (
    TWO_TIME_REPLICAS,
    dynamics_data,
    exact_dynamics_arrays,
)
from analysis.studies.compare.graphs import BARRIER_COLUMNS, UNIT, landscape_graphs_data
from analysis.studies.compare.models import MODEL_LABELS
from analysis.studies.compare.tables import load_tables
from pspin import theory

__all__ = [
    "pspin_theory_lines",
    "figure_jobs",
    "draw_png",
    "draw_figures",
    "make_figures_and_report",
]

FIGURE_DPI = 110

_PC = "analysis.plots.compare"
_PS = "analysis.plots.compare_spectra"
_SL = "analysis.plots.slices"
_GR = "analysis.studies.compare.graphs"


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


def figure_jobs(
    tables: dict, lines: dict, p: int, dyn: dict | None = None, graphs: dict | None = None
) -> list[tuple[str, str, tuple]]:
    """The figures of a comparison: ``(file, "module:function", args)``, costliest first.

    Each function is top-level and takes plain data, so any job can run in a worker process.
    ``dyn`` (:func:`~analysis.studies.compare.dynamics.dynamics_data`) adds the dynamics
    figures, ``graphs`` (:func:`~analysis.studies.compare.graphs.landscape_graphs_data`)
    the side-by-side disconnectivity graphs.
    """
    jobs = [
        ("figures/spectra.png", f"{_PS}:plot_spectra", (tables, lines, p)),
        ("figures/final_energies.png", f"{_PC}:plot_final_energies", (tables, lines)),
        ("figures/learning_curves.png", f"{_PC}:plot_learning_curves", (tables, lines)),
        ("figures/halting_times.png", f"{_PC}:plot_halting_times", (tables,)),
        ("figures/overlaps.png", f"{_PS}:plot_overlaps", (tables,)),
        ("figures/final_collapse.png", f"{_PC}:plot_rescaled_final_values", (tables,)),
        ("figures/halting_collapse.png", f"{_PC}:plot_halting_collapse", (tables,)),
        ("figures/concentration.png", f"{_PC}:plot_concentration", (tables, lines)),
        ("figures/spectra_normalized.png", f"{_PS}:plot_normalized_spectra", (tables,)),
        ("figures/networks.png", f"{_PS}:plot_networks", (tables,)),
    ]
    if not any("gd_trace" in a for _, a in tables["tasks"]):
        jobs = [j for j in jobs if "learning_curves" not in j[0]]
    sp = tables["spectra"]
    has_pspin_index = len(sp) and ((sp["model"] == "pspin") & (sp["index"] >= 0)).any()
    if tables["census"] is not None or has_pspin_index:
        jobs.append(("figures/index_energy.png", f"{_PS}:plot_index_energy", (tables, lines, p)))
    if tables["census"] is not None:
        jobs.insert(0, ("figures/census.png", f"{_PS}:plot_census", (tables, lines, p)))
    sl = tables["slices"]
    if sl:
        jobs.insert(1, ("figures/slices_2d.png", f"{_SL}:plot_slices_2d", (sl,)))
        jobs += [
            ("figures/slices_1d.png", f"{_SL}:plot_slices_1d", (sl,)),
            ("figures/paths.png", f"{_SL}:plot_paths", (sl,)),
        ]
        if any("pca_coords" in a for _, a in sl):
            jobs.append(("figures/pca.png", f"{_SL}:plot_pca_slices", (sl,)))
    if dyn is not None:
        if dyn["pspin"] and dyn["exact"] is not None:
            jobs.append(("figures/dynamics_energy.png", f"{_PC}:plot_dynamics_energy", (dyn,)))
        for fam in dyn["networks"]:
            jobs.append((f"figures/dynamics_{fam}.png", f"{_PC}:plot_dynamics_network", (dyn, fam)))
    if graphs is not None:
        plain = {"unit": graphs["unit"], "panels": graphs["panels"]}
        jobs.append(("figures/landscape_graphs.png", f"{_GR}:plot_landscape_graphs", (plain,)))
    return jobs


def draw_png(func: str, args: tuple, dpi: int = FIGURE_DPI) -> bytes | None:
    """Draw one figure (``"module:function"`` applied to ``args``) and return its PNG bytes,
    or None when the function has nothing to draw. Runs in a worker process or in-process."""
    from analysis.plots import png_bytes, use_agg

    use_agg()
    mod, name = func.split(":")
    fig = getattr(importlib.import_module(mod), name)(*args)
    return None if fig is None else png_bytes(fig, dpi)


def draw_figures(jobs, workers: int | None = None, progress=None) -> dict[str, bytes]:
    """PNG bytes of every job that drew something, by file name.

    ``workers``: processes drawing figures (default: the cores this process may use,
    :func:`landscapes.threads.available_cores`, at most the number of jobs, or 1 when the
    machine is :func:`landscapes.threads.busy`: a second process then only competes for
    the same core); 1 draws in-process. Workers run one BLAS thread each
    (:func:`landscapes.threads.worker_initializer`).
    ``progress`` is called with each finished file name.
    """
    import concurrent.futures as cf

    from landscapes import threads

    n = len(jobs)
    if workers is None:
        workers = 1 if threads.busy() else threads.available_cores()
    workers = min(int(workers), n)
    say = progress or (lambda _name: None)
    out: dict[str, bytes] = {}
    if workers <= 1:
        for name, func, args in jobs:
            png = draw_png(func, args)
            if png is not None:
                out[name] = png
            say(name)
        return out
    ctx = _pool_context(sorted({func.split(":")[0] for _, func, _ in jobs}))
    with cf.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=threads.worker_initializer
    ) as ex:
        futs = {ex.submit(draw_png, func, args): name for name, func, args in jobs}
        for fut in cf.as_completed(futs):
            png = fut.result()
            if png is not None:
                out[futs[fut]] = png
            say(futs[fut])
    return {name: out[name] for name, _, _ in jobs if name in out}


def _pool_context(modules: list[str]):
    """Start method of the figure workers: ``fork`` from a process with no other Python
    thread (the plotting modules imported first, so workers inherit them), else
    ``forkserver`` with those modules preloaded (never fork a process that holds threads:
    a progress-bar monitor or a Dask client may hold a lock at the fork)."""
    import multiprocessing as mp
    import threading

    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        for m in modules:
            importlib.import_module(m)
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(modules)
        return ctx
    return mp.get_context("spawn")


def _warnings(tables: dict) -> list[tuple[str, str]]:
    """One row per problem: unconverged ensembles, endpoints with negative curvature."""
    rows = []
    s = tables["summary"]
    for r in s[(s["method"] == "gd") & (s["converged_fraction"] < 1)].itertuples():
        unit = "N" if r.model == "pspin" else "width"
        rows.append(
            (
                f"{MODEL_LABELS[r.model]}, {unit} {r.size}",
                f"{100 * (1 - r.converged_fraction):.0f}% of GD endpoints unconverged at the step "
                "budget (gradient above gtol); they are reported as such, not as minima.",
            )
        )
    mi = tables["endpoint_index"]
    if len(mi):
        nets = mi[mi["model"] != "pspin"]
        for (model, size), g in nets.groupby(["model", "size"], sort=False):
            tol = g["index_tolerant"]
            bad = not g["converged"].all() or (tol.notna() & (tol > 0)).any()
            if bad:
                state = "converged" if g["converged"].all() else "NOT all converged"
                index = (
                    f"; Morse index up to {int(tol.max())} counting |λ| > "
                    f"{float(g['rtol'].iloc[0]):g} max|λ| (up to {int(g['index_raw'].max())} raw)"
                    if tol.notna().any()
                    else "; no Morse index (SLQ)"
                )
                rows.append(
                    (
                        f"{MODEL_LABELS[model]}, width {size}",
                        f"Hessian at the measured GD endpoints ({state}): spectral weight below 0 "
                        f"at most {100 * g['negative_weight'].max():.1f}%, lowest eigenvalue "
                        f"{g['lambda_min'].min():.2e} against the largest "
                        f"{g['lambda_max'].max():.2e}{index}.",
                    )
                )
    return rows


def _index_table(tables: dict):
    mi = tables["endpoint_index"]
    if not len(mi):
        return None
    t = mi[["model", "size", "endpoint", "method", "converged", "energy"]].copy()
    t["index (raw)"] = mi["index_raw"]
    t["index (|λ| > rtol·max|λ|)"] = mi["index_tolerant"]
    t["weight below 0 (%)"] = 100 * mi["negative_weight"]
    t["λ_min"] = mi["lambda_min"]
    t["λ_max"] = mi["lambda_max"]
    return t


def _protocol(config: dict) -> list[tuple[str, str]]:
    nets, ps_c = config["networks"], config["pspin"]
    return [
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


_CAPTIONS = {
    "figures/final_energies.png": (
        "Final values of GD endpoints",
        " Empirical CDF of the final intensive values, one marker per replica (p-spin: H/N "
        "per N with -E_inf (threshold) and -E_0 (ground state); networks: final training "
        "objective per width, log axis). Legends give the converged fraction; red crosses "
        "are replicas unconverged at the step budget.",
    ),
    "figures/final_collapse.png": (
        "Rescaled final values collapse across sizes",
        " (value - mean) / sd within each ensemble, every N (left) and every width of both "
        "network families (right) on one axis, with the standard normal CDF as a guide.",
    ),
    "figures/concentration.png": (
        "Concentration with size",
        " Left: p-spin mean final H/N ± sd (thin) and ± standard error (thick) against N. "
        "Right: the spread (sd of H/N; coefficient of variation of network losses, GD and "
        "SGD) against size, log-log.",
    ),
    "figures/learning_curves.png": (
        "Learning curves",
        " Intensive energy against GD step (median over replicas, band from the 10% to the "
        "90% quantile; a replica that stopped keeps its final value).",
    ),
    "figures/halting_times.png": (
        "Halting times",
        " Steps for GD to reach the gradient tolerance, one point per replica, medians as "
        "bars; red crosses mark replicas still unconverged at the budget.",
    ),
    "figures/halting_collapse.png": (
        "Halting-time fluctuations collapse",
        " (t - mean) / sd of the halting times of converged replicas within each ensemble, "
        "all sizes on one axis (Sagun et al.: the rescaled halting times follow one law).",
    ),
    "figures/spectra.png": (
        "Hessian spectra at GD endpoints",
        " p-spin: Riemannian Hessian eigenvalues (equal bins) with the semicircle centred at "
        "-pu of radius 2 sqrt(p(p-1)); networks: spectral density (dense eigenvalues "
        "smoothed, or SLQ with its ± s.e. band across probes), log density: bulk near zero "
        "and outliers.",
    ),
    "figures/spectra_normalized.png": (
        "p-spin and network spectra on one axis",
        " Eigenvalues divided by the largest eigenvalue at each endpoint: the p-spin "
        "semicircle against the networks' spike at 0 and few large outliers.",
    ),
    "figures/networks.png": (
        "Networks on held-out data",
        " Training and held-out loss of the endpoints against width (median, 10–90% band; "
        "GD solid, SGD dashed) and the held-out accuracy of every digits endpoint.",
    ),
    "figures/overlaps.png": (
        "Overlaps between endpoints",
        " ECDF of q between pairs of GD endpoints: p-spin q = x.y/N; networks after canonical "
        "form (sorted units, fixed signs) and in function space (correlation of outputs on "
        "held-out data).",
    ),
    "figures/index_energy.png": (
        "Index vs energy of critical points",
        " Every critical point the census found on one small instance (dots) and the GD "
        "endpoints whose dense spectrum was measured (diamonds) against the large-N law "
        "alpha(u), the semicircle CDF at 0, which vanishes below -E_inf.",
    ),
    "figures/census.png": (
        "Census counts, complexity and disconnectivity graph",
        " Top: critical points with H/N <= u found by the census (solid) against the exact "
        "finite-N Kac–Rice mean counts (dashed), and Σ(u) = (1/N) log count against the "
        "annealed complexity. Bottom: the minima joined through the census's index-1 "
        "saddles (each minimum a vertical line up to where its basin merges).",
    ),
    "figures/slices_1d.png": (
        "1D slices through a GD endpoint",
        " Geodesics on the sphere (angle in radians); filter-normalized random directions for "
        "networks (Li et al. 2018).",
    ),
    "figures/slices_2d.png": (
        "2D slices through a GD endpoint",
        " The same two directions spanning a plane (geodesic surface on the sphere).",
    ),
    "figures/paths.png": (
        "Paths between two GD endpoints",
        " Great-circle arc on the sphere, straight segment for networks; the barrier is the "
        "bump above the higher endpoint.",
    ),
    "figures/pca.png": (
        "GD trajectories on their PCA plane",
        " Three fresh GD descents of the largest size of each model, projected on the two "
        "principal directions of all their points (through the first endpoint, after Li et "
        "al. 2018).",
    ),
}

_SECTIONS = [
    (
        "Final values and their concentration",
        ("final_energies", "final_collapse", "concentration"),
    ),
    (
        "Learning curves and halting times",
        ("learning_curves", "halting_times", "halting_collapse"),
    ),
    ("Hessian spectra at the endpoints", ("spectra", "spectra_normalized")),
    ("Networks on held-out data", ("networks",)),
    ("Overlaps between endpoints", ("overlaps",)),
    ("Critical points of a small p-spin instance", ("index_energy", "census")),
    ("Landscape slices", ("slices_1d", "slices_2d", "paths", "pca")),
    ("Dynamics", ("dynamics_energy", "dynamics_digits", "dynamics_teacher_student")),
    ("Landscape graphs: a tiny network beside a small p-spin", ("landscape_graphs",)),
]

_GRAPH_COLUMNS = [
    "system",
    "degrees_of_freedom",
    "minima",
    "minima_drawn",
    "saddles",
    "saddles_connected",
    "components",
    "E_min",
    "E_top",
    "barrier_low_median_normalized",
    "barrier_low_max_normalized",
]


def _graphs_caption(graphs: dict | None) -> dict:
    """Caption of the landscape-graphs figure (it names the unit and both systems)."""
    if graphs is None:
        return {}
    return {
        "figures/landscape_graphs.png": (
            "Disconnectivity graphs of a tiny network and of a small p-spin",
            f" Energy axis in the unit {UNIT}, per system: E is the intensive energy (the "
            "network's mean training loss with its weight-decay term; H/N for the p-spin), "
            "E_min the lowest drawn minimum, E_top the highest verified index-1 saddle "
            "joining two minima, so each graph spans 0 to 1 and the shapes (how many basins, "
            "how deep, how they merge) compare although the natural energy scales differ by "
            "orders of magnitude (E_top - E_min in the table). Each minimum is a vertical "
            "line up to the level where its basin merges with another through a saddle; "
            "only minima joined by at least one saddle connected to two verified minima are "
            "drawn (all of them when none is).",
        )
    }


def _graphs_text(graphs: dict) -> str:
    net, ps = graphs["network"], graphs["pspin"]
    c = net["counts"]
    ps_cost = (
        f"its census took {float(ps['cpu_seconds']):.1f} s of CPU"
        if "cpu_seconds" in ps
        else "it is the census instance of the section above (no extra cost)"
    )
    return (
        f"Both graphs in {UNIT} (per system; E_min and E_top in each system's own unit in "
        "the table, barriers per saddle in tables/landscape_graph_barriers.csv; "
        "barrier_low = the saddle's height above the higher of its two minima). Network: "
        f"{net['name']}, {c.get('bh_quenches', 0)} basin-hopping quenches, "
        f"{c.get('hef_attempts', 0)} hybrid eigenvector-following and {c.get('ef_attempts', 0)} "
        "Newton eigenvector-following searches for index-1 saddles, every point verified "
        "(|grad| <= 1e-10, index modulo the declared symmetries) and distinct modulo hidden-"
        "unit permutations and sign flips; catalogued in "
        f"{float(net['cpu_seconds']):.1f} s of CPU. p-spin: every critical point found from "
        f"{int(ps['starts'])} random starts, minima joined through the index-1 saddles; "
        f"{ps_cost}. Both catalogues are budget-limited: the graphs hold the minima and "
        "saddles found, not necessarily all of them." + _barrier_note(graphs)
    )


def _barrier_note(graphs: dict) -> str:
    """One sentence comparing the median escape barriers of the two graphs (common unit)."""
    rows = [r for r in graphs["summary"] if r["saddles_connected"]]
    if len(rows) < 2:
        return ""
    parts = [
        f"{r['barrier_low_median_normalized']:.3g} ({r['system'].split(',')[0]})" for r in rows
    ]
    return (
        " Median barrier out of the higher of a saddle's two minima, in the common unit: "
        + " vs ".join(parts)
        + "."
    )


def _dynamics_captions(dyn: dict | None) -> dict:
    """Captions of the dynamics figures (they name the step, the solver and its cost)."""
    if dyn is None:
        return {}
    ex = dyn["exact"]
    step = dyn["step"]
    solved = (
        f" The exact curve (pspin.theory.dynamics, p = {dyn['p']}, T = 0, grid "
        f"{int(ex['grid'])}, to t = {float(ex['t_max']):g}) was solved once for this run in "
        f"{float(ex['seconds']):.1f} s and is stored in arrays/; its two-resolution error "
        f"estimate is at most {float(np.max(ex['error'])):.1e} (at t = "
        f"{float(ex['t'][np.argmax(ex['error'])]):.3g}), {float(ex['error'][-1]):.1e} at the end."
        if ex is not None
        else ""
    )
    warn = (
        ""
        if dyn["continuous"]
        else f" Caution: the protocol's step {step:g} is not small enough for the "
        "continuous-time limit at early times: the Euler error is O(step) (measured at step "
        "0.2 against step 0.05, p = 3, N = 200: about 0.04 in e at t = 1, 0.01 at t = 5, "
        "0.002 at t = 10), so early deviations mix the finite step with finite N."
    )
    net_time = (
        f"GD time is the nominal {dyn['gd_step']:g} x steps (Armijo backtracking shortens steps)"
        if dyn["gd_schedule"] == "armijo"
        else f"GD time = {dyn['gd_step']:g} x steps"
    )
    net = (
        "Two-time observables of the {}",
        " Left: the exact p-spin C(t_w + tau, t_w) (N = inf, T = 0; aging: the decay slows "
        "with t_w). Middle and right: the network's cosine correlation C(t_w + tau, t_w) and "
        "mean-square displacement |x(t_w + tau) - x(t_w)|^2 / dim for a ladder of waiting "
        f"times (GD solid, SGD dashed; mean ± s.e. over the first {TWO_TIME_REPLICAS} "
        f"replicas, largest width); {net_time}, SGD time = {dyn['sgd_step']:g} x steps.",
    )
    return {
        "figures/dynamics_energy.png": (
            "GD energy against time beside the exact N = inf dynamics",
            f" Left: measured GD energy per spin (mean ± s.e. band) against the continuous time "
            f"t = {step:g} x steps for every N, on the exact T = 0 Cugliandolo–Kurchan curve e(t) "
            "with -E_inf (threshold); a replica that stopped at gtol keeps its final energy. "
            "Right: e_N(t) - e_inf(t), and inset N (e_N - e_inf) (collapses where the deviation "
            "is O(1/N); finite-N systems stop at a local minimum above the threshold while the "
            "N = inf curve keeps descending toward -E_inf)." + solved + warn,
        ),
        **{
            f"figures/dynamics_{fam}.png": (net[0].format(MODEL_LABELS[fam]), net[1])
            for fam in ("digits", "teacher_student")
        },
    }


def _sections(
    written: set[str], tables: dict, dyn: dict | None = None, graphs: dict | None = None
) -> list[ReportSection]:
    out = []
    index_t = _index_table(tables)
    captions = {**_CAPTIONS, **_dynamics_captions(dyn), **_graphs_caption(graphs)}
    for title, names in _SECTIONS:
        figs = tuple(
            ReportFigure(f"figures/{n}.png", *captions[f"figures/{n}.png"])
            for n in names
            if f"figures/{n}.png" in written
        )
        if not figs:
            continue
        extra = {}
        if title.startswith("Hessian") and index_t is not None:
            extra = dict(
                text="Morse index of every measured endpoint: raw (eigenvalues below "
                "-1e-9 max|λ|) and with the tolerance rtol = "
                f"{float(tables['endpoint_index']['rtol'].iloc[0]):g} relative to max|λ|; "
                "– where not measured (SLQ spectra give no count).",
                table_html=index_t.to_html(
                    index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="–"
                ),
                table_md=markdown_table(index_t),
            )
        if title.startswith("Landscape graphs") and graphs is not None:
            import pandas as pd

            t = pd.DataFrame(graphs["summary"])[_GRAPH_COLUMNS]
            extra = dict(
                text=_graphs_text(graphs),
                table_html=t.to_html(
                    index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="–"
                ),
                table_md=markdown_table(t),
            )
        out.append(ReportSection(title, figs, columns=1, **extra))
    return out


def _dynamics(run, tables: dict, config: dict) -> dict:
    """Data of the dynamics figures; the exact curve solved once per (p, t_max) and stored."""
    c = config["pspin"]
    has_trace = any(m["family"] == "pspin" and "gd_trace" in a for m, a in tables["tasks"])
    exact = (
        exact_dynamics_arrays(run, int(c["p"]), float(c["step"]) * int(c["max_steps"]))
        if has_trace
        else None
    )
    return dynamics_data(tables, config, exact)


def make_figures_and_report(
    run, config: dict | None = None, *, workers: int | None = None, progress=None
) -> list[Path]:
    """Draw every figure and write report.html and report.md from the tables in ``run``.

    Nothing is recomputed: the tidy tables are rebuilt from the stored task arrays. The
    figures are drawn by ``workers`` processes (see :func:`draw_figures`); ``progress`` is
    called with each figure's file name as it is written. Returns the paths of the figures.
    """
    config = config if config is not None else run.config
    tables = load_tables(run, config)
    if not tables["tasks"]:
        raise ValueError(f"{run.path} holds no finished comparison task yet; nothing to plot")
    run.write_table("tables/replicas.csv", tables["replicas"])
    run.write_table("tables/summary.csv", tables["summary"])
    run.write_table("tables/spectra.csv", tables["spectra"])
    run.write_table("tables/overlaps.csv", tables["overlaps"])
    if len(tables["endpoint_index"]):
        run.write_table("tables/endpoint_index.csv", tables["endpoint_index"])
    p = int(config["pspin"]["p"])
    lines = pspin_theory_lines(p)
    dyn = _dynamics(run, tables, config)
    graphs = landscape_graphs_data(run, config)
    if graphs is not None:
        import pandas as pd

        run.write_table("tables/landscape_graphs.csv", graphs["summary"])
        run.write_table(
            "tables/landscape_graph_barriers.csv",
            pd.DataFrame(graphs["barriers"], columns=list(BARRIER_COLUMNS)),
        )
    jobs = figure_jobs(tables, lines, p, dyn, graphs)
    pngs = draw_figures(jobs, workers=workers, progress=progress)
    written = [run.write_bytes(name, png) for name, png in pngs.items()]
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
    report = dict(
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
        protocol=_protocol(config),
        summary=tables["summary"][cols],
        sections=_sections(set(pngs), tables, dyn, graphs),
        warnings=_warnings(tables),
    )
    write_report(run, **report)
    write_report_md(run, **report)
    return written
