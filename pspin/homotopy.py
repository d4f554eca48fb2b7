"""All critical points of a pure spherical p-spin by total-degree homotopy continuation.

A point s of the sphere |s|^2 = N is critical for H(s) = S(s, ..., s) iff S(s^{p-1}) = mu s
(a real eigenvector of the symmetric tensor S). Rescaling x = c s turns every critical pair
{s, -s} with mu != 0 into real solutions of the polynomial system

    F(x) = S(x^{p-1}) - lambda x = 0,   lambda = +1 (and, for even p, also lambda = -1),

a square system of N equations of degree p - 1. Its total degree is (p-1)^N and a generic
tensor attains it: x = 0 plus (p-1)^N - 1 non-zero isolated solutions (Cartwright & Sturmfels
2013), all finite. The start system G(x)_i = x_i^{p-1} - 1 has the (p-1)^N solutions whose
coordinates are (p-1)-th roots of unity, and the homotopy

    h(x, t) = (1 - t) gamma G(x) + t F(x),   gamma a random unit complex number ("gamma trick"),

has, for almost every gamma, (p-1)^N smooth paths from t = 0 to t = 1 that never meet. All
paths are tracked at once (one batched contraction with the couplings and one stacked complex
linear solve per stage): an RK4 predictor, a Newton corrector whose first step must be small
(protection against path jumping), and per-path adaptive step sizes. The endgame polishes every
endpoint by Newton's method on F at t = 1; paths that did not converge, and every path whose
endpoint coincides with another's, are re-tracked from their start points with the same gamma
and tighter step control. Counting (p-1)^N distinct finite endpoints certifies that every
solution, hence every critical point with mu != 0, was found (Mehta, Stariolo & Kastner 2013
used this to enumerate the 3-spin up to N = 20).

Numpy only; this module never imports ``analysis``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from landscapes.random import SeedLike, as_generator

__all__ = ["HomotopyResult", "track_eigenvector_paths", "pspin_critical_points"]


@dataclass(frozen=True)
class HomotopyResult:
    """All critical points of a pure spherical p-spin found by homotopy continuation.

    Attributes
    ----------
    points : ndarray (n, N)
        Critical points on the sphere of radius sqrt(N), sorted by energy (both members of
        every pair {s, -s} are included).
    energies : ndarray (n,)
        Energies per spin H/N.
    indices : ndarray (n,)
        Number of negative eigenvalues of the (N-1)x(N-1) Riemannian Hessian.
    grad_norms : ndarray (n,)
        Riemannian gradient norms after polishing.
    min_abs_eigs : ndarray (n,)
        Smallest |eigenvalue| of the Riemannian Hessian (non-degeneracy).
    n_paths : int
        Paths tracked per value of lambda, (p-1)^N.
    n_distinct : int
        Distinct finite endpoints found (per lambda, summed over the lambdas tracked).
    n_expected : int
        What a complete run gives: n_paths times the number of lambdas tracked.
    complete : bool
        Every path converged and the endpoints are pairwise distinct: the census is exact.
    n_real : int
        Real non-zero solutions (each gives one pair of critical points).
    retracks : int
        Paths re-tracked in the endgame.
    gammas : tuple of complex
        The gamma constants used (one per lambda).
    """

    points: np.ndarray
    energies: np.ndarray
    indices: np.ndarray
    grad_norms: np.ndarray
    min_abs_eigs: np.ndarray
    n_paths: int
    n_distinct: int
    n_expected: int
    complete: bool
    n_real: int
    retracks: int
    gammas: tuple = field(default_factory=tuple)

    @property
    def counts_by_index(self) -> np.ndarray:
        """Number of critical points of each index 0..N-1."""
        N = self.points.shape[1] if self.points.size else 0
        return np.bincount(self.indices, minlength=N)


# ----------------------------------------------------------------------------- kernels
def _contract(S: np.ndarray, X: np.ndarray, N: int, p: int) -> np.ndarray:
    """M(x) = S(x^{p-2}, ., .) for a complex batch X (P, N): shape (P, N, N)."""
    P = X.shape[0]
    if p == 2:
        return np.broadcast_to(S.reshape(N, N), (P, N, N)).astype(X.dtype)
    Z = X.real @ S + 1j * (X.imag @ S)  # (P, N^{p-1}); one pass over the couplings
    for _ in range(p - 3):
        Z = np.einsum("ki,kij->kj", X, Z.reshape(P, N, -1))
    return Z.reshape(P, N, N)


def _system(S, X, t, gamma, lam, N, p, want_t=False):
    """h(x, t), its Jacobian in x and (optionally) its t-derivative, batched over paths."""
    M = _contract(S, X, N, p)
    F = np.einsum("kij,kj->ki", M, X) - lam * X
    JF = (p - 1) * M - lam * np.eye(N)
    G = X ** (p - 1) - 1.0
    dG = (p - 1) * X ** (p - 2)
    tt = t[:, None]
    H = (1.0 - tt) * gamma * G + tt * F
    J = tt[:, :, None] * JF
    J[:, np.arange(N), np.arange(N)] += (1.0 - tt) * gamma * dG
    if want_t:
        return H, J, F - gamma * G
    return H, J


def _velocity(S, X, t, gamma, lam, N, p):
    _, J, Ht = _system(S, X, t, gamma, lam, N, p, want_t=True)
    return -np.linalg.solve(J, Ht[..., None])[..., 0]


def _norm(X):
    return np.sqrt(np.sum(np.abs(X) ** 2, axis=-1))


def _track(S, X0, gamma, lam, N, p, *, beta, dt_max, max_steps=20000):
    """Track paths from t = 0 (start solutions X0) to t = 1; returns (X, ok)."""
    P = X0.shape[0]
    X = X0.copy()
    t = np.zeros(P)
    dt = np.full(P, min(0.02, dt_max))
    active = np.ones(P, dtype=bool)
    failed = np.zeros(P, dtype=bool)
    for _ in range(max_steps):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        x, tk = X[idx], t[idx]
        h = np.minimum(dt[idx], 1.0 - tk)
        hh = h[:, None]
        with np.errstate(all="ignore"):
            k1 = _velocity(S, x, tk, gamma, lam, N, p)
            k2 = _velocity(S, x + 0.5 * hh * k1, tk + 0.5 * h, gamma, lam, N, p)
            k3 = _velocity(S, x + 0.5 * hh * k2, tk + 0.5 * h, gamma, lam, N, p)
            k4 = _velocity(S, x + hh * k3, tk + h, gamma, lam, N, p)
            xp = x + hh / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            t1 = tk + h
            scale = 1.0 + _norm(xp)
            ok = np.isfinite(xp).all(axis=1)
            first = None
            for it in range(3):
                Hc, Jc = _system(S, xp, t1, gamma, lam, N, p)
                d = np.linalg.solve(Jc, Hc[..., None])[..., 0]
                xp = xp - d
                nd = _norm(d)
                if it == 0:
                    first = nd
                ok &= np.isfinite(nd)
            ok &= (first <= beta * scale) & (nd <= 1e-9 * scale)
        good = idx[ok]
        bad = idx[~ok]
        X[good] = xp[ok]
        t[good] = t1[ok]
        dt[good] = np.minimum(dt[good] * 1.6, dt_max)
        dt[bad] *= 0.5
        finished = good[t[good] >= 1.0]
        active[finished] = False
        dead = bad[(dt[bad] < 1e-13) | ~np.isfinite(X[bad]).all(axis=1)]
        dead = np.concatenate([dead, good[_norm(X[good]) > 1e10]])
        failed[dead] = True
        active[dead] = False
    failed |= active  # ran out of steps
    return X, ~failed


def _polish(S, X, lam, N, p, iters=6):
    """Newton on F at t = 1 (complex); returns (X, residual norms)."""
    with np.errstate(all="ignore"):
        for _ in range(iters):
            one = np.ones(X.shape[0])
            H, J = _system(S, X, one, 1.0, lam, N, p)
            X = X - np.linalg.solve(J, H[..., None])[..., 0]
        H, _ = _system(S, X, np.ones(X.shape[0]), 1.0, lam, N, p)
    return X, _norm(H)


def _coincident(X: np.ndarray, tol: float) -> np.ndarray:
    """Mask of rows whose (relative) distance to another row is below ``tol``."""
    P = X.shape[0]
    out = np.zeros(P, dtype=bool)
    sq = np.sum(np.abs(X) ** 2, axis=1)
    Xc = X.conj()
    step = max(1, int(2**22 // max(P, 1)))
    for a in range(0, P, step):
        b = min(P, a + step)
        d2 = sq[a:b, None] + sq[None, :] - 2.0 * np.real(X[a:b] @ Xc.T)
        d2[np.arange(b - a), np.arange(a, b)] = np.inf
        lim = (tol * (1.0 + np.sqrt(np.maximum(sq[a:b, None], sq[None, :])))) ** 2
        out[a:b] = np.any(d2 < lim, axis=1)
    return out


def track_eigenvector_paths(
    S: np.ndarray,
    N: int,
    p: int,
    *,
    lam: float = 1.0,
    seed: SeedLike = None,
    beta: float = 0.02,
    dt_max: float = 0.05,
    max_rounds: int = 4,
) -> tuple[np.ndarray, dict]:
    """All solutions of S(x^{p-1}) = lam x by total-degree homotopy.

    Parameters
    ----------
    S : ndarray (N, N^{p-1})
        The symmetric coupling tensor, flattened after its first axis.
    N, p : int
        Dimension and order.
    lam : float
        Right-hand side constant (+1 or -1).
    seed : seed
        Draws gamma.
    beta : float
        Largest accepted first Newton correction, relative to 1 + |x| (path-jumping guard).
    dt_max : float
        Largest step in t.
    max_rounds : int
        Endgame rounds that re-track failed or coinciding paths with tighter control.

    Returns
    -------
    X : ndarray ((p-1)^N, N) complex
        Endpoints, one per start solution.
    info : dict
        ``gamma``, ``converged`` (mask), ``residuals``, ``n_distinct``, ``retracks``.
    """
    rng = as_generator(seed)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    gamma = complex(np.cos(phase), np.sin(phase))
    roots = np.exp(2j * np.pi * np.arange(p - 1) / (p - 1))
    X0 = np.array(list(itertools.product(roots, repeat=N)), dtype=complex)
    S = np.ascontiguousarray(S, dtype=np.float64).reshape(N, -1)
    X, ok = _track(S, X0, gamma, lam, N, p, beta=beta, dt_max=dt_max)
    X, res = _polish(S, X, lam, N, p)
    retracks = 0
    for _round in range(max_rounds):
        ok = ok & (res <= 1e-8 * (1.0 + _norm(X))) & np.isfinite(X).all(axis=1)
        redo = ~ok | _coincident(np.where(np.isfinite(X), X, 0.0), 1e-6)
        if not redo.any():
            break
        beta /= 8.0
        dt_max /= 4.0
        idx = np.nonzero(redo)[0]
        retracks += idx.size
        Xr, okr = _track(S, X0[idx], gamma, lam, N, p, beta=beta, dt_max=dt_max)
        Xr, resr = _polish(S, Xr, lam, N, p)
        X[idx], ok[idx], res[idx] = Xr, okr, resr
    ok = ok & (res <= 1e-8 * (1.0 + _norm(X))) & np.isfinite(X).all(axis=1)
    Xf = np.where(np.isfinite(X), X, 0.0)
    dup = _coincident(Xf, 1e-6)
    n_distinct = int(np.sum(ok & ~dup))
    return X, {
        "gamma": gamma,
        "converged": ok,
        "residuals": res,
        "n_distinct": n_distinct,
        "retracks": retracks,
    }


def _riemannian_spectrum(S, Xs, N, p):
    """Energies, Riemannian gradient norms and Hessian eigenvalues at sphere points."""
    M = _contract(S, Xs.astype(complex), N, p).real
    Mx = np.einsum("kij,kj->ki", M, Xs)
    e = np.einsum("ki,ki->k", Xs, Mx)
    g = p * Mx
    rg = g - (np.sum(Xs * g, axis=1) / N)[:, None] * Xs
    # tangent basis: Householder reflection taking x/|x| to -+e_N
    u = Xs / np.linalg.norm(Xs, axis=1, keepdims=True)
    sign = np.where(u[:, -1] >= 0, 1.0, -1.0)
    w = u.copy()
    w[:, -1] += sign
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    Q = np.eye(N)[None] - 2.0 * w[:, :, None] * w[:, None, :]
    B = Q[:, :, :-1]
    R = p * (p - 1) * np.einsum("kia,kij,kjb->kab", B, M, B)
    R -= (p * e / N)[:, None, None] * np.eye(N - 1)
    ev = np.linalg.eigvalsh(0.5 * (R + np.swapaxes(R, 1, 2)))
    return e, np.linalg.norm(rg, axis=1), ev


def _real_newton_sphere(S, Xs, N, p, iters=4):
    """Polish sphere points with Newton on the real eigen-equation (then renormalize)."""
    for _ in range(iters):
        mu = (
            p
            * np.einsum(
                "ki,ki->k",
                Xs,
                np.einsum("kij,kj->ki", _contract(S, Xs.astype(complex), N, p).real, Xs),
            )
            / N
        )
        c = np.abs(p / mu) ** (1.0 / (p - 2)) if p > 2 else np.ones_like(mu)
        lam = np.sign(mu) if p > 2 else mu / p
        x = Xs * c[:, None]
        M = _contract(S, x.astype(complex), N, p).real
        F = np.einsum("kij,kj->ki", M, x) - lam[:, None] * x
        J = (p - 1) * M - lam[:, None, None] * np.eye(N)
        x = x - np.linalg.solve(J, F[..., None])[..., 0]
        Xs = np.sqrt(N) * x / np.linalg.norm(x, axis=1, keepdims=True)
    return Xs


def pspin_critical_points(
    model,
    *,
    seed: SeedLike = None,
    real_tol: float = 1e-7,
    beta: float = 0.02,
    dt_max: float = 0.05,
) -> HomotopyResult:
    """Every critical point of a pure spherical p-spin (p >= 3) by homotopy continuation.

    Parameters
    ----------
    model : pspin.SphericalPSpin
        The pure model (its symmetric tensor is used; MixedPSpin is not homogeneous).
    seed : seed
        Draws the gamma constants.
    real_tol : float
        A solution is real when max |Im x| <= real_tol (1 + |x|).
    beta, dt_max : float
        Step control of the path tracker (see :func:`track_eigenvector_paths`).

    Returns
    -------
    HomotopyResult
        ``complete`` is True when all (p-1)^N paths (per lambda) ended at distinct finite
        solutions, which certifies that ``points`` holds every critical point with non-zero
        energy (a critical point at H = 0 exactly has probability zero).

    Notes
    -----
    Cost: (p-1)^N paths, each a few hundred batched N x N complex solves. p = 3, N = 10 is
    1024 paths (seconds); N = 14 is 16384.
    """
    S = getattr(model, "_S", None)
    p = getattr(model, "p", None)
    if S is None or p is None or not hasattr(model, "N"):
        raise ValueError(
            "pspin_critical_points needs a pure SphericalPSpin (a homogeneous polynomial); "
            f"got {type(model).__name__}"
        )
    N = int(model.N)
    p = int(p)
    if p < 3:
        raise ValueError(
            "homotopy enumeration needs p >= 3 (for p = 2 the critical points are the 2N "
            "eigenvectors of the coupling matrix: use numpy.linalg.eigh)"
        )
    if (p - 1) ** N > 2**22:
        raise ValueError(f"(p-1)^N = {(p - 1) ** N} paths is too many for this tracker")
    S = np.asarray(S, dtype=np.float64)
    lams = [1.0] if p % 2 == 1 else [1.0, -1.0]
    rng = as_generator(seed)
    reals = []
    n_distinct = 0
    complete = True
    retracks = 0
    gammas = []
    for lam in lams:
        X, info = track_eigenvector_paths(S, N, p, lam=lam, seed=rng, beta=beta, dt_max=dt_max)
        gammas.append(info["gamma"])
        n_distinct += info["n_distinct"]
        retracks += info["retracks"]
        complete &= info["n_distinct"] == X.shape[0]
        ok = info["converged"]
        nrm = _norm(X)
        real = ok & (np.max(np.abs(X.imag), axis=1) <= real_tol * (1.0 + nrm)) & (nrm > 1e-6)
        reals.append(X[real].real)
    Xr = np.concatenate(reals) if reals else np.zeros((0, N))
    n_real = Xr.shape[0]
    if n_real:
        Xs = np.sqrt(N) * Xr / np.linalg.norm(Xr, axis=1, keepdims=True)
        Xs = np.concatenate([Xs, -Xs])
        Xs = _real_newton_sphere(S, Xs, N, p)
        # unique points (even p gives each pair twice: from +x and -x)
        D = np.linalg.norm(Xs[:, None, :] - Xs[None, :, :], axis=-1)
        dup = np.any(np.triu(D < 1e-6, k=1), axis=0)
        keep = ~dup
        Xs = Xs[keep]
        e, gn, ev = _riemannian_spectrum(S, Xs, N, p)
        order = np.argsort(e, kind="stable")
        Xs, e, gn, ev = Xs[order], e[order], gn[order], ev[order]
        idx = np.sum(ev < 0, axis=1)
        mins = np.min(np.abs(ev), axis=1)
    else:
        Xs = np.zeros((0, N))
        e = gn = mins = np.zeros(0)
        idx = np.zeros(0, dtype=int)
    return HomotopyResult(
        points=Xs,
        energies=e / N,
        indices=idx.astype(int),
        grad_norms=gn,
        min_abs_eigs=mins,
        n_paths=(p - 1) ** N,
        n_distinct=int(n_distinct),
        n_expected=(p - 1) ** N * len(lams),
        complete=bool(complete),
        n_real=int(n_real),
        retracks=int(retracks),
        gammas=tuple(gammas),
    )
