"""Exact and asymptotic theory of the spherical p-spin glass.

Every quantity is computed from its formula (closed forms, root finding, quadrature, exact
random-matrix identities); nothing is read from a table of results.

Conventions
-----------
The default is the normalization of Auffinger, Ben Arous & Černý (2013), "ABC":
``H(s) = N^{-(p-1)/2} sum J_{i1..ip} s_i1...s_ip`` with iid standard Gaussian J on the sphere
``|s|^2 = N``, so that ``E[H(s)H(s')] = N xi(s.s'/N)`` with ``xi(q) = q^p``. Energies are per
spin, ``u = H/N``; the ground state is ``-E_0`` and the threshold ``-E_inf`` (the functions below
return the positive constants ``E_0``, ``E_inf``, as ABC do).

Every function that takes ``p`` also accepts a mixture ``{p: a_p}`` (``xi(q) = sum_p a_p q^p``,
the dict :class:`pspin.MixedPSpin` takes) or any object with an attribute ``xi`` (a model
instance). A dict with one entry ``{p: a}`` is the pure model with energies, temperatures and
Hessian eigenvalues scaled by ``sqrt(a)``. Where a formula does not extend to mixtures a
:class:`NotImplementedError` says so.

Crisanti–Sommers (CS) convention: ``H_CS = -sum_{i1<...<ip} J s_i1...s_ip`` with
``E J^2 = p!/(2 N^{p-1})``, i.e. covariance ``(N/2) q^p``, so ``H_ABC = sqrt(2) H_CS`` in law.
Passing ``convention="cs"`` means the covariance is ``(N/2) xi(q)``; inputs and outputs are then in
CS units:

=====================================  ===================  ===================
quantity                               ABC                  CS
=====================================  ===================  ===================
energy per spin, temperature,          ``x``                ``x / sqrt(2)``
Hessian eigenvalues
complexities, overlaps, counts         unchanged            unchanged
=====================================  ===================  ===================

:func:`abc_to_cs` and :func:`cs_to_abc` convert energies, temperatures and Hessian eigenvalues.

References
----------
A. Auffinger, G. Ben Arous, J. Černý, Random matrices and complexity of spin glasses, CPAM 66
(2013), arXiv:1003.1129. A. Crisanti, H.-J. Sommers, Z. Phys. B 87 (1992) 341. L. Cugliandolo,
J. Kurchan, PRL 71 (1993) 173. W.-K. Chen, A. Sen, arXiv:1512.08492. N. G. de Bruijn, J. Indian
Math. Soc. 19 (1955) 133 (Pfaffian integration). A. Auffinger, G. Ben Arous, Ann. Probab. 41
(2013), arXiv:1110.5872 (mixed models).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfc, gammaln

from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info

__all__ = [
    "Convention",
    "abc_to_cs",
    "cs_to_abc",
    "effective_p",
    "total_complexity",
    "threshold_energy",
    "layer_energy",
    "ground_state_energy",
    "complexity",
    "goe_density",
    "goe_ordered_eigenvalue_density",
    "KacRiceResult",
    "kac_rice_mean",
    "kac_rice_monte_carlo",
    "kac_rice_density",
    "HessianSpectrum",
    "hessian_spectrum",
    "index_fraction",
    "Transition",
    "EquilibriumState",
    "paramagnetic_energy",
    "dynamical_transition",
    "static_transition",
    "equilibrium",
    "equilibrium_energy",
]

Convention = Literal["abc", "cs"]
_SQRT2 = math.sqrt(2.0)


# =============================================================================== conventions
def abc_to_cs(value):
    """Convert an energy per spin, temperature or Hessian eigenvalue from ABC to CS units.

    ``H_ABC = sqrt(2) H_CS`` in law, so energies, temperatures and Hessian eigenvalues are
    divided by ``sqrt(2)``. Complexities, overlaps and counts are the same in both conventions
    and must not be converted.
    """
    return np.asarray(value, dtype=float) / _SQRT2 if np.ndim(value) else float(value) / _SQRT2


def cs_to_abc(value):
    """Convert an energy per spin, temperature or Hessian eigenvalue from CS to ABC units.

    The inverse of :func:`abc_to_cs`: multiply by ``sqrt(2)``.
    """
    return np.asarray(value, dtype=float) * _SQRT2 if np.ndim(value) else float(value) * _SQRT2


@dataclass(frozen=True)
class _Xi:
    """A covariance ``N xi(q)``, ``xi(q) = sum_p a_p q^p`` (already in the chosen convention)."""

    coeffs: tuple[tuple[int, float], ...]
    convention: str

    @property
    def pure(self) -> bool:
        return len(self.coeffs) == 1

    @property
    def p(self) -> int:
        if not self.pure:
            raise AssertionError("not a pure model")
        return self.coeffs[0][0]

    @property
    def scale(self) -> float:
        """Energy/temperature scale of a pure model relative to ABC's unit covariance."""
        return math.sqrt(self.coeffs[0][1])

    def xi(self, q, d: int = 0):
        """xi and its derivatives (``d`` = 0, 1, 2) at ``q``."""
        q = np.asarray(q, dtype=float)
        out = np.zeros_like(q)
        for p, a in self.coeffs:
            c = a * math.perm(p, d)
            out = out + c * q ** (p - d)
        return out

    def xi1_over_q(self, q):
        """xi'(q)/q, finite at q = 0."""
        q = np.asarray(q, dtype=float)
        return sum(p * a * q ** (p - 2) for p, a in self.coeffs) + 0.0 * q

    def describe(self) -> str:
        if self.pure:
            p, a = self.coeffs[0]
            return f"pure p={p}" + ("" if a == 1.0 else f" with weight {a:g}")
        return "mixture xi(q) = " + " + ".join(f"{a:g} q^{p}" for p, a in self.coeffs)


def _check_convention(convention) -> str:
    if convention not in ("abc", "cs"):
        raise ValueError(f"convention must be 'abc' or 'cs'; got {convention!r}")
    return convention


def _check_p_int(p) -> int:
    if isinstance(p, bool):
        raise ValueError(f"p must be an integer >= 2; got {p!r}")
    if isinstance(p, int | np.integer):
        v = int(p)
    elif isinstance(p, float | np.floating) and float(p).is_integer():
        v = int(p)
    else:
        raise ValueError(
            f"p must be an integer >= 2, a mixture dict {{p: a_p}} or a model; got {p!r}"
        )
    if v < 2:
        raise ValueError(f"p must be >= 2; got {v}")
    return v


def _model(p, convention: str = "abc") -> _Xi:
    """Parse ``p`` (int, mixture dict, or object with ``xi``) into a covariance."""
    convention = _check_convention(convention)
    xi = getattr(p, "xi", None) if not isinstance(p, dict | int | float | np.number) else None
    if xi is not None:
        p = xi
    if isinstance(p, dict):
        if not p:
            raise ValueError("the mixture xi = {p: a_p} is empty")
        clean = {}
        for key, a in p.items():
            k = _check_p_int(key)
            try:
                a = float(a)
            except (TypeError, ValueError):
                raise ValueError(f"mixture weight a_{k} must be a number; got {a!r}") from None
            if not math.isfinite(a) or a < 0:
                raise ValueError(f"mixture weight a_{k} must be finite and >= 0; got {a}")
            if a > 0:
                clean[k] = clean.get(k, 0.0) + a
        if not clean:
            raise ValueError("the mixture xi = {p: a_p} has no positive weight")
    else:
        clean = {_check_p_int(p): 1.0}
    factor = 1.0 if convention == "abc" else 0.5
    return _Xi(tuple((k, v * factor) for k, v in sorted(clean.items())), convention)


def _require_pure(m: _Xi, what: str) -> None:
    if not m.pure:
        raise NotImplementedError(
            f"{what} is implemented for pure models only (a mixture needs the energy-dependent "
            f"Kac-Rice tilt of the radial curvature); got the {m.describe()}. For mixtures "
            "use paramagnetic_energy, dynamical_transition, total_complexity, effective_p or "
            "kac_rice_mean over all energies"
        )


def _check_energy(u, name: str = "u") -> np.ndarray:
    arr = np.asarray(u, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _check_temperature(T) -> np.ndarray:
    try:
        arr = np.asarray(T, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number or array; got {T!r}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"temperature must be finite and > 0; got {T!r}")
    return arr


def _check_n(N) -> int:
    if isinstance(N, bool) or not isinstance(N, int | np.integer):
        if isinstance(N, float | np.floating) and float(N).is_integer():
            N = int(N)
        else:
            raise ValueError(f"N must be an integer >= 2; got {N!r}")
    N = int(N)
    if N < 2:
        raise ValueError(f"N must be >= 2; got {N}")
    return N


def _check_index(k, upper: int | None = None) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"index k must be an integer; got {k!r}")
    k = int(k)
    if k < 0 or (upper is not None and k > upper):
        rng = "k >= 0" if upper is None else f"0 <= k <= N-1 = {upper}"
        raise ValueError(f"index k must satisfy {rng}; got {k}")
    return k


def _check_range(energy_range) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in energy_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"energy_range must be a pair (lower, upper); got {energy_range!r}"
        ) from None
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"energy_range contains NaN: {energy_range!r}")
    if lo > hi:
        raise ValueError(f"energy_range has lower > upper: ({lo}, {hi})")
    return lo, hi


# ======================================================================= landscape constants
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


# ================================================================== GOE densities (exact, N x N)
# GOE^N in ABC's normalization: real symmetric N x N, E M_ij^2 = (1 + delta_ij)/(2N), eigenvalue
# density prop. to prod |l_i - l_j| exp(-N sum l_i^2 / 2), semicircle on [-sqrt2, sqrt2].
# Basis: e_n(y) = He_n(s) exp(-s^2/4) / sqrt(n!), s = sqrt(2N) y (Hermite functions; the
# polynomials He_n(s) are orthogonal for exp(-N y^2), which keeps the Pfaffians well conditioned).


@functools.lru_cache(maxsize=64)
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.legendre.leggauss(n)
    t.setflags(write=False)
    w.setflags(write=False)
    return t, w


def _hermite_functions(t: np.ndarray, n: int, N: int) -> np.ndarray:
    """``e_j(t)`` for ``j = 0..n-1``, shape ``t.shape + (n,)`` (stable three-term recurrence)."""
    s = math.sqrt(2.0 * N) * np.asarray(t, dtype=float)
    e = np.empty(s.shape + (n,))
    e[..., 0] = np.exp(-0.25 * s * s)
    if n > 1:
        e[..., 1] = s * e[..., 0]
    for j in range(1, n - 1):
        e[..., j + 1] = (s * e[..., j] - math.sqrt(j) * e[..., j - 1]) / math.sqrt(j + 1)
    return e


def _hermite_cumulative(t: np.ndarray, n: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """``(e_j(t), int_{-inf}^t e_j)`` for ``j = 0..n-1``.

    Uses ``de_j/ds = (sqrt(j) e_{j-1} - sqrt(j+1) e_{j+1}) / 2``, i.e.
    ``E_{j+1} = (sqrt(j) E_{j-1} - 2 e_j) / sqrt(j+1)`` with ``E_0 = sqrt(pi) erfc(-s/2)``.
    """
    s = math.sqrt(2.0 * N) * np.asarray(t, dtype=float)
    e = _hermite_functions(t, n, N)
    E = np.empty_like(e)
    E[..., 0] = math.sqrt(math.pi) * erfc(-0.5 * s)
    if n > 1:
        E[..., 1] = -2.0 * e[..., 0]
    for j in range(1, n - 1):
        E[..., j + 1] = (math.sqrt(j) * E[..., j - 1] - 2.0 * e[..., j]) / math.sqrt(j + 1)
    return e, E / math.sqrt(2.0 * N)


def _hermite_total(n: int, N: int) -> np.ndarray:
    """``int_R e_j`` for ``j = 0..n-1``."""
    E = np.zeros(n)
    E[0] = 2.0 * math.sqrt(math.pi)
    for j in range(1, n - 1):
        E[j + 1] = math.sqrt(j / (j + 1)) * E[j - 1]
    return E / math.sqrt(2.0 * N)


def _log_goe_norm(N: int) -> float:
    """log of ``int_{R^N} prod|l_i - l_j| exp(-N sum l^2/2) dl`` (Mehta's integral)."""
    j = np.arange(1, N + 1)
    return (
        0.5 * N * math.log(2 * math.pi)
        + float(np.sum(gammaln(1 + j / 2.0) - gammaln(1.5)))
        - (N * (N - 1) / 4.0 + N / 2.0) * math.log(N)
    )


def goe_density(N: int, x) -> np.ndarray:
    """Exact one-point eigenvalue density of the N x N GOE in ABC's normalization (integral 1).

    ``E M_ij^2 = (1 + delta_ij)/(2N)``; the density tends to the semicircle on
    ``[-sqrt2, sqrt2]``. Mehta's formula: the GUE kernel of Hermite functions plus the
    ``epsilon``-correction of the orthogonal ensemble (and its odd-N term).

    Parameters
    ----------
    N : int
        Matrix size (>= 2).
    x : float or array
        Points.
    """
    N = _check_n(N)
    x = np.asarray(x, dtype=float)
    e, E = _hermite_cumulative(x, N + 1, N)
    Einf = _hermite_total(N + 1, N)
    # R_1 in Mehta's variable X = sqrt(N) x, with phi_j(X) = pi^{-1/4} e_j(x):
    R = np.sum(e[..., :N] ** 2, axis=-1) / math.sqrt(math.pi)
    R = R + math.sqrt(N / 2.0) * e[..., N - 1] * math.sqrt(N) * (E[..., N] - 0.5 * Einf[N]) / (
        math.sqrt(math.pi)
    )
    if N % 2:
        R = R + e[..., N - 1] / (math.sqrt(N) * Einf[N - 1])
    return R / math.sqrt(N)


def _pfaffian_log(A: np.ndarray) -> np.ndarray:
    """Complex log of the Pfaffian of a batch of skew matrices ``(B, n, n)``, ``n`` even.

    Parlett–Reid ``L T L^T`` elimination with partial pivoting, vectorized over the batch
    (the loop runs over the ``n/2`` elimination steps only). The input is overwritten.
    """
    B, n, _ = A.shape
    logpf = np.zeros(B, dtype=complex)
    for k in range(0, n - 1, 2):
        kp = k + 1 + np.abs(A[:, k + 1 :, k]).argmax(axis=1)
        s = np.nonzero(kp != k + 1)[0]
        if s.size:
            q = kp[s]
            row = A[s, k + 1, :].copy()
            A[s, k + 1, :] = A[s, q, :]
            A[s, q, :] = row
            col = A[s, :, k + 1].copy()
            A[s, :, k + 1] = A[s, :, q]
            A[s, :, q] = col
            logpf[s] += 1j * math.pi
        piv = A[:, k, k + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            logpf += np.log(piv)
            if k + 2 < n:
                tau = A[:, k, k + 2 :] / piv[:, None]
                v = A[:, k + 2 :, k + 1]
                # rank-2 skew update tau v^T - v tau^T as one batched matrix product
                A[:, k + 2 :, k + 2 :] += np.stack([tau, -v], axis=2) @ np.stack([v, tau], axis=1)
    return logpf


def _ordered_block(N: int, x: np.ndarray, nq: int, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Densities of all ordered eigenvalues at the points ``x`` (1-D): ``(len(x), N)``.

    de Bruijn: with ``M = N-1`` other eigenvalues ``y`` and a marker ``z`` per eigenvalue below
    ``x``, ``int |Delta(y)| prod |y_j - x| w(y_j) z^{#{y_j < x}} dy = M! Pf(A(z))`` with
    ``A(z) = z^2 A_L + A_R + z (b_L b_R^T - b_R b_L^T)`` (augmented by ``b(z) = z b_L + b_R``
    when ``M`` is odd); the one-dimensional integrals use the exact antiderivatives of the
    Hermite functions and Gauss–Legendre on each side of ``x``. Evaluating at the N-th roots of
    unity and an FFT give the coefficient of ``z^k`` for every ``k`` at once.
    Returns the densities and an absolute round-off bound per entry.
    """
    M = N - 1
    nx = x.size
    tq, wq = _leggauss(nq)
    xx = x[:, None]
    # left side [-L, x] and right side [x, L]; the Hermite functions are negligible beyond L
    xc = np.clip(xx, -L, L)
    tL = 0.5 * (xc + L) * tq + 0.5 * (xc - L)
    wL = 0.5 * (xc + L) * wq
    tR = 0.5 * (L - xc) * tq + 0.5 * (L + xc)
    wR = 0.5 * (L - xc) * wq
    i = np.arange(M)
    up = np.sqrt((i + 1) / (2.0 * N))
    dn = np.sqrt(i / (2.0 * N))

    def antideriv(E, xcol):
        # int_{-inf}^t (x - y) e_i(y) dy, using y e_i = up_i e_{i+1} + dn_i e_{i-1}
        G = xcol * E[..., :M] - up * E[..., 1 : M + 1]
        G[..., 1:] -= dn[1:] * E[..., : M - 1]
        return G

    eL, EL = _hermite_cumulative(tL, M + 1, N)
    eR, ER = _hermite_cumulative(tR, M + 1, N)
    _, Ex = _hermite_cumulative(x, M + 1, N)
    Gx = antideriv(Ex, xx)  # (nx, M)
    Ginf = antideriv(np.broadcast_to(_hermite_total(M + 1, N), (nx, M + 1)), xx)
    GL = antideriv(EL, xx[..., None])  # (nx, nq, M)
    gL = (xx - tL)[..., None] * eL[..., :M]
    GR = Gx[:, None, :] - antideriv(ER, xx[..., None])
    gR = (tR - xx)[..., None] * eR[..., :M]
    bL = Gx
    bR = Gx - Ginf
    AL = (
        2.0 * np.matmul((GL * wL[..., None]).transpose(0, 2, 1), gL)
        - bL[:, :, None] * bL[:, None, :]
    )
    AR = (
        2.0 * np.matmul((GR * wR[..., None]).transpose(0, 2, 1), gR)
        - bR[:, :, None] * bR[:, None, :]
    )
    AL = 0.5 * (AL - AL.transpose(0, 2, 1))
    AR = 0.5 * (AR - AR.transpose(0, 2, 1))
    C = bL[:, :, None] * bR[:, None, :] - bR[:, :, None] * bL[:, None, :]
    nz = N // 2 + 1  # P(conj z) = conj P(z): half of the roots of unity suffice
    z = np.exp(2j * math.pi * np.arange(nz) / N)[None, :, None, None]
    nA = M + (M % 2)
    A = np.zeros((nx, nz, nA, nA), dtype=complex)
    A[:, :, :M, :M] = z * z * AL[:, None] + AR[:, None] + z * C[:, None]
    if M % 2:
        bz = z[..., 0] * bL[:, None, :] + bR[:, None, :]
        A[:, :, :M, M] = bz
        A[:, :, M, :M] = -bz
    lp = _pfaffian_log(A.reshape(nx * nz, nA, nA)).reshape(nx, nz)
    h = 0.5 * (gammaln(i + 1) - i * math.log(2.0 * N))  # monic <-> e_n basis
    const = math.log(N) - _log_goe_norm(N) + gammaln(M + 1) + float(h.sum())
    lp = lp + const - 0.5 * N * x[:, None] ** 2
    ref = lp.real.max(axis=1, keepdims=True)
    half = np.exp(lp - ref)
    full = np.empty((nx, N), dtype=complex)
    full[:, :nz] = half
    full[:, nz:] = np.conj(half[:, 1 : N - nz + 1][:, ::-1])
    coef = np.fft.fft(full, axis=1) / N
    scale = np.exp(ref)
    dens = coef.real * scale
    roundoff = 4.0 * N * np.finfo(float).eps * np.abs(full).max(axis=1, keepdims=True) * scale
    return dens, np.broadcast_to(roundoff, dens.shape)


def _ordered_densities(N: int, x: np.ndarray, nq: int, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Chunked :func:`_ordered_block` (bounded memory)."""
    x = np.asarray(x, dtype=float).ravel()
    nA = N - 1 + ((N - 1) % 2)
    per_x = 16 * (N // 2 + 1) * nA * nA * 3 + 8 * nq * N * 8
    chunk = max(1, int(48e6 // per_x))
    dens = np.empty((x.size, N))
    err = np.empty((x.size, N))
    for s in range(0, x.size, chunk):
        dens[s : s + chunk], err[s : s + chunk] = _ordered_block(N, x[s : s + chunk], nq, L)
    return dens, err


def _cutoff(N: int) -> float:
    """Half-width of the eigenvalue window: the GOE^N density is below ~1e-17 outside it."""
    return math.sqrt(2.0) + 7.0 / math.sqrt(N)


def _inner_nodes(N: int, resolution: float) -> int:
    return max(24, int(math.ceil(resolution * (4.0 * N + 24))))


def goe_ordered_eigenvalue_density(N: int, x) -> np.ndarray:
    """Exact densities of the ordered eigenvalues ``lambda_0 <= ... <= lambda_{N-1}`` of GOE^N.

    ABC's normalization (``E M_ij^2 = (1 + delta_ij)/(2N)``). Computed by de Bruijn's Pfaffian
    integration with a counting marker evaluated at the N-th roots of unity and an FFT (no
    randomness); the densities integrate to 1 to about 1e-13 for N <= 40.

    Parameters
    ----------
    N : int
        Matrix size (>= 2).
    x : float or array
        Points.

    Returns
    -------
    ndarray
        Shape ``x.shape + (N,)``: entry ``[..., k]`` is the density of ``lambda_k`` at ``x``.
    """
    N = _check_n(N)
    x = np.asarray(x, dtype=float)
    dens, _ = _ordered_densities(N, x.ravel(), _inner_nodes(N, 1.0), _cutoff(N))
    return dens.reshape(x.shape + (N,))


# ============================================================================ Kac–Rice counts
@dataclass(frozen=True, eq=False)
class KacRiceResult:
    """Mean number of critical points of a spherical p-spin energy (Kac–Rice), with its error.

    Attributes
    ----------
    N : int
        Number of spins.
    p : float
        Order of the model (``p_eff`` for a mixture counted over all energies).
    index : int or None
        The index ``k`` asked for (``None``: all indices).
    energy_range : tuple of float
        Range of ``H/N`` counted (units of ``convention``).
    convention : str
        ``"abc"`` or ``"cs"``.
    method : str
        ``"exact"`` (deterministic quadrature of an exact identity) or ``"monte_carlo"``.
    mean : float
        ``E Crt_{N,k}(B)`` for ``index = k``, else ``E Crt_N(B)``.
    error : float
        For ``"exact"``: an estimate of the absolute numerical error (difference of two
        quadrature resolutions plus a round-off bound). For ``"monte_carlo"``: one standard
        error.
    by_index : ndarray or None
        ``E Crt_{N,k}(B)`` for ``k = 0..N-1`` (``None`` when not computed).
    by_index_error : ndarray or None
        Their errors (same meaning as ``error``).
    total : float
        ``E Crt_N(B)``, all indices (for ``"exact"``: from the GOE one-point density, a route
        independent of ``by_index``).
    total_error : float
        Its error.
    n_samples : int or None
        Monte Carlo sample size.
    seed : dict or None
        Monte Carlo seed record (root entropy and spawn key).
    diagnostics : dict
        Extra checks (e.g. the normalization defect of the ordered-eigenvalue densities).
    """

    N: int
    p: float
    index: int | None
    energy_range: tuple[float, float]
    convention: str
    method: str
    mean: float
    error: float
    by_index: np.ndarray | None
    by_index_error: np.ndarray | None
    total: float
    total_error: float
    n_samples: int | None = None
    seed: dict | None = None
    diagnostics: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("by_index", "by_index_error"):
            a = getattr(self, name)
            if a is not None:
                a = np.array(a, dtype=float)
                a.setflags(write=False)
                object.__setattr__(self, name, a)

    def to_records(self) -> list[dict[str, Any]]:
        """One record per index (and one for the total), for tidy tables."""
        rows = []
        if self.by_index is not None:
            for k in range(self.N):
                rows.append(
                    {
                        "index": k,
                        "mean": float(self.by_index[k]),
                        "error": float(self.by_index_error[k]),
                    }
                )
        rows.append({"index": "all", "mean": self.total, "error": self.total_error})
        return rows


def _kr_setup(N, p, k, energy_range, convention):
    N = _check_n(N)
    m = _model(p, convention)
    if k is not None:
        k = _check_index(k, N - 1)
    lo, hi = _check_range(energy_range)
    if m.pure:
        pp = float(m.p)
        scale = m.scale
    else:
        if not (lo == -math.inf and hi == math.inf):
            raise NotImplementedError(
                "energy-resolved Kac-Rice counts of a mixture need the extra Gaussian radial "
                "term and are not given by p_eff; only energy_range=(-inf, inf) is implemented "
                f"for the {m.describe()}"
            )
        pp = 1.0 + float(m.xi(1.0, 2)) / float(m.xi(1.0, 1))
        scale = 1.0
    c = math.sqrt(pp / (2.0 * (pp - 1.0)))  # lambda = c u (unit energies)
    return N, m, pp, k, (lo, hi), scale, c


def _log_prefactor(N: int, p: float) -> float:
    return math.log(2.0 * math.sqrt(2.0 / p)) + 0.5 * N * math.log(p - 1.0)


def _panel_nodes(a: float, b: float, n: int, per_panel: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre on [a, b] with about ``n`` nodes in equal panels."""
    n_pan = max(1, int(math.ceil(n / per_panel)))
    t, w = _leggauss(per_panel)
    edges = np.linspace(a, b, n_pan + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * w).ravel()


def _kr_integrals(N, pp, lam_lo, lam_hi, resolution, per_index):
    """Integrate the Kac–Rice weight against the GOE densities on [lam_lo, lam_hi]."""
    X = _cutoff(N)
    a, b = max(lam_lo, -X), min(lam_hi, X)
    if a >= b:
        z = np.zeros(N)
        return z, z.copy(), 0.0, 0.0, 0.0
    density_per_unit = 2.0 * N + 24.0
    n = max(24, int(math.ceil(resolution * density_per_unit * (b - a))))
    x, w = _panel_nodes(a, b, n)
    logw = -N * (pp - 2.0) / (2.0 * pp) * x**2
    wt = w * np.exp(logw)
    rho = goe_density(N, x)
    total = N * float(wt @ rho)
    if not per_index:
        return None, None, total, 0.0, 0.0
    dens, rerr = _ordered_densities(N, x, _inner_nodes(N, resolution), X)
    by_k = wt @ dens
    by_k_round = wt @ rerr
    norm_defect = float(np.max(np.abs(w @ dens - 1.0))) if (a == -X and b == X) else float("nan")
    return by_k, by_k_round, total, norm_defect, float(np.max(np.abs(dens.sum(1) - N * rho)))


def kac_rice_mean(
    N: int,
    p,
    k: int | None = None,
    energy_range: tuple[float, float] = (-math.inf, math.inf),
    *,
    convention: Convention = "abc",
    per_index: bool = True,
) -> KacRiceResult:
    """Exact finite-N mean number of critical points of a spherical p-spin energy (Kac–Rice).

    ABC's identity (exact for every ``N >= 2``): with ``GOE^N`` an N x N GOE in their
    normalization and ``lambda_k`` its ordered eigenvalues,

    ``E Crt_{N,k}(B) = 2 sqrt(2/p) (p-1)^{N/2} E[exp(-N (p-2)/(2p) lambda_k^2)
    1{lambda_k in sqrt(p/(2(p-1))) B}]``

    counts the critical points on the sphere of radius ``sqrt(N)`` with index ``k`` (negative
    eigenvalues of the (N-1)-dimensional Riemannian Hessian) and ``H/N`` in ``B``. The total
    integrates the exact GOE one-point density (:func:`goe_density`); each index integrates
    the exact density of ``lambda_k`` (:func:`goe_ordered_eigenvalue_density`: de Bruijn
    Pfaffians at roots of unity and an FFT). Composite Gauss–Legendre in the eigenvalue; no
    randomness. A mixture is counted over all energies by ``p_eff = 1 + xi''(1)/xi'(1)``.

    Parameters
    ----------
    N : int
        Number of spins (>= 2).
    p : int, dict or model
        Order of the pure model, or a mixture (all energies only).
    k : int or None
        Index in ``0..N-1``; ``None`` for all indices.
    energy_range : (float, float)
        Range of ``H/N`` (closed; infinite ends allowed), in the units of ``convention``.
    convention : {"abc", "cs"}
        Units of ``energy_range``.
    per_index : bool
        Also compute every index (needed when ``k`` is given). Without it only the total is
        computed, which is cheap for any ``N``.

    Returns
    -------
    KacRiceResult
        ``mean``, ``error`` (numerical error estimate: difference between the result and a
        coarser quadrature, plus a round-off bound), ``by_index`` for every ``k``, ``total``.

    Notes
    -----
    Cost grows like ``N^5``: about a second at N = 20 and a few seconds at N = 30 on one
    core. The per-index densities integrate to 1 to ~1e-13 for N <= 40; round-off of the FFT
    grows for larger N (reported in ``error``).
    """
    N, m, pp, k, (lo, hi), scale, c = _kr_setup(N, p, k, energy_range, convention)
    if k is not None and not per_index:
        raise ValueError("per_index=False cannot give the count of one index k")
    lam_lo, lam_hi = c * lo / scale, c * hi / scale
    fine = _kr_integrals(N, pp, lam_lo, lam_hi, 1.0, per_index)
    coarse = _kr_integrals(N, pp, lam_lo, lam_hi, 0.7, per_index)
    pref = math.exp(_log_prefactor(N, pp))
    total = pref * fine[2]
    total_err = pref * abs(fine[2] - coarse[2]) + 16 * np.finfo(float).eps * total
    diagnostics: dict[str, Any] = {}
    if per_index:
        by_k = np.maximum(pref * fine[0], 0.0)  # counts are >= 0; negatives are round-off
        by_k_err = pref * (np.abs(fine[0] - coarse[0]) + fine[1]) + 16 * np.finfo(float).eps * by_k
        diagnostics = {
            "normalization_defect": fine[3],
            "sum_over_index_vs_density": fine[4],
        }
    else:
        by_k = by_k_err = None
    if k is None:
        mean, err = total, total_err
    else:
        mean, err = float(by_k[k]), float(by_k_err[k])
    return KacRiceResult(
        N=N,
        p=pp,
        index=k,
        energy_range=(lo, hi),
        convention=m.convention,
        method="exact",
        mean=float(mean),
        error=float(err),
        by_index=by_k,
        by_index_error=by_k_err,
        total=float(total),
        total_error=float(total_err),
        diagnostics=diagnostics,
    )


def kac_rice_monte_carlo(
    N: int,
    p,
    k: int | None = None,
    energy_range: tuple[float, float] = (-math.inf, math.inf),
    *,
    n_samples: int = 100_000,
    seed: SeedLike = None,
    convention: Convention = "abc",
) -> KacRiceResult:
    """Monte Carlo estimate of the Kac–Rice mean over GOE matrices (an independent check).

    Samples ``n_samples`` matrices of ``GOE^N`` (ABC normalization), averages the weight of
    ABC's identity (see :func:`kac_rice_mean`) for every ordered eigenvalue, and reports the
    standard error. Reproducible from ``seed``.

    Parameters
    ----------
    N, p, k, energy_range, convention
        As in :func:`kac_rice_mean`.
    n_samples : int
        Number of GOE matrices (>= 2).
    seed : int, SeedSequence, Generator or None
        Seed of the samples (recorded in the result).

    Returns
    -------
    KacRiceResult
        ``error`` and ``by_index_error`` are standard errors; ``total`` sums the indices per
        sample.
    """
    N, m, pp, k, (lo, hi), scale, c = _kr_setup(N, p, k, energy_range, convention)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    ss = as_seed_sequence(seed)
    rng = as_generator(seed) if isinstance(seed, np.random.Generator) else as_generator(ss)
    lam_lo, lam_hi = c * lo / scale, c * hi / scale
    a = N * (pp - 2.0) / (2.0 * pp)
    chunk = max(1, int(2_000_000 // (N * N)))
    s1 = np.zeros(N)
    s2 = np.zeros(N)
    t1 = t2 = 0.0
    done = 0
    while done < n_samples:
        m_ = min(chunk, n_samples - done)
        G = rng.standard_normal((m_, N, N))
        lam = np.linalg.eigvalsh((G + G.transpose(0, 2, 1)) / (2.0 * math.sqrt(N)))
        wgt = np.exp(-a * lam * lam) * ((lam >= lam_lo) & (lam <= lam_hi))
        s1 += wgt.sum(0)
        s2 += (wgt * wgt).sum(0)
        tot = wgt.sum(1)
        t1 += float(tot.sum())
        t2 += float((tot * tot).sum())
        done += m_
    n = float(n_samples)
    pref = math.exp(_log_prefactor(N, pp))
    mean_k = s1 / n
    var_k = np.maximum(s2 / n - mean_k**2, 0.0) * n / (n - 1.0)
    by_k = pref * mean_k
    by_k_err = pref * np.sqrt(var_k / n)
    mt = t1 / n
    total = pref * mt
    total_err = pref * math.sqrt(max(t2 / n - mt * mt, 0.0) * n / (n - 1.0) / n)
    mean, err = (total, total_err) if k is None else (float(by_k[k]), float(by_k_err[k]))
    return KacRiceResult(
        N=N,
        p=pp,
        index=k,
        energy_range=(lo, hi),
        convention=m.convention,
        method="monte_carlo",
        mean=float(mean),
        error=float(err),
        by_index=by_k,
        by_index_error=by_k_err,
        total=float(total),
        total_error=float(total_err),
        n_samples=int(n_samples),
        seed=seed_info(ss),
    )


def kac_rice_density(N: int, p, u, *, convention: Convention = "abc") -> np.ndarray:
    """Exact finite-N density in energy of the mean number of critical points, per index.

    ``d/du E Crt_{N,k}((-inf, u])`` at ``H/N = u`` for ``k = 0..N-1``: the Kac–Rice weight
    times the density of the k-th ordered GOE eigenvalue at ``lambda = sqrt(p/(2(p-1))) u``.
    Its ratio ``sum_k k d_k / ((N-1) sum_k d_k)`` is the mean index fraction of critical points
    at energy ``u``, the finite-N version of :func:`index_fraction`. Pure models only.

    Returns
    -------
    ndarray
        Shape ``u.shape + (N,)``.
    """
    N = _check_n(N)
    m = _model(p, convention)
    _require_pure(m, "kac_rice_density")
    u = _check_energy(u)
    pp = float(m.p)
    c = math.sqrt(pp / (2.0 * (pp - 1.0)))
    lam = c * u / m.scale
    dens = goe_ordered_eigenvalue_density(N, np.clip(lam, -1e3, 1e3))
    w = np.exp(_log_prefactor(N, pp) - N * (pp - 2.0) / (2.0 * pp) * lam**2) * c / m.scale
    return dens * w[..., None]


# =============================================================================== Hessian law
@dataclass(frozen=True)
class HessianSpectrum:
    """Semicircle law of the Riemannian Hessian at a critical point with ``H/N = u``.

    ``Hess H = G - p u I`` with ``G`` an (N-1)-dimensional GOE of entry variance
    ``(1 + delta_ij) xi''(1)/N``: as N grows the spectrum is a semicircle centred at ``-p u``
    with radius ``2 sqrt(xi''(1))`` (``2 sqrt(p(p-1))`` in ABC units).

    Attributes
    ----------
    energy : float
        ``u = H/N``.
    p : int
        Order of the model.
    center : float
        Centre ``-p u``.
    radius : float
        Radius ``2 sqrt(a p (p-1))`` (``a = 1`` in ABC units, ``1/2`` in CS units).
    """

    energy: float
    p: int
    center: float
    radius: float

    @property
    def lower_edge(self) -> float:
        """Smallest eigenvalue of the limiting law, ``center - radius``."""
        return self.center - self.radius

    @property
    def upper_edge(self) -> float:
        """Largest eigenvalue of the limiting law, ``center + radius``."""
        return self.center + self.radius

    @property
    def edges(self) -> tuple[float, float]:
        """``(lower_edge, upper_edge)``."""
        return (self.lower_edge, self.upper_edge)

    def density(self, x) -> np.ndarray:
        """Semicircle density at eigenvalue(s) ``x``."""
        t = (np.asarray(x, dtype=float) - self.center) / self.radius
        return np.where(
            np.abs(t) < 1, 2.0 / (math.pi * self.radius) * np.sqrt(np.clip(1 - t * t, 0, 1)), 0.0
        )

    def cdf(self, x) -> np.ndarray:
        """Fraction of eigenvalues below ``x``."""
        return _semicircle_cdf((np.asarray(x, dtype=float) - self.center) / self.radius)

    @property
    def index_fraction(self) -> float:
        """Fraction of negative eigenvalues ``alpha(u)`` (index / (N-1) as N grows)."""
        return float(self.cdf(0.0))


def _semicircle_cdf(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, -1.0, 1.0)
    return 0.5 + (t * np.sqrt(1.0 - t * t) + np.arcsin(t)) / math.pi


def hessian_spectrum(u: float, p, convention: Convention = "abc") -> HessianSpectrum:
    """Limiting spectrum of the Riemannian Hessian at a critical point with ``H/N = u``.

    Semicircle centred at ``-p u`` with radius ``2 sqrt(p(p-1))`` (ABC units; CS: radius
    ``sqrt(2 p (p-1))``). Pure models only: for mixtures the radial term ``s.grad H / N`` is
    tilted by the Kac–Rice determinant weight and is not ``u xi'(1)/xi(1)``, so a
    :class:`NotImplementedError` is raised.

    Parameters
    ----------
    u : float
        Energy per spin of the critical point (units of ``convention``).
    p : int, dict or model
        Order of the pure model.
    convention : {"abc", "cs"}
        Units of ``u`` and of the eigenvalues.
    """
    m = _model(p, convention)
    _require_pure(m, "hessian_spectrum")
    u = float(_check_energy(u))
    if not math.isfinite(u):
        raise ValueError(f"u must be finite; got {u}")
    pp = m.p
    return HessianSpectrum(
        energy=u, p=pp, center=-pp * u, radius=2.0 * m.scale * math.sqrt(pp * (pp - 1.0))
    )


def index_fraction(u, p, convention: Convention = "abc") -> np.ndarray:
    """Index fraction ``alpha(u)``: share of negative Hessian eigenvalues at energy ``u``.

    The semicircle CDF at 0, vectorized over ``u``: 0 at and below the threshold ``-E_inf``,
    1/2 at ``u = 0``, 1 at and above ``+E_inf``. Pure models only.
    """
    m = _model(p, convention)
    _require_pure(m, "index_fraction")
    u = _check_energy(u)
    pp = m.p
    R = 2.0 * m.scale * math.sqrt(pp * (pp - 1.0))
    return _semicircle_cdf(pp * u / R)


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
