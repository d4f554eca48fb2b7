"""The thread policy: core detection, validation, limits restored, small work on one thread."""

import numpy as np
import pytest

from landscapes import threads


def test_available_cores_within_affinity():
    import os

    n = threads.available_cores()
    assert 1 <= n <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("bad", [0, -1, 2.5, "two", True, 10**6])
def test_check_threads_rejects(bad):
    with pytest.raises(ValueError, match="threads"):
        threads.check_threads(bad)


def test_check_threads_accepts():
    assert threads.check_threads(None) is None
    assert threads.check_threads(1) == 1
    assert threads.check_threads(np.int64(1)) == 1


def test_env_default(monkeypatch):
    monkeypatch.setenv("LANDSCAPES_THREADS", "1")
    assert threads.default_threads() == 1
    monkeypatch.setenv("LANDSCAPES_THREADS", "zero")
    with pytest.raises(ValueError, match="LANDSCAPES_THREADS"):
        threads.default_threads()


def test_limit_sets_and_restores():
    before = threads.current_threads()
    with threads.limit(1) as n:
        assert n == 1
        assert threads.current_threads() == 1
    assert threads.current_threads() == before
    with pytest.raises(RuntimeError), threads.limit(1):
        raise RuntimeError("boom")
    assert threads.current_threads() == before


def test_limit_sets_torch_when_loaded():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with threads.limit(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_auto_small_work_single_thread(monkeypatch):
    monkeypatch.setattr(threads, "busy", lambda: False)
    with threads.limit(2):
        with threads.kernel(1e3):
            assert threads.current_threads() == 1
        assert threads.current_threads() == 2
        with threads.kernel(1e12):
            assert threads.current_threads() == 2
        assert threads.for_flops(1e3) == 1
        assert threads.for_flops(1e12) == 2
        assert threads.for_flops(1e12, threads=1) == 1


def test_auto_busy_machine_single_thread(monkeypatch):
    monkeypatch.setattr(threads, "others_running", lambda: threads.available_cores())
    assert threads.busy()
    with threads.limit(2):
        assert threads.for_flops(1e12) == 1
        with threads.kernel(1e12):
            assert threads.current_threads() == 1
    monkeypatch.setattr(threads, "others_running", lambda: 0)
    assert not threads.busy() or threads.available_cores() == 1


def test_others_running_reads_proc():
    n = threads.others_running()
    assert n is None or n >= 0
