"""The ``landscapes`` command: a thin layer over functions users can call from Python.

Each sub-command lives in its own module under :mod:`analysis.commands` and provides
``register(subparsers)``, which adds its parser and sets ``func`` to a function taking the
parsed arguments. Errors in user input are printed as one line (exit status 2), not as a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys

import landscapes

__all__ = ["main", "build_parser", "plain_text", "PlainParser"]

_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`(~?)([^`<]*?)(?:\s*<([^`>]+)>)?`")
_LITERAL = re.compile(r"``([^`]+?)``")
_DIRECTIVE = re.compile(r"^\s*\.\. [a-z-]+::.*$\n?", re.MULTILINE)


def plain_text(text: str) -> str:
    """Text without Sphinx / reST markup, for terminal help.

    ``:func:`name``` and the other roles become ``name`` (``~a.b.c`` becomes ``c``; an
    explicit title ``title <target>`` keeps the title), double-backquoted literals lose
    their backquotes and directive lines (``.. note::``) are dropped.
    """

    def role(m: re.Match) -> str:
        tilde, body, target = m.groups()
        body = body.strip() or (target or "")
        return body.rsplit(".", 1)[-1] if tilde else body

    text = _DIRECTIVE.sub("", text)
    text = _ROLE.sub(role, text)
    return _LITERAL.sub(r"\1", text)


class PlainParser(argparse.ArgumentParser):
    """An ArgumentParser whose help is plain text (docstring markup stripped).

    Sub-parsers inherit the class (argparse creates them with the parent's type), so every
    command's ``--help`` is plain whatever its description or option help says.
    """

    def format_help(self) -> str:
        """The help message with :func:`plain_text` applied."""
        return plain_text(super().format_help())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = PlainParser(
        prog="landscapes",
        description=(
            "Explore high-dimensional energy landscapes: the spherical p-spin glass and "
            "neural-network losses behind one Energy interface, measured with the same "
            "instruments (descents, samplers, Hessian spectra, critical points) and checked "
            "against exact theory. Every command writes a run folder (config.json, tables, "
            "arrays, figures) that can be resumed."
        ),
        epilog="Run 'landscapes COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"landscapes {landscapes.__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import analysis.commands as commands_pkg

    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"analysis.commands.{info.name}")
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``landscapes`` console script.

    Every expected failure -- bad input (ValueError), an OS error on the output path, a
    corrupted stored file, an unreachable or misbehaving scheduler (the types of
    :mod:`landscapes.errors`) -- is printed as one line ``landscapes CMD: error: ...`` and
    gives exit status 2; a traceback means a bug.
    """
    from landscapes.errors import EXPECTED_ERRORS, one_line
    from landscapes.progress import set_progress

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    name = args.command
    try:
        rc = args.func(args)
    except EXPECTED_ERRORS as exc:
        print(f"landscapes {name}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nlandscapes {name}: interrupted; results written so far are kept "
            "(rerun with --resume RUN_DIR to continue)",
            file=sys.stderr,
        )
        return 130
    finally:
        set_progress(None)
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
