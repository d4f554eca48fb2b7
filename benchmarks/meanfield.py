"""Full-size mean-field scaling runs (LLN, CLT for GD and online SGD, exact limit).

Run ``python -m benchmarks.meanfield [--out DIR] [--seeds 100] [--quick]``. Each experiment
goes through the ``landscapes meanfield`` command, so its run folder (tables, result.json,
figures) lands under DIR; the script prints a markdown table of slopes with bootstrap
standard errors and wall times, recorded in benchmarks/meanfield.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from analysis.cli import main as cli

RUNS = {
    "lln": ["--widths", "25", "50", "100", "200", "400", "800", "--T", "1", "--n-samples", "100"],
    "clt": ["--widths", "50", "100", "200", "400", "800", "1600", "--T", "1", "--n-samples", "100"],
    "limit": ["--widths", "16", "32", "64", "128", "256", "512", "--T", "1"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/bench-meanfield")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--only", nargs="+", choices=list(RUNS), default=list(RUNS))
    args = ap.parse_args(argv)
    out = Path(args.out)
    rows = []
    for exp in args.only:
        t0 = time.perf_counter()
        folder = out / exp
        extra = (
            ["--resume", str(folder)]
            if (folder / "config.json").exists()
            else ["--out", str(folder)]
        )
        rc = cli(["meanfield", exp, *RUNS[exp], "--seeds", str(args.seeds), *extra])
        if rc:
            return rc
        wall = time.perf_counter() - t0
        for res in sorted(folder.glob("*/result.json")):
            m = json.loads(res.read_text())
            for name, (s, se) in m["slopes"].items():
                rows.append(
                    f"| {exp}/{res.parent.name} | {name} | {s:.4f} | {se:.4f} | "
                    f"{m['theory_slope']:g} | {(s - m['theory_slope']) / se:+.2f} | {wall:.0f} |"
                )
    print("| experiment | observable | slope | slope_se | theory | z | wall s (whole exp.) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
