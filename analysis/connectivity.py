"""Minima connected through index-1 saddles: descents, graphs and disconnectivity trees.

From each index-1 saddle, two batched Riemannian gradient descents leave along +- its
unstable direction (the eigenvector of its one negative Hessian eigenvalue) and are finished
by Newton-accelerated descent (:func:`analysis.critical.newton_search`, target index 0); the
minima they reach are matched to the known minima by distance. The result is a networkx
graph whose nodes are minima and whose edges are saddles (with the saddle energy), and the
disconnectivity tree (Becker & Karplus 1997; Wales): at each energy level, the minima grouped
by the components of the graph restricted to saddles below that level.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from analysis.critical import newton_search, verify
from landscapes.energy import Energy

__all__ = ["Connections", "connect_minima", "disconnectivity_tree"]


@dataclass(frozen=True)
class Connections:
    """Minima joined by index-1 saddles.

    Attributes
    ----------
    graph : networkx.MultiGraph
        Nodes: minima (0..m-1, attribute ``energy``, intensive); edges: one per saddle
        (attributes ``energy`` (intensive saddle energy) and ``saddle`` (its row)).
    minima : ndarray (m, dim)
        The minima (known ones first, then those found by the descents).
    minima_energies : ndarray (m,)
        Their intensive energies.
    saddles : ndarray (s, dim)
        The index-1 saddles.
    saddle_energies : ndarray (s,)
        Their intensive energies.
    ends : ndarray (s, 2)
        The two minima each saddle joins (-1 where a descent did not reach a verified minimum).
    n_components : int
        Connected components of the graph.
    """

    graph: nx.MultiGraph
    minima: np.ndarray
    minima_energies: np.ndarray
    saddles: np.ndarray
    saddle_energies: np.ndarray
    ends: np.ndarray
    n_components: int


def _descend(energy: Energy, X: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """Batched Riemannian gradient descent with a per-replica step-halving line search."""
    man = energy.manifold
    X = X.copy()
    e, g = energy._energy_and_gradient(X)
    rg = man.rgrad(X, g)
    eta = np.full(X.shape[0], lr)
    for _ in range(steps):
        Y = man.retract(X, -eta[:, None] * rg)
        e2, g2 = energy._energy_and_gradient(Y)
        ok = e2 < e
        X[ok], e[ok], g[ok] = Y[ok], e2[ok], g2[ok]
        eta = np.where(ok, eta * 1.2, eta * 0.5)
        rg = man.rgrad(X, g)
    return X


def connect_minima(
    energy: Energy,
    points: np.ndarray,
    indices: np.ndarray,
    *,
    kick: float = 1e-3,
    descent_steps: int = 300,
    lr: float | None = None,
    dist_tol: float = 1e-6,
) -> Connections:
    """Connect the minima of ``points`` through its index-1 saddles.

    Parameters
    ----------
    energy : Energy
        The energy.
    points : ndarray (n, dim)
        Verified critical points (e.g. ``census.points`` or a catalogue's).
    indices : ndarray (n,)
        Their indices.
    kick : float
        Initial displacement along +- the unstable direction, relative to the radius.
    descent_steps : int
        Gradient-descent steps before the Newton finish.
    lr : float
        Initial descent step (default 0.1 / scale-free guess 1 / (largest |eigenvalue|)).
    dist_tol : float
        Matching tolerance relative to the radius.

    Raises
    ------
    ValueError
        When there is no index-1 saddle or no minimum to connect (with what to do).
    """
    P = np.asarray(points, dtype=np.float64)
    k = np.asarray(indices, dtype=int)
    if P.ndim != 2 or P.shape[0] != k.size:
        raise ValueError("points must be (n, dim) and indices (n,)")
    sad = P[k == 1]
    mins = P[k == 0]
    if sad.shape[0] == 0:
        raise ValueError(
            "no index-1 saddle to connect: the catalogue or census holds none "
            "(run a census first, e.g. `landscapes census pspin --db census.sqlite`)"
        )
    man = energy.manifold
    radius = float(getattr(man, "radius", np.sqrt(energy.dim)))
    ver = verify(energy, sad)
    v = ver.unstable / np.linalg.norm(ver.unstable, axis=1, keepdims=True)
    starts = np.concatenate(
        [man.retract(sad, kick * radius * v), man.retract(sad, -kick * radius * v)]
    )
    if lr is None:
        lr = 0.5 / max(float(np.max(np.abs(ver.low_eigs))), 1e-12)
    Y = _descend(energy, starts, descent_steps, lr)
    Y, gn, _ = newton_search(energy, Y, mode="index", target_index=0, max_iter=60)
    vm = verify(energy, Y)
    good = (vm.kind == "critical") & (vm.indices == 0)
    tol = dist_tol * radius
    minima = mins.copy()
    ends = np.full(Y.shape[0], -1, dtype=int)
    for i in np.nonzero(good)[0]:  # one pass over 2 x saddles endpoints (not a hot path)
        if minima.shape[0]:
            d = np.linalg.norm(minima - Y[i], axis=1)
            j = int(np.argmin(d))
            if d[j] <= tol:
                ends[i] = j
                continue
        minima = np.vstack([minima, Y[i]]) if minima.size else Y[i][None].copy()
        ends[i] = minima.shape[0] - 1
    ends = ends.reshape(2, -1).T
    scale = float(energy.scale)
    em = np.asarray(energy.energy(minima)) / scale if minima.shape[0] else np.zeros(0)
    es = np.asarray(energy.energy(sad)) / scale
    G = nx.MultiGraph()
    for j, e in enumerate(em):
        G.add_node(j, energy=float(e))
    for s, (a, b) in enumerate(ends):
        if a >= 0 and b >= 0:
            G.add_edge(int(a), int(b), energy=float(es[s]), saddle=s)
    return Connections(
        graph=G,
        minima=minima,
        minima_energies=em,
        saddles=sad,
        saddle_energies=es,
        ends=ends,
        n_components=nx.number_connected_components(G) if G.number_of_nodes() else 0,
    )


def disconnectivity_tree(conn: Connections, levels: np.ndarray | int = 30) -> list[dict]:
    """The disconnectivity tree: at each level, the groups of minima joined below it.

    Parameters
    ----------
    conn : Connections
        From :func:`connect_minima`.
    levels : int or array
        Number of equally spaced energy levels between the lowest minimum and the highest
        saddle, or the levels themselves (intensive energies).

    Returns
    -------
    list of dict
        One record per level: ``level`` and ``groups`` (list of sorted lists of minima
        reachable from each other through saddles below the level, minima above the level
        left out).
    """
    G = conn.graph
    if G.number_of_nodes() == 0:
        raise ValueError("no minima to draw a disconnectivity tree of (empty catalogue?)")
    if isinstance(levels, int | np.integer):
        lo = float(np.min(conn.minima_energies))
        hi = float(np.max(conn.saddle_energies)) if conn.saddle_energies.size else lo + 1.0
        levels = np.linspace(lo, hi + 1e-9 * (1 + abs(hi)), int(levels))
    out = []
    for L in np.asarray(levels, dtype=float):
        H = nx.Graph()
        H.add_nodes_from(n for n, d in G.nodes(data=True) if d["energy"] <= L)
        H.add_edges_from(
            (a, b) for a, b, d in G.edges(data=True) if d["energy"] <= L and a in H and b in H
        )
        groups = sorted(sorted(c) for c in nx.connected_components(H))
        out.append({"level": float(L), "groups": groups})
    return out
