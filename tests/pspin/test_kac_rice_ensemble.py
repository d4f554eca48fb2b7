"""Exact per-sample counts (homotopy) averaged over disorder, against the exact Kac–Rice mean.

The homotopy enumeration is exact for every sample, so the only error of the disorder mean is
statistical: with fixed seeds the tolerance is a number of standard errors of the mean. The
per-sample total has s.d. ~26% (N = 6) and ~21% (N = 8) of its mean (near Gaussian), so 16
samples give a 5-7% standard error; the sample sizes below make a 10% bias a > 4 s.e. error.
"""

from __future__ import annotations

import numpy as np
import pytest

from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points
from pspin.theory import kac_rice_mean

Z_TOL = 3.5


def _exact_counts(N: int, seeds) -> np.ndarray:
    rows = []
    for s in seeds:
        r = pspin_critical_points(SphericalPSpin(N, 3, seed=s), seed=0)
        assert r.complete
        rows.append(r.counts_by_index)
    return np.array(rows)


def _check_mean(counts: np.ndarray, N: int) -> None:
    """Mean per index and in total within Z_TOL s.e. of Kac–Rice; a 10% bias is not."""
    S = counts.shape[0]
    kr = kac_rice_mean(N, 3)
    mean = counts.mean(0)
    se = counts.std(0, ddof=1) / np.sqrt(S)
    tot = counts.sum(1)
    tm, ts = tot.mean(), tot.std(ddof=1) / np.sqrt(S)
    assert np.all(np.abs(mean - kr.by_index) < Z_TOL * se), (mean - kr.by_index) / se
    assert abs(tm - kr.total) < Z_TOL * ts, (tm - kr.total) / ts
    # power: counts biased by +-10% (their s.e. scaled alike) would fail the same check
    for f in (0.9, 1.1):
        assert abs(f * tm - kr.total) > Z_TOL * f * ts


def test_exact_counts_match_kac_rice_n6():
    # 150 samples, ~0.07 s each; s.e. of the total ~1.0 (2%) against 50.873
    _check_mean(_exact_counts(6, range(150)), 6)


@pytest.mark.slow
def test_exact_counts_match_kac_rice_n8():
    # also run by `python -m benchmarks.critical --ensemble --exact --N 8 --samples 400
    # --seed0 0`; includes seeds 0..15, whose 16-sample mean (140.5 +- 6.4) is 2.6 s.e. high
    _check_mean(_exact_counts(8, range(200)), 8)
