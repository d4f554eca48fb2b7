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

__all__ = [
    "Manifold",
    "Euclidean",
    "Sphere",
    "ProductManifold",
    "manifold_spec",
    "manifold_from_spec",
]


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product keeping a trailing axis for broadcasting."""
    return np.sum(a * b, axis=-1, keepdims=True)


def _fractions(t) -> np.ndarray:
    """Validated path fractions: a finite 1-D array (a scalar becomes shape (1,))."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError(f"t must be a finite 1-D array of path fractions; got shape {t.shape}")
    return t


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as float arrays of the same shape ``(dim,)`` or ``(K, dim)``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim not in (1, 2):
        raise ValueError(
            f"x and y must have the same shape (dim,) or (K, dim); got {x.shape} and {y.shape}"
        )
    return x, y


def _short(v: np.ndarray) -> str:
    """A point, abbreviated for error messages."""
    return np.array2string(np.asarray(v), precision=4, threshold=6, edgeitems=2)


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
        """Scalar ``c`` such that Hess f = P (grad^2 f) P - c I on the tangent space.

        One number per point (shape ``x.shape[:-1]``). A product of curved factors has one
        shift per factor: use :meth:`curvature_term`, which every manifold provides.
        """
        return np.zeros(np.shape(x)[:-1])

    def curvature_term(self, x: np.ndarray, egrad: np.ndarray) -> np.ndarray:
        """Diagonal ``c`` (one entry per tangent coordinate) with Hess f = B^T H B - diag(c).

        ``B`` is :meth:`tangent_basis`; shape ``x.shape[:-1] + (intrinsic_dim,)``. For a
        sphere or Euclidean space it is :meth:`curvature_shift` repeated; on a product it
        holds each factor's shift on that factor's coordinates.
        """
        c = np.asarray(self.curvature_shift(x, egrad), dtype=np.float64)
        return np.repeat(c[..., None], self.intrinsic_dim, axis=-1)

    # ------------------------------------------------------------ global facts
    @property
    @abc.abstractmethod
    def is_compact(self) -> bool:
        """Whether the manifold is compact (the sphere is, Euclidean space is not)."""

    @property
    @abc.abstractmethod
    def euler_characteristic(self) -> int | None:
        """Euler characteristic (an int), or None for a non-compact manifold."""

    @property
    @abc.abstractmethod
    def length_scale(self) -> float:
        """Typical length of the manifold (a sphere's radius; sqrt(dim) for R^dim)."""

    @property
    def is_flat(self) -> bool:
        """Whether geodesics are straight lines (Euclidean space)."""
        return False

    # ------------------------------------------------------------ tangent coordinates
    def tangent_coords(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Coordinates in ``tangent_basis(x)`` of (the tangent part of) ambient vectors ``V``.

        Parameters
        ----------
        x : ndarray
            One point ``(dim,)`` or a batch ``(K, dim)``.
        V : ndarray
            For one point: vectors ``(..., dim)``. For a batch: ``(K, dim)`` (one vector per
            point) or ``(K, m, dim)`` (``m`` vectors per point).

        Returns
        -------
        ndarray
            The same shape with the last axis ``intrinsic_dim``.
        """
        x = np.asarray(x, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        B = self.tangent_basis(x)
        if x.ndim == 1:
            return V @ B
        if V.ndim == 2:
            return np.einsum("ki,kid->kd", V, B)
        return np.einsum("kmi,kid->kmd", V, B)

    def from_tangent_coords(self, x: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Ambient tangent vectors from coordinates ``C`` in ``tangent_basis(x)``.

        Shapes mirror :meth:`tangent_coords`: the last axis ``intrinsic_dim`` becomes ``dim``.
        """
        x = np.asarray(x, dtype=np.float64)
        C = np.asarray(C, dtype=np.float64)
        B = self.tangent_basis(x)
        if x.ndim == 1:
            return C @ B.T
        if C.ndim == 2:
            return np.einsum("kd,kid->ki", C, B)
        return np.einsum("kmd,kid->kmi", C, B)

    # ------------------------------------------------------------ paths between points
    @abc.abstractmethod
    def inverse_retract(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Tangent vector ``v`` at ``x`` with ``retract(x, v) == y`` (same shapes as ``x``)."""

    @abc.abstractmethod
    def geodesic(self, x: np.ndarray, y: np.ndarray, t) -> np.ndarray:
        """Points at fractions ``t`` ``(n,)`` along the (minimizing) geodesic from x to y.

        ``x``, ``y`` of shape ``(dim,)`` give ``(n, dim)``; ``(K, dim)`` give ``(K, n, dim)``.
        ``t = 0`` is ``x`` and ``t = 1`` is ``y``; the speed is constant in ``t``.
        """

    def check_on(self, x: np.ndarray, tol: float = 1e-8, name: str = "x") -> None:
        """Raise ValueError if points lie farther than ``tol`` (relative) from the manifold."""
        d = np.atleast_1d(self.distance_to(x))
        scale = max(1.0, float(self.length_scale))
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

    @property
    def is_compact(self) -> bool:
        return False

    @property
    def euler_characteristic(self) -> int | None:
        return None

    @property
    def is_flat(self) -> bool:
        return True

    @property
    def length_scale(self) -> float:
        return float(np.sqrt(self.dim))

    def tangent_coords(self, x, V):
        return np.array(V, dtype=np.float64, copy=True)

    def from_tangent_coords(self, x, C):
        return np.array(C, dtype=np.float64, copy=True)

    def inverse_retract(self, x, y):
        return np.asarray(y, dtype=np.float64) - np.asarray(x, dtype=np.float64)

    def geodesic(self, x, y, t):
        """Straight line ``x + t (y - x)``."""
        x, y = _pair(x, y)
        t = _fractions(t)
        return x[..., None, :] + t[:, None] * (y - x)[..., None, :]


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

    @property
    def is_compact(self) -> bool:
        return True

    @property
    def euler_characteristic(self) -> int:
        """chi(S^{n-1}) = 1 + (-1)^(n-1) with n = dim: 2 for even-dimensional spheres, else 0."""
        return 1 + (-1) ** (self.dim - 1)

    @property
    def length_scale(self) -> float:
        return self.radius

    @staticmethod
    def _householder(x: np.ndarray) -> np.ndarray:
        """Unit Householder vectors ``w`` (same shape as ``x``) of :meth:`tangent_basis`."""
        if x.ndim == 1:  # one point: the dot-product norm, bit for bit what spectra always used
            u = x / np.linalg.norm(x)
            w = u.copy()
            w[-1] += 1.0 if u[-1] >= 0 else -1.0
            return w / np.linalg.norm(w)
        u = x / np.linalg.norm(x, axis=-1, keepdims=True)
        w = u.copy()
        w[..., -1] += np.where(u[..., -1] >= 0, 1.0, -1.0)
        return w / np.linalg.norm(w, axis=-1, keepdims=True)

    def tangent_coords(self, x, V):
        """Coordinates in :meth:`tangent_basis` of ambient vectors, O(dim) each (implicit Q).

        The normal component of ``V`` is dropped; shapes as in :meth:`Manifold.tangent_coords`.
        """
        x = np.asarray(x, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        w = self._householder(x)
        if x.ndim == 2 and V.ndim == 3:
            w = w[:, None, :]
        return (V - 2.0 * _rowdot(V, w) * w)[..., :-1]

    def from_tangent_coords(self, x, C):
        """Ambient tangent vectors ``B C`` from coordinates, O(dim) each (implicit Q)."""
        x = np.asarray(x, dtype=np.float64)
        C = np.asarray(C, dtype=np.float64)
        w = self._householder(x)
        if x.ndim == 2 and C.ndim == 3:
            w = w[:, None, :]
        V = np.zeros(C.shape[:-1] + (self.dim,))
        V[..., :-1] = C
        return V - 2.0 * _rowdot(C, w[..., :-1]) * w

    def _check_not_opposite(self, x, y, c, what: str) -> None:
        """Raise ValueError where the cosine ``c`` between x and y is out of range."""
        bad = np.nonzero(np.atleast_1d(c))[0]
        if bad.size:
            k = int(bad[0])
            xs = np.atleast_2d(x)[k]
            ys = np.atleast_2d(y)[k]
            where = f" at replicas {bad[:10].tolist()}" if x.ndim == 2 else ""
            raise ValueError(f"{what}{where}: x = {_short(xs)}, y = {_short(ys)}")

    def inverse_retract(self, x, y):
        """Tangent ``v = r^2 y / (x . y) - x`` whose projection retraction r (x+v)/|x+v| is y.

        Raises a ValueError naming the points when ``x . y <= 0`` (y is not the retraction
        of any tangent vector at x).
        """
        x, y = _pair(x, y)
        xy = _rowdot(x, y)
        self._check_not_opposite(
            x, y, xy[..., 0] <= 0, "inverse_retract needs x . y > 0 (y in the open hemisphere of x)"
        )
        return self.radius**2 / xy * y - x

    def geodesic(self, x, y, t):
        """Great-circle arc from x to y at constant speed; ValueError for antipodal points."""
        x, y = _pair(x, y)
        t = _fractions(t)
        r2 = self.radius**2
        c = np.clip(np.sum(x * y, axis=-1) / r2, -1.0, 1.0)
        th = np.arccos(c)
        self._check_not_opposite(
            x, y, th > np.pi - 1e-8, "geodesic is not unique between antipodal points"
        )
        theta = th[..., None, None]  # (..., 1, 1)
        small = np.sin(theta) < 1e-12  # (nearly) equal points: straight interpolation
        st = np.where(small, 1.0, np.sin(theta))
        a = np.where(small, 1.0 - t[:, None], np.sin((1.0 - t[:, None]) * theta) / st)
        b = np.where(small, t[:, None], np.sin(t[:, None] * theta) / st)
        P = a * x[..., None, :] + b * y[..., None, :]
        return self.radius * P / np.linalg.norm(P, axis=-1, keepdims=True)

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


class ProductManifold(Manifold):
    """The product of manifolds over consecutive blocks of the ambient vector.

    ``ProductManifold([Sphere(4), Euclidean(3)])`` lives in R^7: coordinates 0..3 on the
    sphere of radius 2, coordinates 4..6 free. Every operation acts factor by factor;
    tangent coordinates are the factors' coordinates concatenated (the basis is block
    diagonal), and the curvature term of the Riemannian Hessian is per factor
    (:meth:`curvature_term`), so there is no single :meth:`curvature_shift`.
    """

    def __init__(self, factors):
        factors = tuple(factors)
        if len(factors) < 1 or not all(isinstance(f, Manifold) for f in factors):
            raise ValueError(f"factors must be a non-empty sequence of Manifolds; got {factors!r}")
        self.factors = factors
        self.dim = sum(f.dim for f in factors)
        cuts = np.cumsum([0] + [f.dim for f in factors])
        self._blocks = [slice(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        tcuts = np.cumsum([0] + [f.intrinsic_dim for f in factors])
        self._tblocks = [slice(int(a), int(b)) for a, b in zip(tcuts[:-1], tcuts[1:], strict=True)]

    def __repr__(self) -> str:
        return "ProductManifold([" + ", ".join(repr(f) for f in self.factors) + "])"

    def __eq__(self, other) -> bool:
        return isinstance(other, ProductManifold) and other.factors == self.factors

    def __hash__(self) -> int:
        return hash(("ProductManifold", self.factors))

    @property
    def blocks(self) -> list[slice]:
        """The ambient coordinates of each factor."""
        return list(self._blocks)

    @property
    def intrinsic_dim(self) -> int:
        return sum(f.intrinsic_dim for f in self.factors)

    def _map(self, method: str, *arrays, axis_blocks=None) -> list:
        blocks = axis_blocks or [self._blocks] * len(arrays)
        out = []
        for i, f in enumerate(self.factors):
            parts = [np.asarray(a)[..., b[i]] for a, b in zip(arrays, blocks, strict=True)]
            out.append(getattr(f, method)(*parts))
        return out

    def _cat(self, method: str, *arrays, axis_blocks=None) -> np.ndarray:
        return np.concatenate(self._map(method, *arrays, axis_blocks=axis_blocks), axis=-1)

    def proj(self, x, v):
        return self._cat("proj", x, v)

    def retract(self, x, v):
        return self._cat("retract", x, v)

    def exp(self, x, v):
        return self._cat("exp", x, v)

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        rng = as_generator(seed)
        return np.concatenate([f.random_point(rng, size) for f in self.factors], axis=-1)

    def tangent_basis(self, x):
        x = np.asarray(x, dtype=np.float64)
        B = np.zeros(x.shape[:-1] + (self.dim, self.intrinsic_dim))
        for f, b, t in zip(self.factors, self._blocks, self._tblocks, strict=True):
            B[..., b, t] = f.tangent_basis(x[..., b])
        return B

    def tangent_coords(self, x, V):
        return self._cat("tangent_coords", x, V)

    def from_tangent_coords(self, x, C):
        return self._cat("from_tangent_coords", x, C, axis_blocks=[self._blocks, self._tblocks])

    def distance_to(self, x):
        return np.sqrt(sum(np.square(d) for d in self._map("distance_to", x)))

    def dist(self, x, y):
        return np.sqrt(sum(np.square(d) for d in self._map("dist", x, y)))

    def rhvp(self, x, egrad, ehvp, v):
        return self._cat("rhvp", x, egrad, ehvp, v)

    def curvature_shift(self, x, egrad):
        raise ValueError(
            f"{self!r} has one curvature shift per factor, not a scalar; use "
            "curvature_term(x, egrad) (one entry per tangent coordinate)"
        )

    def curvature_term(self, x, egrad):
        return self._cat("curvature_term", x, egrad)

    def inverse_retract(self, x, y):
        return self._cat("inverse_retract", x, y)

    def geodesic(self, x, y, t):
        t = _fractions(t)
        return np.concatenate([f.geodesic(a, b, t) for f, a, b in self._pairs(x, y)], axis=-1)

    def _pairs(self, x, y):
        x, y = _pair(x, y)
        return [(f, x[..., b], y[..., b]) for f, b in zip(self.factors, self._blocks, strict=True)]

    @property
    def is_compact(self) -> bool:
        return all(f.is_compact for f in self.factors)

    @property
    def euler_characteristic(self) -> int | None:
        """Product of the factors' characteristics (None unless every factor is compact)."""
        if not self.is_compact:
            return None
        return int(np.prod([f.euler_characteristic for f in self.factors]))

    @property
    def length_scale(self) -> float:
        """sqrt of the sum of the factors' squared length scales."""
        return float(np.sqrt(sum(f.length_scale**2 for f in self.factors)))

    @property
    def is_flat(self) -> bool:
        return all(f.is_flat for f in self.factors)


def manifold_spec(manifold: Manifold) -> dict:
    """JSON-able description of a Euclidean space, sphere or product of them."""
    if isinstance(manifold, ProductManifold):
        return {"kind": "product", "factors": [manifold_spec(f) for f in manifold.factors]}
    if isinstance(manifold, Sphere):
        return {"kind": "sphere", "dim": manifold.dim, "radius": manifold.radius}
    if isinstance(manifold, Euclidean):
        return {"kind": "euclidean", "dim": manifold.dim}
    raise ValueError(f"no spec for the manifold {manifold!r}")


def manifold_from_spec(spec: dict) -> Manifold:
    """The manifold of :func:`manifold_spec`."""
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind == "product":
        return ProductManifold([manifold_from_spec(f) for f in spec["factors"]])
    if kind == "sphere":
        return Sphere(spec["dim"], spec.get("radius"))
    if kind == "euclidean":
        return Euclidean(spec["dim"])
    raise ValueError(
        f"manifold spec must have kind 'sphere', 'euclidean' or 'product'; got {spec!r}"
    )
