"""One protocol applied to several energies: the Sagun–Guney–Ben Arous–LeCun comparison.

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
4. **Overlaps** between GD endpoints of different replicas: ``q = x.y / |x||y|``. On the
   sphere directly; for networks after ``canonical_form`` (hidden units sorted, signs fixed),
   and in function space as the Pearson correlation of the two networks' outputs on the
   held-out data (training data when there is none).

:func:`run_comparison` applies it to the default comparison (p = 3 spherical p-spin at several
N against MLPs on digits and on a teacher–student task at several widths) as a sweep of
:class:`analysis.tasks.Task` s, one per (model, size) (:func:`comparison_tasks`, task function
:func:`compare_task`), run by :func:`analysis.tasks.run_tasks` in-process, on local processes
or on a Dask cluster with identical results: every task builds its model on the worker from
the configuration and its seed, each result is stored in the run folder as it completes, and a
rerun on the same folder runs only the missing tasks. :func:`load_tables` rebuilds the tidy
tables (one row per replica, with model, size, seed) from the stored tasks, without
recomputing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from landscapes.energy import Energy, FiniteSumEnergy
from landscapes.manifolds import Sphere
from landscapes.random import SeedLike, as_seed_sequence, seed_info

__all__ = [
    "EnsembleResult",
    "ModelTask",
    "comparison_tasks",
    "compare_task",
    "measure_ensemble",
    "overlaps",
    "function_overlaps",
    "model_tasks",
    "build_energy",
    "run_task",
    "run_comparison",
    "load_tables",
    "pspin_theory_lines",
    "MODEL_LABELS",
]

MODEL_LABELS = {
    "pspin": "spherical p-spin",
    "digits": "MLP on digits",
    "teacher_student": "MLP teacher-student",
}


# --------------------------------------------------------------------------- one ensemble
@dataclass(frozen=True)
class EnsembleResult:
    """Measurements of one energy (one model at one size) over K replicas.

    Attributes
    ----------
    arrays : dict of ndarray
        ``gd_final`` (K,) intensive final energies, ``gd_grad`` (K,) intensive gradient
        norms, ``gd_steps`` (K,), ``gd_converged`` (K,) bool, ``halting_times`` (K, L),
        ``ladder`` (L,); ``sgd_final``/``sgd_grad`` (K,) for finite-sum energies;
        ``spec_endpoint`` (M,) replica index of each spectrum, ``spec_index`` (M,) count of
        negative eigenvalues (-1 for SLQ), ``spec_nodes``/``spec_weights`` (M, n) the
        spectral measure of each endpoint (eigenvalues with weights 1/d when dense, Ritz
        nodes and weights pooled over probes for SLQ, NaN padded); ``q_param`` (pairs,)
        overlaps of endpoints, ``q_func`` (pairs,) function-space overlaps (networks).
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
    from analysis.spectrum import hessian_eigenvalues, spectral_density

    d = energy.manifold.intrinsic_dim
    if d <= dense_max:
        res = hessian_eigenvalues(energy, x)
        w = np.asarray(res.eigenvalues)
        scale = max(float(np.max(np.abs(w))), 1e-300)
        index = int(np.sum(w < -1e-9 * scale))
        return w, np.full_like(w, 1.0 / w.size), index, "dense"
    dens = spectral_density(
        energy, x, method="slq", n_probes=probes, lanczos_steps=min(steps, d), seed=seed
    )
    nodes, weights = dens.pooled()
    return np.asarray(nodes), np.asarray(weights), -1, "slq"


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
    progress : callable, optional
        Called with a short stage name as each stage starts.
    """
    from analysis.dynamics import gradient_descent
    from analysis.dynamics import sgd as run_sgd

    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    K = int(replicas)
    if K < 2:
        raise ValueError(f"replicas must be >= 2 (overlaps need pairs); got {replicas}")
    ss = as_seed_sequence(seed)
    s_start, s_sgd, s_spec = ss.spawn(3)
    say = progress or (lambda _s: None)
    x0 = energy.random_point(s_start, size=K)
    say("gd")
    r = gradient_descent(energy, x0, progress=False, **gd)
    arrays: dict[str, np.ndarray] = {
        "gd_final": np.asarray(r.intensive, dtype=float),
        "gd_grad": np.asarray(r.intensive_grad_norms, dtype=float),
        "gd_steps": np.asarray(r.steps, dtype=np.int64),
        "gd_converged": np.asarray(r.converged, dtype=bool),
        "halting_times": np.asarray(r.halting_times, dtype=np.int64),
        "ladder": np.asarray(r.ladder, dtype=float),
        "x_pair": np.asarray(r.x[:2], dtype=float),
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
    if sgd is not None and isinstance(energy, FiniteSumEnergy):
        say("sgd")
        bs = min(int(sgd["batch_size"]), int(energy.n_samples))
        rs = run_sgd(energy, x0, **{**sgd, "batch_size": bs}, seed=s_sgd, progress=False)
        arrays["sgd_final"] = np.asarray(rs.intensive, dtype=float)
        arrays["sgd_grad"] = np.asarray(rs.intensive_grad_norms, dtype=float)
    # spectra at endpoints, converged ones first
    order = np.argsort(~r.converged, kind="stable")[: max(int(spectra), 0)]
    nodes, weights, index, methods = [], [], [], []
    for j, k in enumerate(order):
        say(f"spectrum {j + 1}/{order.size}")
        w, wt, idx, method = _spectrum(
            energy, r.x[k], dense_max, slq_probes, slq_steps, s_spec.spawn(1)[0]
        )
        nodes.append(w)
        weights.append(wt)
        index.append(idx)
        methods.append(method)
    arrays["spec_endpoint"] = order.astype(np.int64)
    arrays["spec_index"] = np.asarray(index, dtype=np.int64)
    arrays["spec_energy"] = arrays["gd_final"][order]
    arrays["spec_nodes"] = _pad(nodes)
    arrays["spec_weights"] = _pad(weights)
    meta["spectrum_method"] = methods[0] if methods else "none"
    # overlaps between endpoints
    say("overlaps")
    X = np.asarray(r.x)
    if isinstance(energy.manifold, Sphere):
        arrays["q_param"] = overlaps(X)
    else:
        canon = getattr(energy, "canonical_form", None)
        arrays["q_param"] = overlaps(canon(X) if canon is not None else X)
        outputs = getattr(energy, "outputs", None)
        if outputs is not None:
            data = getattr(energy, "data", None)
            split = (
                "test"
                if data is not None and getattr(data, "X_test", None) is not None
                else "train"
            )
            arrays["q_func"] = function_overlaps(outputs(X, split))
            meta["q_func_split"] = split
    return EnsembleResult(arrays, meta)


# --------------------------------------------------------------------------- the default comparison
@dataclass(frozen=True)
class ModelTask:
    """One (model, size) of the comparison: a resumable task of the run folder."""

    family: str
    size: int

    @property
    def label(self) -> str:
        unit = "N" if self.family == "pspin" else "width"
        return f"{MODEL_LABELS[self.family]}, {unit} = {self.size}"


def model_tasks(config: dict) -> list[ModelTask]:
    """Every (model, size) of a validated configuration, p-spin first."""
    tasks = [ModelTask("pspin", n) for n in config["pspin"]["sizes"]]
    for fam in config["networks"]["families"]:
        tasks += [ModelTask(fam, w) for w in config["networks"]["widths"]]
    return tasks


_FAMILY_ID = {"pspin": 0, "digits": 1, "teacher_student": 2}


def _task_seed(config: dict, task: ModelTask) -> np.random.SeedSequence:
    """Deterministic per-task stream: the run seed with spawn key (family, size)."""
    return np.random.SeedSequence(
        int(config["seed"]), spawn_key=(_FAMILY_ID[task.family], task.size)
    )


def build_energy(config: dict, task: ModelTask, seed: SeedLike) -> Energy:
    """The Energy of a network task (the p-spin builds one per coupling sample in run_task)."""
    from landscapes.datasets import digits, teacher_student
    from landscapes.nn import MLPLoss

    nets = config["networks"]
    act = nets["activation"]
    if task.family == "digits":
        data = digits(
            scaling="unit",
            test_size=nets["n_test"],
            seed=int(config["seed"]),
            n_train=nets["n_train"],
        )
        return MLPLoss(
            data,
            hidden=(task.size,),
            activation=act,
            loss="cross_entropy",
            weight_decay=nets.get("weight_decay", 0.0),
        )
    if task.family == "teacher_student":
        data = teacher_student(
            n_samples=nets["n_train"],
            dim=nets["ts_dim"],
            hidden=(task.size,),
            activation=act,
            seed=seed,
            n_test=nets["n_test"],
        )
        return MLPLoss(
            data,
            hidden=(task.size,),
            activation=act,
            loss="mse",
            weight_decay=nets.get("weight_decay", 0.0),
        )
    raise ValueError(f"unknown network family {task.family!r}")


_RUN_LISTS = {
    "pspin": ("sizes", "census_size", "census_starts"),
    "networks": ("widths", "families"),
}


def task_config(config: dict, task: ModelTask) -> dict:
    """The part of the configuration a task depends on (the configuration of its sweep task).

    The lists of sizes, widths and families of the run are left out: a (model, size)'s
    result does not depend on which other sizes the run holds, so extending a run keeps
    every stored task.
    """
    sec = "pspin" if task.family == "pspin" else "networks"
    section = {k: v for k, v in config[sec].items() if k not in _RUN_LISTS[sec]}
    return {
        "family": task.family,
        "size": task.size,
        "seed": config["seed"],
        sec: section,
        "spectra": config["spectra"],
    }


def _run_task_config(config: dict, task: ModelTask) -> dict:
    """:func:`task_config` with the run's lists (the key of slices and of legacy folders)."""
    sec = "pspin" if task.family == "pspin" else "networks"
    return {**task_config(config, task), sec: config[sec]}


def run_task(
    config: dict,
    task: ModelTask,
    progress: Callable[[str], None] | None = None,
    *,
    seed: np.random.SeedSequence | None = None,
):
    """Measure one (model, size); returns ``(meta, arrays)`` ready for ``RunFolder.save_task``.

    ``seed`` is the task's stream; by default the run seed with spawn key (family, size)
    (what :func:`comparison_tasks` records).

    The p-spin runs ``samples`` fresh coupling draws of ``replicas`` each (the replicas of
    every sample are batched; sample s has its own stream); a network task builds one energy
    (the teacher–student teacher has the student's architecture) and runs GD and SGD from
    the same starts. Arrays of the samples are concatenated; ``sample`` says which replica
    belongs to which coupling draw.
    """
    from pspin import SphericalPSpin

    ss = _task_seed(config, task) if seed is None else seed
    sp = config["spectra"]
    common = dict(dense_max=sp["dense_max"], slq_probes=sp["slq_probes"], slq_steps=sp["slq_steps"])
    if task.family == "pspin":
        c = config["pspin"]
        results, fps = [], []
        per_sample_spectra = [
            sp["endpoints"] // c["samples"] + (1 if s < sp["endpoints"] % c["samples"] else 0)
            for s in range(c["samples"])
        ]
        for s, child in enumerate(ss.spawn(c["samples"])):
            s_coup, s_run = child.spawn(2)
            model = SphericalPSpin(task.size, c["p"], seed=s_coup)
            fps.append(model.fingerprint)
            gd = dict(step=c["step"], max_steps=c["max_steps"], gtol=c["gtol"])
            results.append(
                measure_ensemble(
                    model,
                    replicas=c["replicas"],
                    seed=s_run,
                    gd=gd,
                    spectra=per_sample_spectra[s],
                    progress=(lambda st, s=s: progress(f"sample {s + 1}: {st}"))
                    if progress
                    else None,
                    **common,
                )
            )
        arrays = _concat(results, c["replicas"])
        meta = dict(results[0].meta)
        meta["fingerprints"] = fps
        meta["p"] = c["p"]
        meta["gd_converged_fraction"] = float(np.mean(arrays["gd_converged"]))
    else:
        c = config["networks"]
        s_model, s_run = ss.spawn(2)
        energy = build_energy(config, task, s_model)
        gd = dict(
            step=c["gd_step"],
            max_steps=c["gd_steps"],
            gtol=c["gtol"],
            schedule=c.get("gd_schedule", "fixed"),
        )
        sgd = (
            dict(batch_size=c["sgd_batch"], step=c["sgd_step"], epochs=c["sgd_epochs"])
            if c["sgd"]
            else None
        )
        res = measure_ensemble(
            energy,
            replicas=c["replicas"],
            seed=s_run,
            gd=gd,
            sgd=sgd,
            spectra=sp["endpoints"],
            progress=progress,
            **common,
        )
        arrays = dict(res.arrays)
        arrays["sample"] = np.zeros(c["replicas"], dtype=np.int64)
        meta = dict(res.meta)
        meta["fingerprints"] = [energy.fingerprint]
        meta["n_params"] = int(energy.dim)
    meta.update(family=task.family, size=task.size, label=task.label, seed=seed_info(ss))
    return meta, arrays


def _concat(results: Sequence[EnsembleResult], K: int) -> dict:
    """Concatenate the arrays of several coupling samples (replica indices offset)."""
    out: dict[str, np.ndarray] = {}
    keys = results[0].arrays.keys()
    for k in keys:
        parts = [r.arrays[k] for r in results]
        if k in ("ladder", "x_pair"):
            out[k] = parts[0]
        elif k == "spec_endpoint":
            out[k] = np.concatenate([p + s * K for s, p in enumerate(parts)])
        elif k in ("spec_nodes", "spec_weights"):
            out[k] = _pad([row for p in parts for row in p])
        else:
            out[k] = np.concatenate(parts)
    out["sample"] = np.repeat(np.arange(len(results)), K)
    out["q_sample"] = np.concatenate(
        [np.full(r.arrays["q_param"].size, s) for s, r in enumerate(results)]
    )
    return out


def slice_task(
    config: dict, tasks_meta: Sequence[tuple[dict, dict]], family: str, n_points: int = 41
):
    """Landscape slices through the first GD endpoint of the largest size of ``family``.

    Rebuilds the energy from its seeds (sample 0 for the p-spin), checks its fingerprint
    against the stored one, and returns ``(meta, arrays)``: a 1D slice along each of two
    random normalized directions (geodesic on the sphere, filter-normalized for networks), a
    2D slice on their plane, and the path (geodesic / straight) to the second endpoint.
    """
    from analysis.slices import path_between, slice_1d, slice_2d
    from pspin import SphericalPSpin

    group = [(m, a) for m, a in tasks_meta if m["family"] == family]
    if not group:
        raise ValueError(f"no stored task of family {family!r}")
    meta, arrays = max(group, key=lambda t: t[0]["size"])
    task = ModelTask(family, int(meta["size"]))
    ss = _task_seed(config, task)
    if family == "pspin":
        s_coup = ss.spawn(config["pspin"]["samples"])[0].spawn(2)[0]
        energy = SphericalPSpin(task.size, config["pspin"]["p"], seed=s_coup)
        span = (-np.pi / 2, np.pi / 2)
    else:
        energy = build_energy(config, task, ss.spawn(2)[0])
        span = (-1.0, 1.0)
    if energy.fingerprint != meta["fingerprints"][0]:
        raise ValueError(f"rebuilt {task.label} differs from the stored one (fingerprint)")
    x, y = arrays["x_pair"][0], arrays["x_pair"][1]
    s_dir = np.random.SeedSequence(int(config["seed"]), spawn_key=(9, _FAMILY_ID[family]))
    s2 = slice_2d(energy, x, span=span, n_points=21, seed=s_dir)
    curves = [
        slice_1d(
            energy,
            x,
            direction=d,
            span=span,
            n_points=n_points,
            normalization="none" if s2.normalization in ("filter", "layer", "model") else "auto",
        )
        for d in s2.directions
    ]
    path = path_between(energy, x, y, n_points=n_points)
    pca = _pca_trajectories(config, family, energy, s_dir)
    out_meta = {
        "family": family,
        "size": task.size,
        "normalization": s2.normalization,
        "coordinate": s2.coordinate,
        "intensive_name": s2.intensive_name,
        "path_kind": path.kind,
        "path_length": path.length,
        "barrier": path.barrier,
        "center_energy": s2.center_energy,
    }
    out = {
        "alphas": curves[0].alphas,
        "slice1d": np.stack([c.energies for c in curves]),
        "grid": s2.alphas,
        "slice2d": s2.energies,
        "path_t": path.t,
        "path": path.energies,
        **pca,
    }
    return out_meta, out


def _pca_trajectories(config: dict, family: str, energy: Energy, seed, n_traj: int = 3) -> dict:
    """GD trajectories of ``n_traj`` fresh replicas projected on their PCA plane.

    The replicas start from ``energy.random_point`` (stream spawned from ``seed``) and run
    the family's GD protocol with their points recorded; :func:`analysis.slices.pca_plane`
    (through the first replica's endpoint) projects them. Returns ``pca_coords`` (n_traj,
    T, 2; NaN after a replica stopped), ``pca_energy`` (n_traj, T) intensive energies along
    the way and ``pca_evr`` (2,) the explained variance ratios.
    """
    from analysis.dynamics import gradient_descent
    from analysis.slices import pca_plane

    if family == "pspin":
        c = config["pspin"]
        gd = dict(step=c["step"], max_steps=c["max_steps"], gtol=c["gtol"])
    else:
        c = config["networks"]
        gd = dict(
            step=c["gd_step"],
            max_steps=c["gd_steps"],
            gtol=c["gtol"],
            schedule=c.get("gd_schedule", "fixed"),
        )
    every = max(1, gd["max_steps"] // 300)
    x0 = energy.random_point(seed.spawn(1)[0], size=n_traj)
    r = gradient_descent(energy, x0, record_every=every, record_points=True, progress=False, **gd)
    t = r.trajectory_steps
    trajs, energies = [], []
    for k in range(n_traj):
        keep = (t < r.steps[k]) | (t == t[t >= r.steps[k]].min())
        trajs.append(r.trajectory_x[keep, k])
        energies.append(r.trajectory_energies[keep, k])
    plane = pca_plane(trajs)
    return {
        "pca_coords": np.stack(_same_length(plane.coords)),
        "pca_energy": _pad([np.asarray(e) for e in energies]),
        "pca_evr": np.asarray(plane.explained_variance_ratio, dtype=float),
    }


def _same_length(coords) -> list[np.ndarray]:
    n = max(c.shape[0] for c in coords)
    return [np.vstack([c, np.full((n - c.shape[0], 2), np.nan)]) for c in coords]


def census_task(config: dict) -> tuple[dict, dict]:
    """Critical points of one small p-spin instance, for the index-vs-energy figure.

    One coupling draw at ``N = pspin.census_size`` (the run seed with spawn key (8, N)) and a
    census (:func:`analysis.critical.census`) over a fixed number of random starts
    (``pspin.census_starts``; a start budget, not a time budget, so the result is
    reproducible). Returns ``(meta, arrays)`` with every verified critical point's intensive
    energy ``energies`` (H/N) and index ``indices``.
    """
    from analysis.critical import census
    from pspin import SphericalPSpin

    c = config["pspin"]
    n = int(c["census_size"])
    if n < 4:
        raise ValueError(f"pspin.census_size must be >= 4 for a census; got {n}")
    s_coup, s_starts = np.random.SeedSequence(int(config["seed"]), spawn_key=(8, n)).spawn(2)
    model = SphericalPSpin(n, c["p"], seed=s_coup)
    res = census(
        model,
        seed=s_starts,
        batch_size=min(128, int(c["census_starts"])),
        min_starts=int(c["census_starts"]),
        max_starts=int(c["census_starts"]),
        progress=False,
    )
    meta = {
        "family": "pspin",
        "size": n,
        "p": int(c["p"]),
        "starts": int(c["census_starts"]),
        "n_points": int(res.energies.size),
        "stopped_by": res.stopped_by,
        "fingerprint": model.fingerprint,
        "seed": seed_info(s_starts),
    }
    return meta, {"energies": np.asarray(res.energies), "indices": np.asarray(res.indices)}


def _census_key(config: dict) -> str:
    from analysis.store import task_key

    c = config["pspin"]
    return task_key(
        {
            "census": int(c["census_size"]),
            "starts": int(c["census_starts"]),
            "p": int(c["p"]),
            "seed": int(config["seed"]),
        }
    )


_TASK_FUNC = "analysis.compare:compare_task"


def compare_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: measure one (model, size) of the comparison (see :func:`run_task`).

    ``config`` is :func:`task_config` of the run configuration (family, size, seed and the
    family's section); ``seed`` the task's stream. The model is built here, on the worker,
    from these parameters; nothing but the configuration travels.
    """
    task = ModelTask(str(config["family"]), int(config["size"]))
    if task.family not in _FAMILY_ID:
        raise ValueError(f"unknown model family {task.family!r}")
    return run_task(config, task, seed=seed)


def comparison_tasks(config: dict) -> list:
    """The sweep of a validated comparison configuration: one :class:`analysis.tasks.Task`
    per (model, size), in :func:`model_tasks` order.

    Task t runs :func:`compare_task` on ``task_config(config, t)`` with the seed record of
    the run seed's stream (family, size), so the key of a (model, size) depends only on what
    its result depends on: adding a size to the run keeps every stored task valid.
    """
    from analysis.tasks import Task

    return [
        Task(_TASK_FUNC, task_config(config, t), seed_info(_task_seed(config, t)))
        for t in model_tasks(config)
    ]


def _legacy_key(config: dict, task: ModelTask) -> str:
    """Key under which run folders written before the task model stored a (model, size)."""
    from analysis.store import task_key

    return task_key(_run_task_config(config, task))


def _slice_key(config: dict, family: str) -> str:
    from analysis.store import task_key

    return task_key({"slices": family, **_run_task_config(config, ModelTask(family, 0))})


def _load_model_result(run, config: dict, t: ModelTask, task) -> tuple[dict, dict] | None:
    """Stored ``(meta, arrays)`` of one (model, size), or None (either folder layout)."""
    if run.has_task(task.key):
        rec, arrays = run.load_task(task.key)
        return dict(rec["result"], key=task.key), arrays
    legacy = _legacy_key(config, t)
    if run.has_task(legacy):
        return run.load_task(legacy)
    return None


def run_comparison(
    config: dict,
    run,
    *,
    progress: bool | None = None,
    executor=None,
):
    """Run every (model, size) task of ``config`` not yet stored in ``run``.

    The tasks (:func:`comparison_tasks`) run with ``executor`` (an
    :class:`analysis.tasks.ExecutorSpec`, or an executor name; default in-process) and each
    result is stored (arrays then the JSON record, both atomic) as soon as it completes, so
    an interruption loses at most the tasks in flight and a rerun runs only the missing ones.
    The landscape slices through the endpoints of the largest size of each family are then
    computed here, from the stored endpoints, and stored as tasks of their own.

    Returns
    -------
    analysis.tasks.SweepResult
        Of the (model, size) sweep; raises :class:`analysis.tasks.SweepError` naming every
        task that failed after its retries.
    """
    from analysis.tasks import run_tasks

    tasks = comparison_tasks(config)
    models = model_tasks(config)
    # a folder written before the task model keeps its results under the legacy keys
    sweep = [
        task
        for t, task in zip(models, tasks, strict=True)
        if run.has_task(task.key) or not run.has_task(_legacy_key(config, t))
    ]
    result = run_tasks(
        sweep,
        run,
        executor=executor if executor is not None else "inprocess",
        progress=progress is not False,
        desc="compare",
    )
    stored = [
        _load_model_result(run, config, t, task) for t, task in zip(models, tasks, strict=True)
    ]
    stored = [s for s in stored if s is not None]
    for fam in dict.fromkeys(t.family for t in models):
        k = _slice_key(config, fam)
        if not run.has_task(k):
            meta, arrays = slice_task(config, stored, fam)
            meta["key"] = k
            run.save_task(k, meta, **arrays)
    if config["pspin"].get("census_size", 0):
        k = _census_key(config)
        if not run.has_task(k):
            meta, arrays = census_task(config)
            meta["key"] = k
            run.save_task(k, meta, **arrays)
    return result


def load_tables(run, config: dict | None = None) -> dict:
    """Tidy tables (pandas DataFrames) from the tasks stored in ``run``.

    Returns a dict with ``replicas`` (one row per replica and method: model, size, sample,
    replica, seed, method, final intensive energy, gradient norm, steps, converged),
    ``summary`` (per model, size and method: count, converged fraction, mean, std, CV,
    quantiles, median halting time), ``spectra`` (per measured endpoint: energy, index,
    method, spectral mean/min/max), ``overlaps`` (one row per pair: kind, q), plus the raw
    ``tasks`` list of ``(meta, arrays)`` ordered as in the configuration.
    """
    import pandas as pd

    config = config if config is not None else run.config
    stored, slices = [], []
    models = model_tasks(config)
    for i, (t, task) in enumerate(zip(models, comparison_tasks(config), strict=True)):
        got = _load_model_result(run, config, t, task)
        if got is not None:
            stored.append((i, *got))
    for fam in dict.fromkeys(t.family for t in models):
        k = _slice_key(config, fam)
        if run.has_task(k):
            slices.append(run.load_task(k))
    census_res = None
    if config["pspin"].get("census_size", 0) and run.has_task(_census_key(config)):
        census_res = run.load_task(_census_key(config))
    rows, specs, qs = [], [], []
    for _, meta, a in stored:
        base = {"model": meta["family"], "size": int(meta["size"])}
        K = a["gd_final"].size
        for i in range(K):
            row = dict(
                base,
                sample=int(a["sample"][i]),
                replica=i,
                seed_entropy=meta["seed"]["entropy"],
                seed_spawn_key="-".join(map(str, meta["seed"]["spawn_key"])),
            )
            rows.append(
                dict(
                    row,
                    method="gd",
                    final_energy=float(a["gd_final"][i]),
                    grad_norm=float(a["gd_grad"][i]),
                    steps=int(a["gd_steps"][i]),
                    converged=bool(a["gd_converged"][i]),
                )
            )
            if "sgd_final" in a:
                rows.append(
                    dict(
                        row,
                        method="sgd",
                        final_energy=float(a["sgd_final"][i]),
                        grad_norm=float(a["sgd_grad"][i]),
                        steps=-1,
                        converged=False,
                    )
                )
        for j in range(a["spec_endpoint"].size):
            w = a["spec_nodes"][j]
            wt = a["spec_weights"][j]
            ok = np.isfinite(w)
            specs.append(
                dict(
                    base,
                    endpoint=int(a["spec_endpoint"][j]),
                    energy=float(a["spec_energy"][j]),
                    index=int(a["spec_index"][j]),
                    method=meta.get("spectrum_method", ""),
                    converged=bool(a["gd_converged"][int(a["spec_endpoint"][j])]),
                    negative_weight=float(np.sum(wt[ok][w[ok] < 0]) / np.sum(wt[ok])),
                    mean_eigenvalue=float(np.sum(w[ok] * wt[ok]) / np.sum(wt[ok])),
                    min_eigenvalue=float(np.min(w[ok])),
                    max_eigenvalue=float(np.max(w[ok])),
                )
            )
        for kind in ("q_param", "q_func"):
            if kind in a:
                qs += [dict(base, kind=kind, q=float(q)) for q in a[kind]]
    replicas = pd.DataFrame(rows)
    summary = _summary(replicas) if len(replicas) else pd.DataFrame()
    return {
        "replicas": replicas,
        "summary": summary,
        "spectra": pd.DataFrame(specs),
        "overlaps": pd.DataFrame(qs),
        "tasks": [(m, a) for _, m, a in stored],
        "slices": sorted(slices, key=lambda t: _FAMILY_ID[t[0]["family"]]),
        "census": census_res,
    }


def _summary(df):
    import pandas as pd

    out = []
    for (model, size, method), g in df.groupby(["model", "size", "method"], sort=False):
        e = g["final_energy"].to_numpy()
        conv = g["converged"].to_numpy()
        mean = float(np.mean(e))
        std = float(np.std(e, ddof=1)) if e.size > 1 else float("nan")
        steps = g.loc[g["converged"], "steps"].to_numpy()
        out.append(
            {
                "model": model,
                "size": int(size),
                "method": method,
                "replicas": int(e.size),
                "converged_fraction": float(np.mean(conv)) if method == "gd" else float("nan"),
                "mean": mean,
                "std": std,
                "stderr": std / math.sqrt(e.size) if e.size > 1 else float("nan"),
                "cv": std / abs(mean) if mean != 0 else float("nan"),
                "min": float(np.min(e)),
                "median": float(np.median(e)),
                "max": float(np.max(e)),
                "median_halting_steps": float(np.median(steps)) if steps.size else float("nan"),
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- theory
def _abc_complexity(u: float, p: int) -> float:
    """Auffinger–Ben Arous–Černý complexity of critical values below -E_inf (pure p-spin)."""
    einf = 2.0 * math.sqrt((p - 1) / p)
    s = math.sqrt(u * u - einf * einf)
    i1 = -u / einf**2 * s - math.log(-u + s) + math.log(einf)
    return 0.5 * math.log(p - 1) - (p - 2) / (4 * (p - 1)) * u * u - i1


def pspin_theory_lines(p: int) -> dict:
    """-E_inf, -E_0 (per spin) and the Hessian semicircle radius of the pure p-spin.

    Taken from :mod:`pspin.theory` when it is installed; otherwise computed here from the
    closed forms: E_inf = 2 sqrt((p-1)/p), E_0 the zero of the ABC complexity below -E_inf
    (bisection), R = 2 sqrt(p (p-1)).
    """
    try:  # pragma: no cover - depends on the concurrent pspin.theory
        from pspin import theory

        return {
            "E_inf": float(theory.threshold_energy(p)),
            "E_0": float(theory.ground_state_energy(p)),
            "radius": 2.0 * math.sqrt(p * (p - 1)),
            "source": "pspin.theory",
        }
    except (ImportError, AttributeError):
        return _inline_theory(p)


def _inline_theory(p: int) -> dict:
    einf = 2.0 * math.sqrt((p - 1) / p)
    if p == 2:
        e0 = einf
    else:
        lo, hi = -3.0 * einf, -einf * (1 + 1e-12)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _abc_complexity(mid, p) < 0:
                lo = mid
            else:
                hi = mid
        e0 = -0.5 * (lo + hi)
    return {"E_inf": einf, "E_0": e0, "radius": 2.0 * math.sqrt(p * (p - 1)), "source": "inline"}
