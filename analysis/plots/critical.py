"""Figures of critical-point censuses: counts per index against theory, saturation curves."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure, panel_axes

__all__ = [
    "plot_counts_by_index",
    "plot_saturation",
    "plot_index_energy",
    "plot_disconnectivity",
    "plot_barriers",
    "plot_index_vs_loss",
]


def plot_counts_by_index(ens, title: str = "", *, ax=None):
    """Disorder-averaged count per index with error bars, beside the theory (Kac–Rice).

    ``ens`` is an :class:`analysis.critical.CensusEnsemble`; ``ax`` an Axes to draw into
    (default: a new figure). Returns the figure.
    """
    fig, ax = panel_axes(ax, width=6.0, height=4.0)
    k = np.arange(ens.mean.size)
    one = ens.n_samples < 2  # one sample: no standard error (NaN), so no error bars
    ax.errorbar(
        k,
        ens.mean,
        yerr=None if one else ens.stderr,
        fmt="o",
        capsize=3,
        label="census, one sample (no s.e.)"
        if one
        else f"census, mean over {ens.n_samples} samples (± 1 s.e.)",
    )
    if ens.theory is not None:
        ax.plot(k, ens.theory, "s--", mfc="none", label="Kac–Rice mean (exact, finite N)")
    ax.set_xlabel("index k (negative Hessian eigenvalues)")
    ax.set_ylabel("number of critical points per sample")
    ax.set_xticks(k)
    tot = f"total {ens.total_mean:.1f}"
    if np.isfinite(ens.total_stderr):
        tot += f" ± {ens.total_stderr:.1f}"
    if ens.theory_total is not None:
        tot += f" (theory {ens.theory_total:.2f})"
    ax.set_title((title + "\n" if title else "") + tot, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def plot_saturation(censuses, title: str = "", *, ax=None):
    """Distinct critical points found against starts, one line per census (each in the
    legend with its final count; beyond 10 censuses one entry says how many lines)."""
    fig, ax = panel_axes(ax, width=6.0, height=4.0)
    many = len(censuses) > 10
    for i, c in enumerate(censuses):
        s = c.saturation
        if many:
            label = None if i else f"{len(censuses)} censuses, one line each"
        else:
            label = f"census {i + 1}: {int(s[-1, 1])} points after {int(s[-1, 0])} starts"
        ax.plot(s[:, 0], s[:, 1], "-", lw=1, alpha=0.7, label=label)
    ax.set_xlabel("random starts")
    ax.set_ylabel("distinct critical points found")
    ax.set_title(title or "saturation of the census", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def plot_index_energy(census, intensive_name: str = "H/N", theory=None, *, ax=None):
    """Index fraction k/d against intensive energy of every point (optional theory curve).

    ``theory`` is ``(u, alpha)`` arrays, e.g. the p-spin law alpha(u).
    """
    fig, ax = panel_axes(ax, width=6.0, height=4.0)
    d = max(census.counts_by_index.size - 1, 1)
    ax.plot(census.energies, census.indices / d, "o", ms=3, alpha=0.6, label="critical points")
    if theory is not None:
        ax.plot(theory[0], theory[1], "-", label="theory α(u)")
    ax.set_xlabel(f"{intensive_name} (intensive energy)")
    ax.set_ylabel("index fraction k / d")
    ax.legend(fontsize=8)
    return fig


def plot_disconnectivity(
    tree,
    energy_label: str = "H/N (energy per spin)",
    title: str = "",
    reference_lines: dict | None = None,
    label_minima: bool | None = None,
    *,
    ax=None,
):
    """Disconnectivity graph (Becker & Karplus; Wales) of an
    :class:`analysis.connectivity.DisconnectivityTree`.

    Each minimum is a vertical line from its energy up to the level where its basin merges
    with another; basins join at the levels of the tree. ``reference_lines`` maps labels to
    energies drawn as horizontal dashed lines (e.g. the threshold energy). Returns the figure.
    """
    from matplotlib.collections import LineCollection

    fig, ax = panel_axes(ax, width=7.0, height=5.0)
    segs = tree.segments()
    ax.add_collection(LineCollection(segs, colors="0.15", linewidths=1.0))
    ax.plot(
        tree.x_minima, tree.minima_energies, "v", ms=4, color="C0", label="minimum (line = basin)"
    )
    m = tree.n_minima
    if label_minima is None:
        label_minima = m <= 40
    if label_minima:
        for i in range(m):
            ax.annotate(
                str(i),
                (tree.x_minima[i], tree.minima_energies[i]),
                textcoords="offset points",
                xytext=(0, -10),
                ha="center",
                fontsize=7,
            )
    for j, (lab, val) in enumerate((reference_lines or {}).items()):
        ax.axhline(val, ls="--", lw=1.0, color=f"C{j + 1}", label=f"{lab} = {val:.4f}")
    refs = list((reference_lines or {}).values())
    lo = float(min([tree.minima_energies.min(), tree.levels.min(), *refs]))
    hi = float(max([tree.levels.max(), *refs]))
    pad = 0.04 * (hi - lo if hi > lo else 1.0)
    ax.set_ylim(lo - 2.5 * pad, hi + pad)
    ax.set_xlim(-0.8, max(m - 1, 0) + 0.8)
    ax.set_xticks([])
    ax.set_xlabel(f"{m} minima (ordered so that basins are contiguous; no crossing lines)")
    ax.set_ylabel(energy_label)
    sub = f"{tree.levels.size} levels"
    if tree.n_components > 1:
        sub += (
            f"; {tree.n_components} disconnected components "
            "(no stored saddle joins them below the top level)"
        )
    ax.set_title((title + "\n" if title else "") + sub, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")  # high minima sit at the top right
    return fig


def plot_barriers(profiles: dict, title: str = ""):
    """Energy along paths between two minima, one panel per system, side by side.

    ``profiles`` maps a panel title to ``(ylabel, {path label: BarrierPath})`` (see
    :mod:`analysis.barriers`); the highest point of each path is marked. Returns the figure.
    """
    n = max(len(profiles), 1)
    fig, axes = new_figure(n, 1, width=5.0, height=4.0)
    for ax, (name, (ylabel, paths)) in zip(axes[0], profiles.items(), strict=False):
        for j, (lab, pth) in enumerate(paths.items()):
            ax.plot(
                pth.s,
                pth.energies,
                "-o",
                ms=2.5,
                color=f"C{j}",
                label=f"{lab}: barrier {pth.barrier:.4g}",
            )
            ax.plot(pth.s[pth.i_max], pth.energies[pth.i_max], "*", ms=10, color=f"C{j}")
        ax.set_xlabel("normalized arc length along the path")
        ax.set_ylabel(ylabel)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_index_vs_loss(result, p: int = 3, title: str = ""):
    """Index fraction against loss for a network (left) beside the p-spin law alpha(u) (right).

    ``result`` is an :class:`analysis.studies.networks.NetworkCriticalPoints`; the right panel is
    ``pspin.theory.index_fraction(u, p)`` (semicircle CDF at 0) between the ground-state
    region and ``+E_inf``. Returns the figure.
    """
    from pspin.theory import index_fraction, threshold_energy

    fig, axes = new_figure(2, 1, width=6.0, height=4.2)
    fig.subplots_adjust(wspace=0.5)
    ax = axes[0, 0]
    sc = ax.scatter(
        result.losses,
        result.index_fractions,
        c=result.active_units,
        cmap="viridis",
        s=30,
        label="verified critical point (|grad| <= 1e-10)",
    )
    ax.legend(fontsize=8, loc="upper left")
    fig.colorbar(sc, ax=ax, label="active hidden units h'")
    rho = f"Spearman rho = {result.spearman:.2f} (p = {result.spearman_pvalue:.1e})"
    ax.set_xlabel("training loss L (mean squared error / 2 + weight decay)")
    ax.set_ylabel("index fraction k / P")
    ax.set_title(f"network: {result.n_points} verified critical points\n{rho}", fontsize=10)
    ax = axes[0, 1]
    e_inf = abs(float(threshold_energy(p)))
    u = np.linspace(-1.2 * e_inf, 1.2 * e_inf, 400)
    ax.plot(u, index_fraction(u, p), "-", label=f"alpha(u), pure p = {p} (semicircle)")
    ax.axvline(-e_inf, ls=":", c="gray", label="-E_inf (threshold)")
    ax.set_xlabel("u = H/N (energy per spin)")
    ax.set_ylabel("index fraction alpha = k / N")
    ax.set_title(f"spherical {p}-spin, N -> infinity", fontsize=10)
    ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, y=1.06)
    return fig
