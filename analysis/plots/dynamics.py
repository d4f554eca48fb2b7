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


# ------------------------------------------------------------ exact N = inf dynamics beside runs
def energy_vs_theory(study: dict, *, lines: dict[str, float] | None = None):
    """Finite-N ``e(t)`` (mean +- s.e.) on the exact curve, and the finite-N deviations.

    Left: ``e(t)`` for every N with its error band, the exact N = inf curve and horizontal
    theory ``lines`` ``{label: value}`` (e.g. -E_inf at T = 0, -1/T above T_d). Right: ``e_N(t) - e_inf(t)`` with its error band (log time): the
    O(1/N) deviation at fixed t and where the finite systems part from the limit.
    """
    sol, times = study["theory"], study["times"]
    prm = study["params"]
    fig, axes = new_figure(ncols=2, width=5.6, height=4.0)
    ax, ax2 = axes[0]
    pos = times > 0  # log time axis: the start t = 0 is left out
    tt = times[pos]
    ax.plot(sol.t[1:], sol.energy[1:], color="k", lw=2, label="exact N = inf")
    for c, (N, r) in enumerate(study["runs"].items()):
        m, s = r["energy"][pos], r["energy_err"][pos]
        ax.plot(tt, m, color=f"C{c}", lw=1.2, label=f"N = {N}")
        ax.fill_between(tt, m - s, m + s, color=f"C{c}", alpha=0.25, lw=0)
        dev = m - sol.energy_at(np.minimum(tt, sol.t_max))
        ax2.plot(tt, dev, color=f"C{c}", lw=1.2, label=f"N = {N}")
        ax2.fill_between(tt, dev - s, dev + s, color=f"C{c}", alpha=0.25, lw=0)
    for k, (name, v) in enumerate((lines or {}).items()):
        ax.axhline(v, color=f"C{k + 3}", ls="--", lw=1.2, label=f"{name} = {v:.4f}")
    ax2.axhline(0.0, color="k", lw=1)
    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_xlabel("time t = step x steps")
    ax.set_ylabel("energy per spin e(t) = H/N")
    ax2.set_ylabel("e_N(t) - e_inf(t)")
    what = "gradient descent" if prm["temperature"] == 0 else "Langevin"
    ax.set_title(f"p = {prm['p']}, T = {prm['temperature']:g}: {what} vs exact dynamics")
    ax2.set_title("finite-N deviation (band: 1 s.e.)")
    ax.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def correlation_vs_theory(study: dict):
    """``C(t_w + tau, t_w)`` against ``tau``: exact curves (lines), finite N (markers +- s.e.)."""
    tw, lag = study["waiting_times"], study["lags"]
    prm = study["params"]
    fig, axes = new_figure(width=6.4, height=4.4)
    ax = axes[0, 0]
    x = np.maximum(lag, lag[lag > 0].min() / 2 if (lag > 0).any() else 1e-3)
    marks = ["o", "s", "^", "D", "v"]
    for a, w in enumerate(tw):
        ax.plot(x, study["exact_correlation"][a], color=f"C{a}", lw=2, label=f"exact, t_w = {w:g}")
        for b, (N, r) in enumerate(study["runs"].items()):
            t2 = r["twotime"]
            ax.errorbar(
                x,
                t2.correlation[a],
                yerr=t2.correlation_err[a],
                color=f"C{a}",
                ls="none",
                marker=marks[b % len(marks)],
                ms=4,
                alpha=0.55 + 0.45 * (b + 1) / len(study["runs"]),
                label=f"N = {N}" if a == 0 else None,
            )
    ax.set_xscale("log")
    ax.set_xlabel("lag tau (tau = 0 drawn at the left edge)")
    ax.set_ylabel("C(t_w + tau, t_w) = x(t_w + tau).x(t_w) / N")
    ax.set_title(
        f"p = {prm['p']}, T = {prm['temperature']:g}: two-time correlation "
        "(aging: curves depend on t_w)"
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def network_beside_pspin(net: dict, pspin: dict | None = None):
    """Networks (GD, SGD) beside the p-spin: ``C(t_w + tau, t_w)`` and the MSD against ``tau``.

    Columns: the p-spin's exact correlation (when given), then for the network the cosine
    correlation and the mean-square displacement ``|x(t_w + tau) - x(t_w)|^2 / dim`` per
    waiting time and method (error bars over replicas).
    """
    ncol = 3 if pspin is not None else 2
    fig, axes = new_figure(ncols=ncol, width=4.8, height=4.0)
    axs = list(axes[0])
    if pspin is not None:
        ax = axs.pop(0)
        lag = pspin["lags"]
        x = np.maximum(lag, lag[lag > 0].min() / 2)
        for a, w in enumerate(pspin["waiting_times"]):
            ax.plot(x, pspin["exact_correlation"][a], color=f"C{a}", lw=2, label=f"t_w = {w:g}")
        ax.set_xscale("log")
        ax.set_xlabel("lag tau")
        ax.set_ylabel("C(t_w + tau, t_w)")
        ax.set_title(f"p-spin, exact N = inf (T = {pspin['params']['temperature']:g})")
        ax.legend(fontsize=8)
    axc, axm = axs
    ls = {"gd": "-", "sgd": "--"}
    for method, r in net["runs"].items():
        t2 = r["twotime"]
        lag = t2.lags
        x = np.maximum(lag, lag[lag > 0].min() / 2)
        for a, w in enumerate(t2.waiting_times):
            kw = dict(color=f"C{a}", ls=ls.get(method, ":"), lw=1.5, marker="o", ms=3)
            axc.errorbar(
                x,
                t2.correlation[a],
                yerr=t2.correlation_err[a],
                label=f"{method}, t_w = {w:g}",
                **kw,
            )
            ok = lag > 0
            axm.errorbar(x[ok], t2.msd[a, ok], yerr=t2.msd_err[a, ok], **kw)
    for a in (axc, axm):
        a.set_xscale("log")
        a.set_xlabel("lag tau = step x steps")
    axm.set_yscale("log")
    axc.set_ylabel("cosine C(t_w + tau, t_w)")
    axm.set_ylabel("MSD |x(t_w + tau) - x(t_w)|^2 / dim")
    prm = net["params"]
    axc.set_title(f"network {prm['dataset']} {prm['hidden']} (dim {prm['dim']})")
    axm.set_title("mean-square displacement")
    axc.legend(fontsize=7)
    fig.tight_layout()
    return fig


def loss_vs_time(net: dict):
    """Training loss against continuous time for each method (mean +- s.e. over replicas)."""
    fig, axes = new_figure(width=5.6, height=4.0)
    ax = axes[0, 0]
    for c, (method, r) in enumerate(net["runs"].items()):
        pos = r["times"] > 0  # log time axis: the start is left out
        t, m, s = r["times"][pos], r["loss"][pos], r["loss_err"][pos]
        ax.plot(t, m, color=f"C{c}", label=method)
        ax.fill_between(t, m - s, m + s, color=f"C{c}", alpha=0.25, lw=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time t = step x steps")
    ax.set_ylabel("training loss (mean per sample)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
