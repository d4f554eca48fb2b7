"""``landscapes.random``: the named child streams are fixed integers (stored runs depend on them)."""

from __future__ import annotations

import numpy as np

from landscapes.random import STREAMS, child


def test_named_streams_are_their_fixed_integers():
    assert STREAMS == {"model": 0, "search": 1, "starts": 1, "noise": 2}
    root = np.random.SeedSequence(7)
    for name, k in STREAMS.items():
        a, b = child(root, name, 3, 1), child(root, k, 3, 1)
        assert a.spawn_key == b.spawn_key == (k, 3, 1) and a.entropy == b.entropy
