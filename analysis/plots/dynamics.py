"""Figures of descents and samplers: final-energy histograms and energy against time."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure

__all__ = ["final_energy_histogram", "energy_vs_time"]


def final_energy_histogram(
    values,
    *,
    label: str = "H/N (energy per spin)",
    lines: dict[str, float] | None = None,
    title: str | None = None,
    groups: dict[str, np.ndarray] | None = None,
):
    """Histogram of final intensive energies, with theory values drawn as vertical lines.

    Parameters
    ----------
    values : array
        Final intensive energies (used when ``groups`` is None).
    label : str
        x-axis label, naming the quantity and its normalization.
    lines : dict, optional
        ``{legend label: value}``, e.g. ``{"-E_inf (threshold)": -1.633, "-E_0": -1.657}``.
    title : str, optional
    groups : dict, optional
        Several histograms ``{legend label: values}`` on the same axes.

    Returns
    -------
    matplotlib Figure
    """
    fig, axes = new_figure(width=6.0, height=4.0)
    ax = axes[0, 0]
    data = groups if groups else {"replicas": np.asarray(values)}
    allv = np.concatenate([np.asarray(v).ravel() for v in data.values()])
    lo, hi = float(allv.min()), float(allv.max())
    for v in (lines or {}).values():
        lo, hi = min(lo, v), max(hi, v)
    pad = 0.05 * (hi - lo + 1e-12)
    bins = np.linspace(lo - pad, hi + pad, 40)
    for name, v in data.items():
        ax.hist(np.asarray(v).ravel(), bins=bins, alpha=0.6, label=f"{name} (n={np.size(v)})")
    styles = ["--", ":", "-.", "-"]
    for i, (name, v) in enumerate((lines or {}).items()):
        ax.axvline(v, color=f"C{i + 3}", ls=styles[i % 4], lw=1.8, label=f"{name} = {v:.4f}")
    ax.set_xlabel(label)
    ax.set_ylabel("number of replicas")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def energy_vs_time(
    steps,
    energies,
    *,
    label: str = "H/N (energy per spin)",
    lines: dict[str, float] | None = None,
    title: str | None = None,
    max_curves: int = 50,
    logx: bool = True,
):
    """Energy against step for individual replicas, their mean, and theory lines.

    Parameters
    ----------
    steps : array (T,)
        Recorded steps.
    energies : array (T, K)
        Intensive energies of K replicas.
    label : str
        y-axis label.
    lines : dict, optional
        Horizontal theory lines ``{legend label: value}``.
    max_curves : int
        At most this many individual replicas are drawn (thin lines).
    logx : bool
        Logarithmic step axis (step + 1).

    Returns
    -------
    matplotlib Figure
    """
    steps = np.asarray(steps)
    E = np.asarray(energies)
    fig, axes = new_figure(width=6.0, height=4.0)
    ax = axes[0, 0]
    t = steps + 1 if logx else steps
    for k in range(min(E.shape[1], max_curves)):
        ax.plot(t, E[:, k], color="0.6", lw=0.5, alpha=0.5, label="replicas" if k == 0 else None)
    ax.plot(t, E.mean(axis=1), color="C0", lw=2, label=f"mean over {E.shape[1]} replicas")
    styles = ["--", ":", "-.", "-"]
    for i, (name, v) in enumerate((lines or {}).items()):
        ax.axhline(v, color=f"C{i + 3}", ls=styles[i % 4], lw=1.5, label=f"{name} = {v:.4f}")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step + 1" if logx else "step")
    ax.set_ylabel(label)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
