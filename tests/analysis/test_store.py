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
    rf.write_arrays("a.npz", x=np.eye(2))
    assert np.array_equal(rf.read_arrays("a.npz")["x"], np.eye(2))
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
    with pytest.raises(ValueError, match="already holds a run"):
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
