"""Figures of critical-point censuses: counts per index against theory, saturation curves."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure

__all__ = ["plot_counts_by_index", "plot_saturation", "plot_index_energy"]


def plot_counts_by_index(ens, title: str = ""):
    """Disorder-averaged count per index with error bars, beside the theory (Kac–Rice).

    ``ens`` is an :class:`analysis.critical.CensusEnsemble`. Returns the figure.
    """
    fig, axes = new_figure(1, 1, width=6.0, height=4.0)
    ax = axes[0, 0]
    k = np.arange(ens.mean.size)
    ax.errorbar(
        k,
        ens.mean,
        yerr=ens.stderr,
        fmt="o",
        capsize=3,
        label=f"census, mean over {ens.n_samples} samples (± 1 s.e.)",
    )
    if ens.theory is not None:
        ax.plot(k, ens.theory, "s--", mfc="none", label="Kac–Rice mean (exact, finite N)")
    ax.set_xlabel("index k (negative Hessian eigenvalues)")
    ax.set_ylabel("number of critical points per sample")
    ax.set_xticks(k)
    tot = f"total {ens.total_mean:.1f} ± {ens.total_stderr:.1f}"
    if ens.theory_total is not None:
        tot += f" (theory {ens.theory_total:.2f})"
    ax.set_title((title + "\n" if title else "") + tot, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def plot_saturation(censuses, title: str = ""):
    """Distinct critical points found against starts, one line per census."""
    fig, axes = new_figure(1, 1, width=6.0, height=4.0)
    ax = axes[0, 0]
    for i, c in enumerate(censuses):
        s = c.saturation
        ax.plot(s[:, 0], s[:, 1], "-", lw=1, alpha=0.7, label=None if i else "one census each")
    ax.set_xlabel("random starts")
    ax.set_ylabel("distinct critical points found")
    ax.set_title(title or "saturation of the census", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def plot_index_energy(census, intensive_name: str = "H/N", theory=None):
    """Index fraction k/d against intensive energy of every point (optional theory curve).

    ``theory`` is ``(u, alpha)`` arrays, e.g. the p-spin law alpha(u).
    """
    fig, axes = new_figure(1, 1, width=6.0, height=4.0)
    ax = axes[0, 0]
    d = max(census.counts_by_index.size - 1, 1)
    ax.plot(census.energies, census.indices / d, "o", ms=3, alpha=0.6, label="critical points")
    if theory is not None:
        ax.plot(theory[0], theory[1], "-", label="theory α(u)")
    ax.set_xlabel(f"{intensive_name} (intensive energy)")
    ax.set_ylabel("index fraction k / d")
    ax.legend(fontsize=8)
    return fig
