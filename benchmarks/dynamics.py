"""Descents over batches of replicas: the Sagun experiment, universality, batching speed-up.

Run: ``python -m benchmarks.dynamics`` (full sizes: N = 50, 100, 200, 400 with 256 replicas
at N <= 200 and 64 at N = 400; universality at N = 200) or ``--quick`` for a smoke run.
Prints Markdown tables; the latest figures are recorded in benchmarks/dynamics.md.

* Sagun et al.: gradient descent (step 0.1, gtol 1e-5 on |rgrad H|/sqrt(N)) from uniform
  random starts on p = 3; fresh couplings per coupling sample (``--samples`` per N, replicas
  split evenly), every endpoint checked to be a minimum (index 0 of ``rhessian``) at
  N <= 200 and on 16 endpoints at N = 400.
* Universality: the same at one N with Gaussian, Rademacher, uniform and exponential
  couplings; two-sample KS p-values against the Gaussian ensemble.
* Batching: K = 64 replicas in one run against 64 single-replica runs (same steps).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from analysis.dynamics import gradient_descent
from benchmarks._ceilings import machine_ceilings
from pspin import SphericalPSpin, theory


def descent_ensemble(N, replicas, samples, couplings="gaussian", seed=0, verify=None):
    """Final H/N of GD replicas over coupling samples; index-0 checks on ``verify`` each."""
    root = np.random.SeedSequence([seed, N])
    cs, rs = root.spawn(2)
    cstreams = cs.spawn(samples)
    per = replicas // samples
    vals, n_min, n_checked, t0 = [], 0, 0, time.perf_counter()
    steps = []
    for s in range(samples):
        m = SphericalPSpin(N, 3, seed=cstreams[s], couplings=couplings)
        x0 = m.random_point(rs.spawn(1)[0], size=per)
        r = gradient_descent(m, x0, step=0.1, max_steps=50000, gtol=1e-5)
        if not r.converged.all():
            raise RuntimeError(f"{(~r.converged).sum()} replicas did not converge at N={N}")
        vals.append(r.intensive)
        steps.append(r.steps)
        check = range(per) if verify is None else range(min(verify, per))
        for k in check:
            n_checked += 1
            n_min += np.linalg.eigvalsh(m.rhessian(r.x[k]))[0] > 0
        del m
    v = np.concatenate(vals)
    return dict(
        N=N,
        replicas=v.size,
        samples=samples,
        couplings=couplings,
        mean=v.mean(),
        std=v.std(ddof=1),
        sem=v.std(ddof=1) / np.sqrt(v.size),
        min=v.min(),
        max=v.max(),
        minima=f"{n_min}/{n_checked}",
        median_steps=int(np.median(np.concatenate(steps))),
        seconds=time.perf_counter() - t0,
        values=v,
    )


def batching(N=100, K=64, steps=50):
    """Seconds for K replicas batched vs a loop of K single-replica runs (fixed steps)."""
    m = SphericalPSpin(N, 3, seed=0)
    x0 = m.random_point(1, size=K)
    t0 = time.perf_counter()
    rb = gradient_descent(m, x0, step=0.1, max_steps=steps, gtol=0.0)
    tb = time.perf_counter() - t0
    t0 = time.perf_counter()
    xs = [gradient_descent(m, x0[k], step=0.1, max_steps=steps, gtol=0.0).x[0] for k in range(K)]
    tl = time.perf_counter() - t0
    err = float(np.max(np.abs(np.stack(xs) - rb.x)))
    return dict(N=N, K=K, steps=steps, batched_s=tb, loop_s=tl, ratio=tl / tb, max_diff=err)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--Ns", type=int, nargs="+", default=None)
    ap.add_argument("--replicas", type=int, default=256)
    ap.add_argument("--replicas-large", type=int, default=64, help="replicas at N > 200")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--universality-N", type=int, default=200)
    ap.add_argument("--universality-replicas", type=int, default=128)
    ap.add_argument("--skip", nargs="*", default=[], choices=("sagun", "universality", "batching"))
    a = ap.parse_args(argv)
    if a.quick:
        Ns, R, RL, S, UN, UR = [20, 40], 32, 16, 2, 30, 32
    else:
        Ns = a.Ns or [50, 100, 200, 400]
        R, RL, S, UN, UR = (
            a.replicas,
            a.replicas_large,
            a.samples,
            a.universality_N,
            a.universality_replicas,
        )
    c = machine_ceilings()
    print("## machine\n")
    print(", ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in c.items()))
    e_inf, e_0 = theory.threshold_energy(3), theory.ground_state_energy(3)
    print(f"\n-E_inf = {-e_inf:.6f}, -E_0 = {-e_0:.6f}\n")
    if "sagun" not in a.skip:
        print("## Sagun experiment (GD, p = 3, gaussian)\n")
        print(
            "| N | replicas | samples | mean H/N | std | sem | min | max | minima | median steps | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for N in Ns:
            r = descent_ensemble(N, R if N <= 200 else RL, S, verify=None if N <= 200 else 16)
            print(
                f"| {N} | {r['replicas']} | {r['samples']} | {r['mean']:.5f} | {r['std']:.5f} | "
                f"{r['sem']:.5f} | {r['min']:.5f} | {r['max']:.5f} | {r['minima']} | "
                f"{r['median_steps']} | {r['seconds']:.1f} |",
                flush=True,
            )
    if "universality" not in a.skip:
        from scipy import stats as sps

        print(f"\n## Universality (GD, p = 3, N = {UN})\n")
        print("| couplings | replicas | samples | mean H/N | sem | std | KS p vs gaussian | s |")
        print("|---|---|---|---|---|---|---|---|")
        ref = None
        for cpl in ("gaussian", "rademacher", "uniform", "exponential"):
            r = descent_ensemble(UN, UR, S, couplings=cpl, seed=1, verify=0)
            if ref is None:
                ref = r["values"]
            p = sps.ks_2samp(ref, r["values"]).pvalue if cpl != "gaussian" else float("nan")
            print(
                f"| {cpl} | {r['replicas']} | {r['samples']} | {r['mean']:.5f} | {r['sem']:.5f} | "
                f"{r['std']:.5f} | {p:.3f} | {r['seconds']:.1f} |",
                flush=True,
            )
    if "batching" not in a.skip:
        b = batching(N=40 if a.quick else 100)
        print("\n## Batching (GD, p = 3, fixed steps)\n")
        print(
            "| N | K | steps | batched s | loop of single runs s | loop / batched | max |x diff| |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {b['N']} | {b['K']} | {b['steps']} | {b['batched_s']:.3f} | {b['loop_s']:.3f} | "
            f"{b['ratio']:.1f} | {b['max_diff']:.1e} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
