"""The one thread policy for BLAS (OpenBLAS, MKL, BLIS), OpenMP and PyTorch.

OpenBLAS threads busy-wait for each other. On a machine where another process holds a core,
every multi-threaded product waits for a time slice, and a small product on two threads can
take 100x longer than on one (measured on the project's 2-core machine: a (64 x 1348) @
(1348 x 128) product took 0.55 ms on one thread and 99 ms on two while two other CPU-bound
processes ran). The policy is therefore:

* the thread budget is the number of cores this process may use (CPU affinity and the cgroup
  CPU quota, not ``os.cpu_count()``), or what the user asked for (``--threads N``,
  ``threads=`` of a library call, or the ``LANDSCAPES_THREADS`` environment variable);
* work too small to gain from threads runs single-threaded (:data:`SMALL_WORK_FLOPS`), and
  so does any work while the machine is busy, i.e. while another process is runnable that a
  second thread of ours would compete with (:func:`busy` samples ``/proc/loadavg``): under
  load every barrier of a two-thread product can cost a scheduler slice (16-32 ms measured),
  which single-threaded work never pays. :func:`kernel` applies both rules around one piece of
  work (``benchmarks/busy.md`` has the measurements);
* worker processes of the process and Dask executors run one thread each
  (:func:`worker_initializer`), so N workers on N cores never oversubscribe them; the
  initializer also starts a parent-death watchdog, so workers die with their client.

Nothing happens on import. :func:`limit` is a context manager that sets the BLAS/OpenMP pools
(through ``threadpoolctl``) and PyTorch's intra-op pool (when ``torch`` is already imported)
for the duration of a block and restores them afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "SMALL_WORK_FLOPS",
    "available_cores",
    "busy",
    "check_threads",
    "current_threads",
    "default_threads",
    "for_flops",
    "kernel",
    "limit",
    "others_running",
    "set_threads",
    "start_parent_watchdog",
    "worker_initializer",
]

#: Products (or other BLAS/LAPACK work) below this many floating-point operations run on one
#: thread: below it a second thread never paid off on a quiet 2-core machine, and on a busy
#: one it costs up to 100x (``python -m benchmarks.threads`` measures the crossing).
SMALL_WORK_FLOPS: float = 2.0e7

_ENV = "LANDSCAPES_THREADS"
_controller = None


def _cgroup_quota() -> float | None:
    """CPUs allowed by the cgroup CPU quota (v2 ``cpu.max`` or v1 ``cfs_quota_us``), if any."""
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            return float(text[0]) / float(text[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = float(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = float(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


@functools.cache
def available_cores() -> int:
    """Number of cores this process may use: CPU affinity, capped by the cgroup CPU quota.

    Read once per process (affinity and quota do not change under a running job).
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.floor(quota)))
    return max(1, n)


def check_threads(threads, name: str = "threads") -> int | None:
    """Validated thread count: None (the default policy) or an int in 1..available cores x 4."""
    if threads is None:
        return None
    if isinstance(threads, bool):
        raise ValueError(f"{name} must be a positive integer or None; got {threads!r}")
    if not isinstance(threads, int):
        try:
            ok = float(threads).is_integer()
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{name} must be a positive integer or None; got {threads!r}")
        threads = int(threads)
    hi = 4 * available_cores()
    if not 1 <= threads <= hi:
        raise ValueError(f"{name} must lie in 1..{hi} (4x the cores available); got {threads}")
    return threads


def default_threads() -> int:
    """The thread budget when nobody asked: ``LANDSCAPES_THREADS`` or the available cores."""
    env = os.environ.get(_ENV)
    if env:
        return check_threads(env, _ENV)  # type: ignore[return-value]
    return available_cores()


def _get_controller():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def current_threads() -> int:
    """Threads of the first BLAS pool numpy uses now (1 when none is found)."""
    for lib in _get_controller().lib_controllers:
        if lib.user_api == "blas":
            return int(lib.num_threads)
    return 1


def _torch():
    return sys.modules.get("torch")


@contextlib.contextmanager
def limit(threads: int | None) -> Iterator[int]:
    """Context: the BLAS pools (and PyTorch's, if imported) at ``threads`` threads.

    ``None`` means :func:`default_threads`. Yields the thread count in force; the previous
    limits are restored on exit, also after an exception.
    """
    n = check_threads(threads) or default_threads()
    torch = _torch()
    old_torch = torch.get_num_threads() if torch is not None else None
    ctl = _get_controller().limit(limits=n, user_api="blas")
    try:
        if torch is not None:
            torch.set_num_threads(n)
        yield n
    finally:
        ctl.restore_original_limits()
        if torch is not None and old_torch is not None:
            torch.set_num_threads(old_torch)


def set_threads(threads: int | None) -> int:
    """Set the process-wide thread count (BLAS, OpenMP, PyTorch); returns the count in force.

    What ``--threads N`` does for a whole command. ``None`` applies :func:`default_threads`.
    """
    n = check_threads(threads) or default_threads()
    _get_controller().limit(limits=n)
    torch = _torch()
    if torch is not None:
        torch.set_num_threads(n)
    return n


def others_running() -> int | None:
    """Runnable threads of other processes on the machine, sampled now (None if unknown).

    Read from ``/proc/loadavg`` (its fourth field counts the scheduling entities runnable at
    this instant, the caller included); about 20 microseconds. When it counts more than the
    caller, this process's own runnable threads are subtracted (``/proc/self/task``, about
    25 microseconds more): OpenBLAS and OpenMP workers keep spinning for 0.05-0.5 s after a
    threaded product, and would otherwise make a quiet machine look busy.
    """
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    if running > 1:
        # our own pool threads spin (stay runnable) for 0.05-0.5 s after each threaded
        # product; they are not another process: count only the others' threads
        running -= _own_running() - 1
    return max(0, running - 1)


def _own_running() -> int:
    """Threads of this process runnable now (the caller included), from /proc/self/task."""
    n = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            fd = os.open(f"/proc/self/task/{tid}/stat", os.O_RDONLY)
        except OSError:
            continue
        try:
            stat = os.read(fd, 512)
        finally:
            os.close(fd)
        n += stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"R"
    return max(1, n)


def busy() -> bool:
    """Whether a second thread of ours would now compete with another process for a core."""
    others = others_running()
    return others is not None and others + 1 >= available_cores()


def for_flops(flops: float, threads: int | None = None) -> int:
    """Threads for one piece of work of ``flops`` operations.

    One thread below :data:`SMALL_WORK_FLOPS` or while the machine is :func:`busy`; otherwise
    ``threads`` (validated) or the pool's current size.
    """
    if flops < SMALL_WORK_FLOPS or busy():
        return 1
    return check_threads(threads) or current_threads()


def _blas_libs() -> list:
    return [lib for lib in _get_controller().lib_controllers if lib.user_api == "blas"]


@contextlib.contextmanager
def _blas_single(libs: list) -> Iterator[int]:
    """The BLAS pools at one thread through their own setters (a few microseconds)."""
    old = [lib.num_threads for lib in libs]
    try:
        for lib in libs:
            lib.set_num_threads(1)
        yield 1
    finally:
        for lib, n in zip(libs, old, strict=True):
            lib.set_num_threads(n)


def kernel(flops: float):
    """Context for one numerical kernel of about ``flops`` operations: one thread when needed.

    Kernels (network gradients and HVPs, p-spin contractions) call this once around their
    products. The decision is :func:`for_flops`'s (one thread below
    :data:`SMALL_WORK_FLOPS` or while the machine is :func:`busy`), taken in the cheapest
    order: nothing is checked when the BLAS pools already have one thread, the load is
    sampled only for large work, and the pools are switched through their own setters
    (about 8 microseconds) without touching PyTorch's.
    """
    libs = _blas_libs()
    n = max((lib.num_threads or 1 for lib in libs), default=1)
    if n <= 1 or (flops >= SMALL_WORK_FLOPS and not busy()):
        return contextlib.nullcontext(n)
    return _blas_single(libs)


#: Seconds between two checks of the parent-death watchdog of executor workers.
WATCHDOG_INTERVAL_S: float = 0.5


def _watch_parent(parent: int, interval: float) -> None:
    """Exit this process as soon as ``parent`` is no longer its parent (it died)."""
    import time

    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(70)  # the client is gone: nobody will read a result; no cleanup to run


def start_parent_watchdog(interval: float | None = None) -> None:
    """Make this process exit when its parent dies (a daemon thread polls ``os.getppid()``).

    A process whose parent dies is re-parented (to init or a sub-reaper), so its parent id
    changes; the watchdog then ends the process with ``os._exit``. Polling costs one system
    call per ``interval`` (default :data:`WATCHDOG_INTERVAL_S`) seconds. Started once per
    process; later calls do nothing.
    """
    global _watchdog_started
    if _watchdog_started:
        return
    parent = os.getppid()
    if parent <= 1:  # already orphaned (or a child of init): nothing to watch
        return
    import threading

    every = WATCHDOG_INTERVAL_S if interval is None else float(interval)
    threading.Thread(
        target=_watch_parent, args=(parent, every), name="parent-watchdog", daemon=True
    ).start()
    _watchdog_started = True


_watchdog_started = False


def worker_initializer() -> None:
    """Initializer of executor worker processes: one BLAS/OpenMP/PyTorch thread each, and a
    parent-death watchdog (:func:`start_parent_watchdog`), so a worker never outlives the
    client that started it (e.g. when the client is killed by SIGKILL)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    set_threads(1)
    start_parent_watchdog()
