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

__all__ = [
    "Connections",
    "connect_minima",
    "DisconnectivityTree",
    "disconnectivity_tree",
    "connections_from_catalogue",
]


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
    X = np.array(X, dtype=np.float64, copy=True)
    e, g = energy.batch_energy_and_gradient(X)
    rg = man.rgrad(X, g)
    eta = np.full(X.shape[0], lr)
    for _ in range(steps):
        Y = man.retract(X, -eta[:, None] * rg)
        e2, g2 = energy.batch_energy_and_gradient(np.ascontiguousarray(Y))
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
    radius = float(man.length_scale)
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


class _UnionFind:
    """Disjoint sets over 0..n-1 (path halving, union by size)."""

    def __init__(self, n: int):
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


@dataclass(frozen=True)
class DisconnectivityTree:
    """The disconnectivity tree of a minima/saddle graph (Becker & Karplus 1997; Wales).

    At each energy level ``levels[j]``, the minima whose energy is at most the level and that
    are joined through saddles at most the level form one *basin* (a node of the tree). Each
    basin at level j has one parent: the basin at level j + 1 that contains it; each minimum
    hangs from the first basin that contains it. Drawn (:meth:`segments`), a minimum is a
    vertical line from its energy up to the level where its basin merges with another, and
    basins join their parents by straight lines; x positions come from a depth-first order of
    the tree (children ordered by their lowest energy), so that every basin holds a contiguous
    run of minima and no two lines cross.

    Attributes
    ----------
    levels : ndarray (L,)
        Increasing energy levels (intensive).
    minima_energies : ndarray (m,)
        Energies of the minima (intensive).
    node_level : ndarray (n,)
        Level index of each basin node.
    node_members : tuple of tuple of int
        Sorted minima in each basin node.
    node_parent : ndarray (n,)
        Parent node of each node (-1 at the top level).
    leaf_parent : ndarray (m,)
        Node from which each minimum hangs (-1 for a minimum above the top level).
    x_minima : ndarray (m,)
        Horizontal position of each minimum (0..m-1, no two equal).
    x_nodes : ndarray (n,)
        Horizontal position of each node (mean of its children's positions).
    merge_energy : ndarray (m,)
        The level at which each minimum's basin first holds another minimum (inf if never).
    n_components : int
        Basins at the top level (1 for a connected graph).
    """

    levels: np.ndarray
    minima_energies: np.ndarray
    node_level: np.ndarray
    node_members: tuple
    node_parent: np.ndarray
    leaf_parent: np.ndarray
    x_minima: np.ndarray
    x_nodes: np.ndarray
    merge_energy: np.ndarray
    n_components: int

    @property
    def n_minima(self) -> int:
        """Number of minima."""
        return int(self.minima_energies.size)

    def groups(self, j: int) -> list[list[int]]:
        """Basins at level ``j``: sorted lists of minima, sorted."""
        return sorted(
            list(m) for m, lv in zip(self.node_members, self.node_level, strict=True) if lv == j
        )

    def segments(self) -> np.ndarray:
        """Line segments of the drawing, ``(S, 2, 2)`` as ``[[x0, y0], [x1, y1]]``.

        One segment per minimum (from ``(x, energy)`` to the node it hangs from) and one per
        node below the top level (to its parent); nodes at the top level get a short stub up to
        ``levels[-1]``, which ends the drawing.
        """
        segs = []
        lv = self.levels
        for i, p in enumerate(self.leaf_parent):
            if p >= 0:
                segs.append(
                    [
                        [self.x_minima[i], self.minima_energies[i]],
                        [self.x_nodes[p], lv[self.node_level[p]]],
                    ]
                )
        for a, p in enumerate(self.node_parent):
            if p >= 0:
                segs.append(
                    [
                        [self.x_nodes[a], lv[self.node_level[a]]],
                        [self.x_nodes[p], lv[self.node_level[p]]],
                    ]
                )
        return np.array(segs, dtype=np.float64).reshape(-1, 2, 2)

    def to_dict(self) -> dict:
        """JSON-ready description (levels, minima, nodes with members, parents, positions)."""
        return {
            "levels": self.levels.tolist(),
            "minima_energies": self.minima_energies.tolist(),
            "x_minima": self.x_minima.tolist(),
            "merge_energy": [None if not np.isfinite(v) else float(v) for v in self.merge_energy],
            "n_components": self.n_components,
            "nodes": [
                {
                    "id": a,
                    "level": int(self.node_level[a]),
                    "energy": float(self.levels[self.node_level[a]]),
                    "members": list(self.node_members[a]),
                    "parent": int(self.node_parent[a]),
                    "x": float(self.x_nodes[a]),
                }
                for a in range(len(self.node_members))
            ],
        }


def _graph_data(conn) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Minima energies and (a, b, saddle energy) edges of a Connections or a networkx graph."""
    G = conn.graph if isinstance(conn, Connections) else conn
    if not isinstance(G, nx.Graph):
        raise ValueError(f"expected Connections or a networkx graph; got {type(conn).__name__}")
    nodes = sorted(G.nodes())
    if nodes != list(range(len(nodes))):
        raise ValueError("graph nodes must be the minima 0..m-1")
    try:
        e = np.array([float(G.nodes[n]["energy"]) for n in nodes], dtype=np.float64)
        edges = [(int(a), int(b), float(d["energy"])) for a, b, d in G.edges(data=True)]
    except KeyError:
        raise ValueError("graph nodes and edges need an 'energy' attribute") from None
    return e, edges


def disconnectivity_tree(conn, levels: np.ndarray | int = 20) -> DisconnectivityTree:
    """The disconnectivity tree of minima joined by saddles (see :class:`DisconnectivityTree`).

    Parameters
    ----------
    conn : Connections or networkx.Graph
        From :func:`connect_minima`, or a graph whose nodes 0..m-1 are minima and whose edges
        are saddles, both with an ``energy`` attribute (intensive).
    levels : int or array
        Number of equally spaced levels from just above the lowest minimum to just above the
        highest saddle (and highest minimum), or the increasing levels themselves.

    Raises
    ------
    ValueError
        With no minima (an empty catalogue): says what to run first.
    """
    e, edges = _graph_data(conn)
    m = e.size
    if m == 0:
        raise ValueError(
            "no minima to draw a disconnectivity tree of: the catalogue holds no connected "
            "minima (run `landscapes census` then `landscapes connect` on it)"
        )
    se = np.array([s for _, _, s in edges], dtype=np.float64)
    if isinstance(levels, int | np.integer):
        if levels < 2:
            raise ValueError(f"levels must be >= 2; got {levels}")
        lo = float(e.min())
        hi = max(float(e.max()), float(se.max()) if se.size else lo)
        span = hi - lo if hi > lo else max(1.0, abs(lo)) * 1e-3
        hi = hi + 0.02 * span
        L = np.linspace(lo, hi, int(levels) + 1)[1:]
    else:
        L = np.asarray(levels, dtype=np.float64)
        if L.ndim != 1 or L.size < 1 or np.any(np.diff(L) <= 0):
            raise ValueError("levels must be an int or an increasing 1-D array")
    order = np.argsort(se, kind="stable")
    uf = _UnionFind(m)
    node_level, node_members, node_parent = [], [], []
    leaf_parent = np.full(m, -1, dtype=int)
    merge = np.full(m, np.inf)
    prev: dict[int, int] = {}  # root of the union-find -> node at the previous level
    q = 0
    for j, lev in enumerate(L):
        while q < order.size and se[order[q]] <= lev:
            a, b, _ = edges[order[q]]
            uf.union(a, b)
            q += 1
        present = np.nonzero(e <= lev)[0]
        groups: dict[int, list[int]] = {}
        for i in present:
            groups.setdefault(uf.find(int(i)), []).append(int(i))
        cur: dict[int, int] = {}
        for mem in sorted(groups.values()):
            nid = len(node_members)
            node_level.append(j)
            node_members.append(tuple(mem))
            node_parent.append(-1)
            for i in mem:
                if leaf_parent[i] < 0:
                    leaf_parent[i] = nid
                if len(mem) > 1 and not np.isfinite(merge[i]):
                    merge[i] = lev
            cur[uf.find(mem[0])] = nid
        # children at the previous level: their members are now in one set
        for nid_prev in prev.values():
            root = uf.find(node_members[nid_prev][0])
            node_parent[nid_prev] = cur[root]
        prev = cur
    node_level = np.array(node_level, dtype=int)
    node_parent = np.array(node_parent, dtype=int)
    n = node_level.size
    children: list[list[tuple[float, int, int]]] = [[] for _ in range(n)]  # (key, kind, id)
    for a in range(n):
        if node_parent[a] >= 0:
            key = float(min(e[i] for i in node_members[a]))
            children[node_parent[a]].append((key, 1, a))
    for i in range(m):
        if leaf_parent[i] >= 0:
            children[leaf_parent[i]].append((float(e[i]), 0, i))
    x_min = np.full(m, np.nan)
    x_node = np.full(n, np.nan)
    nxt = [0]

    def place(a: int) -> float:  # iterative would be longer; depth <= number of levels
        xs = []
        for _, kind, c in sorted(children[a]):
            if kind == 0:
                x_min[c] = nxt[0]
                nxt[0] += 1
                xs.append(x_min[c])
            else:
                xs.append(place(c))
        x_node[a] = float(np.mean(xs))
        return x_node[a]

    top = [a for a in range(n) if node_parent[a] < 0 and node_level[a] == L.size - 1]
    top.sort(key=lambda a: min(e[i] for i in node_members[a]))
    for a in top:
        place(a)
    for i in np.nonzero(np.isnan(x_min))[0]:  # minima above the top level stand apart
        x_min[i] = nxt[0]
        nxt[0] += 1
    return DisconnectivityTree(
        levels=L,
        minima_energies=e,
        node_level=node_level,
        node_members=tuple(node_members),
        node_parent=node_parent,
        leaf_parent=leaf_parent,
        x_minima=x_min,
        x_nodes=x_node,
        merge_energy=merge,
        n_components=len(top),
    )


def connections_from_catalogue(catalogue, fingerprint: str) -> Connections | None:
    """The connections stored in a catalogue for one instance, as :class:`Connections`.

    Minima are the stored index-0 points (in id order), saddles the index-1 points that have
    a stored connection. Returns None when the instance has no stored connection (run
    :func:`connect_minima` and ``Catalogue.add_connections`` first).
    """
    rows = catalogue.connections(fingerprint)
    if not rows:
        return None
    pts = catalogue.points(fingerprint)
    pos = {int(i): r for r, i in enumerate(pts["id"])}
    is_min = pts["index"] == 0
    min_rows = np.nonzero(is_min)[0]
    min_of = {int(pts["id"][r]): j for j, r in enumerate(min_rows)}
    sad_rows = [pos[s] for s, *_ in rows]
    ends = np.array(
        [
            [min_of.get(a, -1) if a is not None else -1, min_of.get(b, -1) if b is not None else -1]
            for _, a, b, _ in rows
        ],
        dtype=int,
    ).reshape(-1, 2)
    em = pts["energy"][min_rows]
    es = np.array([r[3] for r in rows], dtype=np.float64)
    G = nx.MultiGraph()
    for j, e in enumerate(em):
        G.add_node(j, energy=float(e))
    for s, (a, b) in enumerate(ends):
        if a >= 0 and b >= 0:
            G.add_edge(int(a), int(b), energy=float(es[s]), saddle=s)
    return Connections(
        graph=G,
        minima=pts["coords"][min_rows],
        minima_energies=em,
        saddles=pts["coords"][sad_rows],
        saddle_energies=es,
        ends=ends,
        n_components=nx.number_connected_components(G) if G.number_of_nodes() else 0,
    )
