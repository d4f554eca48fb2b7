"""Benchmark of the landscape instruments: Lennard-Jones global minima and network catalogues.

``python -m benchmarks.landscapes --lj 13 --seeds 5`` runs basin-hopping
(:func:`analysis.critical.basinhopping.basin_hopping`) from random starts until the known
global minimum (Cambridge Cluster Database) is reached or the budget is spent, per seed, and
prints one Markdown row per run: quenches, steps, wall and CPU seconds, and the load average.
``--lj 38 --budget 1800`` is the LJ38 (truncated octahedron) run with a 30-minute budget.

``python -m benchmarks.landscapes --summarize RUN_DIR ...`` prints the counts of
``landscapes landscape`` run folders (minima, saddles, connected saddles, critical points,
largest index fraction, gradient-flat points, seconds). Results: benchmarks/landscapes.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from analysis.critical.basinhopping import basin_hopping
from landscapes.clusters import LennardJones

#: Global minima in reduced units (Cambridge Cluster Database; Wales & Doye 1997).
LJ_GLOBAL = {7: -16.505384, 13: -44.326801, 38: -173.928427}
#: Default budgets (seconds) per cluster.
BUDGET = {7: 60.0, 13: 60.0, 38: 1800.0}


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def lj(n: int, seeds: int, budget: float | None, replicas: int, temperature: float) -> None:
    """One row per seed: basin-hopping until LJn's global minimum or the budget."""
    target = LJ_GLOBAL[n]
    budget = BUDGET.get(n, 600.0) if budget is None else budget
    E = LennardJones(n)
    print(
        f"| LJ{n} | seed | found | best E | steps | quenches | wall s | CPU s | "
        "load avg (1, 5, 15 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for s in range(seeds):
        load = _load()
        t, tp = time.perf_counter(), time.process_time()
        r = basin_hopping(
            E,
            n_replicas=replicas,
            n_steps=10**9,
            temperature=temperature,
            seed=s,
            target_energy=target,
            max_time=budget,
        )
        wall, cpu = time.perf_counter() - t, time.process_time() - tp
        print(
            f"| LJ{n} | {s} | {r.stopped_by == 'target'} | {r.best_energy:.6f} | "
            f"{r.n_steps} | {r.n_quenches} | {wall:.1f} | {cpu:.1f} | {load} -> {_load()} |",
            flush=True,
        )


def summarize(dirs: list[str]) -> None:
    """Counts of ``landscapes landscape`` run folders."""
    cols = [
        "system",
        "dim",
        "minima",
        "saddles",
        "saddles_connected",
        "saddles_connected_via_higher_index",
        "critical_points",
        "max_index_fraction",
        "gradient_flat",
        "seconds_total",
    ]
    print("| run | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for d in dirs:
        with open(_table(d, "summary.csv")) as f:
            row = next(csv.DictReader(f))
        if _table(d, "timings.csv").exists():  # wall times are kept apart from the results
            with open(_table(d, "timings.csv")) as f:
                row.update(next(csv.DictReader(f)))
        print(f"| {Path(d).name} | " + " | ".join(row.get(c, "") for c in cols) + " |")
    print("\n| run | distinct minimum energies | distinct saddle energies |\n|---|---|---|")
    for d in dirs:
        n = [_distinct(_table(d, f"{k}.csv")) for k in ("minima", "saddles")]
        print(f"| {Path(d).name} | {n[0]} | {n[1]} |")


def _table(run: str, name: str) -> Path:
    p = Path(run) / "tables" / name
    return p if p.exists() else Path(run) / name


def _distinct(path: Path, rtol: float = 1e-9) -> int:
    """Distinct energy values of a table (points related by a symmetry share one)."""
    with open(path) as f:
        e = sorted(float(r["energy"]) for r in csv.DictReader(f))
    return sum(1 for i, v in enumerate(e) if i == 0 or v - e[i - 1] > rtol * max(1.0, abs(v)))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lj", type=int, nargs="*", default=[], help="cluster sizes (7, 13, 38)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=None, help="seconds per run")
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--summarize", nargs="*", default=[], help="landscape run folders")
    args = ap.parse_args(argv)
    for n in args.lj:
        if n not in LJ_GLOBAL:
            raise SystemExit(f"--lj takes sizes {sorted(LJ_GLOBAL)}")
        lj(n, args.seeds, args.budget, args.replicas, args.temperature)
    if args.summarize:
        summarize(args.summarize)


if __name__ == "__main__":
    main()
