"""p-spin kernels against the machine's ceilings.

Run: ``python -m benchmarks.pspin`` (add ``--quick`` for a smoke run). Prints a Markdown
table; the latest figures are recorded in benchmarks/pspin.md.

* one replica's gradient reads the coupling tensor once (a matrix-vector product): reported
  as a fraction of the machine's read bandwidth;
* K = 64 replicas' gradients are one matrix-matrix product: reported as a fraction of the
  matrix-product GFLOP/s;
* a naive ``einsum`` over the raw tensor for contrast.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks._ceilings import best_time, machine_ceilings
from pspin import SphericalPSpin


def bench_case(N: int, p: int, K: int, ceilings: dict) -> dict:
    """Time one replica, K replicas and a naive einsum for a (N, p) model."""
    m = SphericalPSpin(N, p, seed=0)
    x = m.random_point(1)
    X = m.random_point(2, size=K)
    t1 = best_time(lambda: m.gradient(x), repeat=7)
    tK = best_time(lambda: m.gradient(X), repeat=3)
    T = m.tensor
    letters = "abcdefgh"[: p - 1]
    spec = f"z{letters}," + ",".join(letters) + "->z"
    tn = best_time(lambda: np.einsum(spec, T, *([x] * (p - 1))) * p, repeat=3)
    nbytes = T.nbytes
    flops_K = 2.0 * K * N**p  # the X @ S product dominates
    gbps = nbytes / t1 / 1e9
    gflops = flops_K / tK / 1e9
    return {
        "N": N,
        "p": p,
        "tensor_MB": nbytes / 1e6,
        "grad_1_ms": t1 * 1e3,
        "grad_1_GBps": gbps,
        "frac_read": gbps / ceilings["read_gbps"],
        "grad_K_ms": tK * 1e3,
        "grad_K_GFLOPs": gflops,
        "frac_matmul": gflops / ceilings["matmul_gflops"],
        "per_replica_speedup": t1 * K / tK,
        "einsum_1_ms": tn * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    ap.add_argument("--K", type=int, default=64, help="replicas in the batched case")
    args = ap.parse_args(argv)
    ceil = machine_ceilings()
    print(
        f"machine: {ceil['blas']}; matmul {ceil['matmul_gflops']:.1f} GFLOP/s; read {ceil['read_gbps']:.2f} GB/s"
    )
    cases = [(100, 3), (40, 4)] if args.quick else [(200, 3), (400, 3), (60, 4), (100, 4)]
    cols = [
        "N",
        "p",
        "tensor_MB",
        "grad_1_ms",
        "grad_1_GBps",
        "frac_read",
        "grad_K_ms",
        "grad_K_GFLOPs",
        "frac_matmul",
        "per_replica_speedup",
        "einsum_1_ms",
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
