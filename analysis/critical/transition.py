"""Transition states of any Energy: hybrid eigenvector-following, NEB refinement, connections.

* :func:`lowest_modes`: the lowest Hessian eigenpairs with the energy's declared symmetry
  directions (``energy.symmetry_directions(x)``, e.g. a cluster's translations and rotations)
  taken out: dense ``eigh`` of the Hessian restricted to their orthogonal complement for
  small problems, Lanczos (``scipy.sparse.linalg.eigsh`` on a LinearOperator of block
  Hessian-vector products, symmetry directions shifted to the top of the spectrum) otherwise.
* :func:`hybrid_eigenvector_following` (Munro & Wales 1999; pele's ``FindTransitionState``):
  climb along the lowest eigenvector (an eigenvector-following step, or a fixed uphill step
  while the lowest eigenvalue is still positive), then minimize in the complement of that
  eigenvector (projected gradient steps with Barzilai–Borwein lengths), repeat; near the
  saddle, Newton steps with target index 1 (:func:`analysis.critical.newton_search`) polish
  it to |grad| <= 1e-10 (relative to the scale). Every saddle is verified
  (:func:`analysis.critical.verify`: gradient, index 1 modulo the declared symmetries).
* :func:`neb_transition_state`: the double-ended route, the nudged elastic band of
  :mod:`analysis.barriers` with a climbing image, refined by eigenvector-following from the
  climbing image along the band's tangent.
* :func:`connect_saddles`: each saddle's two minima, by batched L-BFGS descents from
  ``saddle +- eps * unstable direction`` with an adaptive push-off ``eps`` and a stopping
  rule below the gradient there, continued through higher-index critical points, polished
  and verified (:func:`analysis.critical.saddle_descent.descend_from_saddles`).
* :func:`climb_index`: critical points of index k + 1 from points of index k, by Newton
  eigenvector-following along their softest stable mode (the networks' higher-index census).
* :func:`explore_saddles`: single-ended searches from known minima along their lowest modes
  and random directions, the saddles verified, deduplicated modulo symmetries and connected;
  :class:`TransitionNetwork` holds minima, saddles and ends and converts to
  :class:`analysis.connectivity.Connections` for disconnectivity trees and plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from analysis.critical.basinhopping import MinimaRegistry
from analysis.critical.saddle_descent import SaddleDescents, descend_from_saddles, push_off
from analysis.critical.search import newton_search
from analysis.critical.verify import verify
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info

__all__ = [
    "symmetry_basis",
    "lowest_modes",
    "TransitionState",
    "hybrid_eigenvector_following",
    "neb_transition_state",
    "push_off",
    "SaddleDescents",
    "descend_from_saddles",
    "connect_saddles",
    "climb_index",
    "TransitionNetwork",
    "explore_saddles",
]


# ----------------------------------------------------------------------------- modes
def symmetry_basis(energy: Energy, x: np.ndarray) -> np.ndarray:
    """Orthonormal basis (rows ``(r, dim)``) of the declared symmetry directions at ``x``.

    Empty ``(0, dim)`` when the energy declares none (no ``symmetry_directions`` method).
    """
    fn = getattr(energy, "symmetry_directions", None)
    if fn is None:
        return np.zeros((0, energy.dim))
    S = np.atleast_2d(np.asarray(fn(x), dtype=np.float64))
    if S.size == 0:
        return np.zeros((0, energy.dim))
    u, s, vt = np.linalg.svd(S, full_matrices=False)
    r = int(np.sum(s > 1e-10 * max(float(s.max()), 1e-300)))
    return vt[:r]


def lowest_modes(
    energy: Energy,
    x: np.ndarray,
    k: int = 1,
    *,
    method: str = "auto",
    dense_max: int = 300,
    v0: np.ndarray | None = None,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest Hessian eigenpairs at ``x``, declared symmetry directions excluded.

    Parameters
    ----------
    energy : Energy
        On Euclidean space (the eigenpairs of the Euclidean Hessian).
    x : ndarray (dim,)
    k : int
        Number of eigenpairs.
    method : {"auto", "dense", "lanczos"}
        ``"auto"``: dense when ``dim <= dense_max``.
    v0 : ndarray (dim,), optional
        Lanczos start vector (e.g. the previous iteration's eigenvector).
    tol : float
        Lanczos tolerance.

    Returns
    -------
    lam : ndarray (k,)
        Eigenvalues, ascending.
    V : ndarray (k, dim)
        Unit eigenvectors (rows), orthogonal to the symmetry directions.
    """
    x, _ = energy.as_batch(x, "x")
    x = x[0]
    n = energy.dim
    Q = symmetry_basis(energy, x)
    d = n - Q.shape[0]
    if not 1 <= k <= d:
        raise ValueError(f"k must lie in 1..{d} (the dimension without symmetries); got {k}")
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"method must be 'auto', 'dense' or 'lanczos'; got {method!r}")
    if method == "dense" or (method == "auto" and n <= dense_max) or k >= d - 1:
        H = energy.block_hvp(x, np.eye(n))
        H = 0.5 * (H + H.T)
        if Q.shape[0]:
            u, _, _ = np.linalg.svd(Q.T, full_matrices=True)
            C = u[:, Q.shape[0] :]  # complement basis (n, d)
            lam, W = np.linalg.eigh(C.T @ H @ C)
            return lam[:k], (C @ W[:, :k]).T
        lam, W = np.linalg.eigh(H)
        return lam[:k], W[:, :k].T
    probe = as_generator(0).standard_normal(n)
    sigma = 10.0 * np.linalg.norm(energy.block_hvp(x, probe[None])[0]) / np.linalg.norm(probe)
    sigma = max(sigma, 1.0)

    def mv(v):
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        c = Q @ v
        p = v - Q.T @ c
        hp = energy.block_hvp(x, p[None])[0]
        hp -= Q.T @ (Q @ hp)
        return hp + sigma * (Q.T @ c)

    op = LinearOperator((n, n), matvec=mv, dtype=np.float64)
    start = None if v0 is None else np.asarray(v0, dtype=np.float64)
    lam, W = eigsh(op, k=k, which="SA", v0=start, tol=tol)
    order = np.argsort(lam)
    return lam[order], W[:, order].T


# ----------------------------------------------------------------------------- HEF
@dataclass(frozen=True)
class TransitionState:
    """A saddle search result.

    Attributes
    ----------
    x : ndarray (dim,)
        Final point.
    energy : float
        Its energy (extensive).
    grad_norm : float
        Gradient norm.
    index : int
        Number of negative Hessian eigenvalues (declared symmetries excluded).
    eigenvalue : float
        Lowest eigenvalue.
    unstable : ndarray (dim,)
        Unit eigenvector of the lowest eigenvalue.
    verified : bool
        ``verify`` says critical (|grad| <= gtol * scale, non-degenerate) with index 1.
    iterations : int
        Hybrid eigenvector-following iterations (before the Newton polish).
    """

    x: np.ndarray
    energy: float
    grad_norm: float
    index: int
    eigenvalue: float
    unstable: np.ndarray
    verified: bool
    iterations: int


def _tangent_descent(energy, x, v, steps, max_step, alpha0):
    """Projected steepest descent orthogonal to ``v`` with Barzilai–Borwein step lengths."""
    e, g = energy.energy_and_gradient(x)
    alpha = alpha0
    gp_prev = None
    x_prev = None
    for _ in range(steps):
        gp = g - (g @ v) * v
        if gp_prev is not None:
            s = x - x_prev
            y = gp - gp_prev
            sy = s @ y
            if sy > 0:
                alpha = float(s @ s / sy)
        step = -alpha * gp
        sn = np.linalg.norm(step)
        if sn > max_step:
            step *= max_step / sn
        for _ in range(20):
            xn = x + step
            en, gn = energy.energy_and_gradient(xn)
            if en <= e + 1e-12 * max(1.0, abs(e)):
                break
            step *= 0.5
            alpha *= 0.5
        else:
            break
        x_prev, gp_prev = x, gp
        x, e, g = xn, en, gn
    return x, alpha


def hybrid_eigenvector_following(
    energy: Energy,
    x0: np.ndarray,
    *,
    v0: np.ndarray | None = None,
    follow: str = "lowest",
    max_iter: int = 300,
    max_uphill: float = 0.1,
    max_step: float = 0.2,
    n_tangent: int = 10,
    switch_gtol: float = 1e-6,
    gtol: float = 1e-10,
    polish_iter: int = 100,
    method: str = "auto",
) -> TransitionState:
    """Single-ended search for an index-1 saddle from ``x0`` (Munro & Wales 1999).

    Each iteration: the lowest Hessian eigenpair ``(lam, v)`` (symmetry directions taken out,
    :func:`lowest_modes`); a step along ``v`` uphill — the eigenvector-following step
    ``2 g_v / (|lam| (1 + sqrt(1 + 4 g_v^2 / lam^2)))`` when ``lam < 0``, ``max_uphill``
    while ``lam >= 0`` — capped at ``max_uphill``; then ``n_tangent`` descent steps in the
    complement of ``v``. Once ``lam < 0`` and |grad| <= ``switch_gtol * scale`` (or after
    ``max_iter`` iterations), up to ``polish_iter`` Newton steps with target index 1 (trust
    radius ``max_step``, adapted) finish the search; the result is verified.

    Parameters
    ----------
    energy : Energy
        On Euclidean space.
    x0 : ndarray (dim,)
        Start (e.g. a minimum displaced along one of its soft modes).
    v0 : ndarray (dim,), optional
        Initial direction to climb along. With ``follow="overlap"`` the search follows, while
        the lowest eigenvalue is positive, the eigenvector (of the 6 lowest) closest to the
        previous direction (mode following), so different ``v0`` lead to different saddles.
    follow : {"lowest", "overlap"}
    max_iter, max_uphill, max_step, n_tangent : int, float, float, int
        Iterations, largest uphill step, largest tangent step, tangent steps per iteration.
    switch_gtol : float
        Gradient norm (relative to the scale) at which the Newton polish takes over.
    polish_iter : int
        Newton iterations of the polish.
    gtol : float
        Verification tolerance (relative to the scale).
    method : str
        Eigen-solver of :func:`lowest_modes`.
    """
    if follow not in ("lowest", "overlap"):
        raise ValueError(f"follow must be 'lowest' or 'overlap'; got {follow!r}")
    X, _ = energy.as_batch(x0, "x0")
    x = X[0].copy()
    scale = float(energy.scale)
    v = None if v0 is None else np.asarray(v0, dtype=np.float64) / np.linalg.norm(v0)
    alpha = 0.01
    it = 0
    k_track = min(6, energy.dim - symmetry_basis(energy, x).shape[0])
    for it in range(1, int(max_iter) + 1):  # noqa: B007 (it is reported)
        if follow == "overlap" and v is not None:
            lam_all, V_all = lowest_modes(energy, x, k_track, method=method, v0=v)
            j = 0 if lam_all[0] < 0 else int(np.argmax(np.abs(V_all @ v)))
            lam, vn = lam_all[j], V_all[j]
        else:
            lam_all, V_all = lowest_modes(energy, x, 1, method=method, v0=v)
            lam, vn = lam_all[0], V_all[0]
        if v is not None and vn @ v < 0:
            vn = -vn
        v = vn
        e, g = energy.energy_and_gradient(x)
        gn = float(np.linalg.norm(g))
        if lam < 0 and gn <= switch_gtol * scale:
            break
        gv = float(g @ v)
        if lam < 0:
            h = 2.0 * abs(gv) / (abs(lam) * (1.0 + math.sqrt(1.0 + 4.0 * gv**2 / lam**2)))
        else:
            h = max_uphill
        h = min(h, max_uphill) * (1.0 if gv >= 0 else -1.0)
        x = x + h * v
        x, alpha = _tangent_descent(energy, x, v, n_tangent, max_step, alpha)
    Y, _, _ = newton_search(
        energy,
        x[None],
        mode="index",
        target_index=1,
        max_iter=polish_iter,
        gtol=gtol,
        trust_radius=max_step,
        adaptive=True,
    )
    ver = verify(energy, Y, gtol=gtol)
    ok = bool(ver.kind[0] == "critical" and ver.indices[0] == 1)
    u = ver.unstable[0] / max(np.linalg.norm(ver.unstable[0]), 1e-300)
    return TransitionState(
        x=Y[0],
        energy=float(ver.energies[0]),
        grad_norm=float(ver.grad_norms[0]),
        index=int(ver.indices[0]),
        eigenvalue=float(ver.low_eigs[0, 0]),
        unstable=u,
        verified=ok,
        iterations=int(it),
    )


def neb_transition_state(
    energy: Energy, xa: np.ndarray, xb: np.ndarray, *, n_images: int = 17, **hef
) -> TransitionState:
    """Double-ended search: a climbing-image NEB between ``xa`` and ``xb``, refined by
    :func:`hybrid_eigenvector_following` from the climbing image along the band's tangent.

    The ends must be aligned (the same atoms in the same places where the structures
    agree, e.g. minima joined by descents from a saddle): the band interpolates coordinates.
    """
    from analysis.barriers import nudged_elastic_band

    path = nudged_elastic_band(energy, xa, xb, n_images=n_images)
    i = path.i_max
    P = path.points
    t = P[min(i + 1, len(P) - 1)] - P[max(i - 1, 0)]
    return hybrid_eigenvector_following(energy, path.x_max, v0=t, **hef)


def climb_index(
    energy: Energy,
    X: np.ndarray,
    indices: np.ndarray,
    *,
    step: float = 0.1,
    gtol: float = 1e-10,
    max_iter: int = 200,
    trust_radius: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Critical points of index k + 1 from critical points of index k (an index ladder).

    From each point ``X[i]`` of index ``k = indices[i]``, Newton eigenvector-following with
    target index k + 1 (:func:`analysis.critical.newton_search`, adaptive trust radius)
    starts ``step`` away along +- its (k+1)-th Hessian eigenvector (declared symmetry
    directions excluded), its softest stable mode: the climb of hybrid eigenvector-following
    from a minimum to an index-1 saddle, one index higher. Points whose k + 1 exceeds the
    dimension are skipped.

    Returns
    -------
    Z : ndarray (m, dim)
        End points (two per climbed point, ``+`` then ``-``), to be verified.
    targets : ndarray (m,)
        The target index of each.
    """
    if not step > 0:
        raise ValueError(f"step must be > 0; got {step}")
    X, _ = energy.as_batch(X, "X")
    k_all = np.asarray(indices, dtype=int).reshape(-1)
    if k_all.size != X.shape[0]:
        raise ValueError(f"indices must have {X.shape[0]} entries; got {k_all.size}")
    X0, tgt = [], []
    for x, k in zip(X, k_all, strict=True):
        if k < 0 or k >= energy.dim - symmetry_basis(energy, x).shape[0]:
            continue
        _, V = lowest_modes(energy, x, int(k) + 1)
        for sgn in (1.0, -1.0):
            X0.append(x + sgn * step * V[k])
            tgt.append(int(k) + 1)
    if not X0:
        return np.zeros((0, energy.dim)), np.zeros(0, dtype=int)
    Z, _, _ = newton_search(
        energy,
        np.array(X0),
        mode="index",
        target_index=np.array(tgt),
        max_iter=max_iter,
        gtol=gtol,
        trust_radius=trust_radius,
        adaptive=True,
    )
    return Z, np.array(tgt)


# ----------------------------------------------------------------------------- connections
def connect_saddles(
    energy: Energy,
    saddles: np.ndarray,
    unstable: np.ndarray,
    *,
    kick: float = 0.05,
    gtol: float = 1e-10,
    max_iter: int = 5000,
    restarts: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """The two minima below each saddle (:func:`descend_from_saddles`, adaptive push-off).

    Returns ``(minima, ok)``: ``minima`` ``(s, 2, dim)`` and ``ok`` ``(s, 2)`` (the descent
    ended in a verified minimum below the saddle).
    """
    d = descend_from_saddles(
        energy, saddles, unstable, kick=kick, gtol=gtol, max_iter=max_iter, restarts=restarts
    )
    return d.minima, d.ok


@dataclass(frozen=True)
class TransitionNetwork:
    """Minima joined by verified index-1 saddles.

    Attributes
    ----------
    minima : ndarray (m, dim)
        Verified minima (distinct modulo the energy's symmetries).
    minima_energies : ndarray (m,)
        Their energies (extensive).
    saddles : ndarray (s, dim)
        Verified, distinct index-1 saddles.
    saddle_energies : ndarray (s,)
        Their energies (extensive).
    saddle_grad_norms : ndarray (s,)
        Their gradient norms.
    ends : ndarray (s, 2)
        The minima each saddle joins (-1 where a descent failed).
    n_attempts : int
        Saddle searches run.
    n_failed : int
        Searches that did not end at a verified index-1 saddle.
    seed : dict
        ``seed_info`` of the search seed.
    """

    minima: np.ndarray
    minima_energies: np.ndarray
    saddles: np.ndarray
    saddle_energies: np.ndarray
    saddle_grad_norms: np.ndarray
    ends: np.ndarray
    n_attempts: int
    n_failed: int
    seed: dict = field(default_factory=dict)

    @property
    def n_connected(self) -> int:
        """Saddles joined to two verified minima (possibly the same one)."""
        return int(np.sum(np.all(self.ends >= 0, axis=1)))

    def barriers(self) -> np.ndarray:
        """``(s, 2)`` saddle energy minus each end's energy (NaN where the end is missing)."""
        out = np.full(self.ends.shape, np.nan)
        for c in range(2):
            ok = self.ends[:, c] >= 0
            out[ok, c] = self.saddle_energies[ok] - self.minima_energies[self.ends[ok, c]]
        return out

    def connections(self, scale: float = 1.0):
        """As :class:`analysis.connectivity.Connections` (energies divided by ``scale``)."""
        from analysis.connectivity import Connections

        G = nx.MultiGraph()
        for j, e in enumerate(self.minima_energies):
            G.add_node(j, energy=float(e) / scale)
        for s, (a, b) in enumerate(self.ends):
            if a >= 0 and b >= 0:
                G.add_edge(int(a), int(b), energy=float(self.saddle_energies[s]) / scale, saddle=s)
        return Connections(
            graph=G,
            minima=self.minima,
            minima_energies=self.minima_energies / scale,
            saddles=self.saddles,
            saddle_energies=self.saddle_energies / scale,
            ends=self.ends,
            n_components=nx.number_connected_components(G) if G.number_of_nodes() else 0,
        )


def explore_saddles(
    energy: Energy,
    minima: np.ndarray,
    *,
    n_modes: int = 4,
    n_random: int = 0,
    displacement: float = 0.1,
    rounds: int = 1,
    max_saddles: int | None = None,
    seed: SeedLike = None,
    energy_tol: float = 1e-7,
    key_tol: float = 1e-3,
    **hef,
) -> TransitionNetwork:
    """Saddles around known minima by single-ended searches, verified and connected.

    From each minimum: ``n_modes`` searches along its lowest modes (both signs of each,
    mode-following) and ``n_random`` along random directions, each started ``displacement``
    away. Saddles are verified (index 1, |grad| <= gtol), deduplicated modulo symmetries and
    connected to their two minima (:func:`connect_saddles`); minima met by the descents and
    not yet known join the network, and with ``rounds > 1`` are searched from in turn.

    Parameters
    ----------
    energy : Energy
    minima : ndarray (m, dim)
        Verified minima to start from.
    n_modes, n_random : int
        Searches per minimum and sign (modes) / per minimum (random directions).
    displacement : float
        Distance of the starts from the minimum.
    rounds : int
        Rounds of searching from newly found minima.
    max_saddles : int, optional
        Stop once this many distinct saddles are known.
    seed : seed-like
        Seed of the random directions.
    energy_tol, key_tol : float
        Deduplication tolerances (:class:`~analysis.critical.basinhopping.MinimaRegistry`).
    **hef
        Options of :func:`hybrid_eigenvector_following`.
    """
    M, _ = energy.as_batch(minima, "minima")
    root = as_seed_sequence(seed)
    rng = as_generator(root.spawn(1)[0])
    mins = MinimaRegistry(energy, energy_tol, key_tol)
    mins.add(M, np.asarray(energy.energy(M)), 0)
    sads = MinimaRegistry(energy, energy_tol, key_tol)
    sad_gn: list[float] = []
    sad_u: list[np.ndarray] = []
    attempts = failed = 0
    todo = list(range(len(mins)))
    for _ in range(int(rounds)):
        new_todo: list[int] = []
        for r in todo:
            x = mins.X[r]
            dirs = []
            if n_modes > 0:
                _, V = lowest_modes(energy, x, min(n_modes, energy.dim - 1))
                dirs += [s * v for v in V for s in (1.0, -1.0)]
            for _ in range(int(n_random)):
                u = rng.standard_normal(energy.dim)
                Q = symmetry_basis(energy, x)
                u -= Q.T @ (Q @ u)
                dirs.append(u / np.linalg.norm(u))
            for u in dirs:
                if max_saddles is not None and len(sads) >= max_saddles:
                    break
                attempts += 1
                ts = hybrid_eigenvector_following(
                    energy, x + displacement * u, v0=u, follow="overlap", **hef
                )
                if not ts.verified:
                    failed += 1
                    continue
                n0 = len(sads)
                sads.add(ts.x[None], np.array([ts.energy]), attempts)
                if len(sads) > n0:
                    sad_gn.append(ts.grad_norm)
                    sad_u.append(ts.unstable)
        # connect the saddles not yet connected
        ends_all = _connect_all(energy, sads, sad_u, mins, new_todo, attempts)
        todo = new_todo
        if not todo or (max_saddles is not None and len(sads) >= max_saddles):
            break
    ends = ends_all if len(sads) else np.zeros((0, 2), dtype=int)
    return TransitionNetwork(
        minima=mins.X.copy(),
        minima_energies=mins.E.copy(),
        saddles=sads.X.copy(),
        saddle_energies=sads.E.copy(),
        saddle_grad_norms=np.array(sad_gn),
        ends=ends,
        n_attempts=attempts,
        n_failed=failed,
        seed=seed_info(root),
    )


def _connect_all(energy, sads, sad_u, mins, new_todo, step) -> np.ndarray:
    """Ends of every saddle in ``sads`` (new minima registered, their rows in ``new_todo``)."""
    if not len(sads):
        return np.zeros((0, 2), dtype=int)
    pair, ok = connect_saddles(energy, sads.X, np.array(sad_u))
    ends = np.full((len(sads), 2), -1, dtype=int)
    E = np.asarray(energy.energy(pair.reshape(-1, energy.dim))).reshape(-1, 2)
    for c in range(2):
        sel = np.flatnonzero(ok[:, c])
        if sel.size:
            n0 = len(mins)
            rows = mins.add(pair[sel, c], E[sel, c], step)
            ends[sel, c] = rows
            new_todo.extend(range(n0, len(mins)))
    return ends
