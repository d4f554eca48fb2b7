"""The index ladder (analysis.critical.transition.climb_index) on a separable energy whose
critical points and indices are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical import verify
from analysis.critical.transition import climb_index
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean


class _Wells(Energy):
    """E = sum_i a_i (x_i^2 - 1)^2: critical points x_i in {-1, 0, 1}, index = number of zeros.

    With a_1 < a_2 < ... the Hessian (8 a_i at +-1, -4 a_i at 0) is non-degenerate and the
    softest stable mode of a point is its first nonzero coordinate.
    """

    def __init__(self, a):
        self.a = np.asarray(a, dtype=np.float64)
        self.manifold = Euclidean(self.a.size)

    def params(self):
        return {"a": self.a.tolist()}

    def _energy_and_gradient(self, X):
        e = np.sum(self.a * (X**2 - 1) ** 2, axis=1)
        return e, 4 * self.a * X * (X**2 - 1)

    def _hvp(self, X, V):
        return self.a * (12 * X**2 - 4) * V


def test_climb_index_goes_up_one_index_along_the_softest_stable_mode():
    E = _Wells([1.0, 2.0, 3.0, 4.0])
    x = np.ones((1, 4))
    for k in range(4):
        Z, tgt = climb_index(E, x, np.array([k]))
        np.testing.assert_array_equal(tgt, [k + 1, k + 1])
        v = verify(E, Z)
        # one side climbs over the barrier to x_(k+1) = 0; the other runs up the outer wall
        # of the well, where there is no critical point, and is not verified
        ok = v.kind == "critical"
        assert ok.sum() == 1 and v.indices[ok][0] == k + 1
        expect = np.r_[np.zeros(k + 1), np.ones(3 - k)]
        np.testing.assert_allclose(np.abs(Z[ok][0]), expect, atol=1e-10)
        x = Z[ok]
    # the top (index 4 = the dimension) cannot climb; wrong lengths are refused
    Z, tgt = climb_index(E, x, np.array([4]))
    assert Z.shape == (0, 4) and tgt.size == 0
    with pytest.raises(ValueError, match="indices"):
        climb_index(E, np.ones((2, 4)), np.array([0]))
    with pytest.raises(ValueError, match="step"):
        climb_index(E, np.ones((1, 4)), np.array([0]), step=0.0)
