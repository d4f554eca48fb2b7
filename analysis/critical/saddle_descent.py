"""Descents from index-1 saddles to the two minima they join, with an adaptive push-off.

A saddle is connected by two descents that leave it along +- its unstable direction. Two
choices decide whether they arrive where the steepest-descent path goes:

* the **push-off** length (:func:`push_off`): a fixed kick (pele's and OPTIM's default)
  can land outside the region where the energy follows the saddle's quadratic model, e.g.
  at a saddle of a network loss whose negative eigenvalue (~1e-5) is small beside its quartic
  terms, where a kick of 0.05 *raises* the energy; the push-off here is the largest length
  at which the energy drop agrees with ``0.5 lam eps^2``;
* the **stopping rule**: an L-BFGS tolerance above the gradient at the push-off point
  (``|lam| eps``) stops the descent before it moves; it is tightened below it.

A descent that starts inside a subspace fixed by a symmetry of the energy (e.g. of the data)
stays there and can end at a critical point of higher index (a minimum within the
subspace); it is continued from there along that point's lowest mode, and the number of
such continuations is reported (:attr:`SaddleDescents.via`).
:func:`analysis.critical.transition.connect_saddles` wraps :func:`descend_from_saddles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.critical.basinhopping import lbfgs_minimize, verified_minima
from landscapes.energy import Energy

__all__ = ["push_off", "SaddleDescents", "descend_from_saddles"]


def push_off(
    energy: Energy,
    X: np.ndarray,
    U: np.ndarray,
    curvature: np.ndarray,
    *,
    max_kick: float = 0.05,
    min_kick: float = 1e-6,
    rtol: float = 0.5,
) -> np.ndarray:
    """Push-off lengths from critical points along their unstable directions.

    For each row, the largest ``eps = max_kick * 2^-j`` at which the energy change along the
    unit direction ``U[k]`` agrees with the quadratic model ``0.5 curvature[k] eps^2`` within
    the relative tolerance ``rtol`` (and is a decrease): outside that radius higher-order
    terms dominate, and a descent started there can climb past the basin it should enter
    (a saddle whose negative eigenvalue is small beside its quartic terms). Lengths stop
    halving at ``min_kick`` or where ``|0.5 curvature eps^2|`` would drop below ``1e-11 *
    max(1, |E|)`` (round-off of the energy); rows that never pass keep the smallest length
    at which the energy went down, else the smallest length tried. Rows with ``curvature >= 0``
    get ``max_kick``.

    Parameters
    ----------
    energy : Energy
        On Euclidean space.
    X : ndarray (K, dim)
        Critical points (not modified).
    U : ndarray (K, dim)
        Unit directions (signs as given: each row is one side).
    curvature : ndarray (K,)
        ``U[k] . H(X[k]) U[k]`` (negative along an unstable direction).
    max_kick, min_kick, rtol : float
        Largest and smallest lengths, and the tolerance of the quadratic model.
    """
    if not 0 < min_kick <= max_kick or not rtol > 0:
        raise ValueError(
            f"push_off needs 0 < min_kick <= max_kick and rtol > 0; got {min_kick}, "
            f"{max_kick}, {rtol}"
        )
    X = np.asarray(X, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    lam = np.asarray(curvature, dtype=np.float64).reshape(-1)
    K = X.shape[0]
    eps = np.full(K, float(max_kick))
    if K == 0:
        return eps
    E0 = energy.batch_energy(X)
    unstable = lam < 0
    floor = np.full(K, float(min_kick))
    floor[unstable] = np.maximum(
        min_kick, np.sqrt(2e-11 * np.maximum(1.0, np.abs(E0[unstable])) / -lam[unstable])
    )
    fallback = np.full(K, np.nan)
    todo = np.flatnonzero(unstable)
    while todo.size:
        dE = energy.batch_energy(X[todo] + eps[todo, None] * U[todo]) - E0[todo]
        q = 0.5 * lam[todo] * eps[todo] ** 2
        down = dE < 0
        fallback[todo[down]] = eps[todo[down]]
        good = down & (np.abs(dE - q) <= rtol * np.abs(q))
        nxt = todo[~good]
        can = 0.5 * eps[nxt] >= floor[nxt]
        eps[nxt[can]] *= 0.5
        stop = nxt[~can]
        eps[stop] = np.where(np.isnan(fallback[stop]), eps[stop], fallback[stop])
        todo = nxt[can]
    return eps


@dataclass(frozen=True)
class SaddleDescents:
    """Where the descents from index-1 saddles along +- their unstable directions end.

    Attributes
    ----------
    minima : ndarray (s, 2, dim)
        End points (polished by Newton steps).
    ok : ndarray (s, 2) of bool
        The end is a verified minimum (|grad| <= gtol * scale, index 0, non-degenerate)
        below the saddle.
    kinds : ndarray (s, 2) of str
        :func:`~analysis.critical.verify` kind of each end (``"critical"``, ``"degenerate"``,
        ``"flat"``, ``"none"``).
    indices : ndarray (s, 2)
        Index of each end.
    kicks : ndarray (s, 2)
        Push-off lengths from the saddle (:func:`push_off`).
    via : ndarray (s, 2)
        Higher-index critical points the descent stopped at and was continued from along
        their own unstable direction (a descent that starts inside a symmetric subspace
        stays in it and can end at a saddle that is a minimum within the subspace).
    """

    minima: np.ndarray
    ok: np.ndarray
    kinds: np.ndarray
    indices: np.ndarray
    kicks: np.ndarray
    via: np.ndarray

    @property
    def n_connected(self) -> int:
        """Saddles both of whose descents reached a verified minimum."""
        return int(np.sum(np.all(self.ok, axis=1)))


def descend_from_saddles(
    energy: Energy,
    saddles: np.ndarray,
    unstable: np.ndarray,
    *,
    kick: float = 0.05,
    min_kick: float = 1e-6,
    gtol: float = 1e-10,
    quench_gtol: float = 1e-6,
    max_iter: int = 5000,
    restarts: int = 3,
    polish_iter: int = 50,
) -> SaddleDescents:
    """The two minima below each saddle, by descents from ``saddle +- eps * unstable``.

    1. The push-off ``eps`` per side is adaptive (:func:`push_off`): the largest length up to
       ``kick`` where the energy still follows the saddle's quadratic model downhill.
    2. All ``2 s`` descents run as one batched L-BFGS whose tolerance is tightened below the
       gradient at the push-off points (``min(quench_gtol, 0.1 |lam| eps / scale)``, floored
       at ``10 gtol``), so that no descent stops at its start; the ends are polished by
       Newton steps (target index 0) and verified.
    3. A descent that ends at a critical point of index > 0 (it can stay inside a symmetric
       subspace that holds the saddle it started from) is continued from that point along
       its own lowest mode, with its own push-off; one that ends unconverged is quenched
       again with the tight tolerance and ``4 polish_iter`` Newton steps. Up to ``restarts``
       rounds.

    Parameters
    ----------
    energy : Energy
        On Euclidean space.
    saddles : ndarray (s, dim)
        Index-1 saddles.
    unstable : ndarray (s, dim)
        Their unstable directions (normalized here).
    kick, min_kick : float
        Largest and smallest push-off lengths.
    gtol : float
        Verification tolerance (relative to the scale).
    quench_gtol : float
        Loosest L-BFGS tolerance (relative to the scale).
    max_iter : int
        L-BFGS iterations per descent.
    restarts : int
        Rounds of continuation.
    polish_iter : int
        Newton iterations of the polish.
    """
    if int(restarts) < 0 or int(polish_iter) < 1:
        raise ValueError(
            f"restarts must be >= 0 and polish_iter >= 1; got {restarts}, {polish_iter}"
        )
    S, _ = energy.as_batch(saddles, "saddles")
    s = S.shape[0]
    U = np.atleast_2d(np.asarray(unstable, dtype=np.float64))
    if U.shape != S.shape:
        raise ValueError(f"unstable must have shape {S.shape}; got {U.shape}")
    U = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    scale = float(energy.scale)
    X0 = np.concatenate([S, S])
    D = np.concatenate([U, -U])
    E_top = energy.batch_energy(X0)

    def quench(X, D, polish):
        lam = np.einsum("ki,ki->k", D, energy.batch_hvp(X, D))
        eps = push_off(energy, X, D, lam, max_kick=kick, min_kick=min(min_kick, kick))
        g_start = np.abs(lam) * eps / scale
        qg = float(np.clip(0.1 * np.min(g_start, initial=np.inf), 10 * gtol, quench_gtol))
        q = lbfgs_minimize(
            energy, X + eps[:, None] * D, gtol=qg, max_iter=max_iter, max_step=kick * 4
        )
        Y, ver = verified_minima(energy, q.x, gtol=gtol, max_iter=polish)
        return Y, ver, eps

    Y, ver, eps = quench(X0, D, polish_iter)
    kind = ver.kind.astype(object)
    idx = ver.indices.copy()
    via = np.zeros(2 * s, dtype=int)
    for _ in range(int(restarts)):
        stalled = np.flatnonzero((kind == "critical") & (idx > 0))
        unconv = np.flatnonzero(kind == "none")
        if stalled.size == 0 and unconv.size == 0:
            break
        if stalled.size:
            u = ver.unstable[stalled]
            u = u / np.linalg.norm(u, axis=1, keepdims=True)
            Y2, v2, _ = quench(Y[stalled], u, polish_iter)
            Y[stalled], kind[stalled], idx[stalled] = Y2, v2.kind, v2.indices
            ver.unstable[stalled] = v2.unstable
            via[stalled] += 1
        if unconv.size:
            q = lbfgs_minimize(
                energy, Y[unconv], gtol=10 * gtol, max_iter=max_iter, max_step=kick * 4
            )
            Y3, v3 = verified_minima(energy, q.x, gtol=gtol, max_iter=4 * polish_iter)
            Y[unconv], kind[unconv], idx[unconv] = Y3, v3.kind, v3.indices
            ver.unstable[unconv] = v3.unstable
    below = energy.batch_energy(Y) < E_top
    ok = (kind == "critical") & (idx == 0) & below
    kind = kind.astype(str)
    return SaddleDescents(
        minima=np.stack([Y[:s], Y[s:]], axis=1),
        ok=np.stack([ok[:s], ok[s:]], axis=1),
        kinds=np.stack([kind[:s], kind[s:]], axis=1),
        indices=np.stack([idx[:s], idx[s:]], axis=1),
        kicks=np.stack([eps[:s], eps[s:]], axis=1),
        via=np.stack([via[:s], via[s:]], axis=1),
    )
