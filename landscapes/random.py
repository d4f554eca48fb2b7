"""Seed handling: one convention for every random thing in the package.

A *seed* is ``int | numpy.random.SeedSequence | numpy.random.Generator | None``.
Ensembles take one independent stream per replica or per task, spawned from a root
:class:`numpy.random.SeedSequence`, so that replica ``k`` of a batched run equals a
single-replica run given replica ``k``'s stream, wherever it runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

__all__ = [
    "SeedLike",
    "STREAMS",
    "as_generator",
    "as_seed_sequence",
    "child",
    "seed_from_info",
    "seed_info",
    "spawn",
    "spawn_generators",
]

#: Named child-stream keys. ``child(root, "model", i)`` is ``child(root, 0, i)``. The names
#: are the roles a stream plays under a task or run seed; their integers are part of every
#: stored run's identity (changing one changes every result drawn from it), so they are fixed.
STREAMS: dict[str, int] = {
    "model": 0,  # couplings / data / the energy instance
    "search": 1,  # starting points and search noise (census, connect)
    "starts": 1,  # initial points of descents (same slot as "search": never both under one root)
    "noise": 2,  # dynamics noise: Langevin increments, SGD minibatch orders
}


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Return the :class:`~numpy.random.SeedSequence` behind a seed.

    ``None`` draws fresh OS entropy (recorded by :func:`seed_info` so the run can be
    repeated); a Generator contributes the SeedSequence it was built from.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        ss = getattr(seed.bit_generator, "seed_seq", None)
        if ss is None or not isinstance(ss, np.random.SeedSequence):
            raise ValueError("the Generator passed as seed has no SeedSequence to spawn from")
        return ss
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(
            f"seed must be an int, numpy SeedSequence, numpy Generator or None; got {type(seed).__name__}"
        )
    if int(seed) < 0:
        raise ValueError(f"seed must be non-negative; got {seed}")
    return np.random.SeedSequence(int(seed))


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a Generator for ``seed`` (a Generator is returned as is, not copied)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(as_seed_sequence(seed)))


def spawn(seed: SeedLike, n: int) -> list[np.random.SeedSequence]:
    """Spawn ``n`` independent child SeedSequences (one per replica or task).

    For a Generator, children are spawned from its SeedSequence; spawning advances the
    sequence's child counter, so two calls give different children, as numpy intends.
    """
    if n < 0:
        raise ValueError(f"number of streams must be >= 0; got {n}")
    return as_seed_sequence(seed).spawn(int(n))


def spawn_generators(seed: SeedLike, n: int) -> list[np.random.Generator]:
    """Spawn ``n`` independent Generators, one per replica or task."""
    return [np.random.Generator(np.random.PCG64(s)) for s in spawn(seed, n)]


def seed_info(seed: np.random.SeedSequence) -> dict[str, Any]:
    """JSON-able record of a SeedSequence: root entropy and spawn key."""
    ent = seed.entropy
    if isinstance(ent, np.ndarray | list | tuple):
        ent = [int(e) for e in np.atleast_1d(ent)]
    else:
        ent = int(ent)
    return {"entropy": ent, "spawn_key": [int(k) for k in seed.spawn_key]}


def seed_from_info(info: dict[str, Any]) -> np.random.SeedSequence:
    """Rebuild a SeedSequence from :func:`seed_info`'s record."""
    return np.random.SeedSequence(info["entropy"], spawn_key=tuple(info["spawn_key"]))


def child(root: SeedLike | dict, *key: int | str) -> np.random.SeedSequence:
    """Descendant stream of ``root`` along ``key``: the one way to make child streams.

    ``child(root, a, b)`` is the SeedSequence with ``root``'s entropy and spawn key
    ``root.spawn_key + (a, b)``, i.e. ``root.spawn(a + 1)[a].spawn(b + 1)[b]`` on a fresh
    root, without advancing ``root``'s child counter: the same key always gives the same
    stream, so a task's stream does not depend on what was spawned before it.

    Parameters
    ----------
    root : int, SeedSequence, Generator, None or dict
        The parent stream; a dict is a seed record from :func:`seed_info`.
    *key : int or str
        Non-negative integers, or names from :data:`STREAMS` (``"model"``, ``"search"``, ...).

    Returns
    -------
    numpy.random.SeedSequence
    """
    ss = seed_from_info(root) if isinstance(root, dict) else as_seed_sequence(root)
    path = []
    for k in key:
        if isinstance(k, str):
            if k not in STREAMS:
                raise ValueError(f"unknown stream name {k!r}; known names: {sorted(STREAMS)}")
            k = STREAMS[k]
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or int(k) < 0:
            raise ValueError(f"child keys must be non-negative integers or names; got {k!r}")
        path.append(int(k))
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + tuple(path))
