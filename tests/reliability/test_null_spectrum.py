"""Class 9 (hangs in the spectrum): the bottom of a Hessian with a large null space (~1e-16
eigenvalues, an over-parameterized network at a minimum) converges, and is right."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.spectrum import hessian_eigenvalues
from landscapes.quadratic import Quadratic


@pytest.fixture(scope="module")
def low_rank():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((400, 20))
    A = G @ G.T / 20  # rank 20: 380 eigenvalues ~1e-15
    return Quadratic(A), np.linalg.eigvalsh(A)


@pytest.mark.parametrize("which", ["SA", "BE", "LA"])
def test_lanczos_with_a_null_bottom(low_rank, which):
    q, w = low_rank
    norm = np.abs(w).max()
    r = hessian_eigenvalues(
        q, np.zeros(400), k=6, which=which, method="lanczos", seed=1, riemannian=False
    )
    assert r.all_converged
    want = {"SA": w[:6], "LA": w[-6:], "BE": np.concatenate([w[:3], w[-3:]])}[which]
    # tolerances relative to the operator's norm: the zeros come out as zeros, every copy
    np.testing.assert_allclose(r.eigenvalues, want, rtol=0, atol=1e-9 * norm)
    assert np.all(r.residuals <= 1e-8 * norm)


def test_tolerance_is_validated(low_rank):
    q, _ = low_rank
    with pytest.raises(ValueError, match="tol"):
        hessian_eigenvalues(q, np.zeros(400), k=3, which="SA", tol=float("nan"))
    with pytest.raises(ValueError, match="maxiter"):
        hessian_eigenvalues(q, np.zeros(400), k=3, which="SA", method="lanczos", maxiter=0)
