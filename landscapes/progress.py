"""A minimal progress reporter: shown on a terminal, silent otherwise and in tests."""

from __future__ import annotations

import os
import sys
import time


class Progress:
    """Progress over ``total`` units of work, printed to stderr when it is a terminal.

    Parameters
    ----------
    total : int
        Number of units.
    desc : str
        Label of the stage.
    enabled : bool or None
        Force on/off; by default on only when stderr is a TTY and ``LANDSCAPES_PROGRESS``
        is not "0".
    """

    def __init__(self, total: int, desc: str = "", enabled: bool | None = None):
        self.total = max(int(total), 0)
        self.desc = desc
        self.n = 0
        if enabled is None:
            enabled = sys.stderr.isatty() and os.environ.get("LANDSCAPES_PROGRESS", "1") != "0"
        self.enabled = enabled
        self._t0 = time.perf_counter()
        self._last = 0.0

    def update(self, n: int = 1, **info) -> None:
        """Advance by ``n`` units; ``info`` is shown after the bar (e.g. energy=-1.6)."""
        self.n += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.2 and self.n < self.total:
            return
        self._last = now
        frac = self.n / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        el = now - self._t0
        eta = el / frac - el if frac > 0 else float("nan")
        extra = " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()
        )
        sys.stderr.write(
            f"\r{self.desc} [{bar}] {self.n}/{self.total} {el:6.1f}s eta {eta:6.1f}s {extra}   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self.update(0)
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
