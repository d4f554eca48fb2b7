"""Task functions of the reliability suite (importable by executor workers)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def sleeper(config: dict, seed) -> tuple[dict, dict]:
    """Write this worker's pid to ``config["dir"]``, then sleep ``config["seconds"]``."""
    Path(config["dir"], f"{os.getpid()}.pid").write_text(str(os.getpid()))
    time.sleep(float(config["seconds"]))
    return {"pid": os.getpid()}, {}


def bad_input(config: dict, seed) -> tuple[dict, dict]:
    """Raise the ValueError of bad input, counting attempts in ``config["dir"]``."""
    marker = Path(config["dir"], "attempts")
    marker.write_text(str(int(marker.read_text()) + 1 if marker.exists() else 1))
    raise ValueError("step must be finite and > 0; got nan")
