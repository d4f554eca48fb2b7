"""Hessian spectra of any Energy: dense, Lanczos extremes, stochastic Lanczos quadrature, traces.

Everything here acts on the operator the user asks about at one point ``x``:

* ``riemannian=True`` (default): the Riemannian Hessian on the tangent space,
  ``P (grad^2 f) P - c I`` with ``c = manifold.curvature_shift(x, grad f)`` (``x . grad f / r^2``
  on the sphere of radius r, 0 in Euclidean space), applied in the manifold's tangent
  coordinates (``tangent_coords`` / ``from_tangent_coords``: O(dim) per vector on the
  sphere), so there is no spurious eigenvalue from the normal direction.
* ``riemannian=False``: the Euclidean Hessian in the ambient space (dimension ``dim``).

Hessian-vector products come from the energy's R-operator (:meth:`Energy.hvp`, one block of
vectors at one point per call), never from finite differences; every result reports how many
were used (``n_hvp``). Eigenvectors are always returned as ambient (tangent) vectors, one per
row, never as basis coordinates. Theory enters only as data or callables (e.g. the CDF given
to :func:`ks_distance`), never as a model-specific formula; the semicircle law itself lives in
:mod:`pspin.theory`.

Modules: :mod:`~analysis.spectrum.operators` (the operator), :mod:`~analysis.spectrum.lanczos`
(eigenvalues), :mod:`~analysis.spectrum.slq` (densities, traces),
:mod:`~analysis.spectrum.measures` (outliers, Gauss–Newton split, distances).
"""

from analysis.spectrum.lanczos import WHICH, EigenResult, hessian_eigenvalues
from analysis.spectrum.measures import (
    MORSE_RTOL,
    GaussNewtonResult,
    MorseIndex,
    OutlierResult,
    gauss_newton_split,
    ks_distance,
    ks_test,
    morse_index,
    outliers,
    wasserstein_1,
)
from analysis.spectrum.operators import (
    DENSE_MAX_DIM,
    ON_MANIFOLD_TOL,
    SpectrumWarning,
    TangentOperator,
    tangent_operator,
)
from analysis.spectrum.slq import (
    DensityResult,
    TraceResult,
    default_bandwidth,
    gaussian_smooth,
    hessian_trace,
    spectral_density,
)

__all__ = [
    "WHICH",
    "ON_MANIFOLD_TOL",
    "DENSE_MAX_DIM",
    "SpectrumWarning",
    "EigenResult",
    "DensityResult",
    "TraceResult",
    "OutlierResult",
    "GaussNewtonResult",
    "TangentOperator",
    "MORSE_RTOL",
    "MorseIndex",
    "morse_index",
    "ks_test",
    "tangent_operator",
    "hessian_eigenvalues",
    "spectral_density",
    "hessian_trace",
    "outliers",
    "gauss_newton_split",
    "default_bandwidth",
    "gaussian_smooth",
    "ks_distance",
    "wasserstein_1",
]
