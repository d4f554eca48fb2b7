"""The network critical-point study: index against loss for a one-hidden-layer network.

Newton-type searches do not converge on tanh networks, so saddles are built from minima of
narrower networks embedded with dead units (Fukumizu & Amari 2000) and verified with the
generic instruments of :mod:`analysis.critical` (Dauphin et al. 2014, "index vs loss";
negative results of the direct searches are recorded in :func:`network_critical_points`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.critical import canonical_forms, deduplicate, eigh_stack, verify
from analysis.critical.hessians import blas_threads
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = ["NetworkCriticalPoints", "network_critical_points"]


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
    """Exact Hessians (K, P, P) of a network loss, one ``block_hvp`` per point (the forward
    pass is shared by the P columns: 6x faster than a replicated batch at P = 610)."""
    eye = np.eye(energy.dim)
    H = np.stack([energy.block_hvp(x, eye) for x in X])
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _saddle_free_newton(energy, X, max_iter, gtol):
    """Saddle-free Newton (Dauphin et al. 2014) to minima, switching to Newton near them.

    Step ``-|H|^-1 g`` (trust radius 1) with a backtracking line search on the loss; once
    ``|g| < 1e-6`` the Newton step ``-H^-1 g`` with backtracking on ``|g|`` (quadratic
    convergence to the minimum's rounding floor).
    """
    Y = np.array(X, dtype=np.float64, copy=True)
    for _ in range(max_iter):
        e, g = energy.batch_energy_and_gradient(Y)
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
            en, gg = energy.batch_energy_and_gradient(Yn)
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
        Root seed; width ``widths[i]`` uses child stream ``i`` (``landscapes.random.child``).
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
    children = [child(root, i) for i in range(len(widths))]
    cands, act, rejected = [], [], {"small": 0}
    with blas_threads(energy.dim, max_threaded=energy.dim):
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
            vs = verify(small, Y, gtol=gtol)
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
        ver = verify(energy, Xc, gtol=gtol) if len(Xc) else None
    act = np.array(act, dtype=int)
    if ver is None:
        keep = np.zeros(0, dtype=bool)
    else:
        keep = ver.kind == "critical"
        for k in ("flat", "degenerate", "none"):
            rejected[k] = int(np.sum(ver.kind == k))
    Xk = canonical_forms(energy, Xc[keep])
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
