"""Sweep task functions of the p-spin descent and census studies (``landscapes sweep``).

Each function is a sweep task (:mod:`analysis.sweep`): ``func(config, seed) -> (meta,
arrays)``, named ``"analysis.studies.pspin_descent:<function>"``. Models travel as specs
(:func:`landscapes.spec.spec_of`) and are rebuilt by :func:`landscapes.spec.build` (fingerprint
checked); child streams come from :func:`landscapes.random.child`, so a task depends only on
its configuration and its seed.

The descents are :func:`analysis.dynamics.gradient_descent` (fixed step, retraction,
converged replicas frozen); the final energies and gradient norms are evaluated once more on
the whole batch of endpoints.
"""

from __future__ import annotations

import numpy as np

from analysis.dynamics import gradient_descent
from landscapes.random import child
from landscapes.spec import build

__all__ = [
    "SWEEP_KINDS",
    "pspin_census_task",
    "pspin_critical_census_task",
    "pspin_descent_task",
    "sweep_tables",
    "sweep_tasks",
]


def _check_cfg(
    config: dict, name: str, kind: type, minimum=None, default=None, positive: bool = False
):
    v = config.get(name, default)
    if v is None:
        raise ValueError(f"task config needs {name!r}")
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise ValueError(f"task config {name!r} must be an integer; got {v!r}")
    if kind is float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise ValueError(f"task config {name!r} must be a finite number; got {v!r}")
        v = float(v)
    if minimum is not None and v < minimum:
        raise ValueError(f"task config {name!r} must be >= {minimum}; got {v!r}")
    if positive and v <= 0:
        raise ValueError(f"task config {name!r} must be > 0; got {v!r}")
    return v


def _descend(model, X: np.ndarray, lr: float, steps: int, gtol: float):
    """Batched Riemannian gradient descent with retraction; converged replicas are frozen.

    Convergence: |rgrad| / sqrt(dim) <= gtol (root-mean-square gradient per coordinate).
    Returns X, energies, gradient norms (same normalization; both evaluated on the whole
    batch of endpoints), steps taken.
    """
    r = gradient_descent(model, X, step=lr, max_steps=steps, gtol=gtol, ladder=(), progress=False)
    e, g = model.batch_energy_and_gradient(r.x)
    gn = np.linalg.norm(model.manifold.rgrad(r.x, g), axis=1) / np.sqrt(model.scale)
    return r.x, e, gn, r.steps


def _start_points(model, seed: np.random.SeedSequence, K: int) -> np.ndarray:
    """One uniform random start per replica, replica k from child stream k of ``seed``."""
    return np.stack([model.random_point(child(seed, k)) for k in range(K)])


def pspin_descent_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Batched Riemannian gradient descents on one p-spin model (a sweep task).

    Config: ``model`` (a :func:`landscapes.spec.spec_of` spec; built on the worker by
    :func:`landscapes.spec.build`, fingerprint checked),
    ``replicas`` K, ``steps`` (max), ``lr`` (step size, default 0.05), ``gtol`` (default
    1e-6). Replica k starts uniformly on the sphere from child k of the task's seed.

    Returns meta ``{n_replicas, n_converged, e_min, e_mean, e_max, grad_max, steps_mean}``
    (energies per spin, H/N) and arrays ``energy`` (K,), ``grad_norm`` (K,), ``steps`` (K,),
    ``x`` (K, N) endpoints.
    """
    model = build(config["model"])
    K = _check_cfg(config, "replicas", int, 1)
    steps = _check_cfg(config, "steps", int, 0)
    lr = _check_cfg(config, "lr", float, 0.0, default=0.05, positive=True)
    gtol = _check_cfg(config, "gtol", float, 0.0, default=1e-6)
    X0 = _start_points(model, seed, K)
    X, e, gn, n = _descend(model, X0, lr, steps, gtol)
    e = e / model.scale
    meta = {
        "n_replicas": K,
        "n_converged": int(np.sum(gn < gtol)),
        "e_min": float(e.min()),
        "e_mean": float(e.mean()),
        "e_max": float(e.max()),
        "grad_max": float(gn.max()),
        "steps_mean": float(n.mean()),
    }
    return meta, {"energy": e, "grad_norm": gn, "steps": n, "x": X}


def pspin_census_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Census of descent endpoints on one disorder sample (a sweep task).

    The task's seed gives the couplings (child 0) and the starts (child 1), so a sweep over
    tasks is a sweep over disorder samples. Config: ``N``, ``p``, ``couplings`` (default
    gaussian), ``starts`` (descents per sample), ``steps``, ``lr`` (0.05), ``gtol`` (1e-6),
    ``overlap`` (two endpoints with q = x.y/N above it are the same point; default 0.999).

    Each endpoint is classified by the index of its Riemannian Hessian (dense eigenvalues,
    N - 1 of them, so keep N small, <= a few hundred) and distinct points are counted.

    Returns meta ``{n_starts, n_converged, n_distinct, n_minima, e_min, e_mean_minima,
    lambda_min_mean}`` and arrays ``energy``, ``index``, ``lambda_min`` of the distinct
    converged points sorted by energy, and the sample's ``fingerprint`` in meta.
    """
    from pspin.model import SphericalPSpin

    N = _check_cfg(config, "N", int, 2)
    p = _check_cfg(config, "p", int, 2)
    starts = _check_cfg(config, "starts", int, 1)
    steps = _check_cfg(config, "steps", int, 0)
    lr = _check_cfg(config, "lr", float, 0.0, default=0.05, positive=True)
    gtol = _check_cfg(config, "gtol", float, 0.0, default=1e-6)
    qmax = _check_cfg(config, "overlap", float, 0.0, default=0.999)
    s_model, s_starts = child(seed, "model"), child(seed, "starts")
    model = SphericalPSpin(N, p, seed=s_model, couplings=config.get("couplings", "gaussian"))
    X0 = _start_points(model, s_starts, starts)
    X, e, gn, _ = _descend(model, X0, lr, steps, gtol)
    conv = np.flatnonzero(gn < gtol)
    Xc, ec = X[conv], e[conv] / model.scale
    order = np.argsort(ec, kind="stable")
    Xc, ec = Xc[order], ec[order]
    # distinct points: greedy over energy order, overlap matrix in one product
    Q = (Xc @ Xc.T) / N
    keep = np.ones(len(ec), dtype=bool)
    for i in range(len(ec)):
        if keep[i]:
            dup = Q[i, i + 1 :] > qmax
            keep[i + 1 :] &= ~dup
    Xd, ed = Xc[keep], ec[keep]
    if len(ed):
        H = model.rhessian(Xd)
        lam = np.linalg.eigvalsh(H)
        index = np.sum(lam < 0, axis=1)
        lam_min = lam[:, 0]
    else:
        index = np.zeros(0, dtype=np.int64)
        lam_min = np.zeros(0)
    minima = index == 0
    meta = {
        "fingerprint": model.fingerprint,
        "n_starts": starts,
        "n_converged": int(conv.size),
        "n_distinct": int(len(ed)),
        "n_minima": int(minima.sum()),
        "e_min": float(ed.min()) if len(ed) else float("nan"),
        "e_mean_minima": float(ed[minima].mean()) if minima.any() else float("nan"),
        "lambda_min_mean": float(lam_min.mean()) if len(ed) else float("nan"),
    }
    return meta, {"energy": ed, "index": index.astype(np.int64), "lambda_min": lam_min}


def pspin_critical_census_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Census of the critical points of one disorder sample (:func:`analysis.critical.census`).

    The task's seed gives the couplings (child 0) and the census search seed (child 1), so a
    sweep over tasks is a sweep over disorder samples. Config: ``N``, ``p``, ``couplings``
    (default gaussian), ``batch_size`` (default 32), ``max_starts`` (default 512),
    ``min_starts`` (default 4 batches), ``max_iter`` (default 150). No time budget: a census
    stopped by the clock would depend on the machine, and a task must not.

    Returns meta ``{fingerprint, n_points, n_minima, n_index1, e_min, complete, stopped_by,
    n_starts}`` and arrays ``counts_by_index`` (N,), ``energy`` and ``index`` of every point
    (sorted by energy).
    """
    from analysis.critical import census
    from pspin.model import SphericalPSpin

    N = _check_cfg(config, "N", int, 2)
    p = _check_cfg(config, "p", int, 2)
    bs = _check_cfg(config, "batch_size", int, 1, default=32)
    max_starts = _check_cfg(config, "max_starts", int, 1, default=512)
    min_starts = config.get("min_starts")
    max_iter = _check_cfg(config, "max_iter", int, 1, default=150)
    model = SphericalPSpin(
        N, p, seed=child(seed, "model"), couplings=config.get("couplings", "gaussian")
    )
    c = census(
        model,
        seed=child(seed, "search"),
        batch_size=bs,
        max_starts=max_starts,
        min_starts=min_starts,
        max_iter=max_iter,
        progress=False,
    )
    counts = np.asarray(c.counts_by_index, dtype=np.int64)
    meta = {
        "fingerprint": model.fingerprint,
        "n_points": int(counts.sum()),
        "n_minima": int(counts[0]),
        "n_index1": int(counts[1]) if counts.size > 1 else 0,
        "e_min": float(c.energies.min()) if c.energies.size else float("nan"),
        "complete": bool(c.certificate.complete),
        "stopped_by": str(c.stopped_by),
        "n_starts": int(c.saturation[-1, 0]) if len(c.saturation) else 0,
    }
    return meta, {
        "counts_by_index": counts,
        "energy": np.asarray(c.energies, dtype=np.float64),
        "index": np.asarray(c.indices, dtype=np.int64),
    }


# ----------------------------------------------------------------------------- the sweep study
SWEEP_KINDS = ("census", "descent", "echo")
_FUNCS = {
    "census": "analysis.studies.pspin_descent:pspin_critical_census_task",
    "descent": "analysis.studies.pspin_descent:pspin_descent_task",
    "echo": "analysis.sweep.testing:echo_task",
}


def _positive(params: dict, *names: str) -> None:
    for n in names:
        v = params[n]
        if v < 1:
            raise ValueError(f"--{n.replace('_', '-')} must be >= 1; got {v}")


def sweep_tasks(kind: str, params: dict, seed: int) -> list:
    """The tasks of a ``landscapes sweep`` run, validated (ValueError naming the option).

    Parameters
    ----------
    kind : {"census", "descent", "echo"}
        ``census``: :func:`pspin_critical_census_task` on ``samples`` disorder samples (``N``,
        ``p``, ``batch_size``, ``max_starts``); ``descent``: ``tasks`` batches of ``replicas``
        descents (:func:`pspin_descent_task`: ``N``, ``p``, ``model_seed``, ``steps``, ``lr``,
        ``gtol``) on one model; ``echo``: ``tasks`` echo tasks (``sleep`` seconds each).
    params : dict
        The options named above.
    seed : int
        Root seed of the sweep: task ``i`` gets child ``i``.

    Returns
    -------
    list of analysis.sweep.Task
    """
    from analysis.sweep import make_tasks

    if kind not in SWEEP_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SWEEP_KINDS)}; got {kind!r}")
    if kind == "census":
        _positive(params, "samples", "batch_size", "max_starts")
        if params["N"] < 2 or params["p"] < 2:
            raise ValueError(f"--N and --p must be >= 2; got N={params['N']}, p={params['p']}")
        cfg = {"N": params["N"], "p": params["p"], "batch_size": params["batch_size"]}
        cfg["max_starts"] = params["max_starts"]
        return make_tasks(_FUNCS[kind], [cfg] * params["samples"], seed)
    if kind == "descent":
        _positive(params, "tasks", "replicas")
        if params["steps"] < 0 or not params["lr"] > 0:
            raise ValueError(
                f"--steps must be >= 0 and --lr > 0; got {params['steps']}, {params['lr']}"
            )
        from landscapes.spec import spec_of
        from pspin.model import SphericalPSpin

        # built once here for its fingerprint; workers rebuild it from the spec
        spec = spec_of(SphericalPSpin(params["N"], params["p"], seed=params["model_seed"]))
        cfg = {"model": spec, "replicas": params["replicas"], "steps": params["steps"]}
        cfg["lr"] = params["lr"]
        cfg["gtol"] = params["gtol"]
        return make_tasks(_FUNCS[kind], [cfg] * params["tasks"], seed)
    _positive(params, "tasks")
    if params["sleep"] < 0:
        raise ValueError(f"--sleep must be >= 0; got {params['sleep']}")
    cfg = {"n": 4, "sleep": params["sleep"]}
    return make_tasks(_FUNCS[kind], [cfg] * params["tasks"], seed)


def sweep_tables(kind: str, run_folder, tasks: list) -> tuple[dict, list[str]]:
    """Tables and report lines of a finished sweep: ``results.csv`` (one row per task, in task
    order) and, for a census, ``counts_by_index.csv`` (mean and standard error per index)."""
    from analysis.sweep import load_results, results_table

    table = results_table(run_folder, tasks)
    tables = {"results.csv": table}
    lines = ["- results: results.csv (one row per task, in task order)"]
    if kind == "census":
        counts = np.stack([a["counts_by_index"] for _, a in load_results(run_folder, tasks)])
        S = counts.shape[0]
        mean = counts.mean(axis=0)
        se = counts.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.full_like(mean, np.nan)
        tables["counts_by_index.csv"] = {
            "index": np.arange(counts.shape[1]),
            "mean": mean,
            "stderr": se,
        }
        lines.append(
            f"- mean number of critical points per sample: {counts.sum(1).mean():.3f} "
            f"(counts_by_index.csv); complete certificates: "
            f"{int(table['complete'].sum())}/{S}"
        )
    elif kind == "descent":
        lines.append(
            f"- final energy per spin H/N: mean {table['e_mean'].mean():.6f}, "
            f"lowest {table['e_min'].min():.6f}"
        )
    return tables, lines
