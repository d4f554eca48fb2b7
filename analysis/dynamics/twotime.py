"""Two-time observables of recorded trajectories: correlation and mean-square displacement.

For a trajectory ``x(t)`` of any energy (gradient descent, SGD, Langevin; continuous time
``t = step x steps`` for small steps) and a ladder of waiting times ``t_w``:

* ``C(t_w + tau, t_w) = x(t_w + tau) . x(t_w) / (|x(t_w + tau)| |x(t_w)|)`` (``kind="cosine"``,
  the network convention of Baity-Jesi et al. 2018; on the sphere ``|x|^2 = N`` it is the
  overlap ``x . y / N``), or ``x . y / scale`` (``kind="overlap"``, e.g. ``scale = dim``);
* ``Delta(t_w + tau, t_w) = |x(t_w + tau) - x(t_w)|^2 / dim`` (mean-square displacement).

Means and standard errors are over replicas (independent runs: replicas and, pooled by the
caller, disorder samples). Aging shows as a dependence on ``t_w`` at fixed ``tau``;
time-translation invariance as curves that collapse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TwoTimeResult", "two_time", "two_time_from_result"]


@dataclass(frozen=True, eq=False)
class TwoTimeResult:
    """Two-time correlation and mean-square displacement with error bars over replicas.

    Attributes
    ----------
    waiting_times : array (W,)
        ``t_w`` (continuous time).
    lags : array (L,)
        ``tau``; entries beyond the recorded range of a ``t_w`` are NaN.
    correlation, correlation_err : arrays (W, L)
        Mean of ``C(t_w + tau, t_w)`` over replicas and its standard error.
    msd, msd_err : arrays (W, L)
        Mean of ``Delta(t_w + tau, t_w)`` and its standard error.
    n_replicas : int
        Replicas averaged.
    kind : str
        ``"cosine"`` or ``"overlap"``.
    """

    waiting_times: np.ndarray
    lags: np.ndarray
    correlation: np.ndarray
    correlation_err: np.ndarray
    msd: np.ndarray
    msd_err: np.ndarray
    n_replicas: int
    kind: str

    def to_records(self) -> list[dict]:
        """One row per (t_w, tau): tidy records for a table."""
        rows = []
        for a, tw in enumerate(self.waiting_times):
            for b, lag in enumerate(self.lags):
                if np.isnan(self.correlation[a, b]):
                    continue
                rows.append(
                    {
                        "t_w": float(tw),
                        "lag": float(lag),
                        "t": float(tw + lag),
                        "correlation": float(self.correlation[a, b]),
                        "correlation_err": float(self.correlation_err[a, b]),
                        "msd": float(self.msd[a, b]),
                        "msd_err": float(self.msd_err[a, b]),
                        "n_replicas": self.n_replicas,
                    }
                )
        return rows


def _mean_se(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over axis 0 (NaN error for a single replica)."""
    K = a.shape[0]
    m = a.mean(axis=0)
    if K < 2:
        return m, np.full(m.shape, np.nan)
    return m, a.std(axis=0, ddof=1) / np.sqrt(K)


def _interp_rows(tt: np.ndarray, x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Linear interpolation of the columns of ``Y`` (len(tt), K) at ``x``: shape (K, len(x))."""
    if tt.size == 1:
        return np.repeat(Y[:1].T, x.size, axis=1)
    j = np.clip(np.searchsorted(tt, x, side="right"), 1, tt.size - 1)
    f = np.clip((x - tt[j - 1]) / (tt[j] - tt[j - 1]), 0.0, 1.0)
    return (Y[j - 1] * (1.0 - f)[:, None] + Y[j] * f[:, None]).T


def two_time(
    points,
    times,
    waiting_times,
    lags,
    *,
    kind: str = "cosine",
    scale: float | None = None,
) -> TwoTimeResult:
    """Correlation ``C(t_w + tau, t_w)`` and MSD ``Delta(t_w + tau, t_w)`` from trajectories.

    Parameters
    ----------
    points : array (T, K, dim)
        Recorded points of K replicas at ``T`` times (e.g. ``trajectory_x`` of a descent or
        ``trace_x`` of a sampler).
    times : array (T,)
        Increasing recording times (continuous time, e.g. ``step * trajectory_steps``).
    waiting_times : array (W,)
        ``t_w``: each must be a recorded time (to 1e-9 relative).
    lags : array (L,)
        ``tau >= 0``; the observables are interpolated linearly in time between recordings
        (NaN where ``t_w + tau`` is beyond the last recording).
    kind : {"cosine", "overlap"}
        Normalization of the correlation (see the module docstring).
    scale : float, optional
        Divisor of the overlap (``kind="overlap"``); default ``dim``.

    Returns
    -------
    TwoTimeResult
    """
    X = np.asarray(points, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"points must have shape (T, K, dim); got {X.shape}")
    n_t, K, dim = X.shape
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if t.shape != (n_t,) or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must be {n_t} finite increasing values; got shape {t.shape}")
    if kind not in ("cosine", "overlap"):
        raise ValueError(f"kind must be 'cosine' or 'overlap'; got {kind!r}")
    if scale is None:
        scale = float(dim)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be finite and > 0; got {scale!r}")
    tw = np.asarray(waiting_times, dtype=np.float64).reshape(-1)
    lag = np.asarray(lags, dtype=np.float64).reshape(-1)
    if lag.size == 0 or not np.all(np.isfinite(lag)) or np.any(lag < 0):
        raise ValueError("lags must be a non-empty array of finite values >= 0")
    if not np.all(np.isfinite(X)):
        raise ValueError("points contain NaN or infinite values")
    W, L = tw.size, lag.size
    corr = np.full((W, L), np.nan)
    corr_se = np.full((W, L), np.nan)
    msd = np.full((W, L), np.nan)
    msd_se = np.full((W, L), np.nan)
    norms = np.linalg.norm(X, axis=2)  # (T, K)
    for a, w in enumerate(tw):
        k = int(np.argmin(np.abs(t - w)))
        if abs(t[k] - w) > 1e-9 * max(1.0, abs(w)):
            raise ValueError(
                f"waiting time {w:g} is not a recorded time (nearest {t[k]:g}); "
                "record at the waiting times"
            )
        ref = X[k]  # (K, dim)
        later = X[k:]  # (T-k, K, dim)
        dots = np.einsum("tkd,kd->tk", later, ref)
        if kind == "cosine":
            c = dots / (norms[k:] * norms[k][None, :])
        else:
            c = dots / scale
        d = np.sum((later - ref[None]) ** 2, axis=2) / dim  # (T-k, K)
        tt = t[k:] - t[k]
        ok = lag <= tt[-1] * (1 + 1e-12)
        if not ok.any():
            continue
        # interpolate every replica's curve at the lags (shared weights), then average
        ci, di = _interp_rows(tt, lag[ok], c), _interp_rows(tt, lag[ok], d)
        corr[a, ok], corr_se[a, ok] = _mean_se(ci)
        msd[a, ok], msd_se[a, ok] = _mean_se(di)
    return TwoTimeResult(
        waiting_times=tw,
        lags=lag,
        correlation=corr,
        correlation_err=corr_se,
        msd=msd,
        msd_err=msd_se,
        n_replicas=K,
        kind=kind,
    )


def two_time_from_result(result, step: float, waiting_times, lags, **kwargs) -> TwoTimeResult:
    """:func:`two_time` of a descent or sampler result recorded with ``record_points=True``.

    Continuous time is ``step x recorded step``. Accepts a
    :class:`~analysis.dynamics.DescentResult` (``trajectory_x``) or a
    :class:`~analysis.dynamics.SampleResult` (``trace_x``).
    """
    pts = getattr(result, "trajectory_x", None)
    steps = getattr(result, "trajectory_steps", None)
    if pts is None:
        pts = getattr(result, "trace_x", None)
        steps = getattr(result, "trace_steps", None)
    if pts is None:
        raise ValueError("the result has no recorded points; run with record_points=True")
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step must be finite and > 0; got {step!r}")
    return two_time(pts, step * np.asarray(steps, dtype=np.float64), waiting_times, lags, **kwargs)
