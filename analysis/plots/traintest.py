"""Figure of the train-test study: spread of test loss, train-test correlation, SA vs SGD."""

from __future__ import annotations

import numpy as np

from analysis.plots import new_figure

__all__ = ["traintest_figure"]


def traintest_figure(summary: list[dict], runs: list[dict]):
    """Three panels against the hidden width (log scale).

    * (a) sd of the final test loss over initializations (error bars: its standard error);
    * (b) Pearson correlation of train and test loss (95% Fisher intervals);
    * (c) final test losses of SGD (band: mean +- 2 sd; points: runs) and of simulated
      annealing (points and mean).

    Parameters
    ----------
    summary, runs : list of dict
        :attr:`analysis.studies.traintest.TrainTestStudy.summary` and ``.runs``.

    Returns
    -------
    matplotlib Figure
    """
    import seaborn as sns

    fig, axes = new_figure(ncols=3, width=4.6, height=3.8)
    c_sgd, c_sa = sns.color_palette("colorblind", 2)
    by = {m: [r for r in summary if r["method"] == m] for m in ("sgd", "sa")}

    ax = axes[0, 0]
    for m, c in (("sgd", c_sgd), ("sa", c_sa)):
        rows = by[m]
        if rows:
            w = np.array([r["width"] for r in rows])
            ax.errorbar(
                w,
                [r["test_sd"] for r in rows],
                yerr=[r["test_sd_se"] for r in rows],
                fmt="o-",
                color=c,
                capsize=3,
                label=f"{m.upper()} (n={rows[0]['n']} per width)",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width h")
    ax.set_ylabel("sd of test loss over inits")
    ax.set_title("(a) test-loss spread", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    for m, c in (("sgd", c_sgd), ("sa", c_sa)):
        rows = [r for r in by[m] if np.isfinite(r["r"])]
        if rows:
            w = np.array([r["width"] for r in rows])
            r = np.array([r["r"] for r in rows])
            lo = np.array([x["r_lo"] for x in rows])
            hi = np.array([x["r_hi"] for x in rows])
            ax.errorbar(w, r, yerr=[r - lo, hi - r], fmt="o-", color=c, capsize=3, label=m.upper())
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width h")
    ax.set_ylabel("Pearson r(train loss, test loss)")
    ax.set_title("(b) train-test correlation (95% CI)", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    sgd_stats = {r["width"]: (r["test_mean"], r["test_sd"]) for r in by["sgd"]}
    ws = sorted(sgd_stats)
    if ws:
        ax.axhspan(-2.0, 2.0, color=c_sgd, alpha=0.15, label="SGD band: mean +- 2 sd")
        ax.axhline(0.0, color=c_sgd, lw=1.0)
    for method, c, dx in (("sgd", c_sgd, 0.95), ("sa", c_sa, 1.05)):
        pts = [r for r in runs if r["method"] == method and r["width"] in sgd_stats]
        if not pts:
            continue
        z = [(r["test"] - sgd_stats[r["width"]][0]) / sgd_stats[r["width"]][1] for r in pts]
        ax.plot(
            [r["width"] * dx for r in pts],
            z,
            ".",
            color=c,
            alpha=0.5,
            ms=4,
            label=f"{method.upper()} runs",
        )
    rows = [r for r in by["sa"] if r["width"] in sgd_stats]
    if rows:
        ax.plot(
            [r["width"] * 1.05 for r in rows],
            [(r["test_mean"] - sgd_stats[r["width"]][0]) / sgd_stats[r["width"]][1] for r in rows],
            "D",
            color=c_sa,
            mec="k",
            label="SA mean",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width h")
    ax.set_ylabel("(test loss - SGD mean) / SGD sd")
    ax.set_title("(c) simulated annealing in the SGD band", fontsize=10)
    ax.legend(fontsize=6.5, loc="lower right")
    fig.suptitle("Digits, 64-h-10 ReLU: concentration of the test loss with width")
    fig.tight_layout()
    return fig
