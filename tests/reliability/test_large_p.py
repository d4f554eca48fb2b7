"""Class 3 (unbounded memory/time for large p): symmetrization never lists the p!
permutations, and the memory check counts its scratch and names the cost."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pspin import SphericalPSpin
from pspin import model as pspin_model


def _contract(T: np.ndarray, x: np.ndarray) -> float:
    for _ in range(T.ndim):
        T = T @ x
    return float(T)


def test_p12_builds_symmetric_and_keeps_the_polynomial():
    m = SphericalPSpin(2, 12, seed=0)  # p! = 479,001,600 permutations were listed before
    T = m.tensor.reshape((2,) * 12)
    rng = np.random.default_rng(1)
    for _ in range(5):
        perm = rng.permutation(12)
        np.testing.assert_allclose(np.transpose(T, perm), T, rtol=0, atol=1e-15)
    # from_couplings symmetrizes raw couplings: the Hamiltonian (a polynomial) is unchanged
    J = np.random.default_rng(2).standard_normal((2,) * 9)
    m9 = SphericalPSpin.from_couplings(J)
    x = m9.random_point(3)
    raw = _contract(J, x) * 2 ** (-(9 - 1) / 2)
    assert m9.energy(x) == pytest.approx(raw, rel=1e-12, abs=1e-12)


def test_sorted_symmetrization_equals_the_permutation_average():
    J = np.random.default_rng(4).standard_normal((3,) * 7)
    ref = sum(np.transpose(J, p) for p in itertools.permutations(range(7))) / math.factorial(7)
    T = J.copy()
    pspin_model._symmetrize_inplace(T)  # p = 7 takes the sort-based route
    np.testing.assert_allclose(T, ref, rtol=0, atol=1e-13)


def test_too_large_is_refused_with_its_cost(monkeypatch):
    monkeypatch.setattr(pspin_model, "available_memory", lambda: 10**9)
    with pytest.raises(ValueError, match=r"p=40 model with N=2 need [\d,]+ bytes"):
        SphericalPSpin(2, 40)
