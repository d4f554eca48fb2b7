"""Figures of Hessian spectra: density or histogram with a theory overlay, bulk and outliers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analysis.plots import new_figure, panel_axes

__all__ = ["draw_spectrum", "plot_spectrum"]


def _theory_curve(theory, grid):
    if theory is None:
        return None
    if callable(theory):
        return grid, np.asarray(theory(grid), dtype=np.float64)
    t, y = theory
    return np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)


def draw_spectrum(
    *,
    eigenvalues=None,
    density=None,
    theory: Callable | tuple | None = None,
    theory_label: str = "theory",
    outliers=None,
    edge: float | None = None,
    xlabel: str = "Hessian eigenvalue",
    bins: int = 60,
    scale: str = "linear",
    ax=None,
):
    """One panel of a spectrum: histogram and/or density (with its ± 2 s.e. band across
    probes, clipped to the plotted range), theory, outliers and bulk edge, on a ``"linear"``
    or ``"log"`` density scale. Parameters as :func:`plot_spectrum`. Returns the Axes."""
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log'; got {scale!r}")
    _, ax = panel_axes(ax, width=5.4, height=3.9)
    ev = None if eigenvalues is None else np.asarray(eigenvalues, dtype=np.float64)
    grid = None
    peak = 1e-300
    if ev is not None:
        hv, _, _ = ax.hist(
            ev, bins=bins, density=True, alpha=0.45, color="C0", label=f"eigenvalues (n={ev.size})"
        )
        peak = max(peak, float(np.max(hv)))
        grid = np.linspace(ev.min(), ev.max(), 600)
    if density is not None:
        peak = max(peak, float(np.max(density.density)))
    floor = peak * 1e-6 if scale == "log" else 0.0
    if density is not None:
        g, y, se = density.grid, density.density, density.density_stderr
        lab = (
            f"SLQ ({density.nodes.shape[0]} probes, {int(np.max(density.steps))} steps)"
            if density.method == "slq"
            else "smoothed exact"
        )
        ax.plot(g, y, color="C1", lw=1.4, label=lab)
        if np.any(se > 0):
            ax.fill_between(
                g,
                np.maximum(y - 2 * se, floor),
                y + 2 * se,
                color="C1",
                alpha=0.25,
                lw=0,
                label="±2 s.e. across probes",
            )
        grid = g if grid is None else grid
    if theory is not None and grid is not None:
        tg = np.linspace(grid.min(), grid.max(), 800)
        t, y = _theory_curve(theory, tg)
        ax.plot(t, y, "k--", lw=1.3, label=theory_label)
        peak = max(peak, float(np.nanmax(y)))
    if outliers is not None and len(outliers):
        ax.plot(
            np.asarray(outliers),
            np.zeros(len(outliers)),
            "|",
            color="C3",
            ms=14,
            mew=2,
            label=f"outliers ({len(outliers)})",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
        )
    if edge is not None:
        ax.axvline(edge, color="C3", ls=":", lw=1.2, label="bulk edge")
    ax.set_xlabel(xlabel, fontsize=9)
    if scale == "log":
        ax.set_yscale("log")
        ax.set_ylim(max(peak * 1e-6, 1e-300), peak * 3)
        ax.set_ylabel("spectral density (log scale)", fontsize=9)
    else:
        ax.set_ylabel("spectral density (integrates to 1)", fontsize=9)
    return ax


def plot_spectrum(
    *,
    eigenvalues=None,
    density=None,
    theory: Callable | tuple | None = None,
    theory_label: str = "theory",
    outliers=None,
    edge: float | None = None,
    xlabel: str = "Hessian eigenvalue",
    title: str | None = None,
    bins: int = 60,
):
    """Spectrum figure with two panels: linear and logarithmic density scale.

    Parameters
    ----------
    eigenvalues : array, optional
        Exact eigenvalues, drawn as a normalized histogram.
    density : DensityResult, optional
        A smoothed density (exact or SLQ), drawn as a line with its probe error band.
    theory : callable or (grid, density), optional
        A theory density (e.g. a semicircle), overlaid as a dashed line.
    outliers : array, optional
        Eigenvalues counted as outliers, marked as ticks on the axis; ``edge`` (the bulk
        edge) as a vertical dotted line.
    xlabel : str
        Quantity and normalization of the horizontal axis.

    Returns
    -------
    matplotlib Figure
    """
    fig, axes = new_figure(ncols=2, width=5.4, height=3.9)
    for ax, scale in zip(axes[0], ("linear", "log"), strict=True):
        draw_spectrum(
            eigenvalues=eigenvalues,
            density=density,
            theory=theory,
            theory_label=theory_label,
            outliers=outliers,
            edge=edge,
            xlabel=xlabel,
            bins=bins,
            scale=scale,
            ax=ax,
        )
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(3, max(len(labels), 1)),
        fontsize=8,
        bbox_to_anchor=(0.5, -0.02),
        frameon=False,
    )
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
