"""Class 4 (Dask scheduler faults), on loopback listeners only: a peer that accepts and never
answers, and one that answers with HTTP, each give a one-line SchedulerError in bounded time."""

from __future__ import annotations

import socket
import threading

import pytest

pytest.importorskip("distributed")

import analysis.sweep.executors as ex  # noqa: E402
from analysis.store import RunFolder  # noqa: E402
from analysis.sweep import make_tasks, run_tasks  # noqa: E402

HTTP = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Listener:
    """A TCP listener on 127.0.0.1 that accepts and then stays silent or answers ``reply``."""

    def __init__(self, reply: bytes | None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reply = reply
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def _run_bounded(fn, limit: float):
    """Run ``fn`` in a thread; the exception it raised, or a failure if it is still running
    after ``limit`` seconds (a hang: the fault this suite is about, not a timing claim)."""
    out: dict = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still waiting after {limit} s (deadline 1 s)"
    return out.get("exc")


@pytest.mark.parametrize(
    ("reply", "match"),
    [(None, "did not answer within 1 s"), (HTTP, "is not a Dask scheduler")],
    ids=["silent", "http"],
)
def test_misbehaving_scheduler_is_one_line_error(tmp_path, monkeypatch, reply, match):
    monkeypatch.setattr(ex, "CONNECT_TIMEOUT_S", 1.0)
    peer = Listener(reply)
    try:
        folder = RunFolder(tmp_path / "run", "test-scheduler", {})
        tasks = make_tasks("analysis.sweep.testing:echo_task", [{}], 0)
        exc = _run_bounded(
            lambda: run_tasks(
                tasks, folder, executor="dask", scheduler=peer.address, progress=False
            ),
            60,
        )
    finally:
        peer.close()
    assert isinstance(exc, ex.SchedulerError), repr(exc)
    msg = str(exc)
    assert match in msg and peer.address in msg and "\n" not in msg
    assert not list((tmp_path / "run").glob("tasks/*.json"))  # nothing ran, nothing stored


def test_probe_refuses_nothing_listening():
    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ex.SchedulerError, match="cannot reach the Dask scheduler"):
        ex.probe_scheduler(f"tcp://127.0.0.1:{port}", 1.0)
    with pytest.raises(ValueError, match="timeout"):
        ex.probe_scheduler(f"tcp://127.0.0.1:{port}", float("nan"))
