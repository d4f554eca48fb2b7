"""The comparison protocol on one energy: descents, final energies, spectra, overlaps.

:func:`measure_ensemble` runs the same measurements on any :class:`~landscapes.energy.Energy`:

1. **Descents.** K replicas of gradient descent from the energy's natural random start
   (``random_point``: uniform on the sphere, the standard initialization for networks), all
   batched; replicas leave the batch when their intensive Riemannian gradient
   ``|rgrad| / sqrt(dim)`` reaches ``gtol``. Replicas still above ``gtol`` at the step budget
   are *unconverged*: they keep ``converged = False`` in every table and figure and their
   fraction is reported, never silently mixed with minima. For finite-sum energies (networks)
   the same starts also run SGD (a fixed budget of epochs; SGD has no stopping rule).
2. **Final intensive energies** (``energy / scale``: H/N per spin, mean loss per sample) and
   halting times (steps to ``gtol``; the descent's ladder of thresholds).
3. **Hessian spectra** at the first few GD endpoints (converged ones first): the full
   Riemannian spectrum by dense ``eigh`` up to ``dense_max`` parameters, stochastic Lanczos
   quadrature above (:mod:`analysis.spectrum`); the index (negative eigenvalues) where dense.
4. **Overlaps** between GD endpoints of different replicas: ``q = x.y / |x||y|``, after the
   energy's ``canonical_form`` when it has one (networks: hidden units sorted, signs fixed),
   and in function space as the Pearson correlation of the two networks' outputs on the
   held-out data (training data when there is none) for energies with ``outputs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from analysis.dynamics import gradient_descent
from analysis.dynamics import sgd as run_sgd
from analysis.spectrum import hessian_eigenvalues, spectral_density
from analysis.studies.compare.dynamics import record_two_time, two_time_arrays
from landscapes.energy import Energy, FiniteSumEnergy
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = ["EnsembleResult", "measure_ensemble", "overlaps", "function_overlaps", "TRACE_POINTS"]

TRACE_POINTS = 500
"""About this many recorded points of each GD learning curve (energy against step)."""

_SLQ_GRID = 256
_SGD_RECORDS = 64  # about this many recorded SGD points per run (one full-data pass each)
_RECORD_BYTES = 256 * 2**20  # record in the main run below this, else rerun R replicas


@dataclass(frozen=True)
class EnsembleResult:
    """Measurements of one energy (one model at one size) over K replicas.

    Attributes
    ----------
    arrays : dict of ndarray
        ``gd_final`` (K,) intensive final energies, ``gd_grad`` (K,) intensive gradient
        norms, ``gd_steps`` (K,), ``gd_converged`` (K,) bool, ``halting_times`` (K, L)
        steps to each threshold of ``ladder`` (L,) (NaN where not reached);
        ``sgd_final``/``sgd_grad`` (K,) for finite-sum energies; ``spec_endpoint`` (M,) replica index of each spectrum, ``spec_index`` (M,) count of
        negative eigenvalues (-1 for SLQ), ``spec_nodes``/``spec_weights`` (M, n) the
        spectral measure of each endpoint (eigenvalues with weights 1/d when dense, Ritz
        nodes and weights pooled over probes for SLQ, NaN padded); ``q_param`` (pairs,)
        overlaps of endpoints, ``q_func`` (pairs,) function-space overlaps (networks);
        ``gd_trace_steps`` (R,) and ``gd_trace`` (R, K) the learning curves (intensive
        energy every ``max_steps // TRACE_POINTS`` steps); ``{gd,sgd}_{train,test}_loss``
        and, for classifiers, ``{gd,sgd}_{train,test}_accuracy`` (K,) at the endpoints when
        the energy has held-out data; ``slq_grid``/``slq_density``/``slq_density_se``
        (M, G) the SLQ densities with their standard error across probes (NaN rows for dense
        spectra); with ``record_replicas``, ``tt_{gd,sgd}_{waiting_times,lags,correlation,
        correlation_err,msd,msd_err,replicas}`` the two-time observables of the first
        replicas (:mod:`analysis.studies.compare.dynamics`).
    meta : dict
        JSON-able facts: dim, scale, intensive_name, manifold, spectrum method, fractions.
    """

    arrays: dict
    meta: dict = field(default_factory=dict)


def overlaps(X: np.ndarray, *, max_pairs: int | None = None, seed: SeedLike = 0) -> np.ndarray:
    """Overlaps ``q_ab = x_a.x_b / (|x_a| |x_b|)`` of all pairs a < b of the rows of ``X``.

    With ``max_pairs`` a seeded random subset of the pairs is returned.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"need at least two points (K, dim) for overlaps; got shape {X.shape}")
    n = np.linalg.norm(X, axis=1)
    if np.any(n == 0):
        raise ValueError("overlaps are undefined for a zero vector")
    U = X / n[:, None]
    G = U @ U.T
    i, j = np.triu_indices(X.shape[0], k=1)
    q = np.clip(G[i, j], -1.0, 1.0)
    if max_pairs is not None and q.size > max_pairs:
        rng = np.random.default_rng(as_seed_sequence(seed))
        q = q[np.sort(rng.choice(q.size, size=max_pairs, replace=False))]
    return q


def function_overlaps(outputs: np.ndarray) -> np.ndarray:
    """Function-space overlaps: Pearson correlation of the outputs of every pair of networks.

    ``outputs`` is ``(K, n, m)`` (K networks, n inputs, m outputs), flattened per network and
    centred; the result holds the correlations of all pairs a < b.
    """
    O = np.asarray(outputs, dtype=np.float64).reshape(np.shape(outputs)[0], -1)
    O = O - O.mean(axis=1, keepdims=True)
    if np.any(np.linalg.norm(O, axis=1) == 0):
        raise ValueError("a network has constant outputs: function-space overlap undefined")
    return overlaps(O)


def _spectrum(energy: Energy, x: np.ndarray, dense_max: int, probes: int, steps: int, seed):
    """Spectrum at one endpoint: nodes, weights, raw index (-1 for SLQ), method, extras.

    ``extras`` holds, for SLQ, the smoothed density with its standard error across probes on
    its grid (the tolerant Morse index of dense spectra is counted from the stored
    eigenvalues, :func:`analysis.spectrum.morse_index`).
    """
    d = energy.manifold.intrinsic_dim
    if d <= dense_max:
        res = hessian_eigenvalues(energy, x)
        w = np.asarray(res.eigenvalues)
        scale = max(float(np.max(np.abs(w))), 1e-300)
        index = int(np.sum(w < -1e-9 * scale))
        return w, np.full_like(w, 1.0 / w.size), index, "dense", {}
    dens = spectral_density(
        energy,
        x,
        method="slq",
        n_probes=probes,
        lanczos_steps=min(steps, d),
        seed=seed,
        n_grid=_SLQ_GRID,
    )
    nodes, weights = dens.pooled()
    extras = {
        "grid": dens.grid,
        "density": dens.density,
        "density_se": dens.density_stderr,
    }
    return np.asarray(nodes), np.asarray(weights), -1, "slq", extras


def _held_out(energy: Energy, X: np.ndarray, method: str) -> dict:
    """Held-out loss (and accuracy for classifiers) of the endpoints ``X`` of one method.

    Model-specific facts arrive through the energy (``split_loss``, ``accuracy`` and a
    held-out split in ``energy.data``); an energy without them gives no arrays.
    """
    data = getattr(energy, "data", None)
    split_loss = getattr(energy, "split_loss", None)
    if data is None or split_loss is None or getattr(data, "X_test", None) is None:
        return {}
    out = {f"{method}_test_loss": np.asarray(split_loss(X, "test"), dtype=float)}
    out[f"{method}_train_loss"] = np.asarray(split_loss(X, "train"), dtype=float)
    if getattr(data, "task", None) == "classification":
        out[f"{method}_test_accuracy"] = np.asarray(energy.accuracy(X, "test"), dtype=float)
        out[f"{method}_train_accuracy"] = np.asarray(energy.accuracy(X, "train"), dtype=float)
    return out


def _fits(records: int, K: int, dim: int) -> bool:
    """Whether recording the points of all K replicas ``records`` times fits the budget."""
    return records * K * dim * 8 <= _RECORD_BYTES


def _two_time_of(prefix: str, res, R: int, step: float) -> dict:
    """Two-time arrays of the first R replicas of a run recorded with points (none when it
    recorded fewer than 3 times: no ladder)."""
    if np.size(res.trajectory_steps) < 3:
        return {}
    pts = np.asarray(res.trajectory_x)[:, :R]
    tt = record_two_time(pts, res.trajectory_steps, step)
    return two_time_arrays(prefix, tt)


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    n = max((r.size for r in rows), default=0)
    out = np.full((len(rows), n), np.nan)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


def measure_ensemble(
    energy: Energy,
    *,
    replicas: int,
    seed: SeedLike,
    gd: dict,
    sgd: dict | None = None,
    spectra: int = 2,
    dense_max: int = 3000,
    slq_probes: int = 8,
    slq_steps: int = 80,
    record_replicas: int = 0,
    progress: Callable[[str], None] | None = None,
) -> EnsembleResult:
    """Run the comparison protocol on one energy (see the module docstring).

    Parameters
    ----------
    energy : Energy
    replicas : int
        K >= 2 random starts.
    seed : seed-like
        Root of the starts, SGD shuffles and SLQ probes (children spawned in that order).
    gd : dict
        Keyword arguments of :func:`analysis.dynamics.gradient_descent` (``step``,
        ``max_steps``, ``gtol``, ...).
    sgd : dict or None
        Keyword arguments of :func:`analysis.dynamics.sgd` (``batch_size``, ``step``,
        ``epochs``); only for finite-sum energies.
    spectra : int
        Number of GD endpoints whose Hessian spectrum is measured.
    dense_max : int
        Dense eigh up to this tangent dimension, SLQ above.
    record_replicas : int
        Points of the first this many GD (and SGD) replicas are recorded for the two-time
        observables ``tt_gd_*``/``tt_sgd_*`` (:func:`_two_time_of`); 0: none. Recording
        never changes the descents.
    progress : callable, optional
        Called with a short stage name as each stage starts.
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    K = int(replicas)
    if K < 2:
        raise ValueError(f"replicas must be >= 2 (overlaps need pairs); got {replicas}")
    ss = as_seed_sequence(seed)
    s_start, s_sgd, s_spec = (child(ss, i) for i in range(3))
    say = progress or (lambda _s: None)
    x0 = energy.random_point(s_start, size=K)
    say("gd")
    every = max(1, int(gd["max_steps"]) // TRACE_POINTS)
    R = min(max(int(record_replicas), 0), K)
    keep = R > 0 and _fits(gd["max_steps"] // every + 2, K, energy.dim)
    r = gradient_descent(energy, x0, progress=False, record_every=every, record_points=keep, **gd)
    arrays: dict[str, np.ndarray] = {
        "gd_final": np.asarray(r.intensive, dtype=float),
        "gd_grad": np.asarray(r.intensive_grad_norms, dtype=float),
        "gd_steps": np.asarray(r.steps, dtype=np.int64),
        "gd_converged": np.asarray(r.converged, dtype=bool),
        # steps to each ladder threshold; NaN where not reached (not measured), never -1
        "halting_times": np.where(r.halting_times >= 0, r.halting_times, np.nan),
        "ladder": np.asarray(r.ladder, dtype=float),
        "x_pair": np.asarray(r.x[:2], dtype=float),
        # learning curves: intensive energy of every replica at the recorded steps
        "gd_trace_steps": np.asarray(r.trajectory_steps, dtype=np.int64),
        "gd_trace": np.asarray(r.trajectory_energies, dtype=float),
    }
    meta = {
        "dim": int(energy.dim),
        "intrinsic_dim": int(energy.manifold.intrinsic_dim),
        "scale": float(energy.scale),
        "intensive_name": getattr(energy, "intensive_name", "energy"),
        "manifold": type(energy.manifold).__name__,
        "fingerprint": energy.fingerprint,
        "gd_converged_fraction": float(np.mean(r.converged)),
        "seed": seed_info(ss),
    }
    if R and isinstance(energy, FiniteSumEnergy):
        say("two-time gd")
        if not keep:  # deterministic: the first R replicas of the batched descent again
            r_rec = gradient_descent(
                energy, x0[:R], progress=False, record_every=every, record_points=True, **gd
            )
        else:
            r_rec = r
        arrays.update(_two_time_of("tt_gd", r_rec, R, float(gd["step"])))
    if sgd is not None and isinstance(energy, FiniteSumEnergy):
        say("sgd")
        bs = min(int(sgd["batch_size"]), int(energy.n_samples))
        sgd_kw = {**sgd, "batch_size": bs}
        sgd_every = max(1, int(sgd["epochs"]) * (int(energy.n_samples) // bs) // _SGD_RECORDS)
        keep_sgd = R > 0 and _fits(_SGD_RECORDS + 2, K, energy.dim)
        rec = dict(record_every=sgd_every, record_points=True) if keep_sgd else {}
        rs = run_sgd(energy, x0, **sgd_kw, seed=s_sgd, progress=False, **rec)
        arrays["sgd_final"] = np.asarray(rs.intensive, dtype=float)
        arrays["sgd_grad"] = np.asarray(rs.intensive_grad_norms, dtype=float)
        if R:
            say("two-time sgd")
            if not keep_sgd:  # replica k of the batched run, on its own shuffling stream
                streams = [child(s_sgd, k) for k in range(R)]
                rs = run_sgd(
                    energy,
                    x0[:R],
                    **sgd_kw,
                    seed=streams,
                    progress=False,
                    record_every=sgd_every,
                    record_points=True,
                )
            arrays.update(_two_time_of("tt_sgd", rs, R, float(sgd["step"])))
        arrays.update(_held_out(energy, np.asarray(r.x), "gd"))
        arrays.update(_held_out(energy, np.asarray(rs.x), "sgd"))
    elif isinstance(energy, FiniteSumEnergy):
        arrays.update(_held_out(energy, np.asarray(r.x), "gd"))
    # spectra at endpoints, converged ones first
    order = np.argsort(~r.converged, kind="stable")[: max(int(spectra), 0)]
    nodes, weights, index, methods, extras = [], [], [], [], []
    for j, k in enumerate(order):
        say(f"spectrum {j + 1}/{order.size}")
        w, wt, idx, method, ex = _spectrum(
            energy, r.x[k], dense_max, slq_probes, slq_steps, child(s_spec, j)
        )
        nodes.append(w)
        weights.append(wt)
        index.append(idx)
        methods.append(method)
        extras.append(ex)
    arrays["spec_endpoint"] = order.astype(np.int64)
    arrays["spec_index"] = np.asarray(index, dtype=np.int64)
    arrays["spec_energy"] = arrays["gd_final"][order]
    arrays["spec_nodes"] = _pad(nodes)
    arrays["spec_weights"] = _pad(weights)
    if any("grid" in e for e in extras):
        blank = np.full(_SLQ_GRID, np.nan)
        for name in ("grid", "density", "density_se"):
            arrays[f"slq_{name}"] = np.stack([e.get(name, blank) for e in extras])
    meta["spectrum_method"] = methods[0] if methods else "none"
    # overlaps between endpoints
    say("overlaps")
    X = np.asarray(r.x)
    # model-specific facts arrive through the energy: a symmetry-fixing canonical form
    # (networks: sorted hidden units, fixed signs) and the model's outputs (function space)
    canon = getattr(energy, "canonical_form", None)
    arrays["q_param"] = overlaps(canon(X) if canon is not None else X)
    outputs = getattr(energy, "outputs", None)
    if outputs is not None:
        data = getattr(energy, "data", None)
        split = (
            "test" if data is not None and getattr(data, "X_test", None) is not None else "train"
        )
        arrays["q_func"] = function_overlaps(outputs(X, split))
        meta["q_func_split"] = split
    return EnsembleResult(arrays, meta)
