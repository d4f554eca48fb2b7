"""Descents from index-1 saddles (analysis.critical.saddle_descent): the adaptive push-off
and the continuation through higher-index critical points, on 2-D energies with closed-form
critical points."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical import verify
from analysis.critical.saddle_descent import descend_from_saddles, push_off
from analysis.critical.transition import connect_saddles
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean


class _Quartic(Energy):
    """E = lam x^2 / 2 + c x^4 + y^2 / 2: a saddle at 0 (lam < 0) with a quartic wall."""

    def __init__(self, lam=-1e-4, c=1.0):
        self.lam, self.c = lam, c
        self.manifold = Euclidean(2)

    def params(self):
        return {"lam": self.lam, "c": self.c}

    def _energy_and_gradient(self, X):
        x, y = X[:, 0], X[:, 1]
        e = 0.5 * self.lam * x**2 + self.c * x**4 + 0.5 * y**2
        return e, np.stack([self.lam * x + 4 * self.c * x**3, y], 1)

    def _hvp(self, X, V):
        h = self.lam + 12 * self.c * X[:, 0] ** 2
        return np.stack([h * V[:, 0], V[:, 1]], 1)


class _Fold(Energy):
    """E = (x^2 - 1)^2 + k (1 - 2 x^2) y^2 / 2 + y^4 / 4, symmetric under y -> -y.

    The index-1 saddle (0, 0) has its unstable direction along x, inside the invariant line
    y = 0, where the descent ends at (+-1, 0): index 1 (unstable along y). Continued, it
    reaches the minima (+-x*, +-y*), x*^2 = (4 - 2k^2) / (4 - 4k^2), y*^2 = k (2 x*^2 - 1).
    """

    def __init__(self, k=0.5):
        self.k = k
        self.manifold = Euclidean(2)

    def params(self):
        return {"k": self.k}

    def _energy_and_gradient(self, X):
        x, y, k = X[:, 0], X[:, 1], self.k
        e = (x**2 - 1) ** 2 + 0.5 * k * (1 - 2 * x**2) * y**2 + 0.25 * y**4
        gx = 4 * x * (x**2 - 1) - 2 * k * x * y**2
        gy = k * (1 - 2 * x**2) * y + y**3
        return e, np.stack([gx, gy], 1)

    def _hvp(self, X, V):
        x, y, k = X[:, 0], X[:, 1], self.k
        hxx = 12 * x**2 - 4 - 2 * k * y**2
        hxy = -4 * k * x * y
        hyy = k * (1 - 2 * x**2) + 3 * y**2
        return np.stack([hxx * V[:, 0] + hxy * V[:, 1], hxy * V[:, 0] + hyy * V[:, 1]], 1)


def test_push_off_is_the_largest_halving_where_the_quadratic_model_holds():
    lam, c = -1e-4, 1.0
    E = _Quartic(lam, c)
    X = np.zeros((2, 2))
    U = np.array([[1.0, 0.0], [-1.0, 0.0]])
    eps = push_off(E, X, U, np.full(2, lam), max_kick=0.05, rtol=0.5)
    # |c eps^4| <= 0.5 |lam eps^2 / 2|  <=>  eps^2 <= |lam| / (4 c): the first halving of
    # 0.05 below sqrt(|lam| / (4 c)) = 0.005
    expect = 0.05
    while expect**2 > abs(lam) / (4 * c):
        expect *= 0.5
    np.testing.assert_allclose(eps, expect, rtol=0, atol=0)
    assert np.all(E.energy(X + eps[:, None] * U) < 0.0)
    # a fixed kick of 0.05 would go uphill: the wall dominates there
    assert E.energy(np.array([0.05, 0.0])) > 0.0
    # a stable direction keeps the largest kick; bad lengths are refused
    assert push_off(E, X[:1], np.array([[0.0, 1.0]]), np.array([1.0]))[0] == 0.05
    with pytest.raises(ValueError, match="min_kick"):
        push_off(E, X, U, np.full(2, lam), max_kick=1e-3, min_kick=1e-2)


def test_descents_leave_a_shallow_saddle_and_reach_its_two_minima():
    lam, c = -1e-4, 1.0
    E = _Quartic(lam, c)
    xm = np.sqrt(-lam / (4 * c))  # minima at (+-xm, 0), energy -lam^2 / (16 c)
    d = descend_from_saddles(E, np.zeros((1, 2)), np.array([[1.0, 0.0]]))
    assert d.ok.all() and d.n_connected == 1
    # verified to |grad| <= 1e-10: positions within 1e-10 / (curvature 2 |lam|) = 5e-7
    np.testing.assert_allclose(np.sort(d.minima[0, :, 0]), [-xm, xm], rtol=0, atol=5e-7)
    np.testing.assert_allclose(d.minima[0, :, 1], 0.0, atol=1e-10)
    np.testing.assert_allclose(E.energy(d.minima[0]), -(lam**2) / (16 * c), rtol=1e-6)
    assert np.all(d.via == 0) and np.all(d.kicks < 0.05)


def test_a_descent_stuck_in_a_symmetric_subspace_is_continued_to_the_minima():
    k = 0.5
    E = _Fold(k)
    x2 = (4 - 2 * k**2) / (4 - 4 * k**2)
    y2 = k * (2 * x2 - 1)
    e_min = (x2 - 1) ** 2 + 0.5 * k * (1 - 2 * x2) * y2 + 0.25 * y2**2
    s = np.zeros((1, 2))
    v = verify(E, s)
    assert v.kind[0] == "critical" and v.indices[0] == 1
    # (+-1, 0) is an index-1 point: the descent along y = 0 stops there
    w = verify(E, np.array([[1.0, 0.0], [-1.0, 0.0]]))
    assert np.all(w.kind == "critical") and np.all(w.indices == 1)
    d = descend_from_saddles(E, s, np.array([[1.0, 0.0]]))
    assert d.ok.all()
    np.testing.assert_array_equal(d.via, [[1, 1]])
    np.testing.assert_allclose(np.abs(d.minima[0]), [[np.sqrt(x2), np.sqrt(y2)]] * 2, rtol=1e-9)
    np.testing.assert_allclose(E.energy(d.minima[0]), e_min, rtol=1e-9)
    # no continuation allowed: both descents end at the index-1 points, not counted
    d0 = descend_from_saddles(E, s, np.array([[1.0, 0.0]]), restarts=0)
    assert not d0.ok.any()
    np.testing.assert_array_equal(d0.indices, [[1, 1]])
    np.testing.assert_allclose(np.abs(d0.minima[0]), [[1.0, 0.0]] * 2, atol=1e-9)
    # connect_saddles is the same procedure
    pair, ok = connect_saddles(E, s, np.array([[1.0, 0.0]]))
    np.testing.assert_array_equal(pair, d.minima)
    np.testing.assert_array_equal(ok, d.ok)
    with pytest.raises(ValueError, match="unstable"):
        descend_from_saddles(E, s, np.ones((2, 2)))
    with pytest.raises(ValueError, match="restarts"):
        descend_from_saddles(E, s, np.array([[1.0, 0.0]]), restarts=-1)


# An index-1 saddle of the 4 x 4 checkerboard network (tanh, h = 4, weight decay 1e-3) on the
# loss plateau near 0.25, found by `landscapes landscape mlp --dataset checkerboard` (seed 0).
# Its descent along -u stays in a subspace fixed by the checkerboard's symmetries and stops at
# an index-2 point whose negative eigenvalues (-3.8e-5, a degenerate pair) are small beside
# the quartic terms: a fixed kick of 0.05 from there goes uphill, and the descent with the
# fixed kick did not reach a minimum.
CHECKERBOARD_SADDLE = [
    -1.3170620983720654e-17, 0.07018640653646491, -0.070186406536465, -1.5513901022772104e-16,
    1.2669560256774567e-17, -0.07018640653646518, 0.07018640653646527, 1.4923558830413684e-16,
    -3.0160295109440956e-15, -0.09553975895718812, -0.09553975895719068, -3.552948864115751e-14,
    -2.03882585081664e-15, -2.22269445167989e-15, -0.09623817753342072, 0.003325075978390629,
    -0.096238177533421, 0.0033250759783906634, -2.401872686221237e-14, -2.6184937056014662e-14,
    0.4812839332050476, 0.5001298907519782,
]  # fmt: skip


def test_checkerboard_saddle_connects_through_its_symmetric_index_2_point():
    from analysis.studies.network_landscapes import network_model

    E = network_model("checkerboard", 4, 1e-3, k=4)
    s = np.array([CHECKERBOARD_SADDLE])
    v = verify(E, s)
    assert v.kind[0] == "critical" and v.indices[0] == 1
    d = descend_from_saddles(E, s, v.unstable)
    assert d.ok.all()
    ends = verify(E, d.minima[0])
    assert np.all(ends.kind == "critical") and np.all(ends.indices == 0)
    assert np.all(ends.grad_norms <= 1e-10)
    assert np.all(ends.energies < v.energies[0])
    assert d.via.max() >= 1  # the -u side went through the index-2 point
