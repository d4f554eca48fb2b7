"""Executors of sweeps: in-process, local processes or a Dask cluster, and :func:`run_tasks`.

:func:`run_tasks` skips tasks whose results are already in the run folder, runs the others
with the chosen executor, and writes each result under its key *in the client process* as
soon as it completes (``RunFolder.save_task``: arrays first, then the JSON record that marks
completion, both atomic). Workers never touch the run folder, so they need no shared file
system, a worker killed mid-task (even by SIGKILL) loses only the task it was running (Dask
reschedules it; a lost local process is replaced), and a rerun on the same folder runs only
the tasks whose results are missing. Failed tasks are retried ``retries`` times and then
reported by key with their error; they are never dropped silently. A deterministic error
(a ``ValueError`` or ``TypeError``: bad input, which a second attempt would raise again) is
reported at once, never retried.

A remote Dask scheduler is probed before the client connects: the TCP connection *and* the
scheduler's handshake must arrive within :data:`CONNECT_TIMEOUT_S` seconds, and the
handshake must look like Dask's (a peer that answers with anything else, e.g. HTTP, is
refused before its bytes are read as a frame length). Any failure to reach or talk to the
scheduler raises :class:`SchedulerError`, one line naming the address.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import struct
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.store import RunFolder
from analysis.sweep.tasks import (
    SweepError,
    SweepResult,
    Task,
    TaskFailure,
    execute_task,
    resolve_task_function,
    task_labels,
)
from landscapes.errors import SchedulerError
from landscapes.progress import Progress

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DETERMINISTIC_ERRORS",
    "EXECUTORS",
    "ExecutorSpec",
    "SchedulerError",
    "SweepError",
    "add_executor_arguments",
    "executor_from_args",
    "probe_scheduler",
    "run_tasks",
]

EXECUTORS = ("inprocess", "processes", "dask")

#: Errors that a task raises again on every attempt (validation of its input): never retried.
DETERMINISTIC_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)

#: Deadline (seconds) for reaching a remote Dask scheduler: TCP connection and handshake.
CONNECT_TIMEOUT_S = 20.0

# A Dask handshake is a few hundred bytes; a first frame larger than this is not Dask.
_MAX_HANDSHAKE_BYTES = 1 << 20


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
        self,
        folder: RunFolder,
        retries: int,
        bar: Progress,
        executor: str,
        on_stored=None,
        labels: dict[str, str] | None = None,
    ):
        self.folder = folder
        self.labels = labels or {}
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
        self._advance(task)

    def _advance(self, task: Task) -> None:
        """Advance the bar by one finished task, naming it (and the failures so far)."""
        label = self.labels.get(task.key) or task.label
        if self.failed:
            self.bar.update(1, done=label, failed=len(self.failed))
        else:
            self.bar.update(1, done=label)

    def error(self, task: Task, exc: BaseException, tb: str | None = None) -> bool:
        """Record a failed attempt; True when the task should be resubmitted."""
        n = self.attempts.get(task.key, 0) + 1
        self.attempts[task.key] = n
        if n <= self.retries and not isinstance(exc, DETERMINISTIC_ERRORS):
            self.retried += 1
            return True
        if tb is None:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.failed.append(
            TaskFailure(
                task.key,
                task.func,
                f"{type(exc).__name__}: {exc}",
                tb,
                n,
                deterministic=isinstance(exc, DETERMINISTIC_ERRORS),
            )
        )
        self._advance(task)
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


def _run_processes(todo: list[Task], book: _Attempts, workers: int | None) -> None:
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    from landscapes.threads import worker_initializer

    n = workers or os.cpu_count() or 1
    ctx = mp.get_context("spawn")  # no fork of a process that may hold threads

    def new_pool():
        return cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=worker_initializer)

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


def _host_port(address: str) -> tuple[str, int]:
    """Host and port of ``tcp://HOST:PORT`` (IPv6 hosts in brackets)."""
    rest = address.split("://", 1)[1].split("/", 1)[0]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SchedulerError(f"scheduler address {address!r} has no valid port (tcp://HOST:PORT)")
    return host.strip("[]") or "127.0.0.1", int(port)


def _recv_exactly(sock: socket.socket, n: int, deadline: float) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        buf += chunk
    return bytes(buf)


def probe_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Check that a Dask scheduler answers at ``tcp://HOST:PORT`` within ``timeout`` seconds.

    Connects and reads the scheduler's handshake (a Dask listener sends it first: an 8-byte
    little-endian length, then that many bytes) under one deadline for the whole exchange,
    then closes the connection. Addresses of other protocols (``tls://``, ...) are only
    checked when the client connects.

    Raises
    ------
    SchedulerError
        Nothing listens there, the connection or the handshake does not arrive in time, or the
        peer's first bytes are not a Dask handshake (e.g. an HTTP server); one line naming the
        address.
    ValueError
        ``timeout`` is not a finite positive number.
    """
    timeout = float(timeout)
    if not timeout > 0 or timeout == float("inf"):
        raise ValueError(f"timeout must be a finite number of seconds > 0; got {timeout!r}")
    if not isinstance(address, str) or not address.startswith("tcp://"):
        return
    host, port = _host_port(address)
    deadline = time.monotonic() + timeout
    what = "connecting"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            what = "waiting for its handshake"
            head = _recv_exactly(sock, 8, deadline)
            (nbytes,) = struct.unpack("<Q", head)
            if nbytes > _MAX_HANDSHAKE_BYTES:
                raise SchedulerError(
                    f"{address} is not a Dask scheduler: it answered {head!r}..., not a Dask "
                    "handshake"
                )
            _recv_exactly(sock, nbytes, deadline)
    except SchedulerError:
        raise
    except TimeoutError:
        raise SchedulerError(
            f"the Dask scheduler at {address} did not answer within {timeout:g} s ({what})"
        ) from None
    except OSError as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address} ({what}): {exc}"
        ) from None


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
    probe_scheduler(scheduler, CONNECT_TIMEOUT_S)
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:  # asyncio/distributed timeouts are OSErrors too
        raise SchedulerError(
            f"cannot connect to the Dask scheduler at {scheduler}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
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
        resolve_task_function(func)  # fail early, here, on a misspelt function name
    t0 = time.perf_counter()
    skipped = [t.key for t in tasks if run_folder.has_task(t.key)]
    done = set(skipped)
    todo = [t for t in tasks if t.key not in done]
    bar = Progress(len(todo), desc=desc, enabled=None if progress else False)
    book = _Attempts(run_folder, int(retries), bar, executor, on_stored, task_labels(todo))
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
                        "deterministic": f.deterministic,
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
