"""Dense Riemannian Hessians of a batch of points, and their eigendecomposition.

The Riemannian Hessian of a point is expressed in the manifold's deterministic
``tangent_basis`` (curvature term included, as ``Energy.rhessian``); stacks of small dense
matrices are diagonalized with one ``numpy.linalg.eigh`` call on one BLAS thread.
"""

from __future__ import annotations

import contextlib

import numpy as np

from landscapes import threads
from landscapes.energy import Energy

__all__ = ["blas_threads", "dense_hessians", "eigh_stack", "riemannian_hessians", "to_ambient"]


def blas_threads(n: int, max_threaded: int = 512):
    """Context manager: one BLAS thread while working on dense matrices of size n <= max_threaded.

    Small dense LAPACK work gains nothing from threads and loses much under load (see
    :func:`eigh_stack`); the limit goes through the one thread policy, ``landscapes.threads``.

    Parameters
    ----------
    n : int
        Size of the matrices worked on.
    max_threaded : int
        Above this size the thread pools are left as they are.
    """
    if n > max_threaded:
        return contextlib.nullcontext()
    return threads.limit(1)


def eigh_stack(R: np.ndarray, max_threaded: int = 512):
    """``numpy.linalg.eigh`` of a stack of small symmetric matrices, one BLAS thread each.

    For matrices up to ``max_threaded`` rows LAPACK gains nothing from threads, and on a
    loaded machine OpenBLAS's spinning threads made a (8, 160, 160) stack 50x slower (5.4 s
    against 0.11 s measured); the limit applies only for the call.
    """
    with blas_threads(R.shape[-1], max_threaded):
        return np.linalg.eigh(R)


def dense_hessians(energy: Energy, X: np.ndarray) -> np.ndarray:
    """Dense symmetrized Euclidean Hessians of a batch ``(K, dim) -> (K, dim, dim)``.

    Uses the energy's own ``hessian`` when it overrides the default, otherwise one batched
    HVP with the identity columns (no loop over K).
    """
    if type(energy).hessian is not Energy.hessian:
        H = np.asarray(energy.hessian(X), dtype=np.float64)
        return H.reshape(X.shape[0], energy.dim, energy.dim)
    K, n = X.shape
    eye = np.eye(n)
    out = np.empty((K, n, n))
    step = max(1, int(2**24 // max(n * n, 1)))
    for a in range(0, K, step):
        b = min(K, a + step)
        Xr = np.repeat(X[a:b], n, axis=0)
        V = np.tile(eye, (b - a, 1))
        out[a:b] = energy.batch_hvp(Xr, V).reshape(b - a, n, n)
    return 0.5 * (out + np.swapaxes(out, 1, 2))


def riemannian_hessians(energy: Energy, X: np.ndarray) -> dict:
    """Energies, gradients and dense Riemannian Hessians of a batch of points.

    Parameters
    ----------
    energy : Energy
        The energy.
    X : ndarray (K, dim)
        Points on the energy's manifold.

    Returns
    -------
    dict
        ``e`` (K,) energies, ``rgrad`` (K, dim) ambient Riemannian gradients, ``B`` (K, dim, d)
        tangent bases (None when the tangent space is the ambient space), ``g`` (K, d)
        gradients in the bases, ``R`` (K, d, d) Riemannian Hessians in the bases (curvature
        term included), as in ``Energy.rhessian``.
    """
    X = np.asarray(X, dtype=np.float64)
    e, g = energy.batch_energy_and_gradient(X)
    man = energy.manifold
    rg = man.rgrad(X, g)
    H = dense_hessians(energy, X)
    c = man.curvature_shift(X, g)
    if man.intrinsic_dim == X.shape[1]:
        # the tangent space is the whole ambient space: coordinates are ambient (B = None)
        B = None
        R = H if not np.any(c) else H - c[:, None, None] * np.eye(X.shape[1])
        gc = rg
    else:
        B = man.tangent_basis(X)
        R = np.einsum("kia,kij,kjb->kab", B, H, B, optimize=True)
        R = R - c[:, None, None] * np.eye(B.shape[2])
        gc = np.einsum("kia,ki->ka", B, rg)
    R = 0.5 * (R + np.swapaxes(R, 1, 2))
    return {"e": np.asarray(e, dtype=np.float64), "rgrad": rg, "B": B, "g": gc, "R": R}


def to_ambient(B: np.ndarray | None, h: np.ndarray) -> np.ndarray:
    """Ambient vectors ``(K, dim)`` of coordinates ``h`` ``(K, d)`` in the bases ``B`` (or ``h``
    itself when ``B`` is None)."""
    return h if B is None else np.einsum("kia,ka->ki", B, h)
