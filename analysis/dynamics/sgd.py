"""Minibatch stochastic gradient descent on K replicas of a finite-sum energy."""

from __future__ import annotations

import math

import numpy as np

from analysis.dynamics.descent import _step_size
from analysis.dynamics.records import (
    DescentResult,
    _check_choice,
    _divergence_error,
    _finite_rows,
    _progress,
    _start,
    _Trajectory,
    replica_seeds,
)
from landscapes._validation import check_int, check_positive
from landscapes.energy import FiniteSumEnergy

__all__ = ["sgd"]


#: A final full-data loss above this many times max(|initial loss|, scale) is a divergence.
BLOWUP_FACTOR = 1e6


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
    record_points: bool = False,
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
    record_points : bool
        Also record the points (memory K * dim per record; needs ``record_every``).
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
    # a finite loss that grew by BLOWUP_FACTOR is a divergence too (5e122 is not a result)
    E0 = np.asarray(energy.batch_energy(X), dtype=np.float64)
    man = energy.manifold
    rdim = math.sqrt(dim)
    streams, rec = replica_seeds(seed, K)
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in streams]
    per_epoch = n // batch_size
    total = epochs * per_epoch
    steps = np.zeros(K, dtype=np.int64)
    diverged = np.zeros(K, dtype=bool)
    diverged_at = np.full(K, np.nan)  # NaN: did not diverge
    active = np.arange(K)
    trajectory = _Trajectory(record_points)

    def full_eval(Xb):
        Eb, Gb = energy.batch_energy_and_gradient(Xb, None)
        return np.asarray(Eb, dtype=np.float64), np.linalg.norm(man.rgrad(Xb, Gb), axis=1)

    def record(t):
        Ef, gf = full_eval(X)
        trajectory.add(t, Ef / energy.scale, gf / rdim, X)

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
                Gb = energy.batch_energy_and_gradient(X[active], idx)[1]
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
    if record_every is not None and not trajectory.has(t):
        record(t)
    E, gn = full_eval(X)
    with np.errstate(invalid="ignore", over="ignore"):
        blew = np.abs(E) > BLOWUP_FACTOR * np.maximum(np.abs(E0), float(energy.scale))
    bad = np.nonzero(~np.isfinite(E) | ~np.isfinite(gn) | blew)[0]
    if bad.size:
        if on_divergence == "raise" and np.all(np.isfinite(E[bad])):
            k = int(bad[0])
            raise ValueError(
                f"sgd diverged: the loss of replica {k} grew from {E0[k]:.3g} to {E[k]:.3g} "
                f"(more than {BLOWUP_FACTOR:g} times) in {int(steps[k])} steps"
                f"{f' ({bad.size} replicas)' if bad.size > 1 else ''}; reduce the step, or "
                "pass on_divergence='flag' to keep the other replicas"
            )
        if on_divergence == "raise":
            raise _divergence_error("sgd", bad, steps[bad])
        diverged[bad] = True
        diverged_at[bad] = np.where(np.isnan(diverged_at[bad]), steps[bad], diverged_at[bad])
    traj = trajectory.fields() if record_every is not None else {}
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
