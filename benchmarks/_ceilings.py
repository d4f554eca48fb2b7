"""The machine's own ceilings, measured in the same run as each benchmark."""

from __future__ import annotations

import time

import numpy as np


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls of ``fn`` over ``repeat`` trials (seconds per call)."""
    fn()  # warm up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def matmul_gflops(n: int = 2000) -> float:
    """GFLOP/s of a plain float64 n x n matrix product (BLAS-3 ceiling)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n))
    B = rng.standard_normal((n, n))
    t = best_time(lambda: A @ B, repeat=3)
    return 2.0 * n**3 / t / 1e9


def read_gbps(nbytes: int = 512 * 2**20) -> float:
    """GB/s of a plain read of a float64 array (memory-bandwidth ceiling), via a BLAS dot."""
    a = np.ones(nbytes // 8)
    b = np.ones(1)
    # dot with a broadcast-free second operand would read twice; use a matrix-vector product
    M = a.reshape(-1, 1024)
    v = np.ones(1024)
    del b
    t = best_time(lambda: M @ v, repeat=5)
    return a.nbytes / t / 1e9


def blas_info() -> str:
    """Which BLAS kernel numpy runs (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            i = info[0]
            return f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
    except Exception:  # pragma: no cover - diagnostics only
        pass
    return "unknown BLAS"


def machine_ceilings() -> dict:
    """Matrix-product GFLOP/s and read GB/s of this machine, measured now."""
    return {"matmul_gflops": matmul_gflops(), "read_gbps": read_gbps(), "blas": blas_info()}
