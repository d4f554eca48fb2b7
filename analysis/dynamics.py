"""Descents and samplers over batches of replicas, on any Energy and its manifold.

Every function takes an :class:`~landscapes.energy.Energy` and starting points ``x0`` of shape
``(K, dim)`` (or one point ``(dim,)``, treated as K = 1) on the energy's manifold, and advances
all replicas in one vectorized loop: one call of the energy's batched kernel per step for all
*active* replicas (converged or diverged replicas leave the batch), followed by the manifold's
retraction. Results are frozen dataclasses that always keep the replica axis.

Conventions
-----------
* **Temperature.** Boltzmann weight ``exp(-H / T)`` with the extensive energy H (the energy's
  own units); for the p-spin (ABC) the paramagnetic energy per spin is ``-xi(1)/T``.
* **Overdamped Langevin.** ``x <- R_x(-h grad H(x) + sqrt(2 h T) xi)`` with ``xi`` a standard
  Gaussian projected on the tangent space and ``R`` the retraction.
* **Gradient tolerance (intensive).** A descent stops when the RMS component of the
  Riemannian gradient, ``|rgrad H| / sqrt(dim)``, is at most ``gtol``. For the p-spin every
  component of the gradient is O(1), so this is N-independent (Sagun et al.'s code stops at
  the total norm 0.01, i.e. ``gtol = 0.01 / sqrt(N)``).
* **On the manifold.** ``x0`` must lie within ``ON_MANIFOLD_TOL`` (relative to the radius) of
  the manifold (:meth:`Manifold.check_on`).
* **Seeds.** ``seed`` is a root seed (int, SeedSequence, Generator or None) from which one
  stream per replica is spawned (``SeedSequence.spawn(K)``), or a sequence of K
  SeedSequences, one per replica. Replica ``k`` of a batched run equals a single-replica run
  given ``seed=[streams[k]]``; results record the root entropy and every spawn key. Each
  replica draws its random numbers from its own stream in blocks of ``RNG_BLOCK`` steps
  (normals ``(RNG_BLOCK, dim)`` then uniforms ``(RNG_BLOCK,)``), so the numbers a replica sees
  do not depend on the batch it runs in.
* **Divergence.** A non-finite energy, gradient or point is never returned silently:
  ``on_divergence="raise"`` (default) raises ValueError naming the replicas and the steps;
  ``"flag"`` stops those replicas at their last finite state and sets ``diverged`` /
  ``diverged_at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.stats import MeanEstimate, batch_means, integrated_autocorr_time
from landscapes._validation import as_points, check_int, check_positive
from landscapes.energy import Energy, FiniteSumEnergy
from landscapes.manifolds import Euclidean, Sphere
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
    "gradient_descent",
    "sgd",
    "langevin",
    "metropolis",
    "parallel_tempering",
    "equilibrium_energy",
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
    diverged_at : int array (K,)
        Step at which it diverged (-1 if it did not).
    stalled : bool array (K,)
        Armijo backtracking could not decrease the energy (numerical floor reached).
    ladder : array (L,)
        Intensive gradient thresholds of the halting times.
    halting_times : int array (K, L)
        First step at which ``intensive_grad_norm <= ladder[j]`` (-1: never reached).
    halting_energies : array (K, L)
        Intensive energy at those steps (NaN where never reached, marked by -1 above).
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


def _progress(total: int, desc: str, progress: bool | None) -> Progress:
    return Progress(total, desc=desc, enabled=progress)


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


# --------------------------------------------------------------------------- descents
def _step_size(schedule: str | None, step: float, decay: float, t: int) -> float:
    if schedule == "decay":
        return step / (1.0 + decay * t)
    return step


def gradient_descent(
    energy: Energy,
    x0,
    *,
    step: float,
    max_steps: int,
    gtol: float = 1e-6,
    schedule: str | None = None,
    decay: float = 1e-3,
    armijo_c: float = 1e-4,
    max_backtracks: int = 40,
    ladder: Sequence[float] = DEFAULT_LADDER,
    record_every: int | None = None,
    record_points: bool = False,
    on_divergence: str = "raise",
    progress: bool | None = None,
) -> DescentResult:
    """Riemannian gradient descent on K replicas at once.

    ``x <- R_x(-a_t rgrad H(x))`` with ``R`` the manifold's retraction; each replica stops when
    ``|rgrad H| / sqrt(dim) <= gtol`` and leaves the batch.

    Parameters
    ----------
    energy : Energy
        Any energy; its manifold supplies ``rgrad`` and ``retract``.
    x0 : array (K, dim) or (dim,)
        Starting points on the manifold (within ``ON_MANIFOLD_TOL``).
    step : float
        Step size ``a`` (> 0): fixed, the initial value of the decaying schedule, or the first
        trial step of each Armijo line search.
    max_steps : int
        Maximum number of updates per replica.
    gtol : float
        Intensive gradient tolerance (RMS component of the Riemannian gradient).
    schedule : {None, "fixed", "decay", "armijo"}
        ``None``/"fixed": ``a_t = step``; "decay": ``a_t = step / (1 + decay t)`` (Sagun et al.);
        "armijo": per-replica backtracking from ``step``, halving until
        ``H(x_new) <= H(x) - armijo_c a |rgrad|^2``.
    decay : float
        Constant ``c`` of the decaying schedule.
    armijo_c, max_backtracks : float, int
        Sufficient-decrease constant and the most halvings; a replica that cannot decrease its
        energy after ``max_backtracks`` halvings stops with ``stalled=True``.
    ladder : sequence of float
        Intensive gradient thresholds for the halting times.
    record_every : int, optional
        Record energies and gradient norms every this many steps (and at the end).
    record_points : bool
        Also record the points (memory K * dim per record).
    on_divergence : {"raise", "flag"}
        What to do with replicas whose energy, gradient or point becomes non-finite.
    progress : bool, optional
        Show a progress bar (default: on a terminal only).

    Returns
    -------
    DescentResult
    """
    energy = _check_energy(energy)
    step = check_positive(step, "step")
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    gtol = check_positive(gtol, "gtol", allow_zero=True)
    schedule = _check_choice(schedule, "schedule", (None, "fixed", "decay", "armijo"))
    decay = check_positive(decay, "decay", allow_zero=True)
    armijo_c = check_positive(armijo_c, "armijo_c")
    max_backtracks = check_int(max_backtracks, "max_backtracks", minimum=1)
    on_divergence = _check_choice(on_divergence, "on_divergence", ("raise", "flag"))
    lad = np.asarray(ladder, dtype=np.float64).reshape(-1)
    if lad.size and (not np.all(np.isfinite(lad)) or np.any(lad <= 0)):
        raise ValueError(f"ladder values must be finite and > 0; got {ladder!r}")
    if record_every is not None:
        record_every = check_int(record_every, "record_every", minimum=1)

    X = _start(energy, x0)
    K, dim = X.shape
    man = energy.manifold
    rdim = math.sqrt(dim)
    E, G = energy._energy_and_gradient(X)
    E = np.array(E, dtype=np.float64)
    RG = man.rgrad(X, G)
    gn = np.linalg.norm(RG, axis=1)

    steps = np.zeros(K, dtype=np.int64)
    converged = np.zeros(K, dtype=bool)
    diverged = np.zeros(K, dtype=bool)
    diverged_at = np.full(K, -1, dtype=np.int64)
    stalled = np.zeros(K, dtype=bool)
    htimes = np.full((K, lad.size), -1, dtype=np.int64)
    henergy = np.full((K, lad.size), np.nan)

    bad0 = np.nonzero(~_finite_rows(E, G))[0]
    if bad0.size:
        if on_divergence == "raise":
            raise _divergence_error("gradient descent", bad0, np.zeros(bad0.size))
        diverged[bad0] = True
        diverged_at[bad0] = 0

    rec_steps: list[int] = []
    rec_e: list[np.ndarray] = []
    rec_g: list[np.ndarray] = []
    rec_x: list[np.ndarray] = []

    def record(t: int) -> None:
        rec_steps.append(t)
        rec_e.append(E / energy.scale)
        rec_g.append(gn / rdim)
        if record_points:
            rec_x.append(X.copy())

    def mark_ladder(idx: np.ndarray, t: int) -> None:
        if lad.size == 0 or idx.size == 0:
            return
        g_int = gn[idx] / rdim
        hit = (g_int[:, None] <= lad[None, :]) & (htimes[idx] < 0)
        if hit.any():
            rows, cols = np.nonzero(hit)
            htimes[idx[rows], cols] = t
            henergy[idx[rows], cols] = E[idx[rows]] / energy.scale

    active = np.nonzero(~diverged)[0]
    mark_ladder(active, 0)
    t = 0
    with _progress(max_steps, "gradient descent", progress) as bar:
        while True:
            if record_every is not None and t % record_every == 0:
                record(t)
            done = gn[active] / rdim <= gtol
            converged[active[done]] = True
            active = active[~done]
            if active.size == 0 or t >= max_steps:
                break
            Xa, RGa = X[active], RG[active]
            if schedule == "armijo":
                Xn, En, Gn, ok_ls = _armijo(
                    energy, Xa, E[active], RGa, step, armijo_c, max_backtracks
                )
                st = active[~ok_ls]
                stalled[st] = True
                # stalled replicas keep their point; they leave the batch below
            else:
                a = _step_size(schedule, step, decay, t)
                with np.errstate(over="ignore", invalid="ignore"):
                    Xn = man.retract(Xa, -a * RGa)
                    En, Gn = energy._energy_and_gradient(Xn)
                ok_ls = np.ones(active.size, dtype=bool)
            ok = _finite_rows(Xn, En, Gn)
            if not ok.all():
                bad = active[~ok]
                if on_divergence == "raise":
                    raise _divergence_error("gradient descent", bad, np.full(bad.size, t + 1))
                diverged[bad] = True
                diverged_at[bad] = t + 1
            upd = ok & ok_ls
            iu = active[upd]
            X[iu] = Xn[upd]
            E[iu] = En[upd]
            with np.errstate(over="ignore", invalid="ignore"):
                RG[iu] = man.rgrad(Xn[upd], Gn[upd])
                gn[iu] = np.linalg.norm(RG[iu], axis=1)
            steps[iu] += 1
            t += 1
            active = iu
            mark_ladder(active, t)
            bar.update(1, active=int(active.size))
    if record_every is not None and (not rec_steps or rec_steps[-1] != t):
        record(t)

    traj = {}
    if record_every is not None:
        traj = dict(
            trajectory_steps=np.asarray(rec_steps, dtype=np.int64),
            trajectory_energies=np.stack(rec_e),
            trajectory_grad_norms=np.stack(rec_g),
            trajectory_x=np.stack(rec_x) if record_points else None,
        )
    return DescentResult(
        method="gd",
        x=X,
        energies=E,
        intensive=E / energy.scale,
        grad_norms=gn,
        intensive_grad_norms=gn / rdim,
        steps=steps,
        converged=converged,
        diverged=diverged,
        diverged_at=diverged_at,
        stalled=stalled,
        ladder=lad,
        halting_times=htimes,
        halting_energies=henergy,
        seeds={},
        params=dict(
            step=step,
            max_steps=max_steps,
            gtol=gtol,
            gtol_definition="|rgrad| / sqrt(dim)",
            schedule=schedule or "fixed",
            decay=decay,
            armijo_c=armijo_c,
            max_backtracks=max_backtracks,
            record_every=record_every,
        ),
        scale=float(energy.scale),
        **traj,
    )


def _armijo(energy, Xa, Ea, RGa, step, c, max_backtracks):
    """Per-replica backtracking; one batched energy/gradient call per round."""
    man = energy.manifold
    n = Xa.shape[0]
    a = np.full(n, step)
    g2 = np.sum(RGa * RGa, axis=1)
    Xn = np.empty_like(Xa)
    En = np.empty(n)
    Gn = np.empty_like(Xa)
    pending = np.arange(n)
    accepted = np.zeros(n, dtype=bool)
    for _ in range(max_backtracks + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            Xt = man.retract(Xa[pending], -a[pending, None] * RGa[pending])
            Et, Gt = energy._energy_and_gradient(Xt)
        fin = _finite_rows(Xt, Et, Gt)
        # sufficient decrease, up to the rounding error of the energies themselves (near a
        # minimum the decrease c a |g|^2 falls below eps |H| and would stall every replica)
        slack = 16 * np.finfo(np.float64).eps * (np.abs(Ea[pending]) + 1.0)
        good = fin & (Et <= Ea[pending] - c * a[pending] * g2[pending] + slack)
        idx = pending[good]
        Xn[idx], En[idx], Gn[idx] = Xt[good], Et[good], Gt[good]
        accepted[idx] = True
        pending = pending[~good]
        if pending.size == 0:
            break
        a[pending] *= 0.5
    # replicas that never satisfied the condition keep their point (finite by construction)
    if pending.size:
        Xn[pending] = Xa[pending]
        En[pending] = Ea[pending]
        Gn[pending] = energy._energy_and_gradient(Xa[pending])[1]
    return Xn, En, Gn, accepted


def sgd(
    energy: FiniteSumEnergy,
    x0,
    *,
    batch_size: int,
    step: float,
    epochs: int,
    seed=None,
    schedule: str | None = None,
    decay: float = 1e-3,
    record_every: int | None = None,
    on_divergence: str = "raise",
    progress: bool | None = None,
) -> DescentResult:
    """Minibatch stochastic gradient descent on K replicas of a finite-sum energy.

    Each epoch, replica k shuffles the samples with its own stream and takes
    ``n_samples // batch_size`` steps on consecutive minibatches (the remainder of the
    permutation is left out of that epoch). The minibatch gradient is the Euclidean gradient
    of the mean loss over the minibatch, made Riemannian and retracted.

    Parameters
    ----------
    energy : FiniteSumEnergy
        A loss that is a mean over ``n_samples`` samples.
    x0 : array (K, dim) or (dim,)
        Starting points.
    batch_size : int
        Samples per minibatch (1 <= batch_size <= n_samples).
    step : float
        Step size (> 0), or the initial step of the "decay" schedule ``step / (1 + decay t)``.
    epochs : int
        Passes over the data.
    seed : seed-like or sequence of K SeedSequences
        Root of the per-replica shuffling streams (see :func:`replica_seeds`).
    schedule : {None, "fixed", "decay"}
    record_every : int, optional
        Record the full-data energy and gradient norm every this many steps (one extra
        full-data evaluation per record).
    on_divergence, progress
        As in :func:`gradient_descent`.

    Notes
    -----
    One call per step: the active replicas' minibatches form a ``(K_active, batch_size)``
    index array (row k from replica k's own permutation), evaluated by the FiniteSumEnergy
    in one batched pass (2-D ``idx``; energies with ``batched_idx = False`` are evaluated row
    by row by the base class, with the same results). Each replica's permutation stream is
    independent of the others, so replica k of a batched run equals a single-replica run on
    replica k's stream, to floating-point reassociation.

    Returns
    -------
    DescentResult
        ``converged`` is all False (SGD has no stopping rule); final energies and gradient
        norms are evaluated on all the data.
    """
    if not isinstance(energy, FiniteSumEnergy):
        raise ValueError(
            f"sgd needs a FiniteSumEnergy (a mean over samples); got {type(energy).__name__}"
        )
    step = check_positive(step, "step")
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    n = int(energy.n_samples)
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} is larger than the data ({n} samples)")
    schedule = _check_choice(schedule, "schedule", (None, "fixed", "decay"))
    decay = check_positive(decay, "decay", allow_zero=True)
    on_divergence = _check_choice(on_divergence, "on_divergence", ("raise", "flag"))
    if record_every is not None:
        record_every = check_int(record_every, "record_every", minimum=1)

    X = _start(energy, x0)
    K, dim = X.shape
    man = energy.manifold
    rdim = math.sqrt(dim)
    streams, rec = replica_seeds(seed, K)
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in streams]
    per_epoch = n // batch_size
    total = epochs * per_epoch
    steps = np.zeros(K, dtype=np.int64)
    diverged = np.zeros(K, dtype=bool)
    diverged_at = np.full(K, -1, dtype=np.int64)
    active = np.arange(K)
    rec_steps, rec_e, rec_g = [], [], []

    def full_eval(Xb):
        Eb, Gb = energy._energy_and_gradient(Xb, None)
        return np.asarray(Eb, dtype=np.float64), np.linalg.norm(man.rgrad(Xb, Gb), axis=1)

    def record(t):
        Ef, gf = full_eval(X)
        rec_steps.append(t)
        rec_e.append(Ef / energy.scale)
        rec_g.append(gf / rdim)

    t = 0
    with _progress(total, "sgd", progress) as bar:
        for _ in range(epochs):
            perms = np.stack([rng.permutation(n) for rng in rngs])  # (K, n), one per replica
            for b in range(per_epoch):
                if record_every is not None and t % record_every == 0:
                    record(t)
                if active.size == 0:
                    break
                a = _step_size(schedule, step, decay, t)
                idx = perms[active, b * batch_size : (b + 1) * batch_size]  # (K_active, b)
                Gb = energy._batched_energy_and_gradient(X[active], idx)[1]
                with np.errstate(over="ignore", invalid="ignore"):
                    Xn = man.retract(X[active], -a * man.rgrad(X[active], Gb))
                ok = _finite_rows(Xn, Gb)
                if not ok.all():
                    bad = active[~ok]
                    if on_divergence == "raise":
                        raise _divergence_error("sgd", bad, np.full(bad.size, t + 1))
                    diverged[bad] = True
                    diverged_at[bad] = t + 1
                X[active[ok]] = Xn[ok]
                steps[active[ok]] += 1
                active = active[ok]
                t += 1
                bar.update(1)
    if record_every is not None and (not rec_steps or rec_steps[-1] != t):
        record(t)
    E, gn = full_eval(X)
    bad = np.nonzero(~np.isfinite(E) | ~np.isfinite(gn))[0]
    if bad.size:
        if on_divergence == "raise":
            raise _divergence_error("sgd", bad, steps[bad])
        diverged[bad] = True
        diverged_at[bad] = np.where(diverged_at[bad] < 0, steps[bad], diverged_at[bad])
    traj = {}
    if record_every is not None:
        traj = dict(
            trajectory_steps=np.asarray(rec_steps, dtype=np.int64),
            trajectory_energies=np.stack(rec_e),
            trajectory_grad_norms=np.stack(rec_g),
        )
    return DescentResult(
        method="sgd",
        x=X,
        energies=E,
        intensive=E / energy.scale,
        grad_norms=gn,
        intensive_grad_norms=gn / rdim,
        steps=steps,
        converged=np.zeros(K, dtype=bool),
        diverged=diverged,
        diverged_at=diverged_at,
        stalled=np.zeros(K, dtype=bool),
        ladder=np.zeros(0),
        halting_times=np.zeros((K, 0), dtype=np.int64),
        halting_energies=np.zeros((K, 0)),
        seeds=rec,
        params=dict(
            batch_size=batch_size,
            step=step,
            epochs=epochs,
            schedule=schedule or "fixed",
            decay=decay,
            record_every=record_every,
        ),
        scale=float(energy.scale),
        **traj,
    )


# --------------------------------------------------------------------------- samplers
def _reverse_tangent(manifold, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Tangent vector at Y whose retraction is X (inverse of the retraction)."""
    if isinstance(manifold, Euclidean):
        return X - Y
    if isinstance(manifold, Sphere):
        # retraction = central (gnomonic) projection: v = r^2 / (x.y) x - y, tangent at y
        xy = np.sum(X * Y, axis=1, keepdims=True)
        return (manifold.radius**2 / xy) * X - Y
    raise ValueError(
        f"adjusted Langevin needs the inverse retraction of {manifold!r}; only Euclidean "
        "and Sphere are supported"
    )


class _Kernel:
    """One Markov step for a batch of replicas (Langevin, MALA or random-walk Metropolis).

    State per replica: point, energy, Euclidean gradient (Langevin), proposal scale,
    temperature. Proposals are tangent Gaussians at x, mapped to the manifold by the
    retraction. On the sphere the retraction is the gnomonic projection, whose Jacobian
    depends only on the angle between x and y and hence cancels in the Metropolis ratio;
    the proposal densities are the tangent Gaussians at the forward and reverse tangent
    vectors (:func:`_reverse_tangent`).
    """

    def __init__(self, energy, X, method, scales, temps, streams, on_divergence, name):
        self.energy = energy
        self.man = energy.manifold
        self.method = method
        self.X = X
        self.K = X.shape[0]
        self.scales = scales
        self.T = temps
        self.rand = _Streams(streams, X.shape[1])
        self.on_divergence = on_divergence
        self.name = name
        if method == "metropolis":
            self.E = np.asarray(energy._energy(X), dtype=np.float64).copy()
            self.G = None
        else:
            E, G = energy._energy_and_gradient(X)
            self.E, self.G = np.asarray(E, dtype=np.float64).copy(), np.array(G)
        self.diverged = np.zeros(self.K, dtype=bool)
        self.diverged_at = np.full(self.K, -1, dtype=np.int64)
        fin = _finite_rows(self.E) if self.G is None else _finite_rows(self.E, self.G)
        self._flag(np.nonzero(~fin)[0], 0)
        self.accepted = np.zeros(self.K)
        self.tried = np.zeros(self.K)

    def _flag(self, bad: np.ndarray, t: int) -> None:
        if bad.size == 0:
            return
        if self.on_divergence == "raise":
            raise _divergence_error(self.name, bad, np.full(bad.size, t))
        self.diverged[bad] = True
        self.diverged_at[bad] = t

    def step(self, t: int) -> np.ndarray:
        """Advance all non-diverged replicas by one step; return the accept indicator (K,)."""
        act = np.nonzero(~self.diverged)[0]
        acc = np.zeros(self.K, dtype=bool)
        if act.size == 0:
            return acc
        Z, U = self.rand.draw(t, act)
        X, man = self.X[act], self.man
        T, s = self.T[act, None], self.scales[act, None]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.method == "metropolis":
                v = s * man.proj(X, Z)
                Y = man.retract(X, v)
                EY = np.asarray(self.energy._energy(Y), dtype=np.float64)
                GY = None
                logr = -(EY - self.E[act]) / T[:, 0]
            else:
                rg = man.rgrad(X, self.G[act])
                v = -s * rg + np.sqrt(2.0 * s * T) * man.proj(X, Z)
                Y = man.retract(X, v)
                EY, GY = self.energy._energy_and_gradient(Y)
                EY = np.asarray(EY, dtype=np.float64)
                if self.method == "mala":
                    rgy = man.rgrad(Y, GY)
                    w = _reverse_tangent(man, X, Y)
                    fwd = np.sum((v + s * rg) ** 2, axis=1)
                    bwd = np.sum((w + s * rgy) ** 2, axis=1)
                    logr = -(EY - self.E[act]) / T[:, 0] - (bwd - fwd) / (4.0 * s[:, 0] * T[:, 0])
                else:
                    logr = np.zeros(act.size)
        fin = _finite_rows(Y, EY) & (_finite_rows(GY) if GY is not None else True)
        if self.method == "langevin":
            if not fin.all():
                self._flag(act[~fin], t + 1)
            take = fin
        else:
            # a non-finite proposal of an adjusted chain is simply rejected (zero density)
            take = fin & (np.log(np.maximum(U, 1e-300)) < logr)
        idx = act[take]
        self.X[idx] = Y[take]
        self.E[idx] = EY[take]
        if GY is not None:
            self.G[idx] = GY[take]
        acc[idx] = True
        return acc


def _sample(
    energy,
    x0,
    *,
    method,
    temperature,
    scale0,
    n_steps,
    burn_in,
    seed,
    target_acceptance,
    adapt,
    record_every,
    record_points,
    on_divergence,
    progress,
):
    energy = _check_energy(energy)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    record_every = check_int(record_every, "record_every", minimum=1)
    on_divergence = _check_choice(on_divergence, "on_divergence", ("raise", "flag"))
    X = _start(energy, x0)
    K, dim = X.shape
    temps = _temperatures(temperature, K)
    streams, rec = replica_seeds(seed, K)
    scales = np.full(K, float(scale0))
    name = {"metropolis": "metropolis", "mala": "adjusted Langevin", "langevin": "Langevin"}[method]
    ker = _Kernel(energy, X, method, scales, temps, streams, on_divergence, name)
    total = burn_in + n_steps
    rec_t, rec_e, rec_x = [], [], []
    acc_after = np.zeros(K)
    log_s = np.log(scales)

    def record(t):
        rec_t.append(t)
        rec_e.append(ker.E / energy.scale)
        if record_points:
            rec_x.append(ker.X.copy())

    with _progress(total, name, progress) as bar:
        for t in range(total):
            if t % record_every == 0:
                record(t)
            acc = ker.step(t)
            if t < burn_in:
                if adapt:
                    # Robbins-Monro on log(scale) toward the target acceptance, per replica
                    gamma = 1.0 / (1.0 + t) ** 0.6
                    log_s[:] = log_s + gamma * (acc.astype(float) - target_acceptance)
                    ker.scales[:] = np.exp(log_s)
            else:
                acc_after += acc
            bar.update(1)
    if not rec_t or rec_t[-1] != total:
        record(total)
    acceptance = acc_after / n_steps if n_steps else np.full(K, np.nan)
    if method == "langevin":
        acceptance = np.where(ker.diverged, 0.0, 1.0) if n_steps else acceptance
    return SampleResult(
        method=method,
        x=ker.X,
        energies=ker.E,
        intensive=ker.E / energy.scale,
        temperature=temps,
        trace_steps=np.asarray(rec_t, dtype=np.int64),
        trace=np.stack(rec_e),
        acceptance=acceptance,
        proposal=ker.scales.copy(),
        burn_in=burn_in,
        n_steps=n_steps,
        diverged=ker.diverged,
        diverged_at=ker.diverged_at,
        trace_x=np.stack(rec_x) if record_points else None,
        seeds=rec,
        params=dict(
            method=method,
            initial_scale=float(scale0),
            target_acceptance=target_acceptance if adapt else None,
            record_every=record_every,
            rng_block=RNG_BLOCK,
        ),
        scale=float(energy.scale),
    )


def langevin(
    energy: Energy,
    x0,
    *,
    temperature,
    step: float,
    n_steps: int,
    seed=None,
    adjusted: bool = False,
    burn_in: int = 0,
    record_every: int = 1,
    record_points: bool = False,
    on_divergence: str = "raise",
    progress: bool | None = None,
) -> SampleResult:
    """Overdamped Langevin dynamics on the manifold, optionally Metropolis-adjusted (MALA).

    ``y = R_x(-h rgrad H(x) + sqrt(2 h T) P_x xi)``. Unadjusted, the stationary law carries an
    O(h) bias; with ``adjusted=True`` the move is accepted with the Metropolis-Hastings ratio
    of the tangent-Gaussian proposal densities (on the sphere, the Jacobian of the gnomonic
    retraction is symmetric and cancels), so equilibrium averages are exact for any h.

    Parameters
    ----------
    energy : Energy
    x0 : array (K, dim) or (dim,)
        Starting points on the manifold.
    temperature : float or array (K,)
        Temperature (> 0) of each replica; Boltzmann weight ``exp(-H/T)``.
    step : float
        Step h (> 0), in the time units of ``dx = -grad H dt + sqrt(2T) dW``.
    n_steps : int
        Steps after burn-in.
    seed : seed-like or sequence of K SeedSequences
        Per-replica streams (see :func:`replica_seeds`).
    adjusted : bool
        Metropolis-adjusted Langevin (MALA).
    burn_in : int
        Steps run first and discarded by :func:`equilibrium_energy`.
    record_every : int
        Record the energy every this many steps.
    record_points, on_divergence, progress
        As in :func:`gradient_descent`. A non-finite MALA proposal is rejected, not flagged.

    Returns
    -------
    SampleResult
    """
    step = check_positive(step, "step")
    return _sample(
        energy,
        x0,
        method="mala" if adjusted else "langevin",
        temperature=temperature,
        scale0=step,
        n_steps=n_steps,
        burn_in=burn_in,
        seed=seed,
        target_acceptance=None,
        adapt=False,
        record_every=record_every,
        record_points=record_points,
        on_divergence=on_divergence,
        progress=progress,
    )


def metropolis(
    energy: Energy,
    x0,
    *,
    temperature,
    n_steps: int,
    seed=None,
    proposal: float | None = None,
    burn_in: int = 0,
    target_acceptance: float = 0.25,
    record_every: int = 1,
    record_points: bool = False,
    on_divergence: str = "raise",
    progress: bool | None = None,
) -> SampleResult:
    """Random-walk Metropolis on the manifold, proposal scale adapted during burn-in.

    Proposal ``y = R_x(s P_x xi)`` with ``xi`` standard Gaussian and per-coordinate scale
    ``s``; it is symmetric (on the sphere the gnomonic retraction's density depends only on
    the angle between x and y), so moves are accepted with ``min(1, exp(-(H(y)-H(x))/T))``.
    During burn-in each replica adapts ``log s`` by Robbins-Monro steps ``(1+t)^-0.6 (a -
    target)``; afterwards ``s`` is frozen, so the chain is an exact Metropolis chain.

    Parameters
    ----------
    energy : Energy
    x0 : array (K, dim) or (dim,)
    temperature : float or array (K,)
    n_steps : int
        Steps after burn-in.
    seed : seed-like or sequence of K SeedSequences
    proposal : float, optional
        Initial per-coordinate proposal scale (default ``2.38 / sqrt(dim)``).
    burn_in : int
        Adaptation and equilibration steps.
    target_acceptance : float
        Acceptance rate targeted during burn-in (0 < a < 1).
    record_every, record_points, on_divergence, progress
        As in :func:`langevin`.

    Returns
    -------
    SampleResult
    """
    energy = _check_energy(energy)
    if proposal is None:
        proposal = 2.38 / math.sqrt(energy.dim)
    proposal = check_positive(proposal, "proposal")
    ta = float(target_acceptance)
    if not 0 < ta < 1:
        raise ValueError(f"target_acceptance must lie in (0, 1); got {target_acceptance!r}")
    return _sample(
        energy,
        x0,
        method="metropolis",
        temperature=temperature,
        scale0=proposal,
        n_steps=n_steps,
        burn_in=burn_in,
        seed=seed,
        target_acceptance=ta,
        adapt=True,
        record_every=record_every,
        record_points=record_points,
        on_divergence=on_divergence,
        progress=progress,
    )


def parallel_tempering(
    energy: Energy,
    x0,
    *,
    temperatures,
    n_steps: int,
    seed=None,
    move: str = "metropolis",
    step: float | None = None,
    burn_in: int = 0,
    swap_every: int = 1,
    target_acceptance: float = 0.25,
    record_every: int = 1,
    progress: bool | None = None,
) -> TemperingResult:
    """Parallel tempering: one replica per temperature, local moves plus neighbour swaps.

    Every step moves all M replicas at once (random-walk Metropolis adapted during burn-in,
    or MALA with ``step``); every ``swap_every`` steps neighbouring pairs (i, i+1) are
    proposed for exchange, even pairs and odd pairs on alternate rounds, accepted with
    ``min(1, exp((1/T_i - 1/T_{i+1}) (H_i - H_{i+1})))``. Configurations move between
    temperatures; the proposal scales and random streams stay with the temperature slots.

    Parameters
    ----------
    energy : Energy
    x0 : array (M, dim)
        One starting point per temperature.
    temperatures : array (M,)
        The ladder (distinct, > 0).
    n_steps, burn_in : int
        Steps after burn-in, and burn-in steps.
    seed : seed-like
        Root seed: streams 0..M-1 drive the moves at each temperature, stream M the swaps.
    move : {"metropolis", "mala"}
    step : float, optional
        MALA step (required for ``move="mala"``).
    swap_every : int
        Steps between swap rounds.
    target_acceptance, record_every, progress
        As in :func:`metropolis`.

    Returns
    -------
    TemperingResult
    """
    energy = _check_energy(energy)
    temps = np.asarray(temperatures, dtype=np.float64).reshape(-1)
    if temps.size < 2:
        raise ValueError("parallel tempering needs at least 2 temperatures")
    if not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError(f"temperatures must be finite and > 0; got {temperatures!r}")
    if np.unique(temps).size != temps.size:
        raise ValueError("temperatures must be distinct")
    X = _start(energy, x0)
    M = temps.size
    if X.shape[0] != M:
        raise ValueError(
            f"x0 must hold one point per temperature: shape ({M}, {energy.dim}); got {X.shape}"
        )
    move = _check_choice(move, "move", ("metropolis", "mala"))
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    swap_every = check_int(swap_every, "swap_every", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    if move == "mala":
        if step is None:
            raise ValueError("move='mala' needs a step")
        s0 = check_positive(step, "step")
    else:
        s0 = 2.38 / math.sqrt(energy.dim) if step is None else check_positive(step, "step")
    ta = float(target_acceptance)
    if not 0 < ta < 1:
        raise ValueError(f"target_acceptance must lie in (0, 1); got {target_acceptance!r}")
    root = as_seed_sequence(seed)
    streams = root.spawn(M + 1)
    rec = {"root": seed_info(root), "replicas": [seed_info(s) for s in streams]}
    swap_rng = np.random.Generator(np.random.PCG64(streams[M]))
    scales = np.full(M, s0)
    ker = _Kernel(energy, X, move, scales, temps, streams[:M], "raise", "parallel tempering")
    log_s = np.log(scales)
    betas = 1.0 / temps
    acc_after = np.zeros(M)
    sw_acc = np.zeros(M - 1)
    sw_try = np.zeros(M - 1, dtype=np.int64)
    rec_t, rec_e = [], []
    total = burn_in + n_steps
    rnd = 0
    with _progress(total, "parallel tempering", progress) as bar:
        for t in range(total):
            if t % record_every == 0:
                rec_t.append(t)
                rec_e.append(ker.E / energy.scale)
            acc = ker.step(t)
            if t < burn_in:
                if move == "metropolis":
                    gamma = 1.0 / (1.0 + t) ** 0.6
                    log_s += gamma * (acc.astype(float) - ta)
                    ker.scales[:] = np.exp(log_s)
            else:
                acc_after += acc
            if (t + 1) % swap_every == 0:
                i = np.arange(rnd % 2, M - 1, 2)
                rnd += 1
                u = swap_rng.random(i.size)
                logr = (betas[i] - betas[i + 1]) * (ker.E[i] - ker.E[i + 1])
                ok = np.log(np.maximum(u, 1e-300)) < logr
                if t >= burn_in:
                    sw_try[i] += 1
                    sw_acc[i] += ok
                a, b = i[ok], i[ok] + 1
                for arr in (ker.X, ker.E) + ((ker.G,) if ker.G is not None else ()):
                    arr[a], arr[b] = arr[b].copy(), arr[a].copy()
            bar.update(1)
    rec_t.append(total)
    rec_e.append(ker.E / energy.scale)
    with np.errstate(invalid="ignore"):
        swap_acc = np.where(sw_try > 0, sw_acc / np.maximum(sw_try, 1), np.nan)
    return TemperingResult(
        temperatures=temps,
        x=ker.X,
        energies=ker.E,
        intensive=ker.E / energy.scale,
        trace_steps=np.asarray(rec_t, dtype=np.int64),
        trace=np.stack(rec_e),
        acceptance=acc_after / n_steps if n_steps else np.full(M, np.nan),
        swap_acceptance=swap_acc,
        swap_attempts=sw_try,
        burn_in=burn_in,
        n_steps=n_steps,
        seeds=rec,
        params=dict(move=move, initial_scale=s0, swap_every=swap_every, rng_block=RNG_BLOCK),
        scale=float(energy.scale),
    )


# --------------------------------------------------------------------------- equilibrium
def equilibrium_energy(result, replicas=None, burn_in: int | None = None) -> MeanEstimate:
    """Equilibrium mean of the intensive energy, with a batch-means error bar.

    Parameters
    ----------
    result : SampleResult or TemperingResult
        A sampler's output; the trace after ``burn_in`` is used (recorded steps > burn_in).
    replicas : array of int or bool mask, optional
        Which replicas (columns of the trace) to pool, e.g. those at one temperature.
    burn_in : int, optional
        Steps to discard (default: the run's own burn-in).

    Returns
    -------
    MeanEstimate
        Mean over the kept times and replicas; the error bar comes from blocks at least ten
        integrated autocorrelation times long (Sokal window), pooled over replicas treated as
        independent chains.
    """
    b = result.burn_in if burn_in is None else check_int(burn_in, "burn_in", minimum=0)
    keep = result.trace_steps > b
    tr = result.trace[keep]
    if replicas is not None:
        tr = tr[:, np.asarray(replicas)]
    if tr.shape[0] < 4:
        raise ValueError(f"only {tr.shape[0]} recorded steps after burn-in; run longer")
    if getattr(result, "diverged", None) is not None and replicas is None and result.diverged.any():
        raise ValueError("some replicas diverged; pass replicas= to pick the others")
    tau = integrated_autocorr_time(tr)
    est = batch_means(tr)
    return MeanEstimate(
        mean=est.mean,
        stderr=est.stderr,
        n_batches=est.n_batches,
        batch_size=est.batch_size,
        tau=tau.tau,
        reliable=est.reliable and tau.reliable,
    )
