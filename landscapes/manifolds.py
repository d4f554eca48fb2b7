"""Manifolds on which energies live: Euclidean space and the sphere of radius r.

Each manifold turns Euclidean derivatives into Riemannian ones (``rgrad``, ``rhvp``) and
retracts steps back onto itself. All methods accept one point ``(dim,)`` or a batch
``(K, dim)`` with matching tangent vectors, and never modify their arguments.
"""

from __future__ import annotations

import abc

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.random import SeedLike, as_generator

__all__ = ["Manifold", "Euclidean", "Sphere"]


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product keeping a trailing axis for broadcasting."""
    return np.sum(a * b, axis=-1, keepdims=True)


class Manifold(abc.ABC):
    """A Riemannian submanifold of R^dim (abstract)."""

    dim: int

    @property
    @abc.abstractmethod
    def intrinsic_dim(self) -> int:
        """Dimension of the tangent space."""

    @abc.abstractmethod
    def proj(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Orthogonal projection of ambient ``v`` onto the tangent space at ``x``."""

    @abc.abstractmethod
    def retract(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Map the tangent step ``v`` at ``x`` back onto the manifold."""

    @abc.abstractmethod
    def exp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Exponential map (follow the geodesic from ``x`` with velocity ``v`` for unit time)."""

    @abc.abstractmethod
    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """A random point (uniform on the sphere; standard normal in Euclidean space)."""

    @abc.abstractmethod
    def tangent_basis(self, x: np.ndarray) -> np.ndarray:
        """Deterministic orthonormal basis of the tangent space, as columns ``(dim, d)``."""

    @abc.abstractmethod
    def distance_to(self, x: np.ndarray) -> np.ndarray:
        """Distance of ambient points from the manifold (0 on it)."""

    @abc.abstractmethod
    def dist(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Geodesic distance between points."""

    def rgrad(self, x: np.ndarray, egrad: np.ndarray) -> np.ndarray:
        """Riemannian gradient from the Euclidean gradient."""
        return self.proj(x, egrad)

    @abc.abstractmethod
    def rhvp(self, x: np.ndarray, egrad: np.ndarray, ehvp: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Riemannian Hessian applied to tangent ``v`` from Euclidean gradient and HVP."""

    def curvature_shift(self, x: np.ndarray, egrad: np.ndarray) -> np.ndarray:
        """Scalar ``c`` such that Hess f = P (grad^2 f) P - c I on the tangent space."""
        return np.zeros(np.shape(x)[:-1])

    def check_on(self, x: np.ndarray, tol: float = 1e-8, name: str = "x") -> None:
        """Raise ValueError if points lie farther than ``tol`` (relative) from the manifold."""
        d = np.atleast_1d(self.distance_to(x))
        scale = max(1.0, float(getattr(self, "radius", 1.0)))
        bad = np.nonzero(d > tol * scale)[0]
        if bad.size:
            raise ValueError(
                f"{name} is off the manifold {self!r}: distance {float(d[bad[0]]):.3g} "
                f"(tolerance {tol:g} relative) at replicas {bad[:10].tolist()}"
            )


class Euclidean(Manifold):
    """Flat space R^dim: projection is the identity and retraction is addition."""

    def __init__(self, dim: int):
        self.dim = check_int(dim, "dim", minimum=1)

    def __repr__(self) -> str:
        return f"Euclidean({self.dim})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Euclidean) and other.dim == self.dim

    def __hash__(self) -> int:
        return hash(("Euclidean", self.dim))

    @property
    def intrinsic_dim(self) -> int:
        return self.dim

    def proj(self, x, v):
        return np.array(v, dtype=np.result_type(v, np.float64), copy=True)

    def retract(self, x, v):
        return np.asarray(x) + np.asarray(v)

    def exp(self, x, v):
        return np.asarray(x) + np.asarray(v)

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        rng = as_generator(seed)
        shape = (self.dim,) if size is None else (int(size), self.dim)
        return rng.standard_normal(shape)

    def tangent_basis(self, x):
        x = np.asarray(x)
        eye = np.eye(self.dim)
        if x.ndim == 1:
            return eye
        return np.broadcast_to(eye, (x.shape[0], self.dim, self.dim)).copy()

    def distance_to(self, x):
        return np.zeros(np.shape(x)[:-1])

    def dist(self, x, y):
        return np.linalg.norm(np.asarray(y) - np.asarray(x), axis=-1)

    def rhvp(self, x, egrad, ehvp, v):
        return np.array(ehvp, copy=True)


class Sphere(Manifold):
    """The sphere {x in R^dim : |x| = radius} (default radius sqrt(dim), the p-spin's).

    The Riemannian Hessian on the tangent space is P (grad^2 f) P - (x . grad f / r^2) I,
    where P = I - x x^T / r^2 is the tangent projector.
    """

    def __init__(self, dim: int, radius: float | None = None):
        self.dim = check_int(dim, "dim", minimum=2)
        self.radius = (
            float(np.sqrt(self.dim)) if radius is None else check_positive(radius, "radius")
        )

    def __repr__(self) -> str:
        return f"Sphere({self.dim}, radius={self.radius:.6g})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sphere) and other.dim == self.dim and other.radius == self.radius

    def __hash__(self) -> int:
        return hash(("Sphere", self.dim, self.radius))

    @property
    def intrinsic_dim(self) -> int:
        return self.dim - 1

    def proj(self, x, v):
        x = np.asarray(x)
        v = np.asarray(v)
        return v - _rowdot(x, v) / self.radius**2 * x

    def retract(self, x, v):
        y = np.asarray(x) + np.asarray(v)
        return self.radius * y / np.linalg.norm(y, axis=-1, keepdims=True)

    def exp(self, x, v):
        x = np.asarray(x)
        v = np.asarray(v)
        nv = np.linalg.norm(v, axis=-1, keepdims=True)
        theta = nv / self.radius
        with np.errstate(invalid="ignore", divide="ignore"):
            direction = np.where(nv > 0, v / np.where(nv > 0, nv, 1.0), 0.0)
        y = np.cos(theta) * x + self.radius * np.sin(theta) * direction
        return self.radius * y / np.linalg.norm(y, axis=-1, keepdims=True)

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        rng = as_generator(seed)
        shape = (self.dim,) if size is None else (int(size), self.dim)
        g = rng.standard_normal(shape)
        return self.radius * g / np.linalg.norm(g, axis=-1, keepdims=True)

    def tangent_basis(self, x):
        """Orthonormal tangent basis from the Householder reflection taking x/r to -+e_last.

        The reflection Q is symmetric and orthogonal with Q x/r = s e_d (d the last axis);
        its first d-1 columns span the tangent space. Deterministic and smooth away from
        x_d = 0 crossings of the sign choice.
        """
        x = np.asarray(x, dtype=np.float64)
        single = x.ndim == 1
        X = x[None] if single else x
        u = X / np.linalg.norm(X, axis=-1, keepdims=True)
        sign = np.where(u[:, -1] >= 0, 1.0, -1.0)
        w = u.copy()
        w[:, -1] += sign
        w /= np.linalg.norm(w, axis=-1, keepdims=True)
        Q = np.eye(self.dim)[None] - 2.0 * w[:, :, None] * w[:, None, :]
        B = Q[:, :, :-1]
        return B[0] if single else B

    def distance_to(self, x):
        return np.abs(np.linalg.norm(np.asarray(x), axis=-1) - self.radius)

    def dist(self, x, y):
        c = np.sum(np.asarray(x) * np.asarray(y), axis=-1) / self.radius**2
        return self.radius * np.arccos(np.clip(c, -1.0, 1.0))

    def curvature_shift(self, x, egrad):
        return np.sum(np.asarray(x) * np.asarray(egrad), axis=-1) / self.radius**2

    def rhvp(self, x, egrad, ehvp, v):
        x = np.asarray(x)
        shift = _rowdot(x, np.asarray(egrad)) / self.radius**2
        return self.proj(x, ehvp) - shift * self.proj(x, v)
