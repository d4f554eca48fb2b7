"""Class 2 (false certificates): tolerances are validated, and an empty census is never
certified complete (the Morse relation holds trivially for even N with no point at all)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical import census, deduplicate, verify
from analysis.critical.census import _certificate
from pspin import SphericalPSpin


@pytest.fixture(scope="module")
def model():
    return SphericalPSpin(4, 3, seed=0)  # even N: Euler characteristic 0


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"gtol": -1}, "gtol"),
        ({"gtol": float("nan")}, "gtol"),
        ({"gtol": 0.0}, "gtol"),
        ({"eig_tol": float("inf")}, "eig_tol"),
        ({"dist_tol": -1e-6}, "dist_tol"),
        ({"lm_fraction": 1.5}, "lm_fraction"),
        ({"max_iter": 0}, "max_iter"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"min_starts": -1}, "min_starts"),
        ({"max_time": float("nan")}, "max_time"),
        ({"energy_bins": [0.0, float("nan")]}, "energy_bins"),
    ],
)
def test_census_refuses_bad_options_before_searching(model, kw, name):
    with pytest.raises(ValueError, match=name):
        census(model, **{"seed": 0, "max_starts": 8, "batch_size": 4, "progress": False, **kw})


def test_empty_census_is_not_complete(model):
    # one start, one iteration and an unreachable (but valid) gradient tolerance: nothing
    # verifies, and the census must say it failed rather than certify an empty count
    c = census(
        model,
        seed=0,
        batch_size=1,
        max_starts=2,
        min_starts=0,
        max_iter=1,
        gtol=1e-300,
        progress=False,
    )
    assert c.n_points == 0
    assert not c.complete and c.stopped_by == "max_starts"
    cert = c.certificate
    assert cert.morse_sum == cert.morse_expected == 0  # the alternating sum alone would pass
    assert not cert.morse_ok and not cert.saturation_ok


def test_certificate_needs_a_minimum_and_a_maximum(model):
    d = model.manifold.intrinsic_dim
    assert not _certificate(model, np.zeros(0, int), d, None, 0, 100).complete
    assert not _certificate(model, np.array([0]), d, None, 1, 100).morse_ok
    # a genuine census of this model is complete (the rule refuses only what is impossible)
    c = census(model, seed=0, batch_size=32, progress=False)
    assert c.complete and c.n_points >= 2


def test_verify_and_deduplicate_validate_tolerances(model):
    X = model.random_point(0, size=2)
    for name in ("gtol", "eig_tol", "flat_ratio", "flat_gtol"):
        with pytest.raises(ValueError, match=name):
            verify(model, X, **{name: -1.0})
    with pytest.raises(ValueError, match="tol"):
        deduplicate(X, X, -1e-3)  # squared, a negative tolerance used to merge everything
