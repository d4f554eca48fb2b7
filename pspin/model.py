"""Pure and mixed spherical p-spin energies (Auffinger–Ben Arous–Černý normalization).

    H(s) = N^{-(p-1)/2} sum_{i1..ip} J_{i1..ip} s_i1 ... s_ip,  J iid, mean 0, variance 1,

on the sphere |s|^2 = N, so that E[H(s) H(s')] = N (s.s'/N)^p. The energy is extensive; theory
quotes H/N (``scale = N``). Off the sphere the energy is the homogeneous polynomial, so finite
differences work everywhere.

Storage: the couplings are symmetrized once, in place and block by block, and scaled by
N^{-(p-1)/2}, giving a symmetric tensor S with H(s) = S(s, ..., s). S is kept as a matrix of
shape (N, N^{p-1}); for K replicas the contraction of the outer powers x^{(p-2)} with S,
viewed as an (N^{p-2}, N^2) matrix, is one matrix-matrix product (one pass over the couplings
for all replicas), after which

    M_k = S(x_k^{p-2}, ., .)   (an N x N matrix per replica),
    H = x.M x,   grad = p M x,   hvp(v) = p (p-1) M v.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from landscapes import threads
from landscapes._validation import check_int
from landscapes.energy import Energy
from landscapes.io import load_npz, save_npz
from landscapes.manifolds import Sphere
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info, spawn
from landscapes.spec import register

__all__ = [
    "SphericalPSpin",
    "MixedPSpin",
    "PSpinBase",
    "COUPLING_ENSEMBLES",
    "available_memory",
    "check_dtype",
    "fill_couplings",
]

COUPLING_ENSEMBLES = ("gaussian", "rademacher", "uniform", "exponential")

# Scratch memory for the batched contraction (bytes); larger batches are chunked.
_CHUNK_BYTES = 256 * 2**20


def available_memory() -> int:
    """Bytes of memory available to this process (MemAvailable; a large guess if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 40


def check_dtype(dtype) -> np.dtype:
    """The model dtype ``dtype`` as an np.dtype (ValueError unless float64 or float32)."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32; got {dt}")
    return dt


def fill_couplings(out: np.ndarray, rng: np.random.Generator, ensemble: str) -> None:
    """Fill ``out`` with iid couplings of mean 0 and variance 1, slice by slice."""
    dt = out.dtype
    for i in range(out.shape[0]):
        sl = out[i]
        n = sl.size
        if ensemble == "gaussian":
            # always drawn in float64, so float32 models are the float64 ones rounded
            if dt == np.float64:
                rng.standard_normal(out=sl.reshape(-1))
            else:
                sl[...] = rng.standard_normal(size=n).reshape(sl.shape)
        elif ensemble == "rademacher":
            sl[...] = (2 * rng.integers(0, 2, size=n, dtype=np.int8) - 1).reshape(sl.shape)
        elif ensemble == "uniform":
            a = math.sqrt(3.0)
            sl[...] = rng.uniform(-a, a, size=n).reshape(sl.shape)
        elif ensemble == "exponential":
            sl[...] = (rng.standard_exponential(size=n) - 1.0).reshape(sl.shape)
        else:  # pragma: no cover - checked earlier
            raise ValueError(ensemble)


#: Largest p symmetrized by averaging over the p! index permutations (block by block); from
#: p = 7 on (p! = 5040 copies of every block), the sort-based method below is used instead.
_MAX_PERMUTATION_P = 6

# Flat entries handled at once by the sort-based symmetrization (scratch ~ 9 p bytes each).
_SORT_CHUNK = 1 << 18


def _symmetrize_inplace(T: np.ndarray, block: int | None = None) -> None:
    """Symmetrize a p-tensor over all index permutations, in place.

    For p <= 6, block by block: for each sorted tuple of index blocks (A1 <= ... <= Ap) the
    blocks at every permutation of the tuple form a closed orbit; their average is computed
    from at most p! blocks of size b^p and written back, so the scratch memory is
    O(p! b^p), never a second full tensor. For larger p, enumerating the p! permutations is
    unaffordable (p = 9, N = 2 took 27 s for 512 entries), and :func:`_symmetrize_sorted`
    averages over the orbits directly, in O(p N^p) time.
    """
    p = T.ndim
    if p == 1:
        return
    if p > _MAX_PERMUTATION_P:
        _symmetrize_sorted(T)
        return
    N = T.shape[0]
    if block is None:
        # blocks of at most ~8 MiB each
        block = max(1, min(N, int((8 * 2**20 / T.itemsize) ** (1.0 / p))))
    edges = list(range(0, N, block)) + [N]
    nb = len(edges) - 1
    slices = [slice(edges[i], edges[i + 1]) for i in range(nb)]
    perms = list(itertools.permutations(range(p)))
    for blocks in itertools.combinations_with_replacement(range(nb), p):
        acc = None
        for perm in perms:
            # block at permuted positions, transposed back to the canonical orientation
            idx = tuple(slices[blocks[perm[j]]] for j in range(p))
            inv = np.argsort(perm)
            piece = np.transpose(T[idx], inv)
            acc = piece.astype(np.float64) if acc is None else acc + piece
        acc /= len(perms)
        written = set()
        for perm in perms:
            key = tuple(blocks[perm[j]] for j in range(p))
            if key in written:
                continue
            written.add(key)
            idx = tuple(slices[k] for k in key)
            T[idx] = np.transpose(acc, perm)


def _multiset_ranks(flat: np.ndarray, N: int, p: int, binom: np.ndarray) -> np.ndarray:
    """Rank of the sorted index tuple of each flat position among the multisets of size p."""
    digits = np.empty((flat.size, p), dtype=np.int64)
    rest = flat.copy()
    for j in range(p - 1, -1, -1):
        rest, digits[:, j] = np.divmod(rest, N)
    digits.sort(axis=1)
    # a1 <= ... <= ap  <->  b_j = a_j + j strictly increasing in [0, N + p - 1): colex rank
    rank = np.zeros(flat.size, dtype=np.int64)
    for j in range(p):
        rank += binom[digits[:, j] + j, j + 1]
    return rank


def _symmetrize_sorted(T: np.ndarray) -> None:
    """Symmetrize ``T`` in place by averaging the entries of each index multiset.

    Every entry's index tuple is sorted and ranked among the C(N + p - 1, p) multisets; the
    sums and counts per multiset are accumulated chunk by chunk (scratch: two arrays of one
    number per multiset, about N^p / p!, plus a chunk), then each entry is replaced by its
    multiset's mean. Time O(p N^p), no permutation is ever listed.
    """
    p, N = T.ndim, T.shape[0]
    n_sets = math.comb(N + p - 1, p)
    binom = np.zeros((N + p, p + 1), dtype=np.int64)
    for n in range(N + p):
        for k in range(min(n, p) + 1):
            binom[n, k] = math.comb(n, k)
    flat_T = T.reshape(-1)
    sums = np.zeros(n_sets, dtype=np.float64)
    counts = np.zeros(n_sets, dtype=np.int64)
    for lo in range(0, flat_T.size, _SORT_CHUNK):
        idx = np.arange(lo, min(lo + _SORT_CHUNK, flat_T.size), dtype=np.int64)
        r = _multiset_ranks(idx, N, p, binom)
        sums += np.bincount(r, weights=flat_T[idx].astype(np.float64), minlength=n_sets)
        counts += np.bincount(r, minlength=n_sets)
    means = sums / counts
    for lo in range(0, flat_T.size, _SORT_CHUNK):
        idx = np.arange(lo, min(lo + _SORT_CHUNK, flat_T.size), dtype=np.int64)
        flat_T[idx] = means[_multiset_ranks(idx, N, p, binom)]


def _check_coupling_memory(N: int, ps, itemsize: int) -> int:
    """Bytes the couplings of degrees ``ps`` at size N need, symmetrization scratch included.

    Raises ValueError naming the cost when it exceeds 80% of the available memory.
    """
    total = 0
    for p in ps:
        total += itemsize * N**p
        if p > _MAX_PERMUTATION_P:  # sums and counts per multiset, and one chunk of indices
            total += 16 * math.comb(N + p - 1, p) + 9 * (p + 2) * _SORT_CHUNK
    avail = available_memory()
    if total > 0.8 * avail:
        what = f"p={ps[0]} model" if len(ps) == 1 else f"mixture of degrees {list(ps)}"
        raise ValueError(
            f"the couplings of a {what} with N={N} need {total:,} bytes "
            f"({total / 2**30:.2f} GiB) but only {avail:,} bytes are available"
        )
    return total


class PSpinBase(Energy):
    """What pure and mixed spherical p-spin models share: dtype, seeds, file checks."""

    intensive_name = "H/N"
    _dtype: np.dtype
    _seed_seq: np.random.SeedSequence | None

    @property
    def dtype(self):
        return self._dtype

    @property
    def seed_record(self) -> dict | None:
        """Root entropy and spawn key of the coupling seed (None for loaded couplings)."""
        return None if self._seed_seq is None else seed_info(self._seed_seq)

    @staticmethod
    def _check_ensemble(couplings: str) -> str:
        if couplings not in COUPLING_ENSEMBLES:
            raise ValueError(
                f"unknown coupling ensemble {couplings!r}; "
                f"choose one of {', '.join(COUPLING_ENSEMBLES)}"
            )
        return couplings

    def _check_loaded(self, path, meta: dict):
        if self.fingerprint != meta["fingerprint"]:
            raise ValueError(
                f"fingerprint mismatch in {path}: stored {meta['fingerprint'][:16]}..., "
                f"computed {self.fingerprint[:16]}... (the file was altered or corrupted)"
            )
        return self


class SphericalPSpin(PSpinBase):
    """The pure spherical p-spin glass on the sphere of radius sqrt(N).

    Parameters
    ----------
    N : int
        Number of spins (>= 2).
    p : int
        Order of the interaction (>= 2).
    seed : int, SeedSequence, Generator or None
        Seed of the couplings.
    couplings : {"gaussian", "rademacher", "uniform", "exponential"}
        Law of the iid couplings J, each centred with unit variance (universality
        experiments of Sagun et al.).
    dtype : float64 or float32
        Storage and compute precision.

    Notes
    -----
    ``energy`` returns the extensive H; ``scale = N`` turns it into the per-spin energy
    that theory quotes (``pspin.theory``). Memory: N^p numbers of ``dtype`` (checked before
    allocation: p = 3, N = 400 is 512 MB in float64).
    """

    def __init__(
        self,
        N: int,
        p: int,
        *,
        seed: SeedLike = None,
        couplings: str = "gaussian",
        dtype=np.float64,
        _tensor: np.ndarray | None = None,
    ):
        self.N = check_int(N, "N", minimum=2)
        self.p = check_int(p, "p", minimum=2)
        self.couplings = self._check_ensemble(couplings)
        self._dtype = check_dtype(dtype)
        self.manifold = Sphere(self.N)
        self.scale = float(self.N)
        shape = (self.N,) * self.p
        if _tensor is None:
            _check_coupling_memory(self.N, [self.p], self._dtype.itemsize)
            self._seed_seq = as_seed_sequence(seed)
            rng = (
                as_generator(seed)
                if isinstance(seed, np.random.Generator)
                else as_generator(self._seed_seq)
            )
            T = np.empty(shape, dtype=self._dtype)
            fill_couplings(T, rng, couplings)
            _symmetrize_inplace(T)
            T *= self._dtype.type(self.N ** (-(self.p - 1) / 2.0))
        else:
            self._seed_seq = None
            T = _tensor
        self._S = T.reshape(self.N, -1)
        if self.p == 2:
            self._M2 = self._S

    # ----------------------------------------------------------------- identity
    @property
    def xi(self) -> dict[int, float]:
        """Mixture weights of the covariance N xi(q): {p: 1.0} for the pure model."""
        return {self.p: 1.0}

    def params(self) -> dict:
        return {
            "model": "pspin",
            "N": self.N,
            "p": self.p,
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the seed is recorded apart)."""
        return {"N": self.N, "p": self.p, "couplings": self.couplings, "dtype": self._dtype.name}

    def _fingerprint_payload(self):
        return [np.ascontiguousarray(self._S).view(np.uint8).reshape(-1).data]

    @property
    def tensor(self) -> np.ndarray:
        """The scaled symmetric coupling tensor S (read-only view), H(s) = S(s, ..., s)."""
        v = self._S.reshape((self.N,) * self.p).view()
        v.flags.writeable = False
        return v

    # ----------------------------------------------------------------- kernels
    def _contract(self, X: np.ndarray) -> np.ndarray:
        """M_k = S(x_k^{p-2}, ., .) for each row of X: (K, N, N).

        The (p-2)-fold outer powers Y_k = x_k^{(p-2)} (K, N^{p-2}) meet the couplings, viewed as
        an (N^{p-2}, N^2) matrix, in ONE matrix product: a single pass over S serves all K
        replicas (BLAS-3) and the only intermediate is (K, N^{p-2}).
        """
        K, N, p = X.shape[0], self.N, self.p
        if p == 2:
            return np.broadcast_to(self._S, (K, N, N))
        Y = X
        for _ in range(p - 3):
            Y = (Y[:, :, None] * X[:, None, :]).reshape(K, -1)
        return (Y @ self._S.reshape(-1, N * N)).reshape(K, N, N)

    def _flops(self, K: int) -> float:
        """Flops of K replicas' contraction with the couplings (2 K N^p; 2 K N^2 for p = 2)."""
        return 2.0 * K * float(self.N) ** max(self.p, 2)

    def _chunks(self, K: int):
        per = (self.N ** max(self.p - 2, 1) + 2 * self.N**2) * self._dtype.itemsize
        step = max(1, int(_CHUNK_BYTES // max(per, 1)))
        for a in range(0, K, step):
            yield slice(a, min(K, a + step))

    def _energy_and_gradient(self, X):
        X = np.ascontiguousarray(X, dtype=self._dtype)
        K = X.shape[0]
        e = np.empty(K, dtype=self._dtype)
        g = np.empty_like(X)
        with threads.kernel(self._flops(K)):
            for sl in self._chunks(K):
                Xs = X[sl]
                if self.p == 2:
                    Mx = Xs @ self._S
                else:
                    M = self._contract(Xs)
                    Mx = np.einsum("kij,kj->ki", M, Xs)
                g[sl] = self.p * Mx
                e[sl] = np.einsum("ki,ki->k", Xs, Mx)
        return e, g

    def _hvp(self, X, V):
        X = np.ascontiguousarray(X, dtype=self._dtype)
        V = np.ascontiguousarray(V, dtype=self._dtype)
        out = np.empty_like(V)
        c = self.p * (self.p - 1)
        with threads.kernel(self._flops(X.shape[0])):
            for sl in self._chunks(X.shape[0]):
                if self.p == 2:
                    out[sl] = c * (V[sl] @ self._S)
                else:
                    M = self._contract(X[sl])
                    out[sl] = c * np.einsum("kij,kj->ki", M, V[sl])
        return out

    def _hvp_block(self, x, V):
        x = np.ascontiguousarray(x, dtype=self._dtype)
        V = np.asarray(V, dtype=self._dtype)
        with threads.kernel(self._flops(1) + 2.0 * V.shape[0] * self.N**2):
            M = self._contract(x[None])[0]
            return (self.p * (self.p - 1)) * (V @ M)

    def hessian(self, x) -> np.ndarray:
        """Dense Euclidean Hessian p(p-1) S(x^{p-2}, ., .) from one contraction."""
        X, single = self._points(x)
        H = (self.p * (self.p - 1)) * np.array(self._contract(X))
        return H[0] if single else H

    # ----------------------------------------------------------------- io
    @classmethod
    def from_couplings(cls, J, *, couplings: str = "gaussian", dtype=np.float64) -> SphericalPSpin:
        """Build a model from raw couplings J of shape (N,)*p, in the ABC normalization.

        ``J`` is the unscaled, not necessarily symmetric tensor of the Hamiltonian
        H = N^{-(p-1)/2} sum J_{i1..ip} s_i1...s_ip (e.g. from another code). It is copied,
        never modified.
        """
        J = np.asarray(J)
        if J.ndim < 2 or len(set(J.shape)) != 1:
            raise ValueError(
                f"couplings must be a cubical tensor of shape (N,)*p with p >= 2; got {J.shape}"
            )
        if not np.all(np.isfinite(J)):
            raise ValueError("couplings contain NaN or infinite values")
        N, p = J.shape[0], J.ndim
        dt = check_dtype(dtype)
        T = np.array(J, dtype=dt, copy=True)
        _symmetrize_inplace(T)
        T *= dt.type(N ** (-(p - 1) / 2.0))
        return cls(N, p, couplings=couplings, dtype=dt, _tensor=T)

    def save(self, path: str | Path) -> Path:
        """Save the model to ``.npz`` (symmetrized couplings, parameters, fingerprint)."""
        meta = {
            "class": "SphericalPSpin",
            **self.params(),
            "fingerprint": self.fingerprint,
            "seed": self.seed_record,
        }
        return save_npz(path, meta, S=self._S.reshape((self.N,) * self.p))

    @classmethod
    def load(cls, path: str | Path) -> SphericalPSpin:
        """Load a model saved by :meth:`save`; the fingerprint is checked."""
        from landscapes.errors import CorruptedFileError

        meta, arrays = load_npz(path)  # CorruptedFileError naming the file when unreadable
        if meta.get("class") != "SphericalPSpin":
            raise ValueError(f"{path} does not hold a SphericalPSpin (found {meta.get('class')!r})")
        missing = [k for k in ("N", "p", "couplings", "dtype", "fingerprint") if k not in meta]
        if missing or "S" not in arrays:
            what = ", ".join(
                [f"meta key {k!r}" for k in missing] + ["array 'S'"] * ("S" not in arrays)
            )
            raise CorruptedFileError(path, f"missing {what}")
        S = arrays["S"]
        model = cls(
            meta["N"],
            meta["p"],
            couplings=meta["couplings"],
            dtype=meta["dtype"],
            _tensor=np.ascontiguousarray(S),
        )
        return model._check_loaded(path, meta)


class MixedPSpin(PSpinBase):
    """Mixed spherical p-spin: covariance N xi(q) with xi(q) = sum_p a_p q^p.

    Parameters
    ----------
    N : int
        Number of spins.
    xi : dict
        Mixture weights ``{p: a_p}`` with a_p >= 0, e.g. ``{3: 0.5, 4: 0.5}`` for
        (q^3 + q^4)/2. The order-p couplings carry a factor sqrt(a_p).
    seed, couplings, dtype
        As for :class:`SphericalPSpin`; each component gets its own spawned stream.
    """

    intensive_name = "H/N"

    def __init__(
        self,
        N: int,
        xi: dict,
        *,
        seed: SeedLike = None,
        couplings: str = "gaussian",
        dtype=np.float64,
        _components=None,
    ):
        self.N = check_int(N, "N", minimum=2)
        if not isinstance(xi, dict) or not xi:
            raise ValueError(f"xi must be a non-empty dict {{p: a_p}}; got {xi!r}")
        clean = {}
        for p, a in sorted(xi.items()):
            p = check_int(p, "p in xi", minimum=2)
            a = float(a)
            if not np.isfinite(a) or a < 0:
                raise ValueError(f"mixture weight a_{p} must be finite and >= 0; got {a}")
            if a > 0:
                clean[p] = a
        if not clean:
            raise ValueError("xi has no positive weight")
        self._xi = clean
        self.couplings = self._check_ensemble(couplings)
        self._dtype = check_dtype(dtype)
        self.manifold = Sphere(self.N)
        self.scale = float(self.N)
        if _components is None:
            self._seed_seq = as_seed_sequence(seed)
            _check_coupling_memory(self.N, list(clean), self._dtype.itemsize)
            streams = spawn(self._seed_seq, len(clean))
            self.components = [
                SphericalPSpin(self.N, p, seed=s, couplings=couplings, dtype=self._dtype)
                for p, s in zip(clean, streams, strict=True)
            ]
        else:
            self._seed_seq = None
            self.components = list(_components)
        self._weights = [math.sqrt(clean[c.p]) for c in self.components]

    @property
    def xi(self) -> dict[int, float]:
        """Mixture weights {p: a_p}."""
        return dict(self._xi)

    def params(self) -> dict:
        return {
            "model": "mixed_pspin",
            "N": self.N,
            "xi": {str(k): v for k, v in self._xi.items()},
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the seed is recorded apart)."""
        return {
            "N": self.N,
            "xi": {str(k): v for k, v in self._xi.items()},
            "couplings": self.couplings,
            "dtype": self._dtype.name,
        }

    @classmethod
    def from_spec(cls, params: dict, seed: np.random.SeedSequence | None) -> MixedPSpin:
        """The mixture of :meth:`spec_params` (string keys of ``xi`` allowed) and ``seed``."""
        kw = dict(params)
        kw["xi"] = {int(k): float(v) for k, v in kw["xi"].items()}
        return cls(**kw, seed=seed)

    def _fingerprint_payload(self):
        return [c.fingerprint.encode() for c in self.components]

    def _energy_and_gradient(self, X):
        e = 0.0
        g = 0.0
        for w, c in zip(self._weights, self.components, strict=True):
            ec, gc = c.batch_energy_and_gradient(X)
            e = e + w * ec
            g = g + w * gc
        return e, g

    def _hvp(self, X, V):
        return sum(
            w * c.batch_hvp(X, V) for w, c in zip(self._weights, self.components, strict=True)
        )

    def _hvp_block(self, x, V):
        return sum(
            w * c.block_hvp(x, V) for w, c in zip(self._weights, self.components, strict=True)
        )

    def hessian(self, x) -> np.ndarray:
        """Dense Euclidean Hessian, the weighted sum of the components'."""
        return sum(w * c.hessian(x) for w, c in zip(self._weights, self.components, strict=True))

    def save(self, path: str | Path) -> Path:
        """Save the mixture to ``.npz`` (each component's symmetrized couplings)."""
        meta = {
            "class": "MixedPSpin",
            **self.params(),
            "fingerprint": self.fingerprint,
            "seed": self.seed_record,
        }
        arrays = {f"S{c.p}": c.tensor for c in self.components}
        return save_npz(path, meta, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> MixedPSpin:
        """Load a mixture saved by :meth:`save`; the fingerprint is checked."""
        meta, arrays = load_npz(path)
        if meta.get("class") != "MixedPSpin":
            raise ValueError(f"{path} does not hold a MixedPSpin (found {meta.get('class')!r})")
        xi = {int(k): float(v) for k, v in meta["xi"].items()}
        comps = [
            SphericalPSpin(
                meta["N"],
                p,
                couplings=meta["couplings"],
                dtype=meta["dtype"],
                _tensor=np.ascontiguousarray(arrays[f"S{p}"]),
            )
            for p in xi
        ]
        model = cls(
            meta["N"], xi, couplings=meta["couplings"], dtype=meta["dtype"], _components=comps
        )
        return model._check_loaded(path, meta)


register("SphericalPSpin", SphericalPSpin)
register("MixedPSpin", MixedPSpin)
