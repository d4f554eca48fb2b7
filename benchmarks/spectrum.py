"""Benchmarks and long checks of analysis.spectrum: ``python -m benchmarks.spectrum [SECTION...]``.

Sections (default: all): ``semicircle`` (p=3, N=400, 4 GD endpoints, KS and mean vs theory),
``slq`` (SLQ faithfulness on a p=3 Hessian at N=400 and on a digits MLP with P=2,410),
``outliers`` (bulk + outliers table: Gaussian mixtures C=2,5,10 and digits, CE and MSE),
``scale`` (SLQ density of a ~100k-parameter digits MLP: time and HVP count).
Prints markdown tables (copy them into benchmarks/spectrum.md).
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from analysis.spectrum import (
    hessian_eigenvalues,
    ks_distance,
    outliers,
    spectral_density,
    wasserstein_1,
)


def _descend(energy, X, steps, lr=0.1):
    X = np.array(X)
    for _ in range(steps):
        X = energy.manifold.retract(X, -lr * energy.rgrad(X))
    return X


def _train(energy, x, lr, stop, max_steps=20000, chunk=25):
    from analysis.dynamics import gradient_descent

    done = 0
    while done < max_steps and energy.energy(x) > stop:
        x = np.array(
            gradient_descent(energy, x, step=lr, max_steps=chunk, gtol=0.0, progress=False).x
        ).reshape(-1)
        done += chunk
    return x, done


def faithful(d, exact, edge=None, log_floor=None):
    """Moment z-scores (1..4) and bulk W1 / width of an SLQ result against exact eigenvalues."""
    ok = np.isfinite(d.nodes)
    n0, w0 = np.where(ok, d.nodes, 0.0), np.where(ok, d.weights, 0.0)
    per = np.stack([np.sum(w0 * n0**j, axis=1) for j in range(1, 5)], axis=1)
    z = (per.mean(0) - [np.mean(exact**j) for j in range(1, 5)]) / (
        per.std(0, ddof=1) / math.sqrt(per.shape[0])
    )
    n, w = d.nodes[ok], d.weights[ok] / d.nodes.shape[0]
    bulk = exact if edge is None else exact[exact <= edge]
    if edge is not None:
        k = n <= edge
        n, w = n[k], w[k]
    if log_floor is not None:
        n, bulk = (np.log(np.maximum(np.abs(a), log_floor)) for a in (n, bulk))
    return z, wasserstein_1(n, bulk, w) / (bulk.max() - bulk.min())


def semicircle():
    from pspin import SphericalPSpin, theory

    N, p = 400, 3
    t0 = time.perf_counter()
    e = SphericalPSpin(N, p, seed=0)
    X = _descend(e, e.random_point(100, size=4), 500)
    t_gd = time.perf_counter() - t0
    se1 = math.sqrt(2 * p * (p - 1) * (N - 1) / N) / (N - 1)
    print(f"\n### Semicircle, p=3, N=400 (4 GD endpoints, 500 steps, {t_gd:.0f} s)\n")
    print("| endpoint | H/N | rms rgrad | KS | mean + p u | 1 s.e. |\n|---|---|---|---|---|---|")
    diffs = []
    for i, x in enumerate(X):
        u = e.energy(x) / N
        ev = hessian_eigenvalues(e, x).eigenvalues
        ks = ks_distance(ev, theory.hessian_spectrum(u, p).cdf)  # centre -p u, radius 2 sqrt 6
        diffs.append(ev.mean() + p * u)
        g = np.linalg.norm(e.rgrad(x)) / math.sqrt(N)
        print(f"| {i} | {u:.5f} | {g:.1e} | {ks:.4f} | {diffs[-1]:+.4f} | {se1:.4f} |")
    print(
        f"\nmean over endpoints of (mean eigenvalue + p u) = {np.mean(diffs):+.4f} = "
        f"{np.mean(diffs) / (se1 / 2):.2f} standard errors (bound 4)"
    )


def slq():
    from landscapes import datasets
    from landscapes.nn import MLPLoss
    from pspin import SphericalPSpin

    print("\n### SLQ faithfulness (10 probes, 80 steps)\n")
    print(
        "| case | dim | exact s | exact HVPs | SLQ s | SLQ HVPs | moment z (1..4) | bulk W1/width "
        "| broken W1/width | Lanczos top-5 rel err | Lanczos HVPs |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    e = SphericalPSpin(400, 3, seed=0)
    x = _descend(e, e.random_point(100), 300)
    cases = [("p=3 N=400 GD endpoint", e, x, None)]
    data = datasets.digits(scaling="unit", seed=0)
    m = MLPLoss(data, hidden=(32,), activation="tanh", loss="cross_entropy")
    xm, _ = _train(m, m.random_point(0), 0.5, 0.05)
    cases.append((f"digits MLP 64-32-10 CE, loss {m.energy(xm):.3f}", m, xm, "log"))
    for name, en, xx, scale in cases:
        t0 = time.perf_counter()
        ex = hessian_eigenvalues(en, xx)
        t_ex = time.perf_counter() - t0
        t0 = time.perf_counter()
        d = spectral_density(en, xx, method="slq", n_probes=10, lanczos_steps=80, seed=0)
        t_slq = time.perf_counter() - t0
        ev = ex.eigenvalues
        edge = floor = None
        if scale == "log":
            edge = outliers(ev, n_top=30).edge
            floor = ev[-1] / 80**2  # Lanczos resolution near 0: lambda_max / m^2
        z, w1 = faithful(d, ev, edge, floor)
        short = spectral_density(en, xx, method="slq", n_probes=10, lanczos_steps=8, seed=0)
        ok = np.isfinite(short.nodes)
        uni = type(short)(
            **{**short.__dict__, "weights": np.where(ok, 1.0 / ok.sum(1, keepdims=True), np.nan)}
        )
        _, w1b = faithful(uni, ev, edge, floor)
        if scale == "log":
            sweep = []
            for f in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8):
                _, w1f = faithful(d, ev, edge, f * ev[-1])
                below = np.mean(np.abs(ev) < f * ev[-1])
                sweep.append(f"floor {f:.0e} l_max: W1/width {w1f:.4f} ({below:.0%} of |l| below)")
            floor_notes = "; ".join(sweep)
        t0 = time.perf_counter()
        ln = hessian_eigenvalues(en, xx, k=5, method="lanczos", seed=0)
        t_l = time.perf_counter() - t0
        rel = np.max(np.abs(ln.eigenvalues - ev[-5:]) / np.abs(ev[-5:]))
        print(
            f"| {name} | {d.dim} | {t_ex:.1f} | {ex.n_hvp} | {t_slq:.1f} | {d.n_hvp} | "
            f"{', '.join(f'{v:+.2f}' for v in z)} | {w1:.4f} | {w1b:.3f} | {rel:.1e} "
            f"| {ln.n_hvp} ({t_l:.1f} s) |"
        )
        if scale == "log":
            print(f"\nlog-scale floor sensitivity ({name}): {floor_notes}\n")


def unit_mixture(C, dim=32, separation=2.0, n=1000, seed=0):
    """The protocol's Gaussian mixture, every feature min-max scaled into [0, 1]."""
    from landscapes import datasets

    g = datasets.gaussian_mixture(
        n_classes=C, dim=dim, separation=separation, n_samples=n, seed=seed
    )
    X = np.asarray(g.X)
    X = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    return datasets.from_arrays(X, g.y, n_classes=C, name=f"mixture{C}-unit")


def train_protocol(m, x, stop, max_steps=3000):
    """Full-batch GD at step 1/lambda_max(init) (halved when the loss rises) until loss <= stop."""
    lam = hessian_eigenvalues(m, x, k=1, method="lanczos", seed=0, tol=1e-3).eigenvalues[-1]
    lr, prev = 1.0 / lam, np.inf
    for step in range(max_steps):
        e, g = m.energy_and_gradient(x)
        if e <= stop:
            return x, step
        if e > prev:
            lr *= 0.5
        prev = e
        x = x - lr * g
    return x, max_steps


def outlier_table():
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    print(
        "\n### Bulk and outliers (protocol: inputs in [0,1]; MLP d-32-C tanh; GD at 1/lambda_max"
        "(init); stop CE at 1/2 its initial loss, MSE at 3/4 of (1-1/C)/2; CE: largest relative "
        "gap among the top 3C eigenvalues; MSE: among the top 3C groups = 3C^2 eigenvalues)\n"
    )
    print(
        "| data | C | loss | width | P | stopping loss | reached | GD steps | train acc | "
        "outliers | groups of C | gap ratio | expected |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for C in (2, 5, 10, "digits"):
        for loss in ("cross_entropy", "mse"):
            if C == "digits":
                data, nC = datasets.digits(scaling="unit", seed=0, n_train=600), 10
            else:
                data, nC = unit_mixture(C), C
            h = 32
            t0 = time.perf_counter()
            m = MLPLoss(data, hidden=(h,), activation="tanh", loss=loss)
            x0 = m.random_point(0)
            stop = 0.5 * m.energy(x0) if loss == "cross_entropy" else 0.75 * 0.5 * (1 - 1 / nC)
            x, steps = train_protocol(m, x0, stop)
            ev = hessian_eigenvalues(m, x).eigenvalues
            o = outliers(ev, n_top=3 * nC if loss == "cross_entropy" else 3 * nC * nC)
            ratio = o.values.min() / ev[-o.count - 1]
            exp = f"{nC - 1} (C-1)" if loss == "cross_entropy" else f"{nC} (1 group of C)"
            print(
                f"| {'digits' if C == 'digits' else 'mixture'} | {nC} | {loss} | {h} | {m.dim} "
                f"| {stop:.3f} | {m.energy(x):.3f} | {steps} | {m.accuracy(x):.2f} | {o.count} "
                f"| {o.count / nC:.2f} | {ratio:.1f} | {exp} |  <!-- {time.perf_counter() - t0:.0f} s -->",
                flush=True,
            )


def scale():
    from benchmarks._ceilings import matmul_gflops, read_gbps
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    data = datasets.digits(scaling="unit", seed=0)
    m = MLPLoss(data, hidden=(300, 256), activation="tanh", loss="cross_entropy")
    x = m.random_point(0)
    x, _ = _train(m, x, 0.2, 0.0, max_steps=100, chunk=100)
    gf, gb = matmul_gflops(), read_gbps()
    t0 = time.perf_counter()
    d = spectral_density(m, x, method="slq", n_probes=10, lanczos_steps=80, seed=0)
    t = time.perf_counter() - t0
    rows = [("MLPLoss (numpy R-operator)", "10 x 80", t, d.n_hvp, "measured")]
    try:
        import torch

        from landscapes.torch import torch_mlp
    except ImportError:  # torch is optional
        torch = None
    if torch is not None:
        twin, perm = torch_mlp(m)
        xt = x[perm]
        t0 = time.perf_counter()
        dt = spectral_density(twin, xt, method="slq", n_probes=10, lanczos_steps=8, seed=0)
        tt = time.perf_counter() - t0
        t0 = time.perf_counter()
        dm = spectral_density(m, x, method="slq", n_probes=10, lanczos_steps=8, seed=0)
        tm = time.perf_counter() - t0
        rows.append(("MLPLoss, same short run", "10 x 8", tm, dm.n_hvp, "measured"))
        rows.append(("TorchLoss twin (double backprop)", "10 x 8", tt, dt.n_hvp, "measured"))
        rows.append(
            ("TorchLoss twin, 10 x 80 extrapolated", "10 x 80", 10 * tt, 10 * dt.n_hvp, "x10")
        )
        # the twins' SLQ probes differ (permuted coordinates): compare HVPs directly instead
        V = np.random.default_rng(1).standard_normal((3, m.dim))
        Hm = m.hvp(x, V)[:, perm]
        agree = np.max(np.abs(twin.hvp(xt, V[:, perm]) - Hm)) / np.max(np.abs(Hm))
    print(
        f"\n### Scale: SLQ density of a digits MLP 64-300-256-10 (P={m.dim:,}, n={m.n_samples} "
        f"samples), float64 matmul {gf:.1f} GFLOP/s, array read {gb:.1f} GB/s in this run\n"
    )
    print("| implementation | probes x steps | seconds | HVPs | |\n|---|---|---|---|---|")
    for name, ps, sec, nh, how in rows:
        print(f"| {name} | {ps} | {sec:.1f} | {nh} | {how} |")
    if torch is not None:
        print(f"\nmax |HVP difference| / max |HVP| between the twins (3 vectors): {agree:.1e}")


SECTIONS = {"semicircle": semicircle, "slq": slq, "outliers": outlier_table, "scale": scale}

if __name__ == "__main__":
    names = sys.argv[1:] or list(SECTIONS)
    for n in names:
        if n not in SECTIONS:
            raise SystemExit(f"unknown section {n!r}; choose from {', '.join(SECTIONS)}")
        SECTIONS[n]()
