"""Input checks at the API boundary: clear ValueErrors, never deep numpy errors."""

from __future__ import annotations

import numpy as np


def as_points(x, dim: int, name: str = "x", dtype=np.float64) -> tuple[np.ndarray, bool]:
    """Validate a point ``(dim,)`` or a batch ``(K, dim)``.

    Returns the batch as a 2-D array (a view when possible, never written to) and whether
    the input was a single point.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim == 1:
        single = True
        arr2 = arr[None, :]
    elif arr.ndim == 2:
        single = False
        arr2 = arr
    else:
        raise ValueError(f"{name} must have shape ({dim},) or (K, {dim}); got shape {arr.shape}")
    if arr2.shape[1] != dim:
        raise ValueError(f"{name} must have shape ({dim},) or (K, {dim}); got shape {arr.shape}")
    if arr2.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {arr.shape})")
    arr2 = np.asarray(arr2, dtype=dtype)
    if not np.all(np.isfinite(arr2)):
        bad = np.unique(np.nonzero(~np.isfinite(arr2))[0])
        where = "" if single else f" (replicas {bad[:10].tolist()}{'...' if bad.size > 10 else ''})"
        raise ValueError(f"{name} contains NaN or infinite values{where}")
    return arr2, single


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is finite and positive (or zero when allowed)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        cmp = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {cmp}; got {value!r}")
    return v


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, with an optional lower bound."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer; got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {v}")
    return v
