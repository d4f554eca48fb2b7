"""Figures of the mean-field scaling laws: log-log fits with bands and theory, the limit, normality."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure, panel_axes

__all__ = ["scaling_figure", "limit_figure", "normality_figure", "coupled_excess_figure"]

_YLABEL = {
    "lln": "rms distance to the limit (over seeds)",
    "limit": "rms distance to the exact PDE solution",
    "clt": "Var over seeds of g_N(x) (mean over test x)",
    "excess": "excess loss E[L_N(T)] - L_ref(T) (half MSE)",
    "spread": "sd over seeds of the final loss L_N(T)",
}


def scaling_figure(
    summary, slopes: dict, theory_slope: float, kind: str, title: str = "", *, ax=None
):
    """Log-log plot of a scaling statistic against the width N, one panel.

    ``summary`` has columns observable, width, stat, stat_se; ``slopes`` maps observable to
    (slope, slope_se). Each observable gets its points with error bars (bootstrap s.e.), its
    fitted line with a +-2 s.e. band in the slope (pivoted at the mean log N), and a dashed
    line of the theoretical slope through the same pivot. Values <= 0 have no place on a log
    axis: they are left out and the legend says how many; the y-axis spans the data (points
    and error bars), so a wide band cannot stretch it over tens of decades.
    """
    fig, ax = panel_axes(ax, width=6.0, height=4.4)
    colors = [f"C{i}" for i in range(10)]
    ylo, yhi = np.inf, 0.0
    for i, (name, grp) in enumerate(summary.groupby("observable", sort=False)):
        w = grp["width"].to_numpy(float)
        s = grp["stat"].to_numpy(float)
        se = grp["stat_se"].to_numpy(float)
        pos = np.isfinite(s) & (s > 0)
        col = colors[i % 10]
        sl, sl_se = slopes.get(name, (np.nan, np.nan))
        dropped = f"; {int((~pos).sum())} value(s) <= 0 not shown" if (~pos).any() else ""
        ax.errorbar(
            w[pos],
            s[pos],
            yerr=np.where(np.isfinite(se[pos]), se[pos], 0.0),
            fmt="o",
            color=col,
            capsize=3,
            label=f"{name}: slope {sl:.3f} ± {sl_se:.3f}{dropped}",
        )
        if pos.sum() < 2:
            continue
        lo_pts = s[pos] - np.nan_to_num(se[pos])
        ylo = min(ylo, float(np.min(np.where(lo_pts > 0, lo_pts, s[pos]))))
        yhi = max(yhi, float(np.max(s[pos] + np.nan_to_num(se[pos]))))
        lx, ly = np.log(w[pos]), np.log(s[pos])
        px, py = lx.mean(), ly.mean()
        xx = np.linspace(lx.min(), lx.max(), 50)
        ax.plot(np.exp(xx), np.exp(py + sl * (xx - px)), "-", color=col, lw=1.2)
        if np.isfinite(sl_se):
            lo = np.exp(py + (sl - 2 * sl_se) * (xx - px))
            hi = np.exp(py + (sl + 2 * sl_se) * (xx - px))
            ax.fill_between(
                np.exp(xx), np.minimum(lo, hi), np.maximum(lo, hi), color=col, alpha=0.15
            )
        ax.plot(
            np.exp(xx),
            np.exp(py + theory_slope * (xx - px)),
            "--",
            color="k",
            lw=0.9,
            label=f"theory slope {theory_slope:g}" if i == 0 else None,
        )
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    if yhi > 0 and np.isfinite(ylo):
        ax.set_ylim(ylo / 1.6, yhi * 1.6)  # the data, not the bands, set the axis
    ax.set_xticks(sorted(set(summary["width"].astype(int))))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("width N (number of particles)")
    ax.set_ylabel(_YLABEL.get(kind, "statistic"))
    ax.set_title(
        title or f"mean-field {kind}: fit ± 2 s.e. band (bootstrap over seeds)", fontsize=10
    )
    ax.legend(fontsize=8, loc="best")
    return fig


def limit_figure(times, limit_loss, particle_loss: dict, title: str = "", *, ax=None):
    """Loss curves of the particle system (mean over seeds) at several widths and the PDE's."""
    fig, ax = panel_axes(ax, width=6.0, height=4.2)
    for i, (N, curve) in enumerate(sorted(particle_loss.items())):
        ax.plot(times, curve, "o-", ms=3, lw=1, color=f"C{i % 10}", label=f"particles, N={N}")
    ax.plot(times, limit_loss, "k--", lw=1.5, label="mean-field PDE (quadrature)")
    ax.set_xlabel("mean-field time t (GD: k·eps)")
    ax.set_ylabel("training loss L (half MSE), mean over seeds")
    ax.set_title(title or "particle system vs exact mean-field limit", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def normality_figure(fluct, width: int, pvalue: float, label: str = "", *, ax=None):
    """Histogram of sqrt(N)(g_N - mean)/sd pooled over test points, with the standard normal."""
    from scipy import stats

    f = np.asarray(fluct, float)
    z = (f / f.std(axis=0, ddof=1)).ravel()
    fig, ax = panel_axes(ax, width=5.5, height=4.0)
    ax.hist(z, bins=30, density=True, alpha=0.6, label=f"{label} N={width}, {f.shape[0]} seeds")
    x = np.linspace(-4, 4, 200)
    ax.plot(x, stats.norm.pdf(x), "k-", lw=1.5, label="standard normal")
    ax.set_xlabel("sqrt(N)(g_N(x) - mean) / sd  (pooled over test inputs x)")
    ax.set_ylabel("density")
    ax.set_title(f"CLT fluctuations: Shapiro–Wilk p = {pvalue:.3g} (Bonferroni)", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def coupled_excess_figure(
    summary,
    coupled_slope: float,
    coupled_slope_se: float,
    slope: float = float("nan"),
    slope_se: float = float("nan"),
    title: str = "",
    fit_min_width: int = 0,
):
    """The 3-spin target's excess loss against the width: coupled and plain estimators.

    ``summary`` is :attr:`analysis.studies.meanfield.LandscapeResult.summary` with the
    coupled columns. Left: log-log, the coupled excess D = e(N) - e(2N) (bootstrap s.e.
    over pairs) with its fitted slope, a +-2 s.e. band and the theory slope -1; the plain
    excess over the wide reference (positive points only) for comparison. Right: N * D, flat
    under the 1/N law. Widths below ``fit_min_width`` (outside the coupled fit) are drawn
    hollow; the fitted line and the weighted mean of N * D span the fitted widths only.
    """
    fig, axes = new_figure(ncols=2, width=5.2, height=4.2)
    ax, bx = axes[0, 0], axes[0, 1]
    w = summary["width"].to_numpy(float)
    D = summary["coupled_excess"].to_numpy(float)
    Dse = summary["coupled_excess_se"].to_numpy(float)
    fit = (w >= fit_min_width) & (D > 0)
    window = f" (N ≥ {fit_min_width})" if fit_min_width > w.min() else ""
    for a, y, ye, lab in (
        (ax, D, Dse, f"coupled D: slope {coupled_slope:.3f} ± {coupled_slope_se:.3f}{window}"),
        (bx, w * D, w * Dse, "N · D (coupled)"),
    ):
        a.errorbar(w[fit], y[fit], yerr=ye[fit], fmt="o", color="C0", capsize=3, label=lab)
        if (~fit).any():
            a.errorbar(
                w[~fit],
                y[~fit],
                yerr=ye[~fit],
                fmt="o",
                mfc="none",
                color="C0",
                capsize=3,
                label="outside the fit",
            )
    lx, ly = np.log(w[fit]), np.log(D[fit])
    px, py = lx.mean(), ly.mean()
    xx = np.linspace(lx.min(), lx.max(), 50)
    ax.plot(np.exp(xx), np.exp(py + coupled_slope * (xx - px)), "-", color="C0", lw=1.2)
    lo = np.exp(py + (coupled_slope - 2 * coupled_slope_se) * (xx - px))
    hi = np.exp(py + (coupled_slope + 2 * coupled_slope_se) * (xx - px))
    ax.fill_between(np.exp(xx), np.minimum(lo, hi), np.maximum(lo, hi), color="C0", alpha=0.15)
    ax.plot(np.exp(xx), np.exp(py - (xx - px)), "--", color="k", lw=0.9, label="theory slope -1")
    ex = summary["stat"].to_numpy(float)
    ok = ex > 0
    ax.errorbar(
        w[ok],
        ex[ok],
        yerr=summary["stat_se"].to_numpy(float)[ok],
        fmt="s",
        mfc="none",
        color="C3",
        capsize=3,
        label=f"plain E[L_N] - L_ref: slope {slope:.2f} ± {slope_se:.2f}",
    )
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for a in (ax, bx):
        a.set_xscale("log")
        a.set_xticks(sorted(set(w.astype(int))))
        a.xaxis.set_major_formatter(ScalarFormatter())
        a.xaxis.set_minor_formatter(NullFormatter())
        a.set_xlabel("width N (number of particles)")
    ax.set_yscale("log")
    ax.set_ylabel("excess training loss (half MSE)")
    ax.set_title(title or "3-spin target: excess loss after training", fontsize=10)
    ax.legend(fontsize=7.5, loc="best")
    wf = (w * Dse)[fit]
    m = np.sum((w * D)[fit] / wf**2) / np.sum(1 / wf**2)
    bx.axhline(m, color="k", ls="--", lw=0.9, label=f"1/N law: N·D = {m:.3f} (weighted mean)")
    bx.set_ylim(0, None)
    bx.set_ylabel("N · D  (flat under 1/N)")
    bx.set_title("coupled excess times the width", fontsize=10)
    bx.legend(fontsize=8, loc="best")
    return fig
