"""Network kernels against PyTorch's double backpropagation, at 1 and at 2 threads.

Run: ``python -m benchmarks.nn`` (about 1-2 minutes on 2 cores; ``--quick`` for a smoke run,
``--reps N`` for more repeats). Prints a Markdown table ready to paste into
benchmarks/nn.md, with the load average beside every figure. Needs ``torch`` (the optional
extra) for the PyTorch columns; ``--no-torch`` times the numpy kernels alone.

Measured in one run, for each thread count (1, then 2; numpy through
``landscapes.threads.limit``, which also sets ``torch.set_num_threads``):

* the machine's float64 GEMM ceiling (2000 x 2000 product, ``benchmarks/_ceilings.py``);
* gradient and Hessian-vector product of every network energy and of its PyTorch twin, the
  calls interleaved (numpy, torch, numpy, torch, ...) and repeated; median and the 10-90%
  range of the per-call times. PyTorch: autograd on a flat parameter tensor sliced into the
  layers (no ``functional_call`` overhead; graph rebuilt per call as an Energy must), HVP by
  double backpropagation ``grad(grad(L) . v)``. MLPLoss is also timed against
  ``landscapes.torch.TorchLoss`` (the Energy adapter, what users would otherwise run).
  Every twin is checked to agree with the numpy kernel (gradient and HVP to 1e-9) first.

Models (float64, full batch): MLP digits 64-128-10 tanh cross-entropy (1,348 samples,
P = 9,610); the three Ruthotto-Haber nets on digits (width 16, depth 8, h = 0.1, tanh,
cross-entropy); the mean-field net (N = 800 particles, d = 5, n = 100 samples, tanh, half
MSE; and K = 16 replicas in one batched call against 16 PyTorch calls).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from benchmarks._ceilings import blas_info, matmul_gflops
from landscapes import datasets, threads
from landscapes.meanfield.net import MeanFieldNet
from landscapes.nn import HamiltonianResNet, MLPLoss, ParabolicResNet, SecondOrderResNet


def _load() -> float:
    return os.getloadavg()[0]


# ----------------------------------------------------------------------------- torch twins
def _torch_fns(loss_of_theta, torch):
    """(gradient, hvp) of a scalar function of a flat float64 tensor, by autograd."""

    def grad(x):
        t = torch.from_numpy(x).requires_grad_(True)
        (g,) = torch.autograd.grad(loss_of_theta(t), t)
        return g.numpy()

    def hvp(x, v):
        t = torch.from_numpy(x).requires_grad_(True)
        (g,) = torch.autograd.grad(loss_of_theta(t), t, create_graph=True)
        (h,) = torch.autograd.grad(g, t, grad_outputs=torch.from_numpy(v))
        return h.numpy()

    return grad, hvp


def _mlp_twin(E: MLPLoss, torch):
    F = torch.nn.functional
    Xd = torch.from_numpy(np.array(E.data.X))
    y = torch.from_numpy(E.data.y.astype(np.int64))
    act = {"tanh": torch.tanh, "relu": torch.relu}[E.activation]

    def loss(t):
        A = Xd
        for i, (w0, w1, b1) in enumerate(E.layout):
            A = torch.addmm(t[w1:b1], A, t[w0:w1].view(E.sizes[i], E.sizes[i + 1]))
            if i < E.n_layers - 1:
                A = act(A)
        return F.cross_entropy(A, y)

    return _torch_fns(loss, torch)


def _resnet_twin(E, torch):
    """The Ruthotto-Haber program of ``E`` (its own op list) run on torch tensors."""
    F = torch.nn.functional
    Xd = torch.from_numpy(np.array(E.data.X))
    y = torch.from_numpy(E.data.y.astype(np.int64))
    blocks = [(name, shape, a, b) for name, shape, a, b in E._blocks]
    prog = E._program()

    def loss(t):
        W = {name: t[a:b].view(*shape) for name, shape, a, b in blocks}
        Y0 = torch.addmm(W["b_in"], Xd, W["W_in"])
        slots = [Y0] if E.n_slots == 1 else [Y0, torch.zeros_like(Y0)]
        if E.kind == "second_order":
            slots = [Y0, Y0]
        for op in prog:
            if op[0] == "mix":
                slots = [2 * slots[0] - slots[1], slots[0]]
                continue
            _, tt, s, kn, bn, j, c = op
            K = W[kn][j]
            A = torch.tanh(torch.addmm(W[bn][j], slots[s], K))
            slots[tt] = slots[tt] + c * (A @ K.T)
        H = torch.cat([slots[i] for i in E.head_slots], dim=1)
        return F.cross_entropy(torch.addmm(W["b_out"], H, W["W_out"]), y)

    return _torch_fns(loss, torch)


def _meanfield_twin(E: MeanFieldNet, torch):
    Xd = torch.from_numpy(np.array(E.X))
    y = torch.from_numpy(np.array(E.y))

    def loss(t):
        P = t.view(E.N, E.d + 1)
        g = E.norm * (torch.tanh(Xd @ P[:, 1:].T) @ P[:, 0])
        return 0.5 * torch.mean((g - y) ** 2)

    return _torch_fns(loss, torch)


# ----------------------------------------------------------------------------- timing
def _interleaved(fns: dict, reps: int, budget_s: float = 8.0) -> dict:
    """Per-call seconds of each function, the calls interleaved, after one warm-up each.

    Stops after ``reps`` rounds, or after 5 rounds once ``budget_s`` seconds are spent (a
    loaded machine can make one multi-threaded call take seconds).
    """
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    start = time.perf_counter()
    for r in range(reps):
        if r >= 5 and time.perf_counter() - start > budget_s:
            break
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return times


def _cases(quick: bool):
    digits = datasets.digits(seed=0)
    rng = np.random.default_rng(0)
    out = []
    E = MLPLoss(digits, hidden=(128,), activation="tanh", loss="cross_entropy")
    out.append(("MLP 64-128-10 tanh", E, E.random_point(rng), rng.standard_normal(E.dim)))
    for cls in (ParabolicResNet, HamiltonianResNet, SecondOrderResNet):
        E = cls(digits, width=16, depth=8, h=0.1)
        x = E.random_point(rng) + 0.01 * rng.standard_normal(E.dim)
        out.append((f"{cls.__name__} w16 d8", E, x, rng.standard_normal(E.dim)))
    Xm = rng.standard_normal((100, 5))
    E = MeanFieldNet((Xm, np.tanh(Xm[:, 0])), 800)
    out.append(("MeanFieldNet N=800", E, E.random_point(1), rng.standard_normal(E.dim)))
    return out[:2] + out[-1:] if quick else out


def run(quick: bool = False, use_torch: bool = True, reps: int = 25) -> tuple[list[dict], dict]:
    """Rows of the table (one per model, operation and thread count) and the machine facts."""
    torch = None
    if use_torch:
        import torch
    reps = 5 if quick else reps
    cases = _cases(quick)
    twins = {}
    if torch is not None:
        for name, E, x, v in cases:
            mk = (
                _mlp_twin
                if isinstance(E, MLPLoss)
                else _meanfield_twin
                if isinstance(E, MeanFieldNet)
                else _resnet_twin
            )
            g, h = mk(E, torch)
            # the twin computes the same function: gradient and HVP agree to rounding
            for a, b in ((g(x), E.gradient(x)), (h(x, v), E.hvp(x, v))):
                scale = np.abs(b).max()
                assert np.abs(a - b).max() <= 1e-9 * scale, name
            twins[name] = (g, h)
    facts = {"blas": blas_info(), "load_start": _load(), "cores": threads.available_cores()}
    rows = []
    for nt in (1, 2):
        with threads.limit(nt):
            facts[f"gemm_gflops_{nt}"] = matmul_gflops(1000 if quick else 2000)
            facts[f"gemm_load_{nt}"] = _load()
            for name, E, x, v in cases:
                for op in ("gradient", "HVP"):
                    fns = {"numpy": (lambda E=E, x=x: E.gradient(x))}
                    if op == "HVP":
                        fns = {"numpy": (lambda E=E, x=x, v=v: E.hvp(x, v))}
                    if name in twins:
                        g, h = twins[name]
                        fns["torch"] = (
                            (lambda g=g, x=x: g(x))
                            if op == "gradient"
                            else (lambda h=h, x=x, v=v: h(x, v))
                        )
                    if torch is not None and isinstance(E, MLPLoss):
                        from landscapes.torch import torch_mlp

                        twin, perm = torch_mlp(E)
                        xt, vt = x[perm], v[perm]
                        fns["TorchLoss"] = (
                            (lambda xt=xt, twin=twin: twin.gradient(xt))
                            if op == "gradient"
                            else (lambda xt=xt, vt=vt, twin=twin: twin.hvp(xt, vt))
                        )
                    load0 = _load()
                    t = _interleaved(fns, reps)
                    rows.append(_row(name, op, nt, t, (load0 + _load()) / 2))
            if not quick and torch is not None:
                rows.append(_batched_meanfield(cases[-1][1], twins, cases[-1][0], nt, reps))
    facts["load_end"] = _load()
    return rows, facts


def _batched_meanfield(E, twins, name, nt, reps) -> dict:
    """K = 16 replicas' HVPs in one batched call vs 16 PyTorch HVP calls."""
    rng = np.random.default_rng(1)
    X = E.random_point(2, size=16)
    V = rng.standard_normal(X.shape)
    _, h = twins[name]
    fns = {
        "numpy": lambda: E.hvp(X, V),
        "torch": lambda: [h(X[k], V[k]) for k in range(16)],
    }
    load0 = _load()
    t = _interleaved(fns, max(3, reps // 3))
    return _row(f"{name}, K=16 replicas", "HVP", nt, t, (load0 + _load()) / 2)


def _row(name, op, nt, t: dict, load: float) -> dict:
    def stat(ts):
        a = 1e3 * np.asarray(ts)
        return float(np.median(a)), float(np.percentile(a, 10)), float(np.percentile(a, 90))

    row = {"model": name, "op": op, "threads": nt, "load": load}
    for k, ts in t.items():
        row[k] = stat(ts)
    if "torch" in t:
        row["ratio"] = row["numpy"][0] / row["torch"][0]
    return row


def to_markdown(rows: list[dict], facts: dict) -> str:
    def cell(r, k):
        if k not in r:
            return "—"
        m, lo, hi = r[k]
        return f"{m:.3g} ({lo:.3g}–{hi:.3g})"

    lines = [
        f"machine: {facts['cores']} cores, {facts['blas']}; float64 GEMM ceiling "
        f"{facts['gemm_gflops_1']:.1f} GFLOP/s at 1 thread (load {facts['gemm_load_1']:.1f}), "
        f"{facts['gemm_gflops_2']:.1f} GFLOP/s at 2 threads (load {facts['gemm_load_2']:.1f}); "
        f"load average {facts['load_start']:.1f} at the start, {facts['load_end']:.1f} at the end",
        "",
        "| model | op | threads | numpy ms | PyTorch ms | numpy / PyTorch | TorchLoss ms | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"**{r['ratio']:.2g}**" if "ratio" in r else "—"
        lines.append(
            f"| {r['model']} | {r['op']} | {r['threads']} | {cell(r, 'numpy')} | "
            f"{cell(r, 'torch')} | {ratio} | {cell(r, 'TorchLoss')} | {r['load']:.1f} |"
        )
    lines.append("")
    lines.append("ms: median (10–90% range) per call; load: 1-minute load average during the row.")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer models and repeats")
    ap.add_argument("--no-torch", action="store_true", help="numpy kernels only")
    ap.add_argument("--reps", type=int, default=25, help="interleaved repeats per row")
    args = ap.parse_args(argv)
    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: numpy kernels only", file=sys.stderr)
            use_torch = False
    t0 = time.perf_counter()
    rows, facts = run(quick=args.quick, use_torch=use_torch, reps=args.reps)
    print(to_markdown(rows, facts))
    print(f"\n(run took {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
