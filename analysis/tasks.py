"""Sweeps of independent tasks, run in-process, on local processes or on a Dask cluster.

One task model serves every sweep. A :class:`Task` is

* ``func``: an importable ``"module:function"`` name (workers import it; nothing is pickled
  but this name and a small JSON configuration),
* ``config``: a JSON-able dict (model *parameters*, never coupling tensors),
* ``seed``: the record (:func:`landscapes.random.seed_info`) of a SeedSequence spawned from
  the run's root SeedSequence,

and its key is :func:`analysis.store.task_key` of those three. The function is called as
``func(config, seed)`` with ``seed`` the rebuilt SeedSequence and returns a pair
``(meta, arrays)``: a dict of JSON scalars and a dict of numpy arrays.

:func:`run_tasks` skips tasks whose results are already in the run folder, runs the others
with the chosen executor, and writes each result under its key *in the client process* as
soon as it completes (``RunFolder.save_task``: arrays first, then the JSON record that marks
completion, both atomic). Workers never touch the run folder, so they need no shared file
system, a worker killed mid-task (even by SIGKILL) loses only the task it was running (Dask
reschedules it; a lost local process is replaced), and a rerun on the same folder runs only
the tasks whose results are missing. Failed tasks are retried ``retries`` times and then
reported by key with their error; they are never dropped silently.

Large models are never shipped: a task's configuration holds a *model spec*
(:func:`model_spec`: parameters, coupling seed record and fingerprint) and the worker builds
the model with :func:`build_model`, which checks the fingerprint (mismatch -> ValueError).

Results are bit-identical whichever executor runs them, as long as every machine runs the
same versions of numpy and of this package: a task depends only on its configuration and its
seed, never on the order, the place or the number of workers.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.store import RunFolder, task_key, to_jsonable
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_seed_sequence, seed_from_info, seed_info

__all__ = [
    "EXECUTORS",
    "ExecutorSpec",
    "SweepError",
    "SweepResult",
    "Task",
    "TaskFailure",
    "add_executor_arguments",
    "build_model",
    "execute_task",
    "executor_from_args",
    "file_model_spec",
    "load_results",
    "make_tasks",
    "model_spec",
    "pspin_census_task",
    "pspin_critical_census_task",
    "pspin_descent_task",
    "echo_task",
    "results_table",
    "run_tasks",
]

EXECUTORS = ("inprocess", "processes", "dask")


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
def _resolve(func: str) -> Callable:
    """Import the function named ``"module:function"``."""
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

    def seed_sequence(self) -> np.random.SeedSequence:
        """The task's SeedSequence, rebuilt from its record."""
        return seed_from_info(self.seed)

    def run(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Run the task here and return its ``(meta, arrays)``."""
        out = execute_task(self.record())
        return out["meta"], out["arrays"]


def make_tasks(func: str, configs: Iterable[dict], seed: SeedLike) -> list[Task]:
    """One task per configuration, task ``i`` seeded by child ``i`` of the root seed.

    Parameters
    ----------
    func : str
        ``"module:function"`` of the task function.
    configs : iterable of dict
        Configurations, in order.
    seed : int, SeedSequence, Generator or None
        Root seed of the run. Child ``i`` is ``SeedSequence(entropy, spawn_key=root_key +
        (i,))`` -- what ``root.spawn`` returns for a fresh root -- computed without spawning,
        so the argument is not advanced and the same root always gives the same tasks.
        ``None`` draws fresh entropy (recorded in each task's seed).

    Returns
    -------
    list of Task
    """
    _check_func_name(func)
    root = as_seed_sequence(seed)
    base = tuple(root.spawn_key)
    out = []
    for i, cfg in enumerate(configs):
        child = np.random.SeedSequence(root.entropy, spawn_key=base + (i,))
        out.append(Task(func, cfg, seed_info(child)))
    return out


def execute_task(record: dict) -> dict:
    """Run one task from its JSON record; what every executor calls (on the worker).

    Returns ``{"meta", "arrays", "elapsed_s", "cpu_s", "host", "pid"}`` (``cpu_s``: CPU time
    of the worker process during the task, BLAS threads included); ``meta`` is validated to be
    a dict of JSON values and ``arrays`` a dict of non-object numpy arrays.
    """
    func = _resolve(_check_func_name(record["func"]))
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
        lines.append("rerun with --resume to retry only the missing tasks")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- executors
@dataclass(frozen=True)
class ExecutorSpec:
    """Where a sweep runs: executor name, scheduler address, retries, worker count.

    ``run(tasks, folder)`` is :func:`run_tasks` with these settings.
    """

    executor: str = "inprocess"
    scheduler: str | None = None
    retries: int = 2
    workers: int | None = None

    def __post_init__(self):
        _check_executor(self.executor, self.scheduler, self.retries, self.workers)

    def kwargs(self) -> dict:
        """Keyword arguments for :func:`run_tasks`."""
        return {
            "executor": self.executor,
            "scheduler": self.scheduler,
            "retries": self.retries,
            "workers": self.workers,
        }

    def record(self) -> dict:
        """JSON record (for reports; not part of a run's configuration, which must not
        depend on where it runs)."""
        return self.kwargs()

    def run(self, tasks: Sequence[Task], run_folder: RunFolder, **kw) -> SweepResult:
        """Run ``tasks`` into ``run_folder`` with these settings (see :func:`run_tasks`)."""
        return run_tasks(tasks, run_folder, **{**self.kwargs(), **kw})


def _parse_local(scheduler: str) -> int:
    try:
        n = int(scheduler.split(":", 1)[1])
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"--scheduler local:N needs a positive worker count N; got {scheduler!r}")
    return n


def _check_executor(executor, scheduler, retries, workers) -> None:
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if isinstance(retries, bool) or not isinstance(retries, int | np.integer) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0; got {retries!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if scheduler is not None:
        if executor != "dask":
            raise ValueError(
                f"--scheduler is only used by --executor dask (got executor {executor!r})"
            )
        if not isinstance(scheduler, str):
            if not _is_dask_client(scheduler):
                raise ValueError(
                    "scheduler must be 'tcp://HOST:PORT', 'local:N' or a distributed.Client"
                )
        elif scheduler.startswith("local:"):
            _parse_local(scheduler)
        elif "://" not in scheduler:
            raise ValueError(
                f"scheduler must be 'tcp://HOST:PORT' (an existing Dask scheduler) or 'local:N' "
                f"(start a local cluster of N workers); got {scheduler!r}"
            )


def _is_dask_client(obj) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return isinstance(obj, Client)


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--executor``, ``--scheduler``, ``--retries`` and ``--workers`` to a command."""
    g = parser.add_argument_group(
        "execution", "where the sweep's tasks run (results are identical on every executor)"
    )
    g.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="inprocess (default), processes (a local process pool) or dask "
        "(implied by --scheduler; needs the extra landscapes[distributed])",
    )
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="Dask scheduler: tcp://HOST:PORT of a running cluster, or local:N to start a "
        "local cluster of N worker processes for this run",
    )
    g.add_argument(
        "--retries",
        type=int,
        default=2,
        help="extra attempts for a failed task before it is reported (default 2)",
    )
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help="number of processes for --executor processes (default: CPU count)",
    )


def executor_from_args(args: argparse.Namespace) -> ExecutorSpec:
    """The :class:`ExecutorSpec` of parsed ``add_executor_arguments`` options."""
    executor = getattr(args, "executor", None)
    scheduler = getattr(args, "scheduler", None)
    if executor is None:
        executor = "dask" if scheduler else "inprocess"
    return ExecutorSpec(
        executor=executor,
        scheduler=scheduler,
        retries=getattr(args, "retries", 2),
        workers=getattr(args, "workers", None),
    )


class _Attempts:
    """Bookkeeping shared by the executors: attempts, failures, writes, progress."""

    def __init__(
        self, folder: RunFolder, retries: int, bar: Progress, executor: str, on_stored=None
    ):
        self.folder = folder
        self.on_stored = on_stored
        self.retries = retries
        self.bar = bar
        self.executor = executor
        self.attempts: dict[str, int] = {}
        self.completed: list[str] = []
        self.failed: list[TaskFailure] = []
        self.retried = 0
        self.task_s = 0.0
        self.task_cpu_s = 0.0

    def store(self, task: Task, out: dict) -> None:
        meta = {
            "task": task.record(),
            "result": out["meta"],
            "run": {
                "elapsed_s": out["elapsed_s"],
                "cpu_s": out["cpu_s"],
                "host": out["host"],
                "pid": out["pid"],
                "executor": self.executor,
                "attempts": self.attempts.get(task.key, 0) + 1,
            },
        }
        self.folder.save_task(task.key, meta, **out["arrays"])
        if self.on_stored is not None:
            self.on_stored(task, meta, out["arrays"])
        self.completed.append(task.key)
        self.task_s += float(out["elapsed_s"])
        self.task_cpu_s += float(out["cpu_s"])
        self.bar.update(1, failed=len(self.failed))

    def error(self, task: Task, exc: BaseException, tb: str | None = None) -> bool:
        """Record a failed attempt; True when the task should be resubmitted."""
        n = self.attempts.get(task.key, 0) + 1
        self.attempts[task.key] = n
        if n <= self.retries:
            self.retried += 1
            return True
        if tb is None:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.failed.append(TaskFailure(task.key, task.func, f"{type(exc).__name__}: {exc}", tb, n))
        self.bar.update(1, failed=len(self.failed))
        return False


def _run_inprocess(todo: list[Task], book: _Attempts) -> None:
    for task in todo:
        while True:
            try:
                out = execute_task(task.record())
            except Exception as exc:  # noqa: BLE001 - reported by key, never dropped
                if book.error(task, exc):
                    continue
                break
            book.store(task, out)
            break


def _single_threaded_blas() -> None:
    """Pool initializer: one BLAS/OpenMP thread per worker process (as Dask workers do), so
    that N processes on N cores do not oversubscribe them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(limits=1)


_BLAS_LIMIT = None


def _run_processes(todo: list[Task], book: _Attempts, workers: int | None) -> None:
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    n = workers or os.cpu_count() or 1
    ctx = mp.get_context("spawn")  # no fork of a process that may hold threads

    def new_pool():
        return cf.ProcessPoolExecutor(
            max_workers=n, mp_context=ctx, initializer=_single_threaded_blas
        )

    pool = new_pool()
    try:
        pending = {pool.submit(execute_task, t.record()): t for t in todo}
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            resubmit = []
            broken = False
            for fut in done:
                task = pending.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    if book.error(task, exc):
                        resubmit.append(task)
                except Exception as exc:  # noqa: BLE001
                    if book.error(task, exc):
                        resubmit.append(task)
                else:
                    book.store(task, out)
            if broken:
                # a worker process died (killed, out of memory): every task still in the
                # pool is lost with it; start a fresh pool and resubmit them.
                for fut, task in list(pending.items()):
                    pending.pop(fut)
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        book.store(task, fut.result())
                    else:
                        resubmit.append(task)
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
            for task in resubmit:
                pending[pool.submit(execute_task, task.record())] = task
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_CONNECT_TIMEOUT = "20s"  # how long to wait for a remote Dask scheduler


@contextlib.contextmanager
def _dask_client(scheduler, workers: int | None):
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "the dask executor needs dask and distributed: pip install 'landscapes[distributed]'"
        ) from None
    if _is_dask_client(scheduler):
        yield scheduler
        return
    if scheduler is None or scheduler.startswith("local:"):
        n = _parse_local(scheduler) if scheduler else (workers or os.cpu_count() or 1)
        with (
            distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                host="127.0.0.1",
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=_CONNECT_TIMEOUT)
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        yield client
    finally:
        client.close()


def _run_dask(todo: list[Task], book: _Attempts, scheduler, workers: int | None) -> None:
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]  # two runs of one sweep on one cluster never share a key
    with _dask_client(scheduler, workers) as client:
        by_key: dict[str, Task] = {}

        def submit(task: Task):
            attempt = book.attempts.get(task.key, 0)
            fkey = f"landscapes-task-{task.key}-{token}-{attempt}"
            by_key[fkey] = task
            return client.submit(execute_task, task.record(), key=fkey, pure=False)

        ac = as_completed([submit(t) for t in todo])
        for fut in ac:
            task = by_key.pop(fut.key)
            if fut.status == "finished":
                out = fut.result()
                fut.release()
                book.store(task, out)
                continue
            try:
                exc = fut.exception()
                tb = "".join(traceback.format_tb(fut.traceback())) if fut.traceback() else ""
            except Exception as err:  # noqa: BLE001 - e.g. a cancelled future
                exc, tb = err, ""
            fut.release()
            if book.error(task, exc, f"{tb}{type(exc).__name__}: {exc}"):
                ac.add(submit(task))


def run_tasks(
    tasks: Sequence[Task],
    run_folder: RunFolder,
    *,
    executor: str | ExecutorSpec = "inprocess",
    scheduler=None,
    retries: int = 2,
    workers: int | None = None,
    progress: bool = True,
    on_failure: str = "raise",
    desc: str = "tasks",
    on_stored=None,
) -> SweepResult:
    """Run the tasks that are not yet stored in ``run_folder`` and store their results.

    Parameters
    ----------
    tasks : sequence of Task
        The whole sweep (stored tasks are skipped; keys must be distinct).
    run_folder : RunFolder
        Where results go: ``tasks/<key>.json`` (task record, result ``meta``, run info) and
        ``tasks/<key>.npz`` (arrays), written atomically by this process as tasks complete.
    executor : {"inprocess", "processes", "dask"} or ExecutorSpec
        ``inprocess`` runs tasks one after the other here; ``processes`` on a local pool of
        ``workers`` spawned processes; ``dask`` on a Dask cluster (``scheduler``). An
        :class:`ExecutorSpec` supplies executor, scheduler, retries and workers at once.
    scheduler : str or distributed.Client or None
        For ``dask``: ``"tcp://HOST:PORT"`` of a running scheduler, ``"local:N"`` to start a
        ``distributed.LocalCluster`` of N single-threaded worker processes for this call
        (default: ``workers`` or the CPU count), or a connected ``distributed.Client``.
    retries : int
        Extra attempts for a task that raises (or whose worker died) before it is reported.
    workers : int or None
        Process count for ``processes`` (and for a default local Dask cluster).
    progress : bool
        Show a progress bar over tasks (on a terminal only).
    on_failure : {"raise", "report"}
        After every task has finished or failed: raise :class:`SweepError` (default) or
        return the result with ``failed`` filled in. Failures are also written to
        ``failures.json`` in the run folder in both cases.
    desc : str
        Label of the progress bar.
    on_stored : callable or None
        ``on_stored(task, meta, arrays)``, called in this (the client) process right after a
        task's result is stored, e.g. to commit it to a catalogue that only the client writes.
        ``meta`` is the stored record (``meta["result"]`` is what the task returned).

    Returns
    -------
    SweepResult
    """
    if on_stored is not None and not callable(on_stored):
        raise ValueError("on_stored must be a callable (task, meta, arrays) or None")
    if isinstance(executor, ExecutorSpec):
        executor, scheduler, retries, workers = (
            executor.executor,
            executor.scheduler,
            executor.retries,
            executor.workers,
        )
    _check_executor(executor, scheduler, retries, workers)
    if on_failure not in ("raise", "report"):
        raise ValueError(f"on_failure must be 'raise' or 'report'; got {on_failure!r}")
    if not isinstance(run_folder, RunFolder):
        raise ValueError(f"run_folder must be a RunFolder; got {type(run_folder).__name__}")
    tasks = list(tasks)
    seen: dict[str, int] = {}
    for i, t in enumerate(tasks):
        if not isinstance(t, Task):
            raise ValueError(f"tasks[{i}] is a {type(t).__name__}, not a Task")
        if t.key in seen:
            raise ValueError(
                f"tasks[{seen[t.key]}] and tasks[{i}] are the same task (key {t.key}): "
                "same function, configuration and seed"
            )
        seen[t.key] = i
    for func in sorted({t.func for t in tasks}):
        _resolve(func)  # fail early, here, on a misspelt function name
    t0 = time.perf_counter()
    skipped = [t.key for t in tasks if run_folder.has_task(t.key)]
    done = set(skipped)
    todo = [t for t in tasks if t.key not in done]
    bar = Progress(len(todo), desc=desc, enabled=None if progress else False)
    book = _Attempts(run_folder, int(retries), bar, executor, on_stored)
    try:
        if todo:
            if executor == "inprocess":
                _run_inprocess(todo, book)
            elif executor == "processes":
                _run_processes(todo, book, workers)
            else:
                _run_dask(todo, book, scheduler, workers)
    finally:
        bar.close()
        if book.failed or run_folder.exists("failures.json"):
            run_folder.write_json(
                "failures.json",
                [
                    {
                        "key": f.key,
                        "func": f.func,
                        "error": f.error,
                        "attempts": f.attempts,
                        "traceback": f.traceback,
                    }
                    for f in book.failed
                ],
            )
    result = SweepResult(
        completed=tuple(book.completed),
        skipped=tuple(skipped),
        failed=tuple(book.failed),
        retried=book.retried,
        executor=executor,
        wall_s=time.perf_counter() - t0,
        task_s=book.task_s,
        task_cpu_s=book.task_cpu_s,
    )
    if on_failure == "raise":
        result.raise_if_failed()
    return result


# --------------------------------------------------------------------------- reading back
def load_results(
    run_folder: RunFolder, tasks: Sequence[Task]
) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """The stored ``(meta, arrays)`` of each task, in task order (ValueError if missing)."""
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


# --------------------------------------------------------------------------- models
def model_spec(model) -> dict:
    """Spec of a seeded p-spin model (parameters, coupling seed record, fingerprint).

    Workers rebuild the model from the spec with :func:`build_model`; only these few numbers
    travel. A model whose couplings were loaded or given has no seed: save it
    (``model.save(path)``) on a shared file system and use :func:`file_model_spec`.
    """
    params = model.params()
    if params.get("model") not in ("pspin", "mixed_pspin"):
        raise ValueError(
            f"no model spec for {type(model).__name__}; only p-spin models are built on workers"
        )
    seed = getattr(model, "seed_record", None)
    if seed is None:
        raise ValueError(
            "the model has no coupling seed (couplings were loaded or given); save it with "
            "model.save(path) on a shared file system and use file_model_spec(path)"
        )
    return _json_roundtrip({**params, "seed": seed, "fingerprint": model.fingerprint}, "model spec")


def file_model_spec(path: str | os.PathLike) -> dict:
    """Spec of a model saved with ``.save(path)``, loaded by each worker from that path."""
    from landscapes.io import load_npz

    p = Path(path).resolve()
    meta, _ = load_npz(p)
    return {"model": "file", "path": str(p), "fingerprint": meta.get("fingerprint")}


@functools.lru_cache(maxsize=1)
def _build_cached(spec_json: str):
    from pspin.model import MixedPSpin, SphericalPSpin

    spec = json.loads(spec_json)
    kind = spec.get("model")
    if kind == "pspin":
        return SphericalPSpin(
            spec["N"],
            spec["p"],
            seed=seed_from_info(spec["seed"]),
            couplings=spec.get("couplings", "gaussian"),
            dtype=spec.get("dtype", "float64"),
        )
    if kind == "mixed_pspin":
        xi = {int(k): float(v) for k, v in spec["xi"].items()}
        return MixedPSpin(
            spec["N"],
            xi,
            seed=seed_from_info(spec["seed"]),
            couplings=spec.get("couplings", "gaussian"),
            dtype=spec.get("dtype", "float64"),
        )
    if kind == "file":
        from landscapes.io import load_npz

        meta, _ = load_npz(spec["path"])
        cls = {"SphericalPSpin": SphericalPSpin, "MixedPSpin": MixedPSpin}.get(meta.get("class"))
        if cls is None:
            raise ValueError(f"{spec['path']} holds no p-spin model (class {meta.get('class')!r})")
        return cls.load(spec["path"])
    raise ValueError(f"unknown model kind {kind!r} in model spec (pspin, mixed_pspin or file)")


def build_model(spec: dict):
    """Build (or reuse, one per process) the model of a spec and check its fingerprint.

    Parameters
    ----------
    spec : dict
        From :func:`model_spec` / :func:`file_model_spec`, or written by hand:
        ``{"model": "pspin", "N": 50, "p": 3, "seed": seed_info(...)}`` (``fingerprint``
        optional; when present it must match).
    """
    if not isinstance(spec, dict) or "model" not in spec:
        raise ValueError(f"model spec must be a dict with a 'model' entry; got {spec!r}")
    fp = spec.get("fingerprint")
    body = {k: v for k, v in spec.items() if k != "fingerprint"}
    if body["model"] in ("pspin", "mixed_pspin") and "seed" not in body:
        raise ValueError("a p-spin model spec needs the coupling seed record 'seed'")
    model = _build_cached(json.dumps(to_jsonable(body), sort_keys=True))
    if fp is not None and model.fingerprint != fp:
        raise ValueError(
            f"model fingerprint mismatch: the spec says {str(fp)[:16]}..., the model built on "
            f"this worker is {model.fingerprint[:16]}... (different versions of numpy or "
            "landscapes on the workers, or a wrong seed record)"
        )
    return model


# --------------------------------------------------------------------------- task functions
def _check_cfg(config: dict, name: str, kind: type, minimum=None, default=None):
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
    return v


def _riemannian_descent(model, X: np.ndarray, lr: float, steps: int, gtol: float):
    """Batched Riemannian gradient descent with retraction; converged replicas are frozen.

    Convergence: |rgrad| / sqrt(scale) < gtol (root-mean-square gradient per coordinate for
    the p-spin). Returns X, energies, gradient norms (same normalization), steps taken.
    """
    man = model.manifold
    K = X.shape[0]
    X = X.copy()
    n_steps = np.zeros(K, dtype=np.int64)
    active = np.arange(K)
    norm = np.sqrt(model.scale)
    for _ in range(steps):
        _, g = model.energy_and_gradient(X[active])
        rg = man.rgrad(X[active], g)
        gn = np.linalg.norm(rg, axis=1) / norm
        moving = gn >= gtol
        active = active[moving]
        if active.size == 0:
            break
        X[active] = man.retract(X[active], -lr * rg[moving])
        n_steps[active] += 1
    e, g = model.energy_and_gradient(X)
    gn = np.linalg.norm(man.rgrad(X, g), axis=1) / norm
    return X, e, gn, n_steps


def _start_points(model, seed: np.random.SeedSequence, K: int) -> np.ndarray:
    """One uniform random start per replica, replica k from the k-th spawned stream."""
    base = tuple(seed.spawn_key)
    return np.stack(
        [
            model.random_point(np.random.SeedSequence(seed.entropy, spawn_key=base + (k,)))
            for k in range(K)
        ]
    )


def pspin_descent_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Batched Riemannian gradient descents on one p-spin model (a sweep task).

    Config: ``model`` (a :func:`model_spec`; built on the worker, fingerprint checked),
    ``replicas`` K, ``steps`` (max), ``lr`` (step size, default 0.05), ``gtol`` (default
    1e-6). Replica k starts uniformly on the sphere from child k of the task's seed.

    Returns meta ``{n_replicas, n_converged, e_min, e_mean, e_max, grad_max, steps_mean}``
    (energies per spin, H/N) and arrays ``energy`` (K,), ``grad_norm`` (K,), ``steps`` (K,),
    ``x`` (K, N) endpoints.
    """
    model = build_model(config["model"])
    K = _check_cfg(config, "replicas", int, 1)
    steps = _check_cfg(config, "steps", int, 0)
    lr = _check_cfg(config, "lr", float, 0.0, default=0.05)
    gtol = _check_cfg(config, "gtol", float, 0.0, default=1e-6)
    X0 = _start_points(model, seed, K)
    X, e, gn, n = _riemannian_descent(model, X0, lr, steps, gtol)
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
    lr = _check_cfg(config, "lr", float, 0.0, default=0.05)
    gtol = _check_cfg(config, "gtol", float, 0.0, default=1e-6)
    qmax = _check_cfg(config, "overlap", float, 0.0, default=0.999)
    base = tuple(seed.spawn_key)
    s_model = np.random.SeedSequence(seed.entropy, spawn_key=base + (0,))
    s_starts = np.random.SeedSequence(seed.entropy, spawn_key=base + (1,))
    model = SphericalPSpin(N, p, seed=s_model, couplings=config.get("couplings", "gaussian"))
    X0 = _start_points(model, s_starts, starts)
    X, e, gn, _ = _riemannian_descent(model, X0, lr, steps, gtol)
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
    base = tuple(seed.spawn_key)
    model = SphericalPSpin(
        N,
        p,
        seed=np.random.SeedSequence(seed.entropy, spawn_key=base + (0,)),
        couplings=config.get("couplings", "gaussian"),
    )
    c = census(
        model,
        seed=np.random.SeedSequence(seed.entropy, spawn_key=base + (1,)),
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


def echo_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """A tiny task that checks an executor or a cluster: ``n`` normal draws from its seed.

    On request it sleeps (``sleep``: seconds), raises (``fail``: message), or fails once
    (``flaky``: path of a marker file on a shared file system; the first attempt creates it
    and raises, later attempts succeed) -- to check retries and failure reports.
    """
    if config.get("fail"):
        raise RuntimeError(str(config["fail"]))
    if config.get("flaky"):
        marker = Path(config["flaky"])
        if not marker.exists():
            marker.write_text("failed once\n")
            raise RuntimeError(f"flaky task: first attempt (marker {marker})")
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    n = int(config.get("n", 4))
    draws = np.random.Generator(np.random.PCG64(seed)).standard_normal(n)
    return {"sum": float(draws.sum()), "n": n, "numpy": np.__version__}, {"draws": draws}
