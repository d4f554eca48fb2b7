"""The exact N = inf p-spin dynamics: solver cost, the late-time approach, simulations vs theory.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.dynamics_theory`` (prints Markdown; the
latest figures are recorded in benchmarks/dynamics_theory.md), ``--quick`` for a smoke run,
``--parts cost,fit,table`` to choose.

* cost: wall time and memory of :func:`pspin.theory.dynamics` (p = 3, T = 0) against ``t_max``,
  fixed grid (step h0 = 0.01 to ``t_max``, memory ~ (t_max/h0)^2) vs the adaptive grid (halve
  the grid and double the step), with ``e(t_max)`` and the two-resolution error.
* fit: the late-time approach ``e(t) + E_inf ~ A t^{-a}`` at T = 0 on [t_max/20, t_max]
  (least squares in log-log; the exponent's error is the regression s.e. plus the change
  between grids of 256 and 512 times), and a 3-parameter fit with a free asymptote.
* table: finite-N gradient descent (step 0.02) at N = 50, 100, 200 (samples x replicas) against
  the exact e(t) with standard errors (the protocol of ``landscapes dynamics pspin``).

Every timing is printed beside the load average (``os.getloadavg``): the development machine
is shared, so times are inflated by the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from pspin import theory as th


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def cost(t_maxes_fixed, t_maxes_adaptive, grid: int = 512) -> list[dict]:
    """Solver wall time vs t_max, fixed and adaptive grid (T = 0, p = 3)."""
    rows = []
    for kind, tms in (("fixed", t_maxes_fixed), ("adaptive", t_maxes_adaptive)):
        for tm in tms:
            t0 = time.perf_counter()
            s = th.dynamics(3, 0.0, tm, h0=0.01, grid=grid, adaptive=kind == "adaptive", error=True)
            wall = time.perf_counter() - t0
            n = grid if kind == "adaptive" else int(np.ceil(tm / 0.01))
            rows.append(
                dict(
                    grid=kind,
                    t_max=tm,
                    times_per_grid=n + 1,
                    memory_MB=8 * 8 * (n + 1) ** 2 / 1e6,
                    steps=s.params["steps"],
                    final_step=s.params["final_step"],
                    seconds=wall,
                    e_tmax=float(s.energy[-1]),
                    error=float(s.error[-1]),
                    load=_load(),
                )
            )
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _powerfit(t, gap):
    """Slope of log gap vs log t with its standard error."""
    x, y = np.log(t), np.log(gap)
    A = np.vstack([x, np.ones_like(x)]).T
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    r = y - A @ coef
    s2 = float(r @ r) / max(1, x.size - 2)
    cov = s2 * np.linalg.inv(A.T @ A)
    return -coef[0], float(np.sqrt(cov[0, 0])), float(np.exp(coef[1]))


def fit(t_max: float = 1000.0, grids=(256, 512)) -> dict:
    """Late-time fit of e(t) + E_inf ~ A t^-a at T = 0 (p = 3)."""
    from scipy.optimize import curve_fit

    e_inf = th.threshold_energy(3)
    out = {"t_max": t_max, "window": (t_max / 20, t_max), "fits": []}
    for g in grids:
        t0 = time.perf_counter()
        s = th.dynamics(3, 0.0, t_max, h0=0.01, grid=g, error=False)
        wall = time.perf_counter() - t0
        m = (s.t >= t_max / 20) & (s.t <= t_max)
        a, se, A = _powerfit(s.t[m], s.energy[m] + e_inf)
        try:
            p, cov = curve_fit(
                lambda t, e0, A, a: e0 + A * t ** (-a),
                s.t[m],
                s.energy[m],
                p0=(-e_inf, 1.0, 0.66),
                maxfev=20000,
            )
            free = dict(e_asymptote=p[0], e_asymptote_se=float(np.sqrt(cov[0, 0])), a_free=p[2])
        except RuntimeError:
            free = {}
        out["fits"].append(
            dict(
                grid=g,
                a=a,
                a_se=se,
                A=A,
                gap_tmax=float(s.energy[-1] + e_inf),
                seconds=wall,
                load=_load(),
                **free,
            )
        )
        print(out["fits"][-1], file=sys.stderr, flush=True)
    f = out["fits"]
    out["a"] = f[-1]["a"]
    out["a_err"] = f[-1]["a_se"] + (abs(f[-1]["a"] - f[0]["a"]) if len(f) > 1 else 0.0)
    return out


def table(sizes=(50, 100, 200), samples: int = 2, replicas: int = 4, t_max: float = 50.0):
    """Finite-N gradient descent vs the exact e(t) (the dynamics study's comparison table)."""
    from analysis.studies import dynamics as study

    t0 = time.perf_counter()
    res = study.pspin_study(
        sizes=sizes,
        samples=samples,
        replicas=replicas,
        t_max=t_max,
        step=0.02,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    rows = study.comparison_table(res)
    return rows, time.perf_counter() - t0


def _md(rows: list[dict], cols: list[str]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--parts", default="cost,fit,table", help="comma-separated parts")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    print(f"# dynamics_theory ({_load()}; the machine is shared: times are inflated)\n")
    if "cost" in parts:
        if args.quick:
            rows = cost((2.0,), (2.0, 20.0), grid=128)
        else:
            rows = cost((10.0, 20.0), (10.0, 20.0, 100.0, 1000.0))
        print("## solver cost vs t_max (p = 3, T = 0, h0 = 0.01)\n")
        print(
            _md(
                rows,
                [
                    "grid",
                    "t_max",
                    "times_per_grid",
                    "memory_MB",
                    "steps",
                    "final_step",
                    "seconds",
                    "e_tmax",
                    "error",
                    "load",
                ],
            )
        )
        print()
    if "fit" in parts:
        f = fit(100.0, grids=(128, 256)) if args.quick else fit(1000.0)
        print("## late-time approach e(t) + E_inf ~ A t^-a (p = 3, T = 0)\n")
        print(
            _md(
                f["fits"],
                [
                    "grid",
                    "a",
                    "a_se",
                    "A",
                    "gap_tmax",
                    "e_asymptote",
                    "e_asymptote_se",
                    "a_free",
                    "seconds",
                ],
            )
        )
        print(f"\nexponent a = {f['a']:.3f} +- {f['a_err']:.3f} on t in {f['window']}\n")
    if "table" in parts:
        if args.quick:
            rows, wall = table(sizes=(16, 32), samples=2, replicas=2, t_max=5.0)
        else:
            rows, wall = table()
        print(f"## finite-N gradient descent vs the exact e(t) ({wall:.0f} s, {_load()})\n")
        print(_md(rows, ["N", "t", "e_N", "se", "e_inf", "solver_error", "deviation", "z",
                         "N_times_deviation"]))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
