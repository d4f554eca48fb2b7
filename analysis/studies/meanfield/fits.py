"""Log-log fits of scaling laws and their bootstrap standard errors.

The scaling experiments resample seeds with one index array per bootstrap replicate, shared
by every width and observable of an experiment (and drawn from the experiment's
``"bootstrap"`` stream), so that the replicates of a slope are paired across widths and a
rerun gives the same error bars bit for bit. :func:`scipy.stats.bootstrap` draws its own
indices per statistic and :mod:`analysis.stats` handles correlated time series, so neither
fits; :func:`bootstrap_slope` turns the replicates into a slope and its standard error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_loglog", "bootstrap_slope"]


def fit_loglog(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log(y) against log(x)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.column_stack([lx, np.ones_like(lx)])
    coef = np.linalg.lstsq(A, ly, rcond=None)[0]
    return float(coef[0]), float(coef[1])


def _slopes_rows(widths, Y):
    """Slopes of log Y[b, :] against log widths for every row b (vectorised OLS)."""
    lx = np.log(np.asarray(widths, float))
    lx = lx - lx.mean()
    ly = np.log(np.maximum(Y, 1e-300))
    return (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)


def bootstrap_slope(widths, stat, boot) -> tuple[float, float]:
    """Log-log slope of a statistic against the width and its bootstrap standard error.

    Parameters
    ----------
    widths : sequence of float
        The widths N (k of them).
    stat : array (k,)
        The statistic at each width (positive).
    boot : array (B, k)
        Its bootstrap replicates, one row per resample; values <= 0 are clipped to 1e-300.

    Returns
    -------
    (slope, slope_se) : the least-squares slope of log(stat) against log(N)
    (:func:`fit_loglog`) and the standard deviation (ddof 1) of the slopes of the rows of
    ``boot``.
    """
    return fit_loglog(widths, stat)[0], float(np.std(_slopes_rows(widths, boot), ddof=1))
