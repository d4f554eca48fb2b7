"""Run folders never lose the user's data and never trust a corrupted file (issue 15, 1/6/7/8).

* resume guard: ``--resume`` writes only into a run folder made by the same command (a marker
  written first), refuses a missing folder; ``--out`` refuses a non-empty folder;
* corrupted stored files (task ``.npz`` truncated / empty / deleted / altered, task JSON or
  ``config.json`` corrupt, model ``.npz`` truncated or missing a key) give one line naming the
  file; ``--resume --recompute-corrupted`` recomputes those tasks, identically;
* ``--out`` on a file, under a file, or on an unwritable place: one line, exit 2;
* bad flags are rejected before any folder is created.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from analysis.cli import main
from analysis.store import MARKER, RunFolder
from landscapes.errors import CorruptedFileError, RunFolderError

DESCEND = ["descend", "pspin", "--N", "10", "--replicas", "4", "--chunk", "2"]
DESCEND += ["--max-steps", "50", "--no-progress"]


def _err_line(capsys, command="descend") -> str:
    err = [e for e in capsys.readouterr().err.splitlines() if "warning" not in e]
    assert len(err) == 1, err
    assert err[0].startswith(f"landscapes {command}: error: "), err[0]
    return err[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished descend run (two stored chunks) and its tables."""
    run = tmp_path_factory.mktemp("rf") / "run"
    assert main([*DESCEND, "--out", str(run)]) == 0
    return run, (run / "tables" / "final.csv").read_bytes()


def _copy(finished, tmp_path):
    run, table = finished
    dst = tmp_path / "run"
    shutil.copytree(run, dst)
    return dst, table


# ----------------------------------------------------------------------------- resume guard
def test_resume_never_writes_into_a_folder_it_did_not_make(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    (d / "final.csv").write_text("mine\n")
    assert main([*DESCEND, "--resume", str(d)]) == 2
    assert "not a run folder" in _err_line(capsys)
    assert [p.name for p in d.iterdir()] == ["final.csv"]
    assert (d / "final.csv").read_text() == "mine\n"
    # the old bare --resume with --out: the same refusal
    assert main([*DESCEND, "--out", str(d), "--resume"]) == 2
    assert "not a run folder" in _err_line(capsys)
    # --out on it: refused too
    assert main([*DESCEND, "--out", str(d)]) == 2
    assert "not empty" in _err_line(capsys)
    assert [p.name for p in d.iterdir()] == ["final.csv"]


def test_resume_refuses_a_missing_folder_and_another_commands_folder(tmp_path, capsys):
    assert main([*DESCEND, "--resume", str(tmp_path / "none")]) == 2
    assert "no such run folder" in _err_line(capsys)
    assert not (tmp_path / "none").exists()
    RunFolder(tmp_path / "census", "census", {"N": 4})
    assert main([*DESCEND, "--resume", str(tmp_path / "census")]) == 2
    assert "'census' run folder" in _err_line(capsys)


def test_marker_is_written_first_and_out_refuses_a_finished_run(finished, capsys):
    run, _ = finished
    marker = json.loads((run / MARKER).read_text())
    assert marker["command"] == "descend" and "version" in marker and "created" in marker
    # the marker is older than (or as old as) every other file of the run
    t0 = (run / MARKER).stat().st_mtime_ns
    cfg = run / "config.json"
    assert cfg.stat().st_mtime_ns >= t0
    assert main([*DESCEND, "--out", str(run)]) == 2
    line = _err_line(capsys)
    assert "already holds a 'descend' run" in line and f"--resume {run}" in line


# ----------------------------------------------------------------------------- corrupted files
def _first_task(run, ext):
    return sorted((run / "tasks").glob(f"*.{ext}"))[0]


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty(p):
    p.write_bytes(b"")


def _delete(p):
    p.unlink()


def _alter_values(p):
    """A valid .npz whose values differ (a silent edit)."""
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    k = sorted(arrays)[0]
    arrays[k] = np.asarray(arrays[k]).copy()
    arrays[k].flat[0] = arrays[k].flat[0] + 1 if arrays[k].dtype != bool else ~arrays[k].flat[0]
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    p.write_bytes(buf.getvalue())


def _corrupt_json(p):
    p.write_text(p.read_text()[:-20])


def _alter_json(p):
    rec = json.loads(p.read_text())
    rec["result"]["mean_final_energy_per_spin"] = 12345.0
    rec["result"]["edited"] = True
    p.write_text(json.dumps(rec))


CASES = {
    "npz truncated": ("npz", _truncate),
    "npz empty": ("npz", _empty),
    "npz deleted": ("npz", _delete),
    "npz values altered": ("npz", _alter_values),
    "json corrupt": ("json", _corrupt_json),
    "json values altered": ("json", _alter_json),
    "json empty": ("json", _empty),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupted_task_is_named_and_recomputed_on_request(finished, tmp_path, capsys, case):
    ext, damage = CASES[case]
    run, table = _copy(finished, tmp_path)
    victim = _first_task(run, ext)
    damage(victim)
    capsys.readouterr()
    assert main([*DESCEND, "--resume", str(run)]) == 2
    line = _err_line(capsys)
    assert victim.name in line and "--recompute-corrupted" in line
    assert main([*DESCEND, "--resume", str(run), "--recompute-corrupted"]) == 0
    assert (run / "tables" / "final.csv").read_bytes() == table  # recomputed identically
    assert main([*DESCEND, "--resume", str(run)]) == 0  # and now clean


@pytest.mark.parametrize("damage", [_corrupt_json, _empty, _alter_json], ids=lambda f: f.__name__)
def test_corrupted_config_json_is_named(finished, tmp_path, capsys, damage):
    run, table = _copy(finished, tmp_path)
    cfg = run / "config.json"
    if damage is _alter_json:
        rec = json.loads(cfg.read_text())
        rec["config"]["N"] = 11
        cfg.write_text(json.dumps(rec))
    else:
        damage(cfg)
    assert main([*DESCEND, "--resume", str(run)]) == 2
    assert "config.json" in _err_line(capsys)
    assert main([*DESCEND, "--resume", str(run), "--recompute-corrupted"]) == 0
    assert (run / "tables" / "final.csv").read_bytes() == table


def test_store_checks_every_file_it_wrote(tmp_path):
    rf = RunFolder(tmp_path / "r", "demo", {"a": 1})
    rf.write_table("t.csv", {"x": [1, 2]})
    rf.write_arrays("a.npz", x=np.arange(3))
    (rf.path / "tables" / "t.csv").write_text("x\n1\n3\n")
    with pytest.raises(CorruptedFileError, match=r"t\.csv.*differs"):
        rf.read_table("t.csv")
    _truncate(rf.path / "arrays" / "a.npz")
    with pytest.raises(CorruptedFileError, match=r"a\.npz"):
        rf.read_arrays("a.npz")
    assert rf.verify() == ["arrays/a.npz", "tables/t.csv"]
    with pytest.raises(CorruptedFileError, match="deleted"):
        rf.read_json("nothing.json")


def test_model_npz_truncated_or_missing_a_key_names_the_file(tmp_path):
    from landscapes.io import load_npz, save_npz
    from pspin import SphericalPSpin

    m = SphericalPSpin(6, 3, seed=0)
    path = tmp_path / "m.npz"
    m.save(path)
    assert SphericalPSpin.load(path).fingerprint == m.fingerprint
    meta, arrays = load_npz(path)
    del meta["p"]
    save_npz(tmp_path / "nokey.npz", meta, **arrays)
    with pytest.raises(CorruptedFileError, match=r"nokey\.npz.*'p'"):
        SphericalPSpin.load(tmp_path / "nokey.npz")
    _truncate(path)
    with pytest.raises(CorruptedFileError, match=r"m\.npz"):
        SphericalPSpin.load(path)
    with pytest.raises(CorruptedFileError, match="no such file"):
        SphericalPSpin.load(tmp_path / "gone.npz")


# ----------------------------------------------------------------------------- --out
def test_out_on_a_file_or_under_a_file_is_one_line(tmp_path, capsys):
    f = tmp_path / "f"
    f.write_text("keep")
    assert main([*DESCEND, "--out", str(f)]) == 2
    assert "is a file" in _err_line(capsys)
    assert main([*DESCEND, "--out", str(f / "sub")]) == 2
    assert "under the file" in _err_line(capsys)
    assert f.read_text() == "keep"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere"
)
def test_out_in_an_unwritable_folder_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main([*DESCEND, "--out", str(ro / "run")]) == 2
        assert "not writable" in _err_line(capsys)
    finally:
        ro.chmod(0o700)


def test_check_output_path_names_the_problem(tmp_path):
    from analysis.store import check_output_path

    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(RunFolderError, match="under the file"):
        check_output_path(f / "a" / "b")
    assert check_output_path(tmp_path / "new" / "run") == tmp_path / "new" / "run"


# ----------------------------------------------------------------------------- validation first
@pytest.mark.parametrize(
    "bad",
    [
        ["--step", "nan"],
        ["--step", "-1"],
        ["--gtol", "-1"],
        ["--max-steps", "0"],
        ["--replicas", "0"],
    ],
    ids=lambda b: " ".join(b),
)
def test_bad_flags_are_rejected_before_any_folder(tmp_path, capsys, bad):
    out = tmp_path / "run"
    assert main([*DESCEND, *bad, "--out", str(out)]) == 2
    line = _err_line(capsys)
    assert bad[0] in line and "--resume" not in line
    assert not out.exists()


@pytest.mark.parametrize(
    "bad",
    [["--batch-size", "0"], ["--batch-size", "64", "--n-train", "40"]],
    ids=lambda b: " ".join(b),
)
def test_sgd_batch_is_checked_at_the_boundary(tmp_path, capsys, bad):
    out = tmp_path / "run"
    argv = ["descend", "mlp", "--method", "sgd", "--replicas", "2", "--hidden", "4", *bad]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 2
    assert "--batch-size" in _err_line(capsys)
    assert not out.exists()


def test_a_failed_start_does_not_block_the_same_out(tmp_path, monkeypatch, capsys):
    """An error after the folder is made leaves a folder the same --out can reuse."""
    import analysis.studies.descend as study

    out = tmp_path / "run"

    def boom(*a, **k):
        raise ValueError("simulated failure after the folder was made")

    monkeypatch.setattr(study, "run_descend", boom)
    assert main([*DESCEND, "--out", str(out)]) == 2
    _err_line(capsys)
    monkeypatch.undo()
    assert main([*DESCEND, "--out", str(out)]) == 0


def test_deprecated_spellings_still_work_with_a_message(tmp_path):
    """Old spellings (one release): --steps/--lr in sweep, a comma list, a bare --resume."""
    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "analysis", "sweep", "descent", "--N", "6", "--tasks", "1"]
    argv += ["--replicas", "1", "--steps", "5", "--lr", "0.05", "--out", str(out)]
    argv += ["--no-progress"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "--steps is deprecated" in r.stderr and "--lr is deprecated" in r.stderr
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["max_steps"] == 5 and cfg["step"] == 0.05
