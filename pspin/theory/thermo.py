"""Thermodynamics of the spherical p-spin: paramagnet, dynamical and static transitions, 1RSB."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from pspin.theory.conventions import Convention, _check_temperature, _model, _require_pure

__all__ = [
    "Transition",
    "EquilibriumState",
    "paramagnetic_energy",
    "dynamical_transition",
    "static_transition",
    "equilibrium",
    "equilibrium_energy",
]


# ============================================================================ thermodynamics
@dataclass(frozen=True)
class Transition:
    """A thermodynamic transition temperature with the overlap and energy there.

    Attributes
    ----------
    kind : str
        ``"dynamical"`` (mode-coupling / Cugliandolo–Kurchan plateau) or ``"static"``
        (Kauzmann / 1RSB, or the continuous transition when ``overlap == 0``).
    temperature : float
        ``T_d`` or ``T_s``.
    overlap : float
        Edwards–Anderson overlap at the transition (plateau ``q_d``, or ``q_s``).
    energy : float
        Equilibrium energy per spin there, ``-xi(1)/T`` (continuous at both).
    convention : str
        Units of ``temperature`` and ``energy``.
    """

    kind: str
    temperature: float
    overlap: float
    energy: float
    convention: str


@dataclass(frozen=True, eq=False)
class EquilibriumState:
    """Equilibrium (static) solution at temperatures ``T``: energy, EA overlap, 1RSB breakpoint.

    Arrays of the shape of ``temperature``. Above ``T_s`` the paramagnet (``overlap = 0``,
    ``breakpoint = 1``); below it the 1RSB solution of Crisanti–Sommers (``p = 2``: the
    replica-symmetric solution below ``T_c``, ``breakpoint = 0``).
    """

    temperature: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray
    breakpoint: np.ndarray
    convention: str


def paramagnetic_energy(T, p, convention: Convention = "abc") -> np.ndarray:
    """Paramagnetic (annealed) energy per spin ``e(T) = -xi(1)/T``; exact for ``T >= T_s``.

    ``-1/T`` for pure ABC models, ``-1/(2T)`` in CS units. Mixtures allowed; vectorized.
    """
    m = _model(p, convention)
    T = _check_temperature(T)
    return -float(m.xi(1.0)) / T


def dynamical_transition(p, convention: Convention = "abc") -> Transition:
    """Dynamical (mode-coupling) transition ``T_d``: where the plateau equation first has a root.

    ``beta^2 xi'(q)(1-q) = q`` has a solution ``q > 0`` for ``T <= T_d``, with
    ``T_d^2 = max_q xi'(q)(1-q)/q`` and plateau (EA overlap) ``q_d`` the maximizer. For pure
    ``p``: ``T_d^2 = a p (p-2)^{p-2}/(p-1)^{p-1}``, ``q_d = (p-2)/(p-1)``. Mixtures allowed; when
    the maximum is at ``q -> 0`` (e.g. ``p = 2``) the transition is continuous and
    ``overlap = 0``.
    """
    m = _model(p, convention)

    def h(q):
        return m.xi1_over_q(q) * (1.0 - q)

    grid = np.linspace(0.0, 1.0, 4001)
    vals = h(grid)
    j = int(np.argmax(vals))
    if j == 0:
        q_d = 0.0
    else:

        def dh(q):
            return float(m.xi(q, 2) * q * (1 - q) - m.xi(q, 1)) / (q * q)

        lo, hi = grid[j - 1], grid[min(j + 1, grid.size - 1)]
        q_d = brentq(dh, lo, hi, xtol=1e-15) if dh(lo) * dh(hi) < 0 else float(grid[j])
    T_d = math.sqrt(float(h(q_d)))
    return Transition("dynamical", T_d, float(q_d), -float(m.xi(1.0)) / T_d, m.convention)


def _static_overlap_equation(q, p):
    # eliminate beta from beta^2 xi'(q)(1-q) = q and beta^2 xi(q) = -q - log(1-q), pure xi = q^p
    return q * q / (p * (1.0 - q)) + q + np.log1p(-q)


def static_transition(p, convention: Convention = "abc") -> Transition:
    """Static (Kauzmann, 1RSB) transition ``T_s`` of Crisanti–Sommers, with ``q_s`` and energy.

    Solves ``beta^2 xi'(q)(1-q) = q`` and ``beta^2 xi(q) = -q - log(1-q)`` (the breakpoint-1
    1RSB solution appears); the energy is continuous, ``e(T_s) = -xi(1)/T_s``. For ``p = 2``
    the transition is continuous (replica symmetric) at ``T_c = sqrt(xi''(0))``, ``q = 0``.
    Pure models only.
    """
    m = _model(p, convention)
    _require_pure(m, "static_transition (1RSB)")
    pp = m.p
    if pp == 2:
        Tc = m.scale * math.sqrt(2.0)
        return Transition("static", Tc, 0.0, -float(m.xi(1.0)) / Tc, m.convention)
    q = brentq(_static_overlap_equation, 1e-9, 1 - 1e-15, args=(pp,), xtol=1e-15, maxiter=500)
    beta2 = q / (pp * q ** (pp - 1) * (1 - q))  # unit covariance
    T = m.scale / math.sqrt(beta2)
    return Transition("static", T, q, -float(m.xi(1.0)) / T, m.convention)


def _bisect(f, lo, hi, iters: int = 200):
    """Vectorized bisection for increasing-or-decreasing ``f`` with a sign change on [lo, hi]."""
    flo = f(lo)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        left = np.sign(fm) == np.sign(flo)
        lo = np.where(left, mid, lo)
        flo = np.where(left, fm, flo)
        hi = np.where(left, hi, mid)
        if np.all(hi - lo <= 4 * np.finfo(float).eps * np.maximum(np.abs(hi), 1e-300)):
            break
    return 0.5 * (lo + hi)


def equilibrium(T, p, convention: Convention = "abc") -> EquilibriumState:
    """Equilibrium energy per spin, EA overlap and breakpoint on both sides of ``T_s``.

    ``T >= T_s``: paramagnet, ``e = -xi(1)/T``. ``T < T_s`` (pure ``p >= 3``): the
    Crisanti–Sommers 1RSB solution with ``q_0 = 0``, overlap ``q`` and breakpoint ``x`` solving
    ``beta^2 xi'(q) = q/((1-q)(1-q+xq))`` and
    ``beta^2 x^2 xi(q) = log((1-q+xq)/(1-q)) - xq/(1-q+xq)``, with
    ``e = -beta [xi(1) - (1-x) xi(q)]``. For pure models ``y = xq/(1-q)`` is independent of
    ``T`` (``y^2/(p(1+y)) = log(1+y) - y/(1+y)``). As ``T -> 0``, ``e -> -E_0``. ``p = 2``:
    replica-symmetric ``q = 1 - T/T_c``, ``e = -(xi(1) - xi(q))/T``. Vectorized over ``T``.
    """
    m = _model(p, convention)
    _require_pure(m, "equilibrium below T_s")
    T = _check_temperature(T)
    pp = m.p
    Tu = np.atleast_1d(T / m.scale)  # unit-covariance temperatures
    q = np.zeros_like(Tu)
    x = np.ones_like(Tu)
    e = -1.0 / Tu
    if pp == 2:
        low = Tu < math.sqrt(2.0)
        q = np.where(low, 1.0 - Tu / math.sqrt(2.0), 0.0)
        x = np.where(low, 0.0, 1.0)
        e = np.where(low, -(1.0 - q * q) / Tu, e)
    else:
        ts = static_transition(pp)
        low = Tu < ts.temperature
        if np.any(low):

            def fy(y):
                return y * y / (pp * (1 + y)) - math.log1p(y) + y / (1 + y)

            y = brentq(fy, 1e-3, 1e3, xtol=1e-15, maxiter=500)
            Tl = Tu[low]
            target = Tl**2 / ((1.0 + y) * pp)
            qmin = (pp - 2.0) / pp  # (1-q)^2 q^{p-2} decreases on (qmin, 1)
            ql = _bisect(
                lambda qq: (1 - qq) ** 2 * qq ** (pp - 2) - target,
                np.full_like(Tl, qmin),
                np.ones_like(Tl),
            )
            xl = y * (1 - ql) / ql
            q[low] = ql
            x[low] = xl
            e[low] = -(1.0 - (1.0 - xl) * ql**pp) / Tl
    shape = np.shape(T)
    return EquilibriumState(
        temperature=np.asarray(T, dtype=float),
        energy=(m.scale * e).reshape(shape),
        overlap=q.reshape(shape),
        breakpoint=x.reshape(shape),
        convention=m.convention,
    )


def equilibrium_energy(T, p, convention: Convention = "abc") -> np.ndarray:
    """Equilibrium energy per spin at temperature(s) ``T`` (paramagnet above ``T_s``, 1RSB below).

    Shorthand for ``equilibrium(T, p, convention).energy``. Pure models only.
    """
    return equilibrium(T, p, convention).energy
