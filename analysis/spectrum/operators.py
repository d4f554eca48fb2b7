"""The Hessian at one point as a symmetric operator on tangent coordinates."""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from landscapes.energy import Energy

ON_MANIFOLD_TOL = 1e-6  # relative distance from the manifold accepted for ``x``
DENSE_MAX_DIM = 300  # below this tangent dimension "auto" uses dense eigh


class SpectrumWarning(RuntimeWarning):
    """An iterative eigen-solver did not converge (the result says which values)."""


def _readonly(a):
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _freeze(obj) -> None:
    for name in obj.__dataclass_fields__:
        val = getattr(obj, name)
        if isinstance(val, np.ndarray):
            object.__setattr__(obj, name, _readonly(val))


# --------------------------------------------------------------------------- operator
class TangentOperator(LinearOperator):
    """The (Riemannian) Hessian at one point as a symmetric operator on coordinates.

    Built by :func:`tangent_operator`. It is a :class:`scipy.sparse.linalg.LinearOperator`
    of shape ``(d, d)`` (``d`` the tangent dimension), so ``op @ v``, ``op.matvec``,
    ``op.matmat`` (columns, scipy's convention), ``aslinearoperator(op)`` and
    ``scipy.sparse.linalg.eigsh(op)`` work as for any operator; a block of columns costs ONE
    block Hessian-vector product. :meth:`apply` is the same operator on ROWS
    ``(m, d)`` (``energy.hvp(x, V)`` with ``V`` of shape ``(m, dim)``); ``to_ambient`` /
    ``to_coords`` convert between coordinates and ambient tangent vectors. ``n_hvp`` counts
    the Hessian-vector products used so far (one per vector).
    """

    def __init__(self, energy: Energy, x: np.ndarray, riemannian: bool = True):
        self.energy = energy
        self.x = x
        self.riemannian = bool(riemannian)
        self.n_hvp = 0
        self.shift = 0.0
        if self.riemannian:
            man = energy.manifold
            self.shift = float(man.curvature_shift(x, energy.gradient(x)))
            self.dim = int(man.intrinsic_dim)
        else:
            self.dim = int(energy.dim)
        super().__init__(dtype=np.dtype(np.float64), shape=(self.dim, self.dim))

    def as_linear_operator(self) -> LinearOperator:
        """This operator as a :class:`scipy.sparse.linalg.LinearOperator` (itself)."""
        return self

    # scipy LinearOperator protocol (columns); symmetric, so the adjoint is itself ------
    def _matvec(self, v):
        return self.apply(np.asarray(v).reshape(1, -1))[0]

    def _matmat(self, X):
        return self.apply(np.asarray(X).T).T

    _rmatvec = _matvec
    _rmatmat = _matmat

    def _adjoint(self):
        return self

    # coordinates <-> ambient -------------------------------------------------------
    def to_ambient(self, C: np.ndarray) -> np.ndarray:
        """Ambient tangent vectors (rows) from coordinate vectors (rows)."""
        if self.riemannian:
            return self.energy.manifold.from_tangent_coords(self.x, C)
        return np.array(C, dtype=np.float64, copy=True)

    def to_coords(self, V: np.ndarray) -> np.ndarray:
        """Coordinates of (the tangent part of) ambient vectors (rows)."""
        if self.riemannian:
            return self.energy.manifold.tangent_coords(self.x, V)
        return np.array(V, dtype=np.float64, copy=True)

    def basis(self) -> np.ndarray:
        """The tangent basis as columns ``(dim_ambient, d)``."""
        return self.to_ambient(np.eye(self.dim)).T

    # application -------------------------------------------------------------------
    def apply(self, C: np.ndarray, where: str = "") -> np.ndarray:
        """Apply the operator to coordinate vectors given as ROWS ``C`` (m, d): one block HVP.

        ``where`` names the caller in the error raised on a non-finite product.
        """
        C = np.atleast_2d(np.asarray(C, dtype=np.float64))
        V = self.to_ambient(C)
        HV = np.asarray(self.energy.hvp(self.x, V), dtype=np.float64)
        self.n_hvp += C.shape[0]
        if not np.all(np.isfinite(HV)):
            bad = np.unique(np.nonzero(~np.isfinite(HV))[0])
            raise ValueError(
                f"the Hessian-vector product of {type(self.energy).__name__} returned NaN or "
                f"infinite values{' ' + where if where else ''} (vectors {bad[:10].tolist()} "
                f"of a block of {C.shape[0]})"
            )
        out = self.to_coords(HV)
        if self.shift:
            out = out - self.shift * C
        return out

    def dense(self) -> np.ndarray:
        """The operator as a dense symmetric matrix ``(d, d)`` (cheap via energy.hessian)."""
        H = np.asarray(self.energy.hessian(self.x), dtype=np.float64)
        self.n_hvp += self.energy.dim
        if not np.all(np.isfinite(H)):
            raise ValueError(
                f"the Hessian of {type(self.energy).__name__} contains NaN or infinite values"
            )
        A = H
        if self.riemannian:
            B = self.basis()
            if B.shape != H.shape or not np.array_equal(B, np.eye(self.dim)):
                A = B.T @ H @ B
            if self.shift:
                A = A - self.shift * np.eye(self.dim)
        return 0.5 * (A + A.T)


def _check_point(energy: Energy, x, riemannian: bool) -> np.ndarray:
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be a landscapes Energy; got {type(energy).__name__}")
    X, single = energy.as_batch(x, "x")
    if not single:
        raise ValueError(f"x must be one point of shape ({energy.dim},); got shape {np.shape(x)}")
    xx = np.array(X[0], dtype=np.float64)
    energy.manifold.check_on(xx, tol=ON_MANIFOLD_TOL)
    return xx


def tangent_operator(energy: Energy, x, riemannian: bool = True) -> TangentOperator:
    """The Hessian operator at ``x`` in tangent coordinates (validated point).

    Raises ValueError if ``x`` is not one point or lies farther than ``ON_MANIFOLD_TOL``
    (relative to the radius) from the manifold.
    """
    return TangentOperator(energy, _check_point(energy, x, riemannian), riemannian)
