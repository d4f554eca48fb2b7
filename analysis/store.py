"""Run folders: the one place where every command writes its results.

Every command writes the same layout::

    RUN_DIR/
      .landscapes-run.json   marker: command, package version, creation time (written FIRST)
      config.json            the full configuration (seeds, model fingerprints, version)
      tables/                tidy tables (CSV) and small JSON results
      arrays/                arrays (.npz, never pickled)
      figures/               figures (PNG)
      report.html, report.md the report, for a browser and for a terminal
      tasks/                 stored task results (resume), each with its content hashes
      .landscapes-hashes.json  SHA-256 of every other file written through the folder

The paths come from the folder (:meth:`RunFolder.write_table` writes under ``tables/``,
:meth:`RunFolder.write_arrays` under ``arrays/``, :meth:`RunFolder.save_figure` under
``figures/``), so commands cannot diverge. Every write is atomic (temporary file in the same
folder, then ``os.replace``), so an interrupted run never leaves a half-written file, and every
file carries a SHA-256 recorded at write time and checked on load: a truncated, emptied,
deleted or altered file is a :class:`~landscapes.errors.CorruptedFileError` naming it.

A folder is created only by the command that owns it: ``resume=True`` refuses a missing
folder, a folder without the marker (a folder the user owns is never written into) and a folder
of another command; without it, an existing non-empty folder is refused, so nothing is
overwritten by accident. Results of independent tasks are stored under a key derived from the
task's configuration; a rerun with ``resume=True`` skips tasks already stored and refuses to
resume when the configuration differs.
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

from landscapes.errors import CorruptedFileError, RunFolderError
from landscapes.io import atomic_write_bytes, sha256_bytes, sha256_file

__all__ = [
    "HASHES",
    "LAYOUT",
    "MARKER",
    "RunFolder",
    "atomic_write_bytes",
    "check_output_path",
    "is_run_folder",
    "stored",
    "task_key",
    "to_jsonable",
]

MARKER = ".landscapes-run.json"
"""Name of the marker file that makes a folder a run folder (written before anything else)."""

HASHES = ".landscapes-hashes.json"
"""Name of the file holding the SHA-256 of every non-task file written through the folder."""

LAYOUT = {"table": "tables", "array": "arrays", "figure": "figures"}
"""Sub-folder of each kind of result."""

_FRESH = {MARKER, HASHES, "config.json"}  # what a run holds before it stores any result


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


def _read_json_file(path: Path) -> Any:
    """A JSON file's content; CorruptedFileError naming it when it is empty or not JSON."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptedFileError(path, "deleted (no such file)") from None
    if not data:
        raise CorruptedFileError(path, "empty file")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptedFileError(path, f"not valid JSON ({exc})") from None


def read_marker(path: str | os.PathLike) -> dict | None:
    """The marker of a run folder (``command``, ``version``, ``created``), or None.

    A folder written before markers existed (a ``config.json`` holding ``command`` and
    ``config``) counts as a run folder of that command.
    """
    path = Path(path)
    marker = path / MARKER
    if marker.is_file():
        meta = _read_json_file(marker)
        if not isinstance(meta, dict) or "command" not in meta:
            raise CorruptedFileError(marker, "not a run-folder marker (no 'command')")
        return meta
    cfg = path / "config.json"
    if cfg.is_file():
        try:
            meta = json.loads(cfg.read_text())
        except (ValueError, UnicodeDecodeError):
            return None
        if isinstance(meta, dict) and {"command", "config", "version"} <= set(meta):
            return {"command": meta["command"], "version": meta["version"], "legacy": True}
    return None


def is_run_folder(path: str | os.PathLike, command: str | None = None) -> bool:
    """Whether ``path`` is a run folder (of ``command``, when given)."""
    try:
        m = read_marker(path)
    except CorruptedFileError:
        return False
    return m is not None and (command is None or m["command"] == command)


def check_output_path(path: str | os.PathLike, what: str = "--out") -> Path:
    """Check that a run folder can be created or written at ``path`` (nothing is created).

    Raises :class:`~landscapes.errors.RunFolderError` (one line) when ``path`` is a file, lies
    under a file, or its nearest existing folder is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{what} {path}: is a file, not a folder; choose another {what}")
    anc = path
    while not anc.exists():
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc != path and not anc.is_dir():
        raise RunFolderError(f"{what} {path}: cannot create a folder under the file {anc}")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise RunFolderError(f"{what} {path}: {anc} is not writable; choose another {what}")
    return path


class RunFolder:
    """A run folder on disk, created only by the command that owns it.

    Parameters
    ----------
    path : str or Path or None
        Folder to use; by default ``runs/<command>-<timestamp>-<hash>`` under ``root``.
    command : str
        Name of the command that writes it (e.g. ``"descend"``).
    config : dict
        Full configuration (JSON-able after :func:`to_jsonable`): everything needed to rerun.
    resume : bool
        Continue the run folder ``path``: it must exist and be a run folder of the same
        ``command`` with the same configuration. Without it an existing non-empty folder is an
        error, so nothing is overwritten by accident (a folder holding only the marker and
        config.json of a run of this command that stored nothing is reused).
    root : str or Path
        Parent of the default folder.
    recompute_corrupted : bool
        On resume, a stored task whose files are missing, truncated or altered counts as not
        stored (its files are removed and the task recomputed) instead of raising
        :class:`~landscapes.errors.CorruptedFileError`; a corrupted config.json is rewritten.

    Raises
    ------
    RunFolderError
        The folder cannot be used (see ``resume``), or cannot be created (a file, under a
        file, not writable). Nothing is written in that case.
    CorruptedFileError
        A stored config.json, marker or hash file is corrupted (without ``recompute_corrupted``).
    """

    def __init__(
        self,
        path: str | os.PathLike | None,
        command: str,
        config: dict,
        *,
        resume: bool = False,
        root: str | os.PathLike = "runs",
        recompute_corrupted: bool = False,
    ):
        self.command = command
        self.config = to_jsonable(config)
        self.recompute_corrupted = bool(recompute_corrupted)
        if path is None:
            if resume:
                raise RunFolderError("--resume needs the run folder: --resume RUN_DIR")
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(root) / f"{command}-{stamp}-{task_key(self.config)[:6]}"
        self.path = Path(path)
        self._hashes: dict[str, str] = {}
        what = "--resume" if resume else "--out"
        check_output_path(self.path, what)
        if resume:
            self._resume()
        else:
            self._create()

    # ----------------------------------------------------------------- creation
    def _hint(self) -> str:
        return f"rerun with --resume {self.path} --recompute-corrupted to recompute it"

    def _resume(self) -> None:
        if not self.path.is_dir():
            raise RunFolderError(
                f"--resume {self.path}: no such run folder; start a run with --out {self.path}"
            )
        marker = read_marker(self.path)
        if marker is None:
            raise RunFolderError(
                f"--resume {self.path}: not a run folder (no {MARKER}); refusing to write into "
                "a folder that no landscapes command created"
            )
        if marker["command"] != self.command:
            raise RunFolderError(
                f"--resume {self.path}: a '{marker['command']}' run folder, not a "
                f"'{self.command}' one"
            )
        self._load_hashes()
        try:
            old = self.read_json("config.json")
            if not isinstance(old, dict) or "config" not in old:
                raise CorruptedFileError(self.path / "config.json", "not a run configuration")
        except CorruptedFileError as exc:
            if not self.recompute_corrupted:
                raise CorruptedFileError(exc.path, exc.problem, self._hint()) from None
            self._write_config()
            old = {"command": self.command, "config": self.config}
        diffs = _diff(
            {"command": old.get("command"), "config": old.get("config")},
            {"command": self.command, "config": self.config},
        )
        if diffs:
            raise RunFolderError(
                f"cannot resume {self.path}: its configuration differs at " + "; ".join(diffs[:8])
            )
        if marker.get("legacy"):
            self._write_marker()

    def _create(self) -> None:
        if self.path.is_dir() and any(self.path.iterdir()):
            marker = read_marker(self.path)
            names = {p.name for p in self.path.iterdir()}
            if marker is None:
                raise RunFolderError(
                    f"--out {self.path}: exists and is not empty (not a run folder); "
                    "choose another --out"
                )
            if marker["command"] != self.command or not names <= _FRESH:
                raise RunFolderError(
                    f"--out {self.path}: already holds a '{marker['command']}' run; pass "
                    f"--resume {self.path} to continue it, or choose another --out"
                )
            # a run of this command that stopped before storing anything: start it afresh
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"--out {self.path}: cannot create it ({exc.strerror})") from None
        self._write_marker()
        self._write_config()

    def _write_marker(self) -> None:
        from landscapes import __version__

        meta = {
            "command": self.command,
            "version": __version__,
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "layout": {"config": "config.json", **LAYOUT, "report": "report.html"},
        }
        atomic_write_bytes(self.path / MARKER, (json.dumps(meta, indent=2) + "\n").encode())

    def _write_config(self) -> None:
        from landscapes import __version__

        self.write_json(
            "config.json",
            {
                "command": self.command,
                "config": self.config,
                "version": __version__,
                "created": _dt.datetime.now().isoformat(timespec="seconds"),
            },
        )

    def _load_hashes(self) -> None:
        f = self.path / HASHES
        if not f.exists():
            self._hashes = {}
            return
        try:
            h = _read_json_file(f)
            if not isinstance(h, dict):
                raise CorruptedFileError(f, "not a table of hashes")
        except CorruptedFileError as exc:
            if not self.recompute_corrupted:
                raise CorruptedFileError(exc.path, exc.problem, self._hint()) from None
            h = {}
        self._hashes = {str(k): str(v) for k, v in h.items()}

    @classmethod
    def open(cls, path: str | os.PathLike, command: str | None = None) -> RunFolder:
        """Open an existing run folder for reading (and for regenerating figures).

        ``command``, when given, is the command whose run it must be.
        """
        path = Path(path)
        marker = read_marker(path) if path.is_dir() else None
        if marker is None:
            raise RunFolderError(f"{path} is not a run folder (no {MARKER} or config.json)")
        if command is not None and marker["command"] != command:
            raise RunFolderError(f"{path} is a '{marker['command']}' run, not a '{command}' run")
        meta = _read_json_file(path / "config.json")
        if not isinstance(meta, dict) or "config" not in meta:
            raise CorruptedFileError(path / "config.json", "not a run configuration")
        return cls(path, marker["command"], meta["config"], resume=True)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r}, command={self.command!r})"

    # ----------------------------------------------------------------- layout
    @staticmethod
    def name_of(kind: str, name: str) -> str:
        """Relative path of a result of ``kind`` ("table", "array", "figure") in the layout.

        ``name`` is relative to the kind's folder; a name that already starts with it
        (``"tables/x.csv"``) is taken as is.
        """
        if kind not in LAYOUT:
            raise ValueError(f"kind must be one of {', '.join(LAYOUT)}; got {kind!r}")
        folder = LAYOUT[kind]
        name = str(name).replace(os.sep, "/")
        return name if name.startswith(folder + "/") else f"{folder}/{name}"

    def path_of(self, kind: str, name: str) -> Path:
        """Absolute path of a result of ``kind`` (see :meth:`name_of`)."""
        return self.path / self.name_of(kind, name)

    # ----------------------------------------------------------------- files
    def file(self, name: str) -> Path:
        """Path of a file inside the folder (sub-folders are created)."""
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def exists(self, name: str) -> bool:
        """Whether a file is present."""
        return (self.path / name).exists()

    def _record(self, name: str, digest: str) -> None:
        self._hashes[name] = digest
        atomic_write_bytes(
            self.path / HASHES, (json.dumps(self._hashes, indent=1, sort_keys=True) + "\n").encode()
        )

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Atomically write raw bytes, recording their SHA-256."""
        p = self.file(name)
        atomic_write_bytes(p, data)
        if not name.startswith("tasks/"):
            self._record(name, sha256_bytes(data))
        return p

    def read_bytes(self, name: str) -> bytes:
        """A file's bytes, checked against the SHA-256 recorded when it was written."""
        p = self.path / name
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise CorruptedFileError(p, "deleted (no such file)") from None
        want = self._hashes.get(name)
        if want is not None and sha256_bytes(data) != want:
            raise CorruptedFileError(
                p, "empty file" if not data else "content differs from what was written"
            )
        return data

    def verify(self) -> list[str]:
        """Names of the recorded files that are missing or whose content hash differs."""
        bad = []
        for name, digest in sorted(self._hashes.items()):
            p = self.path / name
            if not p.is_file() or sha256_file(p) != digest:
                bad.append(name)
        return bad

    def write_text(self, name: str, text: str) -> Path:
        """Atomically write text (UTF-8)."""
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj: Any) -> Path:
        """Atomically write JSON."""
        return self.write_text(name, json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n")

    def read_json(self, name: str) -> Any:
        """Read a JSON file (checked; CorruptedFileError naming it when unreadable)."""
        data = self.read_bytes(name)
        if not data:
            raise CorruptedFileError(self.path / name, "empty file")
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptedFileError(self.path / name, f"not valid JSON ({exc})") from None

    def write_table(self, name: str, table) -> Path:
        """Write a tidy table as CSV under ``tables/`` (a DataFrame, list of dicts or dict of
        columns)."""
        import pandas as pd

        df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return self.write_text(self.name_of("table", name), buf.getvalue())

    def read_table(self, name: str):
        """Read a CSV table of ``tables/`` as a DataFrame (checked)."""
        import pandas as pd

        rel = self.name_of("table", name)
        data = self.read_bytes(rel)
        try:
            return pd.read_csv(io.BytesIO(data))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptedFileError(self.path / rel, f"not a readable CSV table ({exc})") from None

    @staticmethod
    def _npz_bytes(arrays: dict) -> bytes:
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
        return buf.getvalue()

    def _load_npz(self, rel: str, data: bytes) -> dict[str, np.ndarray]:
        if not data:
            raise CorruptedFileError(self.path / rel, "empty file")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as exc:  # noqa: BLE001 - zipfile/zlib/EOF errors all mean "corrupt"
            raise CorruptedFileError(
                self.path / rel, f"not a readable .npz file ({type(exc).__name__}: {exc})"
            ) from None

    def write_arrays(self, name: str, **arrays) -> Path:
        """Write arrays to ``.npz`` under ``arrays/`` (object arrays are refused: no pickle)."""
        return self.write_bytes(self.name_of("array", name), self._npz_bytes(arrays))

    def read_arrays(self, name: str) -> dict[str, np.ndarray]:
        """Read an ``.npz`` file of ``arrays/`` (checked, ``allow_pickle=False``) into a dict."""
        rel = self.name_of("array", name)
        return self._load_npz(rel, self.read_bytes(rel))

    def save_figure(self, name: str, fig, dpi: int = 120) -> Path:
        """Save a matplotlib figure as PNG under ``figures/`` and close it."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return self.write_bytes(self.name_of("figure", name), buf.getvalue())

    # ----------------------------------------------------------------- tasks
    def has_task(self, key: str) -> bool:
        """Whether the task ``key`` has a stored result.

        With ``recompute_corrupted`` the result is checked first; a corrupted one is removed
        and counts as missing (so the task is recomputed).
        """
        if not (self.path / "tasks" / f"{key}.json").exists():
            return False
        if self.recompute_corrupted:
            try:
                self.load_task(key)
            except CorruptedFileError:
                for ext in ("json", "npz"):
                    (self.path / "tasks" / f"{key}.{ext}").unlink(missing_ok=True)
                return False
        return True

    def save_task(self, key: str, meta: dict, **arrays) -> None:
        """Store a task result: arrays first, then the JSON record that marks completion.

        The record carries ``content_sha256``: the SHA-256 of the ``.npz`` (None without
        arrays) and of the record itself, checked by :meth:`load_task`.
        """
        npz = None
        if arrays:
            data = self._npz_bytes(arrays)
            atomic_write_bytes(self.file(f"tasks/{key}.npz"), data)
            npz = sha256_bytes(data)
        meta = to_jsonable(meta)
        record = {**meta, "content_sha256": {"npz": npz, "record": _record_hash(meta)}}
        self.write_json(f"tasks/{key}.json", record)

    def load_task(self, key: str) -> tuple[dict, dict[str, np.ndarray]]:
        """A stored task result as ``(meta, arrays)``, checked against its content hashes.

        Raises
        ------
        CorruptedFileError
            The record or its arrays are missing, truncated, unreadable or altered.
        """
        rel, npz_rel = f"tasks/{key}.json", f"tasks/{key}.npz"
        try:
            meta = self.read_json(rel)
            if not isinstance(meta, dict):
                raise CorruptedFileError(self.path / rel, "not a task record")
            hashes = meta.pop("content_sha256", None)
            if hashes is not None and _record_hash(meta) != hashes.get("record"):
                raise CorruptedFileError(self.path / rel, "content differs from what was written")
            want = hashes.get("npz") if hashes is not None else None
            if want is None and hashes is not None:
                return meta, {}
            if not (self.path / npz_rel).exists():
                if want is None:  # a record written before hashes, without arrays
                    return meta, {}
                raise CorruptedFileError(self.path / npz_rel, "deleted (no such file)")
            data = (self.path / npz_rel).read_bytes()
            if want is not None and sha256_bytes(data) != want:
                problem = "empty file" if not data else "content differs from what was written"
                raise CorruptedFileError(self.path / npz_rel, problem)
            return meta, self._load_npz(npz_rel, data)
        except CorruptedFileError as exc:
            raise CorruptedFileError(exc.path, exc.problem, self._hint()) from None

    def task_keys(self) -> list[str]:
        """Keys of all completed tasks."""
        d = self.path / "tasks"
        return sorted(p.stem for p in d.glob("*.json")) if d.exists() else []


def stored(store, key: dict, compute) -> dict[str, np.ndarray]:
    """The arrays of one unit of work: read from ``store`` when there, else computed and saved.

    ``store`` is a :class:`RunFolder` (or None: always compute); ``key`` a JSON-able
    description of the unit (its parameters and seed), hashed by :func:`task_key`;
    ``compute()`` returns a dict of arrays. This is what makes a resumed run skip the work
    already done.
    """
    if store is None:
        return compute()
    k = task_key(key)
    if store.has_task(k):
        return store.load_task(k)[1]
    arrays = compute()
    store.save_task(k, {"task": key}, **arrays)
    return arrays


def _record_hash(meta: dict) -> str:
    return sha256_bytes(_canonical(meta).encode())


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
