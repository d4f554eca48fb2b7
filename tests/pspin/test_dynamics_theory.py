"""pspin.theory.dynamics (the exact N -> infinity Langevin dynamics) against exact facts.

Closed form for p = 2, Euler's identity mu = T - p e, the initial slope -xi'(1), agreement of two
resolutions, the paramagnet -xi(1)/T with time-translation invariance and FDT above T_d, the
threshold at T = 0 and aging below T_d. The long runs are marked slow (also run by
benchmarks/dynamics_theory.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from pspin import theory as th
from pspin.theory.dynamics import dynamics, p2_zero_temperature


@pytest.fixture(scope="module")
def p3_zero():
    return dynamics(3, 0.0, 20.0, h0=0.005, grid=512)


@pytest.fixture(scope="module")
def p3_hot():
    return dynamics(3, 1.5, 30.0, h0=0.01, grid=512)


def test_p2_closed_form_through_the_semicircle():
    s = dynamics(2, 0.0, 1.5, h0=0.002, adaptive=False, error=False)
    ex = p2_zero_temperature(s.t)
    assert np.max(np.abs(s.energy - ex["energy"])) < 1e-6
    assert np.max(np.abs(s.mu - ex["mu"])) < 2e-6
    for t, tw in [(1.0, 0.5), (1.5, 0.2), (0.7, 0.7)]:
        assert abs(s.correlation(t, tw) - ex["correlation"](t, tw)) < 1e-5
    assert abs(s.response(1.0, 0.5) - ex["response"](1.0, 0.5)) < 1e-4
    # the closed form itself: e -> -sqrt(2) (semicircle edge) and de/dt(0) = -xi'(1) = -2
    late = p2_zero_temperature(np.array([1e-6, 1e3]))["energy"]
    assert late[0] / 1e-6 == pytest.approx(-2.0, rel=1e-4)
    assert late[1] == pytest.approx(-np.sqrt(2) + 3 / (8 * 1e3), abs=1e-5)


def test_p2_weight_scales_time_and_energy():
    a = 0.5
    s = dynamics({2: a}, 0.0, 1.0, h0=0.002, adaptive=False, error=False)
    ex = p2_zero_temperature(s.t, scale=a)
    assert np.max(np.abs(s.energy - ex["energy"])) < 1e-6


def test_initial_slope_and_euler_identity():
    mix = {3: 0.5, 4: 0.5}
    s = dynamics(mix, 0.0, 0.05, h0=1e-3, adaptive=False, error=False)
    xi1 = 0.5 * 3 + 0.5 * 4
    assert s.energy[1] / s.t[1] == pytest.approx(-xi1, rel=1e-2)  # |grad H|^2 / N = xi'(1)
    hot = dynamics(3, 0.7, 2.0, h0=0.01, grid=64, error=False)
    assert np.allclose(hot.mu, 0.7 - 3 * hot.energy, atol=1e-10)  # s.grad H = p H
    assert hot.mu[0] == 0.7


def test_two_resolutions_agree_at_zero_temperature(p3_zero):
    s = p3_zero
    m = s.t <= 20
    assert s.t[m][-1] == pytest.approx(20.0, abs=0.1)
    assert np.max(s.error[m]) < 1e-4
    # gradient flow: the energy decreases and stays above the threshold -E_inf
    assert np.all(np.diff(s.energy) <= 1e-12)
    assert np.all(s.energy > -th.threshold_energy(3))


def test_two_resolutions_agree_at_high_temperature(p3_hot):
    # default grid 512, h0 = 0.01: steps 0.01, 0.02, 0.04 (halvings at t = 5.12 and 10.24)
    # against 0.02, 0.04, 0.08; the secant cell averages of xi' make the equilibrium energy
    # sum telescope, so the h^2 error at the coarse late steps stays below 1e-4
    s = p3_hot
    m = s.t <= 20.0
    assert s.t[m][-1] == pytest.approx(20.0, abs=0.1)
    assert np.max(np.diff(s.t[m])) == pytest.approx(0.04)  # two halvings before t = 20
    assert np.max(s.error[m]) < 1e-4
    # no overshoot after a halving (the cusp cells are made consistent with the coarse rows):
    # the difference peaks at its stationary late value (4.7e-5), not 1.7x above it
    assert np.max(s.error[m]) < 1.2 * s.error[m][-1]
    # the fine run is itself closer to the exact paramagnet than the error it reports
    late = (s.t >= 15.0) & m
    assert np.all(np.abs(s.energy[late] + 1 / 1.5) <= s.error[late])


def test_cell_averages_are_exact_on_a_linear_segment():
    from pspin.theory.dynamics import _Xi

    mix = {2: 0.3, 3: 0.5, 5: 0.2}
    xi = _Xi(mix.items())
    c0 = np.array([0.9, -0.2, 0.4, 0.4])
    c1 = np.array([0.1, 0.7, 0.4, 0.4 + 1e-9])
    m, b, g = xi.cell_averages(c0, c1)
    s = np.linspace(0.0, 1.0, 20001)[:, None]
    c = c0 + s * (c1 - c0)  # C linear across the cell

    def avg(f):  # Simpson on the fine segment
        w = np.ones(s.shape[0])
        w[1:-1:2], w[2:-1:2] = 4.0, 2.0
        return (w @ f) / (3.0 * (s.shape[0] - 1))

    d1 = sum(a * p * c ** (p - 1) for p, a in mix.items())
    d2 = sum(a * p * (p - 1) * c ** (p - 2) for p, a in mix.items())
    assert np.allclose(m, avg(d2), rtol=0, atol=1e-12)
    assert np.allclose(b, avg(d1), rtol=0, atol=1e-12)
    assert np.allclose(g, avg(d1 + c * d2), rtol=0, atol=1e-12)


def test_high_temperature_equilibrium_tti_and_fdt(p3_hot):
    s, T = p3_hot, 1.5
    assert s.energy[-1] == pytest.approx(float(th.paramagnetic_energy(T, 3)), abs=1e-3)
    assert s.mu[-1] == pytest.approx(T + 3.0 / T, abs=2e-3)  # mu -> T + xi'(1)/T
    for tau in (0.2, 1.0, 3.0):
        # time-translation invariance
        assert abs(s.correlation(20 + tau, 20.0) - s.correlation(10 + tau, 10.0)) < 1e-3
        # FDT: R(t, t_w) = (1/T) dC(t, t_w)/dt_w
        t, tw, d = 20.0 + tau, 20.0, 1e-2
        dc = (s.correlation(t, tw + d) - s.correlation(t, tw - d)) / (2 * d)
        assert abs(s.response(t, tw) - dc / T) < 1e-3
        assert abs(s.integrated_response(t, tw) - (1 - s.correlation(t, tw)) / T) < 2e-3


def test_mixture_relaxes_to_its_paramagnet_above_td():
    mix, T = {3: 0.5, 4: 0.5}, 1.2
    assert T > th.dynamical_transition(mix).temperature
    s = dynamics(mix, T, 20.0, h0=0.01, grid=256)
    tol = 3 * s.error[-1] + 1e-3  # the coarse late grid: error ~ 3e-3 here
    assert s.energy[-1] == pytest.approx(float(th.paramagnetic_energy(T, mix)), abs=tol)
    assert s.mu[-1] == pytest.approx(T + 3.5 / T, abs=tol)  # T + xi'(1)/T


def test_zero_temperature_approaches_threshold_from_above():
    s = dynamics(3, 0.0, 200.0, h0=0.01, grid=256, error=False)
    e_inf = th.threshold_energy(3)
    assert np.all(s.energy > -e_inf)
    fine = s.t <= 256 * 0.01  # the fixed fine grid: strictly decreasing
    assert np.all(np.diff(s.energy[fine]) < 0)
    # after each halving the first step may overshoot by the discretization error (~1e-4)
    assert np.max(np.diff(s.energy)) < 5e-4
    gap = s.energy_at([50.0, 200.0]) + e_inf
    assert 0 < gap[1] < gap[0] < 0.03
    # a power law approach: the gap shrinks by a factor 4^a, a ~ 2/3
    a = np.log(gap[0] / gap[1]) / np.log(4.0)
    assert 0.4 < a < 0.9


def test_aging_below_the_dynamical_transition():
    T = 0.5
    assert T < th.dynamical_transition(3).temperature
    s = dynamics(3, T, 200.0, h0=0.01, grid=256, error=False)
    c = [float(s.correlation(tw + 20.0, tw)) for tw in (5.0, 20.0, 80.0)]
    assert c[0] < c[1] - 0.05 < c[2] - 0.1  # older systems relax more slowly
    # fluctuation-dissipation ratio in the aging regime vs the one-step (marginal) value
    q = brentq(lambda q: q * (1 - q) ** 2 - T**2 / 6.0, 1 / 3, 1.0)
    x_theory = (1 - q) / q
    ts = np.linspace(60.0, 200.0, 200)
    C = s.correlation(ts, 60.0)
    X = s.integrated_response(ts, 60.0)
    m = (C > 0.1) & (C < 0.8 * q)
    x_meas = -np.polyfit(C[m], T * X[m], 1)[0]
    assert x_meas == pytest.approx(x_theory, rel=0.15)


def test_solution_accessors_and_errors():
    s = dynamics(3, 0.0, 1.0, h0=0.01, grid=64, error=False)
    assert s.correlation(0.5, 0.5) == pytest.approx(1.0)
    assert s.integrated_response(0.5, 0.5) == pytest.approx(0.0)
    assert s.correlation([0.5, 1.0], [0.2, 0.0]).shape == (2,)
    with pytest.raises(ValueError, match="t_w"):
        s.correlation(0.2, 0.5)
    with pytest.raises(ValueError, match="computed range"):
        s.correlation(5.0, 0.5)
    with pytest.raises(ValueError, match="temperature"):
        dynamics(3, -1.0, 1.0)
    with pytest.raises(ValueError, match="t_max"):
        dynamics(3, 0.0, 0.0)
    with pytest.raises(ValueError, match="grid"):
        dynamics(3, 0.0, 1.0, grid=10)
    with pytest.raises(ValueError, match="p must"):
        dynamics(1, 0.0, 1.0)


def test_theory_package_reexports_dynamics():
    assert th.dynamics is dynamics
    assert th.DynamicsSolution.__name__ == "DynamicsSolution"


@pytest.mark.slow
def test_zero_temperature_reaches_t1000_above_threshold():
    s = dynamics(3, 0.0, 1000.0, h0=0.01, grid=512, error=False)
    assert s.t_max >= 1000.0
    assert np.all(s.energy > -th.threshold_energy(3))
    assert s.energy[-1] + th.threshold_energy(3) < 0.006


def test_normalization_gradient_at_a_random_point_is_xi_prime():
    # the solver's de/dt(0) = -xi'(1) is the model's |rgrad H|^2 / N at uniform points
    from pspin import SphericalPSpin

    model = SphericalPSpin(60, 3, seed=3)
    x = model.random_point(4, size=64)
    g2 = np.sum(model.rgrad(x) ** 2, axis=1) / model.N
    se = g2.std(ddof=1) / np.sqrt(g2.size)
    assert abs(g2.mean() - 3.0 * (model.N - 1) / model.N) < 4 * se + 0.15


@pytest.mark.slow
def test_finite_n_langevin_matches_the_solver():
    # checks the noise normalization sqrt(2T) and the time unit (also run by
    # `landscapes dynamics pspin --T 1.5`)
    from analysis.studies import dynamics as study

    r = study.pspin_study(
        temperature=1.5,
        sizes=(128,),
        samples=4,
        replicas=8,
        t_max=2.0,
        step=0.005,
        waiting_times=(0.5,),
        lags=(0.0, 0.5),
        log=lambda m: None,
    )
    for row in study.comparison_table(r, at=(0.25, 0.5, 1.0, 2.0)):
        assert abs(row["deviation"]) < 4 * row["se"] + 3.0 / row["N"]
