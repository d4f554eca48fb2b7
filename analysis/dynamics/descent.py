"""Riemannian gradient descent (fixed, decaying or Armijo steps) on K replicas at once."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.dynamics.records import (
    DEFAULT_LADDER,
    DescentResult,
    _check_choice,
    _check_energy,
    _divergence_error,
    _finite_rows,
    _progress,
    _start,
    _Trajectory,
)
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy

__all__ = ["gradient_descent"]


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
    E, G = energy.batch_energy_and_gradient(X)
    E = np.array(E, dtype=np.float64)
    RG = man.rgrad(X, G)
    gn = np.linalg.norm(RG, axis=1)

    steps = np.zeros(K, dtype=np.int64)
    converged = np.zeros(K, dtype=bool)
    diverged = np.zeros(K, dtype=bool)
    diverged_at = np.full(K, np.nan)  # NaN: did not diverge
    stalled = np.zeros(K, dtype=bool)
    htimes = np.full((K, lad.size), np.nan)  # NaN: threshold never reached
    henergy = np.full((K, lad.size), np.nan)

    bad0 = np.nonzero(~_finite_rows(E, G))[0]
    if bad0.size:
        if on_divergence == "raise":
            raise _divergence_error("gradient descent", bad0, np.zeros(bad0.size))
        diverged[bad0] = True
        diverged_at[bad0] = 0

    trajectory = _Trajectory(record_points)

    def record(t: int) -> None:
        trajectory.add(t, E / energy.scale, gn / rdim, X)

    def mark_ladder(idx: np.ndarray, t: int) -> None:
        if lad.size == 0 or idx.size == 0:
            return
        g_int = gn[idx] / rdim
        hit = (g_int[:, None] <= lad[None, :]) & np.isnan(htimes[idx])
        if hit.any():
            rows, cols = np.nonzero(hit)
            htimes[idx[rows], cols] = t
            henergy[idx[rows], cols] = E[idx[rows]] / energy.scale

    active = np.nonzero(~diverged)[0]
    mark_ladder(active, 0)
    t = 0
    with _progress(max_steps, "gradient descent", progress, budget=True) as bar:
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
                    En, Gn = energy.batch_energy_and_gradient(Xn)
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
    if record_every is not None and not trajectory.has(t):
        record(t)

    traj = trajectory.fields() if record_every is not None else {}
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
            Et, Gt = energy.batch_energy_and_gradient(Xt)
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
        Gn[pending] = energy.batch_energy_and_gradient(Xa[pending])[1]
    return Xn, En, Gn, accepted
