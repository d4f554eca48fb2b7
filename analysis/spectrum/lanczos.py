"""Eigenvalues of a Hessian: dense ``eigh`` or Lanczos (scipy ``eigsh`` on block HVPs)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from analysis.spectrum.operators import (
    DENSE_MAX_DIM,
    SpectrumWarning,
    _freeze,
    tangent_operator,
)
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_generator

WHICH = ("LA", "SA", "LM", "BE")


# --------------------------------------------------------------------------- eigenvalues
@dataclass(frozen=True)
class EigenResult:
    """Eigenvalues of a Hessian at one point, with their certificates.

    Attributes
    ----------
    eigenvalues : (k,) ascending
    vectors : (k, dim) or None
        Unit ambient (tangent) eigenvectors, one per row, when ``return_vectors``.
    residuals : (k,)
        ``||H v - lambda v||`` for each returned pair (computed, not estimated).
    converged : (k,) bool
        Whether each pair meets the tolerance; NaN eigenvalues are never converged.
    n_hvp : int
        Hessian-vector products used (a dense Hessian counts ``dim``).
    method : "dense" or "lanczos"
    which : str
        Which part of the spectrum (scipy eigsh's meaning) or "all".
    dim : int
        Dimension of the operator (``dim - 1`` for the Riemannian Hessian on the sphere).
    riemannian : bool
    """

    eigenvalues: np.ndarray
    vectors: np.ndarray | None
    residuals: np.ndarray
    converged: np.ndarray
    n_hvp: int
    method: str
    which: str
    dim: int
    riemannian: bool

    def __post_init__(self):
        _freeze(self)

    @property
    def all_converged(self) -> bool:
        """True when every returned pair converged."""
        return bool(np.all(self.converged))


def _select(w: np.ndarray, k: int, which: str) -> np.ndarray:
    """Indices of the k eigenvalues scipy's eigsh would return (ascending ``w``)."""
    n = w.size
    if which == "LA":
        idx = np.arange(n - k, n)
    elif which == "SA":
        idx = np.arange(k)
    elif which == "LM":
        idx = np.sort(np.argsort(np.abs(w), kind="stable")[n - k :])
    else:  # BE: half from each end, the extra one from the high end
        lo = k // 2
        idx = np.concatenate([np.arange(lo), np.arange(n - (k - lo), n)])
    return idx


def hessian_eigenvalues(
    energy: Energy,
    x,
    k: int | None = None,
    which: str = "LA",
    riemannian: bool = True,
    return_vectors: bool = False,
    tol: float = 1e-10,
    seed: SeedLike = None,
    *,
    method: str = "auto",
    maxiter: int | None = None,
    ncv: int | None = None,
) -> EigenResult:
    """Eigenvalues (and optionally eigenvectors) of the Hessian of ``energy`` at ``x``.

    Parameters
    ----------
    energy : Energy
    x : array (dim,)
        A point on the energy's manifold (within ``ON_MANIFOLD_TOL`` relative).
    k : int or None
        Number of eigenvalues; None means all of them (dense).
    which : {"LA", "SA", "LM", "BE"}
        Exactly scipy.sparse.linalg.eigsh's meaning: largest algebraic, smallest algebraic,
        largest magnitude, both ends (half from each end, the extra one from the top).
    riemannian : bool
        Riemannian Hessian on the tangent space (default) or the ambient Euclidean Hessian.
    return_vectors : bool
        Also return unit eigenvectors as ambient tangent vectors (rows).
    tol : float
        Lanczos relative tolerance (eigsh's ``tol``); a pair counts as converged when its
        residual ``||Hv - lambda v||`` is at most ``max(10 tol, 1e-12)`` times the largest
        returned ``|lambda|``.
    seed : seed-like
        Seed of the Lanczos start vector (the result is deterministic given the seed).
    method : {"auto", "dense", "lanczos"}
        "auto": dense ``eigh`` when k is None or the dimension is at most ``DENSE_MAX_DIM``,
        Lanczos (eigsh on a LinearOperator of HVPs) otherwise.
    maxiter, ncv : int, optional
        Passed to eigsh.

    Returns
    -------
    EigenResult
        Eigenvalues ascending. A Lanczos run that did not converge marks the pairs in
        ``converged`` (missing ones are NaN) and warns with :class:`SpectrumWarning`.
    """
    if which not in WHICH:
        raise ValueError(f"unknown which={which!r}; choose one of {', '.join(WHICH)} (scipy eigsh)")
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"unknown method={method!r}; choose 'auto', 'dense' or 'lanczos'")
    tol = check_positive(tol, "tol", allow_zero=True)
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if k is not None:
        k = check_int(k, "k", minimum=1)
    if method == "lanczos" and k is None:
        raise ValueError("method='lanczos' needs a number of eigenvalues k")
    use_dense = method == "dense" or (method == "auto" and (k is None or d <= DENSE_MAX_DIM))
    if k is not None and k > d:
        raise ValueError(f"k={k} exceeds the dimension {d} of the Hessian")
    if use_dense:
        A = op.dense()
        w, U = np.linalg.eigh(A)
        if k is not None:
            idx = _select(w, k, which)
            w, U = w[idx], U[:, idx]
        R = A @ U - U * w
        res = np.linalg.norm(R, axis=0)
        vecs = op.to_ambient(U.T) if return_vectors else None
        scale = max(float(np.max(np.abs(w))), np.finfo(float).tiny)
        conv = res <= max(10 * tol, 1e-12) * scale + 1e3 * np.finfo(float).eps * scale
        return EigenResult(
            w, vecs, res, conv, op.n_hvp, "dense", "all" if k is None else which, d, op.riemannian
        )
    return _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv)


def _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv) -> EigenResult:
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    d = op.dim
    if k >= d:
        raise ValueError(
            f"Lanczos needs k < dimension; got k={k} for a Hessian of dimension {d} "
            "(use method='dense' or k=None for the full spectrum)"
        )
    rng = as_generator(seed)
    v0 = rng.standard_normal(d)
    step = [0]

    def mv(c):
        step[0] += 1
        return op.apply(np.asarray(c).reshape(1, -1), where=f"at Lanczos product {step[0]}")[0]

    def mm(C):
        step[0] += 1
        return op.apply(np.asarray(C).T, where=f"at Lanczos product {step[0]}").T

    L = LinearOperator((d, d), matvec=mv, matmat=mm, rmatvec=mv, dtype=np.float64)
    failed = False
    try:
        w, U = eigsh(L, k=k, which=which, tol=tol, v0=v0, maxiter=maxiter, ncv=ncv)
    except ArpackNoConvergence as exc:
        failed = True
        w, U = np.asarray(exc.eigenvalues), np.asarray(exc.eigenvectors)
    order = np.argsort(w)
    w, U = w[order], U[:, order]
    if w.size:
        U = U / np.linalg.norm(U, axis=0)
        R = op.apply(U.T, where="checking Lanczos residuals").T - U * w
        res = np.linalg.norm(R, axis=0)
    else:
        res = np.zeros(0)
    scale = max(float(np.max(np.abs(w))) if w.size else 1.0, np.finfo(float).tiny)
    conv = res <= max(10 * tol, 1e-12) * scale + 1e3 * np.finfo(float).eps * scale
    missing = k - w.size
    if missing:
        w = np.concatenate([w, np.full(missing, np.nan)])
        res = np.concatenate([res, np.full(missing, np.nan)])
        conv = np.concatenate([conv, np.zeros(missing, bool)])
        U = np.concatenate([U, np.full((d, missing), np.nan)], axis=1)
    vecs = op.to_ambient(U.T) if return_vectors else None
    if failed or not np.all(conv):
        worst = float(np.max(res[np.isfinite(res)])) if np.any(np.isfinite(res)) else np.nan
        warnings.warn(
            f"Lanczos ({which}, k={k}) did not converge: {int(np.sum(~conv))} of {k} "
            f"eigenpairs miss the tolerance (largest residual {worst:.3g}); "
            "see result.converged",
            SpectrumWarning,
            stacklevel=3,
        )
    return EigenResult(w, vecs, res, conv, op.n_hvp, "lanczos", which, d, op.riemannian)
