"""The `landscapes spectrum` command: run folders, figures, resume, and user errors."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.cli import main
from analysis.store import RunFolder


def test_spectrum_pspin_writes_run_folder_and_resumes(tmp_path):
    out = tmp_path / "run"
    argv = [
        "spectrum",
        "pspin",
        "--N",
        "40",
        "--p",
        "3",
        "--at",
        "minimum",
        "--gd-steps",
        "200",
        "--lanczos-steps",
        "20",
        "--n-probes",
        "3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    rf = RunFolder.open(out)
    summary = rf.read_table("summary.csv")
    arrays = rf.read_arrays("spectrum.npz")
    assert arrays["eigenvalues"].size == 39  # tangent space: N - 1, no normal eigenvalue
    u = summary["H_per_N"][0]
    np.testing.assert_allclose(summary["semicircle_centre"][0], -3 * u)
    assert summary["lanczos_rel_err"][0] < 1e-8
    assert (out / "figures" / "spectrum.png").stat().st_size > 10_000
    before = (out / "tasks" / "exact.npz").stat().st_mtime_ns
    assert main([*argv, "--resume"]) == 0  # nothing recomputed
    assert (out / "tasks" / "exact.npz").stat().st_mtime_ns == before


def test_saddle_finder_returns_critical_points():
    """``--at saddle`` (find_point): Levenberg-Marquardt on |rgrad| converges to a critical
    point (tested on the library function: the CLI path is the pspin test above)."""
    from analysis.studies.spectrum import find_point
    from pspin import SphericalPSpin

    model = SphericalPSpin(40, 3, seed=0)
    (x,) = find_point(model, "saddle", 1, K=1)
    assert np.linalg.norm(model.rgrad(x)) / np.sqrt(40) < 1e-8
    assert abs(x @ x - 40) < 1e-8


def test_spectrum_mlp_small(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "m"
    assert (
        main(
            [
                "spectrum",
                "mlp",
                "--dataset",
                "mixture",
                "--classes",
                "3",
                "--hidden",
                "4",
                "--train-steps",
                "200",
                "--stop-loss",
                "0.1",
                "--lanczos-steps",
                "20",
                "--n-probes",
                "3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rf = RunFolder.open(out)
    s = rf.read_table("summary.csv")
    P = 64 * 4 + 4 + 4 * 3 + 3
    assert s["P"][0] == P and rf.read_arrays("spectrum.npz")["eigenvalues"].size == P
    assert s["outliers"][0] >= 1


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["spectrum", "pspin", "--N", "20", "--k", "19"], "--k must be below"),
        (["spectrum", "pspin", "--N", "20", "--n-probes", "0"], "--n-probes must be >= 1"),
    ],
)
def test_spectrum_user_errors(tmp_path, capsys, argv, msg):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert msg in capsys.readouterr().err
