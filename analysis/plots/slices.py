"""Figures of landscape slices: 1D curves, 2D contours, paths between minima."""

from __future__ import annotations

import numpy as np

from analysis.plots import panel_axes, panel_grid

__all__ = [
    "draw_slice_1d",
    "draw_slice_2d",
    "draw_path",
    "plot_slices_1d",
    "plot_slices_2d",
    "plot_paths",
    "plot_pca",
    "plot_pca_slices",
]

_TITLES = {
    "pspin": "spherical p-spin",
    "digits": "MLP on digits",
    "teacher_student": "MLP teacher-student",
}


def _title(meta: dict) -> str:
    fam = meta.get("family", "")
    unit = "N" if fam == "pspin" else "width"
    return f"{_TITLES.get(fam, fam)}, {unit} = {meta.get('size', '?')}"


def _ylabel(meta: dict) -> str:
    name = meta.get("intensive_name", "energy")
    return "H/N (energy per spin)" if name == "H/N" else f"{name} (per sample)"


def draw_slice_1d(meta: dict, arrays: dict, *, ax=None):
    """1D slices through a GD endpoint along its two random directions (one panel)."""
    _, ax = panel_axes(ax)
    for i, e in enumerate(arrays["slice1d"]):
        ax.plot(arrays["alphas"], e, lw=1.6, label=f"direction {i + 1}")
    ax.axvline(0, color="gray", lw=0.8, ls=":")
    ax.set_xlabel(meta.get("coordinate", "step"))
    ax.set_ylabel(_ylabel(meta))
    ax.set_title(
        _title(meta) + f": 1D slices ({meta.get('normalization', '')} directions)", fontsize=10
    )
    ax.legend(fontsize=7.5)
    return ax


def plot_slices_1d(slices):
    """1D slices through a GD endpoint along two random directions, one panel per model.

    ``slices`` is a list of ``(meta, arrays)`` with ``alphas`` and ``slice1d`` (2, n).
    """
    fig, axes = panel_grid(len(slices))
    for ax, (m, a) in zip(axes, slices, strict=False):
        draw_slice_1d(m, a, ax=ax)
    return fig


def draw_slice_2d(meta: dict, arrays: dict, *, ax=None):
    """2D slice (filled contours, colour bar) through a GD endpoint (one panel)."""
    fig, ax = panel_axes(ax)
    g = arrays["grid"]
    E = arrays["slice2d"]
    A, B = np.meshgrid(g, g, indexing="ij")
    cs = ax.contourf(A, B, E, levels=25, cmap="viridis")
    ax.contour(A, B, E, levels=12, colors="k", linewidths=0.4, alpha=0.6)
    ax.plot([0], [0], "w*", ms=10, mec="k", label="GD endpoint")
    cb = fig.colorbar(cs, ax=ax, pad=0.02)
    cb.set_label(_ylabel(meta), fontsize=8)
    ax.set_xlabel("direction 1: " + meta.get("coordinate", ""), fontsize=9)
    ax.set_ylabel("direction 2", fontsize=9)
    ax.set_title(_title(meta) + ": 2D slice through a GD endpoint", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def plot_slices_2d(slices):
    """2D slices (contours) through a GD endpoint, one panel per model."""
    fig, axes = panel_grid(len(slices), wide_first=False, row_height=4.8, wspace=1.9)
    for ax, (m, a) in zip(axes, slices, strict=False):
        draw_slice_2d(m, a, ax=ax)
    return fig


def draw_path(meta: dict, arrays: dict, *, ax=None):
    """Energy along the path between two GD endpoints, with the barrier (one panel)."""
    _, ax = panel_axes(ax)
    t, e = arrays["path_t"], arrays["path"]
    ax.plot(t, e, "o-", ms=3, lw=1.5, label=f"{meta.get('path_kind', '')} path")
    top = max(e[0], e[-1])
    ax.axhline(
        top, color="gray", ls=":", lw=1, label=f"barrier = {meta.get('barrier', float('nan')):.3g}"
    )
    ax.set_xlabel("path parameter t (0: endpoint 1, 1: endpoint 2)")
    ax.set_ylabel(_ylabel(meta))
    ax.set_title(_title(meta) + ": path between two GD endpoints", fontsize=10)
    ax.legend(fontsize=7.5)
    return ax


def plot_paths(slices):
    """Energy along the path between two GD endpoints (geodesic on the sphere, straight for
    networks), one panel per model, with the barrier above the higher endpoint."""
    fig, axes = panel_grid(len(slices))
    for ax, (m, a) in zip(axes, slices, strict=False):
        draw_path(m, a, ax=ax)
    return fig


def _draw_pca(ax, coords, evr, labels=None) -> None:
    """Trajectories ``coords`` (sequence of (T_i, 2), NaN rows ignored) on a PCA plane."""
    for i, c in enumerate(coords):
        c = np.asarray(c)
        c = c[np.all(np.isfinite(c), axis=1)]
        (line,) = ax.plot(
            c[:, 0],
            c[:, 1],
            "-o",
            ms=2,
            lw=1.2,
            label=labels[i] if labels else f"trajectory {i + 1}",
        )
        ax.plot(c[:1, 0], c[:1, 1], "s", color=line.get_color(), ms=6, mec="k")
        ax.plot(c[-1:, 0], c[-1:, 1], "*", color=line.get_color(), ms=11, mec="k")
    ax.plot([], [], "s", color="gray", mec="k", label="start")
    ax.plot([], [], "*", color="gray", mec="k", ms=10, label="GD endpoint")
    ax.set_xlabel(f"PC 1 ({100 * evr[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * evr[1]:.1f}% of variance)")


def plot_pca(plane, energies=None, labels=None, *, ax=None):
    """Descent trajectories on their PCA plane (:class:`analysis.slices.PCAPlane`).

    ``energies`` (optional) is a :class:`analysis.slices.Slice2D` computed on the same plane,
    drawn as contours under the trajectories.
    """
    fig, ax = panel_axes(ax, width=5.0, height=4.2)
    if energies is not None:
        A, B = np.meshgrid(energies.alphas, energies.betas, indexing="ij")
        cs = ax.contourf(A, B, energies.energies, levels=25, cmap="viridis", alpha=0.85)
        fig.colorbar(cs, ax=ax).set_label(energies.intensive_name)
    _draw_pca(ax, plane.coords, plane.explained_variance_ratio, labels)
    ax.set_title("descent trajectories on their PCA plane")
    ax.legend(fontsize=7.5)
    return fig


def plot_pca_slices(slices):
    """GD trajectories on their PCA plane, one panel per model (the stored ``pca_*`` arrays).

    ``slices`` is a list of ``(meta, arrays)``; entries without ``pca_coords`` (folders
    written before the trajectories were recorded) are left out.
    """
    have = [(m, a) for m, a in slices if "pca_coords" in a]
    fig, axes = panel_grid(len(have))
    for ax, (m, a) in zip(axes, have, strict=False):
        coords = list(a["pca_coords"])
        e = a["pca_energy"]
        labels = [
            f"replica {i + 1}: final {e[i][np.isfinite(e[i])][-1]:.4g}" for i in range(len(coords))
        ]
        _draw_pca(ax, coords, a["pca_evr"], labels)
        ax.set_title(_title(m) + ": GD trajectories on their PCA plane", fontsize=10)
        ax.legend(fontsize=7)
    return fig
