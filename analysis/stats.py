"""Error bars for correlated time series: integrated autocorrelation time and batch means.

Equilibrium averages from a Markov chain are correlated in time, so the naive standard error
``std / sqrt(n)`` is too small by a factor ``sqrt(tau_int)``. Two estimators are provided:

* :func:`integrated_autocorr_time`: tau_int = 1 + 2 sum_{t>=1} rho(t), summed up to Sokal's
  self-consistent window (the smallest M with M >= c tau_int(M), c = 5 by default);
* :func:`batch_means`: the mean over non-overlapping blocks (by default at least ten times
  tau_int long), whose spread gives the standard error of the mean directly.

Both accept one chain ``(n,)`` or several independent chains ``(n, K)`` (time along axis 0);
several chains share one autocorrelation function (averaged over chains) and pool their blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "AutocorrTime",
    "MeanEstimate",
    "autocorrelation",
    "integrated_autocorr_time",
    "batch_means",
]


@dataclass(frozen=True)
class AutocorrTime:
    """Integrated autocorrelation time of a series.

    Attributes
    ----------
    tau : float
        tau_int = 1 + 2 sum_{t=1}^{window} rho(t) (in steps of the series; 1 for white noise).
    window : int
        Sokal's window M, the smallest M with M >= c tau_int(M).
    n : int
        Length of each chain.
    n_chains : int
        Number of chains averaged.
    reliable : bool
        Whether the window was found and the chain is at least 50 tau long (Sokal's rule of
        thumb); when False the estimate is a lower bound.
    """

    tau: float
    window: int
    n: int
    n_chains: int
    reliable: bool


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its standard error from batch means.

    Attributes
    ----------
    mean : float
        Mean over all chains and times.
    stderr : float
        Standard error of ``mean`` from the spread of the block means.
    n_batches : int
        Number of blocks pooled (over all chains).
    batch_size : int
        Length of each block (in steps of the series).
    tau : float
        Integrated autocorrelation time used to size the blocks (NaN if the size was given).
    reliable : bool
        Whether the blocks are at least 10 tau long and there are at least 10 of them.
    """

    mean: float
    stderr: float
    n_batches: int
    batch_size: int
    tau: float
    reliable: bool


def _as_chains(x, name: str = "x") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n,) or (n, K) with time along axis 0; got {a.shape}"
        )
    if a.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 time points; got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def autocorrelation(x) -> np.ndarray:
    """Normalized autocorrelation function rho(t), t = 0..n-1, averaged over chains (FFT).

    Parameters
    ----------
    x : array (n,) or (n, K)
        One chain or K chains, time along axis 0.
    """
    a = _as_chains(x)
    n = a.shape[0]
    d = a - a.mean(axis=0)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(d, n=nfft, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=nfft, axis=0)[:n].mean(axis=1) / n
    if acov[0] <= 0:
        # a constant series: no fluctuation, no correlation
        out = np.zeros(n)
        out[0] = 1.0
        return out
    return acov / acov[0]


def integrated_autocorr_time(x, c: float = 5.0) -> AutocorrTime:
    """Integrated autocorrelation time with Sokal's automatic window.

    Parameters
    ----------
    x : array (n,) or (n, K)
        One chain or K independent chains of equal length, time along axis 0.
    c : float
        Window constant: the sum stops at the smallest M with M >= c tau_int(M).

    Returns
    -------
    AutocorrTime
    """
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be finite and > 0; got {c!r}")
    a = _as_chains(x)
    n, k = a.shape
    rho = autocorrelation(a)
    taus = 2.0 * np.cumsum(rho) - 1.0  # tau(M) = 1 + 2 sum_{t=1}^M rho(t)
    m = np.arange(n)
    ok = np.nonzero(m >= c * taus)[0]
    if ok.size:
        window = int(ok[0])
        found = True
    else:
        window = n - 1
        found = False
    tau = float(max(taus[window], 1e-12))
    return AutocorrTime(tau=tau, window=window, n=n, n_chains=k, reliable=found and n >= 50 * tau)


def batch_means(x, *, batch_size: int | None = None, min_factor: float = 10.0) -> MeanEstimate:
    """Mean and standard error from non-overlapping block means.

    Parameters
    ----------
    x : array (n,) or (n, K)
        One chain or K independent chains, time along axis 0.
    batch_size : int, optional
        Block length. By default ``ceil(min_factor * tau_int)``, capped so that every chain
        holds at least 2 blocks (``reliable`` says whether 10 tau and >= 10 blocks were met).
    min_factor : float
        Blocks are at least ``min_factor`` integrated autocorrelation times long.

    Returns
    -------
    MeanEstimate
        The tail of each chain that does not fill a block is left out of the error bar but
        kept in the mean.
    """
    a = _as_chains(x)
    n, k = a.shape
    if batch_size is None:
        tau = integrated_autocorr_time(a).tau
        b = max(1, math.ceil(min_factor * tau))
        b = min(b, n // 2) if n >= 2 else 1
    else:
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        b = int(batch_size)
        if b > n // 2:
            raise ValueError(f"batch_size {b} leaves fewer than 2 blocks in a chain of length {n}")
        tau = float("nan")
    nb = n // b
    blocks = a[: nb * b].reshape(nb, b, k).mean(axis=1).reshape(-1)
    total = blocks.size
    se = float(np.std(blocks, ddof=1) / math.sqrt(total)) if total > 1 else float("inf")
    reliable = total >= 10 and (np.isnan(tau) or b >= min_factor * tau)
    return MeanEstimate(
        mean=float(a.mean()),
        stderr=se,
        n_batches=int(total),
        batch_size=int(b),
        tau=float(tau),
        reliable=bool(reliable),
    )
