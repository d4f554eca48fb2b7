"""GD against SGD on the split p-spin (Sagun, Guney, Ben Arous & LeCun 2014).

The stochastic p-spin is :class:`pspin.split.SplitPSpin`: couplings J = sum_k X_k / sqrt(P),
one part per SGD step. Sagun et al.'s protocol (``leventsagun/3-spin-glass-landscape``,
``sgd.lua``): SGD with learning rate ``0.3 / (1 + 0.0015 t)`` along the gradient of one
``H_{X_k / sqrt(P)}`` for ``500 P`` steps, then 1,000 full GD steps with ``0.2 / (1 + 0.0015 k)``;
plain GD (``halting_time.lua``) has the fixed step 0.2 and stops at ``|rgrad H| < 0.01``.

Units here: the split energy's minibatch gradient is the unbiased ``sqrt(P) grad H_{X_k}``,
``P`` times the gradient Sagun et al. step along, so their rate ``a`` is the SGD step ``a / P``
here (one epoch of P steps then moves like one GD step of size ``a``). An epoch is P SGD
steps or one full-gradient step. The scaled-down default runs ``sgd_epochs`` epochs instead of
500 (the rate decays in steps, as in the original), then the final GD phase with the same
gradient threshold as plain GD (at most ``final_gd_steps`` steps).

"Epochs to stop": for GD the halting time (steps to the gradient threshold); for both, the
first recorded epoch after which the full energy per spin stays within ``settle_tol`` of its
final value (``settle_epochs``), so GD and SGD are compared on the same clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.dynamics import DescentResult, gradient_descent, sgd
from analysis.store import stored
from analysis.studies.halting import two_sample
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = ["SagunSGD", "PSpinSGDComparison", "sagun_sgd", "settle_epochs", "gd_vs_sgd"]


@dataclass(frozen=True)
class SagunSGD:
    """The two phases of Sagun et al.'s SGD protocol on K replicas.

    Attributes
    ----------
    sgd : DescentResult
        The SGD phase (trajectory recorded once per epoch).
    gd : DescentResult
        The final full-gradient phase, started from ``sgd.x`` (trajectory every step).
    epochs : int array (K,)
        SGD epochs plus final GD steps taken, per replica.
    trajectory : array (T, K)
        Full energy per spin after each epoch of both phases (row 0: the start).
    """

    sgd: DescentResult
    gd: DescentResult
    epochs: np.ndarray
    trajectory: np.ndarray


def sagun_sgd(
    energy,
    x0,
    *,
    epochs: int = 100,
    rate: float = 0.3,
    decay: float = 0.0015,
    final_gd_steps: int = 1000,
    gd_step: float = 0.2,
    gtol: float = 0.0,
    seed: SeedLike = None,
    progress: bool | None = None,
) -> SagunSGD:
    """Sagun et al.'s SGD on a split p-spin (any FiniteSumEnergy with P = n_samples parts).

    Phase 1: ``epochs`` epochs of single-part SGD (batch 1) with step
    ``(rate / P) / (1 + decay t)``, ``t`` counting steps. Phase 2: at most ``final_gd_steps``
    full-gradient steps ``gd_step / (1 + decay k)``, stopping at the intensive gradient ``gtol``
    (0: run them all, as the original).
    """
    P = int(energy.n_samples)
    s = sgd(
        energy,
        x0,
        batch_size=1,
        step=rate / P,
        epochs=epochs,
        seed=seed,
        schedule="decay",
        decay=decay,
        record_every=P,
        progress=progress,
    )
    g = gradient_descent(
        energy,
        s.x,
        step=gd_step,
        max_steps=final_gd_steps,
        gtol=gtol,
        schedule="decay",
        decay=decay,
        ladder=(),
        record_every=1,
        progress=progress,
    )
    traj = np.concatenate([s.trajectory_energies, g.trajectory_energies[1:]], axis=0)
    return SagunSGD(sgd=s, gd=g, epochs=s.steps // P + g.steps, trajectory=traj)


def settle_epochs(trajectory: np.ndarray, final: np.ndarray, tol: float) -> np.ndarray:
    """First row after which each column of ``trajectory`` (T, K) stays within ``tol`` of ``final``."""
    far = np.abs(trajectory - np.asarray(final)[None, :]) > tol
    T = far.shape[0]
    # last row that is still far, plus one (0 if never far)
    last_far = np.where(far.any(axis=0), T - 1 - np.argmax(far[::-1], axis=0), -1)
    return last_far + 1


@dataclass(frozen=True)
class PSpinSGDComparison:
    """Final energies and epochs of GD and SGD on the same split p-spin instances.

    Attributes
    ----------
    N, p, P : int
    gd_energy, sgd_energy : arrays (R,)
        Final energies per spin (R = samples x replicas, the same starts for both methods).
    gd_halting : float array (R,)
        GD steps to the gradient threshold (NaN if not reached).
    gd_settle, sgd_settle : int arrays (R,)
        Epochs after which the energy per spin stays within ``settle_tol`` of its final value.
    sgd_epochs : int array (R,)
        Epochs SGD + its final GD phase ran.
    summary : dict
        Means, sds, standard errors, the difference of means, the two-sample tests
        (:func:`analysis.studies.halting.two_sample`) and the epoch statistics.
    params : dict
    seed : dict
    """

    N: int
    p: int
    P: int
    gd_energy: np.ndarray
    sgd_energy: np.ndarray
    gd_halting: np.ndarray
    gd_settle: np.ndarray
    sgd_settle: np.ndarray
    sgd_epochs: np.ndarray
    summary: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    seed: dict = field(default_factory=dict)


def gd_vs_sgd(
    N: int,
    *,
    p: int = 3,
    P: int = 5,
    samples: int = 2,
    replicas: int = 20,
    couplings: str = "gaussian",
    sgd_epochs: int = 100,
    rate: float = 0.3,
    decay: float = 0.0015,
    final_gd_steps: int = 1000,
    gd_step: float = 0.2,
    gd_max_steps: int = 20000,
    grad_threshold: float = 0.01,
    settle_tol: float = 1e-3,
    paired: bool = False,
    seed: SeedLike = 0,
    progress: bool | None = None,
    store=None,
) -> PSpinSGDComparison:
    """GD and SGD final-energy distributions and epochs on split p-spins of size N.

    ``samples`` coupling draws (``SplitPSpin(N, p, P, seed=child(seed, "model", s))``), each
    with ``replicas`` uniform starts for GD (``child(seed, "starts", s)``) and, unless
    ``paired``, independent starts for SGD (``child(seed, 3, s)``): from a shared start GD and
    SGD often end in the same minimum (about half the runs at N = 100), which would make the
    two samples dependent and the two-sample tests meaningless; with ``paired=True`` the
    starts are shared and ``summary["same_minimum"]`` reports that fraction. SGD shuffles with
    ``child(seed, 2, s)``. GD: fixed step ``gd_step`` to ``|rgrad| <= grad_threshold`` (total
    norm). SGD: :func:`sagun_sgd` with the same threshold in its final GD phase. With
    ``store`` (a RunFolder) each coupling draw is stored as it finishes
    (:func:`analysis.store.stored`).
    """
    from pspin.split import SplitPSpin

    if samples < 1 or replicas < 1 or samples * replicas < 2:
        raise ValueError(f"need samples, replicas >= 1 and >= 2 runs; got {samples}, {replicas}")
    root = as_seed_sequence(seed)
    gtol = grad_threshold / math.sqrt(N)
    out = {k: [] for k in ("gde", "sge", "gdh", "gds", "sgs", "sge_ep")}
    params = dict(
        N=N,
        p=p,
        P=P,
        samples=samples,
        replicas=replicas,
        couplings=couplings,
        sgd_epochs=sgd_epochs,
        rate=rate,
        decay=decay,
        final_gd_steps=final_gd_steps,
        gd_step=gd_step,
        gd_max_steps=gd_max_steps,
        grad_threshold=grad_threshold,
        settle_tol=settle_tol,
        paired=paired,
    )
    for s in range(samples):

        def unit(s=s):
            model = SplitPSpin(N, p, P, seed=child(root, "model", s), couplings=couplings)
            x0 = model.random_point(child(root, "starts", s), size=replicas)
            gd = gradient_descent(
                model,
                x0,
                step=gd_step,
                max_steps=gd_max_steps,
                gtol=gtol,
                ladder=(),
                record_every=1,
                progress=progress,
            )
            x0_sgd = x0 if paired else model.random_point(child(root, 3, s), size=replicas)
            st = sagun_sgd(
                model,
                x0_sgd,
                epochs=sgd_epochs,
                rate=rate,
                decay=decay,
                final_gd_steps=final_gd_steps,
                gd_step=gd_step,
                gtol=gtol,
                seed=child(root, 2, s),
                progress=progress,
            )
            return {
                "gde": gd.intensive,
                "gdh": np.where(gd.converged, gd.steps, np.nan),
                "gds": settle_epochs(gd.trajectory_energies, gd.intensive, settle_tol),
                "sge": st.gd.intensive,
                "sgs": settle_epochs(st.trajectory, st.gd.intensive, settle_tol),
                "sge_ep": st.epochs,
            }

        key = dict(task="gd_vs_sgd", sample=s, params=params, seed=seed_info(root))
        for k, v in stored(store, key, unit).items():
            out[k].append(v)
    a = {k: np.concatenate(v) for k, v in out.items()}
    # NaN: the threshold was not reached (runs stored by earlier versions say -1)
    a["gdh"] = np.where(a["gdh"] >= 0, a["gdh"], np.nan)
    halted = np.isfinite(a["gdh"])
    n = a["gde"].size

    def stats_of(x):
        return float(x.mean()), float(x.std(ddof=1)), float(x.std(ddof=1) / math.sqrt(x.size))

    gm, gsd, gse = stats_of(a["gde"])
    sm, ssd, sse = stats_of(a["sge"])
    summary = {
        "N": N,
        "runs": n,
        "gd_mean": gm,
        "gd_sd": gsd,
        "gd_se": gse,
        "sgd_mean": sm,
        "sgd_sd": ssd,
        "sgd_se": sse,
        "diff_mean": sm - gm,
        "diff_se": math.sqrt(gse**2 + sse**2),
        **{f"test_{k}": v for k, v in two_sample(a["gde"], a["sge"]).items()},
        "gd_halted": int(np.sum(halted)),
        "gd_halting_median": float(np.median(a["gdh"][halted])) if halted.any() else math.nan,
        "gd_settle_median": float(np.median(a["gds"])),
        "sgd_settle_median": float(np.median(a["sgs"])),
        "sgd_epochs_median": float(np.median(a["sge_ep"])),
        "paired": paired,
        "same_minimum": float(np.mean(np.abs(a["gde"] - a["sge"]) < 1e-6)) if paired else math.nan,
    }
    return PSpinSGDComparison(
        N=N,
        p=p,
        P=P,
        gd_energy=a["gde"],
        sgd_energy=a["sge"],
        gd_halting=a["gdh"],
        gd_settle=a["gds"],
        sgd_settle=a["sgs"],
        sgd_epochs=a["sge_ep"],
        summary=summary,
        params=params,
        seed=seed_info(root),
    )
