"""The Energy contract battery (tests/test_contract.py) run on every network energy."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nn.cases import NN_CASES
from tests.test_contract import (  # noqa: F401  (collected here with this module's fixture)
    _rel,
    test_bad_shapes_and_values_raise,
    test_batch_equals_loop,
    test_energy_and_gradient_consistent,
    test_finite_sum_minibatches,
    test_gradient_matches_central_differences,
    test_hessian_symmetric_and_equal_to_hvp_columns,
    test_hvp_matches_gradient_differences,
    test_no_argument_is_mutated,
    test_rgrad_is_tangent,
    test_tangent_basis_orthonormal,
)

NAMES = sorted(NN_CASES)


@pytest.fixture(params=NAMES, scope="module")
def case(request):
    name = request.param
    energy = NN_CASES[name](seed=1234)
    rng = np.random.default_rng(99)
    X = energy.random_point(rng, size=3)
    # move off the initialization (zero biases) to a generic point
    X = X + 0.1 * rng.standard_normal(X.shape)
    return name, energy, X, rng


def test_rhessian_matches_second_differences(case):
    """Mixed second differences of f(x + s v + t w), Richardson-extrapolated (error O(h^4))."""
    _, energy, X, rng = case
    x = X[2]
    R = energy.rhessian(x)
    d = energy.manifold.intrinsic_dim
    assert R.shape == (d, d)
    assert _rel(R, R.T) < 1e-12
    B = energy.manifold.tangent_basis(x)
    f = energy.energy

    def mixed(v, w, h):
        return (
            f(x + h * (v + w)) - f(x + h * (v - w)) - f(x + h * (w - v)) + f(x - h * (v + w))
        ) / (4 * h * h)

    for _ in range(3):
        a, b = rng.standard_normal(d), rng.standard_normal(d)
        a /= np.linalg.norm(a)
        b /= np.linalg.norm(b)
        v, w = B @ a, B @ b
        h = 2e-3
        fd = (4 * mixed(v, w, h / 2) - mixed(v, w, h)) / 3
        exact = a @ R @ b
        assert abs(fd - exact) < 1e-6 * (1 + abs(exact)) * (1 + np.abs(R).max())
    v = B @ rng.standard_normal(d)
    assert _rel(energy.rhvp(x, v), B @ (R @ (B.T @ v))) < 1e-10


def test_seeded_determinism_nn(case):
    """As test_contract.test_seeded_determinism, with the factories of NN_CASES."""
    name, energy, X, _ = case
    again = NN_CASES[name](seed=1234)
    other = NN_CASES[name](seed=4321)
    assert again.fingerprint == energy.fingerprint
    assert np.array_equal(again.energy(X), energy.energy(X))
    assert other.fingerprint != energy.fingerprint
    assert not np.allclose(other.energy(X), energy.energy(X))
    p1 = energy.random_point(np.random.default_rng(5), size=2)
    p2 = energy.random_point(np.random.default_rng(5), size=2)
    assert np.array_equal(p1, p2)
    assert energy.manifold.distance_to(p1).max() == 0
