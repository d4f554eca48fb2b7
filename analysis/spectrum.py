"""Hessian spectra of any Energy: dense, Lanczos extremes, stochastic Lanczos quadrature, traces.

Everything here acts on the operator the user asks about at one point ``x``:

* ``riemannian=True`` (default): the Riemannian Hessian on the tangent space. On the sphere of
  radius r this is ``P (grad^2 f) P - (x . grad f / r^2) I`` restricted to the tangent space
  (dimension ``dim - 1``), applied in orthonormal tangent coordinates (the Householder basis
  of :meth:`landscapes.manifolds.Sphere.tangent_basis`, applied implicitly in O(dim)), so there
  is no spurious eigenvalue from the normal direction. In Euclidean space it is the Hessian.
* ``riemannian=False``: the Euclidean Hessian in the ambient space (dimension ``dim``).

Hessian-vector products come from the energy's R-operator (:meth:`Energy.hvp`, one block of
vectors at one point per call), never from finite differences; every result reports how many
were used (``n_hvp``). Eigenvectors are always returned as ambient (tangent) vectors, one per
row, never as basis coordinates. Theory enters only as data or callables (e.g.
:func:`semicircle_pdf`), never as a model-specific formula.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.manifolds import Euclidean, Sphere
from landscapes.random import SeedLike, as_generator

__all__ = [
    "WHICH",
    "ON_MANIFOLD_TOL",
    "DENSE_MAX_DIM",
    "SpectrumWarning",
    "EigenResult",
    "DensityResult",
    "TraceResult",
    "OutlierResult",
    "GaussNewtonResult",
    "TangentOperator",
    "tangent_operator",
    "hessian_eigenvalues",
    "spectral_density",
    "hessian_trace",
    "outliers",
    "gauss_newton_split",
    "default_bandwidth",
    "gaussian_smooth",
    "semicircle_pdf",
    "semicircle_cdf",
    "ks_distance",
    "wasserstein_1",
]

WHICH = ("LA", "SA", "LM", "BE")
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
class TangentOperator:
    """The (Riemannian) Hessian at one point as a symmetric operator on coordinates.

    Built by :func:`tangent_operator`. ``matmat(C)`` applies the operator to a block of
    coordinate vectors ``C`` of shape ``(m, d)`` with ONE block Hessian-vector product
    (``energy.hvp(x, V)`` with ``V`` of shape ``(m, dim)``); ``to_ambient`` / ``to_coords``
    convert between coordinates and ambient tangent vectors. ``n_hvp`` counts the
    Hessian-vector products used so far (one per vector).
    """

    def __init__(self, energy: Energy, x: np.ndarray, riemannian: bool = True):
        self.energy = energy
        self.x = x
        self.riemannian = bool(riemannian)
        self.n_hvp = 0
        man = energy.manifold
        self._sphere = self.riemannian and isinstance(man, Sphere)
        self._generic = self.riemannian and not isinstance(man, Sphere | Euclidean)
        self.shift = 0.0
        if self._sphere:
            g = energy.gradient(x)
            self.shift = float(man.curvature_shift(x, g))
            # Householder vector of Sphere.tangent_basis (same convention, applied implicitly)
            u = x / np.linalg.norm(x)
            w = u.copy()
            w[-1] += 1.0 if u[-1] >= 0 else -1.0
            self._w = w / np.linalg.norm(w)
            self.dim = energy.dim - 1
        elif self._generic:
            g = energy.gradient(x)
            self.shift = float(man.curvature_shift(x, g))
            self._B = np.asarray(man.tangent_basis(x))
            self.dim = self._B.shape[1]
        else:
            self.dim = energy.dim

    # coordinates <-> ambient -------------------------------------------------------
    def to_ambient(self, C: np.ndarray) -> np.ndarray:
        """Ambient tangent vectors (rows) from coordinate vectors (rows)."""
        C = np.asarray(C, dtype=np.float64)
        if self._sphere:
            w = self._w
            V = np.zeros(C.shape[:-1] + (self.dim + 1,))
            V[..., :-1] = C
            return V - 2.0 * (C @ w[:-1])[..., None] * w
        if self._generic:
            return C @ self._B.T
        return np.array(C, copy=True)

    def to_coords(self, V: np.ndarray) -> np.ndarray:
        """Coordinates of (the tangent part of) ambient vectors (rows)."""
        V = np.asarray(V, dtype=np.float64)
        if self._sphere:
            w = self._w
            return (V - 2.0 * (V @ w)[..., None] * w)[..., :-1]
        if self._generic:
            return V @ self._B
        return np.array(V, copy=True)

    def basis(self) -> np.ndarray:
        """The tangent basis as columns ``(dim_ambient, d)``."""
        return self.to_ambient(np.eye(self.dim)).T

    # application -------------------------------------------------------------------
    def matmat(self, C: np.ndarray, where: str = "") -> np.ndarray:
        """Apply the operator to coordinate vectors ``C`` (m, d): one block HVP."""
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
        if self._sphere or self._generic:
            B = self.basis()
            A = B.T @ H @ B - self.shift * np.eye(self.dim)
        else:
            A = H
        return 0.5 * (A + A.T)


def _check_point(energy: Energy, x, riemannian: bool) -> np.ndarray:
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be a landscapes Energy; got {type(energy).__name__}")
    X, single = energy._points(x)
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


# --------------------------------------------------------------------------- eigenvalues
@dataclass(frozen=True)
class EigenResult:
    """Eigenvalues of a Hessian at one point, with their certificates.

    Attributes
    ----------
    eigenvalues : (k,) ascending
    vectors : (k, dim) or None
        Unit ambient (tangent) eigenvectors, one per row, when ``return_vectors``.
    residuals : (k,)
        ``||H v - lambda v||`` for each returned pair (computed, not estimated).
    converged : (k,) bool
        Whether each pair meets the tolerance; NaN eigenvalues are never converged.
    n_hvp : int
        Hessian-vector products used (a dense Hessian counts ``dim``).
    method : "dense" or "lanczos"
    which : str
        Which part of the spectrum (scipy eigsh's meaning) or "all".
    dim : int
        Dimension of the operator (``dim - 1`` for the Riemannian Hessian on the sphere).
    riemannian : bool
    """

    eigenvalues: np.ndarray
    vectors: np.ndarray | None
    residuals: np.ndarray
    converged: np.ndarray
    n_hvp: int
    method: str
    which: str
    dim: int
    riemannian: bool

    def __post_init__(self):
        _freeze(self)

    @property
    def all_converged(self) -> bool:
        """True when every returned pair converged."""
        return bool(np.all(self.converged))


def _select(w: np.ndarray, k: int, which: str) -> np.ndarray:
    """Indices of the k eigenvalues scipy's eigsh would return (ascending ``w``)."""
    n = w.size
    if which == "LA":
        idx = np.arange(n - k, n)
    elif which == "SA":
        idx = np.arange(k)
    elif which == "LM":
        idx = np.sort(np.argsort(np.abs(w), kind="stable")[n - k :])
    else:  # BE: half from each end, the extra one from the high end
        lo = k // 2
        idx = np.concatenate([np.arange(lo), np.arange(n - (k - lo), n)])
    return idx


def hessian_eigenvalues(
    energy: Energy,
    x,
    k: int | None = None,
    which: str = "LA",
    riemannian: bool = True,
    return_vectors: bool = False,
    tol: float = 1e-10,
    seed: SeedLike = None,
    *,
    method: str = "auto",
    maxiter: int | None = None,
    ncv: int | None = None,
) -> EigenResult:
    """Eigenvalues (and optionally eigenvectors) of the Hessian of ``energy`` at ``x``.

    Parameters
    ----------
    energy : Energy
    x : array (dim,)
        A point on the energy's manifold (within ``ON_MANIFOLD_TOL`` relative).
    k : int or None
        Number of eigenvalues; None means all of them (dense).
    which : {"LA", "SA", "LM", "BE"}
        Exactly scipy.sparse.linalg.eigsh's meaning: largest algebraic, smallest algebraic,
        largest magnitude, both ends (half from each end, the extra one from the top).
    riemannian : bool
        Riemannian Hessian on the tangent space (default) or the ambient Euclidean Hessian.
    return_vectors : bool
        Also return unit eigenvectors as ambient tangent vectors (rows).
    tol : float
        Lanczos relative tolerance (eigsh's ``tol``); a pair counts as converged when its
        residual ``||Hv - lambda v||`` is at most ``max(10 tol, 1e-12)`` times the largest
        returned ``|lambda|``.
    seed : seed-like
        Seed of the Lanczos start vector (the result is deterministic given the seed).
    method : {"auto", "dense", "lanczos"}
        "auto": dense ``eigh`` when k is None or the dimension is at most ``DENSE_MAX_DIM``,
        Lanczos (eigsh on a LinearOperator of HVPs) otherwise.
    maxiter, ncv : int, optional
        Passed to eigsh.

    Returns
    -------
    EigenResult
        Eigenvalues ascending. A Lanczos run that did not converge marks the pairs in
        ``converged`` (missing ones are NaN) and warns with :class:`SpectrumWarning`.
    """
    if which not in WHICH:
        raise ValueError(f"unknown which={which!r}; choose one of {', '.join(WHICH)} (scipy eigsh)")
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"unknown method={method!r}; choose 'auto', 'dense' or 'lanczos'")
    tol = check_positive(tol, "tol", allow_zero=True)
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if k is not None:
        k = check_int(k, "k", minimum=1)
    if method == "lanczos" and k is None:
        raise ValueError("method='lanczos' needs a number of eigenvalues k")
    use_dense = method == "dense" or (method == "auto" and (k is None or d <= DENSE_MAX_DIM))
    if k is not None and k > d:
        raise ValueError(f"k={k} exceeds the dimension {d} of the Hessian")
    if use_dense:
        A = op.dense()
        w, U = np.linalg.eigh(A)
        if k is not None:
            idx = _select(w, k, which)
            w, U = w[idx], U[:, idx]
        R = A @ U - U * w
        res = np.linalg.norm(R, axis=0)
        vecs = op.to_ambient(U.T) if return_vectors else None
        scale = max(float(np.max(np.abs(w))), np.finfo(float).tiny)
        conv = res <= max(10 * tol, 1e-12) * scale + 1e3 * np.finfo(float).eps * scale
        return EigenResult(
            w, vecs, res, conv, op.n_hvp, "dense", "all" if k is None else which, d, op.riemannian
        )
    return _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv)


def _lanczos(op, k, which, return_vectors, tol, seed, maxiter, ncv) -> EigenResult:
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    d = op.dim
    if k >= d:
        raise ValueError(
            f"Lanczos needs k < dimension; got k={k} for a Hessian of dimension {d} "
            "(use method='dense' or k=None for the full spectrum)"
        )
    rng = as_generator(seed)
    v0 = rng.standard_normal(d)
    step = [0]

    def mv(c):
        step[0] += 1
        return op.matmat(np.asarray(c).reshape(1, -1), where=f"at Lanczos product {step[0]}")[0]

    def mm(C):
        step[0] += 1
        return op.matmat(np.asarray(C).T, where=f"at Lanczos product {step[0]}").T

    L = LinearOperator((d, d), matvec=mv, matmat=mm, rmatvec=mv, dtype=np.float64)
    failed = False
    try:
        w, U = eigsh(L, k=k, which=which, tol=tol, v0=v0, maxiter=maxiter, ncv=ncv)
    except ArpackNoConvergence as exc:
        failed = True
        w, U = np.asarray(exc.eigenvalues), np.asarray(exc.eigenvectors)
    order = np.argsort(w)
    w, U = w[order], U[:, order]
    if w.size:
        U = U / np.linalg.norm(U, axis=0)
        R = op.matmat(U.T, where="checking Lanczos residuals").T - U * w
        res = np.linalg.norm(R, axis=0)
    else:
        res = np.zeros(0)
    scale = max(float(np.max(np.abs(w))) if w.size else 1.0, np.finfo(float).tiny)
    conv = res <= max(10 * tol, 1e-12) * scale + 1e3 * np.finfo(float).eps * scale
    missing = k - w.size
    if missing:
        w = np.concatenate([w, np.full(missing, np.nan)])
        res = np.concatenate([res, np.full(missing, np.nan)])
        conv = np.concatenate([conv, np.zeros(missing, bool)])
        U = np.concatenate([U, np.full((d, missing), np.nan)], axis=1)
    vecs = op.to_ambient(U.T) if return_vectors else None
    if failed or not np.all(conv):
        worst = float(np.max(res[np.isfinite(res)])) if np.any(np.isfinite(res)) else np.nan
        warnings.warn(
            f"Lanczos ({which}, k={k}) did not converge: {int(np.sum(~conv))} of {k} "
            f"eigenpairs miss the tolerance (largest residual {worst:.3g}); "
            "see result.converged",
            SpectrumWarning,
            stacklevel=3,
        )
    return EigenResult(w, vecs, res, conv, op.n_hvp, "lanczos", which, d, op.riemannian)


# --------------------------------------------------------------------------- densities
def default_bandwidth(lo: float, hi: float, n: int | None = None) -> float:
    """Default Gaussian smoothing width: ``max(1%, 2.5 / n)`` of the spectral width ``hi - lo``.

    ``n`` is the number of distinct eigenvalues that can be resolved (the dimension, or the
    number of nodes if smaller). With 80 Lanczos steps the Ritz nodes resolve features at
    about width/80; 1% of the width smooths the node comb into a density while keeping
    outliers separate, and 2.5 mean eigenvalue spacings smooth the comb of a small matrix.
    (Ghorbani et al. use a variance of 1e-5 width^2, i.e. 0.3%, which needs many more
    probes to look smooth.)
    """
    w = float(hi - lo)
    if not w > 0:
        return max(abs(float(hi)), 1.0) * 1e-3
    frac = 0.01 if not n else max(0.01, 2.5 / float(n))
    return frac * w


def gaussian_smooth(nodes, weights, grid, bandwidth: float) -> np.ndarray:
    """Density ``sum_i w_i N(t; nodes_i, bandwidth^2)`` on ``grid``; rows of nodes are probes.

    ``nodes``/``weights`` of shape (n,) give one density (len(grid),); shape (m, n) give
    one density per row, (m, len(grid)). NaN nodes (padding) are ignored.
    """
    nodes = np.asarray(nodes, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    ok = np.isfinite(nodes)
    n = np.where(ok, nodes, 0.0)
    wts = np.where(ok, weights, 0.0)
    z = (grid[..., None, :] if nodes.ndim == 2 else grid[None, :]) - n[..., None]
    k = np.exp(-0.5 * (z / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))
    return np.einsum("...n,...ng->...g", wts, k)


@dataclass(frozen=True)
class DensityResult:
    """Spectral density of a Hessian at one point (exact or by SLQ).

    Attributes
    ----------
    nodes, weights : (n_probes, m)
        Ritz values and quadrature weights (squared first components of the Ritz vectors)
        per probe; each row of weights sums to 1. NaN pads probes that stopped early. For
        the exact method: one row, all eigenvalues, weights 1/d.
    grid : (G,)
    density : (G,)
        Gaussian-smoothed density (integrates to 1 over the real line).
    density_stderr : (G,)
        Standard error of the density across probes (0 for the exact method).
    density_per_probe : (n_probes, G)
    bandwidth : float
    steps : (n_probes,) int
        Lanczos steps taken per probe (fewer if the Krylov space closed).
    n_hvp : int
    method : "exact" or "slq"
    dim : int
    """

    nodes: np.ndarray
    weights: np.ndarray
    grid: np.ndarray
    density: np.ndarray
    density_stderr: np.ndarray
    density_per_probe: np.ndarray
    bandwidth: float
    steps: np.ndarray
    n_hvp: int
    method: str
    dim: int
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        _freeze(self)

    def moments(self, orders=(1, 2, 3, 4)) -> tuple[np.ndarray, np.ndarray]:
        """Spectral moments ``tr(H^j)/d`` and their standard errors across probes."""
        orders = np.atleast_1d(orders)
        ok = np.isfinite(self.nodes)
        n = np.where(ok, self.nodes, 0.0)
        w = np.where(ok, self.weights, 0.0)
        per = np.stack([np.sum(w * n**j, axis=1) for j in orders], axis=1)  # (probes, orders)
        mean = per.mean(axis=0)
        se = (
            per.std(axis=0, ddof=1) / np.sqrt(per.shape[0])
            if per.shape[0] > 1
            else np.zeros_like(mean)
        )
        return mean, se

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """All nodes and weights as one discrete measure (weights sum to 1)."""
        ok = np.isfinite(self.nodes)
        return self.nodes[ok], self.weights[ok] / self.nodes.shape[0]


def _lanczos_block(op: TangentOperator, Q0: np.ndarray, steps: int):
    """Lanczos with full reorthogonalization on a block of independent probes at once.

    Each step applies the operator to all active probes with ONE block HVP. Returns
    ``alpha (p, steps)``, ``beta (p, steps)`` and the number of steps per probe (a probe
    stops when its Krylov space closes: beta below 1e-10 of the running operator norm).
    """
    P, d = Q0.shape
    m = min(steps, d)
    Q = np.zeros((P, m, d))
    alpha = np.zeros((P, m))
    beta = np.zeros((P, m))
    active = np.ones(P, bool)
    nsteps = np.full(P, m)
    Q[:, 0] = Q0 / np.linalg.norm(Q0, axis=1, keepdims=True)
    anorm = np.zeros(P)
    for j in range(m):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        W = op.matmat(Q[idx, j], where=f"at SLQ step {j + 1}")
        a = np.einsum("pd,pd->p", W, Q[idx, j])
        alpha[idx, j] = a
        W -= a[:, None] * Q[idx, j]
        if j > 0:
            W -= beta[idx, j - 1][:, None] * Q[idx, j - 1]
        # full reorthogonalization, twice ("twice is enough")
        for _ in range(2):
            c = np.einsum("pkd,pd->pk", Q[idx, : j + 1], W)
            W -= np.einsum("pkd,pk->pd", Q[idx, : j + 1], c)
        b = np.linalg.norm(W, axis=1)
        anorm[idx] = np.maximum(anorm[idx], np.abs(a) + b)
        if j + 1 == m:
            break
        beta[idx, j] = b
        done = b <= 1e-10 * np.maximum(anorm[idx], np.finfo(float).tiny)
        for p_, dn in zip(idx, done, strict=True):
            if dn:
                active[p_] = False
                nsteps[p_] = j + 1
        live = idx[~done]
        Q[live, j + 1] = W[~done] / b[~done, None]
    return alpha, beta, nsteps


def _tridiag_quadrature(alpha, beta, nsteps):
    P, m = alpha.shape
    nodes = np.full((P, m), np.nan)
    weights = np.full((P, m), np.nan)
    for i in range(P):  # tiny (m x m) eigenproblems, one per probe
        s = int(nsteps[i])
        T = np.diag(alpha[i, :s]) + np.diag(beta[i, : s - 1], 1) + np.diag(beta[i, : s - 1], -1)
        th, S = np.linalg.eigh(T)
        nodes[i, :s] = th
        weights[i, :s] = S[0] ** 2
    return nodes, weights


def spectral_density(
    energy: Energy,
    x,
    method: str = "exact",
    n_probes: int = 10,
    lanczos_steps: int = 80,
    bandwidth: float | None = None,
    grid=None,
    seed: SeedLike = None,
    *,
    riemannian: bool = True,
    n_grid: int = 512,
) -> DensityResult:
    """Spectral density of the Hessian at ``x``: exact (dense eigh) or stochastic Lanczos.

    Parameters
    ----------
    method : {"exact", "slq"}
        "slq": stochastic Lanczos quadrature (Lin, Saad & Yang 2016; Ghorbani et al. 2019)
        with ``n_probes`` Rademacher probes (normalized), ``lanczos_steps`` steps of Lanczos
        with full reorthogonalization, all probes advanced together (one block HVP per step).
        Node weights are the squared first components of the Ritz vectors.
    bandwidth : float, optional
        Gaussian smoothing width; default :func:`default_bandwidth` of the nodes' range
        (``max(1%, 2.5/n)`` of the width, n = number of resolvable eigenvalues).
    grid : array, optional
        Where to evaluate the density; default ``n_grid`` points spanning the nodes
        +- 5 bandwidths.
    seed : seed-like
        Seed of the probes.
    """
    if method not in ("exact", "slq"):
        raise ValueError(f"unknown method={method!r}; choose 'exact' or 'slq'")
    n_probes = check_int(n_probes, "n_probes", minimum=1)
    lanczos_steps = check_int(lanczos_steps, "lanczos_steps", minimum=1)
    n_grid = check_int(n_grid, "n_grid", minimum=2)
    if bandwidth is not None:
        bandwidth = check_positive(bandwidth, "bandwidth")
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if method == "exact":
        w = np.linalg.eigvalsh(op.dense())
        nodes = w[None, :]
        weights = np.full_like(nodes, 1.0 / d)
        steps = np.array([d])
    else:
        rng = as_generator(seed)
        Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
        alpha, beta, steps = _lanczos_block(op, Z, lanczos_steps)
        nodes, weights = _tridiag_quadrature(alpha, beta, steps)
    lo, hi = float(np.nanmin(nodes)), float(np.nanmax(nodes))
    n_res = min(d, int(np.sum(np.isfinite(nodes))))
    bw = default_bandwidth(lo, hi, n_res) if bandwidth is None else bandwidth
    if grid is None:
        grid = np.linspace(lo - 5 * bw, hi + 5 * bw, n_grid)
    else:
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
            raise ValueError(
                f"grid must be a finite 1-D array of >= 2 points; got shape {grid.shape}"
            )
    per = gaussian_smooth(nodes, weights, grid, bw)
    dens = per.mean(axis=0)
    se = (
        per.std(axis=0, ddof=1) / np.sqrt(per.shape[0]) if per.shape[0] > 1 else np.zeros_like(dens)
    )
    return DensityResult(
        nodes,
        weights,
        grid,
        dens,
        se,
        per,
        float(bw),
        np.asarray(steps),
        op.n_hvp,
        method,
        d,
        {"riemannian": op.riemannian, "n_probes": int(nodes.shape[0])},
    )


# --------------------------------------------------------------------------- trace
@dataclass(frozen=True)
class TraceResult:
    """A trace estimate with its standard error.

    Attributes
    ----------
    estimate, stderr : float
    samples : (n,) per-probe samples of the stochastic part
    n_hvp : int
    method : "hutchinson", "hutch++" or "exact"
    dim : int
    """

    estimate: float
    stderr: float
    samples: np.ndarray
    n_hvp: int
    method: str
    dim: int

    def __post_init__(self):
        _freeze(self)


def hessian_trace(
    energy: Energy,
    x,
    method: str = "hutchinson",
    n_probes: int = 30,
    seed: SeedLike = None,
    *,
    riemannian: bool = True,
) -> TraceResult:
    """Trace of the Hessian at ``x`` by Hutchinson or Hutch++ (Meyer et al. 2021).

    Hutchinson: mean of ``z.Hz`` over Rademacher probes ``z`` (one block HVP), standard
    error = sample std / sqrt(n). Hutch++: with ``n_probes`` HVPs in all, a third sketches
    ``Q = orth(H S)``, a third computes ``tr(Q^T H Q)`` exactly and the rest estimate the
    trace of the deflated remainder by Hutchinson (its standard error is the result's).
    ``method="exact"`` sums the dense Hessian's diagonal.
    """
    if method not in ("hutchinson", "hutch++", "exact"):
        raise ValueError(f"unknown method={method!r}; choose 'hutchinson', 'hutch++' or 'exact'")
    n_probes = check_int(n_probes, "n_probes", minimum=2 if method == "hutchinson" else 6)
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if method == "exact":
        t = float(np.trace(op.dense()))
        return TraceResult(t, 0.0, np.array([t]), op.n_hvp, "exact", d)
    rng = as_generator(seed)
    if method == "hutchinson":
        Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
        s = np.einsum("pd,pd->p", Z, op.matmat(Z, where="in Hutchinson probes"))
        return TraceResult(
            float(s.mean()), float(s.std(ddof=1) / np.sqrt(s.size)), s, op.n_hvp, method, d
        )
    m = n_probes // 3
    S = rng.choice(np.array([-1.0, 1.0]), size=(m, d))
    G = rng.choice(np.array([-1.0, 1.0]), size=(n_probes - 2 * m, d))
    Q, _ = np.linalg.qr(op.matmat(S, where="in the Hutch++ sketch").T)
    Q = Q.T  # (m, d) orthonormal rows
    t_low = float(np.einsum("pd,pd->", Q, op.matmat(Q, where="in the Hutch++ projection")))
    Gp = G - (G @ Q.T) @ Q
    s = np.einsum("pd,pd->p", Gp, op.matmat(Gp, where="in the Hutch++ residual"))
    return TraceResult(
        t_low + float(s.mean()), float(s.std(ddof=1) / np.sqrt(s.size)), s, op.n_hvp, method, d
    )


# --------------------------------------------------------------------------- outliers
@dataclass(frozen=True)
class OutlierResult:
    """Eigenvalues beyond the bulk edge.

    Attributes
    ----------
    count : int
    values : (count,) the outliers, farthest first
    edge : float
        The bulk edge used (explicit, or midway across the chosen gap).
    gaps : (n_top,) relative gaps examined (empty with an explicit edge)
    side : "upper" or "lower"
    """

    count: int
    values: np.ndarray
    edge: float
    gaps: np.ndarray
    side: str

    def __post_init__(self):
        _freeze(self)


def outliers(
    eigenvalues, *, edge: float | None = None, n_top: int | None = None, side: str = "upper"
) -> OutlierResult:
    """Count the eigenvalues beyond the bulk.

    With an explicit ``edge``: the eigenvalues above it (``side="upper"``) or below it.
    Otherwise the largest relative gap among the ``n_top`` most extreme eigenvalues (default:
    the extreme 10%): sorting outward-first ``l_1, l_2, ...``, the relative gap after
    position j is ``|l_j - l_{j+1}| / (|l_{j+1}| + 1e-3 |l_1|)`` for j = 1..n_top, and the
    outliers are ``l_1..l_j*`` at the largest one (counted with multiplicity).
    """
    w = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if w.size < 2 or not np.all(np.isfinite(w)):
        raise ValueError("eigenvalues must be a finite array of at least 2 values")
    if side not in ("upper", "lower"):
        raise ValueError(f"side must be 'upper' or 'lower'; got {side!r}")
    s = np.sort(w)[::-1] if side == "upper" else np.sort(w)
    if edge is not None:
        edge = float(edge)
        vals = s[s > edge] if side == "upper" else s[s < edge]
        return OutlierResult(int(vals.size), vals, edge, np.zeros(0), side)
    if n_top is None:
        n_top = max(1, w.size // 10)
    n_top = check_int(n_top, "n_top", minimum=1)
    n_top = min(n_top, w.size - 1)
    lead = s[: n_top + 1]
    gaps = np.abs(np.diff(lead)) / (np.abs(lead[1:]) + 1e-3 * abs(lead[0]) + np.finfo(float).tiny)
    j = int(np.argmax(gaps))
    return OutlierResult(j + 1, s[: j + 1], float(0.5 * (s[j] + s[j + 1])), gaps, side)


# --------------------------------------------------------------------------- Gauss-Newton
@dataclass(frozen=True)
class GaussNewtonResult:
    """The Gauss–Newton / residual split of a loss Hessian at one point.

    Attributes
    ----------
    hessian_top, gn_top : (k,) top eigenvalues of H and of the Gauss–Newton matrix G
    overlap : float
        ``||U_H^T U_G||_F^2 / k``, the overlap of the top-k eigenspaces (1 = identical).
    rel_residual : float
        ``||H - G||_F / ||H||_F`` (Hutchinson estimates of both squared norms).
    rel_residual_stderr : float
    n_hvp : int
    """

    hessian_top: np.ndarray
    gn_top: np.ndarray
    overlap: float
    rel_residual: float
    rel_residual_stderr: float
    n_hvp: int

    def __post_init__(self):
        _freeze(self)


def gauss_newton_split(
    energy, x, k: int = 10, n_probes: int = 20, seed: SeedLike = None
) -> GaussNewtonResult:
    """Compare the Hessian with the Gauss–Newton matrix (``energy.gnvp``) at ``x``.

    Needs an energy with ``gnvp(x, V)`` (Euclidean networks). Top-k eigenpairs of both by
    dense eigh when small, Lanczos otherwise; ``||H-G||_F^2`` and ``||H||_F^2`` by Hutchinson
    on ``E||(H-G)z||^2`` with shared Rademacher probes (delta-method standard error).
    """
    if not callable(getattr(energy, "gnvp", None)):
        raise ValueError(f"{type(energy).__name__} has no gnvp (Gauss–Newton products)")
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = tangent_operator(energy, x, riemannian=True)
    if op._sphere or op._generic:
        raise ValueError("gauss_newton_split is defined for Euclidean (network) losses")
    d = op.dim
    k = check_int(k, "k", minimum=1)
    if k >= d:
        raise ValueError(f"k={k} must be below the dimension {d}")
    xx = op.x
    n_g = [0]

    def gmat(V):
        n_g[0] += V.shape[0]
        out = np.asarray(energy.gnvp(xx, V), dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("the Gauss–Newton product returned NaN or infinite values")
        return out

    rng = as_generator(seed)
    if d <= DENSE_MAX_DIM:
        eye = np.eye(d)
        H = op.matmat(eye)
        G = gmat(eye)
        wh, Uh = np.linalg.eigh(0.5 * (H + H.T))
        wg, Ug = np.linalg.eigh(0.5 * (G + G.T))
        wh, Uh, wg, Ug = wh[-k:], Uh[:, -k:], wg[-k:], Ug[:, -k:]
    else:
        LH = LinearOperator((d, d), matvec=lambda c: op.matmat(c[None])[0], dtype=float)
        LG = LinearOperator((d, d), matvec=lambda c: gmat(c[None])[0], dtype=float)
        wh, Uh = eigsh(LH, k=k, which="LA", v0=rng.standard_normal(d))
        wg, Ug = eigsh(LG, k=k, which="LA", v0=rng.standard_normal(d))
    overlap = float(np.sum((Uh.T @ Ug) ** 2) / k)
    Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
    HZ = op.matmat(Z)
    GZ = gmat(Z)
    a = np.sum((HZ - GZ) ** 2, axis=1)
    b = np.sum(HZ**2, axis=1)
    r = float(np.sqrt(a.mean() / b.mean()))
    # delta method for sqrt(mean a / mean b)
    ca = np.cov(np.stack([a, b]), ddof=1) / a.size
    ma, mb = a.mean(), b.mean()
    var_ratio = ca[0, 0] / mb**2 - 2 * ma * ca[0, 1] / mb**3 + ma**2 * ca[1, 1] / mb**4
    se = float(np.sqrt(max(var_ratio, 0.0)) / (2 * max(r, np.finfo(float).tiny)))
    return GaussNewtonResult(np.sort(wh), np.sort(wg), overlap, r, se, op.n_hvp + n_g[0])


# --------------------------------------------------------------------------- theory helpers
def semicircle_pdf(t, center: float, radius: float) -> np.ndarray:
    """Density of the semicircle law on ``[center - radius, center + radius]``."""
    z = (np.asarray(t, dtype=np.float64) - center) / radius
    return np.where(
        np.abs(z) < 1, 2.0 / (np.pi * radius) * np.sqrt(np.clip(1 - z * z, 0, None)), 0.0
    )


def semicircle_cdf(t, center: float, radius: float) -> np.ndarray:
    """Distribution function of the semicircle law."""
    z = np.clip((np.asarray(t, dtype=np.float64) - center) / radius, -1.0, 1.0)
    return 0.5 + (z * np.sqrt(1 - z * z) + np.arcsin(z)) / np.pi


def ks_distance(samples, cdf) -> float:
    """Kolmogorov–Smirnov distance between the empirical law of ``samples`` and ``cdf``."""
    s = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = s.size
    F = np.asarray(cdf(s), dtype=np.float64)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


def wasserstein_1(u_values, v_values, u_weights=None, v_weights=None) -> float:
    """1-Wasserstein distance between two weighted discrete measures on the line."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(u_values, v_values, u_weights, v_weights))
