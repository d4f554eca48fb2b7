"""Universal halting times: fluctuations of the time an algorithm takes to stop.

Deift, Menon, Olver & Trogdon (PNAS 2014) and Sagun, Trogdon & LeCun ("Universal halting
times in optimization and machine learning", Quart. Appl. Math. 2018) observed that the
halting time ``tau`` of an algorithm (steps to reach a gradient or loss threshold) fluctuates
from run to run, and that its normalized fluctuations ``(tau - mean) / sd`` follow a law that
depends on the algorithm but not on the ensemble of random problems.

Protocols here:

* :func:`pspin_halting`: Riemannian gradient descent (fixed step, Sagun et al.'s 0.2) on the
  spherical p-spin until the Riemannian gradient norm is at most ``grad_threshold`` (0.01 as
  in Sagun et al.'s code), over the four coupling ensembles (Gaussian, Rademacher, uniform,
  exponential) and several N; each run a random start, ``models`` disorder samples per
  (ensemble, N).
* :func:`network_halting`: GD and SGD (batch 32) on one-hidden-layer networks, two data
  ensembles (digits subsamples with cross-entropy; Gaussian teacher-student data with MSE),
  each run a different data seed and initialization; the halting time is the first epoch at
  which the full training loss is at most the ensemble's threshold.
* :func:`compare_laws`: pairwise two-sample Kolmogorov–Smirnov and Anderson–Darling tests of
  the normalized laws, each with the KS distance it could have detected
  (:func:`ks_detectable_distance`).

Runs that never reach the threshold are kept in the tables with ``tau`` NaN (blank in the
CSV) and left out of the normalized laws (their count is reported).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from analysis.dynamics import gradient_descent, sgd
from analysis.store import stored
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = [
    "HaltingStudy",
    "ks_detectable_distance",
    "two_sample",
    "normalized",
    "summarize",
    "compare_laws",
    "pspin_halting",
    "network_halting",
    "NETWORK_ENSEMBLES",
]

NETWORK_ENSEMBLES = ("digits", "teacher")


# --------------------------------------------------------------------------- statistics
def ks_detectable_distance(n1: int, n2: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """KS distance a two-sample KS test detects with probability ``power`` at level ``alpha``.

    Massey's (1951) bound: if two continuous laws differ by ``D = sup |F - G|``, at the point
    where the sup is reached ``F_n - G_m`` is asymptotically normal with mean ``D`` and variance
    at most ``(1/n1 + 1/n2) / 4``, and the test rejects when the statistic exceeds
    ``c(alpha) sqrt(1/n1 + 1/n2)`` (``c`` from the asymptotic Kolmogorov law, 1.358 at 5%), so
    the power is at least ``power`` once

        D >= (c(alpha) + z(power) / 2) sqrt(1/n1 + 1/n2)

    (1.78 sqrt(1/n1 + 1/n2) for alpha = 0.05, power = 0.8). The bound is conservative: smaller
    differences may be detected too.
    """
    from scipy import stats

    if n1 < 1 or n2 < 1:
        raise ValueError(f"sample sizes must be >= 1; got n1={n1}, n2={n2}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1); got {alpha}, {power}")
    c = float(stats.kstwobign.isf(alpha))
    z = float(stats.norm.ppf(power))
    return (c + 0.5 * z) * math.sqrt(1.0 / n1 + 1.0 / n2)


def normalized(times) -> np.ndarray:
    """``(tau - mean) / sd`` (sample sd, ddof = 1) of the measured halting times (censored
    runs, NaN, are left out)."""
    t = np.asarray(times, dtype=np.float64)
    t = t[t >= 0]  # False for NaN (and for the -1 of runs stored by earlier versions)
    if t.size < 2:
        raise ValueError(f"need at least 2 halting times to normalize; got {t.size}")
    sd = t.std(ddof=1)
    if sd == 0:
        return np.zeros_like(t)
    return (t - t.mean()) / sd


def two_sample(a, b, *, alpha: float = 0.05, power: float = 0.8) -> dict:
    """Two-sample KS and Anderson–Darling tests of ``a`` against ``b``, with their power.

    Returns a dict with ``n1, n2, ks, ks_pvalue, ad, ad_pvalue, ks_critical`` (the KS statistic
    that rejects at ``alpha``) and ``ks_detectable`` (:func:`ks_detectable_distance`). The
    Anderson–Darling p-value of ``scipy.stats.anderson_ksamp`` is capped to [0.001, 0.25].
    Normalized samples (estimated mean and sd) make both tests conservative.
    """
    from scipy import stats

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError(f"each sample needs at least 2 values; got {a.size} and {b.size}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-value capping, ties (exact KS falls back to asymp)
        ks = stats.ks_2samp(a, b)
        ad = stats.anderson_ksamp([a, b])
    n1, n2 = a.size, b.size
    return {
        "n1": int(n1),
        "n2": int(n2),
        "ks": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "ad": float(ad.statistic),
        "ad_pvalue": float(ad.significance_level),
        "ks_critical": float(stats.kstwobign.isf(alpha)) * math.sqrt(1 / n1 + 1 / n2),
        "ks_detectable": ks_detectable_distance(n1, n2, alpha, power),
        "alpha": alpha,
        "power": power,
    }


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class HaltingStudy:
    """Halting times of a set of runs, grouped by (family, ensemble, size).

    Attributes
    ----------
    runs : list of dict
        One row per run: ``family`` (e.g. ``"pspin-gd"``, ``"mlp-sgd"``), ``ensemble``,
        ``size`` (N, or the hidden width), ``model`` (disorder / data sample), ``replica``,
        ``tau`` (steps or epochs; NaN if the threshold was never reached), ``energy`` (final
        intensive energy or loss).
    params : dict
        The protocol's parameters.
    seed : dict
        ``seed_info`` of the root seed.
    """

    runs: list[dict]
    params: dict = field(default_factory=dict)
    seed: dict = field(default_factory=dict)

    def groups(self) -> dict[tuple, np.ndarray]:
        """``{(family, ensemble, size): halting times (all runs, NaN for censored)}``."""
        out: dict[tuple, list] = {}
        for r in self.runs:
            out.setdefault((r["family"], r["ensemble"], r["size"]), []).append(r["tau"])
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def summarize(study: HaltingStudy) -> list[dict]:
    """One row per group: counts, mean / sd / quantiles of tau, skewness, mean final energy."""
    from scipy import stats

    energies: dict[tuple, list] = {}
    for r in study.runs:
        energies.setdefault((r["family"], r["ensemble"], r["size"]), []).append(r["energy"])
    rows = []
    for key, t in study.groups().items():
        ok = t[np.isfinite(t)]
        rows.append(
            {
                "family": key[0],
                "ensemble": key[1],
                "size": key[2],
                "runs": int(t.size),
                "halted": int(ok.size),
                "tau_mean": float(ok.mean()) if ok.size else math.nan,
                "tau_sd": float(ok.std(ddof=1)) if ok.size > 1 else math.nan,
                "tau_median": float(np.median(ok)) if ok.size else math.nan,
                "tau_q10": float(np.quantile(ok, 0.1)) if ok.size else math.nan,
                "tau_q90": float(np.quantile(ok, 0.9)) if ok.size else math.nan,
                "skewness": float(stats.skew(ok)) if ok.size > 2 else math.nan,
                "energy_mean": float(np.mean(energies[key])),
            }
        )
    return rows


def compare_laws(
    study: HaltingStudy,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    across_sizes: bool = True,
    pooled: bool = True,
) -> list[dict]:
    """Pairwise tests of the normalized halting-time laws within each family.

    Pairs: every two ensembles at the same size; with ``across_sizes`` also every two sizes
    of the same ensemble; with ``pooled`` (and more than one size) also every two ensembles
    with their times normalized within each size and pooled over sizes (``ensemble@all``:
    more runs, so smaller detectable differences). Each row: ``family, a, b``
    (``ensemble@size``), and the fields of :func:`two_sample`. The tests are not corrected
    for multiplicity: about ``alpha`` of the pairs reject by chance when the laws agree.
    """
    groups = {k: normalized(v) for k, v in study.groups().items() if np.sum(v >= 0) >= 2}
    rows = []
    for (fa, ea, sa), (fb, eb, sb) in combinations(sorted(groups, key=str), 2):
        if fa != fb:
            continue
        if not (sa == sb or (across_sizes and ea == eb)):
            continue
        res = two_sample(groups[(fa, ea, sa)], groups[(fb, eb, sb)], alpha=alpha, power=power)
        rows.append({"family": fa, "a": f"{ea}@{sa}", "b": f"{eb}@{sb}", **res})
    if pooled:
        pools: dict[tuple, list] = {}
        sizes: dict[str, set] = {}
        for (f, e, s), z in groups.items():
            pools.setdefault((f, e), []).append(z)
            sizes.setdefault(f, set()).add(s)
        for (fa, ea), (fb, eb) in combinations(sorted(pools), 2):
            if fa != fb or len(sizes[fa]) < 2:
                continue
            a, b = np.concatenate(pools[(fa, ea)]), np.concatenate(pools[(fb, eb)])
            res = two_sample(a, b, alpha=alpha, power=power)
            rows.append({"family": fa, "a": f"{ea}@all", "b": f"{eb}@all", **res})
    return rows


# --------------------------------------------------------------------------- p-spin
def pspin_halting(
    Ns: Sequence[int],
    *,
    p: int = 3,
    ensembles: Sequence[str] | None = None,
    replicas: int = 40,
    models: int = 4,
    step: float = 0.2,
    grad_threshold: float = 0.01,
    max_steps: int = 20000,
    seed: SeedLike = 0,
    progress: bool | None = None,
    store=None,
) -> HaltingStudy:
    """Halting times of gradient descent on the p-spin, over coupling ensembles and sizes.

    For each ensemble and N: ``models`` coupling draws (stream ``child(seed, "model", N, e, m)``
    with ``e`` the ensemble's position in :data:`pspin.COUPLING_ENSEMBLES`), each with
    ``replicas // models`` uniform random starts (stream ``child(seed, "starts", N, e, m)``);
    fixed-step Riemannian GD until ``|rgrad H| <= grad_threshold`` (total norm, as in Sagun
    et al.'s code; intensive ``gtol = grad_threshold / sqrt(N)``). ``tau`` is the number of
    steps taken. With ``store`` (a RunFolder) each (N, ensemble, draw) is stored as it
    finishes and read back on a resumed run (:func:`analysis.store.stored`).
    """
    from pspin import COUPLING_ENSEMBLES, SphericalPSpin

    ens = tuple(COUPLING_ENSEMBLES if ensembles is None else ensembles)
    for e in ens:
        if e not in COUPLING_ENSEMBLES:
            raise ValueError(f"unknown ensemble {e!r}; choose from {', '.join(COUPLING_ENSEMBLES)}")
    if not Ns:
        raise ValueError("Ns must list at least one size")
    if models < 1 or replicas < models:
        raise ValueError(f"need models >= 1 and replicas >= models; got {models}, {replicas}")
    root = as_seed_sequence(seed)
    per = replicas // models
    runs: list[dict] = []
    for N in Ns:
        gtol = grad_threshold / math.sqrt(N)
        for e in ens:
            ei = COUPLING_ENSEMBLES.index(e)
            for m in range(models):

                def unit(N=N, e=e, ei=ei, m=m, gtol=gtol):
                    model = SphericalPSpin(N, p, seed=child(root, "model", N, ei, m), couplings=e)
                    x0 = model.random_point(child(root, "starts", N, ei, m), size=per)
                    res = gradient_descent(
                        model,
                        x0,
                        step=step,
                        max_steps=max_steps,
                        gtol=gtol,
                        ladder=(),
                        progress=progress,
                    )
                    return {
                        "tau": np.where(res.converged, res.steps, np.nan),
                        "energy": res.intensive,
                    }

                key = dict(
                    task="pspin_halting",
                    N=int(N),
                    p=p,
                    ensemble=e,
                    model=m,
                    per=per,
                    step=step,
                    gtol=gtol,
                    max_steps=max_steps,
                    seed=seed_info(root),
                )
                a = stored(store, key, unit)
                for k in range(per):
                    runs.append(
                        {
                            "family": "pspin-gd",
                            "ensemble": e,
                            "size": int(N),
                            "model": m,
                            "replica": k,
                            "tau": _tau(a["tau"][k]),
                            "energy": float(a["energy"][k]),
                        }
                    )
    params = dict(
        Ns=[int(n) for n in Ns],
        p=p,
        ensembles=list(ens),
        replicas=replicas,
        models=models,
        step=step,
        grad_threshold=grad_threshold,
        max_steps=max_steps,
    )
    return HaltingStudy(runs=runs, params=params, seed=seed_info(root))


# --------------------------------------------------------------------------- networks
def _network(ensemble: str, hidden: int, n_train: int, seed):
    from landscapes.datasets import digits, teacher_student
    from landscapes.nn import MLPLoss

    if ensemble == "digits":
        data = digits("standard", seed=seed, n_train=n_train)
        return MLPLoss(data, hidden=(hidden,), activation="tanh", loss="cross_entropy")
    if ensemble == "teacher":
        data = teacher_student(n_samples=n_train, dim=16, hidden=(hidden,), seed=seed)
        return MLPLoss(data, hidden=(hidden,), activation="tanh", loss="mse")
    raise ValueError(f"unknown network ensemble {ensemble!r}; choose from {NETWORK_ENSEMBLES}")


def _first_below(traj: np.ndarray, threshold: float) -> np.ndarray:
    """First row index at which each column of ``traj`` (T, K) is <= threshold (NaN: never)."""
    hit = traj <= threshold
    first = np.argmax(hit, axis=0)
    return np.where(hit.any(axis=0), first, np.nan)


def _tau(t) -> float:
    """A stored halting time as a float: NaN when censored (earlier versions stored -1)."""
    t = float(t)
    return t if t >= 0 else math.nan


def network_halting(
    *,
    ensembles: Sequence[str] = NETWORK_ENSEMBLES,
    methods: Sequence[str] = ("gd", "sgd"),
    data_seeds: int = 10,
    inits: int = 5,
    hidden: int = 16,
    n_train: int = 300,
    epochs: int = 300,
    gd_step: float = 0.5,
    sgd_step: float = 0.05,
    batch_size: int = 32,
    thresholds: dict[str, float] | None = None,
    seed: SeedLike = 0,
    progress: bool | None = None,
    store=None,
) -> HaltingStudy:
    """Halting times (epochs to a training-loss threshold) of GD and SGD on small networks.

    Ensembles: ``"digits"`` (a stratified ``n_train`` subsample of the digits, standardized,
    network 64-hidden-10 tanh, cross-entropy) and ``"teacher"`` (``n_train`` Gaussian inputs in
    16 dimensions labelled by a random 16-hidden-1 tanh teacher, student of the same shape,
    MSE). Each of ``data_seeds`` data draws (stream ``child(seed, "model", e, d)``) is trained
    from ``inits`` initializations (``child(seed, "starts", e, d)``); SGD shuffles from
    ``child(seed, 2, e, d)``. GD: ``epochs`` full-batch steps of size ``gd_step``; SGD:
    ``epochs`` epochs of ``n_train // batch_size`` steps of size ``sgd_step``. ``tau`` is the
    first epoch at which the full training loss is at most ``thresholds[ensemble]``
    (defaults: 0.05 for digits, 0.01 for teacher). With ``store`` each (ensemble, data draw,
    method) is stored as it finishes (:func:`analysis.store.stored`).
    """
    thr = {"digits": 0.05, "teacher": 0.01}
    thr.update(thresholds or {})
    for e in ensembles:
        if e not in NETWORK_ENSEMBLES:
            raise ValueError(f"unknown network ensemble {e!r}; choose from {NETWORK_ENSEMBLES}")
    for m in methods:
        if m not in ("gd", "sgd"):
            raise ValueError(f"methods must be 'gd' and/or 'sgd'; got {m!r}")
    if data_seeds < 1 or inits < 1 or epochs < 1:
        raise ValueError("data_seeds, inits and epochs must be >= 1")
    root = as_seed_sequence(seed)
    runs: list[dict] = []
    for e in ensembles:
        ei = NETWORK_ENSEMBLES.index(e)
        for d in range(data_seeds):

            def unit(method, e=e, ei=ei, d=d):
                loss = _network(e, hidden, n_train, child(root, "model", ei, d))
                x0 = loss.random_point(child(root, "starts", ei, d), size=inits)
                if method == "gd":
                    res = gradient_descent(
                        loss,
                        x0,
                        step=gd_step,
                        max_steps=epochs,
                        gtol=0.0,
                        ladder=(),
                        record_every=1,
                        progress=progress,
                    )
                else:
                    res = sgd(
                        loss,
                        x0,
                        batch_size=batch_size,
                        step=sgd_step,
                        epochs=epochs,
                        seed=child(root, 2, ei, d),
                        record_every=loss.n_samples // batch_size,
                        progress=progress,
                    )
                tau = _first_below(res.trajectory_energies, thr[e])
                return {"tau": tau, "energy": res.intensive}

            for method in methods:
                key = dict(
                    task="network_halting",
                    ensemble=e,
                    data=d,
                    method=method,
                    inits=inits,
                    hidden=hidden,
                    n_train=n_train,
                    epochs=epochs,
                    step=gd_step if method == "gd" else sgd_step,
                    batch_size=batch_size,
                    threshold=thr[e],
                    seed=seed_info(root),
                )
                a = stored(store, key, lambda method=method, unit=unit: unit(method))
                for k in range(inits):
                    runs.append(
                        {
                            "family": f"mlp-{method}",
                            "ensemble": e,
                            "size": int(hidden),
                            "model": d,
                            "replica": k,
                            "tau": _tau(a["tau"][k]),
                            "energy": float(a["energy"][k]),
                        }
                    )
    params = dict(
        ensembles=list(ensembles),
        methods=list(methods),
        data_seeds=data_seeds,
        inits=inits,
        hidden=hidden,
        n_train=n_train,
        epochs=epochs,
        gd_step=gd_step,
        sgd_step=sgd_step,
        batch_size=batch_size,
        thresholds={e: thr[e] for e in ensembles},
        halting="first epoch with full training loss <= threshold",
    )
    return HaltingStudy(runs=runs, params=params, seed=seed_info(root))
