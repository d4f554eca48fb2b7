"""Run folders: atomic writes, tasks, resume rules, no pickle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from analysis.store import RunFolder, task_key


def test_run_folder_writes_and_reads(tmp_path):
    rf = RunFolder(tmp_path / "run", "demo", {"N": 10, "seed": 3, "arr": np.arange(3)})
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["command"] == "demo" and cfg["config"] == {"N": 10, "seed": 3, "arr": [0, 1, 2]}
    assert "version" in cfg
    rf.write_table("t.csv", [{"a": 1, "b": 2.5}, {"a": 2, "b": 3.5}])
    assert rf.read_table("t.csv")["b"].tolist() == [2.5, 3.5]
    assert (rf.path / "tables" / "t.csv").is_file()  # results go where the layout says
    rf.write_arrays("a.npz", x=np.eye(2))
    assert np.array_equal(rf.read_arrays("a.npz")["x"], np.eye(2))
    assert (rf.path / "arrays" / "a.npz").is_file()
    assert rf.name_of("table", "tables/t.csv") == "tables/t.csv"
    assert rf.path_of("figure", "f.png") == rf.path / "figures" / "f.png"
    with pytest.raises(ValueError, match="object"):
        rf.write_arrays("bad.npz", x=np.array([{"a": 1}], dtype=object))
    # no temporary files are left behind
    assert not [p for p in os.listdir(rf.path) if p.endswith(".tmp")]


def test_tasks_and_resume_rules(tmp_path):
    cfg = {"N": 5}
    rf = RunFolder(tmp_path / "r", "demo", cfg)
    key = task_key({"replica": 0})
    assert key == task_key({"replica": 0}) and key != task_key({"replica": 1})
    assert not rf.has_task(key)
    rf.save_task(key, {"energy": -1.5}, x=np.ones(3))
    assert rf.has_task(key)
    meta, arrays = rf.load_task(key)
    assert meta == {"energy": -1.5} and np.array_equal(arrays["x"], np.ones(3))
    with pytest.raises(ValueError, match="already holds a 'demo' run"):
        RunFolder(tmp_path / "r", "demo", cfg)
    again = RunFolder(tmp_path / "r", "demo", cfg, resume=True)
    assert again.task_keys() == [key]
    with pytest.raises(ValueError, match="configuration differs at config.N"):
        RunFolder(tmp_path / "r", "demo", {"N": 6}, resume=True)
    opened = RunFolder.open(tmp_path / "r")
    assert opened.config == {"N": 5}
    with pytest.raises(ValueError, match="not a run folder"):
        RunFolder.open(tmp_path / "nothing")


def test_default_location_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rf = RunFolder(None, "demo", {"a": 1})
    assert rf.path.parent.name == "runs" and rf.path.name.startswith("demo-")


def test_files_get_normal_permissions(tmp_path):
    rf = RunFolder(tmp_path / "perm", "demo", {"a": 1})
    mode = os.stat(rf.write_text("x.txt", "hi")).st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask


def test_marker_first_and_resume_guard(tmp_path):
    from analysis.store import MARKER
    from landscapes.errors import RunFolderError

    rf = RunFolder(tmp_path / "r", "demo", {"a": 1})
    assert json.loads((rf.path / MARKER).read_text())["command"] == "demo"
    with pytest.raises(RunFolderError, match="'demo' run folder, not a 'other' one"):
        RunFolder(tmp_path / "r", "other", {"a": 1}, resume=True)
    with pytest.raises(RunFolderError, match="no such run folder"):
        RunFolder(tmp_path / "none", "demo", {}, resume=True)
    assert not (tmp_path / "none").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not a run folder"):
        RunFolder(mine, "demo", {}, resume=True)
    assert [p.name for p in mine.iterdir()] == ["x.txt"]
    # a run that stored nothing (it failed right after creating its folder) can start again
    again = RunFolder(tmp_path / "r", "demo", {"a": 2})
    assert again.config == {"a": 2}


def test_legacy_run_folder_without_marker_is_resumable(tmp_path):
    from analysis.store import MARKER

    rf = RunFolder(tmp_path / "r", "demo", {"a": 1})
    rf.save_task("k", {"v": 1})
    (rf.path / MARKER).unlink()  # a run folder written before markers existed
    old = RunFolder(tmp_path / "r", "demo", {"a": 1}, resume=True)
    assert old.load_task("k")[0] == {"v": 1} and (rf.path / MARKER).exists()


def test_task_records_carry_hashes_checked_on_load(tmp_path):
    from landscapes.errors import CorruptedFileError

    rf = RunFolder(tmp_path / "r", "demo", {})
    rf.save_task("k", {"e": -1.5}, x=np.arange(4.0))
    rec = json.loads((rf.path / "tasks" / "k.json").read_text())
    assert len(rec["content_sha256"]["npz"]) == 64 and len(rec["content_sha256"]["record"]) == 64
    rec["e"] = -2.0
    (rf.path / "tasks" / "k.json").write_text(json.dumps(rec))
    with pytest.raises(CorruptedFileError, match=r"k\.json.*--recompute-corrupted"):
        rf.load_task("k")
    fixer = RunFolder(tmp_path / "r", "demo", {}, resume=True, recompute_corrupted=True)
    assert not fixer.has_task("k") and not (rf.path / "tasks" / "k.json").exists()
