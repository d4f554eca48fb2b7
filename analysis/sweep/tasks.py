"""The task model of sweeps: tasks, their results, and reading results back.

A :class:`Task` is

* ``func``: an importable ``"module:function"`` name (workers import it; nothing is pickled
  but this name and a small JSON configuration),
* ``config``: a JSON-able dict (model *specs* and parameters, never coupling tensors),
* ``seed``: the record (:func:`landscapes.random.seed_info`) of a child stream of the run's
  root seed,

and its key is :func:`analysis.store.task_key` of those three. The function is called as
``func(config, seed)`` with ``seed`` the rebuilt SeedSequence and returns a pair
``(meta, arrays)``: a dict of JSON scalars and a dict of numpy arrays.

Task functions live with their study (``analysis.studies``); this package knows no model and
no study. Large models are never shipped: a configuration holds a model spec
(:func:`landscapes.spec.spec_of`), and the task rebuilds the model with
:func:`landscapes.spec.build`, which checks its fingerprint.

Results are bit-identical whichever executor runs them (:mod:`analysis.sweep.executors`), as
long as every machine runs the same versions of numpy and of this package: a task depends
only on its configuration and its seed, never on the order, the place or the number of
workers.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.store import RunFolder, task_key, to_jsonable
from landscapes.random import SeedLike, as_seed_sequence, child, seed_from_info, seed_info

__all__ = [
    "SweepError",
    "SweepResult",
    "Task",
    "TaskFailure",
    "execute_task",
    "load_results",
    "make_tasks",
    "resolve_task_function",
    "results_table",
    "task_labels",
]


def _json_roundtrip(obj: Any, what: str) -> Any:
    """The JSON-normalized copy of ``obj`` (what a worker, or a rerun, will see)."""
    try:
        return json.loads(json.dumps(to_jsonable(obj), sort_keys=True, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be JSON-able (numbers, strings, lists, dicts): {exc}"
        ) from None


def _check_func_name(func: str) -> str:
    if not isinstance(func, str) or func.count(":") != 1:
        raise ValueError(
            f"task function must be an importable 'module:function' name; got {func!r}"
        )
    mod, name = func.split(":")
    if not mod or not name.isidentifier():
        raise ValueError(
            f"task function must be an importable 'module:function' name; got {func!r}"
        )
    return func


@functools.lru_cache(maxsize=64)
def resolve_task_function(func: str) -> Callable:
    """The task function named ``"module:function"``, imported (ValueError if it cannot be)."""
    _check_func_name(func)
    mod, name = func.split(":")
    try:
        obj = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import task function {func!r}: {exc}") from None
    if not callable(obj):
        raise ValueError(f"task function {func!r} is not callable")
    return obj


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True, eq=True)
class Task:
    """One unit of a sweep: a pure function of (configuration, seed).

    Parameters
    ----------
    func : str
        Importable ``"module:function"`` name; the function takes ``(config, seed)`` (a dict
        and a :class:`numpy.random.SeedSequence`) and returns ``(meta, arrays)``.
    config : dict
        JSON-able configuration; stored in its JSON-normalized form (tuples become lists), so
        the function sees the same dict in-process, on a worker and on a rerun.
    seed : dict
        Seed record ``{"entropy": ..., "spawn_key": [...]}`` (:func:`landscapes.random.seed_info`).

    Notes
    -----
    ``key`` is :func:`analysis.store.task_key` of ``{"func", "config", "seed"}``: the name
    under which the result is stored.
    """

    func: str
    config: dict = field(hash=False)
    seed: dict = field(hash=False)

    def __post_init__(self):
        _check_func_name(self.func)
        if not isinstance(self.config, dict):
            raise ValueError(f"task config must be a dict; got {type(self.config).__name__}")
        object.__setattr__(self, "config", _json_roundtrip(self.config, "task config"))
        seed = _json_roundtrip(self.seed, "task seed record")
        if not isinstance(seed, dict) or set(seed) != {"entropy", "spawn_key"}:
            raise ValueError(
                "task seed must be a seed record {'entropy': ..., 'spawn_key': [...]} "
                f"(landscapes.random.seed_info); got {self.seed!r}"
            )
        object.__setattr__(self, "seed", seed)

    @property
    def key(self) -> str:
        """Stable key of the task (24 hex digits)."""
        return task_key(self.record())

    def record(self) -> dict:
        """JSON record of the task (a fresh copy: ``func``, ``config``, ``seed``)."""
        return {
            "func": self.func,
            "config": json.loads(json.dumps(self.config)),
            "seed": dict(self.seed),
        }

    @property
    def label(self) -> str:
        """A short human name of the task: its function name and first scalar config values
        (:func:`task_labels` names a sweep's tasks by the values that tell them apart)."""
        return _label(self, [k for k, v in self.config.items() if _scalar(v)][:3])

    def seed_sequence(self) -> np.random.SeedSequence:
        """The task's SeedSequence, rebuilt from its record."""
        return seed_from_info(self.seed)

    def run(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Run the task here and return its ``(meta, arrays)``."""
        out = execute_task(self.record())
        return out["meta"], out["arrays"]


def _scalar(v) -> bool:
    return isinstance(v, bool | int | float | str) or v is None


def _label(task: Task, keys: Sequence[str], width: int = 48) -> str:
    name = task.func.rsplit(":", 1)[-1]
    parts = []
    for k in keys:
        if k not in task.config:
            continue
        v = task.config[k]
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    text = " ".join([name, *parts])
    return text if len(text) <= width else text[: width - 3] + "..."


def task_labels(tasks: Sequence[Task], max_keys: int = 4) -> dict[str, str]:
    """Short human names of a sweep's tasks, by key: the function name and the scalar config
    values that differ between tasks of that function (e.g. ``descend_chunk_task chunk=3
    sample=0``); a function with one task shows its first scalar values."""
    by_func: dict[str, list[Task]] = {}
    for t in tasks:
        by_func.setdefault(t.func, []).append(t)
    out = {}
    for group in by_func.values():
        if len(group) == 1:
            out[group[0].key] = group[0].label
            continue
        names = sorted({k for t in group for k, v in t.config.items() if _scalar(v)})
        varying = [
            k
            for k in names
            if all(_scalar(t.config.get(k)) for t in group)
            and len({json.dumps(t.config.get(k)) for t in group}) > 1
        ]
        for t in group:
            out[t.key] = _label(t, varying[:max_keys])
    return out


def make_tasks(func: str, configs: Iterable[dict], seed: SeedLike) -> list[Task]:
    """One task per configuration, task ``i`` seeded by child ``i`` of the root seed.

    Parameters
    ----------
    func : str
        ``"module:function"`` of the task function.
    configs : iterable of dict
        Configurations, in order.
    seed : int, SeedSequence, Generator or None
        Root seed of the run. Child ``i`` is ``landscapes.random.child(root, i)`` -- what
        ``root.spawn`` returns for a fresh root -- computed without spawning, so the argument
        is not advanced and the same root always gives the same tasks.
        ``None`` draws fresh entropy (recorded in each task's seed).

    Returns
    -------
    list of Task
    """
    _check_func_name(func)
    root = as_seed_sequence(seed)
    return [Task(func, cfg, seed_info(child(root, i))) for i, cfg in enumerate(configs)]


def execute_task(record: dict) -> dict:
    """Run one task from its JSON record; what every executor calls (on the worker).

    Returns ``{"meta", "arrays", "elapsed_s", "cpu_s", "host", "pid"}`` (``cpu_s``: CPU time
    of the worker process during the task, BLAS threads included); ``meta`` is validated to be
    a dict of JSON values and ``arrays`` a dict of non-object numpy arrays.
    """
    func = resolve_task_function(record["func"])
    config = json.loads(json.dumps(record["config"]))  # a private copy for the function
    seed = seed_from_info(record["seed"])
    t0, c0 = time.perf_counter(), time.process_time()
    out = func(config, seed)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            f"task function {record['func']} must return (meta, arrays); got {type(out).__name__}"
        )
    meta, arrays = out
    if not isinstance(meta, dict) or not isinstance(arrays, dict):
        raise TypeError(f"task function {record['func']} must return (dict, dict)")
    meta = _json_roundtrip(meta, f"result of {record['func']}")
    clean = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype == object:
            raise TypeError(f"task {record['func']}: array {k!r} has dtype object (not storable)")
        clean[str(k)] = a
    return {
        "meta": meta,
        "arrays": clean,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class TaskFailure:
    """A task that failed after every attempt."""

    key: str
    func: str
    error: str
    traceback: str
    attempts: int
    deterministic: bool = False
    """True when the error is deterministic bad input (executors.DETERMINISTIC_ERRORS: the same
    task fails the same way again, so it is not retried and --resume cannot help)."""

    def __str__(self) -> str:
        return (
            f"task {self.key} ({self.func}) failed after {self.attempts} attempt(s): {self.error}"
        )


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_tasks`.

    Attributes
    ----------
    completed : tuple of str
        Keys of tasks run and stored by this call.
    skipped : tuple of str
        Keys whose results were already in the run folder.
    failed : tuple of TaskFailure
        Tasks that failed after ``retries + 1`` attempts (not stored).
    retried : int
        Number of extra attempts made (failed attempts that were resubmitted).
    executor : str
        Executor used.
    wall_s : float
        Wall-clock time of the call.
    task_s : float
        Sum of the tasks' own wall-clock times (measured on the workers).
    task_cpu_s : float
        Sum of the tasks' CPU times (measured on the workers; unlike wall times, not
        inflated when the machine is shared).
    """

    completed: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[TaskFailure, ...]
    retried: int
    executor: str
    wall_s: float
    task_s: float
    task_cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every task has a stored result."""
        return not self.failed

    def summary(self) -> str:
        """One line: counts and times."""
        return (
            f"{len(self.completed)} run, {len(self.skipped)} already stored, "
            f"{len(self.failed)} failed ({self.executor}, {self.wall_s:.2f} s wall, "
            f"{self.task_s:.2f} s in tasks)"
        )

    def raise_if_failed(self) -> None:
        """Raise :class:`SweepError` listing every failure by key and error."""
        if self.failed:
            raise SweepError(self)


class SweepError(RuntimeError):
    """Some tasks failed after all their attempts; ``result`` holds the full outcome."""

    def __init__(self, result: SweepResult):
        self.result = result
        lines = [f"{len(result.failed)} task(s) failed ({result.summary()}):"]
        lines += [f"  {f}" for f in result.failed[:20]]
        if len(result.failed) > 20:
            lines.append(f"  ... and {len(result.failed) - 20} more (see failures.json)")
        if all(f.deterministic for f in result.failed):
            lines.append(
                "every failure is a deterministic error (bad input or a bug): fix the input; "
                "--resume would fail the same way"
            )
        else:
            lines.append("rerun with --resume RUN_DIR to retry only the missing tasks")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- reading back
def load_results(
    run_folder: RunFolder, tasks: Sequence[Task]
) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """The stored ``(meta, arrays)`` of each task, in task order.

    Each result is checked against the SHA-256 recorded when it was stored
    (:meth:`analysis.store.RunFolder.load_task`): a missing task is a ValueError, a truncated,
    emptied, deleted or altered file a :class:`landscapes.errors.CorruptedFileError` naming it.
    """
    out = []
    for t in tasks:
        if not run_folder.has_task(t.key):
            raise ValueError(f"task {t.key} ({t.func}) has no stored result in {run_folder.path}")
        rec, arrays = run_folder.load_task(t.key)
        out.append((rec["result"], arrays))
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        elif isinstance(v, list):
            out[name] = json.dumps(v, separators=(",", ":"))
        else:
            out[name] = v
    return out


def results_table(run_folder: RunFolder, tasks: Sequence[Task], *, config: bool = True):
    """Tidy table (pandas DataFrame): one row per task, in task order.

    Columns: ``task`` (index in the sweep), ``key``, the flattened configuration (nested
    keys joined by dots, lists as JSON) when ``config`` is true, then the result's ``meta``.
    Nothing depends on where or when a task ran, so the table of a sweep is the same on
    every executor.
    """
    import pandas as pd

    rows = []
    for i, (t, (meta, _)) in enumerate(zip(tasks, load_results(run_folder, tasks), strict=True)):
        row = {"task": i, "key": t.key}
        if config:
            row.update(_flatten(t.config, "config."))
        row.update(_flatten(meta))
        rows.append(row)
    return pd.DataFrame(rows)
