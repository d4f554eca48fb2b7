"""The exact N = inf p-spin dynamics: solver cost, the late-time approach, simulations vs theory.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.dynamics_theory`` (prints Markdown; the
latest figures are recorded in benchmarks/dynamics_theory.md), ``--quick`` for a smoke run,
``--parts cost,fit,table`` to choose.

* cost: wall and CPU time and memory of :func:`pspin.theory.dynamics` (p = 3, T = 0) against
  ``t_max``, fixed grid (step h0 = 0.01 to ``t_max``, memory ~ (t_max/h0)^2) vs the adaptive
  grid (halve the grid and double the step), with ``e(t_max)`` and the two-resolution error.
* fit: the late-time approach ``e(t) + E_inf ~ A t^{-a}`` at T = 0 on [t_max/20, t_max]
  (least squares in log-log; the exponent's error is the regression s.e. plus the change
  between grids of 256 and 512 times), and a 3-parameter fit with a free asymptote.
* table: finite-N gradient descent (T = 0, N = 200, 400, 800) and Langevin (T = 1.5) against
  the exact e(t): s.e. over disorder samples, the measured step bias, the fit
  e_N - e_inf = a(t)/N with its chi^2, C(t_w + tau, t_w), and the GD endpoints (gradient decay,
  smallest Hessian eigenvalue; also N = 50, 100 to t = 100). The protocol of ``landscapes
  dynamics pspin`` (``TABLE_RUNS``); ``--table-runs gd,langevin,late``, ``--table-store DIR``
  saves every sample as it ends (resumable). About 1 CPU hour in all (N = 800: 4 GB each).

Every timing is printed beside the load average (``os.getloadavg``): the development machine
is shared, so times are inflated by the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from analysis.studies.dynamics_compare import COMPARISON_COLUMNS
from pspin import theory as th


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def cost(t_maxes_fixed, t_maxes_adaptive, grid: int = 512) -> list[dict]:
    """Solver wall time vs t_max, fixed and adaptive grid (T = 0, p = 3)."""
    rows = []
    for kind, tms in (("fixed", t_maxes_fixed), ("adaptive", t_maxes_adaptive)):
        for tm in tms:
            t0, c0 = time.perf_counter(), time.process_time()
            s = th.dynamics(3, 0.0, tm, h0=0.01, grid=grid, adaptive=kind == "adaptive", error=True)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
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
                    cpu_seconds=cpu,
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
        t0, c0 = time.perf_counter(), time.process_time()
        s = th.dynamics(3, 0.0, t_max, h0=0.01, grid=g, error=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
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
                cpu_seconds=cpu,
                load=_load(),
                **free,
            )
        )
        print(out["fits"][-1], file=sys.stderr, flush=True)
    f = out["fits"]
    out["a"] = f[-1]["a"]
    out["a_err"] = f[-1]["a_se"] + (abs(f[-1]["a"] - f[0]["a"]) if len(f) > 1 else 0.0)
    return out


TABLE_RUNS = {
    # the runs behind the finite-N tables of benchmarks/dynamics_theory.md (same as
    # `landscapes dynamics pspin` with these options and --seed 0)
    "gd": dict(temperature=0.0, sizes=(200, 400, 800), samples=(8, 8, 8), replicas=8,
               t_max=(20.0, 20.0, 8.0), step=0.02, step_check=200, hessian=True,
               waiting_times=(1.0, 4.0)),
    "langevin": dict(temperature=1.5, sizes=(200, 400, 800), samples=(40, 5, 4), replicas=8,
                     t_max=(4.0, 4.0, 2.0), step=0.02, step_check=200, waiting_times=(0.5, 1.0)),
    "late": dict(temperature=0.0, sizes=(50, 100), samples=6, replicas=8, t_max=100.0,
                 step=0.02, hessian=True, waiting_times=(1.0, 4.0, 16.0)),
}  # fmt: skip


def table(store: str | None = None, **kw):
    """Finite N vs the exact dynamics: comparison, a(t)/N fit and endpoint tables.

    ``kw`` goes to :func:`analysis.studies.dynamics.pspin_study` (see ``TABLE_RUNS``);
    ``store`` is a folder where each disorder sample is saved as it ends (a run folder of
    ``benchmarks.dynamics_theory``; an interrupted run resumes from it).
    """
    from analysis.store import RunFolder
    from analysis.studies import dynamics as study

    rf = None
    if store is not None:
        cfg = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}
        done = os.path.isdir(store) and os.listdir(store)
        rf = RunFolder(store, command="benchmarks.dynamics_theory", config=cfg, resume=bool(done))
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = study.pspin_study(store=rf, log=lambda m: print(m, file=sys.stderr, flush=True), **kw)
    comp = study.comparison_table(res)
    out = dict(
        comparison=comp,
        fit=study.fit_table(comp),
        correlation=study.correlation_table(res),
        endpoints=study.endpoint_table(res),
        seconds=time.perf_counter() - t0,
        cpu_seconds=time.process_time() - c0,
    )
    return out


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
    ap.add_argument("--table-runs", default="gd,langevin,late", help="runs of the table part")
    ap.add_argument("--table-store", default=None, help="folder saving each sample (resumable)")
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
                    "cpu_seconds",
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
                    "cpu_seconds",
                    "load",
                ],
            )
        )
        print(f"\nexponent a = {f['a']:.3f} +- {f['a_err']:.3f} on t in {f['window']}\n")
    if "table" in parts:
        runs = {
            "quick": dict(
                sizes=(16, 32),
                samples=2,
                replicas=2,
                t_max=2.0,
                waiting_times=(0.5,),
                step_check=16,
                hessian=True,
                grid=64,
            )
        }
        for name in runs if args.quick else args.table_runs.split(","):
            kw = runs.get(name) or TABLE_RUNS[name]
            store = os.path.join(args.table_store, name) if args.table_store else None
            t = table(store=store, **kw)
            print(
                f"## finite N vs the exact e(t): {name} ({t['seconds']:.0f} s wall, "
                f"{t['cpu_seconds']:.0f} CPU s, {_load()})\n"
            )
            print(_md(t["comparison"], list(COMPARISON_COLUMNS)))
            print("\n" + _md(t["fit"], ["t", "a", "a_se", "chi2", "dof", "sizes"]))
            print(
                "\n"
                + _md(
                    t["correlation"],
                    [
                        "N",
                        "t_w",
                        "lag",
                        "C_N",
                        "se",
                        "C_inf",
                        "deviation",
                        "c",
                        "c_se",
                        "chi2",
                        "z_after",
                    ],
                )
            )
            print(
                "\n"
                + _md(
                    t["endpoints"],
                    [
                        "N",
                        "t",
                        "e_N",
                        "se",
                        "e_inf",
                        "grad",
                        "grad_rate",
                        "grad_rate_inf",
                        "lambda_min",
                        "lambda_min_se",
                        "positive",
                    ],
                )
            )
            print()  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
