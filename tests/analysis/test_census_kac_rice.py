"""The census against exact answers: homotopy per sample, Kac–Rice for the disorder mean.

A census bias (duplicates not merged, points missed, non-critical points counted) shows first
as a per-sample difference from the exact homotopy enumeration; the slow test also checks the
disorder mean of the census itself against the exact finite-N Kac–Rice mean, with fixed seeds
and enough samples that a 10% bias is a > 4 standard-error error.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical import census, census_ensemble
from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points
from pspin.theory import kac_rice_mean

Z_TOL = 3.5


@pytest.mark.parametrize("seed", [6, 8])
def test_census_exact_on_the_samples_reported_high(seed):
    # seeds 0..15 at N = 8 gave a mean of 140.5 +- 6.4 points against Kac-Rice 124.09; seed 6
    # has the most points of them (186) and seed 8 the fewest (98): the census is exact on both
    model = SphericalPSpin(8, 3, seed=seed)
    ref = pspin_critical_points(model, seed=0)
    assert ref.complete
    c = census(model, seed=0)
    assert c.complete
    np.testing.assert_array_equal(c.counts_by_index, ref.counts_by_index)
    assert c.n_points == {6: 186, 8: 98}[seed]
    # points on the sphere, critical, and pairwise distinct
    np.testing.assert_allclose(np.linalg.norm(c.points, axis=1), np.sqrt(8), rtol=1e-12)
    assert np.all(np.linalg.norm(model.rgrad(c.points), axis=1) < 1e-8)
    D = np.linalg.norm(c.points[:, None] - c.points[None], axis=-1)
    assert np.min(D + 10 * np.eye(len(D))) > 1e-6


def test_census_finds_the_close_saddle_pair_n8():
    # N = 8, disorder seed 3016: the homotopy finds 154 points. Without the partner search,
    # census search seeds 1 and 2 (and the census_ensemble child 16 of root 0) stopped by
    # their certificate at 152, missing the pair {x, -x} of index 4 / 3 at H/N = -+0.2909 (its
    # partner 0.22 away, along the softest Hessian direction, was found): at even N and odd p
    # the Morse and index-symmetry checks cannot see a missing antipodal pair.
    model = SphericalPSpin(8, 3, seed=3016)
    ref = pspin_critical_points(model, seed=0)
    assert ref.complete and len(ref.points) == 154
    c = census(model, seed=2)
    assert c.complete and c.stopped_by == "certificate"
    np.testing.assert_array_equal(c.counts_by_index, ref.counts_by_index)
    # without the partner search the same census stops one pair short
    c0 = census(model, seed=2, partners=False)
    assert c0.complete and c0.n_points == len(ref.points) - 2


@pytest.mark.slow
def test_census_mean_matches_kac_rice_n6():
    # also run by `python -m benchmarks.critical --ensemble --N 6 --samples 150 --seed0 0`
    # (~1 s per sample). Per-sample total: s.d. 26% of the mean, so s.e. ~2% with 150 samples
    N = 6
    ens = census_ensemble(lambda s: SphericalPSpin(N, 3, seed=s), range(150), census_seed=0)
    assert ens.complete.all()
    kr = kac_rice_mean(N, 3)
    assert np.all(np.abs(ens.mean - kr.by_index) < Z_TOL * ens.stderr)
    assert abs(ens.total_mean - kr.total) < Z_TOL * ens.total_stderr
    # a census biased by +-10% (its s.e. scaled alike) fails the same check
    for f in (0.9, 1.1):
        assert abs(f * ens.total_mean - kr.total) > Z_TOL * f * ens.total_stderr
