"""Simulated annealing on any Energy, batched over replicas.

A Metropolis chain whose temperature falls from ``t_start`` to ``t_end`` (Kirkpatrick, Gelatt
& Vecchi 1983), the optimizer Choromanska et al. (2015) compared with SGD. Each step, every
replica proposes ``y = R_x(v)`` with ``R`` the manifold's retraction and ``v`` a tangent vector:

* ``proposal="rw"``: random walk, ``v = s P_x xi`` (``xi`` standard Gaussian);
* ``proposal="mala"``: Metropolis-adjusted Langevin, ``v = -s rgrad H(x) + sqrt(2 s T) P_x xi``;

and accepts it with probability ``min(1, exp(-(H(y) - H(x)) / T) q(x|y) / q(y|x))``, where
for MALA ``q`` is the tangent Gaussian at the forward vector and at the reverse vector
``inverse_retract(y, x)`` (on the sphere the gnomonic retraction's Jacobian depends only on
the angle between x and y and cancels). Temperatures are in the energy's own units (the
Boltzmann weight is ``exp(-H / T)`` with the extensive H, as in :mod:`analysis.dynamics`).

At a fixed temperature (``t_start == t_end``, ``adapt=False``) the chain is an exact
Metropolis chain for ``exp(-H / T)``. With ``adapt=True`` each replica tunes ``log s`` by a
constant-gain Robbins-Monro step toward ``target_acceptance`` (the right scale changes as
the chain cools). Each replica draws from its own stream (one per replica, spawned from
``seed`` as in :func:`analysis.dynamics.replica_seeds`), in blocks of ``RNG_BLOCK`` steps, so
replica k of a batched run equals a single-replica run given replica k's stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.dynamics import ON_MANIFOLD_TOL, RNG_BLOCK, replica_seeds
from landscapes._validation import as_points, check_int, check_positive
from landscapes.energy import Energy
from landscapes.progress import Progress

__all__ = ["AnnealResult", "annealing_temperatures", "simulated_annealing"]


@dataclass(frozen=True)
class AnnealResult:
    """Outcome of simulated annealing over K replicas.

    Attributes
    ----------
    x, energies, intensive : arrays (K, dim), (K,), (K,)
        Final points and their energies (extensive, and divided by ``scale``).
    best_x, best_energies, best_intensive : arrays
        Lowest-energy point each replica visited, and its energy.
    acceptance : array (K,)
        Fraction of accepted proposals.
    scales : array (K,)
        Final proposal scales ``s``.
    temperatures : array (n_steps,)
        The schedule.
    trajectory_steps : int array (T,) or None
    trajectory_energies : array (T, K) or None
        Intensive energies of the current states, every ``record_every`` steps.
    seeds : dict
        Root entropy and spawn keys of the per-replica streams.
    params : dict
    scale : float
    """

    x: np.ndarray
    energies: np.ndarray
    intensive: np.ndarray
    best_x: np.ndarray
    best_energies: np.ndarray
    best_intensive: np.ndarray
    acceptance: np.ndarray
    scales: np.ndarray
    temperatures: np.ndarray
    trajectory_steps: np.ndarray | None = None
    trajectory_energies: np.ndarray | None = None
    seeds: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    scale: float = 1.0


def annealing_temperatures(
    t_start: float, t_end: float, n_steps: int, schedule: str = "geometric"
) -> np.ndarray:
    """Temperatures ``(n_steps,)`` from ``t_start`` to ``t_end``: geometric or linear."""
    t_start = check_positive(t_start, "t_start")
    t_end = check_positive(t_end, "t_end")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    if schedule not in ("geometric", "linear"):
        raise ValueError(f"schedule must be 'geometric' or 'linear'; got {schedule!r}")
    if n_steps == 1:
        return np.array([t_end])
    u = np.arange(n_steps) / (n_steps - 1)
    if schedule == "geometric":
        return t_start * (t_end / t_start) ** u
    return t_start + (t_end - t_start) * u


class _Draws:
    """Per-replica normals and uniforms, drawn in blocks of RNG_BLOCK steps per stream."""

    def __init__(self, streams, dim: int):
        self.rngs = [np.random.Generator(np.random.PCG64(s)) for s in streams]
        self.dim = dim
        self.t0 = -RNG_BLOCK

    def __call__(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if t >= self.t0 + RNG_BLOCK:
            self.t0 = (t // RNG_BLOCK) * RNG_BLOCK
            K = len(self.rngs)
            self.Z = np.empty((K, RNG_BLOCK, self.dim))
            self.U = np.empty((K, RNG_BLOCK))
            for k, rng in enumerate(self.rngs):
                self.Z[k] = rng.standard_normal((RNG_BLOCK, self.dim))
                self.U[k] = rng.random(RNG_BLOCK)
        j = t - self.t0
        return self.Z[:, j], self.U[:, j]


def _reverse(manifold, X, Y):
    """Tangent vectors at Y retracting to X; NaN rows where none exists (proposal rejected)."""
    try:
        return manifold.inverse_retract(Y, X)
    except ValueError:
        out = np.full(X.shape, np.nan)
        for k in range(X.shape[0]):
            try:
                out[k] = manifold.inverse_retract(Y[k], X[k])
            except ValueError:
                pass
        return out


def simulated_annealing(
    energy: Energy,
    x0,
    *,
    n_steps: int,
    t_start: float,
    t_end: float,
    proposal: str = "mala",
    step: float | None = None,
    schedule: str = "geometric",
    adapt: bool = True,
    target_acceptance: float | None = None,
    adapt_gain: float = 0.05,
    seed=None,
    record_every: int | None = None,
    progress: bool | None = None,
) -> AnnealResult:
    """Simulated annealing of K replicas at once (see the module docstring).

    Parameters
    ----------
    energy : Energy
        Any energy (full energy; a FiniteSumEnergy is evaluated on all its samples).
    x0 : array (K, dim) or (dim,)
        Starting points on the manifold.
    n_steps : int
        Metropolis steps (one batched energy evaluation each, with its gradient for MALA).
    t_start, t_end : float
        First and last temperature (> 0, energy units).
    proposal : {"mala", "rw"}
    step : float, optional
        Initial proposal scale ``s`` (default ``2.38 / sqrt(dim)`` for "rw", ``1e-2`` for
        "mala").
    schedule : {"geometric", "linear"}
    adapt : bool
        Tune ``s`` per replica toward ``target_acceptance`` (default 0.3 for "rw", 0.57 for
        "mala") by ``log s += adapt_gain (accepted - target)``.
    seed : seed-like or sequence of K SeedSequences
        Root of the per-replica streams.
    record_every : int, optional
        Record the current intensive energies every this many steps (and at the end).
    progress : bool, optional

    Returns
    -------
    AnnealResult
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be a landscapes Energy; got {type(energy).__name__}")
    if proposal not in ("mala", "rw"):
        raise ValueError(f"proposal must be 'mala' or 'rw'; got {proposal!r}")
    temps = annealing_temperatures(t_start, t_end, n_steps, schedule)
    X, _ = as_points(x0, energy.dim, name="x0", dtype=energy.dtype)
    energy.manifold.check_on(X, tol=ON_MANIFOLD_TOL, name="x0")
    X = np.array(X, copy=True)
    K, dim = X.shape
    if step is None:
        step = 2.38 / math.sqrt(dim) if proposal == "rw" else 1e-2
    step = check_positive(step, "step")
    if target_acceptance is None:
        target_acceptance = 0.3 if proposal == "rw" else 0.57
    if not 0 < target_acceptance < 1:
        raise ValueError(f"target_acceptance must lie in (0, 1); got {target_acceptance!r}")
    adapt_gain = check_positive(adapt_gain, "adapt_gain")
    if record_every is not None:
        record_every = check_int(record_every, "record_every", minimum=1)
    streams, rec = replica_seeds(seed, K)
    draws = _Draws(streams, dim)
    man = energy.manifold
    mala = proposal == "mala"
    if mala:
        E, G = energy.batch_energy_and_gradient(X)
        E, G = np.array(E, dtype=np.float64), np.array(G)
    else:
        E, G = np.array(energy.batch_energy(X), dtype=np.float64), None
    if not np.all(np.isfinite(E)):
        raise ValueError("the energy is not finite at some starting points")
    best_x, best_e = X.copy(), E.copy()
    log_s = np.full(K, math.log(step))
    accepted = np.zeros(K)
    rec_t: list[int] = []
    rec_e: list[np.ndarray] = []
    with Progress(n_steps, desc="annealing", enabled=progress) as bar:
        for t in range(n_steps):
            if record_every is not None and t % record_every == 0:
                rec_t.append(t)
                rec_e.append(E / energy.scale)
            T = temps[t]
            s = np.exp(log_s)[:, None]
            Z, U = draws(t)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if mala:
                    rg = man.rgrad(X, G)
                    v = -s * rg + np.sqrt(2.0 * s * T) * man.proj(X, Z)
                    Y = man.retract(X, v)
                    EY, GY = energy.batch_energy_and_gradient(Y)
                    EY = np.asarray(EY, dtype=np.float64)
                    w = _reverse(man, X, Y)
                    fwd = np.sum((v + s * rg) ** 2, axis=1)
                    bwd = np.sum((w + s * man.rgrad(Y, GY)) ** 2, axis=1)
                    logr = -(EY - E) / T - (bwd - fwd) / (4.0 * s[:, 0] * T)
                    fin = np.isfinite(EY) & np.all(np.isfinite(GY), axis=1)
                else:
                    Y = man.retract(X, s * man.proj(X, Z))
                    EY = np.asarray(energy.batch_energy(Y), dtype=np.float64)
                    logr = -(EY - E) / T
                    fin = np.isfinite(EY)
                fin &= np.all(np.isfinite(Y), axis=1)
                take = fin & (np.log(np.maximum(U, 1e-300)) < logr)
            X[take] = Y[take]
            E[take] = EY[take]
            if mala:
                G[take] = GY[take]
            accepted += take
            better = E < best_e
            best_x[better] = X[better]
            best_e[better] = E[better]
            if adapt:
                log_s += adapt_gain * (take.astype(float) - target_acceptance)
            bar.update(1)
    traj = {}
    if record_every is not None:
        if not rec_t or rec_t[-1] != n_steps:
            rec_t.append(n_steps)
            rec_e.append(E / energy.scale)
        traj = dict(
            trajectory_steps=np.asarray(rec_t, dtype=np.int64),
            trajectory_energies=np.stack(rec_e),
        )
    return AnnealResult(
        x=X,
        energies=E,
        intensive=E / energy.scale,
        best_x=best_x,
        best_energies=best_e,
        best_intensive=best_e / energy.scale,
        acceptance=accepted / n_steps,
        scales=np.exp(log_s),
        temperatures=temps,
        seeds=rec,
        params=dict(
            n_steps=n_steps,
            t_start=float(t_start),
            t_end=float(t_end),
            proposal=proposal,
            step=step,
            schedule=schedule,
            adapt=adapt,
            target_acceptance=target_acceptance,
            adapt_gain=adapt_gain,
            record_every=record_every,
        ),
        scale=float(energy.scale),
        **traj,
    )
