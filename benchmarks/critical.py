"""Benchmark of the critical-point census: p = 3 census time per disorder sample.

Run ``python -m benchmarks.critical [--N 12] [--samples 1]``; results go in benchmarks/critical.md.
For N <= 10 the census is also checked against the exact homotopy enumeration.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.critical import census
from pspin import SphericalPSpin
from pspin.homotopy import pspin_critical_points


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--N", type=int, nargs="+", default=[8, 10, 12])
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--homotopy-max-N", type=int, default=12)
    args = ap.parse_args(argv)
    print(
        "| N | sample | points | by index | certificate | starts | census wall s | census CPU s "
        "| homotopy s | exact |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for N in args.N:
        for s in range(args.samples):
            model = SphericalPSpin(N, 3, seed=1000 + s)
            t, tp = time.perf_counter(), time.process_time()
            c = census(model, seed=s)
            tc, tcp = time.perf_counter() - t, time.process_time() - tp
            th, exact = float("nan"), "-"
            if N <= args.homotopy_max_N:
                t = time.perf_counter()
                r = pspin_critical_points(model, seed=0)
                th = time.perf_counter() - t
                exact = str(
                    r.complete
                    and np.array_equal(r.counts_by_index, c.counts_by_index)
                    and len(r.points) == c.n_points
                )
            print(
                f"| {N} | {s} | {c.n_points} | {c.counts_by_index.tolist()} | "
                f"{c.complete} | {c.certificate.n_starts} | {tc:.1f} | {tcp:.1f} | {th:.1f} | {exact} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
