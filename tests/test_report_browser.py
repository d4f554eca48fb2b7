"""The HTML report opens in a real headless browser (Debian's chromium) and every image loads.

Skipped, with the reason, on a machine without /usr/bin/chromium (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis.report import ReportFigure, ReportSection, write_report
from analysis.store import RunFolder

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless browser check needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install -y chromium); .ci/run installs it",
)


def dump_dom(html_file: Path, tmp_path: Path) -> str:
    """The DOM of ``html_file`` after load, as rendered by headless chromium."""
    profile = tmp_path / "chromium-profile"
    if profile.exists():
        shutil.rmtree(profile)
    profile.mkdir()
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        html_file.resolve().as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def image_states(dom: str) -> list[tuple[str, str | None]]:
    """(src, data-loaded) of every <img> in a dumped DOM."""
    out = []
    for tag in re.findall(r"<img\b[^>]*>", dom):
        src = re.search(r'src="([^"]*)"', tag)
        state = re.search(r'data-loaded="([01])"', tag)
        out.append((src.group(1) if src else "", state.group(1) if state else None))
    return out


def check_report(report: Path, tmp_path: Path) -> list[tuple[str, str | None]]:
    dom = dump_dom(report, tmp_path)
    states = image_states(dom)
    assert states, "the report has no images"
    return states


def _figure(run: RunFolder, name: str) -> str:
    from analysis.plots import new_figure, use_agg

    use_agg()
    fig, ax = new_figure()
    ax[0, 0].plot(np.arange(5), np.arange(5) ** 2, label="x^2")
    ax[0, 0].set_xlabel("x")
    ax[0, 0].legend()
    run.save_figure(name, fig)
    return name


@needs_chromium
def test_every_image_of_a_report_loads(tmp_path):
    run = RunFolder(tmp_path / "run", "test", {"seed": 0})
    figs = [
        ReportFigure(_figure(run, f"figures/f{i}.png"), f"figure {i}", "caption") for i in range(3)
    ]
    report = write_report(
        run,
        title="Test report",
        theory=[("-E_inf", "-1.633")],
        summary=[{"model": "a", "mean": 1.0}],
        sections=[ReportSection("Figures", tuple(figs))],
    )
    states = check_report(report, tmp_path)
    assert len(states) == 3
    assert all(s == "1" for _, s in states), states


@needs_chromium
def test_browser_check_detects_a_broken_image(tmp_path):
    run = RunFolder(tmp_path / "run", "test", {"seed": 0})
    name = _figure(run, "figures/ok.png")
    bad = run.write_bytes("figures/bad.png", b"this is not a png")
    assert bad.exists()
    report = write_report(
        run,
        title="Broken",
        sections=[
            ReportSection("F", (ReportFigure(name, "ok"), ReportFigure("figures/bad.png", "bad")))
        ],
    )
    states = dict(check_report(report, tmp_path))
    assert states == {"figures/ok.png": "1", "figures/bad.png": "0"}


def test_write_report_refuses_missing_figures(tmp_path):
    run = RunFolder(tmp_path / "run", "test", {"seed": 0})
    with pytest.raises(ValueError, match="missing"):
        write_report(
            run, title="x", sections=[ReportSection("F", (ReportFigure("nope.png", "n"),))]
        )
