"""The split spherical p-spin: the p-spin as a finite sum, for SGD (Sagun et al. 2014).

Sagun, Guney, Ben Arous & LeCun made the p-spin stochastic by writing its couplings as a sum
of ``P`` independent tensors,

    J = sum_{k<=P} X_k / sqrt(P),     X_k iid with the law of J (mean 0, variance 1),

so that J has the law of an ordinary coupling tensor, and stepping along one X_k at a time.
With ``H_X`` the ordinary ABC p-spin (:class:`pspin.SphericalPSpin`) with couplings X, the
Hamiltonian is linear in the couplings:

    H_J = sum_k H_{X_k} / sqrt(P) = (1/P) sum_k sqrt(P) H_{X_k}.

:class:`SplitPSpin` is this as a :class:`~landscapes.energy.FiniteSumEnergy` with
``n_samples = P``: the "sample" k is ``sqrt(P) H_{X_k}``, the energy over a minibatch ``idx``
is the mean of ``sqrt(P) H_{X_k}`` over ``k in idx``, so

* ``idx=None`` (full energy) is the ordinary p-spin with couplings J (it is evaluated by a
  stored :class:`~pspin.SphericalPSpin` built by ``SphericalPSpin.from_couplings(J)``, so it
  equals that model to rounding, not merely in law);
* a minibatch gradient is an unbiased estimate of the full gradient (uniform k).

Sagun et al.'s code steps along the gradient of ``H_{X_k / sqrt(P)} = H_{X_k} / sqrt(P)``,
which is ``1/P`` times this minibatch gradient: their learning rate ``a`` is the step
``a / P`` here, and an epoch of P such steps is one full-gradient step of size ``a`` to first
order (see :mod:`analysis.studies.pspin_sgd`).

Drawing rule (seeded construction): the raw tensor X_k is drawn exactly as
``SphericalPSpin(N, p, seed=child(seed, k))`` draws its couplings (same ensembles, same
float32 rule), so ``components[k]`` equals that model to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from landscapes._validation import check_int
from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Sphere
from landscapes.random import SeedLike, as_seed_sequence, child
from landscapes.spec import register
from pspin.model import (
    PSpinBase,
    SphericalPSpin,
    available_memory,
    check_dtype,
    fill_couplings,
)

__all__ = ["SplitPSpin"]


class SplitPSpin(PSpinBase, FiniteSumEnergy):
    """The spherical p-spin with couplings split into P independent parts, a finite sum.

    Parameters
    ----------
    N : int
        Number of spins (>= 2).
    p : int
        Order of the interaction (>= 2).
    P : int
        Number of parts (>= 1): ``n_samples``.
    seed : int, SeedSequence, Generator or None
        Seed of the couplings; part k is drawn from ``landscapes.random.child(seed, k)``.
    couplings : {"gaussian", "rademacher", "uniform", "exponential"}
        Law of the iid entries of every X_k (centred, unit variance).
    dtype : float64 or float32
        Storage and compute precision.

    Notes
    -----
    ``energy(x, idx)`` is the mean over ``k in idx`` of ``sqrt(P) H_{X_k}(x)``; with
    ``idx=None`` it is ``H_J(x)``, the ordinary p-spin with ``J = sum_k X_k / sqrt(P)``
    (:attr:`full`). A 2-D ``idx`` (K, b) gives replica k its own parts; every part that
    appears is contracted once with all the replicas that use it (one pass over each tensor
    used, BLAS-3 over those replicas). Memory: (P + 1) N^p numbers of ``dtype``.
    """

    intensive_name = "H/N"
    batched_idx = True

    def __init__(
        self,
        N: int,
        p: int,
        P: int,
        *,
        seed: SeedLike = None,
        couplings: str = "gaussian",
        dtype=np.float64,
        _parts=None,
        _full: SphericalPSpin | None = None,
    ):
        self.N = check_int(N, "N", minimum=2)
        self.p = check_int(p, "p", minimum=2)
        self.P = check_int(P, "P", minimum=1)
        self.couplings = self._check_ensemble(couplings)
        self._dtype = check_dtype(dtype)
        self.manifold = Sphere(self.N)
        self.scale = float(self.N)
        self.n_samples = self.P
        self._root = math.sqrt(self.P)
        if _parts is None:
            self._check_memory()
            self._seed_seq = as_seed_sequence(seed)
            shape = (self.N,) * self.p
            J = np.zeros(shape)
            X = np.empty(shape, dtype=self._dtype)
            parts = []
            for k in range(self.P):
                rng = np.random.Generator(np.random.PCG64(child(self._seed_seq, k)))
                fill_couplings(X, rng, self.couplings)
                J += X
                parts.append(
                    SphericalPSpin.from_couplings(X, couplings=self.couplings, dtype=self._dtype)
                )
            J /= self._root
            del X
            _full = SphericalPSpin.from_couplings(J, couplings=self.couplings, dtype=self._dtype)
        else:
            self._seed_seq = None
        self._parts = tuple(_parts if _parts is not None else parts)
        self._full = _full

    def _check_memory(self) -> None:
        nbytes = (self.P + 3) * self._dtype.itemsize * self.N**self.p
        avail = available_memory()
        if nbytes > 0.8 * avail:
            raise ValueError(
                f"the couplings of a split p={self.p} model with N={self.N} and P={self.P} need "
                f"{nbytes:,} bytes ({nbytes / 2**30:.2f} GiB) but only {avail:,} bytes are "
                "available; lower N or P"
            )

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_couplings(cls, X, *, couplings: str = "gaussian", dtype=np.float64) -> SplitPSpin:
        """Build the split model from raw parts ``X`` of shape ``(P, N, ..., N)`` (p >= 2 axes).

        ``X[k]`` is the unscaled, not necessarily symmetric tensor X_k; the full energy is the
        p-spin with couplings ``J = X.sum(0) / sqrt(P)`` (ABC normalization, as
        :meth:`SphericalPSpin.from_couplings`). ``X`` is never modified.
        """
        X = np.asarray(X)
        if X.ndim < 3 or len(set(X.shape[1:])) != 1 or X.shape[0] < 1:
            raise ValueError(
                "X must hold P >= 1 cubical tensors, shape (P, N, ..., N) with p >= 2 axes of "
                f"length N; got shape {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        P, N, p = X.shape[0], X.shape[1], X.ndim - 1
        dt = check_dtype(dtype)
        parts = [
            SphericalPSpin.from_couplings(X[k], couplings=couplings, dtype=dt) for k in range(P)
        ]
        J = np.asarray(X, dtype=np.float64).sum(axis=0) / math.sqrt(P)
        full = SphericalPSpin.from_couplings(J, couplings=couplings, dtype=dt)
        return cls(N, p, P, couplings=couplings, dtype=dt, _parts=parts, _full=full)

    # ----------------------------------------------------------------- identity
    @property
    def full(self) -> SphericalPSpin:
        """The ordinary p-spin with couplings J = sum_k X_k / sqrt(P) (the idx=None energy)."""
        return self._full

    @property
    def parts(self) -> tuple[SphericalPSpin, ...]:
        """The P ordinary p-spin models H_{X_k} (the sample k is sqrt(P) H_{X_k})."""
        return self._parts

    @property
    def xi(self) -> dict[int, float]:
        """Mixture weights of the covariance N xi(q) of the full energy: {p: 1.0}."""
        return {self.p: 1.0}

    def params(self) -> dict:
        return {
            "model": "split_pspin",
            "N": self.N,
            "p": self.p,
            "P": self.P,
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the seed is recorded apart)."""
        return {
            "N": self.N,
            "p": self.p,
            "P": self.P,
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    def _fingerprint_payload(self):
        return [m.fingerprint.encode() for m in self._parts]

    # ----------------------------------------------------------------- kernels
    def _weights(self, idx: np.ndarray, K: int) -> np.ndarray:
        """Weights (K, P) of the parts: row k is the histogram of idx's row k over its length."""
        if idx.ndim == 1:
            w = np.bincount(idx, minlength=self.P) / idx.size
            return np.broadcast_to(w, (K, self.P))
        W = np.zeros((K, self.P))
        np.add.at(W, (np.repeat(np.arange(K), idx.shape[1]), idx.reshape(-1)), 1.0 / idx.shape[1])
        return W

    def _by_part(self, idx, K: int):
        """``(part, rows, weights)`` for every part used by ``idx``, weights including sqrt(P)."""
        W = self._weights(idx, K)
        for c in np.nonzero(W.any(axis=0))[0]:
            rows = np.nonzero(W[:, c])[0]
            yield self._parts[c], rows, self._root * W[rows, c]

    def _energy_and_gradient(self, X, idx=None):
        if idx is None:
            return self._full.batch_energy_and_gradient(X)
        K = X.shape[0]
        e = np.zeros(K, dtype=self._dtype)
        g = np.zeros_like(X, dtype=self._dtype)
        for part, rows, w in self._by_part(idx, K):
            Xr = X if rows.size == K else np.ascontiguousarray(X[rows])
            ec, gc = part.batch_energy_and_gradient(Xr)
            e[rows] += w * ec
            g[rows] += w[:, None] * gc
        return e, g

    def _energy(self, X, idx=None):
        if idx is None:
            return self._full.batch_energy(X)
        K = X.shape[0]
        e = np.zeros(K, dtype=self._dtype)
        for part, rows, w in self._by_part(idx, K):
            Xr = X if rows.size == K else np.ascontiguousarray(X[rows])
            e[rows] += w * part.batch_energy(Xr)
        return e

    def _hvp(self, X, V, idx=None):
        if idx is None:
            return self._full.batch_hvp(X, V)
        K = X.shape[0]
        out = np.zeros_like(V, dtype=self._dtype)
        for part, rows, w in self._by_part(idx, K):
            if rows.size == K:
                out += w[:, None] * part.batch_hvp(X, V)
            else:
                Xr, Vr = np.ascontiguousarray(X[rows]), np.ascontiguousarray(V[rows])
                out[rows] += w[:, None] * part.batch_hvp(Xr, Vr)
        return out

    def _hvp_block(self, x, V, idx=None):
        if idx is None:
            return self._full.block_hvp(x, V)
        w = self._root * np.bincount(idx, minlength=self.P) / idx.size
        out = np.zeros_like(V, dtype=self._dtype)
        for c in np.nonzero(w)[0]:
            out += w[c] * self._parts[c].block_hvp(x, V)
        return out

    def hessian(self, x) -> np.ndarray:
        """Dense Euclidean Hessian of the full energy (that of :attr:`full`)."""
        X, single = self._points(x)
        return self._full.hessian(X[0] if single else X)


register("SplitPSpin", SplitPSpin)
