"""The landscape side of mean-field networks: learning the spherical 3-spin energy.

Rotskoff & Vanden-Eijnden (2018) train mean-field networks on the spherical 3-spin energy
as the target: the limit is a convex problem in the measure, and the loss after training
exceeds its N -> infinity limit by O(1/N). This module measures that, and puts the network's
landscape beside the spin glass's:

* :func:`pspin_target_data` — inputs uniform on the sphere of radius sqrt(d), targets
  H(x)/sqrt(d) of a :class:`pspin.SphericalPSpin` (unit variance);
* :func:`landscape_experiment` — mean-field GD (:func:`~analysis.studies.meanfield.gd`) to time T on that data for several widths:
  the excess loss E[L_N(T)] - L_ref(T) (reference 16x wider, averaged; slope, theory -1),
  the spread over seeds of L_N(T), and the bottom of the Hessian spectrum of N*L at the
  end point (the particle-scale Hessian) for the smaller widths; beside it, gradient descent
  on the p-spin itself (:func:`analysis.dynamics.gradient_descent`) at several sizes: the
  endpoint energies stay above the ground state (at the threshold -E_inf) whatever the
  size, and the bottom of their Riemannian Hessian spectrum
  (:func:`analysis.spectrum.hessian_eigenvalues`).

Resolving the 1/N law: the coupled excess
------------------------------------------
The plain excess E[L_N] - L_ref is a 1/N signal under per-seed noise of order N^-1/2 (the
loss responds linearly to the fluctuation of the initial empirical measure), so its
relative error grows like sqrt(N / seeds) and the slope is lost beyond N ~ 32 at any
affordable number of seeds. The coupled estimator removes that noise pathwise: seeds
2i and 2i+1 of width N are also trained *together*, as one net of width 2N whose initial
particles are their union (itself a net with iid initial particles). To first order in
the fluctuations the union's loss is the average of the pair's, so

    D_i = (L_N,2i + L_N,2i+1) / 2 - L_2N,union(i)

has no O(N^-1/2) part: E[D] = e(N) - e(2N), with e(N) = E[L_N(T)] - L_inf(T), and its
sd over pairs is O(1/N) too, so its relative error does not grow with N. If
e(N) ~ b N^s then E[D] = b (1 - 2^s) N^s: the log-log slope of E[D] is s itself (theory
-1), with no reference and no fitted limit. ``coupled=True`` (the default) runs these
union nets in every width task (about twice the cost) and reports ``coupled_excess``
(mean D), its bootstrap s.e. over pairs, ``coupled_slope`` and ``coupled_slope_se``.

The experiment is a sweep of :class:`analysis.sweep.Task` s (:func:`landscape_plan`,
:func:`landscape_tasks`, :func:`landscape_combine`): the wide reference, one task per width
(all seeds batched) and one per p-spin size, each building its data and model on the worker
from seed records. :func:`landscape_experiment` runs them here, one after the other; ``landscapes
meanfield landscape`` runs them on any executor and resumes per task, with the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.studies.meanfield.fits import bootstrap_slope
from analysis.studies.meanfield.training import gd
from landscapes._validation import check_int
from landscapes.meanfield import MeanFieldNet, register_data
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_generator, as_seed_sequence, child, seed_info
from landscapes.spec import build

__all__ = [
    "pspin_target_data",
    "LandscapeResult",
    "landscape_experiment",
    "landscape_plan",
    "landscape_tasks",
    "landscape_combine",
    "landscape_net_task",
    "landscape_pspin_task",
]


def pspin_target_data(d: int = 6, n: int = 400, *, p: int = 3, seed: SeedLike = 0):
    """Data for learning a spherical p-spin energy: x uniform on |x| = sqrt(d), y = H(x)/sqrt(d).

    Returns ``(X, y, model)``; with the ABC normalization E[H(x)^2] = d, so y has unit
    variance.
    """
    d = check_int(d, "d", minimum=2)
    n = check_int(n, "n", minimum=1)
    ss = as_seed_sequence(seed)
    model = _target(d, p, ss)
    X = model.random_point(as_generator(child(ss, _POINTS)), size=n)
    y = np.asarray(model.energy(X)) / math.sqrt(d)
    return X, y, model


def _target(d: int, p: int, seed: np.random.SeedSequence):
    """The p-spin energy whose values are the targets (the data stream's child "model")."""
    from pspin import SphericalPSpin

    return SphericalPSpin(d, p, seed=child(seed, "model"))


_POINTS = 1  # child of the data stream that draws the inputs


def _pspin_target_xy(d: int, n: int, p: int = 3, *, seed: SeedLike = 0):
    X, y, _ = pspin_target_data(d, n, p=p, seed=seed)
    return X, y


register_data("pspin_target", _pspin_target_xy)


def _target_net(config: dict, N: int) -> MeanFieldNet:
    """The width-N net on the 3-spin data of a task configuration (built from its spec)."""
    source = {"name": "pspin_target", "d": int(config["d"]), "n": int(config["n_samples"])}
    return build(MeanFieldNet.spec(source, N, seed=child(config["data_seed"])))


@dataclass(frozen=True, eq=False)
class LandscapeResult:
    """Mean-field network on a p-spin target beside the p-spin's own landscape.

    Attributes
    ----------
    table : pandas.DataFrame
        Per (width, seed): the final loss L_N(T) of the network.
    summary : pandas.DataFrame
        Per width: mean final loss, excess over the reference (``stat``) with its bootstrap
        s.e., sd over seeds (``spread``), and the bottom Hessian eigenvalue of N*L at seed 0
        (``hess_min``, NaN above ``hessian_max_width``) and the fraction of eigenvalues below
        -1e-6 * the largest (``hess_neg_frac``); with ``coupled``, also ``coupled_excess``
        (mean over pairs of D = pair-mean loss minus the loss of the pair's union net of
        width 2N; E[D] = e(N) - e(2N)), ``coupled_excess_se`` (bootstrap over pairs) and
        ``coupled_sd`` (sd of D over pairs).
    slope, slope_se : float
        Slope of log excess loss against log N (theory -1) and its bootstrap s.e. This
        plain estimator is noise-limited (per-seed noise ~ N^-1/2 against a 1/N signal);
        prefer ``coupled_slope``.
    spread_slope, spread_slope_se : float
        Slope of log sd over seeds of L_N(T) against log N.
    pspin : pandas.DataFrame
        Per p-spin size n_spins: mean and sd over seeds of the GD endpoint energy per spin,
        its gap above the threshold -E_inf, and the bottom Riemannian Hessian eigenvalue.
    spectra : dict
        ``{"net N": eigenvalues of N*L, "pspin n": Riemannian Hessian eigenvalues}`` (seed 0).
    config : dict
    extra : dict
        ``ref_loss`` (mean loss of the reference), ``e_inf`` (p-spin threshold magnitude).
    coupled_slope, coupled_slope_se : float
        Slope of log ``coupled_excess`` against log N over the widths >= ``fit_min_width``
        (theory -1) and its bootstrap s.e. over pairs (NaN without ``coupled``).
    """

    table: Any
    summary: Any
    slope: float
    slope_se: float
    theory_slope: float
    spread_slope: float
    spread_slope_se: float
    pspin: Any
    spectra: dict
    config: dict
    extra: dict = field(default_factory=dict)
    coupled_slope: float = float("nan")
    coupled_slope_se: float = float("nan")


def landscape_plan(
    widths=(16, 32, 64, 128, 256),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    d: int = 6,
    n_samples: int = 400,
    eps: float = 0.2,
    T: float = 20.0,
    ref_factor: int = 16,
    ref_seeds: int = 4,
    hessian_max_width: int = 64,
    pspin_sizes=(20, 40, 80),
    pspin_seeds: int = 20,
    pspin_steps: int = 2000,
    n_boot: int = 500,
    coupled: bool = True,
    fit_min_width: int = 0,
) -> dict:
    """Validated parameters of :func:`landscape_experiment` (same arguments), JSON-able.

    The root seed is kept as its record; task seeds are its children (data 0, reference 1,
    bootstrap 2, p-spin 3, width j: 4 + j), as :func:`landscape_experiment` always drew them.
    ``coupled`` adds the coupled wide nets (see :func:`landscape_net_task`) to every width
    task; the plan then carries ``"coupled": True`` and ``fit_min_width`` (the smallest
    width in the coupled slope's fit: the 1/N law is asymptotic, and widths below about
    twice the interpolation threshold n_samples / (d + 1) are pre-asymptotic); both are
    absent without ``coupled``, so that plans and task keys without it are unchanged.
    """
    ws = sorted(check_int(w, "width N", minimum=1) for w in widths)
    if len(ws) < 2:
        raise ValueError(f"widths must hold at least two widths; got {ws}")
    if not isinstance(coupled, bool | np.bool_):
        raise ValueError(f"coupled must be a bool; got {coupled!r}")
    plan = {
        "widths": ws,
        "seeds": check_int(seeds, "seeds", minimum=3),
        "seed": seed_info(as_seed_sequence(seed)),
        "d": check_int(d, "d", minimum=2),
        "n_samples": check_int(n_samples, "n_samples", minimum=1),
        "eps": float(eps),
        "T": float(T),
        "ref_factor": check_int(ref_factor, "ref_factor", minimum=1),
        "ref_seeds": check_int(ref_seeds, "ref_seeds", minimum=2),
        "hessian_max_width": int(hessian_max_width),
        "pspin_sizes": [check_int(n, "pspin size", minimum=2) for n in pspin_sizes],
        "pspin_seeds": check_int(pspin_seeds, "pspin_seeds", minimum=2),
        "pspin_steps": check_int(pspin_steps, "pspin_steps", minimum=0),
        "n_boot": check_int(n_boot, "n_boot", minimum=2),
    }
    if coupled:
        if plan["seeds"] < 4:
            raise ValueError(f"coupled needs seeds >= 4 (two pairs); got {plan['seeds']}")
        fmin = check_int(fit_min_width, "fit_min_width", minimum=0)
        if sum(N >= fmin for N in ws) < 2:
            raise ValueError(f"fit_min_width={fmin} leaves fewer than two of the widths {ws}")
        plan["coupled"] = True
        plan["fit_min_width"] = fmin
    return plan


# children of the root seed (fixed: they are part of every stored run's identity)
_DATA, _REFERENCE, _BOOTSTRAP, _PSPIN, _WIDTH0 = 0, 1, 2, 3, 4

_NET_FUNC = "analysis.studies.meanfield.landscape:landscape_net_task"
_PSPIN_FUNC = "analysis.studies.meanfield.landscape:landscape_pspin_task"


def landscape_tasks(plan: dict) -> list:
    """The tasks of a :func:`landscape_plan`: the reference, each width, each p-spin size."""
    from analysis.sweep import Task

    root = plan["seed"]
    data = {
        "d": plan["d"],
        "n_samples": plan["n_samples"],
        "data_seed": seed_info(child(root, _DATA)),
        "eps": plan["eps"],
        "T": plan["T"],
    }
    M = plan["ref_factor"] * plan["widths"][-1]
    tasks = [
        Task(
            _NET_FUNC,
            {**data, "width": M, "seeds": plan["ref_seeds"]},
            seed_info(child(root, _REFERENCE)),
        )
    ]
    for j, N in enumerate(plan["widths"]):
        cfg = {**data, "width": N, "seeds": plan["seeds"]}
        cfg["hessian"] = N <= plan["hessian_max_width"]
        if plan.get("coupled"):
            cfg["coupled"] = True
        tasks.append(Task(_NET_FUNC, cfg, seed_info(child(root, _WIDTH0 + j))))
    for i, n in enumerate(plan["pspin_sizes"]):
        cfg = {"n_spins": n, "replicas": plan["pspin_seeds"], "steps": plan["pspin_steps"]}
        tasks.append(Task(_PSPIN_FUNC, cfg, seed_info(child(root, _PSPIN, i))))
    return tasks


def landscape_net_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: mean-field GD to time T for all seeds of one width on the 3-spin target.

    Config: ``d``, ``n_samples``, ``data_seed`` (record of the data's stream), ``eps``,
    ``T``, ``width``, ``seeds``, ``hessian`` (dense Hessian of N*L at seed 0's end point),
    ``coupled`` (optional). Seed s starts from child s of ``seed``. Returns meta
    ``{target_fingerprint}`` and arrays ``final_loss`` (seeds,) and, with ``hessian``,
    ``hessian`` (eigenvalues of N*L).

    With ``coupled``, also ``coupled_loss`` (seeds // 2,): the final loss of the width-2N net
    whose initial particles are the union of those of seeds 2i and 2i+1 (a net with iid
    initial particles, like any other). Its first-order fluctuation is the average of the
    two nets' first-order fluctuations, so D_i = (L_2i + L_2i+1)/2 - L_union,i cancels the
    O(N^-1/2) noise pathwise while E[D] = e(N) - e(2N), e the excess over the limit.
    """
    from analysis.spectrum import hessian_eigenvalues

    target = _target(int(config["d"]), 3, child(config["data_seed"]))
    N = int(config["width"])
    net = _target_net(config, N)
    kids = [child(seed, s) for s in range(int(config["seeds"]))]
    th0 = np.stack([net.random_point(np.random.default_rng(s)) for s in kids])
    tr = gd(net, th0, eps=config["eps"], T=config["T"], n_records=2)
    arrays = {"final_loss": tr.loss[-1]}
    if config.get("coupled"):
        P = th0.shape[0] // 2
        union = _target_net(config, 2 * N)
        tu = gd(union, th0[: 2 * P].reshape(P, union.dim), eps=config["eps"], T=config["T"])
        arrays["coupled_loss"] = tu.loss[-1]
    if config.get("hessian"):
        arrays["hessian"] = N * hessian_eigenvalues(net, tr.theta[0], riemannian=False).eigenvalues
    return {"target_fingerprint": target.fingerprint}, arrays


def landscape_pspin_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: Riemannian GD (Armijo) from ``replicas`` random starts on one 3-spin sample.

    ``seed``'s child 0 draws the couplings, child 1 the starts. Returns meta (mean and sd of
    the endpoint energy per spin, converged fraction, bottom Hessian eigenvalue at replica 0,
    the model's fingerprint) and arrays ``energy`` (replicas,), ``hessian`` (eigenvalues of
    the Riemannian Hessian at replica 0).
    """
    from analysis.dynamics import gradient_descent
    from analysis.spectrum import hessian_eigenvalues
    from pspin import SphericalPSpin

    H = SphericalPSpin(int(config["n_spins"]), 3, seed=child(seed, "model"))
    x0 = H.random_point(as_generator(child(seed, "starts")), size=int(config["replicas"]))
    res = gradient_descent(
        H, x0, step=0.5, max_steps=int(config["steps"]), gtol=1e-6, schedule="armijo"
    )
    e = np.asarray(res.intensive)
    ev = hessian_eigenvalues(H, res.x[0]).eigenvalues
    meta = {
        "fingerprint": H.fingerprint,
        "mean_energy": float(e.mean()),
        "sd_energy": float(e.std(ddof=1)),
        "converged": float(np.mean(res.converged)),
        "hess_min": float(ev[0]),
    }
    return meta, {"energy": e, "hessian": np.asarray(ev)}


def landscape_combine(plan: dict, results) -> LandscapeResult:
    """The :class:`LandscapeResult` of a plan from its tasks' ``(meta, arrays)``, in
    :func:`landscape_tasks` order (bootstrap and fits here: cheap)."""
    import pandas as pd

    ws, S, R = plan["widths"], plan["seeds"], plan["ref_seeds"]
    n_boot = plan["n_boot"]
    root = plan["seed"]
    M = plan["ref_factor"] * ws[-1]
    ref_loss = results[0][1]["final_loss"]
    net_res = results[1 : 1 + len(ws)]
    ps_res = results[1 + len(ws) :]
    fps = {m["target_fingerprint"] for m, _ in results[: 1 + len(ws)]}
    if len(fps) != 1:
        raise ValueError(f"tasks trained on different targets (fingerprints {sorted(fps)})")
    losses, spectra, hmin, hneg = {}, {}, [], []
    for N, (_, a) in zip(ws, net_res, strict=True):
        losses[N] = a["final_loss"]
        if "hessian" in a:
            ev = a["hessian"]
            spectra[f"net {N}"] = ev
            hmin.append(float(ev[0]))
            hneg.append(float(np.mean(ev < -1e-6 * np.abs(ev).max())))
        else:
            hmin.append(float("nan"))
            hneg.append(float("nan"))
    rng = as_generator(child(root, _BOOTSTRAP))
    bidx = rng.integers(S, size=(n_boot, S))
    ridx = rng.integers(R, size=(n_boot, R))
    Lref = float(ref_loss.mean())
    excess = np.array([losses[N].mean() - Lref for N in ws])
    spread = np.array([losses[N].std(ddof=1) for N in ws])
    bref = ref_loss[ridx].mean(axis=1)
    bex = np.stack([losses[N][bidx].mean(axis=1) - bref for N in ws], axis=1)
    bsp = np.stack([losses[N][bidx].std(axis=1, ddof=1) for N in ws], axis=1)
    ok = excess > 0
    if ok.sum() >= 2:
        wsk = np.asarray(ws)[ok]
        slope, slope_se = bootstrap_slope(wsk, excess[ok], bex[:, ok])
    else:
        slope, slope_se = float("nan"), float("nan")
    sp_slope, sp_se = bootstrap_slope(ws, spread, bsp)
    coupled = {}
    if plan.get("coupled"):
        P = S // 2
        pidx = rng.integers(P, size=(n_boot, P))  # drawn after bidx, ridx: those are unchanged
        D = np.stack(
            [
                (losses[N][0 : 2 * P : 2] + losses[N][1 : 2 * P : 2]) / 2 - a["coupled_loss"]
                for N, (_, a) in zip(ws, net_res, strict=True)
            ],
            axis=1,
        )  # (P, widths)
        cstat = D.mean(axis=0)
        cboot = D[pidx].mean(axis=1)  # (n_boot, widths)
        cok = (cstat > 0) & (np.asarray(ws) >= plan.get("fit_min_width", 0))
        if cok.sum() >= 2:
            c_slope, c_se = bootstrap_slope(np.asarray(ws)[cok], cstat[cok], cboot[:, cok])
        else:
            c_slope, c_se = float("nan"), float("nan")
        coupled = {
            "coupled_excess": cstat,
            "coupled_excess_se": cboot.std(axis=0, ddof=1),
            "coupled_sd": D.std(axis=0, ddof=1),
        }
    summary = pd.DataFrame(
        {
            "observable": "excess_loss",
            "width": ws,
            "mean_loss": [float(losses[N].mean()) for N in ws],
            "stat": excess,
            "stat_se": bex.std(axis=0, ddof=1),
            "spread": spread,
            "spread_se": bsp.std(axis=0, ddof=1),
            "hess_min": hmin,
            "hess_neg_frac": hneg,
            **coupled,
        }
    )
    table = pd.DataFrame(
        [(N, s, float(losses[N][s])) for N in ws for s in range(S)],
        columns=["width", "seed", "final_loss"],
    )
    e_inf = 2.0 * math.sqrt(2.0 / 3.0)  # threshold -E_inf for p = 3 (ABC)
    rows = []
    for n_sp, (m, a) in zip(plan["pspin_sizes"], ps_res, strict=True):
        spectra[f"pspin {n_sp}"] = a["hessian"]
        rows.append(
            dict(
                n_spins=int(n_sp),
                mean_energy=m["mean_energy"],
                sd_energy=m["sd_energy"],
                gap_above_threshold=float(m["mean_energy"] + e_inf),
                converged=m["converged"],
                hess_min=m["hess_min"],
            )
        )
    keys = ("d", "n_samples", "eps", "T", "ref_factor")
    config = dict(widths=ws, seeds=S, seed=dict(root), **{k: plan[k] for k in keys})
    config.update(
        ref_seeds=R,
        ref_width=M,
        hessian_max_width=plan["hessian_max_width"],
        pspin_sizes=list(plan["pspin_sizes"]),
        pspin_seeds=plan["pspin_seeds"],
        pspin_steps=plan["pspin_steps"],
        n_boot=n_boot,
        target_fingerprint=fps.pop(),
    )
    if plan.get("coupled"):
        config.update(coupled=True, fit_min_width=plan.get("fit_min_width", 0))
    return LandscapeResult(
        table,
        summary,
        slope,
        slope_se,
        -1.0,
        sp_slope,
        sp_se,
        pd.DataFrame(rows),
        spectra,
        config,
        {"ref_loss": Lref, "e_inf": e_inf},
        *((c_slope, c_se) if coupled else ()),
    )


def landscape_experiment(
    widths=(16, 32, 64, 128, 256),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    d: int = 6,
    n_samples: int = 400,
    eps: float = 0.2,
    T: float = 20.0,
    ref_factor: int = 16,
    ref_seeds: int = 4,
    hessian_max_width: int = 64,
    pspin_sizes=(20, 40, 80),
    pspin_seeds: int = 20,
    pspin_steps: int = 2000,
    n_boot: int = 500,
    coupled: bool = True,
    fit_min_width: int = 0,
    progress: bool | None = None,
) -> LandscapeResult:
    """Mean-field networks learning the spherical 3-spin energy, beside the 3-spin's landscape.

    Networks: ``MeanFieldNet`` on :func:`pspin_target_data` (d inputs, ``n_samples`` points),
    full-batch GD with step eps to time T (all seeds of a width batched). The excess loss
    E[L_N(T)] - L_ref(T), with L_ref the mean over ``ref_seeds`` nets of width
    ``ref_factor * max(widths)``, falls like 1/N. p-spin: ``pspin_seeds`` Riemannian GD runs
    (Armijo steps, ``pspin_steps`` at most) on ``SphericalPSpin(n, 3)`` for each n in
    ``pspin_sizes``.

    Runs the tasks of :func:`landscape_tasks` here, one after the other, and combines them
    (:func:`landscape_combine`); the CLI runs the same tasks on any executor.
    """
    plan = landscape_plan(
        widths,
        seeds,
        seed,
        d=d,
        n_samples=n_samples,
        eps=eps,
        T=T,
        ref_factor=ref_factor,
        ref_seeds=ref_seeds,
        hessian_max_width=hessian_max_width,
        pspin_sizes=pspin_sizes,
        pspin_seeds=pspin_seeds,
        pspin_steps=pspin_steps,
        n_boot=n_boot,
        coupled=coupled,
        fit_min_width=fit_min_width,
    )
    tasks = landscape_tasks(plan)
    pr = Progress(len(tasks), "meanfield landscape", enabled=progress)
    results = []
    for t in tasks:
        results.append(t.run())
        pr.update()
    pr.close()
    return landscape_combine(plan, results)
