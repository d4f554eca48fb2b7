"""Figures of ``landscapes compare``, drawn from stored tables and arrays only (no recomputation).

Every function takes the output of :func:`analysis.studies.compare.load_tables` (and theory lines as
plain numbers) and returns a matplotlib figure in the package style.
"""

from __future__ import annotations

import numpy as np

import pspin.theory
from analysis.plots import new_figure
from analysis.studies.compare.models import MODEL_LABELS

__all__ = [
    "FAMILY_ORDER",
    "plot_final_energies",
    "plot_concentration",
    "plot_halting_times",
    "plot_spectra",
    "plot_overlaps",
    "plot_index_energy",
    "index_fraction_theory",
]

FAMILY_ORDER = ("pspin", "digits", "teacher_student")


def _families(tasks) -> list[str]:
    present = {m["family"] for m, _ in tasks}
    return [f for f in FAMILY_ORDER if f in present]


def _by_family(tasks, family):
    return [(m, a) for m, a in tasks if m["family"] == family]


def _xlabel(family: str, name: str) -> str:
    return "H/N (energy per spin)" if family == "pspin" else f"{name} (mean loss per sample)"


def _colors(n: int):
    import seaborn as sns

    return sns.color_palette("viridis", max(n, 1))


def _theory_vlines(ax, theory: dict | None) -> None:
    if not theory:
        return
    ax.axvline(
        -theory["E_inf"], color="k", ls="--", lw=1.2, label=f"$-E_\\infty$ = {-theory['E_inf']:.4f}"
    )
    ax.axvline(
        -theory["E_0"], color="crimson", ls=":", lw=1.4, label=f"$-E_0$ = {-theory['E_0']:.4f}"
    )


def plot_final_energies(tables: dict, theory: dict | None = None):
    """Histograms of the final intensive GD energies per size, one panel per model family.

    p-spin: H/N with -E_inf and -E_0; networks: log10 of the final training loss. Legend
    entries give the converged fraction of each ensemble.
    """
    tasks = tables["tasks"]
    fams = _families(tasks)
    fig, axes = new_figure(ncols=len(fams), width=5.2, height=4.0)
    for ax, fam in zip(axes[0], fams, strict=True):
        group = _by_family(tasks, fam)
        cols = _colors(len(group))
        allv = np.concatenate([a["gd_final"] for _, a in group])
        if fam == "pspin":
            vals = [a["gd_final"] for _, a in group]
            lo, hi = float(np.min(allv)), float(np.max(allv))
            if theory:
                lo = min(lo, -theory["E_0"])
            bins = np.linspace(lo - 0.01, hi + 0.01, 30)
            xlabel = _xlabel(fam, "")
        else:
            vals = [np.log10(np.maximum(a["gd_final"], 1e-300)) for _, a in group]
            v = np.concatenate(vals)
            bins = np.linspace(v.min() - 0.05, v.max() + 0.05, 30)
            xlabel = "log10 final training objective (mean loss + weight decay)"
        for (m, a), v, c in zip(group, vals, cols, strict=True):
            conv = a["gd_converged"]
            unit = "N" if fam == "pspin" else "width"
            ax.hist(
                v,
                bins=bins,
                density=True,
                histtype="stepfilled",
                alpha=0.35,
                color=c,
                edgecolor=c,
                lw=1.5,
                label=f"{unit} = {m['size']} ({int(conv.sum())}/{conv.size} converged)",
            )
        if fam == "pspin":
            _theory_vlines(ax, theory)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density of replicas")
        ax.set_title(f"{MODEL_LABELS[fam]}: GD endpoints")
        ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    return fig


def plot_concentration(tables: dict, theory: dict | None = None):
    """Concentration with size: p-spin mean +- sd vs N, network losses vs width, spreads.

    Left: mean final H/N with its standard deviation (bars) and standard error against N,
    with -E_inf and -E_0. Middle: median final loss (GD and SGD, interquartile band) against
    width. Right: the spread (standard deviation for the p-spin, coefficient of variation for
    networks) against size on log-log axes.
    """
    s = tables["summary"]
    fig, axes = new_figure(ncols=3, width=4.8, height=3.9)
    ax0, ax1, ax2 = axes[0]
    ps = s[(s["model"] == "pspin") & (s["method"] == "gd")]
    if len(ps):
        ax0.errorbar(
            ps["size"], ps["mean"], yerr=ps["std"], fmt="o-", capsize=4, label="mean ± sd (GD)"
        )
        if theory:
            ax0.axhline(
                -theory["E_inf"], color="k", ls="--", lw=1.2, label="$-E_\\infty$ (threshold)"
            )
            ax0.axhline(
                -theory["E_0"], color="crimson", ls=":", lw=1.4, label="$-E_0$ (ground state)"
            )
        ax0.set_xscale("log")
        ax0.set_xticks(ps["size"].tolist())
        ax0.set_xticklabels([str(v) for v in ps["size"]])
        ax0.minorticks_off()
        ax0.legend(fontsize=8)
    ax0.set_xlabel("N (number of spins)")
    ax0.set_ylabel("final H/N (energy per spin)")
    ax0.set_title("p-spin: GD final energy vs N")
    import seaborn as sns

    pal = sns.color_palette("colorblind")
    r = tables["replicas"]
    nets = r[r["model"] != "pspin"]
    k = 0
    for fam in FAMILY_ORDER[1:]:
        for method, ls in (("gd", "-"), ("sgd", "--")):
            g = nets[(nets["model"] == fam) & (nets["method"] == method)]
            if not len(g):
                continue
            q = g.groupby("size")["final_energy"].quantile([0.25, 0.5, 0.75]).unstack()
            c = pal[k % len(pal)]
            ax1.plot(
                q.index,
                q[0.5],
                ls,
                marker="o",
                color=c,
                label=f"{MODEL_LABELS[fam]} ({method.upper()})",
            )
            ax1.fill_between(q.index, q[0.25], q[0.75], color=c, alpha=0.2)
            k += 1
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("hidden width")
    ax1.set_ylabel("final objective (mean loss + weight decay)")
    ax1.set_title("networks: median and IQR vs width")
    if k:
        ax1.legend(fontsize=7.5)
    if len(ps):
        ax2.loglog(ps["size"], ps["std"], "o-", color="k", label="p-spin: sd of H/N vs N")
        n0 = ps["size"].to_numpy(dtype=float)
        ref = ps["std"].to_numpy()[0] * np.sqrt(n0[0] / n0)
        ax2.loglog(n0, ref, color="gray", ls=":", lw=1, label="$\\propto N^{-1/2}$ (guide)")
    s_gd = s[(s["model"] != "pspin")]
    k = 0
    for fam in FAMILY_ORDER[1:]:
        for method, ls in (("gd", "-"), ("sgd", "--")):
            g = s_gd[(s_gd["model"] == fam) & (s_gd["method"] == method)]
            if len(g):
                ax2.loglog(
                    g["size"],
                    g["cv"],
                    ls,
                    marker="s",
                    color=pal[k % len(pal)],
                    label=f"{MODEL_LABELS[fam]} ({method.upper()}): CV vs width",
                )
            k += 1 if len(g) else 0
    ax2.set_xlabel("size (N for the p-spin, width for networks)")
    ax2.set_ylabel("spread (sd of H/N; CV = sd/mean of loss)")
    ax2.set_title("spread of final values vs size")
    ax2.legend(fontsize=6.5)
    fig.tight_layout()
    return fig


def plot_halting_times(tables: dict):
    """GD halting times (steps to reach gtol) per size and model; unconverged counted apart."""
    r = tables["replicas"]
    g = r[r["method"] == "gd"]
    fams = [f for f in FAMILY_ORDER if f in set(g["model"])]
    fig, axes = new_figure(ncols=len(fams), width=4.6, height=3.8)
    for ax, fam in zip(axes[0], fams, strict=True):
        sub = g[g["model"] == fam]
        sizes = sorted(sub["size"].unique())
        data = [sub[(sub["size"] == s) & sub["converged"]]["steps"].to_numpy() for s in sizes]
        unconv = [int((~sub[sub["size"] == s]["converged"]).sum()) for s in sizes]
        pos = np.arange(len(sizes))
        for i, d in enumerate(data):
            if d.size:
                ax.boxplot(d, positions=[i], widths=0.5, showfliers=True)
            budget = sub[sub["size"] == sizes[i]]["steps"].max()
            if unconv[i]:
                ax.scatter(
                    [i],
                    [budget],
                    marker="x",
                    color="crimson",
                    zorder=3,
                    label="unconverged at the step budget"
                    if i == 0 or not any(unconv[:i])
                    else None,
                )
                ax.annotate(
                    f"{unconv[i]} unconv.",
                    (i, budget),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=7,
                    color="crimson",
                )
        ax.set_xticks(pos)
        ax.set_xticklabels([str(s) for s in sizes])
        ax.set_yscale("log")
        ax.set_xlabel("N (spins)" if fam == "pspin" else "hidden width")
        ax.set_ylabel("GD halting time (steps to gtol)")
        ax.set_title(MODEL_LABELS[fam])
        if any(unconv):
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_spectra(tables: dict, theory: dict | None = None, p: int = 3):
    """Hessian spectra at GD endpoints, models side by side (largest size of each family).

    p-spin: histogram of the Riemannian Hessian eigenvalues pooled over the measured
    endpoints, with the semicircle of radius 2 sqrt(p(p-1)) centred at -p u (u the mean
    endpoint H/N). Networks: the spectral measure (dense eigenvalues or SLQ Ritz nodes, with
    their weights) on a symmetric-log axis, log-density, showing the bulk near 0 and outliers.
    """
    tasks = tables["tasks"]
    fams = _families(tasks)
    fig, axes = new_figure(ncols=len(fams), width=5.0, height=3.9)
    for ax, fam in zip(axes[0], fams, strict=True):
        group = [(m, a) for m, a in _by_family(tasks, fam) if a["spec_nodes"].size]
        if not group:
            ax.set_axis_off()
            continue
        m, a = max(group, key=lambda t: t[0]["size"])
        nodes, wts = a["spec_nodes"], a["spec_weights"]
        ok = np.isfinite(nodes)
        w = nodes[ok]
        wt = wts[ok] / nodes.shape[0]
        n_end = nodes.shape[0]
        if fam == "pspin":
            ax.hist(
                w,
                bins=40,
                weights=wt,
                density=True,
                alpha=0.6,
                label=f"eigenvalues, {n_end} endpoint(s)",
            )
            if theory:
                u = float(np.mean(a["spec_energy"]))
                law = pspin.theory.hessian_spectrum(u, p)
                R = theory["radius"]
                t = np.linspace(-p * u - R * 1.05, -p * u + R * 1.05, 400)
                ax.plot(
                    t,
                    law.density(t),
                    "k-",
                    lw=1.5,
                    label=f"semicircle at $-pu$ = {-p * u:.2f}, R = {R:.2f}",
                )
                ax.axvline(0, color="gray", lw=0.8)
            ax.set_xlabel("eigenvalue of the Riemannian Hessian of H")
            ax.set_ylabel("density of eigenvalues")
            idx = a["spec_index"]
            ax.set_title(f"p-spin N = {m['size']}: index {', '.join(map(str, idx))}", fontsize=10)
        else:
            absw = np.abs(w[w != 0])
            lin = 10.0 ** np.floor(
                np.log10(max(float(np.median(absw)) if absw.size else 1e-8, 1e-12))
            )
            top = max(float(w.max()), lin * 10)
            pos = np.logspace(np.log10(lin), np.log10(top), 22)
            parts = [np.linspace(-lin, lin, 7), pos]
            if w.min() < -lin:
                parts.append(-np.logspace(np.log10(lin), np.log10(-float(w.min())), 12))
            edges = np.unique(np.concatenate(parts))
            ax.hist(
                w,
                bins=edges,
                weights=wt / wt.sum(),
                alpha=0.6,
                color="C2",
                label=f"{m.get('spectrum_method', '')} spectrum, {n_end} endpoint(s)",
            )
            ax.set_xscale("symlog", linthresh=lin)
            ax.set_yscale("log")
            ax.set_xlabel(f"Hessian eigenvalue (symlog, linear |λ| < {lin:.0e})")
            ax.set_ylabel("fraction of spectral weight per bin")
            neg = float(np.sum(wt[w < 0]) / wt.sum())
            conv = a["gd_converged"][a["spec_endpoint"]]
            state = (
                "converged endpoints"
                if conv.all()
                else f"{int((~conv).sum())} of {conv.size} endpoints UNCONVERGED"
            )
            ax.set_title(
                f"{MODEL_LABELS[fam]}, width {m['size']} (P = {m.get('n_params', '?')}), {state}\n"
                f"weight below 0: {100 * neg:.1f}%, "
                f"$\\lambda_{{min}}/\\lambda_{{max}}$ = {w.min() / w.max():.1e}",
                fontsize=8.5,
            )
        ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_overlaps(tables: dict):
    """P(q) of the overlaps between GD endpoints: p-spin, networks in parameters and in function.

    Panels: p-spin q = x.y/N per N; networks q of canonical parameter vectors per width; the
    function-space overlap (correlation of outputs on held-out data) per width.
    """
    q = tables["overlaps"]
    panels = []
    if len(q):
        if len(q[q["model"] == "pspin"]):
            panels.append(
                ("pspin", "q_param", "p-spin: q = x·y / N", "overlap q between endpoints")
            )
        for fam in FAMILY_ORDER[1:]:
            if len(q[q["model"] == fam]):
                panels.append(
                    (
                        fam,
                        "q_param",
                        f"{MODEL_LABELS[fam]}: canonical parameters",
                        "cosine of canonical parameter vectors",
                    )
                )
                panels.append(
                    (
                        fam,
                        "q_func",
                        f"{MODEL_LABELS[fam]}: function space",
                        "correlation of outputs on held-out data",
                    )
                )
    fig, axes = new_figure(ncols=max(len(panels), 1), width=4.0, height=3.6)
    for ax, (fam, kind, title, xlabel) in zip(axes[0], panels, strict=False):
        sub = q[(q["model"] == fam) & (q["kind"] == kind)]
        sizes = sorted(sub["size"].unique())
        cols = _colors(len(sizes))
        lo, hi = float(sub["q"].min()), float(sub["q"].max())
        bins = np.linspace(min(lo, -0.05) if fam == "pspin" else lo, hi + 1e-9, 30)
        for s, c in zip(sizes, cols, strict=True):
            ax.hist(
                sub[sub["size"] == s]["q"],
                bins=bins,
                density=True,
                histtype="step",
                lw=1.6,
                color=c,
                label=("N" if fam == "pspin" else "width") + f" = {s}",
            )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("P(q)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def index_fraction_theory(u, p: int) -> np.ndarray:
    """``alpha(u)``: the share of negative Hessian eigenvalues at a critical point of H/N = u.

    :func:`pspin.theory.index_fraction`: the semicircle CDF at 0 (centre -p u, radius
    2 sqrt(p(p-1))).
    """
    return np.asarray(pspin.theory.index_fraction(np.asarray(u, dtype=float), p), dtype=float)


def plot_index_energy(tables: dict, theory: dict | None = None, p: int = 3):
    """Index fraction vs H/N: census critical points, GD endpoints and the law ``alpha(u)``.

    Census points (every critical point found on one small instance, ``tables["census"]``)
    at index / (N - 1) against their H/N; GD endpoints whose dense spectrum was measured at
    their index / (N - 1); the large-N law ``alpha(u)`` (semicircle CDF at 0) with -E_inf and
    -E_0.
    """
    fig, axes = new_figure(width=6.4, height=4.4)
    ax = axes[0, 0]
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
        cols = _colors(ps["size"].nunique())
        for c, (size, g) in zip(cols, ps.groupby("size"), strict=True):
            ax.scatter(
                g["energy"],
                g["index"] / (size - 1),
                marker="D",
                s=36,
                color=c,
                edgecolor="k",
                zorder=3,
                label=f"GD endpoints, N = {size} (index {', '.join(map(str, g['index']))})",
            )
            lo = min(lo, float(g["energy"].min()) - 0.05)
    u = np.linspace(lo, hi, 400)
    ax.plot(u, index_fraction_theory(u, p), "k-", lw=1.6, label="$\\alpha(u)$, N $\\to\\infty$")
    if theory:
        ax.axvline(-theory["E_inf"], color="k", ls="--", lw=1.0, label="$-E_\\infty$")
        ax.axvline(-theory["E_0"], color="crimson", ls=":", lw=1.3, label="$-E_0$")
    ax.set_xlabel("H/N (energy per spin)")
    ax.set_ylabel("index / (N - 1) (fraction of negative eigenvalues)")
    ax.set_title(f"p = {p} spherical p-spin: index vs energy of critical points")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
