"""The comparison as a sweep: one task per (model, size), run anywhere, stored as it completes.

:func:`run_comparison` applies the protocol (:func:`~analysis.studies.compare.protocol.measure_ensemble`)
to the default comparison as a sweep of :class:`analysis.sweep.Task` s, one per (model, size)
(:func:`comparison_tasks`, task function :func:`compare_task`), run by
:func:`analysis.sweep.run_tasks` in-process, on local processes or on a Dask cluster with
identical results: every task builds its model on the worker from the configuration and its
seed, each result is stored in the run folder as it completes, and a rerun on the same folder
runs only the missing tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from analysis.studies.compare.dynamics import TWO_TIME_REPLICAS
from analysis.studies.compare.graphs import run_landscape_graphs
from analysis.studies.compare.landscape import census_task, slice_task
from analysis.studies.compare.models import (
    FAMILY_ID,
    ModelTask,
    build_energy,
    census_key,
    model_tasks,
    pspin_spec,
    slice_key,
    task_config,
    task_seed,
)
from analysis.studies.compare.protocol import EnsembleResult, _pad, measure_ensemble
from analysis.sweep import Task, run_tasks
from landscapes.random import child, seed_info
from landscapes.spec import build

__all__ = [
    "TASK_FUNC",
    "pspin_spec",
    "run_task",
    "compare_task",
    "comparison_tasks",
    "load_model_result",
    "run_comparison",
]


def run_task(
    config: dict,
    task: ModelTask,
    progress: Callable[[str], None] | None = None,
    *,
    seed: np.random.SeedSequence | None = None,
):
    """Measure one (model, size); returns ``(meta, arrays)`` ready for ``RunFolder.save_task``.

    ``seed`` is the task's stream; by default the run seed's child (family, size)
    (what :func:`comparison_tasks` records).

    The p-spin runs ``samples`` fresh coupling draws of ``replicas`` each (the replicas of
    every sample are batched; sample s has its own stream); a network task builds one energy
    (the teacher–student teacher has the student's architecture) and runs GD and SGD from
    the same starts. Arrays of the samples are concatenated; ``sample`` says which replica
    belongs to which coupling draw.
    """
    ss = task_seed(config, task) if seed is None else seed
    sp = config["spectra"]
    common = dict(dense_max=sp["dense_max"], slq_probes=sp["slq_probes"], slq_steps=sp["slq_steps"])
    if task.family == "pspin":
        c = config["pspin"]
        results, fps = [], []
        per_sample_spectra = [
            sp["endpoints"] // c["samples"] + (1 if s < sp["endpoints"] % c["samples"] else 0)
            for s in range(c["samples"])
        ]
        for s in range(c["samples"]):
            s_coup, s_run = child(ss, s, "model"), child(ss, s, 1)
            model = build(pspin_spec(task.size, c["p"], s_coup))
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
        s_model, s_run = child(ss, "model"), child(ss, 1)
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
            record_replicas=TWO_TIME_REPLICAS,
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
        if k in ("ladder", "x_pair", "gd_trace_steps"):
            out[k] = parts[0]
        elif k == "gd_trace":
            steps = [r.arrays["gd_trace_steps"] for r in results]
            out["gd_trace_steps"], out[k] = _merge_traces(steps, parts)
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


def _merge_traces(steps: Sequence[np.ndarray], traces: Sequence[np.ndarray]):
    """Learning curves of several samples on the union of their recorded steps.

    A sample whose descent ended earlier keeps its last recorded energies (its replicas had
    stopped); returns ``(steps (R,), traces (R, sum K))``.
    """
    union = np.unique(np.concatenate(steps))
    cols = []
    for st, tr in zip(steps, traces, strict=True):
        at = np.clip(np.searchsorted(st, union, side="right") - 1, 0, st.size - 1)
        cols.append(tr[at])
    return union.astype(np.int64), np.concatenate(cols, axis=1)


TASK_FUNC = "analysis.studies.compare:compare_task"


def compare_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: measure one (model, size) of the comparison (see :func:`run_task`).

    ``config`` is :func:`task_config` of the run configuration (family, size, seed and the
    family's section); ``seed`` the task's stream. The model is built here, on the worker,
    from these parameters; nothing but the configuration travels.
    """
    task = ModelTask(str(config["family"]), int(config["size"]))
    if task.family not in FAMILY_ID:
        raise ValueError(f"unknown model family {task.family!r}")
    return run_task(config, task, seed=seed)


def comparison_tasks(config: dict) -> list:
    """The sweep of a validated comparison configuration: one :class:`analysis.sweep.Task`
    per (model, size), in :func:`model_tasks` order.

    Task t runs :func:`compare_task` on ``task_config(config, t)`` with the seed record of
    the run seed's stream (family, size), so the key of a (model, size) depends only on what
    its result depends on: adding a size to the run keeps every stored task valid.
    """
    return [
        Task(TASK_FUNC, task_config(config, t), seed_info(task_seed(config, t)))
        for t in model_tasks(config)
    ]


def load_model_result(run, task) -> tuple[dict, dict] | None:
    """Stored ``(meta, arrays)`` of one sweep task of the comparison, or None."""
    if run.has_task(task.key):
        rec, arrays = run.load_task(task.key)
        return dict(rec["result"], key=task.key), arrays
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
    :class:`analysis.sweep.ExecutorSpec`, or an executor name; default in-process) and each
    result is stored (arrays then the JSON record, both atomic) as soon as it completes, so
    an interruption loses at most the tasks in flight and a rerun runs only the missing ones.
    The landscape slices through the endpoints of the largest size of each family are then
    computed here, from the stored endpoints, and stored as tasks of their own, as are the
    census of the small p-spin instance and the "Landscape graphs" catalogues
    (:func:`~analysis.studies.compare.graphs.run_landscape_graphs`, unless disabled).

    Returns
    -------
    analysis.sweep.SweepResult
        Of the (model, size) sweep; raises :class:`analysis.sweep.SweepError` naming every
        task that failed after its retries.
    """
    tasks = comparison_tasks(config)
    models = model_tasks(config)
    result = run_tasks(
        tasks,
        run,
        executor=executor if executor is not None else "inprocess",
        progress=progress is not False,
        desc="compare",
    )
    stored = [s for s in (load_model_result(run, task) for task in tasks) if s is not None]
    for fam in dict.fromkeys(t.family for t in models):
        k = slice_key(config, fam)
        if not run.has_task(k):
            meta, arrays = slice_task(config, stored, fam)
            meta["key"] = k
            run.save_task(k, meta, **arrays)
    if config["pspin"].get("census_size", 0):
        k = census_key(config)
        if not run.has_task(k):
            meta, arrays = census_task(config)
            meta["key"] = k
            run.save_task(k, meta, **arrays)
    run_landscape_graphs(config, run)
    return result
