"""Figures of ``landscapes theory``: complexities, index vs energy, Kac–Rice counts."""

from __future__ import annotations

import numpy as np

from pspin import theory as th

__all__ = ["plot_complexity", "plot_index_energy", "plot_kac_rice"]

N_LAYERS = 6


def _style():
    import matplotlib.pyplot as plt
    import seaborn as sns

    return plt, sns


def plot_complexity(model, curves: dict):
    """Cumulative annealed complexities near the bottom and the all-index complexities."""
    plt, sns = _style()
    e_inf = th.threshold_energy(model)
    layers = [th.layer_energy(model, k) for k in range(N_LAYERS)]
    pal = sns.color_palette("viridis", N_LAYERS)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
        u = curves["u_low"]
        for k in range(N_LAYERS):
            a1.plot(
                u, curves[f"theta_{k}"], color=pal[k], label=rf"$\Theta_{{{k},p}}(u)$, index {k}"
            )
            a1.plot([-layers[k]], [0.0], "o", color=pal[k], ms=4)
        a1.plot(u, curves["theta_total_low"], "k--", lw=1.2, label=r"$\Theta_p(u)$, all indices")
        a1.axhline(0, color="0.3", lw=0.8)
        a1.axvline(-e_inf, color="C3", ls=":", label=rf"threshold $-E_\infty={-e_inf:.4f}$")
        a1.axvline(-layers[0], color="C0", ls=":", label=rf"ground state $-E_0={-layers[0]:.4f}$")
        a1.set_ylim(-0.03, None)
        a1.set_xlabel(r"energy per spin $u = H/N$ (ABC normalization)")
        a1.set_ylabel(r"$\lim\, N^{-1}\log \mathbb{E}\,\mathrm{Crt}_{N,k}((-\infty,u])$")
        a1.set_title("cumulative annealed complexity near the bottom (dots: $-E_k$)")
        a1.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
        ua = curves["u_all"]
        a2.plot(ua, curves["sigma_total"], "k", label=r"$\Sigma_{tot}(u)$: points at energy $u$")
        a2.plot(ua, curves["theta_total"], "C1--", label=r"$\Theta_p(u)$: points below $u$")
        a2.axhline(0, color="0.3", lw=0.8)
        for s in (-1, 1):
            a2.axvline(s * e_inf, color="C3", ls=":")
        a2.axvline(-layers[0], color="C0", ls=":")
        a2.set_ylim(-0.05, None)
        a2.set_xlabel(r"energy per spin $u = H/N$ (ABC normalization)")
        a2.set_ylabel(r"complexity (log count per spin)")
        a2.set_title(r"all indices (dotted: $\pm E_\infty$, $-E_0$)")
        a2.legend(fontsize=8, loc="lower center")
        fig.suptitle(f"Annealed complexity of the pure spherical {model}-spin glass (ABC)")
        fig.tight_layout()
        return fig


def plot_index_energy(model, curves: dict, N: int, arr: dict, *, ax=None):
    """Index fraction against energy: ``alpha(u)`` and the exact mean index at N (Kac–Rice)."""
    plt, sns = _style()
    e_inf = th.threshold_energy(model)
    layers = [th.layer_energy(model, k) for k in range(N_LAYERS)]
    ua = curves["u_all"]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        own = ax is None
        fig, ax = plt.subplots(figsize=(7.5, 4.8)) if own else (ax.figure, ax)
        ax.plot(
            ua,
            curves["index_fraction"],
            "k",
            lw=1.6,
            label=r"$\alpha(u)$: semicircle law, $N\to\infty$",
        )
        if "density" in arr:
            d = np.asarray(arr["density"])
            du = np.asarray(arr["density_u"])
            tot = d.sum(axis=1)
            ok = tot > 1e-12 * tot.max()
            mean_k = (d @ np.arange(N))[ok] / tot[ok] / (N - 1)
            ax.plot(
                du[ok],
                mean_k,
                "o",
                ms=3,
                color="C0",
                label=f"exact mean index / (N-1) at energy u, N = {N} (Kac-Rice)",
            )
        ax.axvline(-e_inf, color="C3", ls=":", label=rf"$\pm E_\infty$ = {e_inf:.4f}")
        ax.axvline(e_inf, color="C3", ls=":")
        ax.axvline(-layers[0], color="C0", ls=":", label=rf"$-E_0$ = {-layers[0]:.4f}")
        ax.set_xlabel(r"energy per spin $u = H/N$ of the critical point (ABC normalization)")
        ax.set_ylabel("index fraction: negative Hessian eigenvalues / (N-1)")
        ax.set_title(f"Index vs energy of critical points, p = {model}")
        ax.set_xlim(ua[0], ua[-1])
        ax.legend(fontsize=8, loc="upper left")
        if own:
            fig.tight_layout()
        return fig


def plot_kac_rice(N: int, arr: dict, mc: dict | None, what: str, *, ax=None):
    """Mean numbers of critical points per index at N (exact, below threshold, Monte Carlo)."""
    plt, sns = _style()
    k = np.arange(N)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        own = ax is None
        fig, ax = plt.subplots(figsize=(7.5, 4.8)) if own else (ax.figure, ax)
        ax.plot(k, arr["mean"], "o-", color="C0", label="exact, all energies")
        if "below_mean" in arr:
            b = np.asarray(arr["below_mean"])
            pos = b > 10 * np.asarray(arr["below_error"])  # above the numerical error only
            ax.plot(
                k[pos],
                b[pos],
                "s-",
                color="C3",
                ms=4,
                label=r"exact, below the threshold ($H/N \leq -E_\infty$)",
            )
        if mc is not None:
            ax.errorbar(
                k,
                mc["mean"],
                yerr=2 * np.asarray(mc["stderr"]),
                fmt="x",
                color="k",
                ms=7,
                capsize=3,
                label=r"Monte Carlo over GOE matrices, $\pm 2$ s.e.",
            )
        ax.set_yscale("log")
        ax.set_xlabel("index k (negative eigenvalues of the Riemannian Hessian)")
        ax.set_ylabel(r"mean number of critical points $\mathbb{E}\,\mathrm{Crt}_{N,k}$")
        ax.set_title(f"Kac-Rice counts at N = {N}, {what}")
        ax.legend(fontsize=8)
        if own:
            fig.tight_layout()
    return fig
