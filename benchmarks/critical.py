"""Benchmark of the critical-point census: p = 3 census time per disorder sample.

Run ``python -m benchmarks.critical [--N 12] [--samples 1]``; results go in benchmarks/critical.md.
For N <= 10 the census is also checked against the exact homotopy enumeration.

``python -m benchmarks.critical --ensemble --N 8 10 --samples 20`` averages the census over
disorder samples (seeds 3000 + s) and compares each index and the total with the exact
finite-N Kac–Rice mean (pspin.theory.kac_rice_mean), printing z = (mean - theory) / s.e.
``--exact`` counts every sample exactly by homotopy continuation (pspin.homotopy) instead,
which is ~10x cheaper at N <= 8; ``--check-census K`` also runs the census on the first K
samples and checks it equal to the homotopy, index by index; ``--seed0`` sets the first
disorder seed. E.g. ``python -m benchmarks.critical --ensemble --exact --N 6 7 8 --samples 400
--seed0 0 --check-census 48`` (the "Census vs Kac–Rice" table of benchmarks/critical.md).

``python -m benchmarks.critical --networks [--out DIR]`` runs network_critical_points on the
digits MSE MLP 64-8-10 (P = 610, tanh, weight decay 1e-2, 300 training samples), prints the
points (loss, index, active units) and the Spearman correlation, and saves the index-vs-loss
figure beside the p-spin alpha(u) as DIR/figures/index_vs_loss.png.
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
    ap.add_argument("--exact", action="store_true", help="ensemble counts by homotopy")
    ap.add_argument("--check-census", type=int, default=0, help="census = homotopy on K samples")
    ap.add_argument("--seed0", type=int, default=3000, help="first disorder seed of --ensemble")
    ap.add_argument("--networks", action="store_true", help="index vs loss of a digits MLP")
    ap.add_argument("--n-starts", type=int, default=3)
    ap.add_argument("--out", default="bench_networks")
    args = ap.parse_args(argv)
    if args.networks:
        networks(args.n_starts, args.out)
        return
    if args.ensemble:
        for N in args.N:
            if args.exact:
                ensemble_exact(N, args.samples, args.seed0, args.check_census)
            else:
                ensemble(N, args.samples, args.seed0)
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


def ensemble(N: int, samples: int, seed0: int = 3000) -> None:
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
        range(seed0, seed0 + samples),
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


def ensemble_exact(N: int, samples: int, seed0: int, check_census: int = 0) -> None:
    """Exact (homotopy) counts of p = 3 averaged over disorder samples, against Kac–Rice.

    Samples ``seed0 .. seed0 + samples - 1``; the first ``check_census`` of them are also
    counted by :func:`census` (search seed 0) and must agree with the homotopy index by index.
    Prints mean, standard error, theory and z per index and in total, the shape of the
    per-sample total (s.d./mean, skewness, excess kurtosis, spread of 16-sample means) and the
    load average.
    """
    import os

    from pspin.theory import kac_rice_mean

    t, tp = time.perf_counter(), time.process_time()
    counts = np.zeros((samples, N), dtype=np.int64)
    mismatches = []
    for i in range(samples):
        model = SphericalPSpin(N, 3, seed=seed0 + i)
        r = pspin_critical_points(model, seed=0)
        if not r.complete:
            raise RuntimeError(f"homotopy incomplete for N = {N}, seed {seed0 + i}")
        counts[i] = r.counts_by_index
        if i < check_census:
            c = census(model, seed=0)
            if not (c.complete and np.array_equal(c.counts_by_index, r.counts_by_index)):
                mismatches.append((seed0 + i, c.counts_by_index.tolist(), counts[i].tolist()))
    tw, tc = time.perf_counter() - t, time.process_time() - tp
    kr = kac_rice_mean(N, 3)
    S = samples
    mean = counts.mean(0)
    se = counts.std(0, ddof=1) / np.sqrt(S)
    tot = counts.sum(1)
    tm, tsd = float(tot.mean()), float(tot.std(ddof=1))
    ts = tsd / np.sqrt(S)
    c3 = float(np.mean((tot - tm) ** 3)) / tot.std() ** 3
    c4 = float(np.mean((tot - tm) ** 4)) / tot.std() ** 4 - 3.0
    print(
        f"\np = 3, N = {N}: {S} samples (seeds {seed0}..{seed0 + S - 1}), all homotopies "
        f"complete; census = homotopy on {min(check_census, S)} samples, mismatches: "
        f"{mismatches or 'none'}; wall {tw:.0f} s, CPU {tc:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| index | mean | s.e. | Kac–Rice | z |")
    print("|---|---|---|---|---|")
    for k in range(N):
        z = (mean[k] - kr.by_index[k]) / se[k]
        print(f"| {k} | {mean[k]:.3f} | {se[k]:.3f} | {kr.by_index[k]:.3f} | {z:+.2f} |")
    print(f"| total | {tm:.2f} | {ts:.2f} | {kr.total:.3f} | {(tm - kr.total) / ts:+.2f} |")
    blocks = tot[: S // 16 * 16].reshape(-1, 16).mean(1)
    print(
        f"total per sample: s.d./mean {tsd / tm:.3f}, skewness {c3:+.2f}, excess kurtosis "
        f"{c4:+.2f}, range {tot.min()}..{tot.max()}; {blocks.size} blocks of 16 samples: "
        f"means {blocks.min():.1f}..{blocks.max():.1f}, s.d. {blocks.std(ddof=1):.2f} "
        f"(s.d./4 = {tsd / 4:.2f})",
        flush=True,
    )


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
    path = run.save_figure(
        "index_vs_loss.png",
        plot_index_vs_loss(r, title="digits MSE MLP 64-8-10 (tanh, weight decay 1e-2)"),
    )
    print(f"figure: {path}", flush=True)


if __name__ == "__main__":
    main()
