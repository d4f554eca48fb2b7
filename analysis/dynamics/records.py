"""Result records of :mod:`analysis.dynamics`, per-replica seed streams and shared checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from landscapes._validation import as_points
from landscapes.energy import Energy
from landscapes.progress import Progress
from landscapes.random import as_seed_sequence, seed_info

__all__ = [
    "ON_MANIFOLD_TOL",
    "RNG_BLOCK",
    "DEFAULT_LADDER",
    "DescentResult",
    "SampleResult",
    "TemperingResult",
    "replica_seeds",
]

ON_MANIFOLD_TOL = 1e-8
"""Relative distance from the manifold beyond which a starting point is refused."""

RNG_BLOCK = 64
"""Steps of random numbers each replica draws from its stream at a time."""

DEFAULT_LADDER = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
"""Intensive gradient thresholds at which halting times are recorded."""


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class DescentResult:
    """Outcome of a descent (gradient descent or SGD) over K replicas.

    Attributes
    ----------
    method : str
        ``"gd"`` or ``"sgd"``.
    x : array (K, dim)
        Final points (last finite point for diverged replicas).
    energies : array (K,)
        Final energies (extensive, the energy's own units).
    intensive : array (K,)
        ``energies / energy.scale`` (e.g. H/N for the p-spin).
    grad_norms : array (K,)
        Final Riemannian gradient norms ``|rgrad|``.
    intensive_grad_norms : array (K,)
        ``|rgrad| / sqrt(dim)``, the quantity compared with ``gtol``.
    steps : int array (K,)
        Updates performed by each replica.
    converged : bool array (K,)
        Whether the replica reached ``intensive_grad_norm <= gtol``.
    diverged : bool array (K,)
        Whether the replica hit a non-finite value (only with ``on_divergence="flag"``).
    diverged_at : float array (K,)
        Step at which it diverged (NaN if it did not).
    stalled : bool array (K,)
        Armijo backtracking could not decrease the energy (numerical floor reached).
    ladder : array (L,)
        Intensive gradient thresholds of the halting times.
    halting_times : float array (K, L)
        First step at which ``intensive_grad_norm <= ladder[j]`` (NaN: never reached).
    halting_energies : array (K, L)
        Intensive energy at those steps (NaN where never reached).
    trajectory_steps : int array (T,) or None
        Steps at which the trajectory was recorded (``record_every``).
    trajectory_energies : array (T, K) or None
        Intensive energies along the run; a replica that stopped keeps its final value.
    trajectory_grad_norms : array (T, K) or None
        Intensive gradient norms along the run (final value after a replica stopped).
    trajectory_x : array (T, K, dim) or None
        Points along the run (only with ``record_points=True``).
    seeds : dict
        Root entropy and spawn keys of the per-replica streams (empty for deterministic GD).
    params : dict
        The parameters of the run (step, schedule, gtol, ...).
    scale : float
        ``energy.scale`` used for the intensive values.
    """

    method: str
    x: np.ndarray
    energies: np.ndarray
    intensive: np.ndarray
    grad_norms: np.ndarray
    intensive_grad_norms: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    stalled: np.ndarray
    ladder: np.ndarray
    halting_times: np.ndarray
    halting_energies: np.ndarray
    trajectory_steps: np.ndarray | None = None
    trajectory_energies: np.ndarray | None = None
    trajectory_grad_norms: np.ndarray | None = None
    trajectory_x: np.ndarray | None = None
    seeds: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    scale: float = 1.0

    @property
    def n_replicas(self) -> int:
        """Number of replicas K."""
        return int(self.x.shape[0])


@dataclass(frozen=True)
class SampleResult:
    """Outcome of a sampler (Langevin, MALA, Metropolis) over K replicas.

    Attributes
    ----------
    method : str
        ``"langevin"``, ``"mala"`` or ``"metropolis"``.
    x : array (K, dim)
        Final points.
    energies, intensive : arrays (K,)
        Final energies and ``energies / scale``.
    temperature : array (K,)
        Temperature of each replica.
    trace_steps : int array (T,)
        Steps at which the energy was recorded (0 is the start).
    trace : array (T, K)
        Intensive energies along the run (including burn-in; see ``burn_in``).
    acceptance : array (K,)
        Acceptance rate after burn-in (1 for unadjusted Langevin).
    proposal : array (K,)
        Final step (Langevin) or per-coordinate proposal scale (Metropolis), after adaptation.
    burn_in : int
        Steps discarded by :func:`equilibrium_energy` (and during which Metropolis adapts).
    n_steps : int
        Steps after burn-in.
    diverged, diverged_at : arrays (K,)
        As in :class:`DescentResult`.
    trace_x : array (T, K, dim) or None
        Points along the run (``record_points=True``).
    seeds, params, scale
        As in :class:`DescentResult`.
    """

    method: str
    x: np.ndarray
    energies: np.ndarray
    intensive: np.ndarray
    temperature: np.ndarray
    trace_steps: np.ndarray
    trace: np.ndarray
    acceptance: np.ndarray
    proposal: np.ndarray
    burn_in: int
    n_steps: int
    diverged: np.ndarray
    diverged_at: np.ndarray
    trace_x: np.ndarray | None = None
    seeds: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    scale: float = 1.0


@dataclass(frozen=True)
class TemperingResult:
    """Outcome of parallel tempering on a temperature ladder.

    Attributes
    ----------
    temperatures : array (M,)
        The ladder, in the order given.
    x : array (M, dim)
        Final configuration held at each temperature.
    energies, intensive : arrays (M,)
        Final energies at each temperature.
    trace_steps : int array (T,)
        Recorded steps.
    trace : array (T, M)
        Intensive energy at each temperature along the run.
    acceptance : array (M,)
        Move acceptance after burn-in at each temperature.
    swap_acceptance : array (M - 1,)
        Acceptance of swaps between temperatures i and i + 1 (after burn-in).
    swap_attempts : int array (M - 1,)
        Number of swaps attempted per pair after burn-in.
    burn_in, n_steps, seeds, params, scale
        As in :class:`SampleResult`.
    """

    temperatures: np.ndarray
    x: np.ndarray
    energies: np.ndarray
    intensive: np.ndarray
    trace_steps: np.ndarray
    trace: np.ndarray
    acceptance: np.ndarray
    swap_acceptance: np.ndarray
    swap_attempts: np.ndarray
    burn_in: int
    n_steps: int
    seeds: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    scale: float = 1.0


# --------------------------------------------------------------------------- validation
def _check_energy(energy) -> Energy:
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be a landscapes Energy; got {type(energy).__name__}")
    return energy


def _start(energy: Energy, x0) -> np.ndarray:
    """Validated private copy of the starting batch (K, dim), checked on the manifold."""
    X, _ = as_points(x0, energy.dim, name="x0", dtype=energy.dtype)
    energy.manifold.check_on(X, tol=ON_MANIFOLD_TOL, name="x0")
    return np.array(X, dtype=energy.dtype, copy=True)


def _check_choice(value, name: str, choices: tuple) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _temperatures(temperature, K: int) -> np.ndarray:
    t = np.asarray(temperature, dtype=np.float64)
    if t.ndim == 0:
        t = np.full(K, float(t))
    if t.shape != (K,):
        raise ValueError(
            f"temperature must be a number or an array of one value per replica ({K},); "
            f"got shape {t.shape}"
        )
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError(f"temperature must be finite and > 0; got {temperature!r}")
    return t


class _Trajectory:
    """A descent's recorded trajectory: steps, intensive energies and gradient norms, points."""

    def __init__(self, record_points: bool) -> None:
        self.record_points = record_points
        self.steps: list[int] = []
        self.energies: list[np.ndarray] = []
        self.grad_norms: list[np.ndarray] = []
        self.points: list[np.ndarray] = []

    def add(self, t: int, energies: np.ndarray, grad_norms: np.ndarray, X: np.ndarray) -> None:
        """Record step ``t`` (intensive values (K,); a copy of the points when recording them)."""
        self.steps.append(t)
        self.energies.append(energies)
        self.grad_norms.append(grad_norms)
        if self.record_points:
            self.points.append(X.copy())

    def has(self, t: int) -> bool:
        """Whether the last record is step ``t``."""
        return bool(self.steps) and self.steps[-1] == t

    def fields(self) -> dict:
        """The ``trajectory_*`` fields of :class:`DescentResult`."""
        return dict(
            trajectory_steps=np.asarray(self.steps, dtype=np.int64),
            trajectory_energies=np.stack(self.energies),
            trajectory_grad_norms=np.stack(self.grad_norms),
            trajectory_x=np.stack(self.points) if self.record_points else None,
        )


def _progress(total: int, desc: str, progress: bool | None, budget: bool = False) -> Progress:
    return Progress(total, desc=desc, enabled=progress, budget=budget)


def replica_seeds(seed, K: int) -> tuple[list[np.random.SeedSequence], dict]:
    """One SeedSequence per replica, and the JSON-able record of where they came from.

    Parameters
    ----------
    seed : int, SeedSequence, Generator, None, or a sequence of K SeedSequences
        A root seed (its ``spawn(K)`` children are the replica streams) or the per-replica
        streams themselves.
    K : int
        Number of replicas.

    Returns
    -------
    streams : list of SeedSequence
    record : dict
        ``{"root": {entropy, spawn_key} or None, "replicas": [{entropy, spawn_key}, ...]}``.
    """
    if isinstance(seed, Sequence) and not isinstance(seed, str | bytes):
        streams = list(seed)
        if len(streams) != K or not all(isinstance(s, np.random.SeedSequence) for s in streams):
            raise ValueError(
                f"a sequence of seeds must hold one numpy SeedSequence per replica ({K}); "
                f"got {len(streams)} items"
            )
        root = None
    else:
        root_ss = as_seed_sequence(seed)
        streams = root_ss.spawn(K)
        root = seed_info(root_ss)
    return streams, {"root": root, "replicas": [seed_info(s) for s in streams]}


class _Streams:
    """Per-replica random numbers drawn in blocks of RNG_BLOCK steps from each stream."""

    def __init__(self, streams: list[np.random.SeedSequence], dim: int, normals: bool = True):
        self.rngs = [np.random.Generator(np.random.PCG64(s)) for s in streams]
        self.dim = dim
        self.normals = normals
        self.t0 = -RNG_BLOCK  # first step of the current block
        self.Z = None
        self.U = None

    def draw(self, t: int, idx: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Normals (len(idx), dim) and uniforms (len(idx),) of step t for replicas idx."""
        if t >= self.t0 + RNG_BLOCK:
            self.t0 = (t // RNG_BLOCK) * RNG_BLOCK
            K = len(self.rngs)
            if self.normals:
                self.Z = np.empty((K, RNG_BLOCK, self.dim))
            self.U = np.empty((K, RNG_BLOCK))
            # One call per replica per block: the per-replica stream contract (each replica
            # draws only from its own stream) costs K generator calls every RNG_BLOCK steps.
            for k, rng in enumerate(self.rngs):
                if self.normals:
                    self.Z[k] = rng.standard_normal((RNG_BLOCK, self.dim))
                self.U[k] = rng.random(RNG_BLOCK)
        j = t - self.t0
        Z = self.Z[idx, j] if self.normals else None
        return Z, self.U[idx, j]


def _divergence_error(method: str, bad: np.ndarray, steps: np.ndarray) -> ValueError:
    pairs = ", ".join(
        f"replica {int(k)} at step {int(s)}" for k, s in zip(bad[:10], steps[:10], strict=True)
    )
    more = f" and {bad.size - 10} more" if bad.size > 10 else ""
    return ValueError(
        f"{method} diverged (non-finite energy, gradient or point): {pairs}{more}; "
        "reduce the step, or pass on_divergence='flag' to keep the other replicas"
    )


def _finite_rows(*arrays) -> np.ndarray:
    ok = None
    for a in arrays:
        f = np.isfinite(a)
        if f.ndim > 1:
            f = f.all(axis=tuple(range(1, f.ndim)))
        ok = f if ok is None else ok & f
    return ok
