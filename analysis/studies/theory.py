"""The exact theory of the spherical p-spin as tables: constants, Kac–Rice counts, curves.

The ``theory`` study evaluates :mod:`pspin.theory` for a pure model or a mixture: the
landscape and thermodynamic constants in the ABC and Crisanti–Sommers conventions
(:func:`constants_table`), the exact finite-N Kac–Rice table of mean numbers of critical
points per index, optionally checked by Monte Carlo over GOE matrices
(:func:`kac_rice_tables`, stored tasks of a run folder), the complexity and index curves of a
pure model (:func:`theory_curves`) and a text report (:func:`report_text`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from analysis.store import task_key
from pspin import theory as th

__all__ = [
    "N_LAYERS",
    "MAX_TABLE_N",
    "parse_xi",
    "theory_model",
    "constants_table",
    "kac_rice_tables",
    "theory_curves",
    "report_text",
]

N_LAYERS = 6  # E_0 .. E_5
MAX_TABLE_N = 40  # the exact per-index table costs ~N^5 (about 15 s at N = 40)


def parse_xi(text: str) -> dict[int, float]:
    """Parse ``'3:0.5,4:0.5'`` into ``{3: 0.5, 4: 0.5}`` (ValueError on malformed input)."""
    out: dict[int, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            p_str, a_str = part.split(":")
            p, a = int(p_str), float(a_str)
        except ValueError:
            raise ValueError(
                f"--xi must look like '3:0.5,4:0.5' (order:weight pairs); got {text!r}"
            ) from None
        if p in out:
            raise ValueError(f"--xi lists p={p} twice")
        out[p] = a
    if not out:
        raise ValueError(f"--xi is empty: {text!r}")
    return out


def theory_model(p: int | None = None, xi: dict | None = None):
    """The validated model of :mod:`pspin.theory` for ``p`` or a mixture ``xi`` (ValueError)."""
    if xi is None and (p is None or p < 2):
        raise ValueError(f"p must be >= 2; got {p}")
    return th.model_of(xi if xi is not None else p)


def _safe(fn, *a, **kw):
    """The value, or None where the theory does not extend (NotImplementedError)."""
    try:
        return fn(*a, **kw)
    except NotImplementedError:
        return None


def constants_table(model) -> list[dict]:
    """Rows ``quantity, symbol, abc, cs, note`` of the landscape and thermodynamic constants.

    ``model`` is what :mod:`pspin.theory` accepts (``p``, a mixture dict or a model).
    Quantities that do not extend to a mixture have ``None`` values.
    """
    rows: list[dict] = []

    def add(quantity, symbol, fn, note="", convert=True):
        abc = _safe(fn, "abc")
        cs = _safe(fn, "cs") if convert else abc
        rows.append({"quantity": quantity, "symbol": symbol, "abc": abc, "cs": cs, "note": note})

    add(
        "threshold constant (threshold energy per spin is -E_inf)",
        "E_inf",
        lambda c: th.threshold_energy(model, c),
    )
    for k in range(N_LAYERS):
        add(
            f"layer constant of index {k} (no index-{k} points below -E_{k})",
            f"E_{k}",
            lambda c, k=k: th.layer_energy(model, k, c),
            "ground state" if k == 0 else "",
        )
    add(
        "ground state by zero-temperature 1RSB (independent route)",
        "E_0(1RSB)",
        lambda c: th.ground_state_energy(model, c, method="1rsb"),
    )
    add(
        "annealed complexity of all critical points",
        "Sigma_tot",
        lambda c: th.total_complexity(model, c),
        "same in both conventions",
        convert=False,
    )
    add(
        "complexity of minima at the threshold",
        "Theta_0(-E_inf)",
        lambda c: float(th.complexity(-th.threshold_energy(model, c), model, k=0, convention=c)),
        "same in both conventions",
        convert=False,
    )
    add(
        "effective order 1 + xi''(1)/xi'(1)",
        "p_eff",
        lambda c: th.effective_p(model, c),
        convert=False,
    )
    add(
        "dynamical (mode-coupling) temperature",
        "T_d",
        lambda c: th.dynamical_transition(model, c).temperature,
    )
    add(
        "EA overlap (plateau) at T_d",
        "q_d",
        lambda c: th.dynamical_transition(model, c).overlap,
        convert=False,
    )
    add(
        "equilibrium energy per spin at T_d",
        "e(T_d)",
        lambda c: th.dynamical_transition(model, c).energy,
    )
    add(
        "static (Kauzmann, 1RSB) temperature",
        "T_s",
        lambda c: th.static_transition(model, c).temperature,
    )
    add("EA overlap at T_s", "q_s", lambda c: th.static_transition(model, c).overlap, convert=False)
    add(
        "equilibrium energy per spin at T_s",
        "e(T_s)",
        lambda c: th.static_transition(model, c).energy,
    )
    add(
        "paramagnetic energy per spin at T = 1 (ABC units)",
        "e_para(1)",
        lambda c: th.paramagnetic_energy(1.0 if c == "abc" else 1 / math.sqrt(2), model, c).item(),
        "-xi(1)/T",
    )
    return rows


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.6f}"


def kac_rice_tables(run, model, N: int, mc_samples: int = 0, seed: int = 0) -> dict:
    """Exact Kac–Rice counts at ``N`` (and a Monte Carlo check), stored as tasks of ``run``.

    Returns a dict with ``meta`` (totals, ``p_eff``, diagnostics), ``arr`` (``mean``,
    ``error``; for a pure model also the counts below the threshold and the energy-resolved
    density), ``mc`` (Monte Carlo means and standard errors, or None) and ``table`` (the
    columns of ``kac_rice_N{N}.csv``).
    """
    if N < 2:
        raise ValueError(f"N must be >= 2; got {N}")
    if N > MAX_TABLE_N:
        raise ValueError(
            f"N = {N}: the exact per-index table costs ~N^5 (about 15 s at N = 40); "
            "use pspin.theory.kac_rice_mean(N, p, per_index=False) for the total at larger N"
        )
    if mc_samples < 0 or mc_samples == 1:
        raise ValueError(f"mc_samples must be 0 or >= 2; got {mc_samples}")
    m = th.model_of(model)
    pure = m.pure
    key = task_key({"task": "kac_rice", "model": m.coeffs, "N": N})
    if run.has_task(key):
        meta, arr = run.load_task(key)
    else:
        t0 = time.perf_counter()
        full = th.kac_rice_mean(N, model)
        arr = {"mean": full.by_index, "error": full.by_index_error}
        meta = {
            "total": full.total,
            "total_error": full.total_error,
            "p_eff": full.p,
            "diagnostics": full.diagnostics,
        }
        if pure:
            below = th.kac_rice_mean(
                N, model, energy_range=(-math.inf, -th.threshold_energy(model))
            )
            arr.update(below_mean=below.by_index, below_error=below.by_index_error)
            meta.update(below_total=below.total, below_total_error=below.total_error)
            u = np.linspace(
                -1.15 * th.threshold_energy(model), 1.15 * th.threshold_energy(model), 161
            )
            arr.update(density_u=u, density=th.kac_rice_density(N, model, u))
        meta["seconds"] = time.perf_counter() - t0
        run.save_task(key, meta, **arr)
    table = {"index": np.arange(N), "mean": arr["mean"], "error": arr["error"]}
    if pure:
        table.update(
            mean_below_threshold=arr["below_mean"], error_below_threshold=arr["below_error"]
        )
    mc = None
    if mc_samples:
        mkey = task_key(
            {"task": "kac_rice_mc", "model": m.coeffs, "N": N, "n": mc_samples, "seed": seed}
        )
        if run.has_task(mkey):
            _, mc = run.load_task(mkey)
        else:
            r = th.kac_rice_monte_carlo(N, model, n_samples=mc_samples, seed=seed)
            mc = {"mean": r.by_index, "stderr": r.by_index_error}
            mc_meta = {"total": r.total, "total_stderr": r.total_error, "seed": r.seed}
            run.save_task(mkey, mc_meta, **mc)
        table.update(mc_mean=mc["mean"], mc_stderr=mc["stderr"])
        with np.errstate(divide="ignore", invalid="ignore"):
            table["z_score"] = np.where(
                mc["stderr"] > 0, (mc["mean"] - arr["mean"]) / mc["stderr"], np.nan
            )
    return {"meta": meta, "arr": arr, "mc": mc, "table": table}


def theory_curves(model) -> dict[str, np.ndarray]:
    """Complexity curves ``theta_k`` near the bottom, all-index complexities and ``alpha(u)``."""
    e_inf = th.threshold_energy(model)
    e0 = th.ground_state_energy(model)
    u_low = np.linspace(-e0 - 0.35 * (e0 - e_inf) - 0.01, -e_inf + 0.35 * (e0 - e_inf) + 0.01, 400)
    u_all = np.linspace(-1.25 * e0, 1.25 * e0, 801)
    out = {"u_low": u_low, "u_all": u_all}
    for k in range(N_LAYERS):
        out[f"theta_{k}"] = th.complexity(u_low, model, k=k)
    out["theta_total_low"] = th.complexity(u_low, model)
    out["theta_total"] = th.complexity(u_all, model)
    out["sigma_total"] = th.complexity(u_all, model, cumulative=False)
    out["index_fraction"] = th.index_fraction(u_all, model)
    return out


def report_text(m, rows, N: int, arr, meta, mc, figures) -> str:
    """The text report (report.md): constants, the Kac–Rice table, the files written."""
    lines = [
        f"# landscapes theory: {m.describe()}",
        "",
        "Constants (energies per spin; the ground state is -E_0, the threshold -E_inf).",
        "ABC: covariance N xi(q); CS: covariance (N/2) xi(q), energies and temperatures / sqrt2.",
        "",
        f"{'symbol':<16} {'ABC':>12} {'CS':>12}  quantity",
        "-" * 80,
    ]
    for r in rows:
        lines.append(f"{r['symbol']:<16} {_fmt(r['abc']):>12} {_fmt(r['cs']):>12}  {r['quantity']}")
    lines += [
        "",
        f"Exact Kac-Rice mean number of critical points, N = {N} "
        f"(total {meta['total']:.6f} +- {meta['total_error']:.1e}):",
        "",
    ]
    head = f"{'k':>3} {'all energies':>16} {'error':>9}"
    if "below_mean" in arr:
        head += f" {'below -E_inf':>14}"
    if mc is not None:
        head += f" {'Monte Carlo':>14} {'s.e.':>9}"
    lines.append(head)
    for k in range(N):
        s = f"{k:>3} {arr['mean'][k]:>16.6f} {arr['error'][k]:>9.1e}"
        if "below_mean" in arr:
            s += f" {arr['below_mean'][k]:>14.6g}"
        if mc is not None:
            s += f" {mc['mean'][k]:>14.6f} {mc['stderr'][k]:>9.1e}"
        lines.append(s)
    lines += [
        "",
        "Files: tables/constants.csv, "
        + f"tables/kac_rice_N{N}.csv, "
        + ("arrays/curves.npz, " if m.pure else "")
        + ", ".join(figures),
    ]
    if not m.pure:
        lines.append(
            "Mixture: thresholds, layers, T_s and energy-resolved counts need the "
            "energy-dependent Kac-Rice tilt and are not implemented (n/a)."
        )
    return "\n".join(lines) + "\n"
