"""Landscape constants and annealed complexities of the spherical p-spin (ABC 2013).

Threshold ``-E_inf``, layers ``-E_k``, ground state ``-E_0`` (two routes) and the complexity
``Theta_{k,p}(u)``; every function takes ``p`` as in :mod:`pspin.theory.conventions`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy.optimize import brentq

from pspin.theory.conventions import (
    Convention,
    _check_energy,
    _check_index,
    _model,
    _require_pure,
)

__all__ = [
    "effective_p",
    "total_complexity",
    "threshold_energy",
    "layer_energy",
    "ground_state_energy",
    "complexity",
]


def effective_p(p, convention: Convention = "abc") -> float:
    """Effective order ``p_eff = 1 + xi''(1)/xi'(1)`` of a (mixed) model.

    The Kac–Rice count over all energies of a mixture equals the pure formula at ``p_eff``
    (reference §8); for a pure model ``p_eff = p``.
    """
    m = _model(p, convention)
    return 1.0 + float(m.xi(1.0, 2)) / float(m.xi(1.0, 1))


def total_complexity(p, convention: Convention = "abc") -> float:
    """Annealed complexity of all critical points, ``lim (1/N) log E Crt_N = 1/2 log(p_eff - 1)``.

    ``1/2 log(p - 1)`` for a pure model, ``1/2 log(xi''(1)/xi'(1))`` for a mixture
    (Auffinger–Ben Arous 2013).
    """
    return 0.5 * math.log(effective_p(p, convention) - 1.0)


def _e_inf(p: float) -> float:
    return 2.0 * math.sqrt((p - 1.0) / p)


def threshold_energy(p, convention: Convention = "abc") -> float:
    """Threshold constant ``E_inf = 2 sqrt((p-1)/p)``: the threshold energy per spin is ``-E_inf``.

    Above ``-E_inf`` critical points of every fixed index have the same complexity; at
    ``-E_inf`` the Hessian semicircle touches zero (marginal minima). Pure models only.

    Parameters
    ----------
    p : int, dict or model
        Order of the pure model (a single-entry dict ``{p: a}`` scales it by ``sqrt(a)``).
    convention : {"abc", "cs"}
        Units of the result (CS = ABC / sqrt(2)).
    """
    m = _model(p, convention)
    _require_pure(m, "threshold_energy")
    return m.scale * _e_inf(m.p)


def _rate_i1(u: np.ndarray, p: float) -> np.ndarray:
    """ABC's rate I_1(u) for u <= -E_inf (0 at the threshold); u in unit (ABC, a=1) energies."""
    E = _e_inf(p)
    u = np.minimum(np.asarray(u, dtype=float), -E)
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.sqrt(np.maximum(u * u - E * E, 0.0))
        out = -(u / (E * E)) * s - np.log(-u + s) + math.log(E)
    return np.where(np.isinf(u), np.inf, out)


def _theta_k(u: np.ndarray, p: float, k: int) -> np.ndarray:
    E = _e_inf(p)
    base = 0.5 * math.log(p - 1.0)
    below = base - (p - 2.0) / (4.0 * (p - 1.0)) * u**2 - (k + 1) * _rate_i1(u, p)
    above = base - (p - 2.0) / p
    with np.errstate(invalid="ignore"):
        return np.where(u <= -E, below, above)


def layer_energy(p, k: int, convention: Convention = "abc") -> float:
    """Layer constant ``E_k``: the zero of ABC's index-k complexity, ``Theta_{k,p}(-E_k) = 0``.

    With high probability there are no critical points of index ``k`` below ``-E_k N``;
    ``E_0 > E_1 > ... > E_inf``. For ``p = 2`` all layers coincide with the threshold
    ``sqrt(2)``. Pure models only.

    Parameters
    ----------
    p : int, dict or model
        Order of the pure model.
    k : int
        Index (number of negative Hessian eigenvalues), ``k >= 0``.
    convention : {"abc", "cs"}
        Units of the result.
    """
    m = _model(p, convention)
    _require_pure(m, "layer_energy")
    k = _check_index(k)
    pp = m.p
    E = _e_inf(pp)

    def f(e):
        return float(_theta_k(np.asarray(-e), pp, k))

    if f(E) <= 0.0:  # p = 2: the complexity is <= 0 everywhere, zero at the threshold
        return m.scale * E
    hi = E + 1.0
    while f(hi) > 0:
        hi = E + 2.0 * (hi - E)
    return m.scale * brentq(f, E, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)


def _zero_t_1rsb(p: int) -> float:
    """max H/N from the zero-temperature 1RSB Crisanti–Sommers functional (Chen–Sen form).

    ``(1/2) min_{B, m >= 0} [p B + m + (1/m) log(1 + m/B)]``. For fixed ``m`` the optimal ``B``
    solves ``B (B + m) = 1/p``; the optimum in ``m`` is the zero of the envelope derivative
    ``1 + 1/(m (B + m)) - log(1 + m/B)/m^2`` (or ``m = 0`` when it has none: ``p = 2``).
    """

    def b_of(m):
        return 0.5 * (-m + math.sqrt(m * m + 4.0 / p))

    def value(m):
        B = b_of(m)
        tail = 1.0 / B if m < 1e-12 else math.log1p(m / B) / m
        return 0.5 * (p * B + m + tail)

    def dvalue(m):
        B = b_of(m)
        return 1.0 + 1.0 / (m * (B + m)) - math.log1p(m / B) / (m * m)

    lo, hi = 1e-6, 1.0
    if dvalue(lo) >= 0:  # no interior optimum (p = 2): replica-symmetric ground state
        return value(0.0)
    while dvalue(hi) < 0:
        hi *= 2.0
    m_star = brentq(dvalue, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    return value(m_star)


def ground_state_energy(
    p, convention: Convention = "abc", method: Literal["layer", "1rsb"] = "layer"
) -> float:
    """Ground-state constant ``E_0``: ``min H/N -> -E_0`` as ``N -> infinity``.

    Two independent routes, which agree to about 1e-12 for pure ``p >= 2``:

    * ``method="layer"``: the zero of the annealed complexity of minima, ``Theta_{0,p}(-E_0) = 0``
      (ABC; exact for pure models by Subag 2017).
    * ``method="1rsb"``: the zero-temperature one-step replica-symmetry-breaking
      Crisanti–Sommers variational formula, ``(1/2) min_{B,m} [p B + m + (1/m) log(1 + m/B)]``
      (Chen–Sen 2017).

    Pure models only.
    """
    m = _model(p, convention)
    _require_pure(m, "ground_state_energy")
    if method == "layer":
        return layer_energy(m.p, 0) * m.scale
    if method == "1rsb":
        return _zero_t_1rsb(m.p) * m.scale
    raise ValueError(f"method must be 'layer' or '1rsb'; got {method!r}")


def complexity(
    u,
    p,
    k: int | None = None,
    cumulative: bool = True,
    convention: Convention = "abc",
) -> np.ndarray:
    """Annealed complexity of critical points (ABC), vectorized over the energy ``u = H/N``.

    Parameters
    ----------
    u : float or array
        Energy per spin (in the units of ``convention``).
    p : int, dict or model
        Order of the pure model.
    k : int or None
        Index; ``None`` counts all indices.
    cumulative : bool
        ``True``: ``lim (1/N) log E Crt_{N,k}((-inf, u])`` (ABC's ``Theta_{k,p}``, or
        ``Theta_p`` for all indices). ``False``: the complexity of points *at* energy ``u``
        (``-inf`` where there are none at exponential scale: index ``k`` above ``-E_inf``).
    convention : {"abc", "cs"}
        Units of ``u``; complexities are the same in both.

    Returns
    -------
    ndarray
        Same shape as ``u`` (a 0-d array for a scalar).
    """
    m = _model(p, convention)
    _require_pure(m, "complexity as a function of energy")
    x = _check_energy(u) / m.scale
    pp = float(m.p)
    E = _e_inf(pp)
    base = 0.5 * math.log(pp - 1.0)
    quad = (pp - 2.0) / (4.0 * (pp - 1.0)) * x**2
    if k is not None:
        k = _check_index(k)
        th = _theta_k(x, pp, k)
        if cumulative:
            return th
        with np.errstate(invalid="ignore"):
            return np.where(x <= -E, th, -np.inf)
    if cumulative:
        with np.errstate(invalid="ignore"):
            mid = base - quad
            out = np.where(x <= -E, base - quad - _rate_i1(x, pp), mid)
            return np.where(x >= 0, base, out)
    ax = -np.abs(x)
    with np.errstate(invalid="ignore"):
        return np.where(ax < -E, base - quad - _rate_i1(ax, pp), base - quad)
