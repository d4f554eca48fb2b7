"""Atomic file writes, content hashes and pickle-free array files, shared by every package."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from landscapes.errors import CorruptedFileError

__all__ = ["atomic_write_bytes", "save_npz", "load_npz", "sha256_bytes", "sha256_file"]


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content as 64 hex digits (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    """Read a file written by :func:`save_npz` as ``(meta, arrays)`` (``allow_pickle=False``).

    A missing, empty, truncated or otherwise unreadable file, or one without its metadata
    record, raises :class:`landscapes.errors.CorruptedFileError` (a ValueError) naming it.
    """
    path = Path(path)
    if not path.exists():
        raise CorruptedFileError(path, "no such file")
    if path.is_dir():
        raise CorruptedFileError(path, "is a folder, not an .npz file")
    if path.stat().st_size == 0:
        raise CorruptedFileError(path, "empty file")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - zipfile/zlib/EOF/pickle errors all mean "corrupt"
        raise CorruptedFileError(
            path, f"not a readable .npz file ({type(exc).__name__}: {exc})"
        ) from None
    if "__meta__" not in arrays:
        raise CorruptedFileError(path, "no metadata record (was it written by save()?)")
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
    except ValueError as exc:
        raise CorruptedFileError(path, f"metadata record is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CorruptedFileError(path, "metadata record is not a JSON object")
    return meta, arrays
