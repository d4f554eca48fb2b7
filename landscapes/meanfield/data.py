"""Frozen datasets for mean-field networks: validation, synthetic teachers, named sources.

A *data source* is a JSON record ``{"name": NAME, **params}`` naming a registered generator
``fn(**params, seed=SeedSequence) -> (X, y)`` (``seed`` omitted for deterministic data):
what a :class:`~landscapes.meanfield.MeanFieldNet` model spec stores instead of its data, so
that :func:`landscapes.spec.build` rebuilds the net anywhere. The teachers below are
registered; a study registers its own data with :func:`register_data`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.random import SeedLike, as_generator

__all__ = [
    "as_data",
    "one_neuron_teacher",
    "isotropic_gaussians",
    "line_teacher",
    "register_data",
    "make_data",
]

_SOURCES: dict[str, Callable] = {}


def register_data(name: str, fn: Callable) -> None:
    """Register a data generator ``fn(**params, seed=...) -> (X, y)`` under ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    if not callable(fn):
        raise ValueError(f"fn must be callable; got {fn!r}")
    _SOURCES[name] = fn


def make_data(source: dict, seed: SeedLike = None) -> tuple[np.ndarray, np.ndarray]:
    """The data ``(X, y)`` of a data source record ``{"name": NAME, **params}``.

    ``seed`` is passed to the generator when not None. Raises a ValueError naming the
    registered sources for an unknown name.
    """
    if not isinstance(source, dict) or "name" not in source:
        raise ValueError(f"a data source must be a dict with a 'name'; got {source!r}")
    params = {k: v for k, v in source.items() if k != "name"}
    fn = _SOURCES.get(source["name"])
    if fn is None:
        raise ValueError(
            f"unknown data source {source['name']!r}; registered: {sorted(_SOURCES)} "
            "(register new ones with landscapes.meanfield.data.register_data)"
        )
    return as_data(fn(**params) if seed is None else fn(**params, seed=seed))


def as_data(data) -> tuple[np.ndarray, np.ndarray]:
    """Validate a frozen dataset: an object with attributes ``X`` and ``y``, or a tuple (X, y).

    Returns read-only float64 copies ``X`` of shape (n, d) and ``y`` of shape (n,) (a target
    of shape (n, 1) is flattened).
    """
    if hasattr(data, "X") and hasattr(data, "y"):
        X, y = data.X, data.y
    elif isinstance(data, tuple | list) and len(data) == 2:
        X, y = data
    else:
        raise ValueError(
            "data must be a dataset with attributes X and y, or a tuple (X, y); "
            f"got {type(data).__name__}"
        )
    X = np.array(X, dtype=np.float64, copy=True)
    y = np.array(y, dtype=np.float64, copy=True)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"data X must have shape (n, d) with n, d >= 1; got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"data y must have shape (n,) = ({X.shape[0]},) (one real target per row of X); "
            f"got shape {y.shape}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("data X or y contains NaN or infinite values")
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def one_neuron_teacher(
    n: int = 200, d: int = 5, *, scale: float = 2.0, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs x ~ N(0, I_d) labelled by one tanh neuron, y = tanh(scale * u.x), |u| = 1."""
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    rng = as_generator(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((n, d))
    return X, np.tanh(check_positive(scale, "scale") * (X @ u))


def isotropic_gaussians(
    n: int = 200, d: int = 5, *, delta: float = 0.5, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mei–Montanari–Nguyen's two isotropic Gaussians: y = +-1, x ~ N(0, (1 +- delta)^2 I_d)."""
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    delta = float(delta)
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must lie in [0, 1); got {delta}")
    rng = as_generator(seed)
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    X = rng.standard_normal((n, d)) * (1.0 + delta * y)[:, None]
    return X, y


def line_teacher(
    n: int = 16, *, slope: float = 2.0, offset: float = -0.5, lim: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """A one-dimensional one-neuron teacher with a bias input: x = (u, 1), y = tanh(slope u + offset).

    ``u`` is an evenly spaced grid on [-lim, lim]. Inputs have dimension 2, so the
    mean-field limit is solvable to high accuracy by
    :func:`landscapes.meanfield.limit.meanfield_limit`.
    """
    n = check_int(n, "n", minimum=2)
    u = np.linspace(-lim, lim, n)
    return np.column_stack([u, np.ones(n)]), np.tanh(slope * u + offset)


register_data("one_neuron_teacher", one_neuron_teacher)
register_data("isotropic_gaussians", isotropic_gaussians)
register_data("line_teacher", line_teacher)
