"""Critical points of any Energy: batched Newton-type search, verification, census by index.

The search runs many random starts at once. Each iteration forms the dense Riemannian
Hessians of all active starts as one stack ``(K, d, d)`` (d = tangent dimension, N - 1 on the
sphere), diagonalizes the stack with one ``numpy.linalg.eigh`` call and takes, per start, a
step in the Hessian eigenbasis:

* ``"index"`` mode (eigenvector following with a target index k, a partitioned Newton step):
  h_i = -s_i g_i / max(|lambda_i|, delta) with s_i = -1 on the k lowest modes (uphill) and +1
  on the others (downhill); near a critical point of index k it is Newton's step, far from one
  it walks towards points of index k (k = 0 is a Newton-accelerated descent to minima, k = 1 a
  min-mode saddle search);
* ``"lm"`` mode (Levenberg–Marquardt on ||rgrad||^2): h_i = -lambda_i g_i / (lambda_i^2 + mu),
  attracted to critical points of any index (and to gradient-flat points, reported apart).

Steps are capped by a trust radius and retracted onto the manifold. A candidate counts only if
it passes :func:`verify`: Riemannian gradient norm below ``gtol * scale`` (default 1e-10
relative to the energy scale), Hessian non-degenerate apart from the energy's declared
symmetry directions (``energy.symmetry_directions(x)``, if it has them), index = number of
negative eigenvalues. Points where the iteration stalled with a small gradient lying in an
approximate kernel of the Hessian are *gradient-flat* (Frye et al. 2020) and are reported
apart, never counted.

:func:`census` runs batches of starts until the set of distinct points saturates and its
certificate holds; :func:`census_ensemble` averages censuses over disorder samples beside a
theory curve (e.g. ``pspin.theory.kac_rice_mean``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from landscapes.energy import Energy
from landscapes.manifolds import Sphere
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_seed_sequence, seed_info

__all__ = [
    "riemannian_hessians",
    "eigh_stack",
    "newton_search",
    "verify",
    "Verified",
    "detect_symmetry",
    "symmetric_images",
    "deduplicate",
    "Certificate",
    "Census",
    "census",
    "CensusEnsemble",
    "census_ensemble",
    "NetworkCriticalPoints",
    "network_critical_points",
]

_FLAT, _CRIT, _DEGEN, _NOTCONV = 1, 0, 2, 3


# ----------------------------------------------------------------------------- Hessians
_CONTROLLER = None


def _blas_threads(n: int, max_threaded: int = 512):
    """Context: one BLAS thread while working on dense matrices of size n <= max_threaded."""
    global _CONTROLLER
    if n > max_threaded:
        return contextlib.nullcontext()
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()


def eigh_stack(R: np.ndarray, max_threaded: int = 512):
    """``numpy.linalg.eigh`` of a stack of small symmetric matrices, one BLAS thread each.

    For matrices up to ``max_threaded`` rows LAPACK gains nothing from threads, and on a
    loaded machine OpenBLAS's spinning threads made a (8, 160, 160) stack 50x slower (5.4 s
    against 0.11 s measured); the limit applies only for the call (threadpoolctl).
    """
    with _blas_threads(R.shape[-1], max_threaded):
        return np.linalg.eigh(R)


def _euclidean_hessians(energy: Energy, X: np.ndarray) -> np.ndarray:
    """Dense Euclidean Hessians of a batch (K, dim) -> (K, dim, dim), without a loop over K."""
    if type(energy).hessian is not Energy.hessian:
        H = np.asarray(energy.hessian(X), dtype=np.float64)
        return H.reshape(X.shape[0], energy.dim, energy.dim)
    K, n = X.shape
    eye = np.eye(n)
    out = np.empty((K, n, n))
    step = max(1, int(2**24 // max(n * n, 1)))
    for a in range(0, K, step):
        b = min(K, a + step)
        Xr = np.repeat(X[a:b], n, axis=0)
        V = np.tile(eye, (b - a, 1))
        out[a:b] = energy._hvp(Xr, V).reshape(b - a, n, n)
    return 0.5 * (out + np.swapaxes(out, 1, 2))


def riemannian_hessians(energy: Energy, X: np.ndarray) -> dict:
    """Energies, gradients and dense Riemannian Hessians of a batch of points.

    Parameters
    ----------
    energy : Energy
        The energy.
    X : ndarray (K, dim)
        Points on the energy's manifold.

    Returns
    -------
    dict
        ``e`` (K,) energies, ``rgrad`` (K, dim) ambient Riemannian gradients, ``B`` (K, dim, d)
        tangent bases, ``g`` (K, d) gradients in the bases, ``R`` (K, d, d) Riemannian
        Hessians in the bases (curvature term included), as in ``Energy.rhessian``.
    """
    X = np.asarray(X, dtype=np.float64)
    e, g = energy._energy_and_gradient(X)
    man = energy.manifold
    rg = man.rgrad(X, g)
    H = _euclidean_hessians(energy, X)
    if isinstance(man, Sphere):
        B = man.tangent_basis(X)
        R = np.einsum("kia,kij,kjb->kab", B, H, B, optimize=True)
        c = man.curvature_shift(X, g)
        R = R - c[:, None, None] * np.eye(B.shape[2])
        gc = np.einsum("kia,ki->ka", B, rg)
    else:
        B = None
        R = H
        gc = rg
    R = 0.5 * (R + np.swapaxes(R, 1, 2))
    return {"e": np.asarray(e, dtype=np.float64), "rgrad": rg, "B": B, "g": gc, "R": R}


def _to_ambient(B, h):
    return h if B is None else np.einsum("kia,ka->ki", B, h)


# ----------------------------------------------------------------------------- search
def newton_search(
    energy: Energy,
    X0: np.ndarray,
    *,
    mode: str = "index",
    target_index: int | np.ndarray | None = None,
    max_iter: int = 200,
    gtol: float = 1e-10,
    trust_radius: float | None = None,
    mu: float = 1e-8,
    deflate: np.ndarray | None = None,
    deflation_shift: float = 1.0,
    adaptive: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched Newton-type iterations from many starts towards critical points.

    Parameters
    ----------
    energy : Energy
        The energy (on a sphere or Euclidean space; dense Hessians are formed).
    X0 : ndarray (K, dim)
        Starts on the manifold (not modified).
    mode : {"index", "lm", "newton"}
        ``"index"``: eigenvector following towards ``target_index`` (per start);
        ``"lm"``: Levenberg–Marquardt on ||rgrad||^2; ``"newton"``: plain Newton (for
        polishing candidates that are already close).
    target_index : int or ndarray (K,)
        Target index per start for ``mode="index"`` (default 0: minima).
    max_iter : int
        Iterations.
    gtol : float
        Stop a start when |rgrad| <= gtol * energy.scale.
    trust_radius : float
        Largest step (default 0.2 radius on a sphere, 0.5 sqrt(dim) in Euclidean space).
    mu : float
        Damping relative to the squared spectral radius (LM) or eigenvalue floor (index mode).
    deflate : ndarray (n, dim), optional
        Known critical points to repel (deflation, Farrell, Birkisson & Funke 2015): the
        residual is multiplied by M(x) = prod_i (|x - r_i|^-2 + shift), which turns each step
        v into v / (1 - grad log M . v), so that starts do not reconverge to known points.
    deflation_shift : float
        The shift of M (far from every known point M -> const and the step is unchanged).
    adaptive : bool
        Adapt each start's trust radius in every mode (halve it when |rgrad| went up, grow
        it by 1.5 otherwise, up to ``trust_radius``); ``"lm"`` always adapts. Helps on
        ill-conditioned landscapes (networks), where fixed steps oscillate.

    Returns
    -------
    X : ndarray (K, dim)
        Final points.
    gnorm : ndarray (K,)
        Final Riemannian gradient norms.
    Rg_ratio : ndarray (K,)
        |Hess rgrad| / (|Hess| |rgrad|) at the final points (small: gradient in an
        approximate kernel, the signature of a gradient-flat point).
    """
    if mode not in ("index", "lm", "newton"):
        raise ValueError(f"mode must be 'index', 'lm' or 'newton'; got {mode!r}")
    with _blas_threads(energy.dim):
        return _newton_search(
            energy,
            X0,
            mode,
            target_index,
            max_iter,
            gtol,
            trust_radius,
            mu,
            deflate,
            deflation_shift,
            adaptive,
        )


def _newton_search(
    energy,
    X0,
    mode,
    target_index,
    max_iter,
    gtol,
    trust_radius,
    mu,
    deflate,
    deflation_shift,
    adaptive=False,
):
    X = np.array(X0, dtype=np.float64, copy=True)
    if X.ndim != 2 or X.shape[1] != energy.dim:
        raise ValueError(f"X0 must have shape (K, {energy.dim}); got {np.shape(X0)}")
    K = X.shape[0]
    man = energy.manifold
    radius = getattr(man, "radius", math.sqrt(energy.dim))
    if trust_radius is None:
        trust_radius = 0.2 * radius if isinstance(man, Sphere) else 0.5 * math.sqrt(energy.dim)
    tgt = (
        np.zeros(K, dtype=int)
        if target_index is None
        else np.broadcast_to(np.asarray(target_index, dtype=int), (K,)).copy()
    )
    thr = gtol * float(energy.scale)
    gnorm = np.full(K, np.inf)
    ratio = np.ones(K)
    active = np.arange(K)
    delta = np.full(K, float(trust_radius))
    prev = np.full(K, np.inf)
    for _ in range(max_iter):
        if active.size == 0:
            break
        Xa = X[active]
        d = riemannian_hessians(energy, Xa)
        gn = np.linalg.norm(d["rgrad"], axis=1)
        lam, W = eigh_stack(d["R"])
        gw = np.einsum("kab,ka->kb", W, d["g"])
        spec = np.maximum(np.max(np.abs(lam), axis=1), 1e-300)
        gnorm[active] = gn
        ratio[active] = np.linalg.norm(lam * gw, axis=1) / (spec * np.maximum(gn, 1e-300))
        done = gn <= thr
        if mode == "lm" or adaptive:
            # shrink the trust region where the merit |rgrad| went up
            up = gn > prev[active]
            delta[active[up]] *= 0.5
            delta[active[~up]] = np.minimum(delta[active[~up]] * 1.5, trust_radius)
            prev[active] = gn
        if mode == "lm":
            h = -lam * gw / (lam**2 + mu * spec[:, None] ** 2)
        elif mode == "index":
            s = np.where(np.arange(lam.shape[1])[None, :] < tgt[active, None], -1.0, 1.0)
            h = -s * gw / np.maximum(np.abs(lam), mu * spec[:, None])
        else:
            h = -gw / np.where(np.abs(lam) > 1e-300, lam, 1e-300)
        hn = np.linalg.norm(h, axis=1)
        cap = np.minimum(1.0, delta[active] / np.maximum(hn, 1e-300))
        h = h * cap[:, None]
        step = _to_ambient(d["B"], np.einsum("kab,kb->ka", W, h))
        if deflate is not None and deflate.shape[0] and mode != "newton":
            step = _deflated(man, Xa, step, deflate, deflation_shift, delta[active])
        Xn = man.retract(Xa, step)
        keep = ~done & np.isfinite(Xn).all(axis=1)
        X[active[keep]] = Xn[keep]
        active = active[keep]
    if active.size:
        e, g = energy._energy_and_gradient(X[active])
        gnorm[active] = np.linalg.norm(man.rgrad(X[active], g), axis=1)
    return X, gnorm, ratio


def _deflated(man, X, step, R, shift, cap):
    """Deflated step v / (1 - a . v) with a = grad log M (tangent), capped at ``cap``."""
    a = np.zeros_like(X)
    sqR = np.sum(R**2, axis=1)
    for lo in range(0, R.shape[0], 4096):
        Rb = R[lo : lo + 4096]
        d2 = np.sum(X**2, axis=1)[:, None] + sqR[None, lo : lo + 4096] - 2.0 * X @ Rb.T
        d2 = np.maximum(d2, 1e-300)
        w = -2.0 / (d2 * (1.0 + shift * d2))  # d/dx log(|x - r|^-2 + shift) = w (x - r)
        a += w.sum(axis=1)[:, None] * X - w @ Rb
    a = man.proj(X, a)
    den = 1.0 - np.sum(a * step, axis=1)
    den = np.where(np.abs(den) < 1e-3, np.copysign(1e-3, den), den)
    out = step / den[:, None]
    nrm = np.linalg.norm(out, axis=1)
    return out * np.minimum(1.0, cap / np.maximum(nrm, 1e-300))[:, None]


# ----------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class Verified:
    """Classification of candidate points.

    Attributes
    ----------
    kind : ndarray (K,) of str
        ``"critical"`` (counted), ``"flat"`` (gradient-flat: small gradient in an approximate
        Hessian kernel, not critical), ``"degenerate"`` (critical with a zero Hessian
        eigenvalue outside the declared symmetries) or ``"none"``.
    energies : ndarray (K,)
        Energies (extensive, as ``energy.energy``).
    grad_norms : ndarray (K,)
        Riemannian gradient norms.
    indices : ndarray (K,)
        Number of negative Hessian eigenvalues (symmetry directions excluded).
    min_abs_eigs : ndarray (K,)
        Smallest |eigenvalue| outside the symmetry directions.
    low_eigs : ndarray (K, m)
        The m lowest eigenvalues (m = min(4, d)).
    n_zero_modes : ndarray (K,)
        Number of declared symmetry directions taken out.
    unstable : ndarray (K, dim)
        Ambient eigenvector of the lowest eigenvalue (the unstable direction of a saddle).
    """

    kind: np.ndarray
    energies: np.ndarray
    grad_norms: np.ndarray
    indices: np.ndarray
    min_abs_eigs: np.ndarray
    low_eigs: np.ndarray
    n_zero_modes: np.ndarray
    unstable: np.ndarray


def _symmetry_basis(energy, X, B):
    """Per point, an orthonormal basis (coords in B) of the complement of symmetry directions."""
    fn = getattr(energy, "symmetry_directions", None)
    if fn is None:
        return None, np.zeros(X.shape[0], dtype=int)
    out, nz = [], []
    for k in range(X.shape[0]):  # only for energies that declare continuous symmetries
        V = np.atleast_2d(np.asarray(fn(X[k]), dtype=np.float64))
        Bk = np.eye(X.shape[1]) if B is None else B[k]
        C = V @ Bk if V.size else np.zeros((0, Bk.shape[1]))
        if C.shape[0] == 0:
            out.append(np.eye(Bk.shape[1]))
            nz.append(0)
            continue
        u, s, vt = np.linalg.svd(C, full_matrices=True)
        r = int(np.sum(s > 1e-10 * max(s.max(), 1e-300)))
        out.append(vt[r:].T)
        nz.append(r)
    return out, np.array(nz, dtype=int)


def verify(
    energy: Energy,
    X: np.ndarray,
    *,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    flat_ratio: float = 1e-3,
    flat_gtol: float = 1e-3,
) -> Verified:
    """Classify candidate points as critical, gradient-flat, degenerate or neither.

    Parameters
    ----------
    energy : Energy
        The energy.
    X : ndarray (K, dim)
        Candidate points on the manifold.
    gtol : float
        Critical when |rgrad| <= gtol * energy.scale.
    eig_tol : float
        Degenerate when min |eigenvalue| <= eig_tol * max |eigenvalue| (after removing the
        declared symmetry directions).
    flat_ratio, flat_gtol : float
        Gradient-flat when not critical, |rgrad| <= flat_gtol * scale and
        |Hess rgrad| <= flat_ratio |Hess| |rgrad|.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != energy.dim:
        raise ValueError(f"X must have shape (K, {energy.dim}); got {X.shape}")
    energy.manifold.check_on(X, tol=1e-8, name="X")
    with _blas_threads(energy.dim):
        return _verify(energy, X, gtol, eig_tol, flat_ratio, flat_gtol)


def _verify(energy, X, gtol, eig_tol, flat_ratio, flat_gtol) -> Verified:
    d = riemannian_hessians(energy, X)
    gn = np.linalg.norm(d["rgrad"], axis=1)
    comp, nz = _symmetry_basis(energy, X, d["B"])
    K = X.shape[0]
    dt = d["R"].shape[1]
    m = min(4, dt)
    idx = np.zeros(K, dtype=int)
    mins = np.zeros(K)
    low = np.zeros((K, m))
    unstable = np.zeros_like(X)
    ratio = np.zeros(K)
    spec = np.zeros(K)
    if comp is None:
        lam, W = eigh_stack(d["R"])
        idx = np.sum(lam < 0, axis=1)
        mins = np.min(np.abs(lam), axis=1)
        spec = np.max(np.abs(lam), axis=1)
        low = lam[:, :m]
        vec = W[:, :, 0]
        unstable = _to_ambient(d["B"], vec)
        gw = np.einsum("kab,ka->kb", W, d["g"])
        ratio = np.linalg.norm(lam * gw, axis=1) / np.maximum(spec * gn, 1e-300)
    else:
        for k in range(K):
            C = comp[k]
            Rk = C.T @ d["R"][k] @ C
            lam, W = eigh_stack(Rk)
            idx[k] = np.sum(lam < 0)
            mins[k] = np.min(np.abs(lam)) if lam.size else np.inf
            spec[k] = np.max(np.abs(lam)) if lam.size else 1.0
            low[k, : min(m, lam.size)] = lam[:m]
            v = C @ W[:, 0]
            unstable[k] = v if d["B"] is None else d["B"][k] @ v
            gk = C.T @ d["g"][k]
            ratio[k] = np.linalg.norm(Rk @ gk) / max(spec[k] * gn[k], 1e-300)
    scale = float(energy.scale)
    crit = gn <= gtol * scale
    degen = crit & (mins <= eig_tol * np.maximum(spec, 1e-300))
    flat = ~crit & (gn <= flat_gtol * scale) & (ratio <= flat_ratio)
    kind = np.full(K, "none", dtype=object)
    kind[crit] = "critical"
    kind[degen] = "degenerate"
    kind[flat] = "flat"
    return Verified(
        kind=kind.astype(str),
        energies=d["e"],
        grad_norms=gn,
        indices=idx,
        min_abs_eigs=mins,
        low_eigs=low,
        n_zero_modes=nz,
        unstable=unstable,
    )


# ----------------------------------------------------------------------------- symmetry
def detect_symmetry(energy: Energy, seed: SeedLike = 12345) -> str | None:
    """The energy's parity under x -> -x: ``"odd"``, ``"even"`` or None.

    Checked numerically at three random points (relative tolerance 1e-9), so it applies to
    any energy (pure odd/even p-spin, quadratic forms, ...).
    """
    X = energy.random_point(seed, size=3)
    e1 = np.asarray(energy.energy(X))
    e2 = np.asarray(energy.energy(-X))
    tol = 1e-9 * max(1.0, float(np.max(np.abs(e1))))
    if np.all(np.abs(e1 - e2) <= tol):
        return "even"
    if np.all(np.abs(e1 + e2) <= tol):
        return "odd"
    return None


def symmetric_images(
    X: np.ndarray, energies: np.ndarray, indices: np.ndarray, symmetry: str | None, d: int
):
    """Images of critical points under x -> -x (for ``symmetry`` "odd" or "even").

    Odd: index k, energy u -> index d - k, energy -u (d = tangent dimension); even: same
    index and energy. Returns ``(X, energies, indices)`` of the images (empty for None).
    """
    if symmetry is None:
        return X[:0], energies[:0], indices[:0]
    if symmetry == "odd":
        return -X, -energies, d - indices
    if symmetry == "even":
        return -X, energies.copy(), indices.copy()
    raise ValueError(f"symmetry must be 'odd', 'even' or None; got {symmetry!r}")


def _canonical(energy, X):
    fn = getattr(energy, "canonical_form", None)
    if fn is None or X.shape[0] == 0:
        return X
    return np.stack([np.asarray(fn(x), dtype=np.float64) for x in X])


def deduplicate(known: np.ndarray, X: np.ndarray, tol: float) -> np.ndarray:
    """Mask of the rows of ``X`` that are new: farther than ``tol`` from ``known`` and from
    earlier rows of ``X`` (Euclidean distance, vectorized)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    new = np.ones(n, dtype=bool)
    if known is not None and known.shape[0]:
        sq = np.sum(known**2, axis=1)
        for a in range(0, n, 512):
            b = min(n, a + 512)
            d2 = np.sum(X[a:b] ** 2, axis=1)[:, None] + sq[None, :] - 2 * X[a:b] @ known.T
            new[a:b] = np.min(d2, axis=1) > tol**2
    D2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1) if n <= 2048 else None
    if D2 is None:  # pragma: no cover - large batches
        for i in range(n):
            if new[i]:
                close = np.sum((X[i + 1 :] - X[i]) ** 2, axis=1) <= tol**2
                new[i + 1 :][close] = False
        return new
    dup = np.triu(D2 <= tol**2, k=1)
    # row i is a duplicate if an earlier row j (j < i) is within tol
    new &= ~np.any(dup, axis=0)
    return new


# ----------------------------------------------------------------------------- census
@dataclass(frozen=True)
class Certificate:
    """Evidence that a census is complete.

    Attributes
    ----------
    morse_sum : int or None
        sum_k (-1)^k n_k (None off the sphere).
    morse_expected : int or None
        Euler characteristic of the sphere S^{N-1}: 0 for even N, 2 for odd N.
    morse_ok : bool
        The Morse relation holds (True off the sphere, where it is not checked).
    symmetric_ok : bool
        n_k = n_{d-k} for odd energies (True when not applicable).
    saturation_ok : bool
        No new point in the last stretch of starts, at least as long as all the search before
        it (starts since the last new point >= starts up to it).
    last_new_at : int
        Starts done when the last new point was found.
    n_starts : int
        Starts done in total.
    """

    morse_sum: int | None
    morse_expected: int | None
    morse_ok: bool
    symmetric_ok: bool
    saturation_ok: bool
    last_new_at: int
    n_starts: int

    @property
    def complete(self) -> bool:
        """All three checks hold."""
        return bool(self.morse_ok and self.symmetric_ok and self.saturation_ok)


@dataclass(frozen=True)
class Census:
    """The critical points of one energy instance, by index and energy.

    Attributes
    ----------
    points : ndarray (n, dim)
        Distinct critical points (both members of each symmetric pair), sorted by energy.
    energies : ndarray (n,)
        Intensive energies (energy / scale, e.g. H/N).
    indices : ndarray (n,)
        Indices.
    grad_norms, min_abs_eigs : ndarray (n,)
        Verification data.
    n_zero_modes : int
        Declared symmetry directions removed from each Hessian.
    counts_by_index : ndarray (d + 1,)
        Number of points of each index 0..d (d the tangent dimension).
    energy_bins : ndarray (B + 1,)
        Edges of the intensive energy bins.
    counts_by_index_energy : ndarray (d + 1, B)
        Counts per index and energy bin.
    saturation : ndarray (m, 2)
        Distinct points found (column 1) against starts done (column 0), after each batch.
    certificate : Certificate
        Completeness checks.
    flat_points, flat_energies, flat_grad_norms : ndarray
        Gradient-flat points (reported apart, never counted).
    n_degenerate : int
        Converged points rejected as degenerate.
    symmetry : str or None
        Parity used for deduplication ("odd", "even" or None).
    stopped_by : str
        "certificate" or the budget that ended the search ("max_starts", "max_time").
    seed : dict
        Root entropy and spawn key of the search seed.
    fingerprint : str
        Fingerprint of the energy instance.
    elapsed : float
        Seconds spent.
    """

    points: np.ndarray
    energies: np.ndarray
    indices: np.ndarray
    grad_norms: np.ndarray
    min_abs_eigs: np.ndarray
    n_zero_modes: int
    counts_by_index: np.ndarray
    energy_bins: np.ndarray
    counts_by_index_energy: np.ndarray
    saturation: np.ndarray
    certificate: Certificate
    flat_points: np.ndarray
    flat_energies: np.ndarray
    flat_grad_norms: np.ndarray
    n_degenerate: int
    symmetry: str | None
    stopped_by: str
    seed: dict = field(default_factory=dict)
    fingerprint: str = ""
    elapsed: float = 0.0

    @property
    def n_points(self) -> int:
        """Number of distinct critical points."""
        return int(self.points.shape[0])

    @property
    def complete(self) -> bool:
        """Whether the certificate holds."""
        return self.certificate.complete


def _certificate(energy, indices, d, symmetry, last_new_at, n_starts) -> Certificate:
    counts = np.bincount(indices, minlength=d + 1) if len(indices) else np.zeros(d + 1, int)
    if isinstance(energy.manifold, Sphere):
        ms = int(sum((-1) ** k * int(c) for k, c in enumerate(counts)))
        me = 0 if energy.dim % 2 == 0 else 2
        mok = ms == me
    else:
        ms = me = None
        mok = True
    sym_ok = bool(np.array_equal(counts, counts[::-1])) if symmetry == "odd" else True
    sat = n_starts - last_new_at >= last_new_at
    return Certificate(ms, me, bool(mok), sym_ok, bool(sat), int(last_new_at), int(n_starts))


def _batch_seed(root: np.random.SeedSequence, b: int) -> np.random.SeedSequence:
    """Child ``b`` of ``root`` (equal to ``root.spawn(b + 1)[b]`` on a fresh root)."""
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (int(b),))


def search_batch(
    energy: Energy,
    seed: np.random.SeedSequence,
    size: int,
    *,
    lm_fraction: float = 0.25,
    max_iter: int = 150,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    known: np.ndarray | None = None,
    known_indices: np.ndarray | None = None,
    local_fraction: float = 0.5,
    deflation: bool = True,
    search_options: dict | None = None,
) -> tuple:
    """One batch of the census: ``size`` random starts, searched and verified.

        A fraction ``lm_fraction`` of starts runs Levenberg–Marquardt on ||rgrad||^2; the others
        run eigenvector following with target indices drawn uniformly from 0..d; both are deflated
    away from the ``known`` points (:func:`newton_search`). Converged
        candidates are polished by plain Newton steps before verification. Returns
        ``(X, Verified)``.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    X0 = energy.random_point(rng, size=size)
    d = energy.manifold.intrinsic_dim
    n_lm = int(round(lm_fraction * size))
    tgt = rng.integers(0, d + 1, size=size - n_lm)
    if known is not None and known.shape[0] and local_fraction > 0:
        # local restarts: kicks from known points towards their neighbours of index k +- 1
        n_loc = int(round(local_fraction * (size - n_lm)))
        src = rng.integers(0, known.shape[0], size=n_loc)
        man = energy.manifold
        radius = getattr(man, "radius", math.sqrt(energy.dim))
        kick = man.proj(known[src], rng.standard_normal((n_loc, energy.dim)))
        kick *= (rng.uniform(0.05, 0.4, size=n_loc) * radius / np.linalg.norm(kick, axis=1))[
            :, None
        ]
        X0[size - n_loc :] = man.retract(known[src], kick)
        kidx = known_indices[src] if known_indices is not None else rng.integers(0, d + 1, n_loc)
        tgt[tgt.size - n_loc :] = np.clip(kidx + rng.choice([-1, 1], size=n_loc), 0, d)
    parts = []
    if size - n_lm:
        parts.append(
            newton_search(
                energy,
                X0[n_lm:],
                mode="index",
                target_index=tgt,
                max_iter=max_iter,
                gtol=gtol,
                deflate=known if deflation else None,
                **(search_options or {}),
            )[0]
        )
    if n_lm:
        parts.insert(
            0,
            newton_search(
                energy,
                X0[:n_lm],
                mode="lm",
                max_iter=max_iter,
                gtol=gtol,
                deflate=known if deflation else None,
                **(search_options or {}),
            )[0],
        )
    X = np.concatenate(parts)
    # polish: a few plain Newton steps (quadratic convergence from close candidates)
    Xp, gn, _ = newton_search(energy, X, mode="newton", max_iter=6, gtol=gtol * 1e-3)
    ok = np.isfinite(Xp).all(axis=1) & (gn <= np.linalg.norm(Xp, axis=1) + 1.0)
    X = np.where(ok[:, None], Xp, X)
    return X, verify(energy, X, gtol=gtol, eig_tol=eig_tol)


def _dist_tol(energy, dist_tol):
    radius = getattr(energy.manifold, "radius", None)
    return dist_tol * (radius if radius is not None else math.sqrt(energy.dim))


class _State:
    """Mutable accumulator of a census (points, flat points, saturation), kept private."""

    def __init__(self, dim):
        self.X = np.zeros((0, dim))
        self.e = np.zeros(0)
        self.k = np.zeros(0, dtype=int)
        self.gn = np.zeros(0)
        self.mins = np.zeros(0)
        self.low = np.zeros((0, 0))
        self.Xf = np.zeros((0, dim))
        self.ef = np.zeros(0)
        self.gf = np.zeros(0)
        self.n_degenerate = 0
        self.n_starts = 0
        self.last_new_at = 0
        self.saturation: list[tuple[int, int]] = []
        self.n_zero = 0


def _merge_batch(energy, state: _State, X, ver: Verified, symmetry, tol) -> dict:
    """New distinct points of a verified batch (with their symmetric images)."""
    d = energy.manifold.intrinsic_dim
    crit = ver.kind == "critical"
    Xc = _canonical(energy, X[crit])
    ec, kc = ver.energies[crit], ver.indices[crit]
    gc, mc = ver.grad_norms[crit], ver.min_abs_eigs[crit]
    lc = ver.low_eigs[crit]
    if symmetry is not None and Xc.shape[0]:
        Xi, ei, ki = symmetric_images(
            Xc, ec, kc, symmetry, d - int(ver.n_zero_modes.max(initial=0))
        )
        Xi = _canonical(energy, Xi)
        Xc = np.concatenate([Xc, Xi])
        ec = np.concatenate([ec, ei])
        kc = np.concatenate([kc, ki])
        gc = np.concatenate([gc, gc])
        mc = np.concatenate([mc, mc])
        lc = np.concatenate([lc, np.full_like(lc, np.nan)])
    new = deduplicate(state.X, Xc, tol)
    flat = ver.kind == "flat"
    newf = deduplicate(state.Xf, X[flat], tol) if flat.any() else np.zeros(0, dtype=bool)
    return {
        "X": Xc[new],
        "e": ec[new],
        "k": kc[new],
        "gn": gc[new],
        "mins": mc[new],
        "low": lc[new],
        "Xf": X[flat][newf],
        "ef": ver.energies[flat][newf],
        "gf": ver.grad_norms[flat][newf],
        "n_degenerate": int(np.sum(ver.kind == "degenerate")),
        "n_zero": int(ver.n_zero_modes.max(initial=0)),
    }


def _apply(state: _State, add: dict, size: int) -> None:
    state.n_starts += size
    if add["X"].shape[0]:
        state.X = np.concatenate([state.X, add["X"]])
        state.e = np.concatenate([state.e, add["e"]])
        state.k = np.concatenate([state.k, add["k"]])
        state.gn = np.concatenate([state.gn, add["gn"]])
        state.mins = np.concatenate([state.mins, add["mins"]])
        state.last_new_at = state.n_starts
    if add["Xf"].shape[0]:
        state.Xf = np.concatenate([state.Xf, add["Xf"]])
        state.ef = np.concatenate([state.ef, add["ef"]])
        state.gf = np.concatenate([state.gf, add["gf"]])
    state.n_degenerate += add["n_degenerate"]
    state.n_zero = max(state.n_zero, add["n_zero"])
    state.saturation.append((state.n_starts, state.X.shape[0]))


def census(
    energy: Energy,
    *,
    seed: SeedLike = None,
    batch_size: int = 256,
    min_starts: int | None = None,
    max_starts: int = 1_000_000,
    max_time: float | None = None,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    dist_tol: float = 1e-6,
    symmetry: str | None = "auto",
    lm_fraction: float = 0.25,
    max_iter: int = 80,
    deflation: bool = True,
    search_options: dict | None = None,
    energy_bins: Sequence[float] | int | None = None,
    catalogue=None,
    progress: bool | None = None,
) -> Census:
    """Census of the critical points of one energy instance, by index and energy.

    Batches of random starts run :func:`search_batch` (eigenvector following towards random
    target indices plus Levenberg–Marquardt), candidates are verified, put in canonical form
    (``energy.canonical_form`` if it exists), completed by their images under x -> -x when the
    energy has a parity, and deduplicated by distance. The census stops by itself when its
    certificate holds (Morse relation, index symmetry for odd energies, and no new point in a
    final stretch of starts at least as long as all the search before it), or at a budget.

    Parameters
    ----------
    energy : Energy
        The energy instance (dense Hessians are formed: keep the dimension small).
    seed : seed
        Seed of the starts; batch b uses the b-th spawned child, so a census is reproducible
        batch by batch (and resumable from a catalogue).
    batch_size : int
        Starts per batch (one stacked Newton iteration serves the whole batch).
    min_starts : int
        Starts before the census may stop (default 4 batches).
    max_starts, max_time : int, float
        Budgets (starts, seconds); the census stops at the first one reached.
    gtol, eig_tol : float
        Verification tolerances (see :func:`verify`).
    dist_tol : float
        Two points are the same when closer than ``dist_tol`` times the radius.
    symmetry : {"auto", "odd", "even", None}
        Parity under x -> -x used to complete and deduplicate ("auto": :func:`detect_symmetry`).
    lm_fraction, max_iter : float, int
        Search options (see :func:`search_batch`).
    deflation : bool
        Deflate each batch's searches away from the points already known (default True).
    search_options : dict, optional
        Extra options of the searches' :func:`newton_search` calls (e.g. ``{"adaptive":
        True, "trust_radius": 1.0}`` for networks).
    energy_bins : int or sequence
        Number of bins or bin edges of the intensive energy (default: 20 bins over the range
        found).
    catalogue : analysis.catalogue.Catalogue, optional
        Store points and finished batches as they are found; a rerun with the same catalogue,
        energy and seed resumes where it stopped and never duplicates.
    progress : bool or None
        Show progress (default: on a terminal only).

    Returns
    -------
    Census
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    bs = int(batch_size)
    if bs < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    if max_starts < 1:
        raise ValueError(f"max_starts must be >= 1; got {max_starts}")
    if max_time is not None and max_time <= 0:
        raise ValueError(f"max_time must be > 0 seconds; got {max_time}")
    if symmetry == "auto":
        symmetry = detect_symmetry(energy)
    elif symmetry not in ("odd", "even", None):
        raise ValueError(f"symmetry must be 'auto', 'odd', 'even' or None; got {symmetry!r}")
    min_starts = 4 * bs if min_starts is None else int(min_starts)
    root = as_seed_sequence(seed)
    tol = _dist_tol(energy, dist_tol)
    d = energy.manifold.intrinsic_dim
    state = _State(energy.dim)
    run_key = None
    if catalogue is not None:
        run_key = catalogue.begin_census(
            energy,
            seed_info(root),
            {
                "batch_size": bs,
                "gtol": gtol,
                "eig_tol": eig_tol,
                "dist_tol": dist_tol,
                "symmetry": symmetry,
                "lm_fraction": lm_fraction,
                "max_iter": max_iter,
                "deflation": deflation,
                **({"search_options": search_options} if search_options else {}),
            },
        )
        catalogue.restore_state(run_key, state)
    t0 = time.perf_counter()
    stopped = "max_starts"
    b = len(state.saturation)
    bar = Progress(max_starts, desc=f"census N={energy.dim}", enabled=progress)
    bar.update(state.n_starts)
    with bar:
        while True:
            cert = _certificate(energy, state.k, d, symmetry, state.last_new_at, state.n_starts)
            if state.n_starts >= min_starts and cert.complete:
                stopped = "certificate"
                break
            if state.n_starts >= max_starts:
                stopped = "max_starts"
                break
            if max_time is not None and time.perf_counter() - t0 >= max_time:
                stopped = "max_time"
                break
            size = min(bs, max_starts - state.n_starts)
            X, ver = search_batch(
                energy,
                _batch_seed(root, b),
                size,
                lm_fraction=lm_fraction,
                max_iter=max_iter,
                gtol=gtol,
                eig_tol=eig_tol,
                known=state.X,
                known_indices=state.k,
                deflation=deflation,
                search_options=search_options,
            )
            add = _merge_batch(energy, state, X, ver, symmetry, tol)
            if catalogue is not None:
                catalogue.commit_batch(run_key, b, size, add, state.X.shape[0] + add["X"].shape[0])
            _apply(state, add, size)
            b += 1
            bar.update(size, points=state.X.shape[0])
    return _finish(energy, state, symmetry, d, energy_bins, stopped, root, t0)


def _finish(energy, state, symmetry, d, energy_bins, stopped, root, t0) -> Census:
    order = np.argsort(state.e, kind="stable")
    e = state.e[order] / float(energy.scale)
    k = state.k[order].astype(int)
    counts = np.bincount(k, minlength=d + 1)[: d + 1] if k.size else np.zeros(d + 1, int)
    if energy_bins is None or isinstance(energy_bins, int | np.integer):
        nb = 20 if energy_bins is None else int(energy_bins)
        lo, hi = (float(e.min()), float(e.max())) if e.size else (-1.0, 1.0)
        pad = 1e-9 + 1e-6 * (hi - lo)
        edges = np.linspace(lo - pad, hi + pad, nb + 1)
    else:
        edges = np.asarray(energy_bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("energy_bins must be an int or increasing bin edges")
    cie = np.zeros((d + 1, edges.size - 1), dtype=int)
    if e.size:
        ib = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, edges.size - 2)
        inside = (e >= edges[0]) & (e <= edges[-1])
        np.add.at(cie, (k[inside], ib[inside]), 1)
    cert = _certificate(energy, state.k, d, symmetry, state.last_new_at, state.n_starts)
    return Census(
        points=state.X[order],
        energies=e,
        indices=k,
        grad_norms=state.gn[order],
        min_abs_eigs=state.mins[order],
        n_zero_modes=int(state.n_zero),
        counts_by_index=counts,
        energy_bins=edges,
        counts_by_index_energy=cie,
        saturation=np.array(state.saturation, dtype=int).reshape(-1, 2),
        certificate=cert,
        flat_points=state.Xf,
        flat_energies=state.ef / float(energy.scale),
        flat_grad_norms=state.gf,
        n_degenerate=int(state.n_degenerate),
        symmetry=symmetry,
        stopped_by=stopped,
        seed=seed_info(root),
        fingerprint=energy.fingerprint,
        elapsed=time.perf_counter() - t0,
    )


# ----------------------------------------------------------------------------- ensemble
@dataclass(frozen=True)
class CensusEnsemble:
    """Disorder-averaged census: mean counts per index with standard errors, beside theory.

    Attributes
    ----------
    counts : ndarray (S, d + 1)
        Counts per index for each sample.
    mean, stderr : ndarray (d + 1,)
        Mean and standard error of the mean per index.
    total_mean, total_stderr : float
        Same for the total number of points.
    theory : ndarray (d + 1,) or None
        Theory per index (e.g. Kac–Rice means).
    theory_total : float or None
        Theory total (sum over indices).
    z : ndarray (d + 1,) or None
        (mean - theory) / stderr per index.
    z_total : float or None
        Same for the total.
    energy_bins : ndarray
        Common intensive energy bin edges.
    counts_by_index_energy : ndarray (S, d + 1, B)
        Per-sample counts per index and energy bin.
    complete : ndarray (S,) of bool
        Certificate of each sample.
    seeds : list
        Seeds of the samples.
    """

    counts: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    total_mean: float
    total_stderr: float
    theory: np.ndarray | None
    theory_total: float | None
    z: np.ndarray | None
    z_total: float | None
    energy_bins: np.ndarray
    counts_by_index_energy: np.ndarray
    complete: np.ndarray
    seeds: list

    @property
    def n_samples(self) -> int:
        """Number of disorder samples."""
        return int(self.counts.shape[0])


def _theory_values(theory, n: int) -> np.ndarray | None:
    if theory is None:
        return None
    if callable(theory):
        vals = [theory(k) for k in range(n)]
        return np.array([float(getattr(v, "mean", v)) for v in vals])
    if isinstance(theory, dict):
        return np.array([float(theory.get(k, 0.0)) for k in range(n)])
    arr = np.asarray(theory, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"theory must give one value per index 0..{n - 1}; got shape {arr.shape}")
    return arr


def census_ensemble(
    make_energy: Callable[[SeedLike], Energy],
    seeds: Sequence,
    *,
    theory=None,
    census_seed: SeedLike = 0,
    energy_bins: Sequence[float] | None = None,
    on_sample: Callable[[int, Census], None] | None = None,
    **census_kw,
) -> CensusEnsemble:
    """Census over disorder samples: mean counts per index with standard errors.

    Parameters
    ----------
    make_energy : callable
        ``make_energy(seed) -> Energy`` builds one disorder sample.
    seeds : sequence
        One disorder seed per sample (at least 2 for a standard error).
    theory : None, array (d + 1,), dict {k: value} or callable k -> value
        Theory per index (e.g. ``lambda k: pspin.theory.kac_rice_mean(N, p, k=k)``).
    census_seed : seed
        Root of the search seeds; sample i uses its i-th spawned child.
    energy_bins : sequence, optional
        Common bin edges of the intensive energy (default: 20 bins over the pooled range).
    on_sample : callable, optional
        Called as ``on_sample(i, census)`` after each sample (for storage and progress).
    **census_kw
        Passed to :func:`census`.
    """
    seeds = list(seeds)
    if len(seeds) < 1:
        raise ValueError("census_ensemble needs at least one disorder seed")
    root = as_seed_sequence(census_seed)
    results = []
    for i, s in enumerate(seeds):
        en = make_energy(s)
        c = census(en, seed=_batch_seed(root, i), **census_kw)
        results.append(c)
        if on_sample is not None:
            on_sample(i, c)
    n = max(len(c.counts_by_index) for c in results)
    counts = np.zeros((len(results), n), dtype=np.int64)
    for i, c in enumerate(results):
        counts[i, : len(c.counts_by_index)] = c.counts_by_index
    S = counts.shape[0]
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / math.sqrt(S) if S > 1 else np.full(n, np.nan)
    tot = counts.sum(axis=1)
    tm = float(tot.mean())
    ts = float(tot.std(ddof=1) / math.sqrt(S)) if S > 1 else float("nan")
    th = _theory_values(theory, n)
    if energy_bins is None:
        allE = np.concatenate([c.energies for c in results]) if results else np.zeros(1)
        lo, hi = (float(allE.min()), float(allE.max())) if allE.size else (-1.0, 1.0)
        edges = np.linspace(lo - 1e-9, hi + 1e-9, 21)
    else:
        edges = np.asarray(energy_bins, dtype=np.float64)
    cie = np.zeros((S, n, edges.size - 1), dtype=np.int64)
    for i, c in enumerate(results):
        ib = np.clip(np.searchsorted(edges, c.energies, side="right") - 1, 0, edges.size - 2)
        inside = (c.energies >= edges[0]) & (c.energies <= edges[-1])
        np.add.at(cie[i], (c.indices[inside], ib[inside]), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = None if th is None else (mean - th) / se
        zt = None if th is None else float((tm - th.sum()) / ts)
    return CensusEnsemble(
        counts=counts,
        mean=mean,
        stderr=se,
        total_mean=tm,
        total_stderr=ts,
        theory=th,
        theory_total=None if th is None else float(th.sum()),
        z=z,
        z_total=zt,
        energy_bins=edges,
        counts_by_index_energy=cie,
        complete=np.array([c.complete for c in results]),
        seeds=seeds,
    )


# ----------------------------------------------------------------------------- networks
@dataclass(frozen=True)
class NetworkCriticalPoints:
    """Verified, deduplicated critical points of a one-hidden-layer network loss.

    Attributes
    ----------
    points : ndarray (n, P)
        Distinct critical points in canonical form, sorted by loss.
    losses : ndarray (n,)
        Their losses (``energy.energy``).
    indices : ndarray (n,)
        Number of negative Hessian eigenvalues (declared symmetry directions taken out).
    index_fractions : ndarray (n,)
        ``indices / P``.
    active_units : ndarray (n,)
        Width ``h'`` of the smaller network whose minimum was embedded (``P`` hidden units
        minus the dead ones).
    grad_norms, min_abs_eigs : ndarray (n,)
        Gradient norm and smallest |eigenvalue| (outside symmetries) of each point.
    n_zero_modes : ndarray (n,)
        Declared continuous symmetry directions taken out at each point.
    n_candidates : int
        Candidates verified (embedded minima of all widths).
    n_rejected : dict
        Candidates not counted, by kind (``"flat"``, ``"degenerate"``, ``"none"``) and
        ``"small"`` (the search in the smaller network did not reach a verified minimum).
    spearman : float
        Spearman rank correlation of index against loss over the distinct points.
    spearman_pvalue : float
        Its two-sided p-value (``scipy.stats.spearmanr``).
    seed : dict
        ``seed_info`` of the root seed.
    """

    points: np.ndarray
    losses: np.ndarray
    indices: np.ndarray
    index_fractions: np.ndarray
    active_units: np.ndarray
    grad_norms: np.ndarray
    min_abs_eigs: np.ndarray
    n_zero_modes: np.ndarray
    n_candidates: int
    n_rejected: dict
    spearman: float
    spearman_pvalue: float
    seed: dict = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        """Number of distinct verified critical points."""
        return int(self.points.shape[0])


def _dense_hessians(energy, X):
    """Exact Hessians (K, P, P) of a network loss, one ``_hvp_block`` per point (the forward
    pass is shared by the P columns: 6x faster than a replicated batch at P = 610)."""
    eye = np.eye(energy.dim)
    H = np.stack([energy._hvp_block(x, eye) for x in X])
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _saddle_free_newton(energy, X, max_iter, gtol):
    """Saddle-free Newton (Dauphin et al. 2014) to minima, switching to Newton near them.

    Step ``-|H|^-1 g`` (trust radius 1) with a backtracking line search on the loss; once
    ``|g| < 1e-6`` the Newton step ``-H^-1 g`` with backtracking on ``|g|`` (quadratic
    convergence to the minimum's rounding floor).
    """
    Y = np.array(X, dtype=np.float64, copy=True)
    for _ in range(max_iter):
        e, g = energy._energy_and_gradient(Y)
        gn = np.linalg.norm(g, axis=1)
        if np.all(gn <= gtol):
            break
        lam, W = eigh_stack(_dense_hessians(energy, Y), max_threaded=energy.dim)
        gw = np.einsum("kab,ka->kb", W, g)
        near = gn < 1e-6
        den = np.where(near[:, None], lam, np.maximum(np.abs(lam), 1e-8))
        d = np.einsum("kab,kb->ka", W, -gw / np.where(den == 0, 1e-300, den))
        dn = np.linalg.norm(d, axis=1)
        d *= np.minimum(1.0, 1.0 / np.maximum(dn, 1e-300))[:, None]
        done = gn <= gtol
        for a in (1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 32, 1 / 64, 1 / 128):
            Yn = Y + a * d
            en, gg = energy._energy_and_gradient(Yn)
            ok = ~done & np.where(near, np.linalg.norm(gg, axis=1) < gn, en < e)
            Y[ok] = Yn[ok]
            done |= ok
            if done.all():
                break
    return Y


def network_critical_points(
    energy,
    *,
    n_starts: int = 4,
    widths: Sequence[int] | None = None,
    seed: SeedLike = None,
    gd_steps: int = 300,
    gd_step: float = 0.1,
    max_iter: int = 60,
    gtol: float = 1e-10,
    dist_tol: float = 1e-6,
) -> NetworkCriticalPoints:
    """Critical points of many indices of a one-hidden-layer network loss, verified.

    Newton-type searches from random starts or from points along gradient-descent
    trajectories do not converge on tanh networks (the gradient lies mostly in directions of
    curvature below 1e-3; Levenberg–Marquardt decreases |g| only linearly, to ~1e-3 in 60
    iterations at P = 610). Instead the saddles are built from minima of narrower networks
    (Fukumizu & Amari 2000): a minimum of the ``h'``-unit network, embedded in the ``h``-unit
    network with ``h - h'`` dead units (zero incoming weights, bias and outgoing weights),
    is a critical point of the wider network when ``activation(0) = 0`` (tanh, linear): the
    dead units' gradients are ``act(0) D = 0`` and ``D W_out = 0``. Its index comes from the
    dead units' coupling to the residual and grows with the residual, i.e. with the loss.

    For each width ``h'`` in ``widths`` (default 0..h; ``h' = 0`` is the single point with
    every unit dead and the output bias at its optimum), ``n_starts`` random starts of the
    ``h'``-unit network run ``gd_steps`` gradient-descent steps, then saddle-free Newton to a
    minimum (exact dense Hessians); each minimum is embedded, checked with :func:`verify`
    (|g| <= ``gtol``, non-degenerate apart from declared symmetries), put in canonical form
    (hidden-unit permutations and sign flips) and deduplicated.

    Parameters
    ----------
    energy : landscapes.nn.MLPLoss
        One hidden layer, activation with ``act(0) = 0`` ("tanh" or "linear"). Weight decay
        > 0 is needed for the embedded points to be non-degenerate (a dead unit's incoming
        weights are flat directions otherwise).
    n_starts : int
        Random starts per width.
    widths : sequence of int, optional
        Narrower widths to embed (0 <= h' <= h); default all of 0..h.
    seed : seed-like
        Root seed; one child stream per width (``SeedSequence.spawn``).
    gd_steps, gd_step : int, float
        Gradient-descent steps and step size before Newton.
    max_iter : int
        Saddle-free Newton iterations.
    gtol : float
        Verification tolerance on |grad| (the loss scale is 1).
    dist_tol : float
        Two canonical points are the same when closer than ``dist_tol * sqrt(P)``.
    """
    from scipy.stats import spearmanr

    from analysis.dynamics import gradient_descent
    from landscapes.nn import MLPLoss

    if not isinstance(energy, MLPLoss) or len(energy.hidden) != 1:
        raise ValueError("network_critical_points needs an MLPLoss with one hidden layer")
    if energy.activation not in ("tanh", "linear"):
        raise ValueError(
            f"embedding dead units needs act(0) = 0 ('tanh' or 'linear'); got {energy.activation!r}"
        )
    if not isinstance(n_starts, int | np.integer) or n_starts < 1:
        raise ValueError(f"n_starts must be a positive int; got {n_starts!r}")
    h = energy.hidden[0]
    widths = list(range(h + 1)) if widths is None else [int(w) for w in widths]
    if not widths or min(widths) < 0 or max(widths) > h:
        raise ValueError(f"widths must lie in 0..{h}; got {widths}")
    root = as_seed_sequence(seed)
    children = root.spawn(len(widths))
    cands, act, rejected = [], [], {"small": 0}
    with _blas_threads(energy.dim, max_threaded=energy.dim):
        for w, ss in zip(widths, children, strict=True):
            if w == 0:
                # all units dead: only the output bias is free (its gradient vanishes at
                # the Newton point; the Hessian is block diagonal there, so Newton from
                # x = 0 stays on this face)
                y = _saddle_free_newton(energy, np.zeros((1, energy.dim)), max_iter, gtol)
                cands.append(y[0])
                act.append(0)
                continue
            small = MLPLoss(
                energy.data,
                hidden=(w,),
                activation=energy.activation,
                loss=energy.loss,
                weight_decay=energy.weight_decay,
            )
            X0 = small.random_point(ss, size=n_starts)
            r = gradient_descent(
                small,
                X0,
                step=gd_step,
                max_steps=gd_steps,
                gtol=0.0,
                on_divergence="flag",
                progress=False,
            )
            Y = _saddle_free_newton(small, r.x[~r.diverged], max_iter, gtol)
            vs = _verify(small, Y, gtol, 1e-7, 1e-3, 1e-3)
            good = (vs.kind == "critical") & (vs.indices == 0)
            rejected["small"] += int(n_starts - good.sum())
            for y in Y[good]:
                layers = small.unflatten(y)
                W1 = np.zeros((energy.sizes[0], h))
                b1 = np.zeros(h)
                W2 = np.zeros((h, energy.sizes[-1]))
                W1[:, :w], b1[:w], W2[:w] = layers[0][0], layers[0][1], layers[1][0]
                cands.append(energy.flatten([(W1, b1), (W2, layers[1][1])]))
                act.append(w)
        P = energy.dim
        Xc = np.array(cands).reshape(-1, P)
        ver = _verify(energy, Xc, gtol, 1e-7, 1e-3, 1e-3) if len(Xc) else None
    act = np.array(act, dtype=int)
    if ver is None:
        keep = np.zeros(0, dtype=bool)
    else:
        keep = ver.kind == "critical"
        for k in ("flat", "degenerate", "none"):
            rejected[k] = int(np.sum(ver.kind == k))
    Xk = _canonical(energy, Xc[keep])
    new = deduplicate(None, Xk, dist_tol * math.sqrt(P))
    sel = np.flatnonzero(keep)[new]
    order = np.argsort(ver.energies[sel]) if sel.size else sel
    sel = sel[order]
    idx = ver.indices[sel] if sel.size else np.zeros(0, dtype=int)
    losses = ver.energies[sel] if sel.size else np.zeros(0)
    if sel.size >= 3 and np.ptp(idx) > 0:
        rho, pv = spearmanr(losses, idx)
    else:
        rho, pv = float("nan"), float("nan")
    return NetworkCriticalPoints(
        points=Xk[new][order],
        losses=losses,
        indices=idx,
        index_fractions=idx / P,
        active_units=act[sel],
        grad_norms=ver.grad_norms[sel] if sel.size else np.zeros(0),
        min_abs_eigs=ver.min_abs_eigs[sel] if sel.size else np.zeros(0),
        n_zero_modes=ver.n_zero_modes[sel] if sel.size else np.zeros(0, dtype=int),
        n_candidates=int(len(Xc)),
        n_rejected=rejected,
        spearman=float(rho),
        spearman_pvalue=float(pv),
        seed=seed_info(root),
    )
