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
        Tolerance relative to the operator's norm ||H||: a pair counts as converged when its
        residual ``||Hv - lambda v||`` is at most ``max(10 tol, 1e-12) ||H||`` (dense: the
        largest |eigenvalue|; Lanczos: an estimate from a first short Lanczos run). Lanczos
        runs on H shifted by twice that norm, so eigsh's per-Ritz-value tolerance is
        relative to the norm too, and eigenvalues near zero (a flat bottom, ~1e-16) converge
        like any others instead of never.
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
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", minimum=1)
    if ncv is not None:
        ncv = check_int(ncv, "ncv", minimum=2)
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
        norm = float(np.max(np.abs(w))) if w.size else 0.0
        if k is not None:
            idx = _select(w, k, which)
            w, U = w[idx], U[:, idx]
        R = A @ U - U * w
        res = np.linalg.norm(R, axis=0)
        vecs = op.to_ambient(U.T) if return_vectors else None
        scale = max(norm, np.finfo(float).tiny)
        conv = res <= max(10 * tol, 1e-12) * scale + 1e3 * np.finfo(float).eps * scale
        return EigenResult(
            w, vecs, res, conv, op.n_hvp, "dense", "all" if k is None else which, d, op.riemannian
        )
    return _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv)


def _norm_estimate(L, d: int, v0: np.ndarray, maxiter: int | None) -> float:
    """A close lower bound of the spectral norm ||A|| (the largest |Ritz value|, loose tol)."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    try:
        w = eigsh(L, k=1, which="LM", tol=1e-3, v0=v0, maxiter=maxiter or max(50, d), ncv=None)[0]
    except ArpackNoConvergence as exc:
        w = np.asarray(exc.eigenvalues)
    if w.size and np.all(np.isfinite(w)):
        return float(np.max(np.abs(w)))
    v = v0 / np.linalg.norm(v0)  # fall back on a few power iterations: ||A v|| <= ||A||
    est = 0.0
    for _ in range(30):
        u = L.matvec(v)
        est = float(np.linalg.norm(u))
        if est == 0.0 or not np.isfinite(est):
            break
        v = u / est
    return est if np.isfinite(est) else 0.0


def _shifted(L, shift: float, U: np.ndarray | None = None, push: float = 0.0):
    """The operator ``A + shift I + push U U^T`` (``U`` orthonormal columns, or none)."""
    from scipy.sparse.linalg import LinearOperator

    d = L.shape[0]

    def mm(C):
        C = np.asarray(C).reshape(d, -1)
        out = L.matmat(C) + shift * C
        if U is not None and U.shape[1]:
            out = out + push * (U @ (U.T @ C))
        return out

    return LinearOperator(
        (d, d),
        matvec=lambda c: mm(c).reshape(-1),
        matmat=mm,
        rmatvec=lambda c: mm(c).reshape(-1),
        dtype=np.float64,
    )


def _eigsh(A, k, which, tol, v0, maxiter, ncv):
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    try:
        w, U = eigsh(A, k=k, which=which, tol=tol, v0=v0, maxiter=maxiter, ncv=ncv)
        return np.asarray(w), np.asarray(U), False
    except ArpackNoConvergence as exc:
        w, U = np.asarray(exc.eigenvalues), np.asarray(exc.eigenvectors)
        return w, U.reshape(A.shape[0], -1), True


def _extreme(L, k, which, tol, v0, maxiter, ncv, shift):
    """``k`` eigenpairs of the algebraic end ``which`` ("SA" or "LA") of ``A``.

    ARPACK stops a Ritz pair when its residual is below ``tol`` times its own |value|, which
    never happens for values near zero (the bottom of an over-parameterized network's
    Hessian: ~1e-16, which ran for hours). The operator is therefore shifted by ``shift``
    (twice the norm) away from zero -- ``A + shift I`` for "SA", ``A - shift I`` for "LA" --
    so every Ritz value has magnitude at least ``||A||`` and the tolerance is relative to
    the operator's norm; the order of the spectrum, hence which pairs are found, is unchanged.

    A single-vector Lanczos run finds a highly degenerate eigenvalue (a null space of
    dimension 100) only a few times and can return larger eigenvalues in place of further
    copies. Each run is therefore checked by deflation: the pairs found are pushed to the
    far end of the spectrum and the operator is asked again; while it still has eigenvalues
    beyond the worst pair kept, they are merged in (at most ``k`` rounds).
    """
    sgn = 1.0 if which == "SA" else -1.0  # work on the "SA" end of sgn * A
    w, U, failed = _eigsh(_shifted(L, sgn * shift), k, which, tol, v0, maxiter, ncv)
    w = sgn * (w - sgn * shift)  # eigenvalues of sgn * A, to keep the smallest
    slack = max(10 * tol, 1e-12) * shift
    d = L.shape[0]
    for _ in range(k):
        if w.size < k or d - w.size <= k:
            break
        Q, _ = np.linalg.qr(U)
        defl = _shifted(L, sgn * shift, Q, 3.0 * shift * sgn)
        # one pair first (cheap): is anything left beyond the worst pair kept?
        w1, _, _ = _eigsh(defl, 1, which, tol, v0, maxiter, None)
        if not w1.size or float(sgn * (w1[0] - sgn * shift)) >= float(np.max(w)) - slack:
            break
        w2, U2, f2 = _eigsh(defl, k, which, tol, v0, maxiter, ncv)
        w2 = sgn * (w2 - sgn * shift)
        if not w2.size or float(np.min(w2)) >= float(np.max(w)) - slack:
            break
        failed = failed or f2
        w_all = np.concatenate([w, w2])
        U_all = np.concatenate([U, U2], axis=1)
        keep = np.argsort(w_all, kind="stable")[:k]
        w, U = w_all[keep], U_all[:, keep]
    return sgn * w, U, failed


def _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv) -> EigenResult:
    from scipy.sparse.linalg import LinearOperator

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
    norm = _norm_estimate(L, d, v0, maxiter)
    shift = 2.0 * norm if norm > 0 else 1.0
    if which in ("SA", "LA"):
        w, U, failed = _extreme(L, k, which, tol, v0, maxiter, ncv, shift)
    else:
        # LM: the k largest |lambda| are among the k lowest and the k highest; BE: half from
        # each end, the extra one from the top (scipy's meaning), each end found shifted
        # (both ends stay disjoint: k + min(k, d - k) <= d pairs in all)
        k_lo, k_hi = (k, min(k, d - k)) if which == "LM" else (k // 2, k - k // 2)
        parts = [
            _extreme(L, kk, wh, tol, v0, maxiter, ncv, shift)
            for kk, wh in ((k_lo, "SA"), (k_hi, "LA"))
            if kk
        ]
        failed = any(f for _, _, f in parts)
        w = np.concatenate([p[0] for p in parts])
        U = np.concatenate([p[1] for p in parts], axis=1)
        if which == "LM" and w.size:
            keep = np.sort(np.argsort(np.abs(w), kind="stable")[max(0, w.size - k) :])
            w, U = w[keep], U[:, keep]
    order = np.argsort(w)
    w, U = w[order], U[:, order]
    if w.size:
        U = U / np.linalg.norm(U, axis=0)
        R = op.apply(U.T, where="checking Lanczos residuals").T - U * w
        res = np.linalg.norm(R, axis=0)
    else:
        res = np.zeros(0)
    top = float(np.max(np.abs(w))) if w.size and np.all(np.isfinite(w)) else 0.0
    scale = max(norm, top, np.finfo(float).tiny)
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
