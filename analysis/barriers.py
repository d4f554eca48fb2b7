"""Energy barriers between minima: interpolation paths and nudged elastic bands.

* :func:`linear_path`: the energy along the straight segment (Euclidean space) or the great
  circle arc (sphere) between two points;
* :func:`nudged_elastic_band`: a chain of images between two minima relaxed on the manifold
  (Henkelman & Jónsson 2000: improved tangents, springs along the band only, the true force
  across it; with a climbing image the highest image climbs to the saddle along the band and
  descends across it), batched over bands (one energy call per step serves all images of all
  bands) and driven by FIRE (Bitzek et al. 2006) with retraction onto the manifold;
* :func:`refine_saddle`: Newton's eigenvector following with target index 1
  (:func:`analysis.critical.newton_search`) from the band's highest image, verified.

Energies in results are intensive (``energy / energy.scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.critical import Verified, newton_search, verify
from landscapes.energy import Energy

__all__ = ["BarrierPath", "linear_path", "nudged_elastic_band", "refine_saddle"]


@dataclass(frozen=True)
class BarrierPath:
    """Energies along a path between two points and its highest point.

    Attributes
    ----------
    kind : str
        ``"straight"``, ``"geodesic"`` or ``"neb"``.
    points : ndarray (n, dim)
        Points of the path, from the first end to the second.
    s : ndarray (n,)
        Normalized arc length (0 at the first end, 1 at the second).
    energies : ndarray (n,)
        Intensive energies along the path.
    i_max : int
        Index of the highest point.
    barrier : float
        Highest energy minus the energy of the first end (intensive).
    barrier_back : float
        Highest energy minus the energy of the second end.
    converged : bool
        The band's largest force fell below its tolerance (True for interpolation paths).
    max_force : float
        Largest force on an image at the end (NEB), or 0.
    iterations : int
        Relaxation steps taken (0 for interpolation paths).
    """

    kind: str
    points: np.ndarray
    s: np.ndarray
    energies: np.ndarray
    i_max: int
    barrier: float
    barrier_back: float
    converged: bool = True
    max_force: float = 0.0
    iterations: int = 0

    @property
    def x_max(self) -> np.ndarray:
        """The highest point of the path."""
        return self.points[self.i_max]

    @property
    def e_max(self) -> float:
        """The highest intensive energy along the path."""
        return float(self.energies[self.i_max])


def _check_ends(energy: Energy, xa, xb):
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    A = np.atleast_2d(np.asarray(xa, dtype=np.float64))
    B = np.atleast_2d(np.asarray(xb, dtype=np.float64))
    if A.shape != B.shape or A.shape[1] != energy.dim:
        raise ValueError(
            f"xa and xb must both have shape ({energy.dim},) or (K, {energy.dim}); "
            f"got {np.shape(xa)} and {np.shape(xb)}"
        )
    energy.manifold.check_on(A, tol=1e-8, name="xa")
    energy.manifold.check_on(B, tol=1e-8, name="xb")
    return A, B


def _interpolate(man, A, B, t):
    """Points at fractions ``t`` (n,) of the way from A to B (K, dim) -> (K, n, dim)."""
    return man.geodesic(A, B, t)


def _make_path(energy, kind, P, e, **kw) -> BarrierPath:
    seg = energy.manifold.dist(P[:-1], P[1:])  # arc length between neighbours
    s = np.concatenate([[0.0], np.cumsum(seg)])
    s = s / s[-1] if s[-1] > 0 else s
    i = int(np.argmax(e))
    return BarrierPath(
        kind=kind,
        points=P,
        s=s,
        energies=e,
        i_max=i,
        barrier=float(e[i] - e[0]),
        barrier_back=float(e[i] - e[-1]),
        **kw,
    )


def linear_path(energy: Energy, xa, xb, n: int = 65) -> BarrierPath | list[BarrierPath]:
    """Energy along the straight segment (Euclidean) or the geodesic (sphere) from xa to xb.

    Parameters
    ----------
    energy : Energy
    xa, xb : ndarray (dim,) or (K, dim)
        Ends (on the manifold); K pairs are evaluated in one energy call.
    n : int
        Points along the path, ends included (>= 3).

    Returns
    -------
    BarrierPath, or a list of K of them for batched ends.
    """
    if int(n) < 3:
        raise ValueError(f"n must be >= 3; got {n}")
    single = np.asarray(xa).ndim == 1
    A, B = _check_ends(energy, xa, xb)
    t = np.linspace(0.0, 1.0, int(n))
    P = _interpolate(energy.manifold, A, B, t)
    e = np.asarray(energy.energy(P.reshape(-1, energy.dim))).reshape(P.shape[:2])
    e = e / float(energy.scale)
    kind = "straight" if energy.manifold.is_flat else "geodesic"
    out = [_make_path(energy, kind, P[k], e[k]) for k in range(P.shape[0])]
    return out[0] if single else out


def _largest_curvature(energy: Energy, X: np.ndarray, iters: int = 20) -> float:
    """Largest |eigenvalue| of the Euclidean Hessians at the rows of X (power iteration)."""
    rng = np.random.default_rng(0)
    V = rng.standard_normal(X.shape)
    lam = np.ones(X.shape[0])
    for _ in range(iters):
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        W = energy.batch_hvp(X, V)
        lam = np.linalg.norm(W, axis=1)
        V = W
    return float(max(np.max(lam), 1e-12))


def _tangents(X, e):
    """Improved tangents (Henkelman & Jónsson 2000) of the interior images, (B, n-2, dim)."""
    dp = X[:, 2:] - X[:, 1:-1]
    dm = X[:, 1:-1] - X[:, :-2]
    ep, e0, em = e[:, 2:], e[:, 1:-1], e[:, :-2]
    up = (ep > e0) & (e0 > em)
    down = (ep < e0) & (e0 < em)
    vmax = np.maximum(np.abs(ep - e0), np.abs(em - e0))
    vmin = np.minimum(np.abs(ep - e0), np.abs(em - e0))
    wp = np.where(ep > em, vmax, vmin)
    wm = np.where(ep > em, vmin, vmax)
    mixed = wp[..., None] * dp + wm[..., None] * dm
    tau = np.where(up[..., None], dp, np.where(down[..., None], dm, mixed))
    bad = np.linalg.norm(tau, axis=-1) < 1e-300
    tau = np.where(bad[..., None], dp + dm, tau)
    return tau, np.linalg.norm(dp, axis=-1), np.linalg.norm(dm, axis=-1)


def nudged_elastic_band(
    energy: Energy,
    xa,
    xb,
    *,
    n_images: int = 17,
    climbing: bool = True,
    spring: float = 0.2,
    max_iter: int = 3000,
    ftol: float = 1e-4,
    climb_after: int = 50,
) -> BarrierPath | list[BarrierPath]:
    """Nudged elastic band between minima, on the energy's manifold (batched over bands).

    Parameters
    ----------
    energy : Energy
    xa, xb : ndarray (dim,) or (K, dim)
        The two ends of each band (kept fixed; usually minima).
    n_images : int
        Images per band, ends included (>= 3); the band starts on the straight / geodesic path.
    climbing : bool
        Climbing image (Henkelman, Uberuaga & Jónsson 2000): after ``climb_after`` steps the
        highest image moves up along the band and down across it, to the saddle.
    spring : float
        Spring constant relative to the largest Hessian curvature at the ends.
    max_iter : int
        FIRE steps.
    ftol : float
        Converged when every image's force is below ``ftol`` times the largest curvature at
        the ends times the radius (sqrt(dim) in Euclidean space).

    Returns
    -------
    BarrierPath (kind "neb"), or a list for batched ends. With a climbing image, the highest
    image approximates the saddle the band crosses; refine it with :func:`refine_saddle`.
    """
    if int(n_images) < 3:
        raise ValueError(f"n_images must be >= 3; got {n_images}")
    if spring <= 0 or max_iter < 1 or ftol <= 0:
        raise ValueError("spring and ftol must be > 0 and max_iter >= 1")
    single = np.asarray(xa).ndim == 1
    A, B = _check_ends(energy, xa, xb)
    man = energy.manifold
    dim = energy.dim
    K, n = A.shape[0], int(n_images)
    X = _interpolate(man, A, B, np.linspace(0.0, 1.0, n))
    ends_e = np.asarray(energy.energy(np.concatenate([A, B]))).reshape(2, K)
    lam = _largest_curvature(energy, np.concatenate([A, B]))
    k = spring * lam
    length = float(man.length_scale)
    fthr = ftol * lam * length
    dt_max = 0.5 / lam
    dt = np.full(K, 0.1 / lam)
    alpha = np.full(K, 0.1)
    n_pos = np.zeros(K, dtype=int)
    V = np.zeros((K, n - 2, dim))
    fmax = np.full(K, np.inf)
    it = 0
    for it in range(1, max_iter + 1):
        Y = np.ascontiguousarray(X[:, 1:-1].reshape(-1, dim))
        e, g = energy.batch_energy_and_gradient(Y)
        rg = man.rgrad(Y, g).reshape(K, n - 2, dim)
        E = np.concatenate(
            [ends_e[0][:, None], np.asarray(e).reshape(K, n - 2), ends_e[1][:, None]], 1
        )
        tau, lp, lm = _tangents(X, E)
        tau = man.proj(Y, tau.reshape(-1, dim)).reshape(K, n - 2, dim)
        tau /= np.maximum(np.linalg.norm(tau, axis=-1, keepdims=True), 1e-300)
        gpar = np.sum(rg * tau, axis=-1, keepdims=True)
        F = -(rg - gpar * tau) + k * (lp - lm)[..., None] * tau
        if climbing and it > climb_after:
            ci = np.argmax(E[:, 1:-1], axis=1)
            F[np.arange(K), ci] = (
                -rg[np.arange(K), ci] + 2 * gpar[np.arange(K), ci] * tau[np.arange(K), ci]
            )
        fn = np.linalg.norm(F, axis=-1)
        fmax = fn.max(axis=1)
        live = fmax > fthr
        if not live.any():
            break
        # FIRE, one set of parameters per band
        P = np.sum(F * V, axis=(1, 2))
        vn = np.linalg.norm(V, axis=(1, 2))
        Fn = np.maximum(np.linalg.norm(F, axis=(1, 2)), 1e-300)
        V = (1 - alpha)[:, None, None] * V + (alpha * vn / Fn)[:, None, None] * F
        pos = P > 0
        n_pos = np.where(pos, n_pos + 1, 0)
        grow = pos & (n_pos > 5)
        dt = np.where(grow, np.minimum(dt * 1.1, dt_max), np.where(pos, dt, dt * 0.5))
        alpha = np.where(grow, alpha * 0.99, np.where(pos, alpha, 0.1))
        V = np.where(pos[:, None, None], V, 0.0)
        V = V + dt[:, None, None] * F
        V = np.where(live[:, None, None], V, 0.0)
        step = dt[:, None, None] * V
        Yn = man.retract(Y, step.reshape(-1, dim))
        X[:, 1:-1] = Yn.reshape(K, n - 2, dim)
        V = man.proj(Yn, V.reshape(-1, dim)).reshape(K, n - 2, dim)
    e_all = np.asarray(energy.energy(X.reshape(-1, dim))).reshape(K, n) / float(energy.scale)
    out = [
        _make_path(
            energy,
            "neb",
            X[b],
            e_all[b],
            converged=bool(fmax[b] <= fthr),
            max_force=float(fmax[b]),
            iterations=it,
        )
        for b in range(K)
    ]
    return out[0] if single else out


def refine_saddle(
    energy: Energy, x, *, target_index: int = 1, max_iter: int = 100, gtol: float = 1e-10
) -> tuple[np.ndarray, Verified]:
    """Newton eigenvector following from ``x`` (e.g. a band's highest image) to a saddle.

    Returns the point(s) and their :class:`analysis.critical.Verified` classification (check
    ``kind == "critical"`` and ``indices == target_index``). Accepts ``(dim,)`` or ``(K, dim)``.
    """
    X = np.atleast_2d(np.asarray(x, dtype=np.float64))
    Y, _, _ = newton_search(
        energy, X, mode="index", target_index=target_index, max_iter=max_iter, gtol=gtol
    )
    Y, _, _ = newton_search(energy, Y, mode="newton", max_iter=4, gtol=gtol * 1e-3)
    v = verify(energy, Y, gtol=gtol)
    return (Y[0] if np.asarray(x).ndim == 1 else Y), v
