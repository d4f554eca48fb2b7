"""The landscape side of mean-field networks: learning the spherical 3-spin energy.

Rotskoff & Vanden-Eijnden (2018) train mean-field networks on the spherical 3-spin energy
as the target: the limit is a convex problem in the measure, and the loss after training
exceeds its N -> infinity limit by O(1/N). This module measures that, and puts the network's
landscape beside the spin glass's:

* :func:`pspin_target_data` — inputs uniform on the sphere of radius sqrt(d), targets
  H(x)/sqrt(d) of a :class:`pspin.SphericalPSpin` (unit variance);
* :func:`landscape_experiment` — mean-field GD to time T on that data for several widths:
  the excess loss E[L_N(T)] - L_ref(T) (reference 16x wider, averaged; slope, theory -1),
  the spread over seeds of L_N(T), and the bottom of the Hessian spectrum of N*L at the
  end point (the particle-scale Hessian) for the smaller widths; beside it, gradient descent
  on the p-spin itself (:func:`analysis.dynamics.gradient_descent`) at several sizes: the
  endpoint energies stay above the ground state (at the threshold -E_inf) whatever the
  size, and the bottom of their Riemannian Hessian spectrum
  (:func:`analysis.spectrum.hessian_eigenvalues`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from landscapes._validation import check_int
from landscapes.meanfield import (
    MeanFieldNet,
    _slopes_rows,
    fit_loglog,
    gd,
)
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info

__all__ = ["pspin_target_data", "LandscapeResult", "landscape_experiment"]


def pspin_target_data(d: int = 6, n: int = 400, *, p: int = 3, seed: SeedLike = 0):
    """Data for learning a spherical p-spin energy: x uniform on |x| = sqrt(d), y = H(x)/sqrt(d).

    Returns ``(X, y, model)``; with the ABC normalization E[H(x)^2] = d, so y has unit
    variance.
    """
    from pspin import SphericalPSpin

    d = check_int(d, "d", minimum=2)
    n = check_int(n, "n", minimum=1)
    ss = as_seed_sequence(seed)
    k_model, k_x = ss.spawn(2)
    model = SphericalPSpin(d, p, seed=k_model)
    X = model.random_point(as_generator(k_x), size=n)
    y = np.asarray(model.energy(X)) / math.sqrt(d)
    return X, y, model


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
        -1e-6 * the largest (``hess_neg_frac``).
    slope, slope_se : float
        Slope of log excess loss against log N (theory -1) and its bootstrap s.e.
    spread_slope, spread_slope_se : float
        Slope of log sd over seeds of L_N(T) against log N.
    pspin : pandas.DataFrame
        Per p-spin size n_spins: mean and sd over seeds of the GD endpoint energy per spin,
        its gap above the threshold -E_inf, and the bottom Riemannian Hessian eigenvalue.
    spectra : dict
        ``{"net N": eigenvalues of N*L, "pspin n": Riemannian Hessian eigenvalues}`` (seed 0).
    config : dict
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
    progress: bool | None = None,
) -> LandscapeResult:
    """Mean-field networks learning the spherical 3-spin energy, beside the 3-spin's landscape.

    Networks: ``MeanFieldNet`` on :func:`pspin_target_data` (d inputs, ``n_samples`` points),
    full-batch GD with step eps to time T (all seeds of a width batched). The excess loss
    E[L_N(T)] - L_ref(T), with L_ref the mean over ``ref_seeds`` nets of width
    ``ref_factor * max(widths)``, falls like 1/N. p-spin: ``pspin_seeds`` Riemannian GD runs
    (Armijo steps, ``pspin_steps`` at most) on ``SphericalPSpin(n, 3)`` for each n in
    ``pspin_sizes``.
    """
    import pandas as pd

    from analysis.dynamics import gradient_descent
    from analysis.spectrum import hessian_eigenvalues
    from pspin import SphericalPSpin

    ws = sorted(check_int(w, "width N", minimum=1) for w in widths)
    if len(ws) < 2:
        raise ValueError(f"widths must hold at least two widths; got {ws}")
    S = check_int(seeds, "seeds", minimum=3)
    R = check_int(ref_seeds, "ref_seeds", minimum=2)
    root = as_seed_sequence(seed)
    k_data, k_ref, k_boot, k_ps, *k_w = root.spawn(4 + len(ws))
    X, y, target = pspin_target_data(d, n_samples, seed=k_data)
    pr = Progress(len(ws) + 1 + len(pspin_sizes), "meanfield landscape", enabled=progress)

    def final(N, kids):
        net = MeanFieldNet((X, y), N)
        th0 = np.stack([net.random_point(np.random.default_rng(s)) for s in kids])
        tr = gd(net, th0, eps=eps, T=T, n_records=2)
        return net, tr

    M = ref_factor * ws[-1]
    _, ref_tr = final(M, k_ref.spawn(R))
    ref_loss = ref_tr.loss[-1]
    pr.update()
    losses, spectra, hmin, hneg = {}, {}, [], []
    for j, N in enumerate(ws):
        net, tr = final(N, k_w[j].spawn(S))
        losses[N] = tr.loss[-1]
        if N <= hessian_max_width:
            ev = N * hessian_eigenvalues(net, tr.theta[0], riemannian=False).eigenvalues
            spectra[f"net {N}"] = ev
            hmin.append(float(ev[0]))
            hneg.append(float(np.mean(ev < -1e-6 * np.abs(ev).max())))
        else:
            hmin.append(float("nan"))
            hneg.append(float("nan"))
        pr.update(width=N)
    rng = as_generator(k_boot)
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
        slope = fit_loglog(wsk, excess[ok])[0]
        slope_se = float(np.std(_slopes_rows(wsk, np.maximum(bex[:, ok], 1e-300)), ddof=1))
    else:
        slope, slope_se = float("nan"), float("nan")
    sp_slope = fit_loglog(ws, spread)[0]
    sp_se = float(np.std(_slopes_rows(ws, bsp), ddof=1))
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
        }
    )
    table = pd.DataFrame(
        [(N, s, float(losses[N][s])) for N in ws for s in range(S)],
        columns=["width", "seed", "final_loss"],
    )
    # the spin glass itself
    e_inf = 2.0 * math.sqrt(2.0 / 3.0)  # threshold -E_inf for p = 3 (ABC)
    rows = []
    for n_sp, kk in zip(pspin_sizes, k_ps.spawn(len(pspin_sizes)), strict=True):
        k_model, k_x = kk.spawn(2)
        H = SphericalPSpin(int(n_sp), 3, seed=k_model)
        x0 = H.random_point(as_generator(k_x), size=pspin_seeds)
        res = gradient_descent(H, x0, step=0.5, max_steps=pspin_steps, gtol=1e-6, schedule="armijo")
        e = np.asarray(res.intensive)
        ev = hessian_eigenvalues(H, res.x[0]).eigenvalues
        spectra[f"pspin {n_sp}"] = ev
        rows.append(
            dict(
                n_spins=int(n_sp),
                mean_energy=float(e.mean()),
                sd_energy=float(e.std(ddof=1)),
                gap_above_threshold=float(e.mean() + e_inf),
                converged=float(np.mean(res.converged)),
                hess_min=float(ev[0]),
            )
        )
        pr.update(n_spins=int(n_sp))
    pr.close()
    config = dict(
        widths=ws,
        seeds=S,
        seed=seed_info(root),
        d=d,
        n_samples=n_samples,
        eps=eps,
        T=T,
        ref_factor=ref_factor,
        ref_seeds=R,
        ref_width=M,
        hessian_max_width=hessian_max_width,
        pspin_sizes=list(pspin_sizes),
        pspin_seeds=pspin_seeds,
        pspin_steps=pspin_steps,
        n_boot=n_boot,
        target_fingerprint=target.fingerprint,
    )
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
    )
