"""Finite N against the exact N = inf p-spin dynamics: comparison tables and the O(1/N) fit.

Tables of a :func:`analysis.studies.dynamics.pspin_study` result: the energy at chosen times
with the measured step bias and the fit ``e_N(t) - e_inf(t) = a(t) / N`` across sizes
(:func:`comparison_table`, :func:`fit_table`), the same for ``C(t_w + tau, t_w)``
(:func:`correlation_table`), and the endpoints of gradient descent (gradient decay and the
smallest Riemannian Hessian eigenvalue, :func:`endpoint_table`): where and why finite N
parts from N = inf.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "COMPARISON_COLUMNS",
    "comparison_table",
    "correlation_table",
    "endpoint_table",
    "fit_table",
    "inverse_n_fit",
    "step_bias_at",
]


#: Columns of the finite-N vs exact comparison table (:func:`comparison_table`), in order.
COMPARISON_COLUMNS = (
    "N",
    "t",
    "e_N",
    "se",
    "e_inf",
    "solver_error",
    "deviation",
    "N_times_deviation",
    "step_bias",
    "z",
    "z_after",
)


def _over_samples(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.e. over axis 0 (NaN error for one sample)."""
    m = v.mean(axis=0)
    if v.shape[0] >= 2:
        return m, v.std(axis=0, ddof=1) / math.sqrt(v.shape[0])
    return m, np.full(m.shape, np.nan)


def inverse_n_fit(sizes, deviation, error) -> dict:
    """Weighted least squares of ``deviation_N = a / N`` across sizes (one time).

    Parameters
    ----------
    sizes, deviation, error : sequences of equal length (>= 1)
        ``N``, the measured ``e_N - e_inf`` and its standard error (> 0).

    Returns
    -------
    dict
        ``a`` with its standard error ``a_se`` (from the weights), ``chi2`` of the residuals
        ``(deviation - a/N) / error`` and ``dof`` (= sizes - 1); ``chi2`` ~ ``dof`` means the
        deviation is an O(1/N) term within the error bars.
    """
    x = 1.0 / np.asarray(sizes, dtype=float)
    y = np.asarray(deviation, dtype=float)
    s = np.asarray(error, dtype=float)
    if not (x.shape == y.shape == s.shape) or x.size == 0:
        raise ValueError(f"sizes, deviation and error need one equal length >= 1; got {x.shape}")
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError(f"error must be finite and > 0; got {s}")
    w = 1.0 / s**2
    sxx = float(np.sum(w * x * x))
    a = float(np.sum(w * x * y)) / sxx
    chi2 = float(np.sum(((y - a * x) / s) ** 2))
    return dict(a=a, a_se=1.0 / math.sqrt(sxx), chi2=chi2, dof=int(x.size - 1))


def step_bias_at(study: dict, t: float) -> tuple[float, float]:
    """First-order estimate of the step bias ``e_h - e_0 = 2 (e_h - e_{h/2})`` and its s.e."""
    b = study.get("step_bias")
    if b is None:
        return 0.0, 0.0
    k = int(np.argmin(np.abs(b["times"] - t)))
    return 2.0 * float(b["difference"][k]), 2.0 * float(b["difference_err"][k])


def comparison_table(
    study: dict, at=(0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 20.0, 50.0, 100.0)
) -> list[dict]:
    """Finite N against the exact energy at the times ``at``, with the fitted O(1/N) term.

    Columns: ``N, t, e_N, se`` (s.e. over disorder samples), ``e_inf, solver_error``,
    ``deviation = e_N - e_inf``, ``z = deviation / se``, ``N_times_deviation``; ``step_bias``
    and ``step_bias_se`` (first-order estimate ``2 (e_h - e_{h/2})`` at the study's
    ``step_check`` size; 0 without it), ``sigma = sqrt(se^2 + solver_error^2 +
    step_bias_se^2)``, ``a``/``a_se``/``chi2``/``dof`` of the fit ``deviation - step_bias =
    a / N`` across sizes at that time (:func:`inverse_n_fit`, weights ``1 / sigma^2``) and
    ``z_after = (deviation - step_bias - a / N) / sigma``.
    """
    sol, times = study["theory"], study["times"]
    rows = []
    for t in at:
        if t > times[-1] or t > sol.t_max:
            continue
        k = int(np.argmin(np.abs(times - t)))
        e_th = float(sol.energy_at(times[k]))
        serr = float(np.interp(times[k], sol.t, sol.error))
        bias, bias_se = step_bias_at(study, times[k])
        block = []
        for N, r in study["runs"].items():
            if not np.isfinite(r["energy"][k]):
                continue
            dev = float(r["energy"][k] - e_th)
            se = float(r["energy_err"][k])
            block.append(
                dict(
                    N=N,
                    t=float(times[k]),
                    e_N=float(r["energy"][k]),
                    se=se,
                    e_inf=e_th,
                    solver_error=serr,
                    deviation=dev,
                    z=dev / se if se > 0 else float("nan"),
                    N_times_deviation=N * dev,
                    step_bias=bias,
                    step_bias_se=bias_se,
                    sigma=math.sqrt(se**2 + serr**2 + bias_se**2),
                )
            )
        good = [b for b in block if np.isfinite(b["sigma"]) and b["sigma"] > 0]
        fit = (
            inverse_n_fit(
                [b["N"] for b in good],
                [b["deviation"] - b["step_bias"] for b in good],
                [b["sigma"] for b in good],
            )
            if good
            else dict(a=np.nan, a_se=np.nan, chi2=np.nan, dof=0)
        )
        for b in block:
            b.update(fit)
            b["z_after"] = (b["deviation"] - b["step_bias"] - fit["a"] / b["N"]) / b["sigma"]
        rows += block
    rows.sort(key=lambda r: (r["N"], r["t"]))
    return rows


def fit_table(rows: list[dict]) -> list[dict]:
    """One row per time of a :func:`comparison_table`: ``t, a, a_se, chi2, dof`` and the sizes."""
    out = {}
    for r in rows:
        out.setdefault(
            r["t"],
            dict(t=r["t"], a=r["a"], a_se=r["a_se"], chi2=r["chi2"], dof=r["dof"], sizes=[]),
        )["sizes"].append(r["N"])
    return [dict(v, sizes=" ".join(map(str, v["sizes"]))) for _, v in sorted(out.items())]


def correlation_table(study: dict, lags=(1.0, 4.0)) -> list[dict]:
    """``C_N(t_w + tau, t_w) - C_inf`` with the fitted ``c / N`` at each waiting time and lag.

    Columns: ``N, t_w, lag, C_N, se`` (over disorder samples), ``C_inf, deviation, N x
    deviation, c, c_se, chi2, dof, z_after`` (fit :func:`inverse_n_fit` with weights 1/se^2).
    """
    tw, lag = study["waiting_times"], study["lags"]
    rows = []
    for a, w in enumerate(tw):
        for want in lags:
            hit = np.nonzero(np.isclose(lag, want))[0]
            if hit.size == 0 or not np.isfinite(study["exact_correlation"][a, hit[0]]):
                continue
            b = int(hit[0])
            ex = float(study["exact_correlation"][a, b])
            block = []
            for N, r in study["runs"].items():
                c = float(r["twotime"].correlation[a, b])
                se = float(r["twotime"].correlation_err[a, b])
                if not np.isfinite(c):
                    continue
                block.append(
                    dict(
                        N=N,
                        t_w=float(w),
                        lag=float(lag[b]),
                        C_N=c,
                        se=se,
                        C_inf=ex,
                        deviation=c - ex,
                        N_times_deviation=N * (c - ex),
                    )  # fmt: skip
                )
            good = [r for r in block if np.isfinite(r["se"]) and r["se"] > 0]
            if not good:
                continue
            fit = inverse_n_fit(
                [r["N"] for r in good], [r["deviation"] for r in good], [r["se"] for r in good]
            )
            for r in block:
                r.update(c=fit["a"], c_se=fit["a_se"], chi2=fit["chi2"], dof=fit["dof"])
                r["z_after"] = (r["deviation"] - fit["a"] / r["N"]) / r["se"]
            rows += block
    return rows


def endpoint_table(study: dict) -> list[dict]:
    """Per size at T = 0: where the descent stands at ``t_max`` and why it stops there.

    Columns: ``N, t, e_N, se, e_inf, grad`` (intensive Riemannian gradient norm, mean and s.e.
    over samples), ``grad_rate`` (``-d log|grad| / dt`` over the last fifth of the run; in a
    quadratic basin it tends to the smallest Hessian eigenvalue, at N = inf the decay is a
    power law and the rate falls like 1/t), ``lambda_min``/``lambda_min_se`` (smallest
    Riemannian Hessian eigenvalue at the endpoints, replica means per sample, s.e. over samples),
    ``positive`` (fraction of endpoints whose smallest eigenvalue is > 0), and the N = inf
    values it is compared with: ``lambda_edge_inf`` = ``-p e_inf(t) - 2 sqrt(p (p - 1))``, the
    lower edge of the Hessian spectrum along the exact flow (negative at every finite t, tending
    to 0: the aging state is marginal), and ``lambda_edge_at_e_N`` (the same edge at the
    measured energy); ``n_basin`` replicas in a basin whose gradient is above the float floor,
    and ``rate_over_lambda``: the median over them of their own gradient decay rate divided by
    their own ``lambda_min`` (1 when the descent has settled into a quadratic basin). Pure p at
    T = 0.
    """
    sol, times = study["theory"], study["times"]
    rows = []
    for N, r in study["runs"].items():
        n = r.get("n_times", times.size)
        k0, t_end = int(np.searchsorted(times, 0.8 * times[n - 1])), float(times[n - 1])
        row = dict(
            N=N,
            t=t_end,
            e_N=float(r["energy"][n - 1]),
            se=float(r["energy_err"][n - 1]),
            e_inf=float(sol.energy_at(min(t_end, sol.t_max))),
        )
        if "grad" in r:
            g = r["grad"][:n]
            row["grad"], row["grad_err"] = float(g[-1]), float(r["grad_err"][n - 1])
            lg = np.log(np.maximum(g[k0:], 1e-300))
            row["grad_rate"] = float(-np.polyfit(times[k0:n], lg, 1)[0])
            # N = inf: |grad|^2 / N = -de/dt along gradient flow, on the same window
            te = np.linspace(times[k0], t_end, 50)
            e_w = sol.energy_at(te)
            g_inf = np.sqrt(np.maximum(-np.gradient(e_w, te), 1e-300))
            row["grad_inf"] = float(g_inf[-1])
            row["grad_rate_inf"] = float(-np.polyfit(te, np.log(g_inf), 1)[0])
        if "lambda_min" in r:
            lam = r["lambda_min"][:, :, 0]  # (S, R)
            m, se = _over_samples(lam.mean(axis=1)[:, None])
            row["lambda_min"], row["lambda_min_se"] = float(m[0]), float(se[0])
            row["positive"] = float(np.mean(lam > 0))
            if "grad_replicas" in r:
                # per replica in a basin (lambda_min > 0, gradient above the float floor):
                # the decay rate of |grad| over the last fifth against lambda_min (1 in a
                # quadratic basin: |grad| ~ exp(-lambda_min t))
                g = r["grad_replicas"][:, :, k0:n]
                live = (lam > 0) & (g[:, :, -1] > 1e-10)
                ratios = [
                    -np.polyfit(times[k0:n], np.log(g[a, b]), 1)[0] / lam[a, b]
                    for a, b in zip(*np.nonzero(live), strict=True)
                ]
                row["n_basin"] = len(ratios)
                row["rate_over_lambda"] = float(np.median(ratios)) if ratios else float("nan")
            # N = inf at T = 0: the Riemannian Hessian is the semicircle of radius
            # 2 sqrt(p(p-1)) shifted by mu = -p e, so its edge is -p e - 2 sqrt(p(p-1))
            # (< 0 above the threshold, -> 0 as e(t) -> -E_inf: marginal)
            p = study["params"]["p"]
            radius = 2.0 * math.sqrt(p * (p - 1))
            row["lambda_edge_inf"] = -p * row["e_inf"] - radius
            row["lambda_edge_at_e_N"] = -p * row["e_N"] - radius
        rows.append(row)
    return rows
