"""Minimum-residual Newton (Newton-MR): critical points of any index, gradient-flat points apart.

Newton-MR (Roosta, Liu, Xu & Mahoney 2018; used on network losses by Frye, Simon, Wadia,
Ligeralde, DeWeese & Bouchard 2020) takes at ``x`` the step ``p`` that minimizes the
residual ``|H p + g|`` (``H`` the Hessian, ``g`` the gradient), computed by MINRES
(``scipy.sparse.linalg.minres`` on a LinearOperator of Hessian-vector products, started from
0, so the step is the minimum-norm least-squares step in exact arithmetic, as MINRES-QLP
would give), and a backtracking line search on the merit ``|g|^2 / 2`` (Armijo on
``<p, H g>``, which MINRES makes negative). Near a non-degenerate critical point of any index
the iteration is Newton's (quadratic); it is not attracted to minima only, so from spread
starts it reaches critical points of many indices.

Where the Hessian is (nearly) singular and the gradient lies in its near-null space, the
merit cannot be decreased and the iteration stalls at a *gradient-flat* point (Frye et al.
2020): ``|g|`` small but not zero. Such points are never counted as critical points; each
result carries ``|g|`` and the fraction of the gradient in the near-null space
(:func:`null_fraction`) so they can be reported as their own category.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.linalg import LinearOperator, minres

from analysis.critical.hessians import eigh_stack
from analysis.critical.transition import symmetry_basis
from analysis.critical.verify import verify
from landscapes.energy import Energy

__all__ = ["NewtonMR", "newton_mr", "null_fraction", "KINDS"]

#: Categories of :func:`newton_mr` results.
KINDS = ("critical", "flat", "degenerate", "none")


@dataclass(frozen=True)
class NewtonMR:
    """Results of :func:`newton_mr` for a batch of starts.

    Attributes
    ----------
    x : ndarray (K, dim)
        Final points.
    kind : ndarray (K,) of str
        ``"critical"`` (|grad| <= gtol * scale and the Hessian non-degenerate apart from the
        declared symmetry directions: counted), ``"flat"`` (gradient-flat: not critical,
        |grad| <= flat_gtol * scale and at least ``flat_fraction`` of the gradient in the
        near-null space), ``"degenerate"`` (critical, but a zero eigenvalue outside the
        symmetries) or ``"none"`` (did not converge).
    energies : ndarray (K,)
        Energies (extensive).
    grad_norms : ndarray (K,)
        Gradient norms.
    indices : ndarray (K,)
        Negative Hessian eigenvalues (symmetry directions excluded).
    index_fractions : ndarray (K,)
        ``indices / d`` with ``d`` the dimension without the symmetry directions.
    null_fractions : ndarray (K,)
        ``|P_0 g| / |g|``: fraction of the gradient in the near-null space (eigenvalues
        ``|lambda| <= null_tol * max |lambda|``).
    min_abs_eigs : ndarray (K,)
        Smallest |eigenvalue| outside the symmetry directions.
    iterations : ndarray (K,)
        Newton-MR iterations.
    n_hvp : ndarray (K,)
        Hessian-vector products used by MINRES.
    options : dict
        The tolerances used.
    """

    x: np.ndarray
    kind: np.ndarray
    energies: np.ndarray
    grad_norms: np.ndarray
    indices: np.ndarray
    index_fractions: np.ndarray
    null_fractions: np.ndarray
    min_abs_eigs: np.ndarray
    iterations: np.ndarray
    n_hvp: np.ndarray
    options: dict = field(default_factory=dict)

    def counts(self) -> dict:
        """Number of results of each kind."""
        return {k: int(np.sum(self.kind == k)) for k in KINDS}


def null_fraction(
    energy: Energy, X: np.ndarray, null_tol: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of the gradient in the near-null space of the Hessian, and the index fraction.

    For each point: dense eigendecomposition of the Hessian restricted to the complement of the
    declared symmetry directions; the near-null space holds the eigenvectors with
    ``|lambda| <= null_tol * max |lambda|``. Returns ``(fractions, index_fractions)``.
    """
    X, _ = energy.as_batch(X, "X")
    n = energy.dim
    eye = np.eye(n)
    fr = np.zeros(X.shape[0])
    ix = np.zeros(X.shape[0])
    _, G = energy.batch_energy_and_gradient(X)
    for k in range(X.shape[0]):  # dense Hessians, one block HVP each
        H = energy.block_hvp(X[k], eye)
        H = 0.5 * (H + H.T)
        Q = symmetry_basis(energy, X[k])
        if Q.shape[0]:
            u, _, _ = np.linalg.svd(Q.T, full_matrices=True)
            C = u[:, Q.shape[0] :]
        else:
            C = eye
        lam, W = eigh_stack((C.T @ H @ C)[None])
        lam, W = lam[0], W[0]
        gc = W.T @ (C.T @ G[k])
        null = np.abs(lam) <= null_tol * max(float(np.max(np.abs(lam))), 1e-300)
        gn = np.linalg.norm(gc)
        fr[k] = float(np.linalg.norm(gc[null]) / gn) if gn > 0 else 0.0
        ix[k] = float(np.sum(lam < 0)) / lam.size
    return fr, ix


def _newton_mr_one(energy, x, max_iter, gtol, max_step, inner_maxiter, inner_rtol):
    """Newton-MR from one point: returns (x, iterations, hvps)."""
    n = energy.dim
    thr = gtol * float(energy.scale)
    hvps = 0
    it = 0
    g = energy.gradient(x)
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        gn = float(np.linalg.norm(g))
        if gn <= thr:
            break
        count = [0]

        def mv(v, _x=x, _c=count):
            _c[0] += 1
            return energy.block_hvp(_x, np.asarray(v, dtype=np.float64).reshape(1, -1))[0]

        op = LinearOperator((n, n), matvec=mv, dtype=np.float64)
        p, _ = minres(op, -g, rtol=inner_rtol, maxiter=inner_maxiter)
        hvps += count[0]
        Hg = energy.block_hvp(x, g[None])[0]
        hvps += 1
        slope = float(p @ Hg)  # d/dt |g(x + t p)|^2 / 2 at t = 0
        if not np.isfinite(slope) or slope >= 0:
            p = -Hg
            slope = -float(Hg @ Hg)
            if slope == 0:
                break
        pn = np.linalg.norm(p)
        if pn > max_step:
            p = p * (max_step / pn)
            slope *= max_step / pn
        t = 1.0
        phi = 0.5 * gn**2
        accepted = False
        for _ in range(40):
            xn = x + t * p
            en, gnew = energy.energy_and_gradient(xn)
            if np.isfinite(en) and 0.5 * float(gnew @ gnew) <= phi + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        x, g = xn, gnew
    return x, it, hvps


def _hessians(energy, X):
    """Dense Hessians ``(K, n, n)`` of a batch, by one paired HVP call (no loop over K)."""
    K, n = X.shape
    eye = np.eye(n)
    H = energy.batch_hvp(np.repeat(X, n, axis=0), np.tile(eye, (K, 1))).reshape(K, n, n)
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _newton_mr_dense(energy, X, max_iter, gtol, max_step, rcond):
    """Newton-MR for all starts at once with the exact minimum-norm least-squares step.

    ``p = -H^+ g`` from a stacked ``eigh`` (eigenvalues below ``rcond`` times the largest
    treated as zero): the step MINRES-QLP converges to, for every start in one pass.
    """
    K = X.shape[0]
    X = X.copy()
    thr = gtol * float(energy.scale)
    iters = np.zeros(K, dtype=int)
    _, G = energy.batch_energy_and_gradient(X)
    frozen = np.zeros(K, dtype=bool)
    for _ in range(max_iter):
        gn = np.linalg.norm(G, axis=1)
        act = np.flatnonzero((gn > thr) & ~frozen)
        if act.size == 0:
            break
        iters[act] += 1
        H = _hessians(energy, X[act])
        lam, W = eigh_stack(H)
        big = np.abs(lam) > rcond * np.max(np.abs(lam), axis=1, keepdims=True)
        gw = np.einsum("kab,ka->kb", W, G[act])
        inv = np.where(big, 1.0 / np.where(big, lam, 1.0), 0.0)
        P = -np.einsum("kab,kb->ka", W, inv * gw)
        Hg = np.einsum("kab,kb->ka", W, lam * gw)
        slope = np.einsum("ka,ka->k", P, Hg)
        bad = ~np.isfinite(slope) | (slope >= 0)
        P[bad] = -Hg[bad]
        slope[bad] = -np.einsum("ka,ka->k", Hg[bad], Hg[bad])
        pn = np.linalg.norm(P, axis=1)
        c = np.minimum(1.0, max_step / np.maximum(pn, 1e-300))
        P *= c[:, None]
        slope *= c
        phi = 0.5 * gn[act] ** 2
        t = np.ones(act.size)
        pending = slope < 0
        for _ in range(40):
            if not pending.any():
                break
            i = np.flatnonzero(pending)
            Xn = X[act[i]] + t[i, None] * P[i]
            en, gnew = energy.batch_energy_and_gradient(Xn)
            okk = np.isfinite(en) & (
                0.5 * np.sum(gnew**2, axis=1) <= phi[i] + 1e-4 * t[i] * slope[i]
            )
            X[act[i[okk]]] = Xn[okk]
            G[act[i[okk]]] = gnew[okk]
            pending[i[okk]] = False
            t[i[~okk]] *= 0.5
        frozen[act[pending | (slope >= 0)]] = True  # no decrease of the merit: stalled
    return X, iters


def newton_mr(
    energy: Energy,
    X0: np.ndarray,
    *,
    solver: str = "auto",
    dense_max: int = 300,
    rcond: float = 1e-12,
    max_iter: int = 100,
    gtol: float = 1e-10,
    max_step: float = 1.0,
    inner_maxiter: int | None = None,
    inner_rtol: float = 1e-10,
    eig_tol: float = 1e-7,
    flat_gtol: float = 1e-3,
    flat_fraction: float = 0.5,
    null_tol: float = 1e-3,
) -> NewtonMR:
    """Newton-MR from each start, then classification of the end points.

    Parameters
    ----------
    energy : Energy
        On Euclidean space.
    X0 : ndarray (K, dim)
        Starts (not modified).
    solver : {"auto", "minres", "dense"}
        ``"minres"``: each step by MINRES on a LinearOperator of HVPs; MINRES solves one
        system at a time, so the starts run one after another (each iteration costs at most
        ``inner_maxiter`` HVPs, default ``dim``, and a line search). ``"dense"``: the exact
        minimum-norm least-squares step ``-H^+ g`` (eigenvalues below ``rcond`` times the
        largest dropped) for all starts at once, from stacked dense Hessians. ``"auto"``:
        dense when ``dim <= dense_max``.
    max_iter : int
        Newton-MR iterations per start.
    gtol : float
        Critical when |grad| <= gtol * scale (default 1e-10).
    max_step : float
        Largest step norm.
    inner_maxiter, inner_rtol : int, float
        MINRES iterations and relative residual tolerance.
    eig_tol : float
        Degenerate when min |eigenvalue| <= eig_tol * max |eigenvalue| (symmetries excluded).
    flat_gtol, flat_fraction, null_tol : float
        A non-critical end point with |grad| <= flat_gtol * scale and at least
        ``flat_fraction`` of its gradient in the near-null space (``null_tol``) is
        gradient-flat.
    """
    if max_iter < 1 or gtol <= 0 or max_step <= 0:
        raise ValueError(
            f"max_iter must be >= 1, gtol > 0 and max_step > 0; got {max_iter}, {gtol}, {max_step}"
        )
    if not 0 < flat_fraction <= 1:
        raise ValueError(f"flat_fraction must lie in (0, 1]; got {flat_fraction}")
    X, _ = energy.as_batch(X0, "X0")
    energy.manifold.check_on(X, name="X0")
    K = X.shape[0]
    Y = np.array(X, copy=True)
    iters = np.zeros(K, dtype=int)
    hv = np.zeros(K, dtype=int)
    if solver not in ("auto", "minres", "dense"):
        raise ValueError(f"solver must be 'auto', 'minres' or 'dense'; got {solver!r}")
    if solver == "dense" or (solver == "auto" and energy.dim <= dense_max):
        Y, iters = _newton_mr_dense(energy, Y, int(max_iter), gtol, max_step, rcond)
        hv = iters * energy.dim
    else:
        inner = energy.dim if inner_maxiter is None else int(inner_maxiter)
        for k in range(K):
            Y[k], iters[k], hv[k] = _newton_mr_one(
                energy, Y[k].copy(), int(max_iter), gtol, max_step, inner, inner_rtol
            )
    ver = verify(energy, Y, gtol=gtol, eig_tol=eig_tol, flat_gtol=flat_gtol, flat_ratio=1.0)
    nf, _ = null_fraction(energy, Y, null_tol)
    kind = np.array(ver.kind, dtype=object)
    kind[kind == "flat"] = "none"  # re-decided below by the null-space fraction
    scale = float(energy.scale)
    flat = (kind == "none") & (ver.grad_norms <= flat_gtol * scale) & (nf >= flat_fraction)
    kind[flat] = "flat"
    d = energy.dim - ver.n_zero_modes
    return NewtonMR(
        x=Y,
        kind=kind.astype(str),
        energies=np.asarray(ver.energies),
        grad_norms=np.asarray(ver.grad_norms),
        indices=np.asarray(ver.indices),
        index_fractions=np.asarray(ver.indices) / np.maximum(d, 1),
        null_fractions=nf,
        min_abs_eigs=np.asarray(ver.min_abs_eigs),
        iterations=iters,
        n_hvp=hv,
        options={
            "gtol": gtol,
            "eig_tol": eig_tol,
            "flat_gtol": flat_gtol,
            "flat_fraction": flat_fraction,
            "null_tol": null_tol,
            "max_iter": int(max_iter),
            "solver": solver,
        },
    )
