"""Disorder ensembles of censuses: mean counts per index with standard errors, beside theory."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.critical.census import Census, _check_energy_bins, census
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_seed_sequence, child

__all__ = ["CensusEnsemble", "census_ensemble"]


@dataclass(frozen=True)
class CensusEnsemble:
    """Disorder-averaged census: mean counts per index with standard errors, beside theory.

    Attributes
    ----------
    counts : ndarray (S, d + 1)
        Counts per index for each sample.
    mean, stderr : ndarray (d + 1,)
        Mean and standard error of the mean per index.
    total_mean, total_stderr : float
        Same for the total number of points.
    theory : ndarray (d + 1,) or None
        Theory per index (e.g. Kac–Rice means).
    theory_total : float or None
        Theory total (sum over indices).
    z : ndarray (d + 1,) or None
        (mean - theory) / stderr per index.
    z_total : float or None
        Same for the total.
    energy_bins : ndarray
        Common intensive energy bin edges.
    counts_by_index_energy : ndarray (S, d + 1, B)
        Per-sample counts per index and energy bin.
    complete : ndarray (S,) of bool
        Certificate of each sample.
    seeds : list
        Seeds of the samples.
    """

    counts: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    total_mean: float
    total_stderr: float
    theory: np.ndarray | None
    theory_total: float | None
    z: np.ndarray | None
    z_total: float | None
    energy_bins: np.ndarray
    counts_by_index_energy: np.ndarray
    complete: np.ndarray
    seeds: list

    @property
    def n_samples(self) -> int:
        """Number of disorder samples."""
        return int(self.counts.shape[0])


def _theory_values(theory, n: int) -> np.ndarray | None:
    if theory is None:
        return None
    if callable(theory):
        vals = [theory(k) for k in range(n)]
        return np.array([float(getattr(v, "mean", v)) for v in vals])
    if isinstance(theory, dict):
        return np.array([float(theory.get(k, 0.0)) for k in range(n)])
    arr = np.asarray(theory, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"theory must give one value per index 0..{n - 1}; got shape {arr.shape}")
    return arr


def census_ensemble(
    make_energy: Callable[[SeedLike], Energy],
    seeds: Sequence,
    *,
    theory=None,
    census_seed: SeedLike = 0,
    energy_bins: Sequence[float] | None = None,
    on_sample: Callable[[int, Census], None] | None = None,
    **census_kw,
) -> CensusEnsemble:
    """Census over disorder samples: mean counts per index with standard errors.

    Parameters
    ----------
    make_energy : callable
        ``make_energy(seed) -> Energy`` builds one disorder sample.
    seeds : sequence
        One disorder seed per sample (at least 2 for a standard error).
    theory : None, array (d + 1,), dict {k: value} or callable k -> value
        Theory per index (e.g. ``lambda k: pspin.theory.kac_rice_mean(N, p, k=k)``).
    census_seed : seed
        Root of the search seeds; sample i uses its i-th spawned child.
    energy_bins : sequence, optional
        Common bin edges of the intensive energy (default: 20 bins over the pooled range).
    on_sample : callable, optional
        Called as ``on_sample(i, census)`` after each sample (for storage and progress).
    **census_kw
        Passed to :func:`census`.
    """
    if not callable(make_energy):
        raise ValueError("make_energy must be a callable seed -> Energy")
    if on_sample is not None and not callable(on_sample):
        raise ValueError("on_sample must be a callable (i, census) or None")
    seeds = list(seeds)
    if len(seeds) < 1:
        raise ValueError("census_ensemble needs at least one disorder seed")
    if energy_bins is not None:
        _check_energy_bins(energy_bins)
        if isinstance(energy_bins, int | np.integer):
            raise ValueError("energy_bins of census_ensemble must be bin edges (a sequence)")
    root = as_seed_sequence(census_seed)
    results = []
    for i, s in enumerate(seeds):
        en = make_energy(s)
        c = census(en, seed=child(root, i), **census_kw)
        results.append(c)
        if on_sample is not None:
            on_sample(i, c)
    n = max(len(c.counts_by_index) for c in results)
    counts = np.zeros((len(results), n), dtype=np.int64)
    for i, c in enumerate(results):
        counts[i, : len(c.counts_by_index)] = c.counts_by_index
    S = counts.shape[0]
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / math.sqrt(S) if S > 1 else np.full(n, np.nan)
    tot = counts.sum(axis=1)
    tm = float(tot.mean())
    ts = float(tot.std(ddof=1) / math.sqrt(S)) if S > 1 else float("nan")
    th = _theory_values(theory, n)
    if energy_bins is None:
        allE = np.concatenate([c.energies for c in results]) if results else np.zeros(1)
        lo, hi = (float(allE.min()), float(allE.max())) if allE.size else (-1.0, 1.0)
        edges = np.linspace(lo - 1e-9, hi + 1e-9, 21)
    else:
        edges = np.asarray(energy_bins, dtype=np.float64)
    cie = np.zeros((S, n, edges.size - 1), dtype=np.int64)
    for i, c in enumerate(results):
        ib = np.clip(np.searchsorted(edges, c.energies, side="right") - 1, 0, edges.size - 2)
        inside = (c.energies >= edges[0]) & (c.energies <= edges[-1])
        np.add.at(cie[i], (c.indices[inside], ib[inside]), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = None if th is None else (mean - th) / se
        zt = None if th is None else float((tm - th.sum()) / ts)
    return CensusEnsemble(
        counts=counts,
        mean=mean,
        stderr=se,
        total_mean=tm,
        total_stderr=ts,
        theory=th,
        theory_total=None if th is None else float(th.sum()),
        z=z,
        z_total=zt,
        energy_bins=edges,
        counts_by_index_energy=cie,
        complete=np.array([c.complete for c in results]),
        seeds=seeds,
    )
