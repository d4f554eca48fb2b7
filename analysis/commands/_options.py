"""The shared vocabulary of the CLI: option builders used by every command, defined once.

Every command takes the same run options (:func:`add_run_options`)::

    --out DIR                   the run folder to create (default runs/COMMAND-<time>-<hash>)
    --resume RUN_DIR            continue a run folder made by the same command
    --recompute-corrupted       with --resume: recompute stored results whose files are corrupted
    --seed S                    root seed
    --threads N                 BLAS/OpenMP/PyTorch threads (landscapes.threads)
    --no-progress               no progress bars (errors are still printed)

and, where they apply, ``--step`` and ``--max-steps`` (:func:`add_step_options`), lists
separated by spaces (:func:`add_list`, ``nargs="+"``), and the dataset and method names of
the Python API (:data:`DATASETS`, :data:`SPECTRUM_METHODS`, :func:`add_choice`).

Old spellings keep working for one release with a deprecation message on stderr
(:class:`DeprecatedAlias`): ``--lr``/``--eps`` for ``--step``, ``--gd-steps``,
``--train-steps``, ``--steps``, ``--n-steps`` for ``--max-steps``, comma lists ``8,16``,
a bare ``--resume`` (with ``--out``), ``exact`` for ``dense`` and ``mixture`` for
``gaussian_mixture``.

A command then (1) validates every argument (:func:`check_range` and friends raise a
ValueError naming the option and its allowed range), (2) opens its run folder with
:func:`open_run_folder`, which prints the folder at once, and (3) runs inside
:func:`command_context` (threads and progress as asked).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "DATASETS",
    "RUN_OPTION_KEYS",
    "SPECTRUM_METHODS",
    "DeprecatedAlias",
    "ListAction",
    "ResumeAction",
    "add_alias",
    "add_choice",
    "add_list",
    "add_run_options",
    "add_step_options",
    "check_finite",
    "check_range",
    "command_context",
    "open_run_folder",
    "resolve_out",
    "run_config",
    "warn_deprecated",
]

DATASETS = ("digits", "teacher_student", "gaussian_mixture")
"""Dataset names, as in :mod:`landscapes.datasets`."""

DATASET_ALIASES = {"mixture": "gaussian_mixture"}

SPECTRUM_METHODS = ("dense", "slq", "both")
"""Spectrum methods: dense eigh of the full Hessian, stochastic Lanczos quadrature, or both."""

SPECTRUM_ALIASES = {"exact": "dense"}


def warn_deprecated(old: str, new: str) -> None:
    """Print the one-line deprecation message of an old spelling on stderr."""
    print(
        f"landscapes: warning: {old} is deprecated and will be removed in the next release; "
        f"use {new}",
        file=sys.stderr,
    )


class DeprecatedAlias(argparse.Action):
    """An old option spelling: stores into the new option's destination and warns."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        warn_deprecated(option_string, self.new)
        setattr(namespace, self.dest, values)


def add_alias(parser, old: str, dest: str, new: str, **kwargs) -> None:
    """Add the deprecated spelling ``old`` of the option ``new`` (stored in ``dest``)."""
    parser.add_argument(
        old,
        dest=dest,
        action=DeprecatedAlias,
        new=new,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        **kwargs,
    )


class ListAction(argparse.Action):
    """A space-separated list (``nargs="+"``); a comma list (``8,16``) works, deprecated."""

    def __init__(self, option_strings, dest, item: Callable = str, **kwargs):
        self.item = item
        kwargs.setdefault("nargs", "+")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        out, comma = [], False
        for v in values:
            parts = [t.strip() for t in str(v).split(",")]
            comma = comma or len(parts) > 1
            for t in parts:
                if not t:
                    continue
                try:
                    out.append(self.item(t))
                except (TypeError, ValueError):
                    name = getattr(self.item, "__name__", "value")
                    raise argparse.ArgumentError(self, f"invalid {name} value: {t!r}") from None
        if comma:
            warn_deprecated(
                f"a comma-separated list ({option_string} {','.join(map(str, out))})",
                f"spaces: {option_string} {' '.join(map(str, out))}",
            )
        setattr(namespace, self.dest, out)


def add_list(parser, flag: str, item: Callable = int, **kwargs) -> None:
    """Add a list option taking space-separated values (``--widths 8 16``)."""
    kwargs.setdefault("metavar", "X")
    parser.add_argument(flag, action=ListAction, item=item, **kwargs)


def _alias_type(aliases: dict, flag: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text in aliases:
            warn_deprecated(f"{flag} {text}", f"{flag} {aliases[text]}")
            return aliases[text]
        return text

    return convert


def add_choice(
    parser, flag: str, choices, *, aliases: dict | None = None, nargs=None, **kwargs
) -> None:
    """Add an option with fixed names; old names in ``aliases`` map to new ones (deprecated)."""
    parser.add_argument(
        flag,
        choices=tuple(choices),
        type=_alias_type(aliases or {}, flag),
        nargs=nargs,
        **kwargs,
    )


class ResumeAction(argparse.Action):
    """``--resume RUN_DIR``; a bare ``--resume`` (continue ``--out``) works, deprecated."""

    def __init__(self, option_strings, dest, **kwargs):
        kwargs.update(nargs="?", const=True)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if values is True:
            warn_deprecated("a bare --resume (with --out DIR)", "--resume RUN_DIR")
        setattr(namespace, self.dest, values)


def add_run_options(
    parser,
    *,
    seed: int | None = 0,
    seed_help: str | None = None,
    threads: bool = True,
    progress: bool = True,
) -> None:
    """Add ``--out``, ``--resume``, ``--recompute-corrupted``, ``--seed``, ``--threads`` and
    ``--no-progress`` to a command's parser.

    ``seed`` is the default root seed (None: the command's own default, resolved later).
    """
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="run folder to create (default runs/...)"
    )
    parser.add_argument(
        "--resume",
        action=ResumeAction,
        default=None,
        metavar="RUN_DIR",
        help="continue the run folder RUN_DIR (made by this command); stored work is not redone",
    )
    parser.add_argument(
        "--recompute-corrupted",
        action="store_true",
        help="with --resume: recompute stored results whose files are missing or corrupted "
        "instead of stopping",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=seed,
        help=seed_help or f"root seed (default {seed})",
    )
    if threads:
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            metavar="N",
            help="BLAS/OpenMP threads (default: the package's thread policy)",
        )
    if progress:
        parser.add_argument(
            "--no-progress", action="store_true", help="hide progress bars (errors still shown)"
        )


_OMIT = object()


def add_step_options(
    parser,
    *,
    step=_OMIT,
    max_steps=_OMIT,
    step_help: str = "step size",
    max_steps_help: str = "step limit",
    step_aliases: tuple[str, ...] = (),
    max_steps_aliases: tuple[str, ...] = (),
) -> None:
    """Add ``--step`` and/or ``--max-steps`` with their defaults (None: decided by the
    command; left out: not added), with old spellings as deprecated aliases (e.g.
    ``step_aliases=("--lr",)``)."""
    if step is not _OMIT or step_aliases:
        step = None if step is _OMIT else step
        parser.add_argument(
            "--step", type=float, default=step, help=f"{step_help} (default {step})"
        )
        for old in step_aliases:
            add_alias(parser, old, "step", "--step", type=float)
    if max_steps is not _OMIT or max_steps_aliases:
        max_steps = None if max_steps is _OMIT else max_steps
        parser.add_argument(
            "--max-steps",
            type=int,
            default=max_steps,
            help=f"{max_steps_help} (default {max_steps})",
        )
        for old in max_steps_aliases:
            add_alias(parser, old, "max_steps", "--max-steps", type=int)


# --------------------------------------------------------------------------- validation
def check_finite(value, flag: str) -> float:
    """``value`` as a finite float (ValueError naming ``flag`` otherwise)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{flag} must be a finite number; got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{flag} must be a finite number; got {value!r}")
    return v


def check_range(
    value, flag: str, *, low=None, high=None, low_open: bool = False, integer: bool = False
):
    """``value`` checked to be finite and in the range (ValueError naming ``flag`` and the range).

    ``low_open`` excludes ``low`` (e.g. a step size > 0). None is accepted only when the caller
    skips the check.
    """
    v = check_finite(value, flag)
    if integer and not float(v).is_integer():
        raise ValueError(f"{flag} must be an integer; got {value!r}")
    lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
    hi = "" if high is None else f"<= {high}"
    rng = " and ".join(s for s in (lo, hi) if s)
    bad_low = low is not None and (v <= low if low_open else v < low)
    bad_high = high is not None and v > high
    if bad_low or bad_high:
        raise ValueError(f"{flag} must be {rng}; got {value!r}")
    return int(v) if integer else v


# --------------------------------------------------------------------------- run folders
def resolve_out(args) -> tuple[str | None, bool]:
    """The run folder and whether to resume it, from ``--out`` and ``--resume``.

    ``--resume RUN_DIR`` names the folder (``--out``, if also given, must name the same one);
    a bare ``--resume`` (deprecated) continues ``--out``.
    """
    out, resume = getattr(args, "out", None), getattr(args, "resume", None)
    if resume is True:
        if out is None:
            raise ValueError("--resume needs the run folder: --resume RUN_DIR")
        return out, True
    if resume:
        if out is not None and Path(out) != Path(resume):
            raise ValueError(
                f"--out {out} and --resume {resume} name different folders; give --resume only"
            )
        return str(resume), True
    if getattr(args, "recompute_corrupted", False):
        raise ValueError("--recompute-corrupted works with --resume RUN_DIR only")
    return out, False


RUN_OPTION_KEYS = ("func", "out", "resume", "recompute_corrupted", "no_progress", "threads")
"""Argument names that say how a command runs, not what it computes: never in ``config.json``."""


def run_config(args, skip: Iterable[str] = ()) -> dict:
    """The run folder's config: every parsed argument but :data:`RUN_OPTION_KEYS` and ``skip``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.
    skip : iterable of str
        Further argument names to leave out (e.g. ``"command"``, executor options).
    """
    drop = set(RUN_OPTION_KEYS).union(skip)
    return {k: v for k, v in vars(args).items() if k not in drop}


def open_run_folder(args, command: str, config: dict, *, label: str | None = None):
    """Create (``--out``) or reopen (``--resume``) the command's run folder; print it at once.

    Call it after every argument has been validated: nothing is created before. Returns the
    :class:`analysis.store.RunFolder`.
    """
    from analysis.store import RunFolder

    out, resume = resolve_out(args)
    rf = RunFolder(
        out,
        command,
        config,
        resume=resume,
        recompute_corrupted=bool(getattr(args, "recompute_corrupted", False)),
    )
    verb = "resuming" if resume else "run folder"
    print(f"landscapes {label or command}: {verb} {rf.path}", flush=True)
    return rf


def check_run_options(args) -> int | None:
    """Validate ``--threads`` and the out/resume pair before anything is created.

    Returns the thread count (None: the default policy).
    """
    from landscapes import threads as _threads

    resolve_out(args)
    return _threads.check_threads(getattr(args, "threads", None), "--threads")


@contextlib.contextmanager
def command_context(args) -> Iterator[None]:
    """Threads (``--threads``) and progress (``--no-progress``) for the body of a command."""
    from landscapes import progress as _progress
    from landscapes import threads as _threads

    n = _threads.check_threads(getattr(args, "threads", None), "--threads")
    if getattr(args, "no_progress", False):
        _progress.set_progress(False)
    pools = _threads.limit(n) if n is not None else contextlib.nullcontext()
    try:
        with pools:
            yield
    finally:
        if getattr(args, "no_progress", False):
            _progress.set_progress(None)
