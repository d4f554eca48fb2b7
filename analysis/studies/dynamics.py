"""The dynamics study: finite-N descents and Langevin runs beside the exact N = inf dynamics.

``pspin`` protocol (:func:`pspin_study`): for each size ``N`` and each disorder sample, ``R``
replicas start uniformly on the sphere and follow gradient descent (``T = 0``) or unadjusted
Langevin (``T > 0``) with a small step ``h`` (continuous time ``t = h x steps``; the Euler
scheme of the equations solved by :func:`pspin.theory.dynamics`); the energy per spin ``e(t)``
and the two-time correlation ``C(t_w + tau, t_w)`` (overlap ``x.y/N``) are compared with the
exact curves. Error bars: the mean over the replicas of a sample, then the standard error over
samples (over replicas when there is one sample). Finite-N deviations are reported, not
hidden: the table gives ``e_N(t) - e_inf(t)`` with its standard error and ``N x`` that
deviation (an O(1/N) correction makes it N-independent at fixed t). The samples and the last
time may differ per size; each sample is reduced to small arrays (:func:`pspin_sample`) and
can be saved to a task store as it ends (a run folder: an interrupted run resumes); a paired
rerun at half the step measures the time-discretization bias (``step_check``), and at T = 0
the smallest Riemannian Hessian eigenvalues at the endpoints say whether a finite system sits
in a basin. The tables (comparison with the fit ``a(t) / N``, two-time correlation,
endpoints) are in :mod:`analysis.studies.dynamics_compare`.

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

from analysis.dynamics import TwoTimeResult, gradient_descent, langevin, sgd, two_time
from analysis.studies.dynamics_compare import (
    comparison_table,
    correlation_table,
    endpoint_table,
    fit_table,
    inverse_n_fit,
    step_bias_at,
)
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
    "correlation_table",
    "endpoint_table",
    "fit_table",
    "inverse_n_fit",
    "lowest_hessian_eigenvalues",
    "pspin_sample",
    "step_bias_at",
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


def _pspin_run(N, p, T, replicas, step, n_steps, record_every, seed, i, s, model=None):
    """One disorder sample: times, energies (R, T), gradient norms (R, T) or None, points."""
    if model is None:
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
        g = r.trajectory_grad_norms.T
        return r.trajectory_steps * step, r.trajectory_energies.T, g, r.trajectory_x
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
    return r.trace_steps * step, r.trace.T, None, r.trace_x


def lowest_hessian_eigenvalues(model, X: np.ndarray, k: int = 3) -> np.ndarray:
    """The ``k`` smallest eigenvalues of the Riemannian Hessian at each row of ``X``: (K, k).

    Dense (:func:`analysis.critical.hessians.riemannian_hessians`, curvature term included):
    at a local minimum all are positive; the N = inf aging state is marginal (the smallest
    tends to 0).
    """
    from analysis.critical.hessians import riemannian_hessians

    out = []
    for row in np.asarray(X, dtype=np.float64):  # one Hessian alive at a time (N = 800: 5 MB)
        R = riemannian_hessians(model, row[None])["R"][0]
        out.append(np.linalg.eigvalsh(R)[:k])
    return np.asarray(out)


def pspin_sample(
    N: int,
    *,
    p: int,
    temperature: float,
    replicas: int,
    step: float,
    n_steps: int,
    record_every: int,
    seed: int,
    i: int,
    s: int,
    waiting_times,
    lags,
    hessian: bool = False,
    half_step: bool = False,
) -> dict:
    """One disorder sample of the p-spin study: its replicas' curves, reduced to small arrays.

    The couplings are ``child(seed, "model", i, s)`` and the starts ``child(seed, "starts", i,
    s)`` (``i``: index of the size, ``s``: the sample); with ``half_step`` the same sample is
    run again with step ``step / 2`` (twice the steps, recorded at the same times) to measure
    the time-discretization bias (paired: same couplings and starts).

    Returns
    -------
    dict of arrays
        ``times`` (T,), ``energy`` (R, T), ``grad`` (R, T; intensive gradient norm, T = 0 only),
        ``correlation``/``msd`` (W, L): means over the replicas of ``C(t_w + tau, t_w)`` and the
        MSD, with ``correlation_err``/``msd_err`` (s.e. over replicas), ``waiting_times`` and,
        with ``hessian`` (T = 0), ``lambda_min`` (R, 3): the three smallest Riemannian Hessian
        eigenvalues at the endpoints, and ``seconds`` (CPU seconds of the sample).
    """
    c0 = time.process_time()
    h, n, every = (
        (step / 2, 2 * n_steps, 2 * record_every) if half_step else (step, n_steps, record_every)
    )
    model = SphericalPSpin(N, p, seed=child(seed, "model", i, s))
    times, e, g, pts = _pspin_run(N, p, temperature, replicas, h, n, every, seed, i, s, model)
    tw = _ladder(times, waiting_times)
    lag = np.asarray(lags, dtype=float)
    tt = two_time(pts, times, tw, lag, kind="cosine")
    out = dict(
        times=times,
        energy=e,
        correlation=tt.correlation,
        correlation_err=tt.correlation_err,
        msd=tt.msd,
        msd_err=tt.msd_err,
        waiting_times=tw,
    )
    if g is not None:
        out["grad"] = g
    if hessian and temperature == 0:
        out["lambda_min"] = lowest_hessian_eigenvalues(model, pts[-1])
    del model, pts
    out["seconds"] = np.asarray(time.process_time() - c0)
    return out


def _samples(n, sizes) -> list[int]:
    """Disorder samples per size: one int for all sizes, or one per size."""
    ns = [int(n)] * len(sizes) if np.ndim(n) == 0 else [int(v) for v in n]
    if len(ns) != len(sizes) or min(ns) < 1:
        raise ValueError(f"samples must be >= 1, one value or one per size; got {n}")
    return ns


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` with its last axis padded by NaN to length ``n`` (a size run to a shorter time)."""
    if a.shape[-1] >= n:
        return a
    pad = np.full(a.shape[:-1] + (n - a.shape[-1],), np.nan)
    return np.concatenate([a, pad], axis=-1)


def _on_ladder(res: list[dict], key: str, tw: np.ndarray) -> np.ndarray:
    """``(S, W, L)``: the rows of each sample's ``key`` at the study's waiting times ``tw``."""
    out = []
    for r in res:
        idx = [int(np.argmin(np.abs(r["waiting_times"] - w))) for w in tw]
        if not np.allclose(r["waiting_times"][idx], tw, rtol=1e-9, atol=1e-12):
            raise ValueError(f"a stored sample lacks waiting times {tw}: {r['waiting_times']}")
        out.append(np.asarray(r[key])[idx])
    return np.stack(out)


def _over_samples(v: np.ndarray, err: np.ndarray | None = None):
    """Mean and s.e. over the sample axis 0 of per-sample means (the given error if S = 1)."""
    m = v.mean(axis=0)
    if v.shape[0] >= 2:
        return m, v.std(axis=0, ddof=1) / math.sqrt(v.shape[0])
    return m, (err[0] if err is not None else np.full(m.shape, np.nan))


def pspin_study(
    *,
    p: int = 3,
    temperature: float = 0.0,
    sizes=(50, 100, 200),
    samples=2,
    replicas: int = 4,
    seed: int = 0,
    step: float = 0.02,
    t_max=50.0,
    waiting_times=(1.0, 4.0, 16.0),
    lags=DEFAULT_LAGS,
    records: int = 400,
    grid: int = 256,
    hessian: bool = False,
    step_check: int | None = None,
    store=None,
    log=print,
) -> dict:
    """Finite-N gradient descent / Langevin on the p-spin beside the exact dynamics.

    Parameters
    ----------
    samples : int or sequence of int
        Disorder samples, for every size or one per size.
    t_max : float or sequence of float
        Last time, for every size or one per size (a shorter run is padded with NaN on the
        common ``times``; then ``waiting_times`` must precede every ``t_max``).
    hessian : bool
        At T = 0, the smallest Riemannian Hessian eigenvalues at the endpoints (dense: N^2
        memory per replica, one at a time).
    step_check : int, optional
        A size of ``sizes`` whose samples are run again with half the step (paired), giving
        the time-discretization bias ``e_h(t) - e_{h/2}(t)``.
    store : object with ``has_task``/``save_task``/``load_task``, optional
        Per-sample results are saved there as each sample ends (tasks ``N{N}_s{s}``, and
        ``N{N}_s{s}_half``) and loaded instead of recomputed (a run folder: resumable).

    Returns
    -------
    dict
        ``theory`` (the :class:`~pspin.theory.DynamicsSolution`), ``times`` (recorded times),
        ``waiting_times``, ``lags``, and per size ``runs[N]`` with ``energy``/``energy_err``
        (on ``times``: mean over a sample's replicas, s.e. over samples), ``energy_samples``
        (S, T), ``twotime`` (a :class:`~analysis.dynamics.TwoTimeResult` whose error is the
        s.e. over samples of the per-sample replica means), ``grad``/``grad_err`` (T = 0;
        per replica ``grad_replicas`` (S, R, T)),
        ``lambda_min`` (S, R, 3) with ``hessian``, ``seconds`` (CPU); ``exact_correlation``
        ``(W, L)`` on the same ladder; ``step_bias`` (with ``step_check``).
    """
    if p < 2:
        raise ValueError(f"p must be >= 2; got {p}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0; got {temperature}")
    n_samples = _samples(samples, sizes)
    t_maxes = [float(v) for v in (np.full(len(sizes), t_max) if np.ndim(t_max) == 0 else t_max)]
    if len(t_maxes) != len(sizes) or step <= 0 or min(t_maxes) <= step:
        raise ValueError(f"need 0 < step < t_max (one or one per size); got {step}, {t_max}")
    if len(set(t_maxes)) > 1 and max(waiting_times) >= min(t_maxes):
        raise ValueError(f"waiting_times must be < every t_max; got {list(waiting_times)}")
    if step_check is not None and step_check not in list(sizes):
        raise ValueError(f"step_check must be one of sizes {list(sizes)}; got {step_check}")
    t_top = max(t_maxes)
    record_every = max(1, int(round(t_top / step)) // records)
    t0 = time.perf_counter()
    sol = exact_dynamics(p, temperature, t_top, grid=grid)
    log(f"exact dynamics to t = {t_top:g}: {time.perf_counter() - t0:.1f} s")
    lag = np.asarray(lags, dtype=float)
    lag = lag[lag <= t_top]
    kw = dict(
        p=p,
        temperature=temperature,
        replicas=replicas,
        step=step,
        record_every=record_every,
        seed=seed,
        waiting_times=waiting_times,
        lags=lag,
        hessian=hessian,
    )

    def sample(N, i, s, half=False):
        key = f"N{N}_s{s}" + ("_half" if half else "")
        if store is not None and store.has_task(key):
            return store.load_task(key)[1]
        n_steps = int(round(t_maxes[i] / step))
        out = pspin_sample(N, i=i, s=s, half_step=half, n_steps=n_steps, **kw)
        if store is not None:
            store.save_task(key, dict(N=int(N), sample=s, half_step=half), **out)
        log(f"N = {N} sample {s}{' (step/2)' if half else ''}: {float(out['seconds']):.1f} CPU s")
        return out

    runs = {}
    times = tw = None
    bias = None
    done = []
    for i, N in enumerate(sizes):
        res = [sample(N, i, s) for s in range(n_samples[i])]
        done.append(res)
        if times is None or res[0]["times"].size > times.size:
            times = res[0]["times"]
    tw = _ladder(times, waiting_times)
    for i, N in enumerate(sizes):
        res = done[i]
        n_t = res[0]["times"].size
        E = _pad(np.stack([r["energy"] for r in res]), times.size)  # (S, R, T)
        e_mean, e_err = _mean_se(E)
        per = {
            k: _on_ladder(res, k, tw) for k in ("correlation", "correlation_err", "msd", "msd_err")
        }
        c, c_err = _over_samples(per["correlation"], per["correlation_err"])
        d, d_err = _over_samples(per["msd"], per["msd_err"])
        tt = TwoTimeResult(tw, lag, c, c_err, d, d_err, len(res) * replicas, "cosine")
        run = dict(
            energy=e_mean,
            energy_err=e_err,
            energy_samples=E.mean(axis=1),
            correlation_samples=per["correlation"],
            twotime=tt,
            n_times=n_t,
            seconds=float(sum(float(r["seconds"]) for r in res)),
        )
        if "grad" in res[0]:
            run["grad_replicas"] = _pad(np.stack([r["grad"] for r in res]), times.size)
            run["grad"], run["grad_err"] = _mean_se(run["grad_replicas"])
        if "lambda_min" in res[0]:
            run["lambda_min"] = np.stack([r["lambda_min"] for r in res])
        runs[int(N)] = run
        log(f"N = {N}: {n_samples[i]} samples x {replicas} replicas, {run['seconds']:.1f} CPU s")
        if step_check == N:
            half = [sample(N, i, s, half=True) for s in range(n_samples[i])]
            e_half = _pad(np.stack([r["energy"].mean(axis=0) for r in half]), times.size)
            diff = E.mean(axis=1) - e_half
            m, se = _over_samples(diff)
            bias = dict(N=int(N), times=times, difference=m, difference_err=se)
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
        step_bias=bias,
        params=dict(
            p=p,
            temperature=temperature,
            sizes=list(sizes),
            samples=n_samples,
            replicas=replicas,
            seed=seed,
            step=step,
            t_max=t_maxes[0] if len(set(t_maxes)) == 1 else t_maxes,
            record_every=record_every,
        ),
    )


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
    comp = comparison_table(study)
    tables: dict = {"comparison.csv": comp, "fit.csv": fit_table(comp)}
    tables["correlation_fit.csv"] = correlation_table(study)
    tables["endpoints.csv"] = endpoint_table(study)
    b = study.get("step_bias")
    if b is not None:
        tables["step_bias.csv"] = [
            dict(N=b["N"], t=float(t), difference=float(d), difference_err=float(e))
            for t, d, e in zip(b["times"], b["difference"], b["difference_err"], strict=True)
        ]
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
    tables = {k: v for k, v in tables.items() if v}  # no empty table (e.g. lags past t_max)
    arrays = {
        "exact.npz": dict(t=sol.t, energy=sol.energy, mu=sol.mu, error=sol.error),
        "finite_n.npz": {
            **{f"energy_N{N}": r["energy"] for N, r in study["runs"].items()},
            **{f"energy_err_N{N}": r["energy_err"] for N, r in study["runs"].items()},
            **{f"energy_samples_N{N}": r["energy_samples"] for N, r in study["runs"].items()},
            **{f"grad_N{N}": r["grad"] for N, r in study["runs"].items() if "grad" in r},
            **{
                f"lambda_min_N{N}": r["lambda_min"]
                for N, r in study["runs"].items()
                if "lambda_min" in r
            },
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
