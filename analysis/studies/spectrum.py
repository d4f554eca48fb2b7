"""Hessian spectra of a p-spin point or of a trained network: the ``spectrum`` study.

Two protocols, each resumable stage by stage in a run folder (every stage is a stored task):

* :func:`pspin_spectrum`: a pure p-spin instance, a point on its sphere (a uniform random
  point, a gradient-descent endpoint or a critical point found by Levenberg–Marquardt,
  :func:`find_point`), and the spectrum of the Riemannian Hessian there (dense eigenvalues,
  Lanczos top-k, SLQ density), compared with the semicircle law of :mod:`pspin.theory`.
* :func:`mlp_spectrum`: an MLP trained by full-batch GD and the spectrum of the Hessian of
  its mean training loss, with the outliers beyond the bulk and the Gauss–Newton split.

The numerical methods are the instruments' (:mod:`analysis.spectrum`, :mod:`analysis.dynamics`,
:func:`analysis.critical.newton_search`); this module only chooses models, points and budgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.critical import newton_search
from analysis.dynamics import gradient_descent
from analysis.spectrum import (
    DensityResult,
    OutlierResult,
    default_bandwidth,
    gauss_newton_split,
    gaussian_smooth,
    hessian_eigenvalues,
    ks_distance,
    outliers,
    spectral_density,
)
from landscapes.datasets import check_classes
from landscapes.energy import Energy
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info
from landscapes.spec import build
from pspin import theory

__all__ = [
    "SpectrumStudy",
    "find_point",
    "measure_spectra",
    "density_from_task",
    "pspin_spectrum",
    "mlp_spectrum",
    "mlp_spec",
    "train_full_batch",
]

SADDLE_GTOL = 1e-8  # |rgrad| / sqrt(dim) at which a Levenberg-Marquardt point is critical


@dataclass(frozen=True)
class SpectrumStudy:
    """What a spectrum protocol measured at one point.

    Attributes
    ----------
    energy : Energy
        The model (rebuilt from its spec for the p-spin).
    x : ndarray (dim,)
        The point.
    row : dict
        JSON-able summary (one row of ``summary.csv``).
    eigenvalues : ndarray or None
        All eigenvalues (dense), when measured.
    lanczos_top : ndarray (k,)
        The top k eigenvalues by Lanczos.
    density : DensityResult or None
        The SLQ density, when measured.
    theory_density : callable or None
        The limiting density to overlay (p-spin: the semicircle of :mod:`pspin.theory`).
    outliers : OutlierResult or None
        Outliers beyond the bulk (networks, dense spectrum).
    """

    energy: Energy
    x: np.ndarray
    row: dict
    eigenvalues: np.ndarray | None
    lanczos_top: np.ndarray
    density: DensityResult | None
    theory_density: Callable | None = None
    outliers: OutlierResult | None = None


# --------------------------------------------------------------------------- points
def find_point(
    energy: Energy, at: str, seed: SeedLike, gd_steps: int = 1000, step: float = 0.1, K: int = 1
) -> np.ndarray:
    """Points to measure on an energy: ``(K, dim)`` random points, GD endpoints or saddles.

    ``"saddle"``: up to four starts per point, 10 GD steps each, then Levenberg–Marquardt on
    ``|rgrad|^2`` (:func:`analysis.critical.newton_search` with ``mode="lm"``; like Newton's
    method it is attracted to saddles); the first ``K`` starts that reach
    ``|rgrad| / sqrt(dim) <= SADDLE_GTOL`` are kept, the best of the others fill up.
    """
    if at not in ("minimum", "random", "saddle"):
        raise ValueError(f"unknown point kind {at!r}; choose minimum, random or saddle")
    s_init = child(seed, 0)
    if at == "random":
        return energy.random_point(s_init, size=K)
    if at == "minimum":
        X0 = energy.random_point(s_init, size=K)
        res = gradient_descent(energy, X0, step=step, max_steps=gd_steps, gtol=1e-9, progress=None)
        return np.array(res.x)
    X0 = energy.random_point(s_init, size=4 * K)
    res = gradient_descent(energy, X0, step=step, max_steps=10, gtol=1e-9, progress=False)
    rd = math.sqrt(energy.dim)
    gtol = SADDLE_GTOL / 100 * rd / float(energy.scale)  # newton_search: |rgrad| <= gtol scale
    found, rest = [], []
    for lo in range(0, 4 * K, K):  # K starts at a time, until K critical points are found
        X, gnorm, _ = newton_search(energy, np.asarray(res.x[lo : lo + K]), mode="lm", gtol=gtol)
        for y, g in zip(X, gnorm / rd, strict=True):
            (found if g <= SADDLE_GTOL else rest).append((float(g), y))
        if len(found) >= K:
            break
    found = found[:K] + sorted(rest, key=lambda t: t[0])[: max(K - len(found), 0)]
    return np.stack([y for _, y in found])


# --------------------------------------------------------------------------- spectra
def measure_spectra(
    run,
    energy: Energy,
    x: np.ndarray,
    *,
    method: str,
    k: int,
    n_probes: int,
    lanczos_steps: int,
    seed: int,
    prefix: str = "",
) -> dict:
    """Dense eigenvalues, Lanczos top-``k`` and the SLQ density at ``x``, as stored tasks.

    ``method`` is "exact", "slq" or "both" (Lanczos always runs). Each measurement is stored
    in ``run`` under ``prefix + "exact" | "lanczos" | "slq"`` and skipped when present.
    Returns ``{"exact": (meta, eigenvalues), "lanczos": (meta, arrays), "slq": (meta, arrays)}``
    (the keys measured).
    """
    out = {}
    if method in ("exact", "both"):
        if not run.has_task(f"{prefix}exact"):
            t0 = time.perf_counter()
            r = hessian_eigenvalues(energy, x)
            meta = {
                "n_hvp": r.n_hvp,
                "seconds": time.perf_counter() - t0,
                "max_residual": float(r.residuals.max()),
            }
            run.save_task(f"{prefix}exact", meta, eigenvalues=r.eigenvalues)
        meta, arr = run.load_task(f"{prefix}exact")
        out["exact"] = (meta, arr["eigenvalues"])
    if not run.has_task(f"{prefix}lanczos"):
        t0 = time.perf_counter()
        r = hessian_eigenvalues(energy, x, k=k, which="LA", method="lanczos", seed=seed)
        meta = {
            "n_hvp": r.n_hvp,
            "seconds": time.perf_counter() - t0,
            "converged": bool(r.all_converged),
        }
        run.save_task(f"{prefix}lanczos", meta, eigenvalues=r.eigenvalues, residuals=r.residuals)
    out["lanczos"] = run.load_task(f"{prefix}lanczos")
    if method in ("slq", "both"):
        if not run.has_task(f"{prefix}slq"):
            t0 = time.perf_counter()
            d = spectral_density(
                energy, x, method="slq", n_probes=n_probes, lanczos_steps=lanczos_steps, seed=seed
            )
            meta = {"n_hvp": d.n_hvp, "seconds": time.perf_counter() - t0, "bandwidth": d.bandwidth}
            run.save_task(f"{prefix}slq", meta, nodes=d.nodes, weights=d.weights, steps=d.steps)
        out["slq"] = run.load_task(f"{prefix}slq")
    return out


def density_from_task(task: tuple[dict, dict], bandwidth: float | None = None, grid=None):
    """Rebuild an SLQ :class:`~analysis.spectrum.DensityResult` from stored nodes and weights."""
    meta, arr = task
    nodes, weights = arr["nodes"], arr["weights"]
    bw = bandwidth or meta.get("bandwidth") or default_bandwidth(np.nanmin(nodes), np.nanmax(nodes))
    if grid is None:
        grid = np.linspace(np.nanmin(nodes) - 5 * bw, np.nanmax(nodes) + 5 * bw, 512)
    per = gaussian_smooth(nodes, weights, grid, bw)
    se = per.std(axis=0, ddof=1) / np.sqrt(per.shape[0]) if per.shape[0] > 1 else 0 * grid
    return DensityResult(
        nodes,
        weights,
        grid,
        per.mean(axis=0),
        se,
        per,
        float(bw),
        arr.get("steps", np.array([nodes.shape[1]])),
        int(meta.get("n_hvp", 0)),
        "slq",
        int(nodes.shape[1]),
    )


# --------------------------------------------------------------------------- protocols
def pspin_spectrum(
    run,
    *,
    N: int,
    p: int,
    at: str,
    gd_steps: int,
    step: float,
    method: str,
    k: int,
    n_probes: int,
    lanczos_steps: int,
    seed: int,
    progress: bool | None = None,
) -> SpectrumStudy:
    """The p-spin protocol (see the module docstring); stages stored in ``run``."""
    if N < 3 or p < 2:
        raise ValueError(f"N must be >= 3 and p >= 2; got N={N}, p={p}")
    if k >= N - 1:
        raise ValueError(f"k must be below the tangent dimension {N - 1}; got {k}")
    spec = {
        "class": "SphericalPSpin",
        "params": {"N": int(N), "p": int(p)},
        "seed": seed_info(as_seed_sequence(int(seed))),
    }
    model = build(spec)
    with Progress(
        4, desc="spectrum pspin", enabled=None if progress is None else bool(progress)
    ) as bar:
        if not run.has_task("point"):
            x = find_point(model, at, seed + 1, gd_steps, step, K=1)[0]
            run.save_task("point", {"at": at}, x=x)
        x = run.load_task("point")[1]["x"]
        bar.update(1, stage="point")
        res = measure_spectra(
            run,
            model,
            x,
            method=method,
            k=k,
            n_probes=n_probes,
            lanczos_steps=lanczos_steps,
            seed=seed,
        )
        bar.update(3, stage="spectra")
    u = model.energy(x) / N
    law = theory.hessian_spectrum(u, p)
    top = res["lanczos"][1]["eigenvalues"]
    row = {
        "N": N,
        "p": p,
        "at": at,
        "H_per_N": u,
        "rms_rgrad": float(np.linalg.norm(model.rgrad(x)) / math.sqrt(N)),
        "fingerprint": model.fingerprint,
        "semicircle_centre": float(law.center),
        "semicircle_radius": float(law.radius),
        "lanczos_top": top.tolist(),
        "lanczos_n_hvp": res["lanczos"][0]["n_hvp"],
    }
    ev = None
    if "exact" in res:
        ev = res["exact"][1]
        row.update(
            index=int(np.sum(ev < 0)),
            mean_minus_centre=float(ev.mean() - law.center),
            ks_semicircle=ks_distance(ev, law.cdf),
            lanczos_rel_err=float(np.max(np.abs(top - ev[-k:]) / np.abs(ev[-k:]))),
        )
    dens = density_from_task(res["slq"]) if "slq" in res else None
    if dens is not None:
        row["slq_n_hvp"] = dens.n_hvp
    return SpectrumStudy(model, x, row, ev, top, dens, theory_density=law.density)


def mlp_spec(
    dataset: str, classes: int, hidden, activation: str, loss: str, weight_decay: float, seed: int
) -> dict:
    """Model spec of the network of :func:`mlp_spectrum` (data drawn from ``seed``).

    ``"digits"``: the bundled digits (pixels / 16, the first ``classes`` classes, a quarter
    held out); ``"mixture"``: ``classes`` Gaussian classes in 64 dimensions, 4 noise standard
    deviations apart, 60 samples per class.
    """
    if dataset in ("digits", "mixture"):  # refuse more classes than the data has
        check_classes(dataset, classes, dim=64)
    if dataset == "digits":
        data = {
            "name": "digits",
            "params": {
                "scaling": "unit",
                "test_size": 0.25,
                "n_train": None,
                "classes": classes if classes < 10 else None,
            },
        }
    elif dataset == "mixture":
        data = {
            "name": "gaussian_mixture",
            "params": {
                "n_classes": classes,
                "dim": 64,
                "separation": 4.0,
                "n_samples": 60 * classes,
                "n_test": 0,
            },
        }
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose digits or mixture")
    return {
        "class": "MLPLoss",
        "params": {
            "data": data,
            "hidden": [int(h) for h in hidden],
            "activation": activation,
            "loss": loss,
            "weight_decay": float(weight_decay),
        },
        "seed": seed_info(as_seed_sequence(int(seed))),
    }


def train_full_batch(energy: Energy, x0, steps: int, lr: float, stop_loss: float | None = None):
    """Full-batch GD, stopped at ``stop_loss`` (checked every 50 steps) or after ``steps``."""
    x = np.array(x0)
    done = 0
    chunk = 50 if stop_loss is not None else max(steps, 1)
    while done < steps:
        if stop_loss is not None and energy.energy(x) <= stop_loss:
            break
        n = min(chunk, steps - done)
        x = np.array(gradient_descent(energy, x, step=lr, max_steps=n, gtol=0.0, progress=False).x)
        x = x[0] if x.ndim == 2 else x
        done += n
    return x


def mlp_spectrum(
    run,
    *,
    dataset: str,
    classes: int,
    hidden,
    activation: str,
    loss: str,
    weight_decay: float,
    train_steps: int,
    lr: float,
    stop_loss: float | None,
    n_top: int | None,
    method: str,
    k: int,
    n_probes: int,
    lanczos_steps: int,
    seed: int,
    progress: bool | None = None,
) -> SpectrumStudy:
    """The network protocol (see the module docstring); stages stored in ``run``.

    Outliers: the largest relative gap among the top ``n_top`` eigenvalues (default 3C for
    cross-entropy, where about C-1 outliers are expected, and 3C groups of C for MSE).
    """
    if train_steps < 0 or lr <= 0:
        raise ValueError(f"train_steps must be >= 0 and lr > 0; got {train_steps}, {lr}")
    energy = build(mlp_spec(dataset, classes, hidden, activation, loss, weight_decay, seed))
    with Progress(
        3, desc="spectrum mlp", enabled=None if progress is None else bool(progress)
    ) as bar:
        if not run.has_task("train"):
            x0 = energy.random_point(seed)
            x = train_full_batch(energy, x0, train_steps, lr, stop_loss)
            run.save_task("train", {"loss": energy.energy(x)}, x=x)
        x = run.load_task("train")[1]["x"]
        bar.update(1, stage="trained")
        res = measure_spectra(
            run,
            energy,
            x,
            method=method,
            k=k,
            n_probes=n_probes,
            lanczos_steps=lanczos_steps,
            seed=seed,
        )
        bar.update(2, stage="spectra")
    n_top = n_top or (3 * classes * (classes if loss == "mse" else 1))
    row = {
        "dataset": dataset,
        "classes": classes,
        "hidden": str(list(hidden)),
        "loss": loss,
        "P": energy.dim,
        "train_loss": energy.energy(x),
        "fingerprint": energy.fingerprint,
        "lanczos_top": str(res["lanczos"][1]["eigenvalues"].tolist()),
    }
    ev = res["exact"][1] if "exact" in res else None
    out = None
    if ev is not None:
        out = outliers(ev, n_top=n_top)
        row.update(
            outliers=out.count,
            groups=round(out.count / classes, 2),
            bulk_edge=out.edge,
            lambda_max=float(ev[-1]),
            lambda_min=float(ev[0]),
            frac_negative=float(np.mean(ev < 0)),
        )
        if energy.dim <= 5000:
            gn = gauss_newton_split(energy, x, k=min(classes, energy.dim - 1), seed=seed)
            row.update(gn_overlap=gn.overlap, gn_rel_residual=gn.rel_residual)
    dens = density_from_task(res["slq"]) if "slq" in res else None
    if dens is not None:
        row["slq_n_hvp"] = dens.n_hvp
    top = res["lanczos"][1]["eigenvalues"]
    return SpectrumStudy(energy, x, row, ev, top, dens, outliers=out)
