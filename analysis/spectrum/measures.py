"""Measures of a spectrum: outliers, the Gauss–Newton split, distances to a law."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.spectrum.operators import DENSE_MAX_DIM, _freeze, tangent_operator
from landscapes._validation import check_int
from landscapes.random import SeedLike, as_generator


# --------------------------------------------------------------------------- outliers
@dataclass(frozen=True)
class OutlierResult:
    """Eigenvalues beyond the bulk edge.

    Attributes
    ----------
    count : int
    values : (count,) the outliers, farthest first
    edge : float
        The bulk edge used (explicit, or midway across the chosen gap).
    gaps : (n_top,) relative gaps examined (empty with an explicit edge)
    side : "upper" or "lower"
    """

    count: int
    values: np.ndarray
    edge: float
    gaps: np.ndarray
    side: str

    def __post_init__(self):
        _freeze(self)


def outliers(
    eigenvalues, *, edge: float | None = None, n_top: int | None = None, side: str = "upper"
) -> OutlierResult:
    """Count the eigenvalues beyond the bulk.

    With an explicit ``edge``: the eigenvalues above it (``side="upper"``) or below it.
    Otherwise the largest relative gap among the ``n_top`` most extreme eigenvalues (default:
    the extreme 10%): sorting outward-first ``l_1, l_2, ...``, the relative gap after
    position j is ``|l_j - l_{j+1}| / (|l_{j+1}| + 1e-3 |l_1|)`` for j = 1..n_top, and the
    outliers are ``l_1..l_j*`` at the largest one (counted with multiplicity).
    """
    w = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if w.size < 2 or not np.all(np.isfinite(w)):
        raise ValueError("eigenvalues must be a finite array of at least 2 values")
    if side not in ("upper", "lower"):
        raise ValueError(f"side must be 'upper' or 'lower'; got {side!r}")
    s = np.sort(w)[::-1] if side == "upper" else np.sort(w)
    if edge is not None:
        edge = float(edge)
        vals = s[s > edge] if side == "upper" else s[s < edge]
        return OutlierResult(int(vals.size), vals, edge, np.zeros(0), side)
    if n_top is None:
        n_top = max(1, w.size // 10)
    n_top = check_int(n_top, "n_top", minimum=1)
    n_top = min(n_top, w.size - 1)
    lead = s[: n_top + 1]
    gaps = np.abs(np.diff(lead)) / (np.abs(lead[1:]) + 1e-3 * abs(lead[0]) + np.finfo(float).tiny)
    j = int(np.argmax(gaps))
    return OutlierResult(j + 1, s[: j + 1], float(0.5 * (s[j] + s[j + 1])), gaps, side)


# --------------------------------------------------------------------------- Gauss-Newton
@dataclass(frozen=True)
class GaussNewtonResult:
    """The Gauss–Newton / residual split of a loss Hessian at one point.

    Attributes
    ----------
    hessian_top, gn_top : (k,) top eigenvalues of H and of the Gauss–Newton matrix G
    overlap : float
        ``||U_H^T U_G||_F^2 / k``, the overlap of the top-k eigenspaces (1 = identical).
    rel_residual : float
        ``||H - G||_F / ||H||_F`` (Hutchinson estimates of both squared norms).
    rel_residual_stderr : float
    n_hvp : int
    """

    hessian_top: np.ndarray
    gn_top: np.ndarray
    overlap: float
    rel_residual: float
    rel_residual_stderr: float
    n_hvp: int

    def __post_init__(self):
        _freeze(self)


def gauss_newton_split(
    energy, x, k: int = 10, n_probes: int = 20, seed: SeedLike = None
) -> GaussNewtonResult:
    """Compare the Hessian with the Gauss–Newton matrix (``energy.gnvp``) at ``x``.

    Needs an energy with ``gnvp(x, V)`` (Euclidean networks). Top-k eigenpairs of both by
    dense eigh when small, Lanczos otherwise; ``||H-G||_F^2`` and ``||H||_F^2`` by Hutchinson
    on ``E||(H-G)z||^2`` with shared Rademacher probes (delta-method standard error).
    """
    if not callable(getattr(energy, "gnvp", None)):
        raise ValueError(f"{type(energy).__name__} has no gnvp (Gauss–Newton products)")
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = tangent_operator(energy, x, riemannian=True)
    if op.dim != energy.dim or op.shift:
        raise ValueError("gauss_newton_split is defined for Euclidean (network) losses")
    d = op.dim
    k = check_int(k, "k", minimum=1)
    if k >= d:
        raise ValueError(f"k={k} must be below the dimension {d}")
    xx = op.x
    n_g = [0]

    def gmat(V):
        n_g[0] += V.shape[0]
        out = np.asarray(energy.gnvp(xx, V), dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("the Gauss–Newton product returned NaN or infinite values")
        return out

    rng = as_generator(seed)
    if d <= DENSE_MAX_DIM:
        eye = np.eye(d)
        H = op.apply(eye)
        G = gmat(eye)
        wh, Uh = np.linalg.eigh(0.5 * (H + H.T))
        wg, Ug = np.linalg.eigh(0.5 * (G + G.T))
        wh, Uh, wg, Ug = wh[-k:], Uh[:, -k:], wg[-k:], Ug[:, -k:]
    else:
        LH = op  # a scipy LinearOperator itself (block products)
        LG = LinearOperator((d, d), matvec=lambda c: gmat(c[None])[0], dtype=float)
        wh, Uh = eigsh(LH, k=k, which="LA", v0=rng.standard_normal(d))
        wg, Ug = eigsh(LG, k=k, which="LA", v0=rng.standard_normal(d))
    overlap = float(np.sum((Uh.T @ Ug) ** 2) / k)
    Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
    HZ = op.apply(Z)
    GZ = gmat(Z)
    a = np.sum((HZ - GZ) ** 2, axis=1)
    b = np.sum(HZ**2, axis=1)
    r = float(np.sqrt(a.mean() / b.mean()))
    # delta method for sqrt(mean a / mean b)
    ca = np.cov(np.stack([a, b]), ddof=1) / a.size
    ma, mb = a.mean(), b.mean()
    var_ratio = ca[0, 0] / mb**2 - 2 * ma * ca[0, 1] / mb**3 + ma**2 * ca[1, 1] / mb**4
    se = float(np.sqrt(max(var_ratio, 0.0)) / (2 * max(r, np.finfo(float).tiny)))
    return GaussNewtonResult(np.sort(wh), np.sort(wg), overlap, r, se, op.n_hvp + n_g[0])


def ks_distance(samples, cdf) -> float:
    """Kolmogorov–Smirnov distance between the empirical law of ``samples`` and ``cdf``.

    :func:`scipy.stats.kstest`'s statistic; :func:`ks_test` also gives the p-value.
    """
    return ks_test(samples, cdf)[0]


def ks_test(samples, cdf) -> tuple[float, float]:
    """One-sample Kolmogorov–Smirnov test: ``(distance, p-value)`` by :func:`scipy.stats.kstest`.

    ``cdf`` is a callable (a theory law arriving as data); the p-value assumes independent
    samples (eigenvalues of one matrix are not, so read it as a scale, not a test).
    """
    from scipy.stats import kstest

    s = np.asarray(samples, dtype=np.float64).ravel()
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError("samples must be a non-empty finite array")
    res = kstest(s, lambda t: np.asarray(cdf(t), dtype=np.float64))
    return float(res.statistic), float(res.pvalue)


# --------------------------------------------------------------------------- Morse index
MORSE_RTOL = 1e-3
"""Relative tolerance of the tolerant Morse index: eigenvalues below ``-MORSE_RTOL * max|λ|``
count as negative. At an approximate critical point (gradient at a tolerance, not zero) and
with rounding in the Hessian, eigenvalues within this fraction of the spectral scale are not
resolved from zero."""


@dataclass(frozen=True)
class MorseIndex:
    """Negative eigenvalues counted two ways.

    Attributes
    ----------
    raw : int
        Eigenvalues below ``-1e-9 * max|λ|`` (rounding only).
    tolerant : int
        Eigenvalues below ``-rtol * max|λ|``.
    rtol : float
    scale : float
        ``max|λ|``.
    """

    raw: int
    tolerant: int
    rtol: float
    scale: float


def morse_index(eigenvalues, rtol: float = MORSE_RTOL) -> MorseIndex:
    """The Morse index of a spectrum, raw and with a tolerance relative to ``max|λ|``.

    Parameters
    ----------
    eigenvalues : array
        The full spectrum (finite values).
    rtol : float
        Relative tolerance in [0, 1): an eigenvalue counts as negative in the tolerant
        count when it is below ``-rtol * max|λ|``.
    """
    w = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError("eigenvalues must be a non-empty finite array")
    rtol = float(rtol)
    if not 0.0 <= rtol < 1.0:
        raise ValueError(f"rtol must be in [0, 1); got {rtol}")
    scale = max(float(np.max(np.abs(w))), 1e-300)
    return MorseIndex(
        raw=int(np.sum(w < -1e-9 * scale)),
        tolerant=int(np.sum(w < -rtol * scale)),
        rtol=rtol,
        scale=scale,
    )


def wasserstein_1(u_values, v_values, u_weights=None, v_weights=None) -> float:
    """1-Wasserstein distance between two weighted discrete measures on the line."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(u_values, v_values, u_weights, v_weights))
