"""Descents and samplers over batches of replicas, each checked against an exact answer.

Slow checks (``pytest -m slow tests/analysis/test_dynamics.py``, about 5 min on 2 cores) run
the p-spin equilibrium test with Metropolis at N = 50 and with Metropolis and MALA at N = 100;
the default run checks MALA at N = 50 and Metropolis exactly on a von Mises-Fisher law.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.special import ive

from analysis.dynamics import (
    ON_MANIFOLD_TOL,
    equilibrium_energy,
    gradient_descent,
    langevin,
    metropolis,
    parallel_tempering,
    replica_seeds,
    sgd,
)
from landscapes import Quadratic
from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Euclidean
from landscapes.random import child
from pspin import MixedPSpin, SphericalPSpin

E_INF_3 = 2 * np.sqrt(2 / 3)  # threshold of p = 3 (ABC)
E_0_3 = 1.656998  # ground state of p = 3 (ABC; pspin-theory reference table)


class LeastSquares(FiniteSumEnergy):
    """f(w) = mean_i (a_i . w - y_i)^2 / 2, a finite sum with an exact minimizer."""

    def __init__(self, n=60, d=5, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((n, d))
        self.y = self.A @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
        self.n_samples = n
        self.manifold = Euclidean(d)

    def params(self):
        return {"model": "lsq", "n": self.n_samples, "d": self.dim}

    def _energy_and_gradient(self, X, idx=None):
        A = self.A if idx is None else self.A[idx]
        y = self.y if idx is None else self.y[idx]
        R = X @ A.T - y
        return 0.5 * np.mean(R**2, axis=1), R @ A / A.shape[0]

    def _hvp(self, X, V, idx=None):
        A = self.A if idx is None else self.A[idx]
        return (V @ A.T) @ A / A.shape[0]


def vmf_energy(d=20, field=0.5, T=0.5, seed=0):
    """Linear energy H = b.x on the sphere of radius sqrt(d): von Mises-Fisher equilibrium."""
    b = np.random.default_rng(seed).standard_normal(d)
    b *= field / np.linalg.norm(b)
    q = Quadratic(np.zeros((d, d)), b, manifold="sphere")
    kappa = field * np.sqrt(d) / T
    exact = -field * np.sqrt(d) * ive(d / 2, kappa) / ive(d / 2 - 1, kappa)
    return q, exact


# ----------------------------------------------------------------------------- descents
def test_gd_p2_reaches_ground_state():
    # H(s) = s.S s with S = model.tensor = J_sym / sqrt(N), so min over |s|^2 = N is
    # N lambda_min(S) = sqrt(N) lambda_min(J_sym) (the "sqrt(N) lambda_min")
    N = 40
    m = SphericalPSpin(N, 2, seed=3)
    S = np.asarray(m.tensor)
    lam = np.linalg.eigvalsh(S)
    x0 = m.random_point(0, size=4)
    for schedule in (None, "armijo"):
        r = gradient_descent(m, x0, step=0.2, max_steps=20000, gtol=1e-10, schedule=schedule)
        assert r.converged.all()
        assert np.max(np.abs(r.intensive - lam[0])) < 1e-8
        assert np.max(np.abs(r.energies - N * lam[0])) < 1e-8 * N
        # endpoints are the lowest eigenvector
        v = np.linalg.eigh(S)[1][:, 0] * np.sqrt(N)
        assert np.allclose(np.abs(r.x @ v), N, rtol=1e-6)


def test_gd_euclidean_quadratic_exact_and_ladder():
    rng = np.random.default_rng(1)
    A = np.diag(np.linspace(1.0, 3.0, 6))
    b = rng.standard_normal(6)
    q = Quadratic(A, b)
    xstar = -np.linalg.solve(A, b)
    x0 = rng.standard_normal((3, 6))
    r = gradient_descent(q, x0, step=0.3, max_steps=2000, gtol=1e-12, record_every=5)
    assert r.converged.all()
    assert np.allclose(r.x, xstar, atol=1e-10)
    # fixed-step GD on a quadratic: error contracts by max|1 - step lambda| = 0.7 per step
    assert np.all(r.steps < 120)
    # halting times increase along the ladder and energies are recorded where reached
    assert np.all(np.diff(r.halting_times, axis=1) >= 0)
    assert np.all(r.halting_times >= 0)
    assert np.isfinite(r.halting_energies).all()
    g = r.trajectory_grad_norms
    assert r.trajectory_steps[0] == 0 and r.trajectory_steps[-1] == r.steps.max()
    assert g.shape == (r.trajectory_steps.size, 3)
    # decaying schedule and armijo reach the same minimum
    for sched in ("decay", "armijo"):
        r2 = gradient_descent(q, x0, step=0.3, max_steps=5000, gtol=1e-12, schedule=sched)
        assert np.allclose(r2.x, xstar, atol=1e-10)


def test_gd_converged_replicas_leave_the_batch():
    class Counting(Quadratic):
        rows = 0

        def _energy_and_gradient(self, X):
            Counting.rows += X.shape[0]
            return super()._energy_and_gradient(X)

    q = Counting(np.diag([1.0, 2.0]), None)
    x0 = np.array([[1e-14, 0.0], [1.0, 1.0]])  # the first starts converged
    r = gradient_descent(q, x0, step=0.1, max_steps=1000, gtol=1e-8)
    assert r.steps[0] == 0 and r.steps[1] > 50
    # rows evaluated = initial batch + one per step of the moving replica
    assert Counting.rows == 2 + r.steps[1]


def test_divergence_is_reported_never_silent():
    q = Quadratic(np.diag([1.0, 10.0]), None)
    x0 = np.array([[1.0, 0.0], [1.0, 1.0]])  # only the second has a component on lambda = 10
    with pytest.raises(ValueError, match=r"diverged.*replica 1 at step \d+"):
        gradient_descent(q, x0, step=0.5, max_steps=100000, gtol=1e-8)
    r = gradient_descent(q, x0, step=0.5, max_steps=100000, gtol=1e-8, on_divergence="flag")
    assert r.diverged.tolist() == [False, True]
    assert r.converged.tolist() == [True, False]
    assert r.diverged_at[1] > 0 and np.isfinite(r.x).all() and np.isfinite(r.energies).all()
    with pytest.raises(ValueError, match="Langevin diverged"):
        langevin(q, x0, temperature=1.0, step=0.5, n_steps=5000, seed=0)


def test_bad_input():
    m = SphericalPSpin(10, 3, seed=0)
    x0 = m.random_point(0, size=2)
    with pytest.raises(ValueError, match="step must be"):
        gradient_descent(m, x0, step=0.0, max_steps=10)
    with pytest.raises(ValueError, match="temperature"):
        langevin(m, x0, temperature=-1.0, step=0.1, n_steps=10)
    with pytest.raises(ValueError, match="shape"):
        gradient_descent(m, x0[:, :5], step=0.1, max_steps=10)
    with pytest.raises(ValueError, match="off the manifold"):
        gradient_descent(m, x0 * (1 + 10 * ON_MANIFOLD_TOL), step=0.1, max_steps=10)
    # within the stated tolerance is accepted
    gradient_descent(m, x0 * (1 + 0.1 * ON_MANIFOLD_TOL), step=0.1, max_steps=1)
    with pytest.raises(ValueError, match="schedule"):
        gradient_descent(m, x0, step=0.1, max_steps=10, schedule="cosine")
    with pytest.raises(ValueError, match="NaN"):
        metropolis(m, np.full((1, 10), np.nan), temperature=1.0, n_steps=1)
    with pytest.raises(ValueError, match="FiniteSumEnergy"):
        sgd(m, x0, batch_size=1, step=0.1, epochs=1)
    ls = LeastSquares()
    with pytest.raises(ValueError, match="larger than the data"):
        sgd(ls, np.zeros(5), batch_size=61, step=0.1, epochs=1)
    with pytest.raises(ValueError, match="one numpy SeedSequence per replica"):
        langevin(m, x0, temperature=1.0, step=0.1, n_steps=1, seed=[np.random.SeedSequence(1)])
    # arguments are never modified
    before = x0.copy()
    langevin(m, x0, temperature=1.0, step=0.05, n_steps=5, seed=0, adjusted=True)
    assert np.array_equal(x0, before)


def test_sgd_decaying_step_converges_to_least_squares():
    ls = LeastSquares()
    wstar = np.linalg.lstsq(ls.A, ls.y, rcond=None)[0]
    x0 = np.zeros((3, 5))
    r = sgd(ls, x0, batch_size=6, step=0.2, epochs=400, seed=1, schedule="decay", decay=0.01)
    assert np.allclose(r.x, wstar, atol=2e-2)
    assert r.seeds["root"]["entropy"] == 1 and len(r.seeds["replicas"]) == 3
    # replica 1 of the batch equals a single run on its stream
    streams, _ = replica_seeds(1, 3)
    r1 = sgd(ls, x0[1], batch_size=6, step=0.2, epochs=20, seed=[streams[1]])
    rb = sgd(ls, x0, batch_size=6, step=0.2, epochs=20, seed=1)
    assert np.allclose(rb.x[1], r1.x[0], atol=1e-12)


# ----------------------------------------------------------------------------- batching
def test_batched_equals_single_runs():
    K = 64
    m = SphericalPSpin(12, 3, seed=5)
    x0 = m.random_point(1, size=K)
    streams, rec = replica_seeds(7, K)
    # runs cross an RNG block boundary (64 steps) and converged replicas leave the batch
    rg = gradient_descent(m, x0, step=0.1, max_steps=150, gtol=1e-3)
    rl = langevin(m, x0, temperature=1.0, step=0.05, n_steps=70, seed=7, adjusted=True)
    rm = metropolis(m, x0, temperature=1.0, n_steps=50, burn_in=30, seed=7)
    assert rl.seeds == rec
    for k in range(K):
        sg = gradient_descent(m, x0[k], step=0.1, max_steps=150, gtol=1e-3)
        sl = langevin(
            m, x0[k], temperature=1.0, step=0.05, n_steps=70, seed=[streams[k]], adjusted=True
        )
        assert np.max(np.abs(sg.x[0] - rg.x[k])) < 1e-10
        assert sg.steps[0] == rg.steps[k]
        assert np.max(np.abs(sl.x[0] - rl.x[k])) < 1e-10
        assert np.max(np.abs(sl.trace[:, 0] - rl.trace[:, k])) < 1e-10
        if k % 8 == 0:  # Metropolis on every 8th replica (same stream machinery)
            sm = metropolis(m, x0[k], temperature=1.0, n_steps=50, burn_in=30, seed=[streams[k]])
            assert np.max(np.abs(sm.x[0] - rm.x[k])) < 1e-10


# ----------------------------------------------------------------------------- samplers, exact
def test_samplers_exact_on_von_mises_fisher():
    q, exact = vmf_energy()
    x0 = q.random_point(1, size=32)
    for res in (
        langevin(
            q, x0, temperature=0.5, step=0.5, n_steps=3000, burn_in=200, seed=0, adjusted=True
        ),
        metropolis(q, x0, temperature=0.5, n_steps=3000, burn_in=500, seed=1),
    ):
        est = equilibrium_energy(res)
        assert est.reliable
        assert abs(est.mean - exact) < 4 * est.stderr, (res.method, est, exact)


def test_unadjusted_langevin_bias_is_exact_on_gaussian_and_vanishes():
    # f = lam |x|^2 / 2 in R^d: ULA x' = (1 - h lam) x + sqrt(2 h T) xi is stationary with
    # variance T / (lam (1 - h lam / 2)), so E f = d T / (2 (1 - h lam / 2)) exactly
    d, lam, T = 8, 2.0, 0.7
    q = Quadratic(lam * np.eye(d), None)
    x0 = np.zeros((16, d))
    biases = []
    for h in (0.4, 0.2, 0.1):
        res = langevin(q, x0, temperature=T, step=h, n_steps=2000, burn_in=100, seed=2)
        est = equilibrium_energy(res)
        exact = d * T / (2 * (1 - h * lam / 2))
        assert abs(est.mean - exact) < 4 * est.stderr, (h, est, exact)
        biases.append(exact - d * T / 2)
    assert biases[0] > biases[1] > biases[2] > 0
    mala = langevin(
        q, x0, temperature=T, step=0.4, n_steps=3000, burn_in=100, seed=2, adjusted=True
    )
    est = equilibrium_energy(mala)
    assert abs(est.mean - d * T / 2) < 4 * est.stderr


def test_parallel_tempering_gaussian_ladder():
    d = 6
    q = Quadratic(np.eye(d), None)
    temps = np.array([0.5, 0.8, 1.3, 2.0])
    x0 = np.zeros((4, d))
    r = parallel_tempering(q, x0, temperatures=temps, n_steps=6000, burn_in=500, seed=3)
    assert r.swap_acceptance.shape == (3,) and np.all(r.swap_acceptance > 0.05)
    assert np.all(r.swap_attempts > 1000)
    for i, T in enumerate(temps):
        est = equilibrium_energy(r, replicas=[i])
        assert abs(est.mean - d * T / 2) < 4 * est.stderr, (T, est)


# ----------------------------------------------------------------------------- p-spin equilibrium
def _pspin_equilibrium(N, method, n_samples, n_steps, burn_in, K=8):
    temps = np.repeat([2.0, 1.2], K)
    means = {2.0: [], 1.2: []}
    for s in range(n_samples):
        m = SphericalPSpin(N, 3, seed=1000 + s)
        x0 = m.random_point(s, size=2 * K)
        if method == "mala":
            r = langevin(
                m,
                x0,
                temperature=temps,
                step=0.1,
                n_steps=n_steps,
                burn_in=burn_in,
                seed=s,
                adjusted=True,
            )
        else:
            r = metropolis(m, x0, temperature=temps, n_steps=n_steps, burn_in=burn_in, seed=s)
        for T in means:
            means[T].append(equilibrium_energy(r, replicas=temps == T).mean)
    for T, ms in means.items():
        ms = np.asarray(ms)
        se = ms.std(ddof=1) / np.sqrt(ms.size)  # spread over coupling samples
        # -1/T is the N -> oo paramagnetic energy; the quenched finite-N shift 15/(T^3 N^2)
        # (second-moment expansion of log Z) is well inside the error bar
        assert abs(ms.mean() + 1 / T) < 4 * se + 15 / (T**3 * N**2), (method, T, ms)


def test_pspin_mala_equilibrium_n50():
    _pspin_equilibrium(50, "mala", n_samples=5, n_steps=1000, burn_in=400, K=6)


@pytest.mark.slow
def test_pspin_metropolis_equilibrium_n50():
    _pspin_equilibrium(50, "metropolis", n_samples=5, n_steps=3000, burn_in=1000, K=4)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mala", "metropolis"])
def test_pspin_equilibrium_n100(method):
    _pspin_equilibrium(100, method, n_samples=5, n_steps=6000, burn_in=2000)


def test_mixed_equilibrium():
    xi = {2: 0.3, 3: 0.7}
    q = np.linspace(1e-4, 1 - 1e-4, 20001)
    dxi = 2 * 0.3 * q + 3 * 0.7 * q**2
    Td = np.sqrt(np.max(dxi * (1 - q) / q))  # T_d^2 = max_q xi'(q)(1-q)/q
    T = 1.4 * Td
    ms = []
    for s in range(3):
        m = MixedPSpin(40, xi, seed=2000 + s)
        r = langevin(
            m,
            m.random_point(s, size=8),
            temperature=T,
            step=0.1,
            n_steps=1200,
            burn_in=400,
            seed=s,
            adjusted=True,
        )
        ms.append(equilibrium_energy(r).mean)
    ms = np.asarray(ms)
    se = ms.std(ddof=1) / np.sqrt(ms.size)
    assert abs(ms.mean() + 1.0 / T) < 4 * se + 0.005, (T, ms)


# ----------------------------------------------------------------------------- Sagun experiment
def _sagun(N, n_samples, K, couplings="gaussian", seed=0):
    finals = []
    for s in range(n_samples):
        m = SphericalPSpin(N, 3, seed=child(seed, s), couplings=couplings)
        r = gradient_descent(
            m, m.random_point(10_000 + s, size=K), step=0.1, max_steps=20000, gtol=1e-5
        )
        assert r.converged.all()
        finals.append((m, r))
    return finals


def test_sagun_small_n_minima_and_trend():
    means = {}
    for N in (15, 40):
        runs = _sagun(N, n_samples=3, K=16)
        vals = np.concatenate([r.intensive for _, r in runs])
        # every endpoint is a minimum: index 0 of the Riemannian Hessian
        for m, r in runs[:1]:
            for k in range(r.n_replicas):
                assert np.linalg.eigvalsh(m.rhessian(r.x[k]))[0] > 0
        # no endpoint below the ground state (up to finite-N fluctuations of O(1/N))
        assert vals.mean() > -E_0_3
        means[N] = (vals.mean(), vals.std(ddof=1) / np.sqrt(vals.size))
    # the mean decreases toward -E_inf as N grows
    (m15, s15), (m40, s40) = means[15], means[40]
    assert m40 < m15 - 3 * np.hypot(s15, s40)
    assert m40 > -E_INF_3 - 0.05


def test_universality_reduced_size():
    vals = {}
    for c in ("gaussian", "rademacher", "uniform", "exponential"):
        # fresh couplings per replica: replicas sharing couplings often reach the same minimum,
        # and the KS test needs independent draws
        vals[c] = np.concatenate([r.intensive for _, r in _sagun(16, 30, 1, couplings=c, seed=9)])
    for c in ("rademacher", "uniform", "exponential"):
        assert sps.ks_2samp(vals["gaussian"], vals[c]).pvalue > 0.01, c
