"""Figures of ``landscapes compare`` (final values, learning curves, halting times, collapses).

Every figure function takes plain data (the output of
:func:`analysis.studies.compare.load_tables` and theory lines as plain numbers), is a
top-level function (so figures can be drawn in worker processes) and returns a matplotlib
figure; every function drawing one panel takes ``ax=``. Small ensembles (8–20 replicas) are
drawn as empirical CDFs with one marker per replica, never as histograms. Spectra, overlaps,
networks and the census are in :mod:`analysis.plots.compare_spectra`.
"""

from __future__ import annotations

import numpy as np

import pspin.theory
from analysis.plots import panel_axes, panel_grid
from analysis.studies.compare.models import MODEL_LABELS

__all__ = [
    "FAMILY_ORDER",
    "draw_ecdf",
    "draw_final_values",
    "draw_learning_curves",
    "draw_halting_times",
    "draw_rescaled",
    "plot_final_energies",
    "plot_rescaled_final_values",
    "plot_learning_curves",
    "plot_concentration",
    "plot_halting_times",
    "plot_halting_collapse",
    "index_fraction_theory",
    "plot_dynamics_energy",
    "plot_dynamics_network",
]

FAMILY_ORDER = ("pspin", "digits", "teacher_student")
_FAMILY_LS = {"pspin": "-", "digits": "-", "teacher_student": "--"}
_FAMILY_MARKER = {"pspin": "o", "digits": "o", "teacher_student": "s"}


def _families(tasks) -> list[str]:
    present = {m["family"] for m, _ in tasks}
    return [f for f in FAMILY_ORDER if f in present]


def _by_family(tasks, family):
    return sorted(
        [(m, a) for m, a in tasks if m["family"] == family], key=lambda t: int(t[0]["size"])
    )


def _unit(family: str) -> str:
    return "N" if family == "pspin" else "width"


def _colors(n: int):
    import seaborn as sns

    return sns.color_palette("viridis", max(n, 1))


def _value_label(family: str) -> str:
    return (
        "final H/N (energy per spin)"
        if family == "pspin"
        else "final training objective (mean loss + weight decay)"
    )


def _theory_vlines(ax, theory: dict | None, vertical: bool = True) -> None:
    if not theory:
        return
    line = ax.axvline if vertical else ax.axhline
    line(
        -theory["E_inf"], color="k", ls="--", lw=1.2, label=f"$-E_\\infty$ = {-theory['E_inf']:.4f}"
    )
    line(-theory["E_0"], color="crimson", ls=":", lw=1.4, label=f"$-E_0$ = {-theory['E_0']:.4f}")


def _log_if_wide(ax, values, axis: str = "x") -> None:
    """A log scale on ``axis`` when the positive values span more than a decade."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() > 10 * v.min():
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def draw_ecdf(values, *, ax=None, label: str = "", color=None, ls: str = "-", marker: str = "o"):
    """Empirical CDF of ``values`` with one marker per value (a strip plot that also reads
    as a distribution); non-finite values are left out. Returns the Axes."""
    _, ax = panel_axes(ax)
    v = np.sort(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    if not v.size:
        return ax
    y = np.arange(1, v.size + 1) / v.size
    ax.step(np.r_[v[0], v], np.r_[0.0, y], where="post", color=color, ls=ls, lw=1.4, label=label)
    ax.plot(v, y, marker, color=color, ms=3.5, ls="none")
    ax.set_ylim(0, 1.04)
    return ax


def draw_final_values(tables: dict, family: str, theory: dict | None = None, *, ax=None):
    """ECDF of the final GD values of one family, one curve per size; unconverged replicas
    marked with red crosses. Returns the Axes."""
    _, ax = panel_axes(ax)
    group = _by_family(tables["tasks"], family)
    cols = _colors(len(group))
    unconv_label = True
    for (m, a), c in zip(group, cols, strict=True):
        v, conv = np.asarray(a["gd_final"], float), np.asarray(a["gd_converged"], bool)
        draw_ecdf(
            v,
            ax=ax,
            color=c,
            label=f"{_unit(family)} = {m['size']}: {int(conv.sum())}/{conv.size} converged",
        )
        if (~conv).any():
            s = np.sort(v)
            y = (np.searchsorted(s, v[~conv], side="right")) / v.size
            ax.plot(
                v[~conv],
                y,
                "x",
                color="crimson",
                ms=7,
                mew=1.6,
                ls="none",
                label="unconverged at the step budget" if unconv_label else None,
            )
            unconv_label = False
    if family == "pspin":
        _theory_vlines(ax, theory)
    else:
        _log_if_wide(ax, np.concatenate([np.asarray(a["gd_final"], float) for _, a in group]))
    ax.set_xlabel(_value_label(family))
    ax.set_ylabel("fraction of replicas ≤ value (ECDF)")
    ax.set_title(f"{MODEL_LABELS[family]}: final values of GD endpoints", fontsize=10)
    ax.legend(fontsize=7.5, loc="lower right")
    return ax


def plot_final_energies(tables: dict, theory: dict | None = None):
    """Final intensive GD values per size: one ECDF panel per model family.

    p-spin: H/N with -E_inf and -E_0; networks: the final training objective on a log axis.
    Legends give the converged fraction of each ensemble.
    """
    fams = _families(tables["tasks"])
    fig, axes = panel_grid(len(fams))
    for ax, fam in zip(axes, fams, strict=True):
        draw_final_values(tables, fam, theory, ax=ax)
    return fig


def _zscores(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 3 or np.std(v, ddof=1) == 0:
        return np.zeros(0)
    return (v - v.mean()) / np.std(v, ddof=1)


def draw_rescaled(groups, *, ax=None, title: str = "", xlabel: str = ""):
    """ECDFs of rescaled values ``(v - mean) / sd`` of several ensembles on one axis, with the
    standard normal CDF as a guide. ``groups`` is a list of ``(label, values, color, ls)``
    (ensembles of fewer than 3 finite values are left out). Returns the Axes."""
    from scipy.stats import norm

    _, ax = panel_axes(ax)
    lo, hi = -2.5, 2.5
    drawn = 0
    for label, v, c, ls in groups:
        z = _zscores(v)
        if z.size:
            draw_ecdf(z, ax=ax, color=c, ls=ls, label=f"{label} ({z.size})")
            lo, hi = min(lo, float(z.min())), max(hi, float(z.max()))
            drawn += 1
    if not drawn:
        ax.text(
            0.5,
            0.6,
            "no ensemble with at least 3 values to rescale\n(e.g. no converged replicas)",
            transform=ax.transAxes,
            ha="center",
            fontsize=9,
            color="crimson",
        )
    t = np.linspace(lo, hi, 200)
    ax.plot(t, norm.cdf(t), color="0.4", lw=1.0, ls=":", label="standard normal CDF (guide)")
    ax.set_xlabel(xlabel or "(value - mean) / sd within each ensemble")
    ax.set_ylabel("fraction of replicas ≤ value (ECDF)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def _network_groups(tasks, key: str, mask_key: str | None = None):
    fams = [f for f in _families(tasks) if f != "pspin"]
    widths = sorted({int(m["size"]) for m, _ in tasks if m["family"] in fams})
    cols = dict(zip(widths, _colors(len(widths)), strict=True))
    out = []
    for fam in fams:
        for m, a in _by_family(tasks, fam):
            if key not in a:
                continue
            v = np.asarray(a[key], dtype=float)
            if mask_key is not None:
                v = v[np.asarray(a[mask_key], bool)]
            out.append(
                (
                    f"{MODEL_LABELS[fam]}, width {m['size']}",
                    v,
                    cols[int(m["size"])],
                    _FAMILY_LS[fam],
                )
            )
    return out


def _pspin_groups(tasks, key: str, mask_key: str | None = None):
    group = _by_family(tasks, "pspin")
    out = []
    for (m, a), c in zip(group, _colors(len(group)), strict=True):
        v = np.asarray(a[key], dtype=float)
        if mask_key is not None:
            v = v[np.asarray(a[mask_key], bool)]
        out.append((f"N = {m['size']}", v, c, "-"))
    return out


def plot_rescaled_final_values(tables: dict):
    """Final GD values rescaled within each ensemble, ``(value - mean) / sd``, collapsed
    across sizes: p-spin (all N) and networks (all widths, both families)."""
    tasks = tables["tasks"]
    panels = []
    if any(m["family"] == "pspin" for m, _ in tasks):
        panels.append(("p-spin: rescaled final H/N, all N", _pspin_groups(tasks, "gd_final")))
    if any(m["family"] != "pspin" for m, _ in tasks):
        panels.append(
            (
                "networks: rescaled final training objective, all widths",
                _network_groups(tasks, "gd_final"),
            )
        )
    fig, axes = panel_grid(len(panels))
    for ax, (title, groups) in zip(axes, panels, strict=True):
        draw_rescaled(groups, ax=ax, title=title)
    return fig


def draw_learning_curves(tables: dict, family: str, theory: dict | None = None, *, ax=None):
    """Learning curves of one family: median intensive energy over the replicas against
    the GD step, with the band between the 10% and 90% quantiles, one colour per size.
    A replica that stopped keeps its final value. Returns the Axes."""
    _, ax = panel_axes(ax)
    group = [(m, a) for m, a in _by_family(tables["tasks"], family) if "gd_trace" in a]
    for (m, a), c in zip(group, _colors(len(group)), strict=True):
        t = np.asarray(a["gd_trace_steps"], dtype=float)
        E = np.asarray(a["gd_trace"], dtype=float)
        q10, q50, q90 = np.nanquantile(E, [0.1, 0.5, 0.9], axis=1)
        x = np.maximum(t, 1.0)
        ax.plot(
            x, q50, color=c, lw=1.6, label=f"{_unit(family)} = {m['size']} ({E.shape[1]} replicas)"
        )
        ax.fill_between(x, q10, q90, color=c, alpha=0.18, lw=0)
    ax.set_xscale("log")
    if family == "pspin":
        _theory_vlines(ax, theory, vertical=False)
        ax.set_ylabel("H/N (energy per spin)")
    else:
        ax.set_yscale("log")
        ax.set_ylabel("training objective")
    ax.set_xlabel("GD step (step 0 drawn at 1)")
    ax.set_title(f"{MODEL_LABELS[family]}: learning curves (median, 10–90% band)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper right")
    return ax


def plot_learning_curves(tables: dict, theory: dict | None = None):
    """Energy against GD step for every family (panels) and size (colours)."""
    fams = [
        f
        for f in _families(tables["tasks"])
        if any("gd_trace" in a for m, a in _by_family(tables["tasks"], f))
    ]
    fig, axes = panel_grid(len(fams))
    for ax, fam in zip(axes, fams, strict=True):
        draw_learning_curves(tables, fam, theory, ax=ax)
    return fig


def plot_concentration(tables: dict, theory: dict | None = None):
    """Concentration with size: the p-spin mean ± sd against N (left) and the spread of the
    final values against size on log-log axes (right: sd of H/N for the p-spin, coefficient
    of variation sd/mean for networks, GD solid and SGD dashed)."""
    import seaborn as sns

    s = tables["summary"]
    fig, (ax0, ax2) = panel_grid(2)
    ps = s[(s["model"] == "pspin") & (s["method"] == "gd")]
    if len(ps):
        ax0.errorbar(
            ps["size"], ps["mean"], yerr=ps["std"], fmt="o-", capsize=4, label="mean ± sd (GD)"
        )
        ax0.errorbar(
            ps["size"],
            ps["mean"],
            yerr=ps["stderr"],
            fmt="none",
            capsize=7,
            color="k",
            lw=2,
            label="± standard error",
        )
        if theory:
            ax0.axhline(
                -theory["E_inf"], color="k", ls="--", lw=1.2, label="$-E_\\infty$ (threshold)"
            )
            ax0.axhline(
                -theory["E_0"], color="crimson", ls=":", lw=1.4, label="$-E_0$ (ground state)"
            )
        ax0.set_xscale("log")
        ax0.set_xticks(ps["size"].tolist())
        ax0.set_xticklabels([str(v) for v in ps["size"]])
        ax0.minorticks_off()
        ax0.legend(fontsize=8)
    ax0.set_xlabel("N (number of spins)")
    ax0.set_ylabel("final H/N (energy per spin)")
    ax0.set_title("p-spin: mean final energy of GD endpoints vs N", fontsize=10)
    pal = sns.color_palette("colorblind")
    if len(ps):
        ax2.loglog(ps["size"], ps["std"], "o-", color="k", label="p-spin: sd of H/N vs N")
        n0 = ps["size"].to_numpy(dtype=float)
        ref = ps["std"].to_numpy()[0] * np.sqrt(n0[0] / n0)
        ax2.loglog(n0, ref, color="gray", ls=":", lw=1, label="$\\propto N^{-1/2}$ (guide)")
    k = 0
    for fam in FAMILY_ORDER[1:]:
        for method, ls in (("gd", "-"), ("sgd", "--")):
            g = s[(s["model"] == fam) & (s["method"] == method)]
            if len(g):
                ax2.loglog(
                    g["size"],
                    g["cv"],
                    ls,
                    marker=_FAMILY_MARKER[fam],
                    color=pal[k % len(pal)],
                    label=f"{MODEL_LABELS[fam]} ({method.upper()}): CV vs width",
                )
                k += 1
    sizes = sorted({int(v) for v in s["size"]})
    ax2.set_xticks(sizes)
    ax2.set_xticklabels([str(v) for v in sizes], fontsize=8)
    ax2.minorticks_off()
    ax2.set_xlabel("size (N for the p-spin, hidden width for networks)")
    ax2.set_ylabel("spread: sd of H/N; CV = sd/mean of loss")
    ax2.set_title("spread of the final values vs size", fontsize=10)
    ax2.legend(fontsize=7)
    return fig


def draw_halting_times(tables: dict, family: str, *, ax=None):
    """GD halting times (steps to the gradient tolerance) of one family: one point per
    replica per size (jittered strip), medians as bars, unconverged replicas as red crosses
    at the step budget. Returns the Axes."""
    _, ax = panel_axes(ax)
    r = tables["replicas"]
    sub = r[(r["method"] == "gd") & (r["model"] == family)]
    sizes = sorted(sub["size"].unique())
    rng = np.random.default_rng(0)  # jitter only: a fixed seed keeps figures reproducible
    first = True
    labelled = {"c": False}
    for i, size in enumerate(sizes):
        g = sub[sub["size"] == size]
        conv = g["converged"].to_numpy(bool)
        steps = g["steps"].to_numpy(float)
        jit = rng.uniform(-0.18, 0.18, steps.size)
        ax.plot(
            i + jit[conv],
            steps[conv],
            "o",
            ms=4,
            alpha=0.7,
            color="C0",
            label="converged replica" if conv.any() and not labelled["c"] else None,
        )
        if conv.any():
            ax.plot(
                [i - 0.3, i + 0.3],
                [np.median(steps[conv])] * 2,
                color="k",
                lw=2,
                label="median of converged" if not labelled["c"] else None,
            )
            labelled["c"] = True
        if (~conv).any():
            ax.plot(
                i + jit[~conv],
                steps[~conv],
                "x",
                ms=7,
                mew=1.6,
                color="crimson",
                label="unconverged at the step budget" if first else None,
            )
            ax.annotate(
                f"{int((~conv).sum())} unconv.",
                (i, float(steps[~conv].max())),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                color="crimson",
            )
            first = False
    ax.set_xticks(np.arange(len(sizes)))
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_yscale("log")
    if len(sub):
        top = float(sub["steps"].max())
        ax.set_ylim(max(float(sub["steps"].min()), 1.0) / 1.5, top * 2.0)  # room for the notes
    ax.set_xlabel("N (spins)" if family == "pspin" else "hidden width")
    ax.set_ylabel("GD halting time (steps to gtol)")
    ax.set_title(f"{MODEL_LABELS[family]}: GD halting times", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_halting_times(tables: dict):
    """GD halting times per size, one strip panel per model family."""
    r = tables["replicas"]
    fams = [f for f in FAMILY_ORDER if f in set(r[r["method"] == "gd"]["model"])]
    fig, axes = panel_grid(len(fams))
    for ax, fam in zip(axes, fams, strict=True):
        draw_halting_times(tables, fam, ax=ax)
    return fig


def plot_halting_collapse(tables: dict):
    """Halting-time fluctuations: ``(t - mean) / sd`` of the converged replicas' halting
    times within each ensemble, all sizes on one axis (p-spin left, networks right), as
    Sagun et al. show their collapse onto one law."""
    tasks = tables["tasks"]
    panels = []
    if any(m["family"] == "pspin" for m, _ in tasks):
        panels.append(
            (
                "p-spin: rescaled halting times, all N",
                _pspin_groups(tasks, "gd_steps", "gd_converged"),
            )
        )
    if any(m["family"] != "pspin" for m, _ in tasks):
        panels.append(
            (
                "networks: rescaled halting times, all widths",
                _network_groups(tasks, "gd_steps", "gd_converged"),
            )
        )
    fig, axes = panel_grid(len(panels))
    for ax, (title, groups) in zip(axes, panels, strict=True):
        draw_rescaled(
            groups, ax=ax, title=title, xlabel="(halting time - mean) / sd, converged replicas"
        )
    return fig


def index_fraction_theory(u, p: int) -> np.ndarray:
    """``alpha(u)``: the share of negative Hessian eigenvalues at a critical point of H/N = u.

    :func:`pspin.theory.index_fraction`: the semicircle CDF at 0 (centre -p u, radius
    2 sqrt(p(p-1))).
    """
    return np.asarray(pspin.theory.index_fraction(np.asarray(u, dtype=float), p), dtype=float)


# ------------------------------------------------------------------ dynamics beside exact theory
class _ExactCurve:
    """The exact e(t) as :func:`analysis.plots.dynamics.energy_vs_theory` reads a solution."""

    def __init__(self, t, energy):
        self.t, self.energy = np.asarray(t, dtype=float), np.asarray(energy, dtype=float)
        self.t_max = float(self.t[-1])

    def energy_at(self, t):
        return np.interp(t, self.t, self.energy)


def _on_times(steps, values, at):
    """``values`` recorded at ``steps``, held at the last value after the last record."""
    i = np.clip(np.searchsorted(steps, at, side="right") - 1, 0, steps.size - 1)
    return values[i]


def plot_dynamics_energy(dyn: dict):
    """Measured GD e(t) per N on the exact T = 0 curve, and the finite-N deviations.

    Drawn by :func:`analysis.plots.dynamics.energy_vs_theory` (left: e(t) with its s.e.
    band per N, the exact N = inf curve and -E_inf; right: ``e_N(t) - e_inf(t)``) on the
    continuous time ``step x steps``; an inset of the right panel shows
    ``N (e_N(t) - e_inf(t))``, which collapses across N where the deviation is O(1/N).
    ``dyn`` is :func:`analysis.studies.compare.dynamics.dynamics_data`; None without data.
    """
    from analysis.plots.dynamics import energy_vs_theory

    ex, runs = dyn.get("exact"), dyn["pspin"]
    if ex is None or not runs:
        return None
    steps = max((r["steps"] for r in runs.values()), key=len)
    times = dyn["step"] * steps
    curve = _ExactCurve(ex["t"], ex["energy"])
    study = dict(
        theory=curve,
        times=times,
        params=dict(p=dyn["p"], temperature=0.0),
        runs={
            N: dict(
                energy=_on_times(r["steps"], r["energy"], steps),
                energy_err=_on_times(r["steps"], r["energy_err"], steps),
            )
            for N, r in runs.items()
        },
    )
    fig = energy_vs_theory(study, lines={"-E_inf (threshold)": -dyn["E_inf"]})
    ax, ax2 = fig.axes[:2]
    pos = times > 0
    tt = times[pos]
    lo, hi = ax2.get_ylim()
    ax2.set_ylim(lo, hi + 1.1 * (hi - lo))  # the upper half holds the inset
    inset = ax2.inset_axes([0.5, 0.56, 0.47, 0.36])
    for c, (N, r) in enumerate(study["runs"].items()):
        dev = r["energy"][pos] - curve.energy_at(np.minimum(tt, curve.t_max))
        inset.plot(tt, N * dev, color=f"C{c}", lw=1)
    inset.axhline(0.0, color="k", lw=0.8)
    inset.set_xscale("log")
    inset.set_title("N (e_N - e_inf)", fontsize=7)
    inset.tick_params(labelsize=6)
    ax2.legend(fontsize=8, loc="upper left")
    if not dyn["continuous"]:
        ax.text(
            0.03,
            0.12,
            f"step {dyn['step']:g}: early t off the continuous-time limit",
            transform=ax.transAxes,
            fontsize=7,
            color="crimson",
        )
    return fig


def plot_dynamics_network(dyn: dict, family: str):
    """The exact p-spin ``C(t_w + tau, t_w)`` beside one network family's GD/SGD correlation
    and mean-square displacement (:func:`analysis.plots.dynamics.network_beside_pspin`), at
    the largest width that recorded them; None without data."""
    from analysis.plots.dynamics import network_beside_pspin

    net = dyn["networks"].get(family)
    if net is None:
        return None
    ex = dyn.get("exact")
    pspin = None
    if ex is not None:
        pspin = dict(
            lags=ex["lags"],
            waiting_times=ex["waiting_times"],
            exact_correlation=ex["correlation"],
            params=dict(temperature=0.0),
        )
    data = dict(
        runs={k: dict(twotime=v) for k, v in net["runs"].items()},
        params=dict(dataset=MODEL_LABELS[family], hidden=f"width {net['width']}", dim=net["dim"]),
    )
    return network_beside_pspin(data, pspin)
