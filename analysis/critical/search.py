"""Batched Newton-type searches for critical points (index-following, LM, Newton).

Each iteration forms the dense Riemannian Hessians of all active starts as one stack, takes a
step per start in its Hessian eigenbasis (see :func:`newton_search`), caps it by a trust
radius and retracts it onto the manifold. :func:`search_batch` runs one census batch: random
starts, searched, polished and verified; :func:`partner_batch` searches from known points along
their softest Hessian direction, for the close partners of near-degenerate critical points.
"""

from __future__ import annotations

import numpy as np

from analysis.critical.hessians import blas_threads, eigh_stack, riemannian_hessians, to_ambient
from analysis.critical.verify import Verified, verify
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy

__all__ = ["newton_search", "partner_batch", "search_batch"]

#: Length of the partner-search kick along the softest Hessian direction, in units of the
#: manifold's length scale (the radius of the sphere).
PARTNER_KICK: float = 0.06


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
        Largest step (default 0.2 ``length_scale`` on a compact manifold, i.e. 0.2 radius on
        a sphere, and 0.5 ``length_scale`` = 0.5 sqrt(dim) in Euclidean space).
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
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    if mode not in ("index", "lm", "newton"):
        raise ValueError(f"mode must be 'index', 'lm' or 'newton'; got {mode!r}")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    gtol = check_positive(gtol, "gtol")
    mu = check_positive(mu, "mu")
    deflation_shift = check_positive(deflation_shift, "deflation_shift", allow_zero=True)
    if trust_radius is not None:
        trust_radius = check_positive(trust_radius, "trust_radius")
    X0a = np.asarray(X0)
    if X0a.ndim != 2 or X0a.shape[1] != energy.dim:
        raise ValueError(f"X0 must have shape (K, {energy.dim}); got {X0a.shape}")
    _check_target_index(target_index, X0a.shape[0], energy.manifold.intrinsic_dim)
    if deflate is not None:
        deflate = np.asarray(deflate, dtype=np.float64)
        if deflate.ndim != 2 or deflate.shape[1] != energy.dim:
            raise ValueError(f"deflate must have shape (n, {energy.dim}); got {deflate.shape}")
    with blas_threads(energy.dim):
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


def _check_target_index(target_index, K: int, d: int) -> None:
    """``target_index``: None, or integers in 0..d, one or one per start (ValueError)."""
    if target_index is None:
        return
    t = np.asarray(target_index)
    if t.dtype == bool or not (
        np.issubdtype(t.dtype, np.integer)
        or (
            np.issubdtype(t.dtype, np.floating)
            and np.all(np.isfinite(t))
            and np.all(t == np.round(t))
        )
    ):
        raise ValueError(f"target_index must be integers in 0..{d}; got {target_index!r}")
    if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != K):
        raise ValueError(
            f"target_index must be one integer or one per start ({K}); got shape {t.shape}"
        )
    if t.size and (t.min() < 0 or t.max() > d):
        raise ValueError(
            f"target_index must lie in 0..{d} (the tangent dimension); got values in "
            f"{int(t.min())}..{int(t.max())}"
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
    if trust_radius is None:
        # a fifth of the radius on a compact manifold (the sphere), half of sqrt(dim) otherwise
        trust_radius = (0.2 if man.is_compact else 0.5) * man.length_scale
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
        step = to_ambient(d["B"], np.einsum("kab,kb->ka", W, h))
        if deflate is not None and deflate.shape[0] and mode != "newton":
            step = _deflated(man, Xa, step, deflate, deflation_shift, delta[active])
        Xn = man.retract(Xa, step)
        keep = ~done & np.isfinite(Xn).all(axis=1)
        X[active[keep]] = Xn[keep]
        active = active[keep]
    if active.size:
        e, g = energy.batch_energy_and_gradient(X[active])
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
) -> tuple[np.ndarray, Verified]:
    """One batch of the census: ``size`` random starts, searched and verified.

    A fraction ``lm_fraction`` of starts runs Levenberg–Marquardt on ||rgrad||^2; the others
    run eigenvector following with target indices drawn uniformly from 0..d; both are deflated
    away from the ``known`` points (:func:`newton_search`). Converged candidates are polished
    by plain Newton steps before verification. Returns ``(X, Verified)``.
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    size = check_int(size, "size", minimum=1)
    for name, v in (("lm_fraction", lm_fraction), ("local_fraction", local_fraction)):
        if not 0.0 <= check_positive(v, name, allow_zero=True) <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1]; got {v!r}")
    check_positive(gtol, "gtol")
    check_positive(eig_tol, "eig_tol")
    check_int(max_iter, "max_iter", minimum=1)
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
        radius = man.length_scale
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
    return _polish_and_verify(energy, np.concatenate(parts), gtol, eig_tol)


def _polish_and_verify(energy, X, gtol, eig_tol) -> tuple[np.ndarray, Verified]:
    """A few plain Newton steps on the candidates (quadratic convergence from close ones),
    kept where they stay finite and bounded, then verification."""
    Xp, gn, _ = newton_search(energy, X, mode="newton", max_iter=6, gtol=gtol * 1e-3)
    ok = np.isfinite(Xp).all(axis=1) & (gn <= np.linalg.norm(Xp, axis=1) + 1.0)
    X = np.where(ok[:, None], Xp, X)
    return X, verify(energy, X, gtol=gtol, eig_tol=eig_tol)


def partner_batch(
    energy: Energy,
    sources: np.ndarray,
    source_indices: np.ndarray,
    *,
    known: np.ndarray | None = None,
    n_zero_modes: int = 0,
    kick: float = PARTNER_KICK,
    max_iter: int = 150,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    deflation: bool = True,
    search_options: dict | None = None,
) -> tuple[np.ndarray, Verified]:
    """Searches from known critical points along their softest Hessian direction, verified.

    Near a fold (where two critical points of neighbouring indices are born together) the
    smallest Hessian eigenvalue is small and the second point of the pair lies close by along
    the corresponding eigenvector; random starts rarely land in its basin. For each source
    point this runs two eigenvector-following searches, from the source kicked by
    ``+-kick x length_scale`` along that eigenvector, targeting the neighbouring index (index
    + 1 when the soft eigenvalue is positive, - 1 when negative), deflated away from the
    ``known`` points. Returns ``(X, Verified)`` with ``2 len(sources)`` rows; deterministic.

    Parameters
    ----------
    energy : Energy
        The energy.
    sources : ndarray (n, dim)
        Known critical points to start from.
    source_indices : ndarray (n,)
        Their indices.
    known : ndarray, optional
        Points to deflate away from (default: the sources).
    n_zero_modes : int
        Declared symmetry zero modes at the sources: the softest direction is taken among the
        other eigenvectors.
    kick : float
        Kick length in units of ``energy.manifold.length_scale`` (> 0).
    max_iter, gtol, eig_tol, deflation, search_options
        As in :func:`search_batch`.
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    src = np.asarray(sources, dtype=np.float64)
    if src.ndim != 2 or src.shape[1] != energy.dim or src.shape[0] == 0:
        raise ValueError(
            f"sources must be a non-empty (n, {energy.dim}) array; got shape {src.shape}"
        )
    k = np.asarray(source_indices).astype(int)
    if k.shape != (src.shape[0],):
        raise ValueError(f"source_indices must have shape ({src.shape[0]},); got {k.shape}")
    check_positive(kick, "kick")
    check_int(max_iter, "max_iter", minimum=1)
    nz = check_int(n_zero_modes, "n_zero_modes", minimum=0)
    man = energy.manifold
    d = man.intrinsic_dim
    if nz >= d:
        raise ValueError(f"n_zero_modes must be < the manifold dimension {d}; got {nz}")
    h = riemannian_hessians(energy, src)
    w, V = eigh_stack(h["R"])
    j = np.argsort(np.abs(w), axis=1, kind="stable")[:, nz]
    rows = np.arange(src.shape[0])
    soft = to_ambient(h["B"], V[rows, :, j])
    soft /= np.linalg.norm(soft, axis=1, keepdims=True)
    step = kick * man.length_scale
    X0 = np.concatenate([man.retract(src, step * soft), man.retract(src, -step * soft)])
    tgt = np.clip(k + np.where(w[rows, j] > 0, 1, -1), 0, d)
    X, _, _ = newton_search(
        energy,
        X0,
        mode="index",
        target_index=np.concatenate([tgt, tgt]),
        max_iter=max_iter,
        gtol=gtol,
        deflate=(src if known is None else known) if deflation else None,
        **(search_options or {}),
    )
    return _polish_and_verify(energy, X, gtol, eig_tol)
