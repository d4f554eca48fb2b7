"""Test-suite policy: one BLAS/torch thread per test process.

The suite is many small products; on the project's 2-core machines a second OpenBLAS thread
only adds busy-waiting (and, when anything else runs, 10-100x slowdowns). Results do not depend
on it: the thread policy's own tests raise the limit explicitly (``landscapes.threads.limit``).
"""

import os

from landscapes import threads


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # PyTorch reads it when first imported
    threads.set_threads(1)
