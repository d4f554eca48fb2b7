"""Simulated annealing: exact Metropolis at fixed temperature, per-replica streams, cooling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.annealing import annealing_temperatures, simulated_annealing
from landscapes import Quadratic
from pspin import SphericalPSpin


@pytest.mark.parametrize("proposal", ["rw", "mala"])
def test_fixed_temperature_is_exact_metropolis(proposal):
    # H = x.A x / 2 in R^d has E[H] = d T / 2 and sd(H) = T sqrt(d / 2) under exp(-H / T)
    d, T, K = 5, 0.3, 200
    A = np.diag(np.arange(1.0, d + 1))
    q = Quadratic(A)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((K, d)) * np.sqrt(T / np.diag(A))  # start in equilibrium
    res = simulated_annealing(
        q,
        x0,
        n_steps=600,
        t_start=T,
        t_end=T,
        proposal=proposal,
        step=0.5 if proposal == "rw" else 0.2,
        adapt=False,
        seed=1,
        record_every=10,
    )
    mean = res.trajectory_energies[1:].mean()
    # a time average has at most the variance of one sample: se <= T sqrt(d/2) / sqrt(K)
    se = T * math.sqrt(d / 2) / math.sqrt(K)
    assert abs(mean - d * T / 2) < 5 * se
    assert 0.05 < res.acceptance.mean() < 0.99
    assert np.all(res.best_energies <= res.energies + 1e-15)


def test_replica_of_a_batch_equals_a_single_run():
    q = Quadratic(dim=6, manifold="sphere", seed=2)
    X = q.random_point(3, size=3)
    batch = simulated_annealing(q, X, n_steps=150, t_start=1.0, t_end=1e-3, seed=5)
    streams = batch.seeds["replicas"]
    from landscapes.random import seed_from_info

    one = simulated_annealing(
        q, X[1], n_steps=150, t_start=1.0, t_end=1e-3, seed=[seed_from_info(streams[1])]
    )
    # the same accept/reject decisions, equal points to floating-point reassociation
    assert one.acceptance[0] == batch.acceptance[1]
    assert np.allclose(one.x[0], batch.x[1], rtol=1e-10, atol=1e-12)
    assert one.energies[0] == pytest.approx(batch.energies[1], rel=1e-10)
    assert np.allclose(np.linalg.norm(batch.x, axis=1), math.sqrt(6), rtol=1e-12)


def test_cooling_finds_the_ground_state_of_the_2_spin():
    # the p = 2 spherical model's minimum is N lambda_min(S) at the lowest eigenvector
    N = 10
    m = SphericalPSpin(N, 2, seed=3)
    e0 = N * np.linalg.eigvalsh(np.array(m.tensor))[0]
    X = m.random_point(4, size=4)
    res = simulated_annealing(m, X, n_steps=1500, t_start=1.0, t_end=1e-4, step=0.05, seed=6)
    assert np.all(res.best_energies >= e0 - 1e-9)
    assert np.all(res.best_energies < e0 + 1e-2 * abs(e0))
    assert res.temperatures[0] == pytest.approx(1.0) and res.temperatures[-1] == pytest.approx(1e-4)


def test_schedule_and_bad_input():
    t = annealing_temperatures(1.0, 0.01, 3)
    assert np.allclose(t, [1.0, 0.1, 0.01])
    assert np.allclose(annealing_temperatures(1.0, 0.5, 3, "linear"), [1.0, 0.75, 0.5])
    q = Quadratic(dim=4, seed=0)
    x = np.zeros(4)
    with pytest.raises(ValueError, match="t_end"):
        simulated_annealing(q, x, n_steps=5, t_start=1.0, t_end=0.0)
    with pytest.raises(ValueError, match="proposal"):
        simulated_annealing(q, x, n_steps=5, t_start=1.0, t_end=0.1, proposal="gibbs")
    with pytest.raises(ValueError, match="schedule"):
        annealing_temperatures(1.0, 0.1, 5, "cosine")
    with pytest.raises(ValueError, match="off the manifold"):
        simulated_annealing(
            Quadratic(dim=4, manifold="sphere", seed=0), x, n_steps=5, t_start=1.0, t_end=0.1
        )
