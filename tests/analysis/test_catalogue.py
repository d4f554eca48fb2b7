"""The SQLite catalogue: transactions, resume without duplicates, SIGKILL and rerun."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.catalogue import Catalogue
from analysis.critical import census
from pspin import SphericalPSpin

ROOT = Path(__file__).resolve().parents[2]


def _n_batches(db):
    if not Path(db).exists():
        return 0
    try:
        con = sqlite3.connect(str(db), timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_resume_adds_and_never_duplicates(tmp_path):
    model = SphericalPSpin(6, 3, seed=11)
    full = census(model, seed=4, batch_size=64)
    db = tmp_path / "c.sqlite"
    with Catalogue(db) as cat:
        part = census(model, seed=4, batch_size=64, max_starts=128, catalogue=cat)
        assert part.stopped_by == "max_starts"
        n_part = len(cat.points(model.fingerprint)["id"])
        assert n_part == part.n_points
    with Catalogue(db) as cat:
        again = census(model, seed=4, batch_size=64, catalogue=cat)
        assert again.complete
        np.testing.assert_array_equal(again.counts_by_index, full.counts_by_index)
        np.testing.assert_array_equal(again.saturation, full.saturation)
        np.testing.assert_allclose(again.points, full.points)
        pts = cat.points(model.fingerprint)
        assert len(pts["id"]) == full.n_points
        np.testing.assert_array_equal(cat.counts_by_index(model.fingerprint), full.counts_by_index)
        # a third run of a finished census does no new work and adds nothing
        third = census(model, seed=4, batch_size=64, catalogue=cat)
        np.testing.assert_array_equal(third.saturation, full.saturation)
        # another seed on the same instance links the same points, adds no duplicate rows
        census(model, seed=5, batch_size=64, catalogue=cat)
        assert len(cat.points(model.fingerprint)["id"]) == full.n_points
        # stored coordinates are exact float64 and the stored energies are intensive
        np.testing.assert_allclose(model.energy(pts["coords"]) / 6, pts["energy"], atol=1e-12)
        assert cat.models()[0]["n_points"] == full.n_points
        cat.add_connection(model.fingerprint, int(pts["id"][1]), int(pts["id"][0]), None, -1.0)
        assert cat.connections(model.fingerprint) == [
            (int(pts["id"][1]), int(pts["id"][0]), None, -1.0)
        ]


def test_bad_catalogue(tmp_path):
    bad = tmp_path / "junk.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="SQLite"):
        Catalogue(bad)
    with pytest.raises(ValueError, match="directory"):
        Catalogue(tmp_path)


_CHILD = textwrap.dedent(
    """
    import sys
    from analysis.catalogue import Catalogue
    from analysis.critical import census
    from pspin import SphericalPSpin
    model = SphericalPSpin(8, 3, seed=21)
    census(model, seed=9, batch_size=64, catalogue=Catalogue(sys.argv[1]))
    """
)


def test_sigkill_and_rerun(tmp_path):
    db = tmp_path / "kill.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT), LANDSCAPES_PROGRESS="0", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(db)], env=env, cwd=str(ROOT))
    t0 = time.monotonic()
    try:
        while _n_batches(db) < 3 and proc.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.02)
        assert proc.poll() is None, "the census finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = _n_batches(db)
    assert done >= 3
    model = SphericalPSpin(8, 3, seed=21)
    with Catalogue(db) as cat:
        resumed = census(model, seed=9, batch_size=64, catalogue=cat)
        stored = cat.counts_by_index(model.fingerprint)
    full = census(model, seed=9, batch_size=64)
    assert resumed.saturation.shape[0] > done  # work remained after the kill
    np.testing.assert_array_equal(resumed.counts_by_index, full.counts_by_index)
    np.testing.assert_array_equal(resumed.saturation, full.saturation)
    np.testing.assert_array_equal(stored, full.counts_by_index)
    assert resumed.complete
