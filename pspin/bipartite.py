"""The uncoupled (tripartite) 3-spin: Sagun et al.'s variant on a product of three spheres.

    H(a, b, c) = N^{-1} sum_{i,j,k} X_ijk a_i b_j c_k,    X_ijk iid, mean 0, variance 1,

with ``a``, ``b``, ``c`` each on the sphere of radius sqrt(N), so that
E[H(w) H(w')] = N q_a q_b q_c with ``q_a = a.a'/N`` (the pure 3-spin's covariance N q^3 when
the three overlaps are equal). The point is ``w = (a, b, c)`` in R^{3N} on
``ProductManifold([Sphere(N)] * 3)``; the energy is extensive (``scale = N``, reported as
H/N). X is not symmetrized (the three slots belong to different spheres). This is the model
of ``uncoupled.lua`` in ``leventsagun/3-spin-glass-landscape``.

Kernels: one BLAS-3 pass over X per slot for all replicas. With ``X(a, ., .)`` the (N, N)
matrix ``sum_i X_ijk a_i`` and ``X(., ., c)`` the matrix ``sum_k X_ijk c_k``:

    grad_a = X(., ., c) b,   grad_b = X(a, ., .) c,   grad_c = X(a, ., .)^T b,   H = a.grad_a,

and the Hessian-vector product along ``v = (u_a, u_b, u_c)`` (the diagonal blocks vanish):

    (Hv)_a = X(., ., c) u_b + X(., ., u_c) b
    (Hv)_b = X(a, ., .) u_c + X(u_a, ., .) c
    (Hv)_c = X(a, ., .)^T u_b + X(u_a, ., .)^T b.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landscapes._validation import check_int
from landscapes.io import load_npz, save_npz
from landscapes.manifolds import ProductManifold, Sphere
from landscapes.random import SeedLike, as_generator, as_seed_sequence
from landscapes.spec import register
from pspin.model import PSpinBase, available_memory, check_dtype, fill_couplings

__all__ = ["Bipartite3Spin"]

_CHUNK_BYTES = 256 * 2**20


class Bipartite3Spin(PSpinBase):
    """The uncoupled 3-spin H(a, b, c) on the product of three spheres of radius sqrt(N).

    Parameters
    ----------
    N : int
        Spins per sphere (>= 2); the ambient dimension is 3N.
    seed : int, SeedSequence, Generator or None
        Seed of the couplings.
    couplings : {"gaussian", "rademacher", "uniform", "exponential"}
        Law of the iid couplings (centred, unit variance), drawn as for
        :class:`pspin.SphericalPSpin` (``X`` equals the raw tensor ``SphericalPSpin(N, 3,
        seed=seed)`` draws before symmetrizing).
    dtype : float64 or float32

    Notes
    -----
    Memory: N^3 numbers of ``dtype`` (checked before allocation).
    """

    intensive_name = "H/N"
    p = 3

    def __init__(
        self,
        N: int,
        *,
        seed: SeedLike = None,
        couplings: str = "gaussian",
        dtype=np.float64,
        _tensor: np.ndarray | None = None,
    ):
        self.N = check_int(N, "N", minimum=2)
        self.couplings = self._check_ensemble(couplings)
        self._dtype = check_dtype(dtype)
        self.manifold = ProductManifold([Sphere(self.N)] * 3)
        self.scale = float(self.N)
        if _tensor is None:
            nbytes = self._dtype.itemsize * self.N**3
            avail = available_memory()
            if nbytes > 0.8 * avail:
                raise ValueError(
                    f"the couplings of a bipartite 3-spin with N={self.N} need {nbytes:,} bytes "
                    f"({nbytes / 2**30:.2f} GiB) but only {avail:,} bytes are available"
                )
            self._seed_seq = as_seed_sequence(seed)
            rng = (
                as_generator(seed)
                if isinstance(seed, np.random.Generator)
                else as_generator(self._seed_seq)
            )
            X = np.empty((self.N,) * 3, dtype=self._dtype)
            fill_couplings(X, rng, couplings)
            X *= self._dtype.type(1.0 / self.N)
        else:
            self._seed_seq = None
            X = _tensor
        self._X = np.ascontiguousarray(X)

    # ----------------------------------------------------------------- identity
    def params(self) -> dict:
        return {
            "model": "bipartite_3spin",
            "N": self.N,
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the seed is recorded apart)."""
        return {"N": self.N, "couplings": self.couplings, "dtype": self._dtype.name}

    def _fingerprint_payload(self):
        return [self._X.view(np.uint8).reshape(-1).data]

    @property
    def tensor(self) -> np.ndarray:
        """The scaled couplings X / N (read-only view): H = tensor(a, b, c)."""
        v = self._X.view()
        v.flags.writeable = False
        return v

    def split(self, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three factors ``(a, b, c)`` of a point ``(3N,)`` or batch ``(K, 3N)`` (views)."""
        x = np.asarray(x)
        N = self.N
        return x[..., :N], x[..., N : 2 * N], x[..., 2 * N :]

    # ----------------------------------------------------------------- kernels
    def _first(self, A: np.ndarray) -> np.ndarray:
        """X(a_k, ., .) for each row of A (K, N): (K, N, N), one pass over X."""
        N = self.N
        return (A @ self._X.reshape(N, N * N)).reshape(-1, N, N)

    def _last(self, C: np.ndarray) -> np.ndarray:
        """X(., ., c_k) for each row of C (K, N): (K, N, N), one pass over X."""
        N = self.N
        return np.ascontiguousarray((self._X.reshape(N * N, N) @ C.T).T).reshape(-1, N, N)

    def _chunks(self, K: int, per_row: int):
        step = max(1, int(_CHUNK_BYTES // max(per_row * self.N**2 * self._dtype.itemsize, 1)))
        for s in range(0, K, step):
            yield slice(s, min(K, s + step))

    def _energy(self, X):
        X = np.ascontiguousarray(X, dtype=self._dtype)
        e = np.empty(X.shape[0], dtype=self._dtype)
        for sl in self._chunks(X.shape[0], 1):
            a, b, c = self.split(X[sl])
            Pa = self._first(np.ascontiguousarray(a))
            e[sl] = np.einsum("kj,kjl,kl->k", b, Pa, c)
        return e

    def _energy_and_gradient(self, X):
        X = np.ascontiguousarray(X, dtype=self._dtype)
        K = X.shape[0]
        e = np.empty(K, dtype=self._dtype)
        g = np.empty_like(X)
        N = self.N
        for sl in self._chunks(K, 2):
            a, b, c = self.split(X[sl])
            Pa = self._first(np.ascontiguousarray(a))  # X(a, ., .)
            Qc = self._last(np.ascontiguousarray(c))  # X(., ., c)
            ga = np.einsum("kij,kj->ki", Qc, b)
            g[sl, :N] = ga
            g[sl, N : 2 * N] = np.einsum("kjl,kl->kj", Pa, c)
            g[sl, 2 * N :] = np.einsum("kjl,kj->kl", Pa, b)
            e[sl] = np.einsum("ki,ki->k", a, ga)
        return e, g

    def _hvp(self, X, V):
        X = np.ascontiguousarray(X, dtype=self._dtype)
        V = np.ascontiguousarray(V, dtype=self._dtype)
        K = X.shape[0]
        out = np.empty_like(V)
        N = self.N
        for sl in self._chunks(K, 4):
            a, b, c = self.split(X[sl])
            ua, ub, uc = self.split(V[sl])
            n = a.shape[0]
            P = self._first(np.concatenate([a, ua]))  # X(a, ., .), X(u_a, ., .)
            Q = self._last(np.concatenate([c, uc]))  # X(., ., c), X(., ., u_c)
            Pa, Pu, Qc, Qu = P[:n], P[n:], Q[:n], Q[n:]
            out[sl, :N] = np.einsum("kij,kj->ki", Qc, ub) + np.einsum("kij,kj->ki", Qu, b)
            out[sl, N : 2 * N] = np.einsum("kjl,kl->kj", Pa, uc) + np.einsum("kjl,kl->kj", Pu, c)
            out[sl, 2 * N :] = np.einsum("kjl,kj->kl", Pa, ub) + np.einsum("kjl,kj->kl", Pu, b)
        return out

    def _hvp_block(self, x, V):
        """H(x) V for one point and a block V (m, 3N), from the dense Hessian's blocks."""
        x = np.ascontiguousarray(x, dtype=self._dtype)
        a, b, c = self.split(x[None])
        Pa = self._first(np.ascontiguousarray(a))[0]  # X(a, ., .): (b-slot, c-slot)
        Qc = self._last(np.ascontiguousarray(c))[0]  # X(., ., c): (a-slot, b-slot)
        Xb = np.einsum("ijl,j->il", self._X, b[0])  # X(., b, .): (a-slot, c-slot)
        V = np.asarray(V, dtype=self._dtype)
        N = self.N
        ua, ub, uc = V[:, :N], V[:, N : 2 * N], V[:, 2 * N :]
        return np.concatenate(
            [ub @ Qc.T + uc @ Xb.T, ua @ Qc + uc @ Pa.T, ua @ Xb + ub @ Pa], axis=1
        )

    # ----------------------------------------------------------------- io
    @classmethod
    def from_couplings(cls, J, *, couplings: str = "gaussian", dtype=np.float64) -> Bipartite3Spin:
        """The model with raw couplings J (N, N, N): H = N^{-1} J(a, b, c). J is copied."""
        J = np.asarray(J)
        if J.ndim != 3 or len(set(J.shape)) != 1:
            raise ValueError(f"couplings must have shape (N, N, N); got {J.shape}")
        if not np.all(np.isfinite(J)):
            raise ValueError("couplings contain NaN or infinite values")
        dt = check_dtype(dtype)
        T = np.array(J, dtype=dt, copy=True)
        T *= dt.type(1.0 / J.shape[0])
        return cls(J.shape[0], couplings=couplings, dtype=dt, _tensor=T)

    def save(self, path: str | Path) -> Path:
        """Save the model to ``.npz`` (scaled couplings, parameters, fingerprint)."""
        meta = {
            "class": "Bipartite3Spin",
            **self.params(),
            "fingerprint": self.fingerprint,
            "seed": self.seed_record,
        }
        return save_npz(path, meta, X=self._X)

    @classmethod
    def load(cls, path: str | Path) -> Bipartite3Spin:
        """Load a model saved by :meth:`save`; the fingerprint is checked."""
        meta, arrays = load_npz(path)
        if meta.get("class") != "Bipartite3Spin":
            raise ValueError(f"{path} does not hold a Bipartite3Spin (found {meta.get('class')!r})")
        model = cls(
            meta["N"],
            couplings=meta["couplings"],
            dtype=meta["dtype"],
            _tensor=np.ascontiguousarray(arrays["X"]),
        )
        return model._check_loaded(path, meta)


register("Bipartite3Spin", Bipartite3Spin)
