"""Descents over batches of replicas: the Sagun experiment, universality, batching speed-up.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.dynamics`` (defaults: N = 50, 100, 200 with
16 coupling samples x 16 replicas, N = 400 with 8 x 16; universality at N = 200 with 32
coupling samples x 4 replicas per coupling law) or ``--quick`` for a smoke run; ``--sagun``
and ``--universality`` take ``N:SAMPLES:PER_SAMPLE``. Prints Markdown tables; the latest
figures are recorded in benchmarks/dynamics.md; ``--json DIR`` keeps the raw endpoints.

* Sagun et al.: gradient descent with their step 0.2 and stopping rule |rgrad H| <= 0.01
  (total norm; intensive gtol = 0.01 / sqrt(N)) from uniform random starts on p = 3; fresh
  couplings per coupling sample, shared by that sample's replicas; every endpoint's
  Riemannian Hessian diagonalized (dense ``rhessian``). An endpoint that is not a minimum (GD
  stopped near a saddle) is kicked along its lowest eigenvector and descended again (counted).
* Universality: the same at one N with Gaussian, Rademacher, uniform and exponential
  couplings; two-sample KS and Anderson-Darling (permutation) p-values against the Gaussian
  ensemble; error bars of the means from the spread of per-sample means.
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
from pspin.model import COUPLING_ENSEMBLES


def descent_ensemble(
    N,
    samples,
    per_sample,
    couplings="gaussian",
    seed=0,
    step=0.2,
    gtol_total=0.01,
    max_steps=20000,
    verify=True,
    chunk=64,
    escape_rounds=3,
    escape_kick=0.1,
):
    """GD endpoints over ``samples`` coupling samples x ``per_sample`` replicas each.

    Fresh couplings per sample (shared by that sample's replicas); uniform random starts;
    stop at ``|rgrad H| <= gtol_total`` (Sagun et al.'s total norm, i.e. intensive
    ``gtol = gtol_total / sqrt(N)``). With ``verify`` every endpoint's Riemannian Hessian is
    diagonalized (dense ``rhessian``); an endpoint that is not a minimum (GD stopped near a
    saddle whose negative eigenvalue is too small to be escaped before the gradient tolerance
    is met, or did not converge) is kicked by ``escape_kick`` along its lowest eigenvector and
    descended again, up to ``escape_rounds`` times; the number of kicks is reported.
    """
    root = np.random.SeedSequence([seed, N, COUPLING_ENSEMBLES.index(couplings)])
    cs, rs = root.spawn(2)
    cstreams, rstreams = cs.spawn(samples), rs.spawn(samples)
    gtol = gtol_total / np.sqrt(N)
    vals, sid, steps, conv, lam0, t0 = [], [], [], [], [], time.perf_counter()
    t_gd, n_escape = 0.0, 0
    for s in range(samples):
        m = SphericalPSpin(N, 3, seed=cstreams[s], couplings=couplings)
        x0 = m.random_point(rstreams[s], size=per_sample)
        for a in range(0, per_sample, chunk):
            t1 = time.perf_counter()
            r = gradient_descent(
                m, x0[a : a + chunk], step=step, max_steps=max_steps, gtol=gtol, ladder=()
            )
            t_gd += time.perf_counter() - t1
            x, e, st, cv = r.x, r.intensive, r.steps, r.converged
            if verify:
                lam = np.array([np.linalg.eigvalsh(m.rhessian(xk))[0] for xk in x])
                for _ in range(escape_rounds):
                    # a stop near a saddle (|rgrad| small, lowest eigenvalue < 0): push along
                    # the most negative direction and descend again
                    bad = np.nonzero((lam <= 0) | ~cv)[0]
                    if bad.size == 0:
                        break
                    n_escape += bad.size
                    xs = []
                    for k in bad:
                        w, U = np.linalg.eigh(m.rhessian(x[k]))
                        v = m.manifold.tangent_basis(x[k]) @ U[:, 0]
                        xs.append(m.manifold.retract(x[k], escape_kick * v))
                    t1 = time.perf_counter()
                    r2 = gradient_descent(
                        m, np.stack(xs), step=step, max_steps=max_steps, gtol=gtol, ladder=()
                    )
                    t_gd += time.perf_counter() - t1
                    x, e, st, cv = x.copy(), e.copy(), st.copy(), cv.copy()
                    x[bad], e[bad], cv[bad] = r2.x, r2.intensive, r2.converged
                    st[bad] += r2.steps
                    lam[bad] = [np.linalg.eigvalsh(m.rhessian(xk))[0] for xk in r2.x]
                lam0.append(lam)
            vals.append(e)
            steps.append(st)
            conv.append(cv)
            sid.append(np.full(r.n_replicas, s))
        del m
    v, sid = np.concatenate(vals), np.concatenate(sid)
    conv, steps = np.concatenate(conv), np.concatenate(steps)
    lam = np.concatenate(lam0) if verify else np.full(v.size, np.nan)
    # honest error bar of the mean: spread of the per-sample means (replicas of one sample
    # share couplings); intraclass correlation from the one-way ANOVA estimator
    smeans = np.array([v[sid == s].mean() for s in range(samples)])
    sem_cluster = smeans.std(ddof=1) / np.sqrt(samples) if samples > 1 else np.nan
    msw = np.mean([v[sid == s].var(ddof=1) for s in range(samples)]) if per_sample > 1 else 0.0
    msb = per_sample * smeans.var(ddof=1) if samples > 1 else np.nan
    icc = (msb - msw) / (msb + (per_sample - 1) * msw) if per_sample > 1 else np.nan
    return dict(
        N=N,
        replicas=int(v.size),
        samples=samples,
        per_sample=per_sample,
        couplings=couplings,
        step=step,
        gtol=gtol,
        mean=float(v.mean()),
        std=float(v.std(ddof=1)),
        sem=float(v.std(ddof=1) / np.sqrt(v.size)),
        sem_cluster=float(sem_cluster),
        icc=float(icc),
        min=float(v.min()),
        max=float(v.max()),
        converged=int(conv.sum()),
        escapes=n_escape,
        minima=int(np.sum(conv & (lam > 0))) if verify else -1,
        min_lowest_eig=float(np.nanmin(lam)) if verify else float("nan"),
        median_steps=int(np.median(steps)),
        max_steps=int(steps.max()),
        replica_steps=int(steps.sum()),
        gd_seconds=t_gd,
        seconds=time.perf_counter() - t0,
        values=v.tolist(),
        sample=sid.tolist(),
        lowest_eig=lam.tolist(),
        steps=steps.tolist(),
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


def _spec(s):
    try:
        N, S, P = (int(v) for v in s.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N:SAMPLES:PER_SAMPLE, got {s!r}") from None
    return N, S, P


def _save(d, r, name):
    if d is not None:
        import json
        from pathlib import Path

        Path(d).mkdir(parents=True, exist_ok=True)
        (Path(d) / f"{name}.json").write_text(json.dumps(r))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument(
        "--sagun",
        type=_spec,
        nargs="*",
        default=[(50, 16, 16), (100, 16, 16), (200, 16, 16), (400, 8, 16)],
        metavar="N:SAMPLES:PER",
        help="Sagun runs: N, coupling samples, replicas per sample",
    )
    ap.add_argument(
        "--universality",
        type=_spec,
        default=(200, 32, 4),
        metavar="N:SAMPLES:PER",
        help="universality run (per coupling law)",
    )
    ap.add_argument("--step", type=float, default=0.2, help="GD step (default 0.2, Sagun et al.)")
    ap.add_argument(
        "--gtol-total",
        type=float,
        default=0.01,
        help="stop at |rgrad H| <= this (total norm; intensive gtol = this / sqrt(N))",
    )
    ap.add_argument("--max-steps", type=int, default=20000)
    ap.add_argument("--json", default=None, help="folder for per-run JSON (raw values)")
    ap.add_argument("--skip", nargs="*", default=[], choices=("sagun", "universality", "batching"))
    a = ap.parse_args(argv)
    if a.quick:
        a.sagun, a.universality = [(20, 4, 8), (40, 4, 8)], (30, 8, 4)
    kw = dict(step=a.step, gtol_total=a.gtol_total, max_steps=a.max_steps)
    c = machine_ceilings()
    print("## machine\n")
    print(", ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in c.items()))
    e_inf, e_0 = theory.threshold_energy(3), theory.ground_state_energy(3)
    print(f"\n-E_inf = {-e_inf:.6f}, -E_0 = {-e_0:.6f}; step {a.step}, |rgrad| <= {a.gtol_total}\n")
    if "sagun" not in a.skip:
        print("## Sagun experiment (GD, p = 3, gaussian)\n")
        print(
            "| N | replicas | coupling samples x per sample | mean H/N | std | sem (cluster) | "
            "min | max | converged | minima verified | saddle kicks | min lowest eig | "
            "median / max steps | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for N, S, P in a.sagun:
            r = descent_ensemble(N, S, P, **kw)
            _save(a.json, r, f"sagun_N{N}")
            print(
                f"| {N} | {r['replicas']} | {S} x {P} | {r['mean']:.5f} | {r['std']:.5f} | "
                f"{r['sem_cluster']:.5f} | {r['min']:.5f} | {r['max']:.5f} | "
                f"{r['converged']}/{r['replicas']} | {r['minima']}/{r['replicas']} | "
                f"{r['escapes']} | {r['min_lowest_eig']:.3g} | {r['median_steps']} / {r['max_steps']} | "
                f"{r['seconds']:.0f} |",
                flush=True,
            )
    if "universality" not in a.skip:
        from scipy import stats as sps

        UN, S, P = a.universality
        print(f"\n## Universality (GD, p = 3, N = {UN}, {S} coupling samples x {P} replicas)\n")
        print(
            "| couplings | replicas | mean H/N | sem (cluster) | std | ICC | converged | "
            "minima | saddle kicks | KS p vs gaussian | AD p vs gaussian | z vs gaussian | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        ref = None
        for cpl in COUPLING_ENSEMBLES:
            r = descent_ensemble(UN, S, P, couplings=cpl, seed=1, **kw)
            _save(a.json, r, f"universality_N{UN}_{cpl}")
            v = np.asarray(r["values"])
            if ref is None:
                ref, ref_r, ks, ad, z = v, r, float("nan"), float("nan"), float("nan")
            else:
                ks = sps.ks_2samp(ref, v).pvalue
                z = (r["mean"] - ref_r["mean"]) / np.hypot(r["sem_cluster"], ref_r["sem_cluster"])
                ad = sps.anderson_ksamp(
                    [ref, v],
                    variant="midrank",
                    method=sps.PermutationMethod(n_resamples=2000, random_state=0),
                ).pvalue
            print(
                f"| {cpl} | {r['replicas']} | {r['mean']:.5f} | {r['sem_cluster']:.5f} | "
                f"{r['std']:.5f} | {r['icc']:.2f} | {r['converged']}/{r['replicas']} | "
                f"{r['minima']}/{r['replicas']} | {r['escapes']} | {ks:.3f} | {ad:.3f} | {z:+.2f} | {r['seconds']:.0f} |",
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
