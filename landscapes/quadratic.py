"""Quadratic energies: the simplest exact test case on either manifold."""

from __future__ import annotations

import numpy as np

from landscapes._validation import check_int
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean, Manifold, Sphere, manifold_from_spec, manifold_spec
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info
from landscapes.spec import register


class Quadratic(Energy):
    """f(x) = x.A x / 2 + b.x with a symmetric matrix A, on Euclidean space or a sphere.

    Parameters
    ----------
    A : array (dim, dim), optional
        Symmetric matrix (symmetrized if not); drawn from the GOE when omitted.
    b : array (dim,), optional
        Linear term (zero by default).
    dim : int, optional
        Dimension when ``A`` is drawn at random.
    manifold : {"euclidean", "sphere"}, Manifold or dict
        Where the energy lives: a name (the sphere has radius sqrt(dim)), a manifold of
        dimension ``dim`` (e.g. a ``ProductManifold``), or its
        :func:`~landscapes.manifolds.manifold_spec`.
    seed : seed-like
        Seed of the random A.
    """

    def __init__(
        self,
        A=None,
        b=None,
        *,
        dim: int | None = None,
        manifold: str = "euclidean",
        seed: SeedLike = None,
    ):
        if A is None:
            dim = check_int(dim, "dim", minimum=2)
            ss = as_seed_sequence(seed)
            G = as_generator(ss).standard_normal((dim, dim))
            A = (G + G.T) / np.sqrt(2 * dim)
            self._seed = seed_info(ss)
        else:
            A = np.array(A, dtype=np.float64, copy=True)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ValueError(f"A must be a square matrix; got shape {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError("A contains NaN or infinite values")
            A = 0.5 * (A + A.T)
            self._seed = None
        n = A.shape[0]
        b = np.zeros(n) if b is None else np.array(b, dtype=np.float64, copy=True)
        if b.shape != (n,):
            raise ValueError(f"b must have shape ({n},); got {b.shape}")
        if isinstance(manifold, dict):
            manifold = manifold_from_spec(manifold)
        if isinstance(manifold, Manifold):
            if manifold.dim != n:
                raise ValueError(f"manifold has dimension {manifold.dim}, but A is {n} x {n}")
            self.manifold = manifold
            manifold = manifold_spec(manifold)
        elif manifold == "euclidean":
            self.manifold = Euclidean(n)
        elif manifold == "sphere":
            self.manifold = Sphere(n)
        else:
            raise ValueError(
                f"unknown manifold {manifold!r}; choose 'euclidean', 'sphere' or a Manifold"
            )
        self.A, self.b = A, b
        self.A.flags.writeable = False
        self.b.flags.writeable = False
        self._manifold_name = manifold

    def params(self) -> dict:
        return {"model": "quadratic", "dim": self.dim, "manifold": self._manifold_name}

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (random ``A`` only)."""
        return {"dim": self.dim, "manifold": self._manifold_name}

    @property
    def seed_record(self) -> dict | None:
        """Seed record of the random ``A`` (None when ``A`` was given)."""
        return None if self._seed is None else dict(self._seed)

    def _fingerprint_payload(self):
        return [self.A.tobytes(), self.b.tobytes()]

    def _energy_and_gradient(self, X):
        AX = X @ self.A
        e = 0.5 * np.einsum("ki,ki->k", X, AX) + X @ self.b
        return e, AX + self.b

    def _hvp(self, X, V):
        return V @ self.A

    def _hvp_block(self, x, V):
        return V @ self.A


register("Quadratic", Quadratic)
