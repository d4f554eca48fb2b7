"""p-spin kernels against the machine's ceilings.

Run: ``python -m benchmarks.pspin`` (add ``--quick`` for a smoke run). Prints a Markdown
table; the latest figures are recorded in benchmarks/pspin.md.

* one replica's gradient reads the coupling tensor once (a matrix-vector product): reported
  as a fraction of the machine's read bandwidth;
* K = 64 replicas' gradients are one matrix-matrix product: reported as a fraction of the
  matrix-product GFLOP/s (``frac_matmul``: of the pool's threads; ``frac_matmul_1t``: of one
  thread, the ceiling that applies when the policy ran the kernel single-threaded);
* a naive ``einsum`` over the raw tensor for contrast.

The kernels run under the thread policy (``landscapes.threads.kernel``): one replica's
gradient at N = 200 (1.6e7 flops, below ``SMALL_WORK_FLOPS``) always runs on one thread, and
any kernel runs on one thread while the machine is busy. One and K replicas are timed
interleaved and repeated (median and 10-90% range); the 1-minute load average is printed
beside every row, and the run takes about a minute (the N = 400 tensor is 512 MB).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from benchmarks._ceilings import best_time, machine_ceilings, matmul_gflops
from landscapes import threads
from pspin import SphericalPSpin

#: Side of the plain float64 matrix product that defines the GEMM ceiling.
CEILING_N = 2000


def _interleaved(fns: dict, reps: int) -> dict:
    """Per-call seconds of each function, the calls interleaved (one warm-up call each)."""
    for f in fns.values():
        f()
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return {k: np.asarray(v) for k, v in ts.items()}


def _q(v) -> tuple[float, float, float]:
    """Median, 10% and 90% quantiles."""
    return tuple(float(q) for q in np.percentile(v, [50, 10, 90]))


def bench_case(N: int, p: int, K: int, ceilings: dict, reps: int = 15) -> dict:
    """Time one replica, K replicas, the GEMM ceiling (interleaved) and a naive einsum."""
    m = SphericalPSpin(N, p, seed=0)
    x = m.random_point(1)
    X = m.random_point(2, size=K)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((CEILING_N, CEILING_N))
    B = rng.standard_normal((CEILING_N, CEILING_N))
    load0 = os.getloadavg()[0]
    t = _interleaved(
        {"one": lambda: m.gradient(x), "K": lambda: m.gradient(X), "ceil": lambda: A @ B}, reps
    )
    one, tk, tc = _q(t["one"]), _q(t["K"]), _q(t["ceil"])
    t1, tK = one[0], tk[0]
    T = m.tensor
    letters = "abcdefgh"[: p - 1]
    spec = f"z{letters}," + ",".join(letters) + "->z"
    tn = best_time(lambda: np.einsum(spec, T, *([x] * (p - 1))) * p, repeat=3)
    nbytes = T.nbytes
    flops_K = 2.0 * K * N**p  # the X @ S product dominates
    flops_c = 2.0 * CEILING_N**3
    gbps = nbytes / t1 / 1e9
    gflops = flops_K / tK / 1e9
    # the ratio to the ceiling taken call by call: the kernel and the plain product ran
    # back to back, so a slow spell of the (shared) machine slows both sides alike
    ratio = (flops_K / t["K"]) / (flops_c / t["ceil"])
    fr = _q(ratio)
    return {
        "N": N,
        "p": p,
        "tensor_MB": nbytes / 1e6,
        "grad_1_ms": t1 * 1e3,
        "grad_1_range": f"{one[1] * 1e3:.3g}–{one[2] * 1e3:.3g}",
        "grad_1_threads": threads.for_flops(2.0 * N**p),
        "grad_1_GBps": gbps,
        "frac_read": gbps / ceilings["read_gbps"],
        "grad_K_ms": tK * 1e3,
        "grad_K_range": f"{tk[1] * 1e3:.3g}–{tk[2] * 1e3:.3g}",
        "grad_K_GFLOPs": gflops,
        "ceil_GFLOPs": flops_c / tc[0] / 1e9,
        "frac_matmul": fr[0],
        "frac_matmul_range": f"{fr[1]:.3g}–{fr[2]:.3g}",
        "frac_matmul_best": (flops_K / t["K"].min()) / (flops_c / t["ceil"].min()),
        "frac_matmul_1t": gflops / ceilings["matmul_gflops_1t"],
        "per_replica_speedup": t1 * K / tK,
        "einsum_1_ms": tn * 1e3,
        "load": (load0 + os.getloadavg()[0]) / 2,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    ap.add_argument("--K", type=int, default=64, help="replicas in the batched case")
    ap.add_argument("--all", action="store_true", help="also p = 4 (N = 60, 100: 800 MB)")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    ceil = machine_ceilings()
    with threads.limit(1):
        ceil["matmul_gflops_1t"] = matmul_gflops()
    print(
        f"machine: {ceil['blas']}, {threads.available_cores()} cores; "
        f"matmul {ceil['matmul_gflops']:.1f} GFLOP/s "
        f"({ceil['matmul_gflops_1t']:.1f} on one thread); read {ceil['read_gbps']:.2f} GB/s "
        f"(ceilings measured under load average {load:.1f}; "
        f"busy now: {threads.busy()})"
    )
    cases = [(100, 3), (40, 4)] if args.quick else [(200, 3), (400, 3)]
    if args.all:
        cases += [(60, 4), (100, 4)]
    cols = [
        "N",
        "p",
        "tensor_MB",
        "grad_1_ms",
        "grad_1_range",
        "grad_1_threads",
        "grad_1_GBps",
        "frac_read",
        "grad_K_ms",
        "grad_K_range",
        "grad_K_GFLOPs",
        "ceil_GFLOPs",
        "frac_matmul",
        "frac_matmul_range",
        "frac_matmul_best",
        "frac_matmul_1t",
        "per_replica_speedup",
        "einsum_1_ms",
        "load",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for N, p in cases:
        r = bench_case(N, p, args.K, ceil)
        print(
            "| "
            + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols)
            + " |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
