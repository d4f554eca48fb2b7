"""Basin-hopping global search for any Energy, batched over replicas (Wales & Doye 1997).

Each of ``K`` replicas is a Markov chain on the minima of the energy: perturb the current
minimum by a random step, quench (local minimization) to a new minimum, accept it with the
Metropolis rule at temperature ``T``. The quenches of all replicas run together in one batched
L-BFGS (:func:`lbfgs_minimize`: one energy-and-gradient call per iteration serves every
replica; no Python loop over replicas in the hot path). Step sizes and temperatures adapt per
replica: the step towards a target fraction of trial quenches that *escape* (reach a minimum
other than the current one), the temperature towards a target acceptance of those escapes.

Every minimum found is recorded once, modulo the energy's symmetries: two minima are the same
when their energies agree and their *structure keys* agree — ``energy.invariants(x)`` when the
energy has them (e.g. sorted pair distances of a cluster: translations, rotations and
permutations of atoms), else ``energy.canonical_form(x)`` (e.g. hidden-unit permutations of a
network), else the coordinates. :func:`verified_minima` polishes the distinct minima by Newton
steps and verifies them (|grad| <= 1e-10 relative to the scale, index 0 modulo the declared
symmetry directions); :func:`store_minima` writes them to an SQLite
:class:`analysis.catalogue.Catalogue`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from analysis.critical.search import newton_search
from analysis.critical.verify import verify
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = [
    "LocalMinima",
    "lbfgs_minimize",
    "structure_keys",
    "MinimaRegistry",
    "BasinHopping",
    "basin_hopping",
    "verified_minima",
    "store_minima",
]


# ----------------------------------------------------------------------------- L-BFGS
@dataclass(frozen=True)
class LocalMinima:
    """Result of a batched local minimization.

    Attributes
    ----------
    x : ndarray (K, dim)
        Final points.
    energies : ndarray (K,)
        Their energies (extensive, as ``energy.energy``).
    grad_norms : ndarray (K,)
        Riemannian gradient norms.
    converged : ndarray (K,) of bool
        ``grad_norms <= gtol * energy.scale``.
    iterations : ndarray (K,)
        L-BFGS iterations each replica took.
    n_evaluations : int
        Batched energy-and-gradient calls (all replicas together).
    """

    x: np.ndarray
    energies: np.ndarray
    grad_norms: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    n_evaluations: int


def _rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ki,ki->k", a, b)


def lbfgs_minimize(
    energy: Energy,
    X0: np.ndarray,
    *,
    gtol: float = 1e-6,
    max_iter: int = 2000,
    memory: int = 10,
    max_step: float = 0.5,
    max_rise: float = 1e-4,
) -> LocalMinima:
    """Batched L-BFGS on the energy's manifold: every replica in one pass per iteration.

    Each replica keeps its own history (the last ``memory`` steps and gradient changes, in a
    circular buffer ``(K, memory, dim)``); the two-loop recursion runs for all replicas at
    once. Steps are capped at ``max_step`` (norm) and, as in pele/GMIN, a step that raises
    the energy by more than ``max_rise * max(1, |E|)`` is halved (up to 10 times, only the
    failing replicas are re-evaluated) and that replica's history is cleared. Converged
    replicas stop moving.

    Parameters
    ----------
    energy : Energy
    X0 : ndarray (K, dim) or (dim,)
        Starts on the manifold (not modified).
    gtol : float
        Converged when the Riemannian gradient norm is <= ``gtol * energy.scale``.
    max_iter : int
        Iterations.
    memory : int
        L-BFGS history length.
    max_step : float
        Largest step norm.
    max_rise : float
        Largest relative energy increase of an accepted step.
    """
    if gtol <= 0 or max_iter < 1 or memory < 1 or max_step <= 0 or max_rise < 0:
        raise ValueError(
            "lbfgs_minimize needs gtol > 0, max_iter >= 1, memory >= 1, max_step > 0 and "
            f"max_rise >= 0; got {gtol}, {max_iter}, {memory}, {max_step}, {max_rise}"
        )
    X, _ = energy.as_batch(X0, "X0")
    X = np.array(X, copy=True)
    energy.manifold.check_on(X, name="X0")
    man = energy.manifold
    K, n = X.shape
    m = int(memory)
    S = np.zeros((K, m, n))
    Y = np.zeros((K, m, n))
    rho = np.zeros((K, m))
    count = np.zeros(K, dtype=int)
    pos = np.zeros(K, dtype=int)
    e, g = energy.batch_energy_and_gradient(X)
    g = man.rgrad(X, g)
    n_eval = 1
    thr = gtol * float(energy.scale)
    gn = np.linalg.norm(g, axis=1)
    iters = np.zeros(K, dtype=int)
    H0 = np.full(K, 0.1)
    for _ in range(int(max_iter)):
        act = np.flatnonzero(gn > thr)
        if act.size == 0:
            break
        iters[act] += 1
        q = g[act].copy()
        alpha = np.zeros((act.size, m))
        for j in range(m):  # newest to oldest; the loop is over the memory, not replicas
            i = (pos[act] - 1 - j) % m
            valid = j < count[act]
            s_j, y_j = S[act, i], Y[act, i]
            a = np.where(valid, rho[act, i] * _rows(s_j, q), 0.0)
            alpha[:, j] = a
            q -= a[:, None] * y_j
        newest = (pos[act] - 1) % m
        sy = _rows(S[act, newest], Y[act, newest])
        yy = _rows(Y[act, newest], Y[act, newest])
        gamma = np.where(count[act] > 0, sy / np.maximum(yy, 1e-300), H0[act])
        r = gamma[:, None] * q
        for j in range(m - 1, -1, -1):
            i = (pos[act] - 1 - j) % m
            valid = j < count[act]
            b = rho[act, i] * _rows(Y[act, i], r)
            r += np.where(valid, alpha[:, j] - b, 0.0)[:, None] * S[act, i]
        d = man.proj(X[act], -r)
        uphill = _rows(d, g[act]) >= 0
        if uphill.any():  # not a descent direction: restart from steepest descent
            d[uphill] = -H0[act[uphill], None] * g[act[uphill]]
            count[act[uphill]] = 0
        dn = np.linalg.norm(d, axis=1)
        d *= np.minimum(1.0, max_step / np.maximum(dn, 1e-300))[:, None]
        # trial step with halving for the replicas whose energy rises too much
        Xa = X[act]
        ea = e[act]
        Xn = man.retract(Xa, d)
        en, gnew = energy.batch_energy_and_gradient(np.ascontiguousarray(Xn))
        n_eval += 1
        bad = ~(en <= ea + max_rise * np.maximum(1.0, np.abs(ea))) | ~np.isfinite(en)
        tries = 0
        while bad.any() and tries < 10:
            tries += 1
            bi = np.flatnonzero(bad)
            d[bi] *= 0.5
            Xn[bi] = man.retract(Xa[bi], d[bi])
            eb, gb = energy.batch_energy_and_gradient(np.ascontiguousarray(Xn[bi]))
            n_eval += 1
            en[bi], gnew[bi] = eb, gb
            count[act[bi]] = 0
            bad[bi] = ~(eb <= ea[bi] + max_rise * np.maximum(1.0, np.abs(ea[bi])))
        ok = np.isfinite(en) & ~bad
        acc = act[ok]
        gnew = man.rgrad(Xn, gnew)
        s_new = man.proj(Xn[ok], d[ok])
        y_new = gnew[ok] - man.proj(Xn[ok], g[acc])
        sy_new = _rows(s_new, y_new)
        good = sy_new > 1e-12 * np.linalg.norm(s_new, axis=1) * np.linalg.norm(y_new, axis=1)
        upd = acc[good]
        S[upd, pos[upd]] = s_new[good]
        Y[upd, pos[upd]] = y_new[good]
        rho[upd, pos[upd]] = 1.0 / sy_new[good]
        pos[upd] = (pos[upd] + 1) % m
        count[upd] = np.minimum(count[upd] + 1, m)
        X[acc], e[acc], g[acc] = Xn[ok], en[ok], gnew[ok]
        gn[acc] = np.linalg.norm(gnew[ok], axis=1)
        stuck = act[~ok]
        count[stuck] = 0
        H0[stuck] *= 0.1
    return LocalMinima(
        x=X,
        energies=np.asarray(e, dtype=np.float64),
        grad_norms=gn,
        converged=gn <= thr,
        iterations=iters,
        n_evaluations=n_eval,
    )


# ----------------------------------------------------------------------------- distinct minima
def structure_keys(energy: Energy, X: np.ndarray) -> np.ndarray:
    """Symmetry-invariant keys of points ``(K, dim)`` -> ``(K, q)``.

    ``energy.invariants(X)`` when the energy defines it (e.g. sorted pair distances of a
    cluster), else ``energy.canonical_form(x)`` per point (e.g. a network with its hidden
    units sorted), else the coordinates themselves.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if X.shape[0] == 0:
        return X
    inv = getattr(energy, "invariants", None)
    if inv is not None:
        return np.atleast_2d(np.asarray(inv(X), dtype=np.float64))
    can = getattr(energy, "canonical_form", None)
    if can is not None:
        return np.stack([np.asarray(can(x), dtype=np.float64) for x in X])
    return X.copy()


class MinimaRegistry:
    """The distinct minima met by a search (mutable; the instruments' bookkeeping).

    Two minima are the same when their energies differ by at most
    ``energy_tol * max(1, |E|)`` and their structure keys (:func:`structure_keys`) by at most
    ``key_tol`` (largest absolute difference).
    """

    def __init__(self, energy: Energy, energy_tol: float = 1e-7, key_tol: float = 1e-3):
        self.energy = energy
        self.energy_tol = float(energy_tol)
        self.key_tol = float(key_tol)
        self.X = np.zeros((0, energy.dim))
        self.E = np.zeros(0)
        self.keys: np.ndarray | None = None
        self.hits = np.zeros(0, dtype=int)
        self.first = np.zeros(0, dtype=int)

    def __len__(self) -> int:
        return int(self.E.size)

    def match(self, E: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Row of the registered minimum equal to each candidate, or -1."""
        out = np.full(E.size, -1, dtype=int)
        if self.keys is None or not len(self):
            return out
        tol = self.energy_tol * np.maximum(1.0, np.abs(E))
        close_e = np.abs(E[:, None] - self.E[None, :]) <= tol[:, None]
        for c, r in zip(*np.nonzero(close_e), strict=True):  # few energy matches per candidate
            if out[c] < 0 and np.max(np.abs(keys[c] - self.keys[r])) <= self.key_tol:
                out[c] = r
        return out

    def add(self, X: np.ndarray, E: np.ndarray, step: int) -> np.ndarray:
        """Register candidates ``X`` with energies ``E``; returns their rows (new or old)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        E = np.asarray(E, dtype=np.float64).ravel()
        keys = structure_keys(self.energy, X)
        rows = self.match(E, keys)
        for c in range(E.size):  # candidates of one batch (K at most): dedupe among them too
            if rows[c] >= 0:
                self.hits[rows[c]] += 1
                continue
            again = self.match(E[c : c + 1], keys[c : c + 1])[0]
            if again >= 0:
                rows[c] = again
                self.hits[again] += 1
                continue
            self.X = np.vstack([self.X, X[c]])
            self.E = np.append(self.E, E[c])
            self.keys = (
                keys[c : c + 1].copy() if self.keys is None else np.vstack([self.keys, keys[c]])
            )
            self.hits = np.append(self.hits, 1)
            self.first = np.append(self.first, int(step))
            rows[c] = len(self) - 1
        return rows


# ----------------------------------------------------------------------------- basin-hopping
@dataclass(frozen=True)
class BasinHopping:
    """Result of :func:`basin_hopping`.

    Attributes
    ----------
    minima : ndarray (n, dim)
        Distinct minima found (quench accuracy), sorted by energy.
    energies : ndarray (n,)
        Their energies (extensive, as ``energy.energy``; divide by ``energy.scale`` for the
        intensive value).
    hits : ndarray (n,)
        How many quenches ended in each.
    first_found : ndarray (n,)
        Basin-hopping step at which each was first found (0: the initial quenches).
    best_energy : float
        Lowest energy found.
    best_found_at : int
        Step at which it was first found.
    n_steps : int
        Basin-hopping steps done (each is one quench of every replica).
    n_quenches : int
        Quenches in total (replicas x (steps + 1)).
    acceptance : ndarray (K,)
        Fraction of accepted steps per replica.
    step_sizes, temperatures : ndarray (K,)
        Final step sizes and temperatures of the replicas.
    trace : ndarray (steps + 1, K)
        Current energy of each replica after each step.
    stopped_by : str
        ``"target"`` (``target_energy`` reached), ``"max_time"`` or ``"n_steps"``.
    seed : dict
        ``seed_info`` of the root seed.
    fingerprint : str
        Of the energy.
    elapsed : float
        Seconds.
    """

    minima: np.ndarray
    energies: np.ndarray
    hits: np.ndarray
    first_found: np.ndarray
    best_energy: float
    best_found_at: int
    n_steps: int
    n_quenches: int
    acceptance: np.ndarray
    step_sizes: np.ndarray
    temperatures: np.ndarray
    trace: np.ndarray
    stopped_by: str
    seed: dict = field(default_factory=dict)
    fingerprint: str = ""
    elapsed: float = 0.0

    @property
    def n_minima(self) -> int:
        """Number of distinct minima found."""
        return int(self.energies.size)


def basin_hopping(
    energy: Energy,
    *,
    n_replicas: int = 8,
    n_steps: int = 100,
    temperature: float = 1.0,
    step_size: float | None = None,
    target_escape: float = 0.5,
    target_acceptance: float = 0.5,
    adapt_every: int = 10,
    seed: SeedLike = None,
    X0: np.ndarray | None = None,
    gtol: float = 1e-6,
    max_iter: int = 2000,
    max_step: float = 0.5,
    target_energy: float | None = None,
    target_tol: float = 1e-5,
    max_time: float | None = None,
    energy_tol: float = 1e-7,
    key_tol: float = 1e-3,
) -> BasinHopping:
    """Basin-hopping from ``n_replicas`` starts, all quenches of a step in one batched pass.

    Parameters
    ----------
    energy : Energy
    n_replicas : int
        Independent chains ``K``.
    n_steps : int
        Steps (each: perturb every replica, quench all, accept or reject per replica).
    temperature : float
        Initial Metropolis temperature (energy units of ``energy.energy``).
    step_size : float, optional
        Initial step: each coordinate moves by a uniform amount in ``[-s, s]`` (projected on
        the tangent space). Default ``0.4 * length_scale / sqrt(dim)`` (0.4 in Euclidean space).
    target_escape : float
        Every ``adapt_every`` steps each replica's step is multiplied by 1.1 when fewer than
        this fraction of its trial quenches left its current minimum, else divided by 1.1.
    target_acceptance : float
        Likewise the temperature: up when fewer escapes than this fraction were accepted,
        down otherwise (within ``[T0 / 10, 10 T0]``).
    adapt_every : int
        Steps between adaptations (0: no adaptation).
    seed : seed-like
        Root seed. Replica ``k`` has the stream ``r = child(root, "search", k)``: its start
        from ``child(r, 0)``, its steps and Metropolis draws from ``child(r, 1)``, so replica
        ``k`` follows the same chain (up to rounding) whatever the number of replicas beside it.
    X0 : ndarray (K, dim), optional
        Starts (default ``energy.random_point`` from each replica's start stream).
    gtol, max_iter, max_step : float, int, float
        Quench settings (:func:`lbfgs_minimize`).
    target_energy : float, optional
        Stop as soon as a replica reaches ``energy <= target_energy + target_tol`` (extensive).
    max_time : float, optional
        Stop after this many seconds (checked after each step).
    energy_tol, key_tol : float
        Deduplication tolerances (:class:`MinimaRegistry`).

    Returns
    -------
    BasinHopping
    """
    K = int(n_replicas)
    if K < 1 or int(n_steps) < 0 or temperature <= 0:
        raise ValueError(
            f"n_replicas must be >= 1, n_steps >= 0 and temperature > 0; got {n_replicas}, "
            f"{n_steps}, {temperature}"
        )
    if not (0 < target_escape < 1 and 0 < target_acceptance < 1) or adapt_every < 0:
        raise ValueError(
            "target_escape and target_acceptance must lie in (0, 1) and adapt_every >= 0; got "
            f"{target_escape}, {target_acceptance}, {adapt_every}"
        )
    man = energy.manifold
    root = as_seed_sequence(seed)
    streams = [child(root, "search", k) for k in range(K)]
    step_rngs = [np.random.Generator(np.random.PCG64(child(r, 1))) for r in streams]
    if X0 is None:
        X = np.concatenate([energy.random_point(child(r, 0), size=1) for r in streams])
    else:
        X, _ = energy.as_batch(X0, "X0")
        if X.shape[0] != K:
            raise ValueError(f"X0 must have n_replicas={K} rows; got {X.shape[0]}")
    s0 = 0.4 * float(man.length_scale) / math.sqrt(energy.dim) if step_size is None else step_size
    if s0 <= 0:
        raise ValueError(f"step_size must be > 0; got {step_size}")
    t0 = time.perf_counter()
    quench = {"gtol": gtol, "max_iter": max_iter, "max_step": max_step}
    q = lbfgs_minimize(energy, X, **quench)
    reg = MinimaRegistry(energy, energy_tol, key_tol)
    cur_X, cur_E = q.x.copy(), q.energies.copy()
    rows = reg.add(q.x[q.converged], q.energies[q.converged], 0)
    cur_row = np.full(K, -1, dtype=int)
    cur_row[q.converged] = rows
    steps = np.full(K, float(s0))
    T = np.full(K, float(temperature))
    n_acc = np.zeros(K, dtype=int)
    win_esc = np.zeros(K, dtype=int)
    win_acc = np.zeros(K, dtype=int)
    win_n = 0
    trace = [cur_E.copy()]
    best_at = 0
    best = float(np.min(cur_E))
    stopped = "n_steps"
    done = 0

    def reached() -> bool:
        return target_energy is not None and best <= target_energy + target_tol

    if reached():
        stopped = "target"
    for it in range(1, int(n_steps) + 1):
        if stopped == "target":
            break
        # one draw of a step and a uniform per replica, each from its own stream
        U = np.stack([r.uniform(-1.0, 1.0, energy.dim) for r in step_rngs])
        u = np.array([r.random() for r in step_rngs])
        trial = man.retract(cur_X, man.proj(cur_X, steps[:, None] * U))
        q = lbfgs_minimize(energy, trial, **quench)
        conv = q.converged
        rows = np.full(K, -1, dtype=int)
        if conv.any():
            rows[conv] = reg.add(q.x[conv], q.energies[conv], it)
        dE = q.energies - cur_E
        escape = conv & (rows != cur_row)
        with np.errstate(over="ignore"):
            metro = (dE <= 0) | (u < np.exp(-np.maximum(dE, 0.0) / T))
        acc = escape & metro
        cur_X[acc], cur_E[acc], cur_row[acc] = q.x[acc], q.energies[acc], rows[acc]
        n_acc += acc
        win_esc += escape
        win_acc += acc
        win_n += 1
        trace.append(cur_E.copy())
        e_min = float(np.min(q.energies[conv])) if conv.any() else np.inf
        if e_min < best - 1e-12:
            best, best_at = e_min, it
        done = it
        if adapt_every and win_n >= adapt_every:
            f_esc = win_esc / win_n
            steps = np.where(f_esc < target_escape, steps * 1.1, steps / 1.1)
            f_acc = np.where(win_esc > 0, win_acc / np.maximum(win_esc, 1), 1.0)
            T = np.clip(
                np.where(f_acc < target_acceptance, T * 1.1, T / 1.1),
                temperature / 10,
                temperature * 10,
            )
            win_esc[:] = 0
            win_acc[:] = 0
            win_n = 0
        if reached():
            stopped = "target"
            break
        if max_time is not None and time.perf_counter() - t0 > max_time:
            stopped = "max_time"
            break
    order = np.argsort(reg.E, kind="stable")
    return BasinHopping(
        minima=reg.X[order],
        energies=reg.E[order],
        hits=reg.hits[order],
        first_found=reg.first[order],
        best_energy=float(best),
        best_found_at=int(best_at),
        n_steps=int(done),
        n_quenches=int(K * (done + 1)),
        acceptance=n_acc / max(done, 1),
        step_sizes=steps,
        temperatures=T,
        trace=np.array(trace),
        stopped_by=stopped,
        seed=seed_info(root),
        fingerprint=energy.fingerprint,
        elapsed=time.perf_counter() - t0,
    )


# ----------------------------------------------------------------------------- verification
def verified_minima(
    energy: Energy, X: np.ndarray, *, gtol: float = 1e-10, max_iter: int = 50
) -> tuple[np.ndarray, object]:
    """Polish candidate minima by Newton steps and verify them.

    Returns ``(Y, verified)`` with ``verified`` an :class:`analysis.critical.Verified`: a
    minimum counts when ``kind == "critical"`` and ``indices == 0`` (|grad| <= ``gtol`` times
    the scale, Hessian positive definite apart from the declared symmetry directions).
    """
    X, _ = energy.as_batch(X, "X")
    Y, _, _ = newton_search(energy, X, mode="index", target_index=0, max_iter=max_iter, gtol=gtol)
    return Y, verify(energy, Y, gtol=gtol)


def store_minima(catalogue, energy: Energy, X: np.ndarray, verified) -> list[int]:
    """Store verified minima in a :class:`analysis.catalogue.Catalogue`; returns their ids.

    Only points with ``kind == "critical"`` and index 0 are stored. A minimum whose structure
    key matches one already stored for the same instance (modulo the energy's symmetries, see
    :func:`structure_keys`) is not stored again: its stored id is returned.
    """
    fp = catalogue.add_model(energy)
    stored = catalogue.points(fp)
    reg = MinimaRegistry(energy)
    row_ids: list[int] = []
    sel = stored["index"] == 0
    if sel.any():
        rows = reg.add(stored["coords"][sel], stored["energy"][sel] * float(energy.scale), 0)
        first: dict[int, int] = {}
        for r, pid in zip(rows, stored["id"][sel], strict=True):
            first.setdefault(int(r), int(pid))
        row_ids = [first[r] for r in range(len(reg))]
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    ok = (np.asarray(verified.kind) == "critical") & (np.asarray(verified.indices) == 0)
    ids = []
    for i in np.flatnonzero(ok):  # one catalogue transaction per new minimum
        n_before = len(reg)
        (row,) = reg.add(X[i : i + 1], verified.energies[i : i + 1], 0)
        if row < n_before:
            ids.append(row_ids[row])
            continue
        pid = catalogue.add_point(
            energy,
            X[i],
            energy_value=float(verified.energies[i]) / float(energy.scale),
            index=0,
            grad_norm=float(verified.grad_norms[i]),
            min_abs_eig=float(verified.min_abs_eigs[i]),
        )
        row_ids.append(int(pid))
        ids.append(int(pid))
    return ids
