"""Samplers on any Energy: overdamped Langevin, MALA, Metropolis and parallel tempering.

Conventions (temperature, the Langevin update, seeds, divergence) are those of
:mod:`analysis.dynamics`.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.dynamics.records import (
    RNG_BLOCK,
    SampleResult,
    TemperingResult,
    _check_choice,
    _check_energy,
    _divergence_error,
    _finite_rows,
    _progress,
    _start,
    _Streams,
    _temperatures,
    replica_seeds,
)
from analysis.stats import MeanEstimate, batch_means, integrated_autocorr_time
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.random import as_seed_sequence, seed_info

__all__ = ["langevin", "metropolis", "parallel_tempering", "equilibrium_energy"]


# --------------------------------------------------------------------------- samplers
def _reverse_tangent(manifold, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Tangent vectors at Y whose retractions are X (the manifold's ``inverse_retract``).

    Rows where no such vector exists (on the sphere: ``x . y <= 0``) come back as NaN, so the
    proposal is rejected (its reverse density is zero).
    """
    try:
        return manifold.inverse_retract(Y, X)
    except ValueError:
        out = np.full(X.shape, np.nan)
        for k in range(X.shape[0]):  # rare: a proposal past the equator of its start
            try:
                out[k] = manifold.inverse_retract(Y[k], X[k])
            except ValueError:
                pass
        return out


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
            self.E = np.asarray(energy.batch_energy(X), dtype=np.float64).copy()
            self.G = None
        else:
            E, G = energy.batch_energy_and_gradient(X)
            self.E, self.G = np.asarray(E, dtype=np.float64).copy(), np.array(G)
        self.diverged = np.zeros(self.K, dtype=bool)
        self.diverged_at = np.full(self.K, np.nan)  # NaN: did not diverge
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
                EY = np.asarray(self.energy.batch_energy(Y), dtype=np.float64)
                GY = None
                logr = -(EY - self.E[act]) / T[:, 0]
            else:
                rg = man.rgrad(X, self.G[act])
                v = -s * rg + np.sqrt(2.0 * s * T) * man.proj(X, Z)
                Y = man.retract(X, v)
                EY, GY = self.energy.batch_energy_and_gradient(Y)
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
