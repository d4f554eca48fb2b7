"""Benchmark of the critical-point census: p = 3 census time per disorder sample.

Run ``python -m benchmarks.critical [--N 12] [--samples 1]``; results go in benchmarks/critical.md.
For N <= 10 the census is also checked against the exact homotopy enumeration.

``python -m benchmarks.critical --ensemble --N 8 10 --samples 20`` averages the census over
disorder samples (seeds 3000 + s) and compares each index and the total with the exact
finite-N Kac–Rice mean (pspin.theory.kac_rice_mean), printing z = (mean - theory) / s.e.

``python -m benchmarks.critical --networks [--out DIR]`` runs network_critical_points on the
digits MSE MLP 64-8-10 (P = 610, tanh, weight decay 1e-2, 300 training samples), prints the
points (loss, index, active units) and the Spearman correlation, and saves the index-vs-loss
figure beside the p-spin alpha(u) as DIR/index_vs_loss.png.
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
    ap.add_argument("--networks", action="store_true", help="index vs loss of a digits MLP")
    ap.add_argument("--n-starts", type=int, default=3)
    ap.add_argument("--out", default="bench_networks")
    args = ap.parse_args(argv)
    if args.networks:
        networks(args.n_starts, args.out)
        return
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


def networks(n_starts: int, out: str) -> None:
    """Index vs loss of verified critical points of a digits MLP (P = 610), with its figure."""
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_index_vs_loss
    from analysis.store import RunFolder
    from analysis.studies.networks import network_critical_points
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    net = MLPLoss(
        datasets.digits(n_train=300),
        hidden=(8,),
        activation="tanh",
        loss="mse",
        weight_decay=1e-2,
    )
    t, tp = time.perf_counter(), time.process_time()
    r = network_critical_points(net, n_starts=n_starts, seed=0)
    tw, tc = time.perf_counter() - t, time.process_time() - tp
    print(
        f"P = {net.dim}: {r.n_points} distinct verified critical points from {r.n_candidates} "
        f"candidates, rejected {r.n_rejected}; Spearman rho = {r.spearman:.3f} "
        f"(p = {r.spearman_pvalue:.2e}); wall {tw:.0f} s, CPU {tc:.0f} s"
    )
    print("| loss | index | k/P | active units | log10 |grad| | min abs eig |")
    print("|---|---|---|---|---|---|")
    for i in range(r.n_points):
        print(
            f"| {r.losses[i]:.5f} | {r.indices[i]} | {r.index_fractions[i]:.4f} | "
            f"{r.active_units[i]} | {np.log10(r.grad_norms[i]):.1f} | {r.min_abs_eigs[i]:.1e} |"
        )
    use_agg()
    run = RunFolder(out, "benchmarks.critical --networks", {"n_starts": n_starts})
    run.save_figure(
        "index_vs_loss.png",
        plot_index_vs_loss(r, title="digits MSE MLP 64-8-10 (tanh, weight decay 1e-2)"),
    )
    print(f"figure: {out}/index_vs_loss.png", flush=True)


if __name__ == "__main__":
    main()
