"""Figures of halting times: the collapse of normalized fluctuations and the raw histograms."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure

__all__ = ["collapse_figure", "raw_halting_figure", "gd_sgd_figure"]

_STYLES = ["-", "--", ":", "-."]


def _family_title(family: str) -> str:
    names = {
        "pspin-gd": "p-spin, gradient descent (steps)",
        "mlp-gd": "network, full-batch GD (epochs)",
        "mlp-sgd": "network, SGD batch 32 (epochs)",
    }
    return names.get(family, family)


def collapse_figure(normalized: dict[tuple, np.ndarray], tests: list[dict] | None = None):
    """ECDFs of normalized halting times ``(tau - mean) / sd``, one panel per family.

    Parameters
    ----------
    normalized : dict
        ``{(family, ensemble, size): normalized times}``; colour = ensemble, line style = size.
    tests : list of dict, optional
        Rows of :func:`analysis.studies.halting.compare_laws`; each panel then states its
        largest KS distance, smallest p-value and the smallest detectable KS distance.

    Returns
    -------
    matplotlib Figure
    """
    import seaborn as sns

    families = sorted({k[0] for k in normalized})
    fig, axes = new_figure(ncols=len(families), width=5.0, height=4.0)
    palette = sns.color_palette("colorblind", 8)
    for ax, fam in zip(axes[0], families, strict=True):
        keys = sorted((k for k in normalized if k[0] == fam), key=lambda k: (k[1], k[2]))
        ens = sorted({k[1] for k in keys})
        sizes = sorted({k[2] for k in keys})
        for k in keys:
            z = np.sort(normalized[k])
            y = np.arange(1, z.size + 1) / z.size
            ax.step(
                z,
                y,
                where="post",
                color=palette[ens.index(k[1]) % len(palette)],
                ls=_STYLES[sizes.index(k[2]) % len(_STYLES)],
                lw=1.4,
                label=f"{k[1]}, {'N' if fam.startswith('pspin') else 'h'}={k[2]} (n={z.size})",
            )
        ax.set_xlabel("(tau - mean) / sd")
        ax.set_ylabel("empirical CDF")
        ax.set_title(_family_title(fam), fontsize=10)
        ax.set_xlim(-2.5, 7.0)
        rows = [r for r in (tests or []) if r["family"] == fam]
        if rows:
            worst = max(rows, key=lambda r: r["ks"])
            text = (
                f"{len(rows)} pairs: max KS {worst['ks']:.3f}\n"
                f"min KS p {min(r['ks_pvalue'] for r in rows):.2g}, "
                f"min AD p {min(r['ad_pvalue'] for r in rows):.2g}\n"
                f"detectable KS (80%, 5%): {min(r['ks_detectable'] for r in rows):.2f}"
                f"-{max(r['ks_detectable'] for r in rows):.2f}"
            )
            ax.text(
                0.03,
                0.97,
                text,
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=7.5,
                bbox={"fc": "white", "ec": "0.7", "alpha": 0.9},
            )
        ax.legend(fontsize=6 if len(keys) <= 6 else 5.5, loc="lower right", framealpha=0.9)
    fig.suptitle("Halting times, centred and scaled: one law per algorithm", fontsize=11)
    fig.tight_layout()
    return fig


def raw_halting_figure(groups: dict[tuple, np.ndarray]):
    """ECDFs of the raw halting times (halted runs, log axis), one panel per family.

    Colour = ensemble, line style = size, as in :func:`collapse_figure`: before the
    normalization the curves of different sizes are shifted and of different widths.
    """
    import seaborn as sns

    families = sorted({k[0] for k in groups})
    fig, axes = new_figure(ncols=len(families), width=5.0, height=3.6)
    palette = sns.color_palette("colorblind", 8)
    for ax, fam in zip(axes[0], families, strict=True):
        keys = sorted((k for k in groups if k[0] == fam), key=lambda k: (k[1], k[2]))
        ens = sorted({k[1] for k in keys})
        sizes = sorted({k[2] for k in keys})
        for k in keys:
            t = np.asarray(groups[k])
            t = np.sort(t[t >= 0])
            if t.size == 0:
                continue
            ax.step(
                t,
                np.arange(1, t.size + 1) / t.size,
                where="post",
                color=palette[ens.index(k[1]) % len(palette)],
                ls=_STYLES[sizes.index(k[2]) % len(_STYLES)],
                lw=1.3,
                label=f"{k[1]} @ {k[2]}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("halting time tau")
        ax.set_ylabel("empirical CDF")
        ax.set_title(_family_title(fam), fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=5.5, loc="lower right", framealpha=0.9)
    fig.tight_layout()
    return fig


def gd_sgd_figure(comparisons: list, lines: dict[str, float] | None = None) -> object:
    """Final energies per spin of GD and SGD on the split p-spin, and their epochs to settle.

    One column per size N (histograms of GD and SGD final energies with their means), and
    a last panel with the median epochs after which the energy stays within the settling
    tolerance (GD, SGD) and GD's median halting time, against N.

    Parameters
    ----------
    comparisons : list of :class:`analysis.studies.pspin_sgd.PSpinSGDComparison`
    lines : dict, optional
        Theory values drawn on the histograms, ``{label: energy per spin}`` (e.g. the
        threshold -E_inf).
    """
    import seaborn as sns

    n = len(comparisons)
    fig, axes = new_figure(ncols=n + 1, width=4.2, height=3.6)
    c_gd, c_sgd = sns.color_palette("colorblind", 2)
    for ax, c in zip(axes[0][:n], comparisons, strict=True):
        allv = np.concatenate([c.gd_energy, c.sgd_energy])
        bins = np.linspace(allv.min() - 1e-3, allv.max() + 1e-3, 25)
        s = c.summary
        ax.hist(c.gd_energy, bins=bins, alpha=0.55, color=c_gd, label=f"GD {s['gd_mean']:.4f}")
        ax.hist(c.sgd_energy, bins=bins, alpha=0.55, color=c_sgd, label=f"SGD {s['sgd_mean']:.4f}")
        ax.axvline(s["gd_mean"], color=c_gd, ls="--")
        ax.axvline(s["sgd_mean"], color=c_sgd, ls="--")
        for (name, v), st in zip((lines or {}).items(), [":", "-."], strict=False):
            ax.axvline(v, color="0.3", ls=st, label=f"{name} {v:.4f}")
        ax.set_xlabel("final H/N")
        ax.set_ylabel("runs")
        ax.set_title(
            f"N={c.N}, P={c.P}: KS p={s['test_ks_pvalue']:.2g}, AD p={s['test_ad_pvalue']:.2g}",
            fontsize=9,
        )
        ax.legend(fontsize=7)
    ax = axes[0][n]
    Ns = [c.N for c in comparisons]
    ax.plot(
        Ns,
        [c.summary["gd_settle_median"] for c in comparisons],
        "o-",
        color=c_gd,
        label="GD settles",
    )
    ax.plot(
        Ns,
        [c.summary["sgd_settle_median"] for c in comparisons],
        "s-",
        color=c_sgd,
        label="SGD settles",
    )
    ax.plot(
        Ns,
        [c.summary["gd_halting_median"] for c in comparisons],
        "o:",
        color=c_gd,
        label="GD halts",
    )
    ax.set_xlabel("N")
    ax.set_ylabel("epochs (median)")
    ax.set_title("epochs to stop", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
