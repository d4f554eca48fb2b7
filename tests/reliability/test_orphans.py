"""Class 11 (orphans): SIGKILL of the client of a processes run leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CLIENT = textwrap.dedent(
    """
    import sys
    from analysis.store import RunFolder
    from analysis.sweep import make_tasks, run_tasks

    run, pids = sys.argv[1], sys.argv[2]
    tasks = make_tasks(
        "tests.reliability._tasks:sleeper",
        [{"dir": pids, "seconds": 600, "i": i} for i in range(2)],
        0,
    )
    run_tasks(tasks, RunFolder(run, "test-orphans", {}), executor="processes", workers=2,
              progress=False)
    """
)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait(cond, limit: float, every: float = 0.1) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(every)
    return cond()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_workers_die_with_their_killed_client(tmp_path):
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(tmp_path / "run"), str(pids_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    workers: list[int] = []
    try:
        started = _wait(lambda: len(list(pids_dir.glob("*.pid"))) >= 2 or client.poll(), 120)
        assert started and client.poll() is None, client.stderr.read().decode()[-2000:]
        workers = [int(p.stem) for p in pids_dir.glob("*.pid")]
        assert all(_alive(p) for p in workers)
        client.send_signal(signal.SIGKILL)
        client.wait()
        # the parent-death watchdog polls every 0.5 s; allow a loaded machine plenty more
        gone = _wait(lambda: not any(_alive(p) for p in workers), 30)
        assert gone, f"workers {[p for p in workers if _alive(p)]} outlived their client"
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        for p in workers:  # never leave our own processes behind, even when the test fails
            if _alive(p):
                os.kill(p, signal.SIGKILL)
