"""``landscapes meanfield``: run folders, figures, resume, errors as one line."""

from __future__ import annotations

import json

from analysis.cli import main


def test_meanfield_clt_writes_and_resumes(tmp_path, capsys):
    out = tmp_path / "clt"
    argv = [
        "meanfield",
        "clt",
        "--widths",
        "20",
        "40",
        "--seeds",
        "6",
        "--T",
        "0.5",
        "--n-samples",
        "30",
        "--dynamics",
        "online_sgd",
        "--d",
        "3",
        "--n-boot",
        "50",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    for f in ("table.csv", "summary.csv", "result.json", "scaling.png", "normality.png"):
        assert (out / "online_sgd" / f).exists(), f
    assert not (out / "gd").exists()
    meta = json.loads((out / "online_sgd" / "result.json").read_text())
    assert meta["theory_slope"] == -1.0 and meta["slope_se"] > 0
    first = (out / "online_sgd" / "table.csv").read_text()
    # resume: nothing is recomputed, the stored table is kept
    assert main(["meanfield", "clt", *argv[2:-2], "--resume", str(out)]) == 0
    assert (out / "online_sgd" / "table.csv").read_text() == first
    assert "slope" in (out / "report.md").read_text()


def test_meanfield_limit_and_errors(tmp_path, capsys):
    out = tmp_path / "lim"
    assert (
        main(
            [
                "meanfield",
                "limit",
                "--widths",
                "8",
                "16",
                "--seeds",
                "5",
                "--T",
                "0.3",
                "--n-boot",
                "50",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (out / "limit" / "limit.png").exists() and (out / "limit" / "scaling.png").exists()
    capsys.readouterr()
    assert (
        main(
            [
                "meanfield",
                "lln",
                "--widths",
                "0",
                "8",
                "--seeds",
                "5",
                "--out",
                str(tmp_path / "bad"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "error" in err and "width" in err and len(err.strip().splitlines()) == 1
