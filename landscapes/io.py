"""Atomic file writes and pickle-free array files, shared by every package."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write_bytes", "save_npz", "load_npz"]


@functools.cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it briefly)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temporary file, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_npz(path: str | os.PathLike, meta: dict, **arrays) -> Path:
    """Write arrays plus a JSON metadata record to ``.npz`` atomically (no pickle)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_npz(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a file written by :func:`save_npz` as ``(meta, arrays)`` (``allow_pickle=False``)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable .npz file: {exc}") from None
    if "__meta__" not in arrays:
        raise ValueError(f"{path} has no metadata record; was it written by save()?")
    meta = json.loads(str(arrays.pop("__meta__")))
    return meta, arrays
