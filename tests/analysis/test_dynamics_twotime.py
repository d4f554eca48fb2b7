"""Two-time observables (analysis.dynamics.twotime) against exact Ornstein-Uhlenbeck answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.dynamics import gradient_descent, langevin, two_time, two_time_from_result
from landscapes.quadratic import Quadratic

K_SPRING, TEMP, STEP, DIM = 1.0, 0.5, 0.05, 20


def _ou_exact(n, m, x0sq):
    """Exact moments of the Euler chain x' = (1 - k h) x + sqrt(2 T h) xi from a fixed x0."""
    a = 1.0 - K_SPRING * STEP
    noise = 2.0 * TEMP * STEP / (1.0 - a * a)
    s_n = a ** (2 * n) * x0sq / DIM + noise * (1.0 - a ** (2 * n))
    msd = (1.0 - a**m) ** 2 * s_n + noise * (1.0 - a ** (2 * m))
    return a**m * s_n, msd


def test_langevin_on_a_quadratic_matches_the_exact_ou_moments():
    energy = Quadratic(K_SPRING * np.eye(DIM), manifold="euclidean")
    K = 400
    x0 = np.full((K, DIM), 2.0)
    res = langevin(energy, x0, temperature=TEMP, step=STEP, n_steps=200, seed=7, record_points=True)
    n_w = np.array([0, 10, 40])
    m = np.array([1, 5, 20, 80])
    tt = two_time_from_result(res, STEP, n_w * STEP, m * STEP, kind="overlap")
    assert tt.n_replicas == K
    for a, n in enumerate(n_w):
        for b, mm in enumerate(m):
            c_ex, d_ex = _ou_exact(n, mm, 4.0 * DIM)
            assert abs(tt.correlation[a, b] - c_ex) < 4.5 * tt.correlation_err[a, b]
            assert abs(tt.msd[a, b] - d_ex) < 4.5 * tt.msd_err[a, b]
    # aging of the non-stationary start: the MSD at fixed lag depends on t_w
    assert tt.msd[0, 1] > tt.msd[2, 1] + 5 * tt.msd_err[0, 1]


def test_gradient_descent_two_time_is_exact_and_deterministic():
    energy = Quadratic(K_SPRING * np.eye(DIM), manifold="euclidean")
    x0 = np.linspace(-1.0, 2.0, DIM)
    res = gradient_descent(
        energy, x0, step=STEP, max_steps=100, gtol=0.0, record_every=1, record_points=True
    )
    tt = two_time_from_result(res, STEP, [0.0, 1.0], [0.0, 0.25, 2.0])
    a = 1.0 - K_SPRING * STEP
    x0sq = float(x0 @ x0)
    for i, n in enumerate([0, 20]):
        for j, mm in enumerate([0, 5, 40]):
            ex = (a ** (n + mm) - a**n) ** 2 * x0sq / DIM
            assert tt.msd[i, j] == pytest.approx(ex, rel=1e-10, abs=1e-14)
    assert np.allclose(tt.correlation, 1.0)  # a radial contraction keeps the direction
    assert np.all(np.isnan(tt.correlation_err))  # one replica: no error bar


def test_cosine_on_the_sphere_is_the_overlap_and_interpolates():
    rng = np.random.default_rng(0)
    N, K = 30, 5
    pts = rng.standard_normal((4, K, N))
    pts *= np.sqrt(N) / np.linalg.norm(pts, axis=2, keepdims=True)
    times = np.array([0.0, 1.0, 2.0, 4.0])
    cos = two_time(pts, times, [1.0], [0.0, 1.0, 2.0, 3.0, 5.0])
    ov = two_time(pts, times, [1.0], [1.0, 3.0], kind="overlap")
    exact = np.mean(np.sum(pts[1] * pts[2], axis=1)) / N
    assert cos.correlation[0, 1] == pytest.approx(exact, rel=1e-12)
    assert ov.correlation[0, 0] == pytest.approx(exact, rel=1e-12)
    assert cos.correlation[0, 0] == pytest.approx(1.0)
    mid = np.mean(np.sum(pts[1] * pts[2], axis=1) + np.sum(pts[1] * pts[3], axis=1)) / (2 * N)
    assert cos.correlation[0, 2] == pytest.approx(mid, rel=1e-12)  # halfway between 2 and 4
    assert np.isnan(cos.correlation[0, 4])  # beyond the recording
    recs = cos.to_records()
    assert len(recs) == 4 and recs[1]["t"] == 2.0


def test_two_time_bad_input():
    pts = np.zeros((3, 2, 4)) + 1.0
    with pytest.raises(ValueError, match="points"):
        two_time(pts[0], [0, 1, 2], [0], [0])
    with pytest.raises(ValueError, match="times"):
        two_time(pts, [0, 2, 1], [0], [0])
    with pytest.raises(ValueError, match="waiting time"):
        two_time(pts, [0, 1, 2], [0.5], [0])
    with pytest.raises(ValueError, match="lags"):
        two_time(pts, [0, 1, 2], [0], [-1.0])
    with pytest.raises(ValueError, match="kind"):
        two_time(pts, [0, 1, 2], [0], [0], kind="pearson")
