"""Run folders: the one place where every command writes its results.

A run folder holds ``config.json`` (the full configuration: seeds, model fingerprints,
package version), tidy tables (CSV), arrays (``.npz``, never pickled), figures (PNG) and a
report. Every write is atomic (temporary file in the same folder, then ``os.replace``), so
an interrupted run never leaves a half-written file. Results of independent tasks are
stored under a key derived from the task's configuration; a rerun with ``resume=True``
skips tasks already stored and refuses to resume when the configuration differs.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from landscapes.io import atomic_write_bytes

__all__ = ["RunFolder", "atomic_write_bytes", "task_key", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples into plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)
    return obj


def _canonical(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"))


def task_key(config: dict) -> str:
    """Stable key (24 hex digits of SHA-256) of a task configuration."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:24]


class RunFolder:
    """A run folder on disk.

    Parameters
    ----------
    path : str or Path or None
        Folder to use; by default ``runs/<command>-<timestamp>-<hash>`` under the current
        directory.
    command : str
        Name of the command that writes it (e.g. ``"descend"``).
    config : dict
        Full configuration (JSON-able after :func:`to_jsonable`): everything needed to rerun.
    resume : bool
        Reuse an existing folder with the same command and configuration. Without it an
        existing non-empty folder is an error, so nothing is overwritten by accident.
    """

    def __init__(
        self,
        path: str | os.PathLike | None,
        command: str,
        config: dict,
        *,
        resume: bool = False,
        root: str | os.PathLike = "runs",
    ):
        from landscapes import __version__

        self.command = command
        self.config = to_jsonable(config)
        if path is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(root) / f"{command}-{stamp}-{task_key(self.config)[:6]}"
        self.path = Path(path)
        cfg_file = self.path / "config.json"
        if cfg_file.exists():
            old = json.loads(cfg_file.read_text())
            if not resume:
                raise ValueError(
                    f"run folder {self.path} already holds a run; pass --resume {self.path} "
                    "(resume=True) to continue it, or choose another --out"
                )
            diffs = _diff(
                {"command": old.get("command"), "config": old.get("config")},
                {"command": command, "config": self.config},
            )
            if diffs:
                raise ValueError(
                    f"cannot resume {self.path}: its configuration differs at "
                    + "; ".join(diffs[:8])
                )
        else:
            if self.path.exists() and any(self.path.iterdir()) and not resume:
                raise ValueError(f"{self.path} exists and is not empty; choose another --out")
            self.path.mkdir(parents=True, exist_ok=True)
            self.write_json(
                "config.json",
                {
                    "command": command,
                    "config": self.config,
                    "version": __version__,
                    "created": _dt.datetime.now().isoformat(timespec="seconds"),
                },
            )

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """Open an existing run folder for reading (and for regenerating figures)."""
        path = Path(path)
        cfg_file = path / "config.json"
        if not cfg_file.exists():
            raise ValueError(f"{path} is not a run folder (no config.json)")
        meta = json.loads(cfg_file.read_text())
        return cls(path, meta["command"], meta["config"], resume=True)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r}, command={self.command!r})"

    # ----------------------------------------------------------------- files
    def file(self, name: str) -> Path:
        """Path of a file inside the folder (sub-folders are created)."""
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def exists(self, name: str) -> bool:
        """Whether a file is present."""
        return (self.path / name).exists()

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Atomically write raw bytes."""
        p = self.file(name)
        atomic_write_bytes(p, data)
        return p

    def write_text(self, name: str, text: str) -> Path:
        """Atomically write text (UTF-8)."""
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj: Any) -> Path:
        """Atomically write JSON."""
        return self.write_text(name, json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n")

    def read_json(self, name: str) -> Any:
        """Read a JSON file."""
        return json.loads((self.path / name).read_text())

    def write_table(self, name: str, table) -> Path:
        """Atomically write a tidy table as CSV (a DataFrame, list of dicts or dict of columns)."""
        import pandas as pd

        df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return self.write_text(name, buf.getvalue())

    def read_table(self, name: str):
        """Read a CSV table as a DataFrame."""
        import pandas as pd

        return pd.read_csv(self.path / name)

    def write_arrays(self, name: str, **arrays) -> Path:
        """Atomically write arrays to ``.npz`` (object arrays are refused: no pickle)."""
        clean = {}
        for k, v in arrays.items():
            a = np.asarray(v)
            if a.dtype == object:
                raise ValueError(
                    f"array {k!r} has dtype object; only numeric/string arrays are stored"
                )
            clean[k] = a
        buf = io.BytesIO()
        np.savez_compressed(buf, **clean)
        return self.write_bytes(name, buf.getvalue())

    def read_arrays(self, name: str) -> dict[str, np.ndarray]:
        """Read an ``.npz`` file (``allow_pickle=False``) into a dict."""
        with np.load(self.path / name, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def save_figure(self, name: str, fig, dpi: int = 120) -> Path:
        """Atomically save a matplotlib figure as PNG and close it."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return self.write_bytes(name, buf.getvalue())

    # ----------------------------------------------------------------- tasks
    def has_task(self, key: str) -> bool:
        """Whether the task ``key`` has a stored, complete result."""
        return (self.path / "tasks" / f"{key}.json").exists()

    def save_task(self, key: str, meta: dict, **arrays) -> None:
        """Store a task result: arrays first, then the JSON record that marks completion."""
        if arrays:
            self.write_arrays(f"tasks/{key}.npz", **arrays)
        self.write_json(f"tasks/{key}.json", meta)

    def load_task(self, key: str) -> tuple[dict, dict[str, np.ndarray]]:
        """Load a stored task result as ``(meta, arrays)``."""
        meta = self.read_json(f"tasks/{key}.json")
        arrays = self.read_arrays(f"tasks/{key}.npz") if self.exists(f"tasks/{key}.npz") else {}
        return meta, arrays

    def task_keys(self) -> list[str]:
        """Keys of all completed tasks."""
        d = self.path / "tasks"
        return sorted(p.stem for p in d.glob("*.json")) if d.exists() else []


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two JSON-like objects."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{prefix}{k} (only in {'new' if k in b else 'stored'} config)")
            else:
                out.extend(_diff(a[k], b[k], f"{prefix}{k}."))
        return out
    if _canonical(a) != _canonical(b):
        return [f"{prefix.rstrip('.')}: stored {_canonical(a)[:60]} vs new {_canonical(b)[:60]}"]
    return []
