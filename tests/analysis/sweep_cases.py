"""Task functions and helpers shared by the sweep tests (in-process, processes and Dask)."""

from __future__ import annotations

import numpy as np

from analysis.store import RunFolder
from analysis.sweep import load_results, results_table

DESCENT = "analysis.studies.pspin_descent:pspin_descent_task"
CENSUS = "analysis.studies.pspin_descent:pspin_census_task"
ECHO = "analysis.sweep.testing:echo_task"


def run_folder(tmp_path, name: str = "run") -> RunFolder:
    """A fresh run folder ``tmp_path / name`` for a test sweep."""
    return RunFolder(tmp_path / name, "test-sweep", {"sweep": name})


def stored_tables(folder, tasks):
    """Everything a sweep stores that must not depend on the executor: CSV text + arrays."""
    csv = results_table(folder, tasks).to_csv(index=False)
    arrays = [a for _, a in load_results(folder, tasks)]
    return csv, arrays


def assert_same_tables(a, b) -> None:
    """Two :func:`stored_tables` are identical: the CSV text bit for bit, every array exactly."""
    assert a[0] == b[0]  # the CSV text, bit for bit (floats are written with repr)
    assert len(a[1]) == len(b[1])
    for x, y in zip(a[1], b[1], strict=True):
        assert sorted(x) == sorted(y)
        for k in x:
            assert x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]), k
