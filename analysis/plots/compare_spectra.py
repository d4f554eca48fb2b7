"""Figures of ``landscapes compare``: Hessian spectra, overlaps, networks on held-out data, census.

Like :mod:`analysis.plots.compare`: top-level functions of plain data (the output of
:func:`analysis.studies.compare.load_tables`, theory as numbers), one-panel functions take
``ax=``. Spectral densities are lines (with their standard error across SLQ probes as a
band, clipped to the plotted range), never histograms of unequal bins.
"""

from __future__ import annotations

import numpy as np

import pspin.theory
from analysis.plots import panel_axes, panel_grid
from analysis.plots.compare import (
    FAMILY_ORDER,
    _by_family,
    _colors,
    _families,
    draw_ecdf,
    index_fraction_theory,
)
from analysis.spectrum import default_bandwidth, gaussian_smooth
from analysis.studies.compare.models import MODEL_LABELS

__all__ = [
    "endpoint_densities",
    "draw_pspin_spectrum",
    "draw_network_spectrum",
    "draw_normalized_spectra",
    "draw_overlaps",
    "draw_index_energy",
    "draw_census_counts",
    "draw_census_complexity",
    "plot_spectra",
    "plot_normalized_spectra",
    "plot_overlaps",
    "plot_networks",
    "plot_index_energy",
    "plot_census",
    "census_graph",
]

_FLOOR = 1e-4  # log-density axes show densities down to this fraction of the peak


def endpoint_densities(a: dict, grid: np.ndarray | None = None, n_grid: int = 400):
    """Spectral densities of the measured endpoints of one task on one common grid.

    SLQ endpoints use their stored density and standard error across probes (interpolated
    onto the grid, 0 outside their own grid); dense endpoints (and SLQ endpoints of runs
    stored before the densities were) are Gaussian-smoothed eigenvalues with a zero band.
    Returns ``(grid, densities (M, G), stderr (M, G))``.
    """
    nodes, wts = np.asarray(a["spec_nodes"], float), np.asarray(a["spec_weights"], float)
    ok = np.isfinite(nodes)
    lo, hi = float(np.min(nodes[ok])), float(np.max(nodes[ok]))
    n_res = int(ok.sum(axis=1).max())
    bw = default_bandwidth(lo, hi, n_res)
    if grid is None:
        grid = np.linspace(lo - 4 * bw, hi + 4 * bw, n_grid)
    dens, ses = [], []
    for j in range(nodes.shape[0]):
        g = a["slq_grid"][j] if "slq_grid" in a else None
        if g is not None and np.all(np.isfinite(g)):
            dens.append(np.interp(grid, g, a["slq_density"][j], left=0.0, right=0.0))
            ses.append(np.interp(grid, g, a["slq_density_se"][j], left=0.0, right=0.0))
        else:
            w = wts[j] / np.nansum(wts[j])
            dens.append(gaussian_smooth(nodes[j], w, grid, bw))
            ses.append(np.zeros_like(grid))
    return grid, np.stack(dens), np.stack(ses)


def _log_band(ax, x, d, se, color, label):
    """A density line on a log axis with its ± s.e. band clipped to the plotted range."""
    peak = float(np.max(d)) if d.size else 1.0
    floor = _FLOOR * peak
    seen = d >= floor  # below the floor the curve is off the plotted range: not drawn
    ax.plot(x, np.where(seen, d, np.nan), color=color, lw=1.4, label=label)
    if np.any(se > 0):
        ax.fill_between(
            x,
            np.clip(d - se, floor, None),
            np.clip(d + se, floor, None),
            where=seen,
            color=color,
            alpha=0.25,
            lw=0,
        )
    return floor, peak


def draw_pspin_spectrum(a: dict, meta: dict, theory: dict | None, p: int, *, ax=None):
    """Riemannian Hessian eigenvalues at the measured p-spin endpoints (equal-width histogram)
    with the semicircle of radius 2 sqrt(p(p-1)) centred at -p u. Returns the Axes."""
    _, ax = panel_axes(ax)
    nodes = np.asarray(a["spec_nodes"], float)
    w = nodes[np.isfinite(nodes)]
    M = nodes.shape[0]
    ax.hist(w, bins=40, density=True, alpha=0.6, label=f"eigenvalues, {M} endpoint(s) pooled")
    if theory:
        u = float(np.mean(a["spec_energy"]))
        law = pspin.theory.hessian_spectrum(u, p)
        R = theory["radius"]
        t = np.linspace(-p * u - R, -p * u + R, 400)
        ax.plot(
            t,
            law.density(t),
            "k-",
            lw=1.5,
            label=f"semicircle at $-pu$ = {-p * u:.2f}, R = {R:.2f}",
        )
    ax.axvline(0, color="gray", lw=0.8)
    idx = [int(i) for i in a["spec_index"]]
    ax.set_xlabel("eigenvalue of the Riemannian Hessian of H")
    ax.set_ylabel("density of eigenvalues")
    ax.set_title(
        f"spherical p-spin, N = {meta['size']}: Hessian spectrum at {M} GD endpoint(s)\n"
        f"Morse index (negative eigenvalues) of each: {', '.join(map(str, idx))}",
        fontsize=9.5,
    )
    ax.legend(fontsize=7.5, loc="upper left")
    return ax


def draw_network_spectrum(a: dict, meta: dict, *, ax=None):
    """Hessian spectral density of a network at its measured endpoints: one line per
    endpoint (SLQ: with its ± s.e. band across probes), log density on a linear axis, so
    the bulk near 0 and the outliers both show. Returns the Axes."""
    _, ax = panel_axes(ax)
    fam = meta["family"]
    grid, dens, ses = endpoint_densities(a)
    method = meta.get("spectrum_method", "")
    cols = _colors(dens.shape[0] + 1)
    floor, peak = np.inf, 0.0
    for j in range(dens.shape[0]):
        f, pk = _log_band(
            ax, grid, dens[j], ses[j], cols[j], f"endpoint {int(a['spec_endpoint'][j])} ({method})"
        )
        floor, peak = min(floor, f), max(peak, pk)
    ax.set_yscale("log")
    ax.set_ylim(floor, 2 * peak)
    ax.set_xlim(grid[0], grid[-1])
    ax.axvline(0, color="gray", lw=0.8)
    nodes, wts = np.asarray(a["spec_nodes"], float), np.asarray(a["spec_weights"], float)
    ok = np.isfinite(nodes)
    neg = float(np.sum(wts[ok][nodes[ok] < 0]) / np.sum(wts[ok]))
    conv = np.asarray(a["gd_converged"], bool)[np.asarray(a["spec_endpoint"], int)]
    state = (
        "converged endpoints"
        if conv.all()
        else f"{int((~conv).sum())} of {conv.size} endpoints UNCONVERGED"
    )
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("spectral density (log)")
    ax.set_title(
        f"{MODEL_LABELS[fam]}, width {meta['size']} (P = {meta.get('n_params', '?')}): {state}\n"
        f"weight below 0: {100 * neg:.1f}%, "
        f"$\\lambda_{{min}}/\\lambda_{{max}}$ = {np.min(nodes[ok]) / np.max(nodes[ok]):.1e}",
        fontsize=9,
    )
    ax.legend(fontsize=7.5, loc="upper right")
    return ax


def _largest(tables: dict, fam: str):
    group = [(m, a) for m, a in _by_family(tables["tasks"], fam) if a["spec_nodes"].size]
    return max(group, key=lambda t: int(t[0]["size"])) if group else None


def plot_spectra(tables: dict, theory: dict | None = None, p: int = 3):
    """Hessian spectra at GD endpoints of the largest size of each family, one panel each."""
    have = [(f, _largest(tables, f)) for f in _families(tables["tasks"])]
    have = [(f, t) for f, t in have if t is not None]
    fig, axes = panel_grid(len(have))
    for ax, (fam, (m, a)) in zip(axes, have, strict=True):
        if fam == "pspin":
            draw_pspin_spectrum(a, m, theory, p, ax=ax)
        else:
            draw_network_spectrum(a, m, ax=ax)
    return fig


def draw_normalized_spectra(tables: dict, *, ax=None):
    """Spectral densities of every family (largest size) on ONE axis, eigenvalues divided
    by the largest eigenvalue of each endpoint (so 1 is the top of every spectrum);
    densities averaged over the endpoints. Returns the Axes."""
    _, ax = panel_axes(ax)
    x = np.linspace(-1.05, 1.05, 600)
    lo, hi = np.inf, 0.0
    for k, fam in enumerate(FAMILY_ORDER):
        got = _largest(tables, fam) if fam in _families(tables["tasks"]) else None
        if got is None:
            continue
        m, a = got
        nodes, wts = np.asarray(a["spec_nodes"], float), np.asarray(a["spec_weights"], float)
        dens = []
        for j in range(nodes.shape[0]):
            ok = np.isfinite(nodes[j])
            top = float(np.max(nodes[j][ok]))
            if not top > 0:
                continue
            n = nodes[j][ok] / top
            w = wts[j][ok] / np.sum(wts[j][ok])
            dens.append(gaussian_smooth(n, w, x, default_bandwidth(float(n.min()), 1.0, n.size)))
        if not dens:
            continue
        d = np.mean(dens, axis=0)
        unit = "N" if fam == "pspin" else "width"
        f, pk = _log_band(
            ax, x, d, np.zeros_like(d), f"C{k}", f"{MODEL_LABELS[fam]}, {unit} = {m['size']}"
        )
        lo, hi = min(lo, f), max(hi, pk)
    if hi > 0:
        ax.set_yscale("log")
        ax.set_ylim(lo, 2 * hi)
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_xlabel("eigenvalue / largest eigenvalue at the same endpoint")
    ax.set_ylabel("spectral density (log)")
    ax.set_title(
        "Hessian spectra of p-spin and networks on one axis, normalized by $\\lambda_{max}$",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_normalized_spectra(tables: dict):
    """One panel: :func:`draw_normalized_spectra`."""
    fig, (ax,) = panel_grid(1, width=13.0, row_height=4.6)
    draw_normalized_spectra(tables, ax=ax)
    return fig


def draw_overlaps(tables: dict, family: str | None, kind: str, *, ax=None):
    """ECDFs of the overlaps between GD endpoints: the p-spin (``family="pspin"``, one curve
    per N) or every network family (``family=None``, colour = width, dashes = family) in
    parameters (``kind="q_param"``, canonical form) or function space (``"q_func"``)."""
    _, ax = panel_axes(ax)
    q = tables["overlaps"]
    if family == "pspin":
        sub = q[(q["model"] == "pspin") & (q["kind"] == kind)]
        sizes = sorted(sub["size"].unique())
        for s, c in zip(sizes, _colors(len(sizes)), strict=True):
            v = sub[sub["size"] == s]["q"].to_numpy()
            draw_ecdf(v, ax=ax, color=c, label=f"N = {s} ({v.size} pairs)", marker=".")
        ax.set_xlabel("overlap q = x·y / N between endpoints")
        ax.set_title("p-spin: overlaps of GD endpoints", fontsize=10)
    else:
        sub = q[(q["model"] != "pspin") & (q["kind"] == kind)]
        widths = sorted(sub["size"].unique())
        cols = dict(zip(widths, _colors(len(widths)), strict=True))
        for fam in FAMILY_ORDER[1:]:
            for w in widths:
                v = sub[(sub["model"] == fam) & (sub["size"] == w)]["q"].to_numpy()
                if v.size:
                    draw_ecdf(
                        v,
                        ax=ax,
                        color=cols[w],
                        ls="-" if fam == "digits" else "--",
                        marker="o" if fam == "digits" else "s",
                        label=f"{MODEL_LABELS[fam]}, width {w}",
                    )
        if kind == "q_param":
            ax.set_xlabel("overlap: cosine of canonical parameter vectors")
            ax.set_title("networks: overlaps of endpoints in canonical parameters", fontsize=10)
        else:
            ax.set_xlabel("overlap: correlation of outputs on held-out data")
            ax.set_title("networks: overlaps of endpoints in function space", fontsize=10)
    ax.set_ylabel("fraction of pairs ≤ q (ECDF)")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_overlaps(tables: dict):
    """Overlaps between GD endpoints: p-spin, networks in parameters and in function space."""
    q = tables["overlaps"]
    panels = []
    if len(q):
        if len(q[q["model"] == "pspin"]):
            panels.append(("pspin", "q_param"))
        for kind in ("q_param", "q_func"):
            if len(q[(q["model"] != "pspin") & (q["kind"] == kind)]):
                panels.append((None, kind))
    fig, axes = panel_grid(len(panels))
    for ax, (fam, kind) in zip(axes, panels, strict=True):
        draw_overlaps(tables, fam, kind, ax=ax)
    return fig


def _net_stat(tables: dict, key: str):
    """Rows (family, width, method, values) of an endpoint statistic stored per replica."""
    rows = []
    for fam in FAMILY_ORDER[1:]:
        for m, a in _by_family(tables["tasks"], fam):
            for method in ("gd", "sgd"):
                k = f"{method}_{key}"
                if k in a:
                    rows.append((fam, int(m["size"]), method, np.asarray(a[k], float)))
    return rows


def plot_networks(tables: dict):
    """Networks on training and held-out data: final train and test loss against width
    (median and 10–90% band, GD solid, SGD dashed) and test accuracy of every replica
    (classification only). Returns None when no held-out values are stored."""
    test = _net_stat(tables, "test_loss")
    if not test:
        return None
    train = _net_stat(tables, "train_loss")
    acc = _net_stat(tables, "test_accuracy")
    fig, axes = panel_grid(2 if acc else 1)
    ax = axes[0]
    k = 0
    for fam in FAMILY_ORDER[1:]:
        for method in ("gd", "sgd"):
            c = f"C{k % 10}"
            for rows, what, marker, ls in (
                (train, "train", "o", "-"),
                (test, "held-out", "s", "--"),
            ):
                sel = [(w, v) for f, w, mth, v in rows if f == fam and mth == method]
                if not sel:
                    continue
                w = np.array([t[0] for t in sel], float)
                q = np.array([np.quantile(t[1], [0.1, 0.5, 0.9]) for t in sel])
                ax.plot(
                    w,
                    q[:, 1],
                    ls,
                    marker=marker,
                    color=c,
                    label=f"{MODEL_LABELS[fam]}, {method.upper()}, {what}",
                )
                ax.fill_between(w, q[:, 0], q[:, 2], color=c, alpha=0.15, lw=0)
            k += 1
    ws = sorted({w for _, w, _, _ in test})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ws)
    ax.set_xticklabels([str(w) for w in ws])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("hidden width")
    ax.set_ylabel("mean loss (no weight decay)")
    ax.set_title(
        "networks: training (solid) and held-out (dashed) loss of the endpoints", fontsize=10
    )
    ax.legend(fontsize=6.5, loc="best")
    if acc:
        ax = axes[1]
        rng = np.random.default_rng(0)  # jitter only
        for j, (method, c) in enumerate((("gd", "C0"), ("sgd", "C3"))):
            sel = [(w, v) for f, w, mth, v in acc if mth == method]
            for i, (w, v) in enumerate(sel):
                x = np.log2(w) + (j - 0.5) * 0.25 + rng.uniform(-0.06, 0.06, v.size)
                ax.plot(
                    x,
                    100 * v,
                    "o",
                    ms=4,
                    alpha=0.7,
                    color=c,
                    label=f"{method.upper()} endpoint" if i == 0 else None,
                )
                ax.plot(
                    np.log2(w) + (j - 0.5) * 0.25 + np.array([-0.1, 0.1]),
                    [100 * np.median(v)] * 2,
                    color="k",
                    lw=2,
                )
        ws = sorted({w for _, w, _, _ in acc})
        ax.set_xticks(np.log2(ws))
        ax.set_xticklabels([str(w) for w in ws])
        ax.set_xlabel("hidden width")
        ax.set_ylabel("held-out accuracy (%)")
        ax.set_title(
            "MLP on digits: held-out accuracy of every endpoint (bars: medians)", fontsize=10
        )
        ax.legend(fontsize=7.5, loc="lower right")
    return fig


def draw_index_energy(tables: dict, theory: dict | None = None, p: int = 3, *, ax=None):
    """Index fraction vs H/N: census critical points, GD endpoints and the law ``alpha(u)``."""
    _, ax = panel_axes(ax)
    cen = tables.get("census")
    lo, hi = -2.0, 2.0
    if cen is not None:
        m, a = cen
        n = int(m["size"])
        e, k = a["energies"], a["indices"]
        ax.scatter(
            e,
            k / (n - 1),
            s=9,
            alpha=0.45,
            color="C0",
            lw=0,
            label=f"census, N = {n}: {e.size} critical points ({m['starts']} starts)",
        )
        lo, hi = float(e.min()) - 0.1, float(e.max()) + 0.1
    sp = tables["spectra"]
    if len(sp):
        ps = sp[(sp["model"] == "pspin") & (sp["index"] >= 0)]
        for c, (size, g) in zip(_colors(ps["size"].nunique()), ps.groupby("size"), strict=True):
            ax.scatter(
                g["energy"],
                g["index"] / (size - 1),
                marker="D",
                s=36,
                color=c,
                edgecolor="k",
                zorder=3,
                label=f"GD endpoints, N = {size}: Morse index {', '.join(map(str, g['index']))}",
            )
            lo = min(lo, float(g["energy"].min()) - 0.05)
    u = np.linspace(lo, hi, 400)
    ax.plot(u, index_fraction_theory(u, p), "k-", lw=1.6, label="$\\alpha(u)$, N $\\to\\infty$")
    if theory:
        ax.axvline(-theory["E_inf"], color="k", ls="--", lw=1.0, label="$-E_\\infty$")
        ax.axvline(-theory["E_0"], color="crimson", ls=":", lw=1.3, label="$-E_0$")
    ax.set_xlabel("H/N (energy per spin)")
    ax.set_ylabel("index / (N - 1)")
    ax.set_title(f"p = {p} spherical p-spin: index vs energy of critical points", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_index_energy(tables: dict, theory: dict | None = None, p: int = 3):
    """One panel: :func:`draw_index_energy`."""
    fig, (ax,) = panel_grid(1, width=13.0, row_height=4.8)
    draw_index_energy(tables, theory, p, ax=ax)
    return fig


def _kac_rice_cumulative(n: int, p: int, u: np.ndarray) -> np.ndarray:
    """Exact finite-N mean counts E Crt_{N,k}((-inf, u]) on the increasing grid ``u``,
    (len(u), N), by the trapezoid rule on :func:`pspin.theory.kac_rice_density`."""
    d = pspin.theory.kac_rice_density(n, p, u)
    inc = 0.5 * (d[1:] + d[:-1]) * np.diff(u)[:, None]
    return np.vstack([np.zeros((1, d.shape[1])), np.cumsum(inc, axis=0)])


def draw_census_counts(census, p: int, *, ax=None, max_index: int = 2):
    """Cumulative counts of the census's critical points with H/N <= u, for indices
    0..``max_index`` and all indices, against the exact finite-N Kac–Rice mean counts."""
    _, ax = panel_axes(ax)
    m, a = census
    n = int(m["size"])
    e, k = np.asarray(a["energies"], float), np.asarray(a["indices"], int)
    u = np.linspace(float(e.min()) - 0.05, float(e.max()) + 0.05, 300)
    kr = _kac_rice_cumulative(n, p, u)
    for j, (label, sel, th) in enumerate(
        [(f"index {i}", k == i, kr[:, i]) for i in range(max_index + 1)]
        + [("all indices", np.ones_like(k, bool), kr.sum(axis=1))]
    ):
        c = f"C{j}"
        v = np.sort(e[sel])
        ax.step(
            np.r_[u[0], v],
            np.r_[0, np.arange(1, v.size + 1)],
            where="post",
            color=c,
            lw=1.5,
            label=f"census, {label}: {v.size}",
        )
        ax.plot(u, th, color=c, ls="--", lw=1.1)
    ax.plot([], [], "k--", lw=1.1, label=f"Kac–Rice mean count, N = {n} (exact)")
    ax.set_yscale("log")
    ax.set_ylim(0.5, None)
    ax.set_xlabel("u = H/N")
    ax.set_ylabel("critical points with H/N ≤ u")
    ax.set_title(
        f"census of one N = {n} instance: counts below u ({m['starts']} starts)", fontsize=10
    )
    ax.legend(fontsize=7, loc="upper left")
    return ax


def draw_census_complexity(census, p: int, theory: dict | None = None, *, ax=None):
    """Complexity Σ(u) = (1/N) log(count of critical points with H/N <= u): the census's
    counts, the exact finite-N Kac–Rice mean and the N -> inf annealed complexity."""
    _, ax = panel_axes(ax)
    m, a = census
    n = int(m["size"])
    e = np.sort(np.asarray(a["energies"], float))
    u = np.linspace(float(e.min()) - 0.05, float(e.max()) + 0.05, 300)
    ax.step(
        e,
        np.log(np.arange(1, e.size + 1)) / n,
        where="post",
        color="C0",
        lw=1.6,
        label=f"census: (1/N) log count, {e.size} points",
    )
    kr = _kac_rice_cumulative(n, p, u).sum(axis=1)
    pos = kr > 0
    ax.plot(u[pos], np.log(kr[pos]) / n, "C1--", lw=1.3, label=f"(1/N) log Kac–Rice mean, N = {n}")
    ax.plot(
        u,
        pspin.theory.complexity(u, p, cumulative=True),
        "k-",
        lw=1.3,
        label="$\\Theta_p(u)$, N $\\to\\infty$ (annealed)",
    )
    if theory:
        ax.axvline(-theory["E_inf"], color="k", ls=":", lw=1.0, label="$-E_\\infty$")
    lo = min(-0.02, float(np.log(1) / n))
    ax.set_ylim(lo - 0.02, None)
    ax.set_xlabel("u = H/N")
    ax.set_ylabel("Σ(u): log count per spin")
    ax.set_title("complexity of critical points below u: census against theory", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def census_graph(census):
    """The minima/saddle graph stored with the census (networkx MultiGraph), or None."""
    import networkx as nx

    _, a = census
    if "minima_energies" not in a:
        return None
    g = nx.MultiGraph()
    for i, en in enumerate(np.asarray(a["minima_energies"], float)):
        g.add_node(i, energy=float(en))
    for s, (en, ends) in enumerate(zip(a["saddle_energies"], a["saddle_ends"], strict=True)):
        if np.all(np.isfinite(ends)) and ends[0] != ends[1]:
            g.add_edge(int(ends[0]), int(ends[1]), energy=float(en), saddle=s)
    return g


def plot_census(tables: dict, theory: dict | None = None, p: int = 3):
    """The comparison's census: counts below u and Σ(u) against theory, and the
    disconnectivity graph of its minima joined through index-1 saddles (when stored)."""
    from analysis.connectivity import disconnectivity_tree
    from analysis.plots.critical import plot_disconnectivity

    census = tables["census"]
    g = census_graph(census)
    fig, axes = panel_grid(3 if g is not None and g.number_of_edges() else 2, wide_first=False)
    draw_census_counts(census, p, ax=axes[0])
    draw_census_complexity(census, p, theory, ax=axes[1])
    if len(axes) == 3:
        axes[2].remove()
        gs = axes[0].get_subplotspec().get_gridspec()
        ax = fig.add_subplot(gs[1, :])
        tree = disconnectivity_tree(g, levels=24)
        refs = {"$-E_\\infty$": -theory["E_inf"], "$-E_0$": -theory["E_0"]} if theory else None
        plot_disconnectivity(
            tree,
            title=f"disconnectivity graph: {g.number_of_nodes()} minima, "
            f"{g.number_of_edges()} index-1 saddles of the N = {census[0]['size']} census",
            reference_lines=refs,
            ax=ax,
        )
    return fig
