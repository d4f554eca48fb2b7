"""The semicircle law of the Riemannian Hessian at critical points of the spherical p-spin."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pspin.theory.conventions import Convention, _check_energy, _model, _require_pure
from pspin.theory.goe import _semicircle_cdf, semicircle_density

__all__ = ["HessianSpectrum", "hessian_spectrum", "index_fraction"]


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
        return semicircle_density(x, self.center, self.radius)

    def cdf(self, x) -> np.ndarray:
        """Fraction of eigenvalues below ``x``."""
        return _semicircle_cdf((np.asarray(x, dtype=float) - self.center) / self.radius)

    @property
    def index_fraction(self) -> float:
        """Fraction of negative eigenvalues ``alpha(u)`` (index / (N-1) as N grows)."""
        return float(self.cdf(0.0))


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
