"""A tiny task function for checking an executor or a cluster (tests, docs, benchmarks)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["echo_task"]


def echo_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """A tiny task that checks an executor or a cluster: ``n`` normal draws from its seed.

    On request it sleeps (``sleep``: seconds), raises (``fail``: message), or fails once
    (``flaky``: path of a marker file on a shared file system; the first attempt creates it
    and raises, later attempts succeed) -- to check retries and failure reports.
    """
    if config.get("fail"):
        raise RuntimeError(str(config["fail"]))
    if config.get("flaky"):
        marker = Path(config["flaky"])
        if not marker.exists():
            marker.write_text("failed once\n")
            raise RuntimeError(f"flaky task: first attempt (marker {marker})")
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    n = int(config.get("n", 4))
    draws = np.random.Generator(np.random.PCG64(seed)).standard_normal(n)
    return {"sum": float(draws.sum()), "n": n, "numpy": np.__version__}, {"draws": draws}
