"""Benchmark of the critical-point census: p = 3 census time per disorder sample.

Run ``python -m benchmarks.critical [--N 12] [--samples 1]``; results go in benchmarks/critical.md.
For N <= 10 the census is also checked against the exact homotopy enumeration.

``python -m benchmarks.critical --ensemble --N 8 10 --samples 20`` averages the census over
disorder samples (seeds 3000 + s) and compares each index and the total with the exact
finite-N Kac–Rice mean (pspin.theory.kac_rice_mean), printing z = (mean - theory) / s.e.
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
    ap.add_argument("--ensemble", action="store_true", help="disorder average vs Kac-Rice")
    args = ap.parse_args(argv)
    if args.ensemble:
        for N in args.N:
            ensemble(N, args.samples)
        return
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


def ensemble(N: int, samples: int) -> None:
    """Census averaged over ``samples`` disorder samples of p = 3, against Kac–Rice."""
    from analysis.critical import census_ensemble
    from pspin.theory import kac_rice_mean

    t, tp = time.perf_counter(), time.process_time()

    def on_sample(i, c):
        print(
            f"  sample {i}: {c.n_points} points, complete {c.complete}, {c.elapsed:.1f} s",
            flush=True,
        )

    ens = census_ensemble(
        lambda s: SphericalPSpin(N, 3, seed=s),
        range(3000, 3000 + samples),
        theory=kac_rice_mean(N, 3).by_index,
        census_seed=0,
        on_sample=on_sample,
    )
    tw, tc = time.perf_counter() - t, time.process_time() - tp
    print(
        f"\np = 3, N = {N}: {ens.n_samples} samples, all certificates: {ens.complete.all()}, "
        f"wall {tw:.0f} s, CPU {tc:.0f} s"
    )
    print("| index | mean | s.e. | Kac–Rice | z |")
    print("|---|---|---|---|---|")
    for k in range(ens.mean.size):
        print(
            f"| {k} | {ens.mean[k]:.2f} | {ens.stderr[k]:.2f} | {ens.theory[k]:.3f} | "
            f"{ens.z[k]:+.2f} |"
        )
    print(
        f"| total | {ens.total_mean:.2f} | {ens.total_stderr:.2f} | {ens.theory_total:.3f} | "
        f"{ens.z_total:+.2f} |"
    )
    print(f"max |z| = {max(abs(ens.z).max(), abs(ens.z_total)):.2f}", flush=True)


if __name__ == "__main__":
    main()
