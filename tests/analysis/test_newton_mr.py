"""Newton-MR: exact critical points of quadratics of any index, the gradient-flat category,
and MINRES against the dense minimum-norm step on a small network loss."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.critical.newton_mr import newton_mr, null_fraction
from landscapes import Quadratic
from landscapes.datasets import from_arrays
from landscapes.nn import MLPLoss


def _indefinite(seed=0, n=6, n_neg=2):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([-np.linspace(1, 2, n_neg), np.linspace(0.5, 3, n - n_neg)])
    return Quadratic((Q * lam) @ Q.T, rng.standard_normal(n)), Q, lam


@pytest.mark.parametrize("solver", ["dense", "minres"])
def test_quadratic_saddle_found_exactly_with_its_index(solver):
    E, Q, lam = _indefinite()
    x_star = -np.linalg.solve(E.A, E.b)
    X0 = np.random.default_rng(1).standard_normal((4, 6)) * 3
    r = newton_mr(E, X0, solver=solver, max_step=100.0)
    assert np.all(r.kind == "critical")
    np.testing.assert_allclose(r.x, np.tile(x_star, (4, 1)), atol=1e-9)
    assert np.all(r.indices == 2)
    np.testing.assert_allclose(r.index_fractions, 2 / 6)
    assert np.all(r.iterations <= 2)  # Newton on a quadratic: one step (plus the check)
    assert r.counts() == {"critical": 4, "flat": 0, "degenerate": 0, "none": 0}


def test_gradient_flat_points_are_their_own_category():
    # A singular, b with a component in ker A: grad = A x + b never vanishes; the smallest
    # gradient is the kernel part of b, reached where the rest is solved. Gradient-flat.
    lam = np.array([0.0, 1.0, -2.0, 3.0])
    b = np.array([1e-4, 1.0, 1.0, 1.0])
    E = Quadratic(np.diag(lam), b)
    r = newton_mr(E, np.ones((3, 4)), solver="dense")
    assert np.all(r.kind == "flat")
    np.testing.assert_allclose(r.grad_norms, 1e-4, rtol=1e-8)
    np.testing.assert_allclose(r.null_fractions, 1.0, atol=1e-8)
    fr, ix = null_fraction(E, r.x)
    np.testing.assert_allclose(fr, 1.0, atol=1e-8)
    np.testing.assert_allclose(ix, 0.25)
    # a large kernel component is not "small": not critical, not flat
    E2 = Quadratic(np.diag(lam), np.array([1.0, 1.0, 1.0, 1.0]))
    assert np.all(newton_mr(E2, np.ones((1, 4)), solver="dense").kind == "none")


def test_minres_and_dense_agree_on_a_network():
    rng = np.random.default_rng(0)
    C = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1.0]])
    X = np.repeat(C, 6, axis=0) + 0.2 * rng.standard_normal((24, 2))
    y = np.repeat([0, 1, 1, 0], 6)
    L = MLPLoss(from_arrays(X, y), hidden=(3,), activation="tanh", loss="mse", weight_decay=1e-3)
    r0 = newton_mr(L, L.random_point(2, size=3) * 2.0, solver="dense", max_iter=150)
    crit = r0.x[r0.kind == "critical"]
    assert crit.shape[0] and np.all(r0.grad_norms[r0.kind == "critical"] <= 1e-10)
    # from near a critical point, both solvers converge (quadratically) to it
    X0 = crit + 1e-3 * np.random.default_rng(3).standard_normal(crit.shape)
    rd = newton_mr(L, X0, solver="dense", max_iter=30)
    rm = newton_mr(L, X0, solver="minres", max_iter=30)
    assert np.all(rd.kind == "critical") and np.all(rm.kind == "critical")
    # |x - x*| <= (|g(x)| + |g(x*)|) / min |eigenvalue| with both gradients <= 1e-10
    tol = 2e-10 / r0.min_abs_eigs[r0.kind == "critical"].min()
    np.testing.assert_allclose(rd.x, crit, atol=tol)
    np.testing.assert_allclose(rm.x, crit, atol=tol)
    np.testing.assert_array_equal(rm.indices, r0.indices[r0.kind == "critical"])


def test_bad_arguments():
    E, _, _ = _indefinite()
    with pytest.raises(ValueError, match="solver"):
        newton_mr(E, np.zeros((1, 6)), solver="cg")
    with pytest.raises(ValueError, match="max_iter"):
        newton_mr(E, np.zeros((1, 6)), max_iter=0)
    with pytest.raises(ValueError, match="flat_fraction"):
        newton_mr(E, np.zeros((1, 6)), flat_fraction=0.0)
