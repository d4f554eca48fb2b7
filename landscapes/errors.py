"""The error types of expected failures, defined once for the library, the sweeps and the CLI.

Every error here is an *expected* failure: bad user input, a run folder that cannot be used,
a stored file that is corrupted, a scheduler that cannot be reached. ``analysis.cli.main``
prints each as one line (``landscapes CMD: error: ...``) and exits with status 2; a traceback
means a bug. The classes derive from :class:`ValueError` (or :class:`RuntimeError`) so that
code catching those keeps working.
"""

from __future__ import annotations

import os

__all__ = [
    "LandscapesError",
    "RunFolderError",
    "CorruptedFileError",
    "SchedulerError",
    "EXPECTED_ERRORS",
    "one_line",
]


class LandscapesError(Exception):
    """Base class of the expected failures of this package (never a bug)."""


class RunFolderError(LandscapesError, ValueError):
    """A run folder that cannot be created, resumed or written (nothing was touched)."""


class CorruptedFileError(LandscapesError, ValueError):
    """A stored file that is missing, truncated, unreadable or whose content hash differs.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    problem : str
        What is wrong with it (one line).
    hint : str
        What to do about it (e.g. "rerun with --resume DIR --recompute-corrupted").
    """

    def __init__(self, path: str | os.PathLike, problem: str, hint: str = ""):
        self.path = os.fspath(path)
        self.problem = problem
        self.hint = hint
        msg = f"corrupted file {self.path}: {problem}"
        super().__init__(msg + (f"; {hint}" if hint else ""))


class SchedulerError(LandscapesError, RuntimeError):
    """A sweep scheduler (e.g. a Dask cluster) that is unreachable or misbehaves."""


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (LandscapesError, ValueError, OSError)
"""What ``analysis.cli.main`` reports as one line with exit status 2."""


def one_line(exc: BaseException) -> str:
    """The message of an expected error on one line (OS errors name their file)."""
    if isinstance(exc, OSError) and exc.strerror:
        names = [n for n in (exc.filename, exc.filename2) if n is not None]
        text = exc.strerror + (": " + " -> ".join(map(str, names)) if names else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
