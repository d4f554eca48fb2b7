"""A catalogue of critical points and their connections, in SQLite (WAL mode).

Tables:

* ``models``: one row per energy instance (fingerprint, parameters, coupling seed, dim, scale);
* ``points``: distinct critical (and gradient-flat) points of each instance: coordinates
  (float64 blob), intensive energy, index, gradient norm, smallest |eigenvalue|, lowest
  eigenvalues (blob), kind ("critical" or "flat");
* ``runs`` / ``batches`` / ``run_points``: the censuses run on an instance (seed and options),
  the batches of starts each has finished, and which points each run found, in order;
* ``connections``: index-1 saddles and the two minima they join, with the barrier.

Every batch of a census is written in one transaction together with the record that the batch
is done, so a census killed at any moment (even by SIGKILL) and rerun on the same catalogue
resumes after its last finished batch, re-derives exactly the same state, and never stores a
point twice. Points are shared between runs of the same instance: a point already stored
(within the deduplication distance) is linked, not inserted again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np

from landscapes.energy import Energy

__all__ = ["Catalogue", "CatalogueRecorder", "record_batches"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    fingerprint TEXT PRIMARY KEY, params TEXT NOT NULL, seed TEXT, dim INTEGER NOT NULL,
    scale REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, kind TEXT NOT NULL,
    coords BLOB NOT NULL, energy REAL NOT NULL, idx INTEGER, grad_norm REAL,
    min_abs_eig REAL, low_eigs BLOB
);
CREATE INDEX IF NOT EXISTS points_fp ON points (fingerprint, kind);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, seed TEXT NOT NULL,
    options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    run_key TEXT NOT NULL, batch INTEGER NOT NULL, size INTEGER NOT NULL,
    n_points INTEGER NOT NULL, n_degenerate INTEGER NOT NULL, n_zero INTEGER NOT NULL,
    PRIMARY KEY (run_key, batch)
);
CREATE TABLE IF NOT EXISTS run_points (
    run_key TEXT NOT NULL, ord INTEGER NOT NULL, point_id INTEGER NOT NULL,
    PRIMARY KEY (run_key, ord)
);
CREATE TABLE IF NOT EXISTS connections (
    saddle_id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, min_a INTEGER, min_b INTEGER,
    saddle_energy REAL NOT NULL
);
"""


def _blob(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def _unblob(b) -> np.ndarray:
    return np.frombuffer(b, dtype=np.float64).copy() if b is not None else np.zeros(0)


class Catalogue:
    """An SQLite catalogue of critical points (see the module docstring).

    Parameters
    ----------
    path : str or Path
        Database file (created if missing).
    dist_tol : float
        Absolute distance under which two points of an instance are the same point.
    """

    def __init__(self, path: str | os.PathLike, dist_tol: float = 1e-6):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"catalogue path {self.path} is a directory")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dist_tol = float(dist_tol)
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a usable SQLite catalogue: {exc}") from None
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._energies: dict[str, Energy] = {}

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self) -> str:
        return f"Catalogue({str(self.path)!r})"

    # ----------------------------------------------------------------- models & runs
    def add_model(self, energy: Energy) -> str:
        """Register an energy instance; returns its fingerprint."""
        fp = energy.fingerprint
        seed = getattr(energy, "seed_record", None)
        self._db.execute(
            "INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?, ?)",
            (
                fp,
                json.dumps(energy.params(), sort_keys=True, default=str),
                json.dumps(seed, default=str),
                int(energy.dim),
                float(energy.scale),
            ),
        )
        self._energies[fp] = energy
        return fp

    def models(self) -> list[dict]:
        """All registered instances: fingerprint, params, seed, dim, scale, point counts."""
        rows = self._db.execute(
            "SELECT m.fingerprint, m.params, m.seed, m.dim, m.scale, "
            "(SELECT COUNT(*) FROM points p WHERE p.fingerprint = m.fingerprint "
            "AND p.kind = 'critical') FROM models m ORDER BY m.rowid"
        ).fetchall()
        return [
            {
                "fingerprint": r[0],
                "params": json.loads(r[1]),
                "seed": json.loads(r[2]) if r[2] else None,
                "dim": r[3],
                "scale": r[4],
                "n_points": r[5],
            }
            for r in rows
        ]

    def begin_census(self, energy: Energy, seed: dict, options: dict) -> str:
        """Register (or find) the census run of ``energy`` with this seed and options."""
        import hashlib

        fp = self.add_model(energy)
        payload = json.dumps({"fp": fp, "seed": seed, "options": options}, sort_keys=True)
        key = hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._db.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?)",
            (key, fp, json.dumps(seed), json.dumps(options, sort_keys=True)),
        )
        return key

    def _fp_of(self, run_key: str) -> str:
        row = self._db.execute(
            "SELECT fingerprint FROM runs WHERE run_key = ?", (run_key,)
        ).fetchone()
        if row is None:
            raise ValueError(f"no census run {run_key!r} in {self.path}")
        return row[0]

    def restore_state(self, run_key: str, state) -> None:
        """Fill a census state with the finished batches and points of ``run_key``."""
        rows = self._db.execute(
            "SELECT p.coords, p.energy, p.idx, p.grad_norm, p.min_abs_eig FROM run_points r "
            "JOIN points p ON p.id = r.point_id WHERE r.run_key = ? ORDER BY r.ord",
            (run_key,),
        ).fetchall()
        fp = self._fp_of(run_key)
        scale = self._db.execute(
            "SELECT scale FROM models WHERE fingerprint = ?", (fp,)
        ).fetchone()[0]
        if rows:
            state.X = np.stack([_unblob(r[0]) for r in rows])
            state.e = np.array([r[1] for r in rows]) * scale
            state.k = np.array([r[2] for r in rows], dtype=int)
            state.gn = np.array([r[3] for r in rows])
            state.mins = np.array([r[4] for r in rows])
        batches = self._db.execute(
            "SELECT batch, size, n_points, n_degenerate, n_zero FROM batches WHERE run_key = ? "
            "ORDER BY batch",
            (run_key,),
        ).fetchall()
        prev = 0
        for i, (b, size, npts, ndeg, nz) in enumerate(batches):
            if b != i:
                raise ValueError(f"catalogue {self.path}: run {run_key} has a gap at batch {i}")
            state.n_starts += size
            if npts > prev:
                state.last_new_at = state.n_starts
            prev = npts
            state.n_degenerate += ndeg
            state.n_zero = max(state.n_zero, nz)
            state.saturation.append((state.n_starts, npts))
        if state.X.shape[0] != prev:
            raise ValueError(f"catalogue {self.path}: run {run_key} is inconsistent")
        flats = self._db.execute(
            "SELECT coords, energy, grad_norm FROM points WHERE fingerprint = ? AND kind = 'flat' "
            "ORDER BY id",
            (fp,),
        ).fetchall()
        if flats:
            state.Xf = np.stack([_unblob(r[0]) for r in flats])
            state.ef = np.array([r[1] for r in flats]) * scale
            state.gf = np.array([r[2] for r in flats])

    def census_batches(self, run_key: str) -> list[tuple[int, int]]:
        """Finished batches of a census run: ``(starts done, distinct points)`` after each."""
        self._fp_of(run_key)
        rows = self._db.execute(
            "SELECT size, n_points FROM batches WHERE run_key = ? ORDER BY batch", (run_key,)
        ).fetchall()
        out, n = [], 0
        for size, npts in rows:
            n += int(size)
            out.append((n, int(npts)))
        return out

    def _known(self, fp: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        key = f"{fp}/{kind}"
        if key not in self._cache:
            rows = self._db.execute(
                "SELECT id, coords FROM points WHERE fingerprint = ? AND kind = ? ORDER BY id",
                (fp, kind),
            ).fetchall()
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            X = np.stack([_unblob(r[1]) for r in rows]) if rows else None
            self._cache[key] = (ids, X)
        return self._cache[key]

    def _match_or_insert(self, fp, kind, X, rows) -> list[int]:
        """Ids of the points X (existing ids for stored points, new rows otherwise)."""
        ids, known = self._known(fp, kind)
        out = []
        for x, row in zip(X, rows, strict=True):
            if known is not None and known.shape[0]:
                d = np.linalg.norm(known - x, axis=1)
                j = int(np.argmin(d))
                if d[j] <= self.dist_tol:
                    out.append(int(ids[j]))
                    continue
            cur = self._db.execute(
                "INSERT INTO points (fingerprint, kind, coords, energy, idx, grad_norm, "
                "min_abs_eig, low_eigs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (fp, kind, _blob(x), *row),
            )
            out.append(int(cur.lastrowid))
            ids = np.append(ids, cur.lastrowid)
            known = x[None].copy() if known is None else np.vstack([known, x])
        self._cache[f"{fp}/{kind}"] = (ids, known)
        return out

    def commit_batch(self, run_key: str, batch: int, size: int, add: dict, n_points: int) -> None:
        """Store one finished census batch (its new points and its record) atomically."""
        fp = self._fp_of(run_key)
        scale = float(
            self._db.execute("SELECT scale FROM models WHERE fingerprint = ?", (fp,)).fetchone()[0]
        )
        saved = dict(self._cache)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            start = self._db.execute(
                "SELECT COUNT(*) FROM run_points WHERE run_key = ?", (run_key,)
            ).fetchone()[0]
            rows = [
                (float(e) / scale, int(k), float(g), float(m), _blob(lo))
                for e, k, g, m, lo in zip(
                    add["e"], add["k"], add["gn"], add["mins"], add["low"], strict=True
                )
            ]
            ids = self._match_or_insert(fp, "critical", add["X"], rows)
            self._db.executemany(
                "INSERT INTO run_points VALUES (?, ?, ?)",
                [(run_key, start + i, pid) for i, pid in enumerate(ids)],
            )
            frows = [
                (float(e) / scale, None, float(g), None, None)
                for e, g in zip(add["ef"], add["gf"], strict=True)
            ]
            self._match_or_insert(fp, "flat", add["Xf"], frows)
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                (run_key, int(batch), int(size), int(n_points), add["n_degenerate"], add["n_zero"]),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._cache = saved
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- reading
    def fingerprints(self) -> list[str]:
        """Fingerprints of the stored instances."""
        return [r[0] for r in self._db.execute("SELECT fingerprint FROM models ORDER BY rowid")]

    def points(self, fingerprint: str, kind: str = "critical") -> dict[str, np.ndarray]:
        """Stored points of an instance: ``id``, ``coords``, ``energy`` (intensive), ``index``,
        ``grad_norm``, ``min_abs_eig``."""
        rows = self._db.execute(
            "SELECT id, coords, energy, idx, grad_norm, min_abs_eig FROM points "
            "WHERE fingerprint = ? AND kind = ? ORDER BY id",
            (fingerprint, kind),
        ).fetchall()
        dim = self._db.execute(
            "SELECT dim FROM models WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
        n = 0 if dim is None else dim[0]
        return {
            "id": np.array([r[0] for r in rows], dtype=np.int64),
            "coords": np.stack([_unblob(r[1]) for r in rows]) if rows else np.zeros((0, n)),
            "energy": np.array([r[2] for r in rows], dtype=float),
            "index": np.array([r[3] if r[3] is not None else -1 for r in rows], dtype=int),
            "grad_norm": np.array([r[4] for r in rows], dtype=float),
            "min_abs_eig": np.array(
                [r[5] if r[5] is not None else np.nan for r in rows], dtype=float
            ),
        }

    def counts_by_index(self, fingerprint: str) -> np.ndarray:
        """Number of stored critical points of each index."""
        k = self.points(fingerprint)["index"]
        return np.bincount(k) if k.size else np.zeros(0, dtype=int)

    def add_point(
        self,
        energy: Energy,
        x,
        *,
        energy_value: float,
        index: int,
        grad_norm: float,
        min_abs_eig: float,
    ) -> int:
        """Store one verified critical point (deduplicated); returns its id."""
        fp = self.add_model(energy)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            (pid,) = self._match_or_insert(
                fp,
                "critical",
                np.asarray(x, dtype=np.float64)[None],
                [(float(energy_value), int(index), float(grad_norm), float(min_abs_eig), None)],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._cache.pop(f"{fp}/critical", None)
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return pid

    def add_connection(
        self,
        fingerprint: str,
        saddle_id: int,
        min_a: int | None,
        min_b: int | None,
        saddle_energy: float,
    ) -> None:
        """Record that the index-1 saddle ``saddle_id`` joins minima ``min_a`` and ``min_b``."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?, ?)",
                (int(saddle_id), fingerprint, min_a, min_b, float(saddle_energy)),
            )

    def add_connections(self, energy: Energy, conn) -> dict:
        """Store the result of :func:`analysis.connectivity.connect_minima` in one transaction.

        The saddles and minima are matched to stored points (within ``dist_tol``); minima the
        descents found that are not stored yet are verified and inserted. One connection row
        per saddle (keyed by the saddle's id), so storing the same connections again changes
        nothing. Returns ``{"saddle_ids", "minima_ids", "n_new_points"}`` (arrays of point ids
        in the order of ``conn.saddles`` and ``conn.minima``).
        """
        from analysis.critical import verify

        fp = self.add_model(energy)
        scale = float(energy.scale)
        saved = dict(self._cache)

        def rows_of(X):
            if X.shape[0] == 0:
                return []
            v = verify(energy, X)
            return [
                (float(e) / scale, int(k), float(g), float(m), _blob(lo))
                for e, k, g, m, lo in zip(
                    v.energies, v.indices, v.grad_norms, v.min_abs_eigs, v.low_eigs, strict=True
                )
            ]

        ids0, known0 = self._known(fp, "critical")
        n_before = 0 if known0 is None else known0.shape[0]
        srows = rows_of(conn.saddles)
        mrows = rows_of(conn.minima)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            sid = self._match_or_insert(fp, "critical", conn.saddles, srows)
            mid = self._match_or_insert(fp, "critical", conn.minima, mrows)
            recs = []
            for s, (a, b) in enumerate(np.asarray(conn.ends, dtype=int)):
                recs.append(
                    (
                        int(sid[s]),
                        fp,
                        None if a < 0 else int(mid[a]),
                        None if b < 0 else int(mid[b]),
                        float(conn.saddle_energies[s]),
                    )
                )
            self._db.executemany("INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?, ?)", recs)
            self._db.execute("COMMIT")
        except BaseException:
            self._cache = saved
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        n_after = self._known(fp, "critical")[1].shape[0]
        return {
            "saddle_ids": np.array(sid, dtype=np.int64),
            "minima_ids": np.array(mid, dtype=np.int64),
            "n_new_points": int(n_after - n_before),
        }

    def connections(self, fingerprint: str) -> list[tuple[int, int | None, int | None, float]]:
        """``(saddle_id, min_a, min_b, saddle_energy)`` rows of an instance."""
        return [
            tuple(r)
            for r in self._db.execute(
                "SELECT saddle_id, min_a, min_b, saddle_energy FROM connections "
                "WHERE fingerprint = ? ORDER BY saddle_id",
                (fingerprint,),
            )
        ]


# ----------------------------------------------------------------------------- recording
class CatalogueRecorder:
    """Stands in for a :class:`Catalogue` where there is none (on a sweep worker).

    Pass it as ``catalogue=`` to :func:`analysis.critical.census`: it records the census run
    (seed and options) and every finished batch in order. :meth:`arrays` turns the batches
    into flat arrays that travel with a task's result, and :func:`record_batches` commits
    them to a real catalogue on the client, as if the census had run there.
    """

    def __init__(self):
        self.seed: dict | None = None
        self.options: dict | None = None
        self.batches: list[tuple[int, int, dict, int]] = []

    def begin_census(self, energy: Energy, seed: dict, options: dict) -> str:
        """Record the census run's seed and options (the catalogue's ``begin_census``)."""
        self.seed, self.options = seed, options
        return "recorded"

    def restore_state(self, run_key: str, state) -> None:
        """Nothing to restore: a recorded census always starts from scratch."""
        return None

    def commit_batch(self, run_key: str, batch: int, size: int, add: dict, n_points: int) -> None:
        """Record one finished batch (they must come in order)."""
        if batch != len(self.batches):
            raise RuntimeError(f"census batch {batch} out of order")
        self.batches.append((int(batch), int(size), add, int(n_points)))

    def record(self) -> dict:
        """JSON record of the census run: ``{"seed", "options"}``."""
        return {"seed": self.seed, "options": self.options}

    def arrays(self, dim: int) -> dict[str, np.ndarray]:
        """The recorded batches as flat arrays (one row per batch, per point, per flat point)."""
        adds = [a for _, _, a, _ in self.batches]

        def cat(name, shape=(0,), dtype=float):
            parts = [np.asarray(a[name], dtype=dtype) for a in adds]
            return np.concatenate(parts) if parts else np.zeros(shape, dtype=dtype)

        lows = [np.asarray(row, dtype=float) for a in adds for row in a["low"]]
        return {
            "cat_batch": np.array(
                [
                    [s, n, a["n_degenerate"], a["n_zero"], a["X"].shape[0], a["Xf"].shape[0]]
                    for (_, s, a, n) in self.batches
                ],
                dtype=np.int64,
            ).reshape(-1, 6),
            "cat_X": cat("X", (0, dim)).reshape(-1, dim),
            "cat_e": cat("e"),
            "cat_k": cat("k", dtype=np.int64),
            "cat_gn": cat("gn"),
            "cat_mins": cat("mins"),
            "cat_low_len": np.array([r.size for r in lows], dtype=np.int64),
            "cat_low": np.concatenate(lows) if lows else np.zeros(0),
            "cat_Xf": cat("Xf", (0, dim)).reshape(-1, dim),
            "cat_ef": cat("ef"),
            "cat_gf": cat("gf"),
        }


def record_batches(catalogue: Catalogue, energy: Energy, record: dict, arrays: dict) -> int:
    """Commit the census batches a :class:`CatalogueRecorder` recorded to ``catalogue``.

    Parameters
    ----------
    catalogue : Catalogue
        Where the batches go (written here, by the caller's process only).
    energy : Energy
        The instance the census ran on.
    record : dict
        :meth:`CatalogueRecorder.record` (seed and options of the census run).
    arrays : dict
        :meth:`CatalogueRecorder.arrays` (the ``cat_*`` arrays).

    Returns
    -------
    int
        Batches written. Idempotent: batches the catalogue already holds for this census run
        are skipped after checking that they agree (ValueError when they do not).
    """
    run_key = catalogue.begin_census(energy, record["seed"], record["options"])
    stored = catalogue.census_batches(run_key)
    have = len(stored)
    B = arrays["cat_batch"]
    sat = np.cumsum(B[:, 0]) if len(B) else np.zeros(0, dtype=np.int64)
    ours = [(int(s), int(n)) for s, n in zip(sat, B[:, 1], strict=True)]
    if stored != ours[:have]:
        raise ValueError(
            f"catalogue {catalogue.path}: the stored census of {energy.fingerprint[:12]}... "
            "differs from this run's; use another catalogue"
        )
    i0 = np.concatenate([[0], np.cumsum(B[:, 4])])
    f0 = np.concatenate([[0], np.cumsum(B[:, 5])])
    l0 = np.concatenate([[0], np.cumsum(arrays["cat_low_len"])])
    for b in range(have, len(B)):
        a, z = i0[b], i0[b + 1]
        add = {
            "X": arrays["cat_X"][a:z],
            "e": arrays["cat_e"][a:z],
            "k": arrays["cat_k"][a:z],
            "gn": arrays["cat_gn"][a:z],
            "mins": arrays["cat_mins"][a:z],
            "low": [arrays["cat_low"][l0[j] : l0[j + 1]] for j in range(a, z)],
            "Xf": arrays["cat_Xf"][f0[b] : f0[b + 1]],
            "ef": arrays["cat_ef"][f0[b] : f0[b + 1]],
            "gf": arrays["cat_gf"][f0[b] : f0[b + 1]],
            "n_degenerate": int(B[b, 2]),
            "n_zero": int(B[b, 3]),
        }
        catalogue.commit_batch(run_key, b, int(B[b, 0]), add, int(B[b, 1]))
    return len(B) - have
