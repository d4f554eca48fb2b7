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


def test_progress_is_honest_and_silenced_by_no_progress(capsys):
    """A step budget gives a count with no ETA; --no-progress (set_progress(False)) silences."""
    from landscapes.progress import Progress, phase, set_progress

    with Progress(1000, "gradient descent", enabled=True, budget=True) as bar:
        for _ in range(3):
            bar.update(1, energy=-1.5)
    err = capsys.readouterr().err
    assert "gradient descent" in err and "of at most 1000" in err and "3it" in err
    assert "/1000" not in err and "<" not in err.split("gradient descent")[-1]  # no ETA
    with Progress(3, "tasks", enabled=True) as bar:
        bar.update(3)
    assert "3/3" in capsys.readouterr().err
    set_progress(False)
    try:
        with Progress(3, "tasks", enabled=True) as bar, phase("figures", enabled=True):
            bar.update(3)
    finally:
        set_progress(None)
    assert capsys.readouterr().err == ""


def test_deprecated_spellings_map_to_the_new_options():
    from analysis.cli import build_parser

    p = build_parser()
    a = p.parse_args(["spectrum", "mlp", "--lr", "0.3", "--train-steps", "7", "--method", "exact"])
    assert (a.step, a.max_steps, a.method) == (0.3, 7, "dense")
    a = p.parse_args(["spectrum", "mlp", "--dataset", "mixture"])
    assert a.dataset == "gaussian_mixture"
    a = p.parse_args(["compare", "--sizes", "8,16", "--widths", "4", "8"])
    assert (a.sizes, a.widths) == ([8, 16], [4, 8])
    a = p.parse_args(["meanfield", "lln", "--eps", "0.1", "--resume", "d"])
    assert (a.step, a.resume) == (0.1, "d")
    a = p.parse_args(["census", "pspin", "--out", "d", "--resume"])
    assert a.resume is True
