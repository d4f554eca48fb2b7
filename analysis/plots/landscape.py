"""Figures of :mod:`analysis.studies.network_landscapes`: disconnectivity graphs side by side,
index against energy beside the p-spin law, barrier heights against energy.

The disconnectivity trees themselves come from :func:`analysis.connectivity
.disconnectivity_tree`; single graphs are drawn by :func:`analysis.plots.critical
.plot_disconnectivity`. Here the trees' own segments are laid out on shared panels.
"""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure

__all__ = ["plot_disconnectivity_panels", "plot_index_vs_energy", "plot_barriers_vs_energy"]


def plot_disconnectivity_panels(panels: list[tuple[str, object]], energy_label: str):
    """Disconnectivity trees side by side, one panel each, on one energy axis.

    ``panels`` is a list of ``(title, DisconnectivityTree)`` whose energies are already in
    one comparable unit (``energy_label``; e.g. the normalized unit of
    :func:`analysis.studies.network_landscapes.normalized_connections`). Returns the figure.
    """
    from matplotlib.collections import LineCollection

    fig, axes = new_figure(len(panels), 1, width=4.6, height=4.6, sharey=True)
    for ax, (title, tree) in zip(axes[0], panels, strict=True):
        ax.add_collection(LineCollection(tree.segments(), colors="0.15", linewidths=0.9))
        ax.plot(tree.x_minima, tree.minima_energies, "v", ms=3, color="C0")
        m = tree.n_minima
        ax.set_xlim(-0.8, max(m - 1, 0) + 0.8)
        ax.set_xticks([])
        sub = f"{m} minima" + (f", {tree.n_components} components" if tree.n_components > 1 else "")
        ax.set_title(f"{title}\n{sub}", fontsize=9)
    axes[0, 0].set_ylabel(energy_label)
    axes[0, 0].set_ylim(-0.08, 1.05)
    fig.suptitle(
        "energies normalized per system: 0 = lowest minimum, 1 = highest saddle joining two minima",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_index_vs_energy(landscape, p: int = 3, pspin=None, title: str = ""):
    """Index fraction against energy for a landscape, with the p-spin's alpha(u) on the same axes.

    Bottom axis: the landscape's intensive energy (its verified critical points of every
    index, dots; gradient-flat points at index fraction -0.02, crosses). Top axis (same
    panel): the p-spin energy per spin u, with ``pspin.theory.index_fraction(u, p)`` (the
    N -> infinity law, a line) and, when ``pspin`` (a p-spin Landscape) is given, its census
    at finite N (squares). The y axis (index fraction k / d) is shared. Returns the figure.
    """
    from pspin.theory import index_fraction, threshold_energy

    fig, axes = new_figure(1, 1, width=7.0, height=4.8)
    ax = axes[0, 0]
    ax.scatter(
        landscape.census_energies,
        landscape.census_index_fractions,
        s=18,
        color="C0",
        label=f"{landscape.name}: verified critical points ({landscape.census_energies.size})",
    )
    if landscape.flat_energies.size:
        ax.scatter(
            landscape.flat_energies,
            np.full(landscape.flat_energies.size, -0.02),
            marker="x",
            color="C3",
            s=18,
            label=f"gradient-flat, not critical ({landscape.flat_energies.size})",
        )
    ax.set_xlabel(f"{landscape.name}: {landscape.energy_unit}")
    ax.set_ylabel("index fraction k / d")
    top = ax.twiny()
    e_inf = abs(float(threshold_energy(p)))
    u = np.linspace(-1.2 * e_inf, 1.2 * e_inf, 400)
    top.plot(u, index_fraction(u, p), "-", color="C1", label=f"p-spin alpha(u), p = {p}, N -> inf")
    if pspin is not None:
        top.scatter(
            pspin.census_energies,
            pspin.census_index_fractions,
            marker="s",
            s=10,
            color="C2",
            alpha=0.6,
            label=f"{pspin.name} census ({pspin.census_energies.size})",
        )
    top.set_xlabel("p-spin u = H/N (energy per spin)", color="C1")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = top.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    ax.set_ylim(-0.05, 1.05)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_barriers_vs_energy(landscape, title: str = ""):
    """Barrier heights (saddle minus minimum, both sides of each saddle) against the minimum's
    energy, and the saddle energies against the higher of their two minima. Returns the figure.
    """
    fig, axes = new_figure(2, 1, width=4.8, height=4.0)
    bar = landscape.barriers()
    ends = landscape.ends
    ax = axes[0, 0]
    for c in range(2):
        ok = ends[:, c] >= 0 if ends.size else np.zeros(0, bool)
        ax.scatter(
            landscape.minima_energies[ends[ok, c]],
            bar[ok, c],
            s=14,
            color="C0",
            label="barrier out of a minimum" if c == 0 else None,
        )
    ax.set_xlabel(f"minimum: {landscape.energy_unit}")
    ax.set_ylabel("barrier (saddle - minimum)")
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    both = np.all(ends >= 0, axis=1) if ends.size else np.zeros(0, bool)
    hi = np.maximum(
        landscape.minima_energies[ends[both, 0]], landscape.minima_energies[ends[both, 1]]
    )
    ax.scatter(hi, landscape.saddle_energies[both], s=14, color="C2")
    lim = [
        min(hi.min(initial=np.inf), landscape.saddle_energies.min(initial=np.inf)),
        max(hi.max(initial=-np.inf), landscape.saddle_energies.max(initial=-np.inf)),
    ]
    if np.all(np.isfinite(lim)):
        ax.plot(lim, lim, ":", color="gray", label="saddle = higher minimum")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"higher of the two minima: {landscape.energy_unit}")
    ax.set_ylabel("saddle energy")
    fig.suptitle(
        title or f"{landscape.name}: {int(both.sum())} saddles joining two minima", fontsize=10
    )
    fig.tight_layout()
    return fig
