"""MLPLoss kernels against PyTorch and against the machine's ceilings.

Run: ``python -m benchmarks.nn`` (``--quick`` for a smoke run; ``--no-torch`` without
PyTorch). Prints a Markdown table; the latest figures are recorded in benchmarks/nn.md.

Model: digits (1,347 training images, unit scaling), 64-128-10 tanh, cross-entropy,
float64, full batch (P = 9,610). Measured in one run:

* gradient and HVP time of MLPLoss (backprop; R-operator) vs PyTorch on the CPU (autograd
  gradient; HVP by double backpropagation, through ``torch.func.functional_call``, the
  graph rebuilt per call as an Energy must);
* HVP cost / gradient cost for each;
* K = 16 replicas in one batched call vs a loop of 16 single calls;
* the peak of numpy allocations (tracemalloc) for one gradient / one HVP / K = 16;
* the flop rate of the gradient against a plain float64 matrix product.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc

import numpy as np

from benchmarks._ceilings import best_time, machine_ceilings
from landscapes import datasets
from landscapes.nn import MLPLoss


def _peak_mib(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(quick: bool = False, use_torch: bool = True, K: int = 16) -> tuple[list[dict], dict]:
    data = datasets.digits(seed=0)
    E = MLPLoss(data, hidden=(128,), activation="tanh", loss="cross_entropy")
    rng = np.random.default_rng(0)
    x = E.random_point(rng)
    v = rng.standard_normal(E.dim)
    X = E.random_point(rng, size=K)
    V = rng.standard_normal((K, E.dim))
    rep = 3 if quick else 9
    n, P = E.n_samples, E.dim
    # flops of one gradient: forward 2nPw (two GEMMs), backward 4nPw (two GEMMs for weight
    # gradients, one for the back-propagated error) -> about 6 n P multiply-adds... count 2 per MAC
    flops_grad = 6.0 * n * P
    rows = []
    tg = best_time(lambda: E.gradient(x), repeat=rep)
    th = best_time(lambda: E.hvp(x, v), repeat=rep)
    tgK = best_time(lambda: E.gradient(X), repeat=max(3, rep // 3))
    thK = best_time(lambda: E.hvp(X, V), repeat=max(3, rep // 3))
    tg_loop = best_time(lambda: [E.gradient(X[k]) for k in range(K)], repeat=max(3, rep // 3))
    th_loop = best_time(lambda: [E.hvp(X[k], V[k]) for k in range(K)], repeat=max(3, rep // 3))
    rows.append(
        {
            "implementation": "MLPLoss (numpy)",
            "gradient ms": 1e3 * tg,
            "HVP ms": 1e3 * th,
            "HVP / gradient": th / tg,
            f"gradient K={K} batched ms": 1e3 * tgK,
            f"gradient loop of {K} ms": 1e3 * tg_loop,
            f"HVP K={K} batched ms": 1e3 * thK,
            f"HVP loop of {K} ms": 1e3 * th_loop,
            "gradient GFLOP/s": flops_grad / tg / 1e9,
            "peak MiB gradient": _peak_mib(lambda: E.gradient(x)),
            "peak MiB HVP": _peak_mib(lambda: E.hvp(x, v)),
            f"peak MiB HVP K={K}": _peak_mib(lambda: E.hvp(X, V)),
        }
    )
    if use_torch:
        import torch

        from landscapes.torch import torch_mlp

        twin, perm = torch_mlp(E)
        xt, vt = x[perm], v[perm]
        Xt, Vt = X[:, perm], V[:, perm]
        assert np.allclose(twin.hvp(xt, vt), E.hvp(x, v)[perm], rtol=1e-9, atol=1e-12)
        tgt = best_time(lambda: twin.gradient(xt), repeat=rep)
        tht = best_time(lambda: twin.hvp(xt, vt), repeat=rep)
        tgKt = best_time(lambda: twin.gradient(Xt), repeat=max(3, rep // 3))
        thKt = best_time(lambda: twin.hvp(Xt, Vt), repeat=max(3, rep // 3))
        rows.append(
            {
                "implementation": f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)",
                "gradient ms": 1e3 * tgt,
                "HVP ms": 1e3 * tht,
                "HVP / gradient": tht / tgt,
                f"gradient K={K} batched ms": float("nan"),
                f"gradient loop of {K} ms": 1e3 * tgKt,
                f"HVP K={K} batched ms": float("nan"),
                f"HVP loop of {K} ms": 1e3 * thKt,
                "gradient GFLOP/s": flops_grad / tgt / 1e9,
                "peak MiB gradient": float("nan"),
                "peak MiB HVP": float("nan"),
                f"peak MiB HVP K={K}": float("nan"),
            }
        )
    ceil = machine_ceilings() if not quick else {"matmul_gflops": float("nan")}
    ceil.update({"P": P, "n": n})
    return rows, ceil


def to_markdown(rows: list[dict], ceil: dict) -> str:
    keys = list(rows[0])
    lines = ["| quantity | " + " | ".join(r["implementation"] for r in rows) + " |"]
    lines.append("|---" * (len(rows) + 1) + "|")
    for k in keys[1:]:
        vals = []
        for r in rows:
            val = r[k]
            vals.append("—" if val != val else f"{val:.3g}")
        lines.append(f"| {k} | " + " | ".join(vals) + " |")
    extra = ", ".join(
        f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in ceil.items()
    )
    return "\n".join(lines) + f"\n\nmachine and model: {extra}\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: skipping the PyTorch column", file=sys.stderr)
            use_torch = False
    rows, ceil = run(quick=args.quick, use_torch=use_torch)
    print(to_markdown(rows, ceil))
    return 0


if __name__ == "__main__":
    sys.exit(main())
