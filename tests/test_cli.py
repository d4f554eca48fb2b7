"""The `landscapes` command: help, version, errors as one line."""

from __future__ import annotations

import subprocess
import sys

import landscapes
from analysis.cli import main


def test_help_and_version(capsys):
    out = subprocess.run(
        [sys.executable, "-m", "analysis", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "energy landscapes" in out and "COMMAND" in out
    out = subprocess.run(
        [sys.executable, "-m", "analysis", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert landscapes.__version__ in out
    assert main([]) == 0
    assert "usage" in capsys.readouterr().out


def test_every_subcommand_has_help():
    from analysis.cli import build_parser

    parser = build_parser()
    sub = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name, p in sub[0].choices.items() if sub else []:
        text = p.format_help()
        assert name in text and len(text) > 80


def test_import_has_no_side_effects():
    code = (
        "import sys, landscapes, pspin, analysis, analysis.store, analysis.cli; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
