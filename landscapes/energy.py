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
from landscapes.manifolds import Manifold
from landscapes.random import SeedLike

__all__ = ["Energy", "FiniteSumEnergy", "RHESSIAN_ON_MANIFOLD_TOL"]

#: Relative distance from the manifold accepted by :meth:`Energy.rhessian` (the tolerance of
#: the spectrum instruments' points).
RHESSIAN_ON_MANIFOLD_TOL = 1e-6


class Energy(abc.ABC):
    """A smooth energy on a manifold, batched over replicas (abstract).

    Attributes
    ----------
    manifold : Manifold
        ``Euclidean(dim)``, ``Sphere(dim, radius)`` or a ``ProductManifold`` of them; ``dim``
        is the ambient dimension.
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

    # ----------------------------------------------------------------- trusted batch API
    # For instruments that validated their points once (with ``as_batch``) and then call the
    # energy many times in a loop: no shape checks, no copies, always the batch axis.
    def as_batch(self, x, name: str = "x") -> tuple[np.ndarray, bool]:
        """Validated points ``(K, dim)`` of this energy's dtype, and whether ``x`` was one point.

        Raises a ValueError naming ``name`` on a wrong shape, NaN or infinite values.
        """
        return as_points(x, self.dim, name=name, dtype=self.dtype)

    def batch_energy_and_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Energies ``(K,)`` and Euclidean gradients ``(K, dim)`` of trusted points ``(K, dim)``.

        ``X`` must come from :meth:`as_batch` (or be a C-contiguous array of the same shape
        and dtype); nothing is checked. Use :meth:`energy_and_gradient` for user input.
        """
        return self._energy_and_gradient(X)

    def batch_energy(self, X: np.ndarray) -> np.ndarray:
        """Energies ``(K,)`` of trusted points ``(K, dim)`` (see :meth:`batch_energy_and_gradient`)."""
        return self._energy(X)

    def batch_hvp(self, X: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Paired Euclidean HVPs of trusted ``X`` and ``V`` ``(K, dim)``: row k is H(X[k]) V[k]."""
        return self._hvp(X, V)

    def block_hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """H(x) V for one trusted point ``x`` ``(dim,)`` and a block of vectors ``V`` ``(m, dim)``."""
        return self._hvp_block(x, V)

    # ----------------------------------------------------------------- public API
    def _points(self, x, name: str = "x") -> tuple[np.ndarray, bool]:
        return self.as_batch(x, name)

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
        curvature term ``-diag(manifold.curvature_term(x, grad))`` (-(x . grad / r^2) I on
        the sphere; per factor on a product). Eigenvectors ``w`` map to ambient tangent
        vectors as ``tangent_basis(x) @ w``.

        Raises
        ------
        ValueError
            When a point lies farther than ``RHESSIAN_ON_MANIFOLD_TOL`` (relative to the
            manifold's length scale) from the manifold: the tangent basis and curvature term
            are those of the manifold, and off it they are meaningless (NaN at the origin of
            a sphere). The message names the distance.
        """
        X, single = self._points(x)
        self.manifold.check_on(X, tol=RHESSIAN_ON_MANIFOLD_TOL, name="x")
        out = []
        for k in range(X.shape[0]):
            g = self._energy_and_gradient(X[k : k + 1])[1][0]
            B = self.manifold.tangent_basis(X[k])
            HB = self._hvp_block(X[k], np.ascontiguousarray(B.T)).T
            R = B.T @ HB
            R = 0.5 * (R + R.T)
            R -= np.diag(self.manifold.curvature_term(X[k], g))
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

    Every public method (``energy``, ``gradient``, ``energy_and_gradient``, ``hvp``) takes an
    optional ``idx`` of sample indices:

    * ``None``: all ``n_samples`` samples;
    * a non-empty 1-D integer array ``(b,)``: the same minibatch for every point of the call;
    * a 2-D integer array ``(K, b)``: one minibatch per replica, row ``k`` for point ``k`` of a
      batch ``x`` of shape ``(K, dim)`` (for ``hvp``: point ``k`` with vector ``V[k]``). Row
      ``k`` of the result equals the call on ``x[k]`` with the 1-D ``idx[k]``. This is what
      SGD over replicas with their own minibatches needs, in one pass over the model.

    A single point ``x`` of shape ``(dim,)`` accepts a 2-D ``idx`` only of shape ``(1, b)``
    (treated as ``idx[0]``); a batch of ``K`` points needs exactly ``K`` rows. Indices must
    lie in ``0..n_samples - 1`` (repeats are allowed: they weight a sample twice). Anything
    else raises a ValueError naming ``idx``.

    Subclasses implement ``_energy_and_gradient(X, idx)`` and ``_hvp(X, V, idx)`` where
    ``idx`` is ``None`` (all samples) or a validated integer index array. Kernels of a class
    that sets ``batched_idx = True`` also receive 2-D ``idx`` of shape ``(X.shape[0], b)``
    and must evaluate it in one batched pass; for any other subclass the base class
    evaluates a 2-D ``idx`` one row (replica) at a time, so the contract holds either way.
    ``_hvp_block`` (one point, many vectors) only ever receives ``None`` or 1-D ``idx``.
    """

    n_samples: int
    batched_idx: bool = False  # kernels accept 2-D idx (K, b): one minibatch per replica

    def _check_idx(self, idx, n_points: int | None = None) -> np.ndarray | None:
        """Validated ``idx``: None, 1-D, or 2-D with ``n_points`` rows.

        ``n_points`` is the number of points of a batch call; ``None`` means a single point
        (then a 2-D ``idx`` must have one row and is returned as that row, 1-D).
        """
        if idx is None:
            return None
        arr = np.asarray(idx)
        if arr.ndim not in (1, 2) or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                "idx must be None, a non-empty 1-D integer array of sample indices, or a 2-D "
                f"integer array (K, b) with one row per point; got {arr.dtype} array of shape "
                f"{arr.shape}"
            )
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= self.n_samples:
            raise ValueError(f"idx must lie in 0..{self.n_samples - 1}; got values in {lo}..{hi}")
        if arr.ndim == 2:
            if n_points is None:
                if arr.shape[0] != 1:
                    raise ValueError(
                        f"idx of shape {arr.shape} (one minibatch per point) needs a batch x of "
                        f"{arr.shape[0]} points; a single point x takes 1-D idx or shape (1, b)"
                    )
                return arr[0]
            if arr.shape[0] != n_points:
                raise ValueError(
                    f"2-D idx must have one row per point: shape ({n_points}, b) for a batch "
                    f"of {n_points} points; got shape {arr.shape}"
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

    # dispatch of validated idx (None, 1-D, or 2-D with X.shape[0] rows) to the kernels
    def _rowwise(self, idx) -> bool:
        return idx is not None and idx.ndim == 2 and not self.batched_idx

    def _batched_energy(self, X, idx):
        """Energies ``(K,)`` for validated ``idx``; 2-D row by row unless ``batched_idx``."""
        if self._rowwise(idx):
            return np.concatenate([self._energy(X[k : k + 1], r) for k, r in enumerate(idx)])
        return self._energy(X, idx)

    def _batched_energy_and_gradient(self, X, idx):
        """Energies and gradients for validated ``idx`` (see :meth:`_batched_energy`)."""
        if self._rowwise(idx):
            parts = [self._energy_and_gradient(X[k : k + 1], r) for k, r in enumerate(idx)]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        return self._energy_and_gradient(X, idx)

    def _batched_hvp(self, X, V, idx):
        """Paired HVPs for validated ``idx`` (see :meth:`_batched_energy`)."""
        if self._rowwise(idx):
            return np.concatenate(
                [self._hvp(X[k : k + 1], V[k : k + 1], r) for k, r in enumerate(idx)]
            )
        return self._hvp(X, V, idx)

    def batch_energy_and_gradient(self, X, idx=None):  # type: ignore[override]
        """Energies and gradients of trusted points ``(K, dim)`` over ``idx`` (unchecked).

        ``idx`` is None, 1-D, or 2-D with one row per point, already in range; use
        :meth:`energy_and_gradient` for user input.
        """
        return self._batched_energy_and_gradient(X, idx)

    def batch_energy(self, X, idx=None):  # type: ignore[override]
        """Energies of trusted points ``(K, dim)`` over ``idx`` (unchecked)."""
        return self._batched_energy(X, idx)

    def batch_hvp(self, X, V, idx=None):  # type: ignore[override]
        """Paired HVPs of trusted ``X``, ``V`` ``(K, dim)`` over ``idx`` (unchecked)."""
        return self._batched_hvp(X, V, idx)

    def block_hvp(self, x, V, idx=None):  # type: ignore[override]
        """H(x) V for one trusted point and a block ``V`` ``(m, dim)``; ``idx`` None or 1-D."""
        return self._hvp_block(x, V, idx)

    def check_idx(self, idx, n_points: int | None = None) -> np.ndarray | None:
        """Validated sample indices (see the class docstring); raises a ValueError naming ``idx``."""
        return self._check_idx(idx, n_points)

    def _points_idx(self, x, idx):
        """Validated points ``(K, dim)``, the single-point flag, and validated ``idx``."""
        X, single = self._points(x)
        return X, single, self._check_idx(idx, None if single else X.shape[0])

    def _hvp_dispatch(self, x, V, idx, block, batch):
        """Shapes of :meth:`hvp` with kernels ``block(x, V, idx)`` and ``batch(X, V, idx)``."""
        X, single = self._points(x)
        Vb, vsingle = as_points(V, self.dim, name="V", dtype=self.dtype)
        if single:
            out = block(X[0], Vb, self._check_idx(idx))
            return out[0] if vsingle else out
        if vsingle or Vb.shape[0] != X.shape[0]:
            raise ValueError(
                f"for a batch of {X.shape[0]} points, V must have shape ({X.shape[0]}, {self.dim}) "
                f"(one vector per point); got shape {np.shape(V)}"
            )
        return batch(X, Vb, self._check_idx(idx, X.shape[0]))

    def energy(self, x, idx=None):  # type: ignore[override]
        """Mean loss over all samples (``idx=None``) or over ``idx`` (1-D, or 2-D per point)."""
        X, single, idx = self._points_idx(x, idx)
        e = self._batched_energy(X, idx)
        return float(e[0]) if single else e

    def gradient(self, x, idx=None):  # type: ignore[override]
        """Gradient of the mean loss over ``idx`` (all samples by default)."""
        X, single, idx = self._points_idx(x, idx)
        g = self._batched_energy_and_gradient(X, idx)[1]
        return g[0] if single else g

    def energy_and_gradient(self, x, idx=None):  # type: ignore[override]
        """Mean loss and its gradient over ``idx`` in one pass."""
        X, single, idx = self._points_idx(x, idx)
        e, g = self._batched_energy_and_gradient(X, idx)
        return (float(e[0]), g[0]) if single else (e, g)

    def hvp(self, x, V, idx=None):  # type: ignore[override]
        """Hessian-vector product of the mean loss over ``idx``; shapes as in Energy.hvp.

        A 2-D ``idx`` (K, b) goes with a batch ``x`` (K, dim) and ``V`` (K, dim): row ``k``
        is the HVP at ``x[k]`` of the loss over ``idx[k]``.
        """
        return self._hvp_dispatch(x, V, idx, self._hvp_block, self._batched_hvp)
