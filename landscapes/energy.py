"""The Energy contract: a smooth function on a manifold, evaluated on batches of replicas.

Subclasses implement two batched kernels on validated 2-D arrays:

* ``_energy_and_gradient(X)`` with ``X`` of shape ``(K, dim)``, returning ``(K,)`` energies
  and ``(K, dim)`` Euclidean gradients;
* ``_hvp(X, V)``: paired Hessian-vector products, ``X`` and ``V`` both ``(K, dim)``.

Optionally ``_energy(X)`` (energy only, when cheaper) and ``_hvp_block(x, V)`` (one point,
many vectors, when the Hessian at a point can be formed once). Everything public — shapes,
validation, Riemannian views, dense Hessians — is provided here, so every energy behaves
the same way and the contract test suite covers them all.
"""

from __future__ import annotations

import abc
import hashlib
import json

import numpy as np

from landscapes._validation import as_points
from landscapes.manifolds import Manifold, Sphere
from landscapes.random import SeedLike

__all__ = ["Energy", "FiniteSumEnergy"]


class Energy(abc.ABC):
    """A smooth energy on a manifold, batched over replicas (abstract).

    Attributes
    ----------
    manifold : Manifold
        ``Euclidean(dim)`` or ``Sphere(dim, radius)``; ``dim`` is the ambient dimension.
    scale : float
        What to divide the energy by for an intensive value (``N`` for the p-spin, 1 for a
        mean loss). ``intensive_name`` says what the intensive value is called.
    """

    manifold: Manifold
    scale: float = 1.0
    intensive_name: str = "energy"

    # ----------------------------------------------------------------- kernels
    @abc.abstractmethod
    def _energy_and_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Energies ``(K,)`` and Euclidean gradients ``(K, dim)`` of a batch ``(K, dim)``."""

    @abc.abstractmethod
    def _hvp(self, X: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Paired Euclidean Hessian-vector products: row k is H(X[k]) V[k]."""

    def _energy(self, X: np.ndarray) -> np.ndarray:
        return self._energy_and_gradient(X)[0]

    def _hvp_block(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """H(x) V for one point ``x`` (dim,) and a block ``V`` (m, dim)."""
        return self._hvp(np.broadcast_to(x, V.shape), V)

    @abc.abstractmethod
    def params(self) -> dict:
        """JSON-able parameters that, with the seed, define this instance."""

    # ----------------------------------------------------------------- identity
    @property
    def dim(self) -> int:
        """Ambient dimension."""
        return self.manifold.dim

    @property
    def dtype(self):
        """Floating dtype of the computations."""
        return np.float64

    def _fingerprint_payload(self) -> list[bytes]:
        """Byte strings that, with ``params()``, identify the instance (couplings, data)."""
        return []

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the parameters and of the couplings/data that define the energy."""
        fp = getattr(self, "_fingerprint_cache", None)
        if fp is None:
            h = hashlib.sha256()
            h.update(type(self).__name__.encode())
            h.update(json.dumps(self.params(), sort_keys=True, default=str).encode())
            for chunk in self._fingerprint_payload():
                h.update(chunk)
            fp = h.hexdigest()
            self._fingerprint_cache = fp
        return fp

    # ----------------------------------------------------------------- public API
    def _points(self, x, name: str = "x") -> tuple[np.ndarray, bool]:
        return as_points(x, self.dim, name=name, dtype=self.dtype)

    def energy(self, x) -> np.ndarray | float:
        """Energy of a point ``(dim,)`` (a float) or a batch ``(K, dim)`` (shape ``(K,)``)."""
        X, single = self._points(x)
        e = self._energy(X)
        return float(e[0]) if single else e

    def gradient(self, x) -> np.ndarray:
        """Euclidean gradient, same shape as ``x``."""
        X, single = self._points(x)
        g = self._energy_and_gradient(X)[1]
        return g[0] if single else g

    def energy_and_gradient(self, x):
        """Energy and Euclidean gradient in one pass."""
        X, single = self._points(x)
        e, g = self._energy_and_gradient(X)
        return (float(e[0]), g[0]) if single else (e, g)

    def hvp(self, x, V) -> np.ndarray:
        """Euclidean Hessian-vector product.

        ``x`` (dim,) with ``V`` (dim,) or a block (m, dim); or ``x`` (K, dim) with ``V``
        (K, dim), one vector per point. The result has the shape of ``V``.
        """
        X, single = self._points(x)
        Vb, vsingle = as_points(V, self.dim, name="V", dtype=self.dtype)
        if single:
            out = self._hvp_block(X[0], Vb)
            return out[0] if vsingle else out
        if vsingle or Vb.shape[0] != X.shape[0]:
            raise ValueError(
                f"for a batch of {X.shape[0]} points, V must have shape ({X.shape[0]}, {self.dim}) "
                f"(one vector per point); got shape {np.shape(V)}"
            )
        return self._hvp(X, Vb)

    def hessian(self, x) -> np.ndarray:
        """Dense Euclidean Hessian ``(dim, dim)`` at one point (or ``(K, dim, dim)``)."""
        X, single = self._points(x)
        eye = np.eye(self.dim, dtype=self.dtype)
        Hs = np.empty((X.shape[0], self.dim, self.dim), dtype=self.dtype)
        for k in range(X.shape[0]):
            Hk = self._hvp_block(X[k], eye)
            Hs[k] = 0.5 * (Hk + Hk.T)
        return Hs[0] if single else Hs

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """The natural random initial condition (uniform on the sphere by default)."""
        return self.manifold.random_point(seed, size)

    # ----------------------------------------------------------------- Riemannian views
    def rgrad(self, x) -> np.ndarray:
        """Riemannian gradient (tangent), same shape as ``x``."""
        X, single = self._points(x)
        g = self.manifold.rgrad(X, self._energy_and_gradient(X)[1])
        return g[0] if single else g

    def rhvp(self, x, V) -> np.ndarray:
        """Riemannian Hessian applied to tangent vectors (``V`` is projected first).

        Same shapes as :meth:`hvp`. On the sphere: P (grad^2 f) P v - (x . grad f / r^2) P v.
        """
        X, single = self._points(x)
        Vb, vsingle = as_points(V, self.dim, name="V", dtype=self.dtype)
        g = self._energy_and_gradient(X)[1]
        if single:
            Vt = self.manifold.proj(X[0], Vb)
            out = self.manifold.rhvp(X[0], g[0], self._hvp_block(X[0], Vt), Vt)
            return out[0] if vsingle else out
        if vsingle or Vb.shape[0] != X.shape[0]:
            raise ValueError(
                f"for a batch of {X.shape[0]} points, V must have shape ({X.shape[0]}, {self.dim}) "
                f"(one vector per point); got shape {np.shape(V)}"
            )
        Vt = self.manifold.proj(X, Vb)
        return self.manifold.rhvp(X, g, self._hvp(X, Vt), Vt)

    def rhessian(self, x) -> np.ndarray:
        """Riemannian Hessian in the manifold's ``tangent_basis(x)``.

        ``(d, d)`` with d the tangent dimension (dim - 1 on the sphere), including the
        curvature term -(x . grad / r^2) I. Eigenvectors ``w`` map to ambient tangent
        vectors as ``tangent_basis(x) @ w``.
        """
        X, single = self._points(x)
        out = []
        for k in range(X.shape[0]):
            g = self._energy_and_gradient(X[k : k + 1])[1][0]
            B = self.manifold.tangent_basis(X[k])
            HB = self._hvp_block(X[k], np.ascontiguousarray(B.T)).T
            R = B.T @ HB
            R = 0.5 * (R + R.T)
            if isinstance(self.manifold, Sphere):
                R -= float(self.manifold.curvature_shift(X[k], g)) * np.eye(R.shape[0])
            out.append(R)
        return out[0] if single else np.stack(out)

    def intensive(self, e):
        """Intensive value of an energy (``e / scale``)."""
        return np.asarray(e) / self.scale if np.ndim(e) else float(e) / self.scale

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"


class FiniteSumEnergy(Energy):
    """A loss that is a mean over samples (abstract); supports minibatches for SGD.

    Subclasses implement ``_energy_and_gradient(X, idx)`` and ``_hvp(X, V, idx)`` where
    ``idx`` is ``None`` (all samples) or a validated integer index array.
    """

    n_samples: int

    def _check_idx(self, idx) -> np.ndarray | None:
        if idx is None:
            return None
        arr = np.asarray(idx)
        if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"idx must be None or a non-empty 1-D integer array of sample indices; "
                f"got {arr.dtype} array of shape {arr.shape}"
            )
        if arr.min() < 0 or arr.max() >= self.n_samples:
            raise ValueError(
                f"idx must lie in 0..{self.n_samples - 1}; got values in {arr.min()}..{arr.max()}"
            )
        return arr

    @abc.abstractmethod
    def _energy_and_gradient(self, X, idx=None):  # type: ignore[override]
        ...

    @abc.abstractmethod
    def _hvp(self, X, V, idx=None):  # type: ignore[override]
        ...

    def _energy(self, X, idx=None):  # type: ignore[override]
        return self._energy_and_gradient(X, idx)[0]

    def _hvp_block(self, x, V, idx=None):  # type: ignore[override]
        return self._hvp(np.broadcast_to(x, V.shape), V, idx)

    def energy(self, x, idx=None):  # type: ignore[override]
        """Mean loss over all samples (``idx=None``) or over the samples ``idx``."""
        X, single = self._points(x)
        e = self._energy(X, self._check_idx(idx))
        return float(e[0]) if single else e

    def gradient(self, x, idx=None):  # type: ignore[override]
        """Gradient of the mean loss over ``idx`` (all samples by default)."""
        X, single = self._points(x)
        g = self._energy_and_gradient(X, self._check_idx(idx))[1]
        return g[0] if single else g

    def energy_and_gradient(self, x, idx=None):  # type: ignore[override]
        """Mean loss and its gradient over ``idx`` in one pass."""
        X, single = self._points(x)
        e, g = self._energy_and_gradient(X, self._check_idx(idx))
        return (float(e[0]), g[0]) if single else (e, g)

    def hvp(self, x, V, idx=None):  # type: ignore[override]
        """Hessian-vector product of the mean loss over ``idx``; shapes as in Energy.hvp."""
        idx = self._check_idx(idx)
        X, single = self._points(x)
        Vb, vsingle = as_points(V, self.dim, name="V", dtype=self.dtype)
        if single:
            out = self._hvp_block(X[0], Vb, idx)
            return out[0] if vsingle else out
        if vsingle or Vb.shape[0] != X.shape[0]:
            raise ValueError(
                f"for a batch of {X.shape[0]} points, V must have shape ({X.shape[0]}, {self.dim}) "
                f"(one vector per point); got shape {np.shape(V)}"
            )
        return self._hvp(X, Vb, idx)
