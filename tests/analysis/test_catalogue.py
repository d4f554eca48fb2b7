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

from analysis.catalogue import Catalogue, CatalogueRecorder, record_batches
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


def test_resume_inside_the_partner_search_equals_one_run(tmp_path):
    # the partner search (one pass over the points along their softest Hessian direction)
    # runs in batches after the certificate first holds; a census stopped between two of its
    # batches resumes where it stopped: same batches, same points, same starts
    model = SphericalPSpin(6, 3, seed=11)
    full = census(model, seed=4, batch_size=16)
    plain = census(model, seed=4, batch_size=16, partners=False)
    n_plain = int(plain.saturation[-1, 0])
    # the partner batches come after the random ones, two starts per point
    n_partner = int(full.saturation[-1, 0]) - n_plain
    assert n_partner == 2 * full.n_points
    assert np.array_equal(full.saturation[: len(plain.saturation)], plain.saturation)
    db = tmp_path / "p.sqlite"
    with Catalogue(db) as cat:
        part = census(model, seed=4, batch_size=16, max_starts=n_plain + 16, catalogue=cat)
        assert part.stopped_by == "max_starts"
        assert len(part.saturation) == len(plain.saturation) + 1
    with Catalogue(db) as cat:
        again = census(model, seed=4, batch_size=16, catalogue=cat)
    assert again.stopped_by == "certificate"
    np.testing.assert_array_equal(again.saturation, full.saturation)
    np.testing.assert_allclose(again.points, full.points)


def test_recorded_census_committed_later_equals_a_census_run_on_the_catalogue(tmp_path):
    model = SphericalPSpin(6, 3, seed=12)
    rec = CatalogueRecorder()
    c = census(model, seed=7, batch_size=32, catalogue=rec)
    with Catalogue(tmp_path / "direct.sqlite") as cat:
        census(model, seed=7, batch_size=32, catalogue=cat)
        direct = cat.points(model.fingerprint)
        direct_batches = cat.census_batches(cat.begin_census(model, rec.seed, rec.options))
    arrays = rec.arrays(model.dim)
    assert arrays["cat_batch"].shape == (len(c.saturation), 6)
    with Catalogue(tmp_path / "recorded.sqlite") as cat:
        assert record_batches(cat, model, rec.record(), arrays) == len(c.saturation)
        assert record_batches(cat, model, rec.record(), arrays) == 0  # idempotent
        pts = cat.points(model.fingerprint)
        run_key = cat.begin_census(model, rec.seed, rec.options)
        assert cat.census_batches(run_key) == direct_batches
        assert cat.census_batches(run_key) == [tuple(int(v) for v in r) for r in c.saturation]
        # the same batches, points and ids as the census run on a catalogue
        np.testing.assert_array_equal(pts["id"], direct["id"])
        np.testing.assert_array_equal(pts["coords"], direct["coords"])
        np.testing.assert_array_equal(pts["index"], direct["index"])
        # a different census under the same run key is refused
        bad = dict(arrays, cat_batch=arrays["cat_batch"].copy())
        bad["cat_batch"][0, 1] += 1
        with pytest.raises(ValueError, match="differs"):
            record_batches(cat, model, rec.record(), bad)
        with pytest.raises(ValueError, match="no census run"):
            cat.census_batches("nope")


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
    from analysis.catalogue import Catalogue, CatalogueRecorder, record_batches
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
