"""Verification of candidate critical points, symmetries and deduplication.

A candidate counts only if its Riemannian gradient norm is below ``gtol * scale`` and its
Hessian is non-degenerate apart from the energy's declared symmetry directions; points where
a small gradient lies in an approximate kernel of the Hessian are *gradient-flat* (Frye et
al. 2020) and are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.critical.hessians import blas_threads, eigh_stack, riemannian_hessians, to_ambient
from landscapes._validation import check_positive
from landscapes.energy import Energy
from landscapes.random import SeedLike

__all__ = [
    "Verified",
    "canonical_forms",
    "deduplicate",
    "detect_symmetry",
    "symmetric_images",
    "verify",
]


@dataclass(frozen=True)
class Verified:
    """Classification of candidate points.

    Attributes
    ----------
    kind : ndarray (K,) of str
        ``"critical"`` (counted), ``"flat"`` (gradient-flat: small gradient in an approximate
        Hessian kernel, not critical), ``"degenerate"`` (critical with a zero Hessian
        eigenvalue outside the declared symmetries) or ``"none"``.
    energies : ndarray (K,)
        Energies (extensive, as ``energy.energy``).
    grad_norms : ndarray (K,)
        Riemannian gradient norms.
    indices : ndarray (K,)
        Number of negative Hessian eigenvalues (symmetry directions excluded).
    min_abs_eigs : ndarray (K,)
        Smallest |eigenvalue| outside the symmetry directions.
    low_eigs : ndarray (K, m)
        The m lowest eigenvalues (m = min(4, d)).
    n_zero_modes : ndarray (K,)
        Number of declared symmetry directions taken out.
    unstable : ndarray (K, dim)
        Ambient eigenvector of the lowest eigenvalue (the unstable direction of a saddle).
    """

    kind: np.ndarray
    energies: np.ndarray
    grad_norms: np.ndarray
    indices: np.ndarray
    min_abs_eigs: np.ndarray
    low_eigs: np.ndarray
    n_zero_modes: np.ndarray
    unstable: np.ndarray


def _symmetry_basis(energy, X, B):
    """Per point, an orthonormal basis (coords in B) of the complement of symmetry directions."""
    fn = getattr(energy, "symmetry_directions", None)
    if fn is None:
        return None, np.zeros(X.shape[0], dtype=int)
    out, nz = [], []
    for k in range(X.shape[0]):  # only for energies that declare continuous symmetries
        V = np.atleast_2d(np.asarray(fn(X[k]), dtype=np.float64))
        Bk = np.eye(X.shape[1]) if B is None else B[k]
        C = V @ Bk if V.size else np.zeros((0, Bk.shape[1]))
        if C.shape[0] == 0:
            out.append(np.eye(Bk.shape[1]))
            nz.append(0)
            continue
        u, s, vt = np.linalg.svd(C, full_matrices=True)
        r = int(np.sum(s > 1e-10 * max(s.max(), 1e-300)))
        out.append(vt[r:].T)
        nz.append(r)
    return out, np.array(nz, dtype=int)


def verify(
    energy: Energy,
    X: np.ndarray,
    *,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    flat_ratio: float = 1e-3,
    flat_gtol: float = 1e-3,
) -> Verified:
    """Classify candidate points as critical, gradient-flat, degenerate or neither.

    Parameters
    ----------
    energy : Energy
        The energy.
    X : ndarray (K, dim)
        Candidate points on the manifold.
    gtol : float
        Critical when |rgrad| <= gtol * energy.scale.
    eig_tol : float
        Degenerate when min |eigenvalue| <= eig_tol * max |eigenvalue| (after removing the
        declared symmetry directions).
    flat_ratio, flat_gtol : float
        Gradient-flat when not critical, |rgrad| <= flat_gtol * scale and
        |Hess rgrad| <= flat_ratio |Hess| |rgrad|.
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    for name, v in (
        ("gtol", gtol),
        ("eig_tol", eig_tol),
        ("flat_ratio", flat_ratio),
        ("flat_gtol", flat_gtol),
    ):
        check_positive(v, name)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != energy.dim:
        raise ValueError(f"X must have shape (K, {energy.dim}); got {X.shape}")
    energy.manifold.check_on(X, tol=1e-8, name="X")
    with blas_threads(energy.dim):
        return _verify(energy, X, gtol, eig_tol, flat_ratio, flat_gtol)


def _verify(energy, X, gtol, eig_tol, flat_ratio, flat_gtol) -> Verified:
    d = riemannian_hessians(energy, X)
    gn = np.linalg.norm(d["rgrad"], axis=1)
    comp, nz = _symmetry_basis(energy, X, d["B"])
    K = X.shape[0]
    dt = d["R"].shape[1]
    m = min(4, dt)
    idx = np.zeros(K, dtype=int)
    mins = np.zeros(K)
    low = np.zeros((K, m))
    unstable = np.zeros_like(X)
    ratio = np.zeros(K)
    spec = np.zeros(K)
    if comp is None:
        lam, W = eigh_stack(d["R"])
        idx = np.sum(lam < 0, axis=1)
        mins = np.min(np.abs(lam), axis=1)
        spec = np.max(np.abs(lam), axis=1)
        low = lam[:, :m]
        vec = W[:, :, 0]
        unstable = to_ambient(d["B"], vec)
        gw = np.einsum("kab,ka->kb", W, d["g"])
        ratio = np.linalg.norm(lam * gw, axis=1) / np.maximum(spec * gn, 1e-300)
    else:
        for k in range(K):
            C = comp[k]
            Rk = C.T @ d["R"][k] @ C
            lam, W = eigh_stack(Rk)
            idx[k] = np.sum(lam < 0)
            mins[k] = np.min(np.abs(lam)) if lam.size else np.inf
            spec[k] = np.max(np.abs(lam)) if lam.size else 1.0
            low[k, : min(m, lam.size)] = lam[:m]
            v = C @ W[:, 0]
            unstable[k] = v if d["B"] is None else d["B"][k] @ v
            gk = C.T @ d["g"][k]
            ratio[k] = np.linalg.norm(Rk @ gk) / max(spec[k] * gn[k], 1e-300)
    scale = float(energy.scale)
    crit = gn <= gtol * scale
    degen = crit & (mins <= eig_tol * np.maximum(spec, 1e-300))
    flat = ~crit & (gn <= flat_gtol * scale) & (ratio <= flat_ratio)
    kind = np.full(K, "none", dtype=object)
    kind[crit] = "critical"
    kind[degen] = "degenerate"
    kind[flat] = "flat"
    return Verified(
        kind=kind.astype(str),
        energies=d["e"],
        grad_norms=gn,
        indices=idx,
        min_abs_eigs=mins,
        low_eigs=low,
        n_zero_modes=nz,
        unstable=unstable,
    )


# ----------------------------------------------------------------------------- symmetry
def detect_symmetry(energy: Energy, seed: SeedLike = 12345) -> str | None:
    """The energy's parity under x -> -x: ``"odd"``, ``"even"`` or None.

    Checked numerically at three random points (relative tolerance 1e-9), so it applies to
    any energy (pure odd/even p-spin, quadratic forms, ...).
    """
    X = energy.random_point(seed, size=3)
    e1 = np.asarray(energy.energy(X))
    e2 = np.asarray(energy.energy(-X))
    tol = 1e-9 * max(1.0, float(np.max(np.abs(e1))))
    if np.all(np.abs(e1 - e2) <= tol):
        return "even"
    if np.all(np.abs(e1 + e2) <= tol):
        return "odd"
    return None


def symmetric_images(
    X: np.ndarray, energies: np.ndarray, indices: np.ndarray, symmetry: str | None, d: int
):
    """Images of critical points under x -> -x (for ``symmetry`` "odd" or "even").

    Odd: index k, energy u -> index d - k, energy -u (d = tangent dimension); even: same
    index and energy. Returns ``(X, energies, indices)`` of the images (empty for None).
    """
    if symmetry is None:
        return X[:0], energies[:0], indices[:0]
    if symmetry == "odd":
        return -X, -energies, d - indices
    if symmetry == "even":
        return -X, energies.copy(), indices.copy()
    raise ValueError(f"symmetry must be 'odd', 'even' or None; got {symmetry!r}")


def canonical_forms(energy: Energy, X: np.ndarray) -> np.ndarray:
    """Points ``X`` (K, dim) in the energy's canonical form (``energy.canonical_form``, applied
    row by row), or ``X`` itself when the energy declares none."""
    fn = getattr(energy, "canonical_form", None)
    if fn is None or X.shape[0] == 0:
        return X
    return np.stack([np.asarray(fn(x), dtype=np.float64) for x in X])


def deduplicate(known: np.ndarray, X: np.ndarray, tol: float) -> np.ndarray:
    """Mask of the rows of ``X`` that are new: farther than ``tol`` from ``known`` and from
    earlier rows of ``X`` (Euclidean distance, vectorized)."""
    tol = check_positive(tol, "tol (deduplication distance)", allow_zero=True)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    new = np.ones(n, dtype=bool)
    if known is not None and known.shape[0]:
        sq = np.sum(known**2, axis=1)
        for a in range(0, n, 512):
            b = min(n, a + 512)
            d2 = np.sum(X[a:b] ** 2, axis=1)[:, None] + sq[None, :] - 2 * X[a:b] @ known.T
            new[a:b] = np.min(d2, axis=1) > tol**2
    D2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1) if n <= 2048 else None
    if D2 is None:  # pragma: no cover - large batches
        for i in range(n):
            if new[i]:
                close = np.sum((X[i + 1 :] - X[i]) ** 2, axis=1) <= tol**2
                new[i + 1 :][close] = False
        return new
    dup = np.triu(D2 <= tol**2, k=1)
    # row i is a duplicate if an earlier row j (j < i) is within tol
    new &= ~np.any(dup, axis=0)
    return new
