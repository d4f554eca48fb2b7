"""The comparison's dynamics: exact N = inf p-spin curves and two-time observables of networks.

* :func:`exact_dynamics_arrays`: the exact T = 0 Cugliandolo–Kurchan solution of the run's pure
  p-spin (:func:`pspin.theory.dynamics`) to the protocol's last time ``step x max_steps``,
  solved once per (p, t_max) and stored in the run folder
  (``arrays/dynamics_theory_p{p}_t{t_max}.npz``), so redrawing the report never re-solves.
* :func:`record_two_time`: ``C(t_w + tau, t_w)`` (cosine) and the mean-square displacement of
  the first few replicas of a GD or SGD run, on a ladder of recorded times
  (:func:`two_time_ladder`); flat arrays for the task's ``.npz`` (:func:`two_time_arrays`).
* :func:`dynamics_data`: the plain data the figures of the report's "Dynamics" section draw.
"""

from __future__ import annotations

import math
import time

import numpy as np

from analysis.dynamics import TwoTimeResult, two_time
from pspin import theory

__all__ = [
    "THEORY_GRID",
    "TWO_TIME_REPLICAS",
    "TWO_TIME_FIELDS",
    "CONTINUOUS_STEP",
    "exact_dynamics_arrays",
    "two_time_ladder",
    "record_two_time",
    "two_time_arrays",
    "two_time_result",
    "dynamics_data",
]

THEORY_GRID = 256
"""Times per two-time grid of the exact solver (adaptive Kim–Latz grid, initial step 0.01)."""

TWO_TIME_REPLICAS = 4
"""Replicas of each network GD/SGD run whose points are recorded for the two-time observables."""

CONTINUOUS_STEP = 0.05
"""Largest GD step drawn as continuous time without a warning: the p = 3 GD energy at step
0.2 differs from that at step 0.05 by about 0.04 at t = 1, 0.01 at t = 5 and 0.002 at t = 10
(N = 200, same starts and couplings): the Euler error is O(step)."""

TWO_TIME_FIELDS = ("waiting_times", "lags", "correlation", "correlation_err", "msd", "msd_err")

_PSPIN_WAITING = (1.0, 4.0, 16.0, 64.0)


def _theory_name(p: int, t_max: float) -> str:
    return f"dynamics_theory_p{int(p)}_t{t_max:g}.npz"


def exact_dynamics_arrays(run, p: int, t_max: float) -> dict:
    """Exact T = 0 dynamics of the pure ``p``-spin to ``t_max``, from ``run`` or solved and stored.

    Returns plain arrays: ``t``, ``energy`` (e(t) per spin), ``error`` (two-resolution
    estimate), ``mu``, the exact ``C(t_w + tau, t_w)`` on a ladder (``waiting_times`` (W,),
    ``lags`` (L,), ``correlation`` (W, L), NaN beyond ``t_max``), ``p``, ``t_max``, ``grid``
    and ``seconds`` (the solver's wall time when it was solved).
    """
    p, t_max = int(p), float(t_max)
    if p < 2 or not (math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"need p >= 2 and a finite t_max > 0; got p={p}, t_max={t_max}")
    name = _theory_name(p, t_max)
    if run is not None and run.exists(run.name_of("array", name)):
        return run.read_arrays(name)
    t0 = time.perf_counter()
    sol = theory.dynamics(p, 0.0, t_max, grid=THEORY_GRID)
    tw = np.array([w for w in _PSPIN_WAITING if 4 * w <= t_max] or [t_max / 4])
    lags = np.unique(np.r_[0.0, 0.25 * 2.0 ** np.arange(0, 40)])
    lags = lags[lags <= t_max - tw[0]]
    corr = np.full((tw.size, lags.size), np.nan)
    for a, w in enumerate(tw):
        ok = w + lags <= sol.t_max
        corr[a, ok] = sol.correlation(w + lags[ok], np.full(int(ok.sum()), w))
    out = dict(
        t=sol.t,
        energy=sol.energy,
        error=sol.error,
        mu=sol.mu,
        waiting_times=tw,
        lags=lags,
        correlation=corr,
        p=np.int64(p),
        t_max=np.float64(t_max),
        grid=np.int64(THEORY_GRID),
        seconds=np.float64(time.perf_counter() - t0),
    )
    if run is not None:
        run.write_arrays(name, **out)
    return out


def two_time_ladder(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Waiting times and lags for recordings at ``times`` (continuous time).

    Waiting times: the recorded times nearest ``1, 4, 16, 64`` up to a quarter of the run (the
    p-spin's ladder, so every run shares it), or the first positive recorded time ``t1`` when
    the run is shorter; lags: 0 and ``t1 2^k`` up to the run's length.
    """
    t = np.asarray(times, dtype=float)
    if t.size < 3:
        raise ValueError(f"need at least 3 recorded times; got {t.size}")
    t1, last = float(t[1]), float(t[-1])
    want = [w for w in _PSPIN_WAITING if max(w, t1) <= last / 4] or [t1]
    tw = np.unique([t[int(np.argmin(np.abs(t - w)))] for w in want])
    lags = np.r_[0.0, t1 * 2.0 ** np.arange(0, 1 + int(math.log2(max(last / t1, 1.0))))]
    return tw, lags


def record_two_time(points: np.ndarray, steps: np.ndarray, step: float) -> TwoTimeResult:
    """Cosine ``C(t_w + tau, t_w)`` and MSD of recorded points ``(T, R, dim)`` at ``steps``.

    Continuous time is ``step x steps`` (for Armijo GD ``step`` is the first trial step, so
    the time is nominal); the ladder is :func:`two_time_ladder`.
    """
    times = float(step) * np.asarray(steps, dtype=float)
    tw, lags = two_time_ladder(times)
    return two_time(points, times, tw, lags, kind="cosine")


def two_time_arrays(prefix: str, res: TwoTimeResult) -> dict:
    """Flat arrays ``{prefix}_{field}`` of a two-time result for a task's ``.npz``."""
    out = {f"{prefix}_{f}": np.asarray(getattr(res, f), dtype=float) for f in TWO_TIME_FIELDS}
    out[f"{prefix}_replicas"] = np.int64(res.n_replicas)
    return out


def two_time_result(arrays: dict, prefix: str) -> TwoTimeResult | None:
    """The :class:`~analysis.dynamics.TwoTimeResult` stored under ``prefix``, or None."""
    if f"{prefix}_correlation" not in arrays:
        return None
    return TwoTimeResult(
        **{f: np.asarray(arrays[f"{prefix}_{f}"]) for f in TWO_TIME_FIELDS},
        n_replicas=int(arrays[f"{prefix}_replicas"]),
        kind="cosine",
    )


def _mean_se(E: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replicas of ``E`` (T, K); s.e. over coupling samples (replicas when one)."""
    ids = np.unique(sample)
    per = np.stack([E[:, sample == s].mean(axis=1) for s in ids], axis=1)  # (T, S)
    if ids.size >= 2:
        return per.mean(axis=1), per.std(axis=1, ddof=1) / math.sqrt(ids.size)
    return E.mean(axis=1), E.std(axis=1, ddof=1) / math.sqrt(max(E.shape[1], 1))


def dynamics_data(tables: dict, config: dict, exact: dict | None) -> dict:
    """Plain data of the "Dynamics" figures from a comparison's tables and the exact solution.

    ``pspin``: per N the GD energy per spin (mean and standard error) at the continuous times
    ``step x steps`` of the stored learning curves (a replica that stopped at ``gtol`` keeps
    its final energy), the exact curve, -E_inf and the step. ``networks``: per family the
    two-time results of GD and SGD at the largest width that recorded them.
    """
    c = config["pspin"]
    step = float(c["step"])
    runs = {}
    for meta, a in tables["tasks"]:
        if meta["family"] != "pspin" or "gd_trace" not in a:
            continue
        st = np.asarray(a["gd_trace_steps"], dtype=float)
        m, s = _mean_se(np.asarray(a["gd_trace"], dtype=float), np.asarray(a["sample"]))
        runs[int(meta["size"])] = dict(steps=st, energy=m, energy_err=s)
    nets = {}
    for meta, a in tables["tasks"]:
        if meta["family"] == "pspin":
            continue
        got = {k: two_time_result(a, f"tt_{k}") for k in ("gd", "sgd")}
        got = {k: v for k, v in got.items() if v is not None}
        fam = meta["family"]
        if got and int(meta["size"]) >= nets.get(fam, {}).get("width", -1):
            nets[fam] = dict(width=int(meta["size"]), dim=int(meta["dim"]), runs=got)
    return dict(
        p=int(c["p"]),
        step=step,
        continuous=step <= CONTINUOUS_STEP,
        E_inf=float(theory.threshold_energy(int(c["p"]))),
        pspin=dict(sorted(runs.items())),
        exact=exact,
        networks=nets,
        gd_schedule=config["networks"].get("gd_schedule", "fixed"),
        gd_step=float(config["networks"]["gd_step"]),
        sgd_step=float(config["networks"]["sgd_step"]),
    )
