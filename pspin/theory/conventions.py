"""Conventions of :mod:`pspin.theory`: the covariance ``N xi(q)``, ABC <-> CS units, input checks.

The default is the normalization of Auffinger, Ben Arous & Černý (2013), "ABC":
``H(s) = N^{-(p-1)/2} sum J_{i1..ip} s_i1...s_ip`` with iid standard Gaussian J on the sphere
``|s|^2 = N``, so that ``E[H(s)H(s')] = N xi(s.s'/N)`` with ``xi(q) = q^p``. Crisanti–Sommers
(CS) units: covariance ``(N/2) xi(q)``, ``H_ABC = sqrt(2) H_CS`` in law. Every function of the
package parses its ``p`` argument (int, mixture dict ``{p: a_p}`` or object with ``xi``) with
:func:`_model`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Convention", "abc_to_cs", "cs_to_abc", "model_of"]

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


def model_of(p, convention: str = "abc"):
    """The mixture covariance xi(q) = sum_p a_p q^p of a model, parsed and checked.

    Parameters
    ----------
    p : int, dict or object with ``xi``
        A pure order ``p``, a mixture ``{p: a_p}``, or a model carrying ``xi``.
    convention : str
        ``"abc"`` (default) or ``"cs"`` (see :class:`Convention`).

    Returns
    -------
    The covariance (``pure``, ``p``, ``items``, ``xi(q)`` and derivatives).

    Raises
    ------
    ValueError
        For an order < 2, an empty mixture, or a negative or non-finite weight.
    """
    return _model(p, convention)


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
