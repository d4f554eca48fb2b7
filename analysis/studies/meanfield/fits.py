"""Log-log fits of scaling laws and their bootstrap standard errors.

The scaling experiments resample seeds with one index array per bootstrap replicate, shared
by every width and observable of an experiment (and drawn from the experiment's
``"bootstrap"`` stream), so that the replicates of a slope are paired across widths and a
rerun gives the same error bars bit for bit. :func:`scipy.stats.bootstrap` draws its own
indices per statistic and :mod:`analysis.stats` handles correlated time series, so neither
fits; :func:`bootstrap_slope` turns the replicates into a slope and its standard error.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["fit_loglog", "bootstrap_slope"]


def fit_loglog(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log(y) against log(x)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.column_stack([lx, np.ones_like(lx)])
    coef = np.linalg.lstsq(A, ly, rcond=None)[0]
    return float(coef[0]), float(coef[1])


def _slopes_rows(widths, Y):
    """Slopes of log Y[b, :] against log widths for every row b (vectorised OLS; Y > 0)."""
    lx = np.log(np.asarray(widths, float))
    lx = lx - lx.mean()
    ly = np.log(Y)
    return (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)


def bootstrap_slope(widths, stat, boot) -> tuple[float, float]:
    """Log-log slope of a statistic against the width and its bootstrap standard error.

    Parameters
    ----------
    widths : sequence of float
        The widths N (k of them).
    stat : array (k,)
        The statistic at each width. Widths whose statistic is not positive (no logarithm)
        are left out of the fit (with a RuntimeWarning saying how many).
    boot : array (B, k)
        Its bootstrap replicates, one row per resample. A replicate holding a value <= 0 at a
        kept width has no log-log slope: it is dropped (with a RuntimeWarning), never clipped
        to a tiny positive number (which gave slopes of +-100 and standard errors of 35).

    Returns
    -------
    (slope, slope_se) : the least-squares slope of log(stat) against log(N)
    (:func:`fit_loglog`) and the standard deviation (ddof 1) of the slopes of the kept rows
    of ``boot``; NaN where fewer than two widths (or two replicates) remain.
    """
    w = np.asarray(widths, float)
    y = np.asarray(stat, float)
    B = np.atleast_2d(np.asarray(boot, float))
    keep = np.isfinite(y) & (y > 0)
    if (~keep).any():
        warnings.warn(
            f"bootstrap_slope: {int((~keep).sum())} of {y.size} widths have a statistic <= 0 "
            "(no logarithm); left out of the fit",
            RuntimeWarning,
            stacklevel=2,
        )
    if keep.sum() < 2:
        return float("nan"), float("nan")
    w, y, B = w[keep], y[keep], B[:, keep]
    ok = np.all(np.isfinite(B) & (B > 0), axis=1)
    if (~ok).any():
        warnings.warn(
            f"bootstrap_slope: {int((~ok).sum())} of {ok.size} bootstrap replicates hold a value "
            "<= 0 (no logarithm); dropped from the standard error",
            RuntimeWarning,
            stacklevel=2,
        )
    se = float(np.std(_slopes_rows(w, B[ok]), ddof=1)) if ok.sum() >= 2 else float("nan")
    return fit_loglog(w, y)[0], se
