"""The fast kernels' building blocks: in-place activations, scratch arrays, thread policy.

The network kernels compute into per-thread scratch arrays (no page faults per call) with the
same operations, in the same order, as the plain formulas; these tests pin the pieces that
makes that true: exact equality with the allocating activations, no scratch array ever
handed to a caller, per-thread arrays, and the thread-policy context of the kernels.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from landscapes import datasets, threads
from landscapes.meanfield.net import MeanFieldNet
from landscapes.nn import MLPLoss, ParabolicResNet, SecondOrderResNet
from landscapes.nn.layers import ACTIVATION_FUNCS, Scratch, activate, xmm


@pytest.mark.parametrize("name", list(ACTIVATION_FUNCS))
@pytest.mark.parametrize("order", [0, 1, 2])
def test_activate_in_place_equals_plain_bit_for_bit(name, order):
    z = np.random.default_rng(0).standard_normal((3, 7, 5)) * 3
    z[0, 0, :2] = 0.0  # relu's kink
    want = ACTIVATION_FUNCS[name](z.copy(), order)
    zz = z.copy()
    got = activate(name, zz, order, np.empty_like(z), np.empty_like(z))
    for w, g in zip(want, got, strict=True):
        if w is None:
            assert g is None
        else:
            assert np.array_equal(w, g)


def test_xmm_into_out_equals_plain():
    rng = np.random.default_rng(1)
    Xd = rng.standard_normal((11, 4))
    for K in (1, 3):
        W = rng.standard_normal((K, 4, 6))
        ws = Scratch()
        out = ws("z", (K, 11, 6), replica_major=K == 1)
        assert np.array_equal(xmm(Xd, W, out=out), xmm(Xd, W))
        assert np.array_equal(xmm(Xd, W)[1 % K], Xd @ W[1 % K])


def test_scratch_reuses_by_name_and_shape_and_respects_budget():
    ws = Scratch(max_bytes=1000)
    a = ws("a", (4, 5))
    assert ws("a", (4, 5)) is a
    b = ws("a", (5, 4))
    assert b is not a and b.shape == (5, 4)
    big = ws("big", (10, 100))  # 8000 bytes: over the budget, never kept
    assert ws("big", (10, 100)) is not big
    t = ws("t", (2, 3, 4), replica_major=False)
    assert t.shape == (2, 3, 4) and t.transpose(1, 0, 2).flags.c_contiguous
    seen = []
    th = threading.Thread(target=lambda: seen.append(ws("a", (5, 4))))
    th.start()
    th.join()
    assert seen[0] is not b  # another thread gets its own arrays


def _energies():
    digits = datasets.digits(n_train=60, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    return [
        MLPLoss(digits, hidden=(7, 5), activation="tanh"),
        MLPLoss(digits, hidden=(6,), activation="softplus", loss="mse"),
        ParabolicResNet(digits, width=4, depth=2, h=0.3),
        SecondOrderResNet(digits, width=4, depth=2, h=0.3, loss="mse"),
        MeanFieldNet((X, np.tanh(X[:, 0])), 9),
    ]


@pytest.mark.parametrize("E", _energies(), ids=lambda E: type(E).__name__)
def test_results_are_never_scratch_arrays(E):
    """A second call (other points, other batch size) leaves earlier results untouched."""
    rng = np.random.default_rng(2)
    x, X = E.random_point(rng), E.random_point(rng, size=3)
    v, V = rng.standard_normal(E.dim), rng.standard_normal((3, E.dim))
    calls = [
        lambda: E.gradient(x),
        lambda: E.energy_and_gradient(X)[1],
        lambda: E.hvp(x, v),
        lambda: E.hvp(X, V),
        lambda: E.hvp(x, V),
        lambda: E.energy(X),
    ]
    first = [f() for f in calls]
    kept = [a.copy() for a in first]
    second = [f() for f in calls[::-1]][::-1]
    for a, k, b in zip(first, kept, second, strict=True):
        assert np.array_equal(a, k)  # not overwritten by the later calls
        assert np.array_equal(a, b)  # and the kernels are deterministic
        assert not np.shares_memory(a, b)


def test_concurrent_threads_give_the_serial_results():
    E = MLPLoss(datasets.digits(n_train=80, seed=1), hidden=(9,), activation="tanh")
    rng = np.random.default_rng(3)
    xs = [E.random_point(rng) for _ in range(4)]
    vs = [rng.standard_normal(E.dim) for _ in range(4)]
    want = [(E.gradient(x), E.hvp(x, v)) for x, v in zip(xs, vs, strict=True)]
    got = [None] * 4

    def work(i):
        for _ in range(5):
            got[i] = (E.gradient(xs[i]), E.hvp(xs[i], vs[i]))

    ths = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for (g0, h0), (g1, h1) in zip(want, got, strict=True):
        assert np.array_equal(g0, g1) and np.array_equal(h0, h1)


def test_kernel_thread_context(monkeypatch):
    with threads.limit(2):
        before = threads.current_threads()
        with threads.kernel(1e3):  # small work: one thread
            assert threads.current_threads() == 1
        assert threads.current_threads() == before
        monkeypatch.setattr(threads, "busy", lambda: True)
        with threads.kernel(1e12):  # large work on a busy machine: one thread
            assert threads.current_threads() == 1
        monkeypatch.setattr(threads, "busy", lambda: False)
        with threads.kernel(1e12) as n:  # large work, quiet machine: the pool as it is
            assert n == before == threads.current_threads()
        assert threads.current_threads() == before
    with threads.limit(1), threads.kernel(1e12) as n:
        assert n == 1


def test_own_threads_do_not_make_the_machine_busy():
    """Our pool's spinning threads are not another process: others_running leaves them out."""
    import os

    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs Linux /proc")
    n_tasks = len(os.listdir("/proc/self/task"))
    assert 1 <= threads._own_running() <= n_tasks
    others = threads.others_running()
    assert others is None or others >= 0
