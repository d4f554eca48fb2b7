"""Progress bars (tqdm, notebook-aware): named tasks and phases, honest about what is unknown.

The one progress API of the package. :class:`Progress` is a bar over ``total`` units of work
whose total is known (tasks of a sweep, widths of an experiment). When only a *budget* is known
(a step limit of a descent that stops at convergence, a start budget of a census that stops at
its certificate), pass ``budget=True``: the bar counts units and shows the rate, never an ETA
computed from the budget. ``total=None`` is an indeterminate bar. :func:`phase` shows one
named phase of a command (a spinner-like bar with its elapsed time), e.g. "figures".

Bars are drawn with :mod:`tqdm.auto` (widgets in a notebook, text on a terminal) on stderr,
and only when stderr is a terminal (or in a notebook) and ``LANDSCAPES_PROGRESS`` is not
"0"; ``enabled=False`` (``--no-progress``) silences them. Errors are never silenced.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["Progress", "phase", "progress_enabled", "set_progress"]

_FORCED: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Force every bar on (True) or off (False) in this process, or restore the default (None).

    Used by ``--no-progress``: bars of library calls made by the command are silenced too.
    """
    global _FORCED
    _FORCED = None if enabled is None else bool(enabled)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # noqa: PLC0415 - optional
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether a bar is shown: ``enabled`` when given (and not forced off), else the default.

    The default is on when stderr is a terminal or in a notebook, and ``LANDSCAPES_PROGRESS``
    is not "0".
    """
    if _FORCED is False:
        return False
    if enabled is not None:
        return bool(enabled)
    if _FORCED is True:
        return True
    if os.environ.get("LANDSCAPES_PROGRESS", "1") == "0":
        return False
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty or _in_notebook()


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


class Progress:
    """A named progress bar over units of work, shown on stderr when enabled.

    Parameters
    ----------
    total : int or None
        Number of units; None for an indeterminate bar (count and rate only).
    desc : str
        Name of the task or phase (shown before the bar).
    enabled : bool or None
        Force on/off; by default on only on a terminal or in a notebook (see
        :func:`progress_enabled`).
    budget : bool
        ``total`` is an upper bound, not the expected amount of work (a step or start budget
        that convergence usually cuts short): the bar shows the count, the budget and the
        rate, never an ETA.
    unit : str
        Name of a unit (e.g. "task", "step").
    """

    def __init__(
        self,
        total: int | None,
        desc: str = "",
        enabled: bool | None = None,
        *,
        budget: bool = False,
        unit: str = "it",
    ):
        self.total = None if total is None else max(int(total), 0)
        self.desc = desc
        self.budget = bool(budget)
        self.n = 0
        self.enabled = progress_enabled(enabled)
        self._bar = None
        if self.enabled:
            from tqdm.auto import tqdm

            shown = None if (self.budget or self.total is None) else self.total
            self._bar = tqdm(
                total=shown,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=None,  # nested bars (a descent inside a task) vanish when done
                dynamic_ncols=True,
                mininterval=0.2,
            )
            if self.budget and self.total is not None:
                self._bar.set_postfix_str(f"budget {self.total}", refresh=False)

    def update(self, n: int = 1, **info) -> None:
        """Advance by ``n`` units; ``info`` is shown after the bar (e.g. energy=-1.6)."""
        self.n += n
        if self._bar is None:
            return
        if info or self.budget:
            extra = ", ".join(f"{k}={_fmt(v)}" for k, v in info.items())
            if self.budget and self.total is not None:
                extra = f"of at most {self.total}" + (f", {extra}" if extra else "")
            self._bar.set_postfix_str(extra, refresh=False)
        self._bar.update(n)

    def set_description(self, desc: str) -> None:
        """Rename the bar (e.g. to the task now running)."""
        self.desc = desc
        if self._bar is not None:
            self._bar.set_description_str(desc)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


@contextlib.contextmanager
def phase(desc: str, enabled: bool | None = None, total: int | None = None) -> Iterator[Progress]:
    """A named phase of a command, shown as a bar while it runs (with its elapsed time).

    ``total`` is the number of steps of the phase when known (e.g. figures to draw); advance
    with ``update()``. Without it the bar is indeterminate and simply shows that the phase is
    running and for how long.
    """
    bar = Progress(total, desc=desc, enabled=enabled, unit="step")
    try:
        yield bar
    finally:
        bar.close()
