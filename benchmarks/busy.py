"""Speed on a busy machine: the thread policy against competing CPU-bound processes.

Run: ``python -m benchmarks.busy`` (``--quick`` for a smoke run; ``--rounds R`` repeats).
Prints Markdown tables; the latest figures are recorded in ``benchmarks/busy.md``.

The benchmark starts its own competitors: ``--competitors`` (default 2) Python processes that
spin on the CPU (no BLAS), so "busy" means the same thing on every run. Quiet and busy
measurements are interleaved round by round and the spread over rounds is reported.

Measured, each quiet and busy:

* the crossing of one vs two BLAS threads for products (64 x n) @ (n x n): the size below
  which a second thread does not pay (the basis of ``landscapes.threads.SMALL_WORK_FLOPS``);
* one p = 3, N = 200 gradient (the policy's default, and with two threads forced), the median
  of 140 calls (not the best call: under load the luckiest call fits in one scheduler slice);
* ``landscapes compare --quick`` wall time (a fresh process each time, default policy).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks._ceilings import best_time
from landscapes import threads


def _spin(stop) -> None:  # pragma: no cover - runs in a child process
    x = 0
    while not stop.is_set():
        for _ in range(10_000):
            x += 1


@contextlib.contextmanager
def competitors(n: int):
    """Context: ``n`` CPU-bound child processes spinning until the block ends."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let them reach the CPU
    try:
        yield
    finally:
        stop.set()
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def gemm_times(sizes, repeat: int) -> dict:
    """Best time of (64 x n) @ (n x n) at one and two threads, per n."""
    rng = np.random.default_rng(0)
    out = {}
    for n in sizes:
        A = rng.standard_normal((64, n))
        B = rng.standard_normal((n, n))
        row = {}
        for t in (1, 2):
            with threads.limit(t):
                row[t] = best_time(lambda A=A, B=B: A @ B, repeat=repeat)
        out[n] = row
    return out


def gradient_times(repeat: int) -> dict:
    """One p = 3, N = 200 gradient: the default policy and two forced threads."""
    from pspin import SphericalPSpin

    m = SphericalPSpin(200, 3, seed=0)
    x = m.random_point(1)
    res = {"policy": median_time(lambda: m.gradient(x), calls=20 * repeat)}
    with threads.limit(2):
        res["2 threads"] = median_time(lambda: m.gradient(x), calls=20 * repeat)
    return res


def median_time(fn, calls: int) -> float:
    """Median wall time of ``calls`` calls of ``fn`` (a busy machine is judged by the typical
    call, not the luckiest one that fitted in one scheduler slice)."""
    fn()
    times = np.empty(calls)
    for i in range(calls):
        t0 = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t0
    return float(np.median(times))


def compare_time() -> float:
    """Wall time of ``landscapes compare --quick`` in a fresh process (default policy)."""
    with tempfile.TemporaryDirectory() as d:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        }
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "landscapes",
                "compare",
                "--quick",
                "--no-progress",
                "--out",
                f"{d}/run",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - t0


def _spread(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.3g} [{v.min():.3g}, {v.max():.3g}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, one round, no compare")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved quiet/busy rounds")
    ap.add_argument("--competitors", type=int, default=2, help="CPU-bound competitors")
    ap.add_argument("--no-compare", action="store_true", help="skip the compare --quick runs")
    args = ap.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    sizes = [32, 64, 128] if args.quick else [16, 32, 64, 128, 256, 512, 1024]
    repeat = 3 if args.quick else 7
    do_compare = not (args.quick or args.no_compare)

    print(f"load average at start: {os.getloadavg()}; cores available: {threads.available_cores()}")
    rec = {s: {"gemm": [], "grad": [], "compare": []} for s in ("quiet", "busy")}
    for r in range(rounds):
        for state in ("quiet", "busy"):
            cm = competitors(args.competitors) if state == "busy" else contextlib.nullcontext()
            with cm:
                rec[state]["gemm"].append(gemm_times(sizes, repeat))
                rec[state]["grad"].append(gradient_times(repeat))
                if do_compare:
                    rec[state]["compare"].append(compare_time())
            print(f"round {r + 1}/{rounds} {state} done; load {os.getloadavg()[0]:.2f}", flush=True)

    print("\n### (64 x n) @ (n x n): ms at 1 and 2 threads, median [min, max] over rounds\n")
    print("| n | MFLOP | quiet 1 thr | quiet 2 thr | busy 1 thr | busy 2 thr |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        cells = []
        for state in ("quiet", "busy"):
            for t in (1, 2):
                cells.append(_spread([g[n][t] * 1e3 for g in rec[state]["gemm"]]))
        print(f"| {n} | {2 * 64 * n * n / 1e6:.3g} | " + " | ".join(cells) + " |")

    print("\n### one p = 3, N = 200 gradient (ms, median of 140 calls)\n")
    print("| setting | quiet | busy | busy / quiet (median) |")
    print("|---|---|---|---|")
    for key in ("policy", "2 threads"):
        q = [g[key] * 1e3 for g in rec["quiet"]["grad"]]
        b = [g[key] * 1e3 for g in rec["busy"]["grad"]]
        print(f"| {key} | {_spread(q)} | {_spread(b)} | {np.median(b) / np.median(q):.2f} |")
    if do_compare:
        q, b = rec["quiet"]["compare"], rec["busy"]["compare"]
        print("\n### `landscapes compare --quick` wall time (s)\n")
        print("| quiet | busy | busy / quiet (median) |")
        print("|---|---|---|")
        print(f"| {_spread(q)} | {_spread(b)} | {np.median(b) / np.median(q):.2f} |")
    print(f"\nload average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
