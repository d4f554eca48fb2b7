"""The dynamics study: finite-N descents and Langevin runs beside the exact N = inf dynamics.

``pspin`` protocol (:func:`pspin_study`): for each size ``N`` and each disorder sample, ``R``
replicas start uniformly on the sphere and follow gradient descent (``T = 0``) or unadjusted
Langevin (``T > 0``) with a small step ``h`` (continuous time ``t = h x steps``; the Euler
scheme of the equations solved by :func:`pspin.theory.dynamics`); the energy per spin ``e(t)``
and the two-time correlation ``C(t_w + tau, t_w)`` (overlap ``x.y/N``) are compared with the
exact curves. Error bars: the mean over the replicas of a sample, then the standard error over
samples (over replicas when there is one sample). Finite-N deviations are reported, not
hidden: the table gives ``e_N(t) - e_inf(t)`` with its standard error and ``N x`` that
deviation (an O(1/N) correction makes it N-independent at fixed t).

``network`` protocol (:func:`network_study`): replicas of a small fully connected network
trained by GD and SGD from the standard initialization; the same observables, with the cosine
correlation and the mean-square displacement (Baity-Jesi et al., ICML 2018).

Streams: ``child(seed, "model", i, s)`` draws the couplings of size ``i`` and sample ``s`` (the
data for networks), ``child(seed, "starts", i, s)`` the initial points, and
``child(seed, "noise", i, s)`` the Langevin / SGD noise.
"""

from __future__ import annotations

import math
import time

import numpy as np

from analysis.dynamics import gradient_descent, langevin, sgd, two_time
from landscapes.random import child
from pspin import SphericalPSpin
from pspin import theory as th

__all__ = [
    "DEFAULT_LAGS",
    "exact_dynamics",
    "exact_pspin_ladder",
    "pspin_study",
    "network_study",
    "comparison_table",
    "pspin_outputs",
    "network_outputs",
]

DEFAULT_LAGS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def _mean_se(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and error over ``(S, R, ...)``: replica means per sample, s.e. over samples."""
    per = v.mean(axis=1)
    S, R = v.shape[:2]
    if S >= 2:
        return per.mean(axis=0), per.std(axis=0, ddof=1) / math.sqrt(S)
    if R >= 2:
        return per[0], v[0].std(axis=0, ddof=1) / math.sqrt(R)
    return per[0], np.full(per[0].shape, np.nan)


def _ladder(times: np.ndarray, waiting_times) -> np.ndarray:
    """The recorded times nearest to the requested waiting times (unique, increasing)."""
    out = [times[int(np.argmin(np.abs(times - w)))] for w in waiting_times]
    return np.unique(np.asarray(out, dtype=float))


def exact_dynamics(p: int, T: float, t_max: float, *, grid: int = 256, h0: float = 0.01):
    """The exact N = inf solution (:func:`pspin.theory.dynamics`, with its error estimate)."""
    return th.dynamics(p, T, t_max, grid=grid, h0=h0, error=True)


def _pspin_run(N, p, T, replicas, step, n_steps, record_every, seed, i, s):
    model = SphericalPSpin(N, p, seed=child(seed, "model", i, s))
    x0 = model.random_point(child(seed, "starts", i, s), size=replicas)
    if T == 0:
        r = gradient_descent(
            model,
            x0,
            step=step,
            max_steps=n_steps,
            gtol=0.0,
            record_every=record_every,
            record_points=True,
            progress=False,
        )
        return r.trajectory_steps * step, r.trajectory_energies.T, r.trajectory_x
    r = langevin(
        model,
        x0,
        temperature=T,
        step=step,
        n_steps=n_steps,
        seed=child(seed, "noise", i, s),
        record_every=record_every,
        record_points=True,
        progress=False,
    )
    return r.trace_steps * step, r.trace.T, r.trace_x


def pspin_study(
    *,
    p: int = 3,
    temperature: float = 0.0,
    sizes=(50, 100, 200),
    samples: int = 2,
    replicas: int = 4,
    seed: int = 0,
    step: float = 0.02,
    t_max: float = 50.0,
    waiting_times=(1.0, 4.0, 16.0),
    lags=DEFAULT_LAGS,
    records: int = 400,
    grid: int = 256,
    log=print,
) -> dict:
    """Finite-N gradient descent / Langevin on the p-spin beside the exact dynamics.

    Returns
    -------
    dict
        ``theory`` (the :class:`~pspin.theory.DynamicsSolution`), ``times`` (recorded times),
        ``waiting_times``, ``lags``, and per size ``runs[N]`` with ``energy``/``energy_err``
        (on ``times``), ``twotime`` (a :class:`~analysis.dynamics.TwoTimeResult` pooled over
        samples) and ``seconds``; ``exact_correlation`` ``(W, L)`` on the same ladder.
    """
    if p < 2:
        raise ValueError(f"p must be >= 2; got {p}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0; got {temperature}")
    if step <= 0 or t_max <= step:
        raise ValueError(f"need 0 < step < t_max; got step={step}, t_max={t_max}")
    n_steps = int(round(t_max / step))
    record_every = max(1, n_steps // records)
    t0 = time.perf_counter()
    sol = exact_dynamics(p, temperature, t_max, grid=grid)
    log(f"exact dynamics to t = {t_max:g}: {time.perf_counter() - t0:.1f} s")
    runs = {}
    times = tw = None
    lag = np.asarray(lags, dtype=float)
    for i, N in enumerate(sizes):
        t1 = time.perf_counter()
        E, P = [], []
        for s in range(samples):
            times, e, pts = _pspin_run(
                N, p, temperature, replicas, step, n_steps, record_every, seed, i, s
            )
            E.append(e)
            P.append(pts)
        tw = _ladder(times, waiting_times)
        e_mean, e_err = _mean_se(np.stack(E))  # (S, R, T)
        pooled = np.concatenate(P, axis=1)  # (T, S R, N)
        tt = two_time(pooled, times, tw, lag[lag <= t_max], kind="cosine")
        runs[int(N)] = dict(
            energy=e_mean, energy_err=e_err, twotime=tt, seconds=time.perf_counter() - t1
        )
        log(f"N = {N}: {samples} samples x {replicas} replicas, {runs[N]['seconds']:.1f} s")
    lag = lag[lag <= t_max]
    ok = tw[:, None] + lag[None, :] <= sol.t_max
    exact_c = np.full((tw.size, lag.size), np.nan)
    for a, w in enumerate(tw):
        exact_c[a, ok[a]] = sol.correlation(w + lag[ok[a]], np.full(ok[a].sum(), w))
    return dict(
        theory=sol,
        times=times,
        waiting_times=tw,
        lags=lag,
        runs=runs,
        exact_correlation=exact_c,
        params=dict(
            p=p,
            temperature=temperature,
            sizes=list(sizes),
            samples=samples,
            replicas=replicas,
            seed=seed,
            step=step,
            t_max=t_max,
            record_every=record_every,
        ),
    )


def comparison_table(study: dict, at=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)) -> list[dict]:
    """Rows ``N, t, e_N, se, e_inf, deviation, z, N*deviation`` at the times ``at``."""
    sol, times = study["theory"], study["times"]
    rows = []
    for N, r in study["runs"].items():
        for t in at:
            if t > times[-1] or t > sol.t_max:
                continue
            k = int(np.argmin(np.abs(times - t)))
            e_th = float(sol.energy_at(times[k]))
            dev = float(r["energy"][k] - e_th)
            se = float(r["energy_err"][k])
            rows.append(
                dict(
                    N=N,
                    t=float(times[k]),
                    e_N=float(r["energy"][k]),
                    se=se,
                    e_inf=e_th,
                    solver_error=float(np.interp(times[k], sol.t, sol.error)),
                    deviation=dev,
                    z=dev / se if se > 0 else float("nan"),
                    N_times_deviation=N * dev,
                )
            )
    return rows


def exact_pspin_ladder(
    *,
    p: int = 3,
    temperature: float = 0.0,
    waiting_times=(1.0, 4.0, 16.0),
    lags=DEFAULT_LAGS,
    max_lag: float = 128.0,
    grid: int = 256,
) -> dict:
    """Exact ``C(t_w + tau, t_w)`` of the p-spin on a ladder (for drawing beside networks)."""
    tw = np.asarray(waiting_times, dtype=float)
    lag = np.asarray(lags, dtype=float)
    lag = lag[lag <= max_lag]
    sol = exact_dynamics(p, temperature, float(tw.max() + lag.max()), grid=grid)
    exact_c = np.array([sol.correlation(w + lag, np.full(lag.size, w)) for w in tw])
    return dict(
        theory=sol,
        waiting_times=tw,
        lags=lag,
        exact_correlation=exact_c,
        params=dict(p=p, temperature=temperature),
    )


def network_study(
    *,
    dataset: str = "teacher_student",
    hidden=(16,),
    methods=("gd", "sgd"),
    replicas: int = 4,
    seed: int = 0,
    step: float = 0.05,
    t_max: float = 100.0,
    batch_size: int = 16,
    n_train: int = 256,
    waiting_times=(1.0, 4.0, 16.0),
    lags=DEFAULT_LAGS,
    records: int = 400,
    log=print,
) -> dict:
    """GD and SGD on a small network: loss, ``C(t_w + tau, t_w)`` (cosine) and the MSD.

    Returns
    -------
    dict
        ``runs[method]`` with ``times``, ``loss``/``loss_err`` and ``twotime``; ``params``.
    """
    from analysis.studies.descend import mlp_model

    if step <= 0 or t_max <= step:
        raise ValueError(f"need 0 < step < t_max; got step={step}, t_max={t_max}")
    cfg = dict(
        dataset=dataset,
        n_train=n_train,
        input_dim=10,
        teacher_hidden=[8],
        activation="tanh",
        noise=0.0,
        hidden=list(hidden),
        loss="mse" if dataset == "teacher_student" else "cross_entropy",
        weight_decay=0.0,
    )
    model = mlp_model(cfg, child(seed, "model", 0, 0))
    x0 = model.random_point(child(seed, "starts", 0, 0), size=replicas)
    n_steps = int(round(t_max / step))
    runs = {}
    lag = np.asarray(lags, dtype=float)
    lag = lag[lag <= t_max]
    for method in methods:
        t1 = time.perf_counter()
        if method == "gd":
            r = gradient_descent(
                model,
                x0,
                step=step,
                max_steps=n_steps,
                gtol=0.0,
                record_every=max(1, n_steps // records),
                record_points=True,
                progress=False,
            )
        elif method == "sgd":
            per_epoch = model.n_samples // batch_size
            epochs = max(1, math.ceil(n_steps / per_epoch))
            r = sgd(
                model,
                x0,
                batch_size=batch_size,
                step=step,
                epochs=epochs,
                seed=child(seed, "noise", 0, 0),
                record_every=max(1, epochs * per_epoch // records),
                record_points=True,
                progress=False,
            )
        else:
            raise ValueError(f"method must be 'gd' or 'sgd'; got {method!r}")
        times = r.trajectory_steps * step
        tw = _ladder(times, waiting_times)
        tt = two_time(r.trajectory_x, times, tw, lag, kind="cosine")
        loss = r.trajectory_energies.T[None]  # (1, R, T)
        m, se = _mean_se(loss)
        runs[method] = dict(
            times=times, loss=m, loss_err=se, twotime=tt, seconds=time.perf_counter() - t1
        )
        log(f"{method}: {replicas} replicas, {runs[method]['seconds']:.1f} s")
    return dict(
        runs=runs,
        params=dict(
            cfg,
            methods=list(methods),
            replicas=replicas,
            seed=seed,
            step=step,
            t_max=t_max,
            batch_size=batch_size,
            dim=int(model.dim),
        ),
    )


def pspin_outputs(study: dict) -> tuple[dict, dict]:
    """Tables (name -> rows) and arrays (name -> dict) of a :func:`pspin_study` for a run folder."""
    sol = study["theory"]
    tables: dict = {"comparison.csv": comparison_table(study)}
    rows = []
    for N, r in study["runs"].items():
        e_th = sol.energy_at(np.minimum(study["times"], sol.t_max))
        for k, t in enumerate(study["times"]):
            rows.append(
                dict(
                    N=N,
                    t=float(t),
                    e=float(r["energy"][k]),
                    se=float(r["energy_err"][k]),
                    e_exact=float(e_th[k]),
                )
            )
    tables["energy.csv"] = rows
    tw_rows = []
    for N, r in study["runs"].items():
        for rec in r["twotime"].to_records():
            a = int(np.nonzero(study["waiting_times"] == rec["t_w"])[0][0])
            b = int(np.nonzero(study["lags"] == rec["lag"])[0][0])
            tw_rows.append(
                dict(N=N, **rec, correlation_exact=float(study["exact_correlation"][a, b]))
            )
    tables["twotime.csv"] = tw_rows
    arrays = {
        "exact.npz": dict(t=sol.t, energy=sol.energy, mu=sol.mu, error=sol.error),
        "finite_n.npz": {
            **{f"energy_N{N}": r["energy"] for N, r in study["runs"].items()},
            **{f"energy_err_N{N}": r["energy_err"] for N, r in study["runs"].items()},
            "times": study["times"],
            "waiting_times": study["waiting_times"],
            "lags": study["lags"],
            "exact_correlation": study["exact_correlation"],
        },
    }
    return tables, arrays


def network_outputs(net: dict) -> tuple[dict, dict]:
    """Tables and arrays of a :func:`network_study` for a run folder."""
    rows, tw_rows, arrays = [], [], {}
    for method, r in net["runs"].items():
        for k, t in enumerate(r["times"]):
            rows.append(
                dict(
                    method=method, t=float(t), loss=float(r["loss"][k]), se=float(r["loss_err"][k])
                )
            )
        tw_rows += [dict(method=method, **rec) for rec in r["twotime"].to_records()]
        arrays[f"{method}_times"] = r["times"]
        arrays[f"{method}_loss"] = r["loss"]
        arrays[f"{method}_correlation"] = r["twotime"].correlation
        arrays[f"{method}_msd"] = r["twotime"].msd
    return {"loss.csv": rows, "twotime.csv": tw_rows}, {"network.npz": arrays}
