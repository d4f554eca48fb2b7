"""Lennard-Jones clusters: the reference landscape of energy-landscape methods.

``LennardJones(n_atoms)`` is the energy of ``n_atoms`` atoms in ``dim``-dimensional space
(3 by default), in reduced units (epsilon = sigma = 1)::

    E(r) = 4 sum_{i<j} (r_ij^-12 - r_ij^-6)

on ``Euclidean(n_atoms * dim)`` (coordinates ``x = (r_1, ..., r_n)`` flattened atom by atom).
Its minima, transition states and disconnectivity graphs are tabulated for every small
cluster (the Cambridge Cluster Database: LJ7 has four minima, LJ13's global minimum is the
Mackay icosahedron at -44.326801, LJ38's the truncated octahedron at -173.928427), so every
search instrument can be checked against published numbers.

Energies are totals in units of epsilon (``scale = 1``: the numbers of the published tables;
divide by ``n_atoms`` for a per-atom value). Translations (``dim`` directions) and rigid
rotations (``dim (dim - 1) / 2``) leave the energy unchanged; :meth:`symmetry_directions`
declares them, so instruments take these zero modes out of Hessian indices. Permutations of
identical atoms are a discrete symmetry; :meth:`invariants` gives a permutation-, rotation-
and translation-invariant fingerprint of a structure (sorted pair distances) for telling
distinct structures apart.
"""

from __future__ import annotations

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean
from landscapes.random import SeedLike, as_generator
from landscapes.spec import register

__all__ = ["LennardJones"]


class LennardJones(Energy):
    """Lennard-Jones cluster of ``n_atoms`` atoms in reduced units (epsilon = sigma = 1).

    Parameters
    ----------
    n_atoms : int
        Number of atoms (>= 2).
    dim : int
        Dimension of space (2 or 3; default 3). The energy lives on ``Euclidean(n_atoms*dim)``.
    epsilon, sigma : float
        Well depth and length of the pair potential (default 1: reduced units; the published
        tables are in these units). ``E = 4 epsilon sum ((sigma/r)^12 - (sigma/r)^6)``.
    density : float
        Number density (atoms per sigma^dim) of the random initial condition (:meth:`random_point`): atoms are
        placed in a ball holding ``n_atoms`` at this density (default 0.8, about the LJ liquid
        near its triple point).

    Notes
    -----
    Gradients and Hessian-vector products are exact (the HVP is the R-operator of the pair
    forces), vectorized over replicas and over all atom pairs (an ``(n, n)`` pair table per
    replica; no Python loop over pairs). ``scale = 1``: reported energies are cluster totals.
    """

    intensive_name = "E (epsilon, cluster total)"
    #: Nothing is drawn at random: :func:`landscapes.spec.spec_of` writes ``"seed": null``.
    deterministic = True

    def __init__(
        self,
        n_atoms: int,
        dim: int = 3,
        *,
        epsilon: float = 1.0,
        sigma: float = 1.0,
        density: float = 0.8,
    ):
        self.n_atoms = check_int(n_atoms, "n_atoms", minimum=2)
        self.space_dim = check_int(dim, "dim", minimum=2)
        if self.space_dim > 3:
            raise ValueError(f"dim must be 2 or 3; got {dim}")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.sigma = check_positive(sigma, "sigma")
        self.density = check_positive(density, "density")
        self.manifold = Euclidean(self.n_atoms * self.space_dim)
        self.scale = 1.0

    def params(self) -> dict:
        return {
            "model": "lennard_jones",
            "n_atoms": self.n_atoms,
            "dim": self.space_dim,
            "epsilon": self.epsilon,
            "sigma": self.sigma,
            "density": self.density,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec`."""
        return {
            "n_atoms": self.n_atoms,
            "dim": self.space_dim,
            "epsilon": self.epsilon,
            "sigma": self.sigma,
            "density": self.density,
        }

    @property
    def seed_record(self) -> None:
        """None: the energy is deterministic (no couplings or data are drawn)."""
        return None

    # ------------------------------------------------------------------ kernels
    def _pairs(self, X: np.ndarray):
        """Pair differences ``D`` (K, n, n, d) and (sigma / r)^2 (0 on the diagonal)."""
        K = X.shape[0]
        R = X.reshape(K, self.n_atoms, self.space_dim)
        D = R[:, :, None, :] - R[:, None, :, :]
        r2 = np.einsum("kijd,kijd->kij", D, D)
        idx = np.arange(self.n_atoms)
        r2[:, idx, idx] = np.inf
        with np.errstate(divide="ignore"):
            ir2 = self.sigma**2 / r2
        return D, ir2

    def _energy(self, X: np.ndarray) -> np.ndarray:
        _, ir2 = self._pairs(X)
        ir6 = ir2**3
        # 4 sum_{i<j} = 2 sum_{i != j}
        return 2.0 * self.epsilon * np.sum(ir6 * ir6 - ir6, axis=(1, 2))

    def _energy_and_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        D, ir2 = self._pairs(X)
        ir6 = ir2**3
        ir12 = ir6 * ir6
        e = 2.0 * self.epsilon * np.sum(ir12 - ir6, axis=(1, 2))
        # dE/d r_i = sum_j f_ij (r_i - r_j), f = 2 dphi/d(r^2) = (-48 r^-12 + 24 r^-6) / r^2
        # (r in units of sigma, E in units of epsilon)
        f = (self.epsilon / self.sigma**2) * (24.0 * ir6 - 48.0 * ir12) * ir2
        g = np.einsum("kij,kijd->kid", f, D)
        return e, g.reshape(X.shape)

    def _hvp(self, X: np.ndarray, V: np.ndarray) -> np.ndarray:
        D, ir2 = self._pairs(X)
        K = X.shape[0]
        W = V.reshape(K, self.n_atoms, self.space_dim)
        DW = W[:, :, None, :] - W[:, None, :, :]
        ir6 = ir2**3
        ir12 = ir6 * ir6
        f = (self.epsilon / self.sigma**2) * (24.0 * ir6 - 48.0 * ir12) * ir2
        # R-operator: d f / d(r^2) = (336 r^-12 - 96 r^-6) / r^4, d(r^2) = 2 (r_ij . w_ij)
        fp = (self.epsilon / self.sigma**4) * (336.0 * ir12 - 96.0 * ir6) * ir2 * ir2
        uw = np.einsum("kijd,kijd->kij", D, DW)
        out = np.einsum("kij,kijd->kid", f, DW) + np.einsum("kij,kijd->kid", 2.0 * fp * uw, D)
        return out.reshape(X.shape)

    def _hvp_block(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        return self._hvp(np.broadcast_to(x, V.shape), V)

    # ------------------------------------------------------------------ points
    def positions(self, x) -> np.ndarray:
        """Atom positions ``(n_atoms, dim)`` (or ``(K, n_atoms, dim)``) of points ``x``."""
        X, single = self.as_batch(x)
        R = X.reshape(X.shape[0], self.n_atoms, self.space_dim).copy()
        return R[0] if single else R

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """Atoms placed one by one uniformly in a ball at number density ``density``.

        Each atom is drawn at least 0.7 sigma from the atoms already placed (of 64 uniform
        candidates, the first that is; the farthest if none is), so no pair starts in the
        steep core; the loop runs over atoms, vectorized over replicas and candidates.
        """
        rng = as_generator(seed)
        K = 1 if size is None else check_int(size, "size", minimum=1)
        n, d = self.n_atoms, self.space_dim
        unit = np.pi if d == 2 else 4.0 * np.pi / 3.0
        radius = self.sigma * (n / (self.density * unit)) ** (1.0 / d)
        m = 64
        R = np.zeros((K, n, d))
        for i in range(n):
            C = rng.standard_normal((K, m, d))
            C *= (radius * rng.random((K, m, 1)) ** (1.0 / d)) / np.linalg.norm(
                C, axis=-1, keepdims=True
            )
            if i == 0:
                R[:, 0] = C[:, 0]
                continue
            dist = np.linalg.norm(C[:, :, None, :] - R[:, None, :i, :], axis=-1).min(axis=2)
            ok = dist >= 0.7 * self.sigma
            pick = np.where(ok.any(axis=1), np.argmax(ok, axis=1), np.argmax(dist, axis=1))
            R[:, i] = C[np.arange(K), pick]
        X = R.reshape(K, n * d)
        return X[0] if size is None else X

    # ------------------------------------------------------------------ symmetries
    def symmetry_directions(self, x) -> np.ndarray:
        """Translations and infinitesimal rigid rotations at ``x``: rows ``(r, dim)``.

        ``dim`` translations (every atom moved by ``e_a``) and ``dim (dim - 1) / 2``
        rotations (atom ``i`` moved by ``A r_i`` with ``A`` the generator of the rotation in
        the ``(a, b)`` plane). The energy is constant along all of them, so at a critical
        point they span (part of) the Hessian's kernel. For collinear clusters some rotations
        vanish; the rows are not orthonormalized (use ``numpy.linalg.qr`` on the transpose).
        """
        X, single = self.as_batch(x)
        if not single:
            raise ValueError(f"symmetry_directions takes one point ({self.dim},)")
        n, d = self.n_atoms, self.space_dim
        R = X[0].reshape(n, d)
        rows = []
        for a in range(d):
            t = np.zeros((n, d))
            t[:, a] = 1.0
            rows.append(t.ravel())
        c = R.mean(axis=0)
        for a in range(d):
            for b in range(a + 1, d):
                r = np.zeros((n, d))
                r[:, a] = -(R[:, b] - c[b])
                r[:, b] = R[:, a] - c[a]
                rows.append(r.ravel())
        return np.array(rows)

    def invariants(self, x) -> np.ndarray:
        """Sorted pair distances ``(n (n - 1) / 2,)`` (or ``(K, ...)``) of points ``x``.

        Invariant under translations, rotations, reflections and permutations of atoms: two
        configurations of the same structure have equal invariants; use them (with the
        energy) to deduplicate minima found from different starts.
        """
        X, single = self.as_batch(x)
        D, ir2 = self._pairs(X)
        iu = np.triu_indices(self.n_atoms, 1)
        with np.errstate(divide="ignore"):
            r = self.sigma / np.sqrt(ir2[:, iu[0], iu[1]])
        out = np.sort(r, axis=1)
        return out[0] if single else out


register("LennardJones", LennardJones)
