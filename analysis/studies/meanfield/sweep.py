"""The mean-field experiments as sweeps of tasks: plans, task functions, combine, run.

Each experiment is a sweep of :class:`analysis.sweep.Task` s, one per width (all seeds of a
width batched in one task; for ``clt`` one per (dynamics, width); for ``lln`` and
``landscape`` one more for the wide reference, for ``limit`` one for the exact limit, for
``landscape`` one per p-spin size). Task *j* gets the seed stream that
:func:`~analysis.studies.meanfield.experiments.lln_experiment` (and the others) give width
*j*, and its net is rebuilt on the worker from a model spec (:func:`landscapes.spec.build`),
so the tables are those of the library functions, bit for bit, whichever executor runs the
tasks. :func:`plan_experiment` validates a whole ``landscapes meanfield`` run before anything
is created; :func:`run_experiment` runs its tasks into a run folder (resuming: stored tasks
are not redone) and combines them.
"""

from __future__ import annotations

import contextlib

import numpy as np

from analysis.studies.meanfield.scaling import (
    SCALING_KINDS,
    ScalingResult,
    clt_combine,
    limit_combine,
    limit_solution,
    lln_combine,
    scaling_config,
    scaling_init,
    scaling_net_width,
    scaling_streams,
    scaling_test_inputs,
    scaling_width_params,
)
from analysis.sweep import Task
from landscapes.meanfield import MeanFieldLimit, MeanFieldNet, make_data
from landscapes.random import as_seed_sequence, seed_from_info, seed_info
from landscapes.spec import build
from landscapes.threads import limit as limit_threads

__all__ = [
    "EXPERIMENT_NAMES",
    "DEFAULT_WIDTHS",
    "scaling_plan",
    "scaling_tasks",
    "scaling_combine",
    "width_task",
    "limit_solution_task",
    "plan_experiment",
    "run_experiment",
]

EXPERIMENT_NAMES = ("lln", "clt", "limit", "landscape")

#: Widths of a ``landscapes meanfield`` run when none are given.
DEFAULT_WIDTHS = {
    "lln": [25, 50, 100, 200, 400],
    "clt": [50, 100, 200, 400, 800],
    "limit": [16, 32, 64, 128, 256, 512],
    "landscape": [16, 32, 64, 128],
}

_WIDTH_FUNC = "analysis.studies.meanfield.sweep:width_task"
_LIMIT_FUNC = "analysis.studies.meanfield.sweep:limit_solution_task"
_LIMIT_ARRAYS = ("times", "loss", "outputs", "mean_c2", "mean_w2")
_DATA_SEED = 0  # lln and clt train on one_neuron_teacher(n_samples, d, seed=0)


def _source(data: str, n_samples: int, d: int) -> tuple[dict, int | None]:
    """The data source record and seed of a plan's data name."""
    if data == "one_neuron_teacher":
        return {"name": data, "n": n_samples, "d": d}, _DATA_SEED
    if data == "line_teacher":
        return {"name": data}, None
    raise ValueError(f"unknown data {data!r}")


def _test_inputs(kind: str, d: int, n_test: int | None, test_seed) -> np.ndarray:
    if kind == "limit":
        return scaling_test_inputs("limit", d)
    return scaling_test_inputs(kind, d, n_test=n_test, seed=test_seed)


def width_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: all seeds of one width of a mean-field experiment, batched.

    Config: ``kind`` (lln, clt, limit), ``width``, ``model`` (the net's spec, built with
    :func:`landscapes.spec.build`), ``seeds`` (how many), ``dynamics``, ``activation``,
    ``eps``, ``alpha``, ``T``, ``n_records``, ``n_test`` and ``test_seed`` (record of the
    test inputs' stream). Runs :func:`~analysis.studies.meanfield.scaling.scaling_net_width`
    with ``seed`` as the width's stream.

    Returns no meta and its observables, one row per seed (lln, limit: ``output``,
    ``mean_abs_c`` or ``mean_c2``, ``mean_w2``, ``loss_curve``; clt: ``output``,
    ``final_loss``).
    """
    net = build(config["model"])
    if net.N != int(config["width"]):
        raise ValueError(f"task width {config['width']} differs from its model's N = {net.N}")
    test_seed = seed_from_info(config["test_seed"]) if "test_seed" in config else None
    Xt = _test_inputs(config["kind"], net.d, config.get("n_test"), test_seed)
    params = scaling_width_params(config)
    if params.pop("activation") != net.activation:
        raise ValueError(f"task activation {config['activation']!r} differs from its model's")
    obs = scaling_net_width(config["kind"], net, int(config["seeds"]), seed, Xt, **params)
    return {}, obs


def limit_solution_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: the exact mean-field limit (:func:`~analysis.studies.meanfield.limit_solution`).

    Config: ``data`` (a data source record), ``activation``, ``eps``, ``T``, ``n_records``,
    ``nodes``. Deterministic (the seed is not used). Returns meta ``{nodes,
    quadrature_error}`` and arrays ``times``, ``loss``, ``outputs``, ``mean_c2``, ``mean_w2``.
    """
    lim = limit_solution(
        make_data(config["data"]),
        activation=config["activation"],
        eps=config["eps"],
        T=config["T"],
        n_records=int(config["n_records"]),
        nodes=int(config["nodes"]),
    )
    meta = {"nodes": int(lim.nodes), "quadrature_error": float(lim.quadrature_error)}
    arrays = {k: getattr(lim, k) for k in _LIMIT_ARRAYS}
    return meta, arrays


def scaling_plan(
    kind: str,
    widths,
    seeds: int,
    seed: int,
    *,
    dynamics: str = "gd",
    n_samples: int = 200,
    d: int = 5,
    **kw,
) -> dict:
    """Validated parameters of one lln / clt / limit experiment, as the library would run it.

    ``kw`` overrides the keyword defaults of the library function (``eps``, ``T``,
    ``n_boot``, ``alpha``...). lln and clt train on ``one_neuron_teacher(n_samples, d,
    seed=0)``, limit on ``line_teacher()``. ``config`` is the result's configuration
    (:func:`~analysis.studies.meanfield.scaling.scaling_config`).
    """
    if kind not in SCALING_KINDS:
        raise ValueError(f"unknown experiment {kind!r}; choose one of {SCALING_KINDS}")
    if kind == "clt":
        kw = {**kw, "dynamics": dynamics}
    elif dynamics != "gd":
        raise ValueError(f"the {kind} experiment trains with gd; got dynamics={dynamics!r}")
    data = "line_teacher" if kind == "limit" else "one_neuron_teacher"
    source, data_seed = _source(data, n_samples, d)
    X, _ = make_data(source, data_seed)
    config = scaling_config(kind, widths, seeds, seed, n_samples=X.shape[0], d=X.shape[1], **kw)
    return {
        "kind": kind,
        "seed": seed,
        "data": data,
        "n_samples": n_samples,
        "d": d,
        "config": config,
    }


def scaling_tasks(plan: dict) -> list[Task]:
    """The tasks of a :func:`scaling_plan`: one per width, in width order, then the reference
    (lln: ``ref_seeds`` nets of width ``ref_factor * max(widths)``) or the exact limit
    (limit). Seeds: the library's streams (:func:`~analysis.studies.meanfield.scaling_streams`)."""
    kind, cfg = plan["kind"], plan["config"]
    ws, S = cfg["widths"], cfg["seeds"]
    streams = scaling_streams(kind, len(ws), plan["seed"])
    source, data_seed = _source(plan["data"], plan["n_samples"], plan["d"])
    params = scaling_width_params(cfg)
    base = {"kind": kind, **params}
    if "test" in streams:
        base.update(n_test=cfg["n_test"], test_seed=seed_info(streams["test"]))

    def net(N: int) -> dict:
        init = scaling_init(kind)
        act = params["activation"]
        return MeanFieldNet.spec(source, N, seed=data_seed, activation=act, init=init)

    tasks = [
        Task(_WIDTH_FUNC, {**base, "width": N, "model": net(N), "seeds": S}, seed_info(s))
        for N, s in zip(ws, streams["widths"], strict=True)
    ]
    if kind == "lln":
        M = cfg["ref_width"]
        ref = {**base, "width": M, "model": net(M), "seeds": cfg["ref_seeds"], "reference": True}
        tasks.append(Task(_WIDTH_FUNC, ref, seed_info(streams["reference"])))
    if kind == "limit":
        lcfg = {"data": source, **{k: base[k] for k in ("activation", "eps", "T", "n_records")}}
        lcfg["nodes"] = cfg["nodes"]
        tasks.append(Task(_LIMIT_FUNC, lcfg, seed_info(as_seed_sequence(plan["seed"]))))
    return tasks


def scaling_combine(plan: dict, results: list[tuple[dict, dict]]) -> ScalingResult:
    """The :class:`~analysis.studies.meanfield.ScalingResult` of a plan from its tasks' results.

    ``results`` are the ``(meta, arrays)`` of :func:`scaling_tasks` in order. The bootstrap
    and fits are the library's (``lln_combine``, ``clt_combine``, ``limit_combine``, with the
    library's streams), so the result is that of ``lln_experiment`` (and the others), bit for
    bit.
    """
    kind, cfg = plan["kind"], plan["config"]
    n = len(cfg["widths"])
    if len(results) != n + (kind != "clt"):
        raise ValueError(f"expected the results of {n + (kind != 'clt')} tasks; got {len(results)}")
    streams = scaling_streams(kind, n, plan["seed"])
    obs = [arrays for _, arrays in results[:n]]
    boot = streams["bootstrap"]
    if kind == "limit":
        meta, la = results[n]
        lim = MeanFieldLimit(
            *(la[k] for k in _LIMIT_ARRAYS), int(meta["nodes"]), float(meta["quadrature_error"])
        )
        return limit_combine(cfg, obs, lim, bootstrap_seed=boot)
    Xt = _test_inputs(kind, cfg["d"], cfg["n_test"], streams["test"])
    if kind == "lln":
        return lln_combine(cfg, obs, results[n][1], bootstrap_seed=boot, test_X=Xt)
    return clt_combine(cfg, obs, bootstrap_seed=boot, test_X=Xt)


# ---------------------------------------------------------------------------- a whole run
def plan_experiment(
    experiment: str,
    widths=None,
    seeds: int = 40,
    seed: int = 0,
    *,
    T: float | None = None,
    eps: float | None = None,
    n_boot: int = 500,
    dynamics=("gd", "online_sgd"),
    alpha: float = 1.0,
    n_samples: int | None = None,
    d: int | None = None,
    fit_min_width: int = 0,
) -> dict:
    """Validated plans of one ``landscapes meanfield`` run, before anything is created.

    Parameters
    ----------
    experiment : {"lln", "clt", "limit", "landscape"}
    widths : sequence of int, optional
        Default :data:`DEFAULT_WIDTHS`.
    seeds, seed : int
        Seeds per width (>= 3; landscape >= 4) and the root seed.
    T, eps : float, optional
        Training time and GD step (default: the experiment's).
    n_boot : int
        Bootstrap resamples.
    dynamics : sequence of {"gd", "online_sgd"}
        clt only: one experiment per dynamics (repeats dropped).
    alpha : float
        clt only: the online SGD step.
    n_samples, d : int, optional
        lln, clt (default 200, 5) and landscape (default 400, 6): the data's size.
    fit_min_width : int
        landscape only: the smallest width in the coupled slope's fit.

    Returns
    -------
    dict
        ``{"experiment", "widths", "plans": {tag: plan}}``: one plan per dynamics for clt,
        else one plan named after the experiment.
    """
    if experiment not in EXPERIMENT_NAMES:
        raise ValueError(f"experiment must be one of {EXPERIMENT_NAMES}; got {experiment!r}")
    if seeds < 3:
        raise ValueError(f"--seeds must be >= 3; got {seeds}")
    widths = list(widths) if widths else DEFAULT_WIDTHS[experiment]
    kw = {"n_boot": n_boot}
    if T is not None:
        kw["T"] = T
    if eps is not None:
        kw["eps"] = eps
    if experiment == "landscape":
        from analysis.studies.meanfield.landscape import landscape_plan

        if seeds < 4:
            raise ValueError(
                f"meanfield landscape needs --seeds >= 4 (seed pairs for the coupled excess "
                f"estimator); got {seeds}"
            )
        kw.update(n_samples=400 if n_samples is None else n_samples, d=6 if d is None else d)
        plans = {
            "landscape": landscape_plan(widths, seeds, seed, fit_min_width=fit_min_width, **kw)
        }
        return {"experiment": experiment, "widths": widths, "plans": plans}
    data_kw = {}
    if experiment in ("lln", "clt"):
        data_kw = {"n_samples": 200 if n_samples is None else n_samples, "d": 5 if d is None else d}
    tags = list(dict.fromkeys(dynamics)) if experiment == "clt" else [experiment]
    plans = {}
    for tag in tags:
        extra = {"dynamics": tag, "alpha": alpha} if experiment == "clt" else {}
        dyn = extra.pop("dynamics", "gd")
        plans[tag] = scaling_plan(
            experiment, widths, seeds, seed, dynamics=dyn, **data_kw, **kw, **extra
        )
    return {"experiment": experiment, "widths": widths, "plans": plans}


def _tasks(experiment: str, plans: dict) -> dict[str, list[Task]]:
    if experiment == "landscape":
        from analysis.studies.meanfield.landscape import landscape_tasks

        return {tag: landscape_tasks(plan) for tag, plan in plans.items()}
    return {tag: scaling_tasks(plan) for tag, plan in plans.items()}


def run_experiment(plan: dict, folder, executor, *, threads: int | None = None):
    """Run the tasks of a :func:`plan_experiment` into ``folder`` and combine them.

    Parameters
    ----------
    plan : dict
        From :func:`plan_experiment`.
    folder : analysis.store.RunFolder
        The run folder; tasks already stored in it are not redone.
    executor : analysis.sweep.ExecutorSpec
        Where the tasks run.
    threads : int, optional
        BLAS threads of in-process tasks (1 gives the bits of process and Dask workers).

    Returns
    -------
    (results, sweep)
        ``{tag: ScalingResult}`` (landscape: ``{"landscape": LandscapeResult}``) and the
        :class:`analysis.sweep.SweepResult`.

    Raises
    ------
    analysis.sweep.SweepError
        When some tasks failed after all their attempts (the others stay stored).
    """
    from analysis.sweep import load_results

    exp = plan["experiment"]
    tasks = _tasks(exp, plan["plans"])
    every = [t for ts in tasks.values() for t in ts]
    # threads=None leaves the pools as they are (the executor's workers set their own)
    with contextlib.nullcontext() if threads is None else limit_threads(threads):
        sweep = executor.run(every, folder, desc=f"meanfield {exp}")
    if exp == "landscape":
        from analysis.studies.meanfield.landscape import landscape_combine

        p = plan["plans"]["landscape"]
        return {"landscape": landscape_combine(p, load_results(folder, tasks["landscape"]))}, sweep
    results = {
        tag: scaling_combine(p, load_results(folder, tasks[tag]))
        for tag, p in plan["plans"].items()
    }
    return results, sweep
