"""One CLI test for every command: same options, same run-folder layout, --resume works.

The commands are discovered in ``analysis/commands/`` (every module not starting with "_"), so
a new command joins these tests as soon as it adopts the shared option builders
(``analysis.commands._options``); it runs the tiny-run tests once it has a row in ``TINY``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

import pytest

import analysis.commands as commands_pkg
from analysis.cli import build_parser, main
from analysis.store import HASHES, MARKER, RunFolder

MICRO_COMPARE = """
seed = 5
[pspin]
sizes = [8]
replicas = 2
samples = 1
max_steps = 100
census_size = 0
[networks]
widths = [3]
families = ["teacher_student"]
replicas = 2
gd_steps = 10
sgd_epochs = 1
n_train = 32
n_test = 20
[spectra]
endpoints = 1
dense_max = 60
slq_probes = 2
slq_steps = 10
[graphs]
pspin_N = 6
pspin_starts = 16
bh_replicas = 2
bh_steps = 2
saddle_minima = 1
saddle_modes = 1
ef_starts = 2
"""


def _compare(tmp: Path) -> list[str]:
    cfg = tmp / "micro.toml"
    cfg.write_text(MICRO_COMPARE)
    return ["compare", "--quick", "--config", str(cfg)]


# one tiny run per command: argv without --out/--resume (a callable gets a scratch folder)
TINY = {
    "compare": _compare,
    "theory": ["theory", "--N", "4"],
    "descend": ["descend", "pspin", "--N", "8", "--replicas", "2", "--max-steps", "20"],
    "spectrum": ["spectrum", "pspin", "--N", "8", "--max-steps", "10", "--k", "2"],
    "census": ["census", "pspin", "--N", "4", "--samples", "2"],
    "connect": ["connect", "pspin", "--N", "5"],
    "meanfield": [
        *("meanfield", "lln", "--widths", "4", "8", "--seeds", "3"),
        *("--n-boot", "10", "--T", "0.2", "--n-samples", "20"),
    ],
    "sweep": ["sweep", "echo", "--tasks", "2"],
    "plot": ["plot", "slice", "--size", "6", "--points", "5", "--max-steps", "20"],
    # the science commands (run here once they use analysis.commands._options)
    "dynamics": [
        *("dynamics", "pspin", "--N", "6", "--samples", "1", "--replicas", "2"),
        *("--t-max", "1", "--step", "0.05", "--waiting-times", "0.2", "--grid", "32"),
    ],
    "halting": ["halting", "pspin", "--N", "8", "10", "--replicas", "4", "--models", "2"],
    "traintest": [
        *("traintest", "--widths", "2", "4", "--seeds", "4", "--epochs", "2"),
        *("--anneal-widths", "2", "--anneal-seeds", "3", "--anneal-steps", "5"),
    ],
    "landscape": [
        *("landscape", "lj", "--atoms", "6", "--replicas", "4", "--max-steps", "4"),
        *("--hef-minima", "2", "--hef-modes", "1", "--ef-starts", "8", "--mr-starts", "4"),
    ],
}

SHARED = ("--out", "--resume", "--recompute-corrupted", "--seed", "--threads", "--no-progress")
TOP_LEVEL = {
    MARKER,
    HASHES,
    "config.json",
    "tables",
    "arrays",
    "figures",
    "report.html",
    "report.md",
    "tasks",
    "census.sqlite",  # the SQLite catalogues of the commands that keep one
    "landscape.sqlite",
    "failures.json",
}


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(commands_pkg.__path__) if m.name[0] != "_")


def _adopted(name: str) -> bool:
    src = Path(importlib.import_module(f"analysis.commands.{name}").__file__).read_text()
    return "analysis.commands._options" in src


def _leaves(
    parser: argparse.ArgumentParser, path=()
) -> list[tuple[tuple, argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, parser)]
    out = []
    for name, p in subs[0].choices.items():
        out += _leaves(p, (*path, name))
    return out


def _argv(name: str, tmp: Path) -> list[str]:
    if name not in TINY:
        pytest.skip(f"{name}: no tiny run in TINY yet")
    spec = TINY[name]
    return list(spec(tmp) if callable(spec) else spec) + ["--no-progress"]


@pytest.fixture(params=_modules())
def command(request):
    name = request.param
    if not _adopted(name):
        pytest.skip(f"{name} does not use analysis.commands._options yet")
    return name


def test_every_command_has_the_shared_options(command):
    parser = build_parser()
    top = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for path, leaf in _leaves(top.choices[command], (command,)):
        flags = {s for a in leaf._actions for s in a.option_strings}
        missing = [f for f in SHARED if f not in flags]
        assert not missing, f"{' '.join(path)} lacks {missing}"


def _snapshot(run: Path) -> dict:
    files = {}
    for sub in ("tables", "tasks"):
        for p in sorted((run / sub).rglob("*")) if (run / sub).exists() else []:
            if p.is_file():
                files[str(p.relative_to(run))] = (p.read_bytes(), p.stat().st_mtime_ns)
    return files


def test_tiny_run_writes_the_layout_and_resume_redoes_nothing(command, tmp_path, capsys):
    argv = _argv(command, tmp_path)
    run = tmp_path / "run"
    assert main([*argv, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert str(run) in out.splitlines()[0]  # the folder is printed first
    names = {p.name for p in run.iterdir()}
    assert {MARKER, "config.json", "report.html", "report.md", "tables"} <= names
    assert names <= TOP_LEVEL, names - TOP_LEVEL
    assert any((run / "tables").iterdir())
    html = (run / "report.html").read_text()
    for fig in (run / "figures").rglob("*.png") if (run / "figures").exists() else []:
        rel = str(fig.relative_to(run))
        assert f'href="{rel}"' in html, rel  # every figure is in the report, clickable
    before = _snapshot(run)
    assert main([*argv, "--resume", str(run)]) == 0
    after = _snapshot(run)
    tasks = {k: v for k, v in before.items() if k.startswith("tasks/")}
    assert {k: v for k, v in after.items() if k.startswith("tasks/")} == tasks  # nothing redone
    for k, (data, _) in before.items():
        if k.startswith("tables/") and k != "tables/timings.csv":  # wall time is no result
            assert after[k][0] == data, k  # the result tables are identical


def test_resume_refuses_a_foreign_folder(command, tmp_path, capsys):
    argv = _argv(command, tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "final.csv").write_text("mine\n")
    assert main([*argv, "--resume", str(mine)]) == 2
    assert sorted(p.name for p in mine.iterdir()) == ["final.csv"]
    assert (mine / "final.csv").read_text() == "mine\n"
    other = tmp_path / "other"
    RunFolder(other, "some-other-command", {})
    listing = sorted(p.name for p in other.iterdir())
    assert main([*argv, "--resume", str(other)]) == 2
    assert sorted(p.name for p in other.iterdir()) == listing
    assert main([*argv, "--resume", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "missing").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith(f"landscapes {command}: error: ") for e in err)


def test_out_under_a_file_is_one_line_and_exit_2(command, tmp_path, capsys):
    argv = _argv(command, tmp_path)
    f = tmp_path / "file"
    f.write_text("x")
    capsys.readouterr()
    assert main([*argv, "--out", str(f / "sub")]) == 2
    assert main([*argv, "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith(f"landscapes {command}: error: ") for e in err)
    assert "file" in err[0] and f.read_text() == "x"
