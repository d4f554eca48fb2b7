"""Model specs: the one way to describe an energy in JSON and rebuild it anywhere.

A *spec* is a JSON-able dict::

    {"class": "SphericalPSpin",                       # a registered name
     "params": {"N": 50, "p": 3, "couplings": "gaussian", "dtype": "float64"},
     "seed": {"entropy": 1234, "spawn_key": [0]},     # landscapes.random.seed_info, or null
     "fingerprint": "9f2c..."}                        # optional when written by hand

or, for a model saved to disk with ``model.save(path)`` (no seed: loaded couplings),
``{"class": "SphericalPSpin", "file": "/abs/path.npz", "fingerprint": ...}`` (see
:func:`file_spec`).

:func:`spec_of` writes the spec of an energy; :func:`build` rebuilds the energy, checks the
fingerprint when the spec has one (the only place that check is written) and caches the
result per process (an LRU keyed on the canonical JSON), so the workers of a sweep build
each model once. Energy classes join with :func:`register`; ``pspin`` and ``landscapes.nn``
register theirs when imported, and :func:`build` imports them by module name when it meets
a name it does not know yet, so ``landscapes`` imports neither.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from landscapes.random import seed_from_info

__all__ = ["register", "registered", "spec_of", "file_spec", "build", "clear_cache", "canonical"]

#: Modules that register energies when imported; :func:`build` imports them on demand.
PROVIDERS: list[str] = [
    "pspin",
    "pspin.split",
    "landscapes.nn.mlp",
    "landscapes.nn.resnets",
    "landscapes.meanfield",
    "landscapes.clusters",
]

_SPEC_KEYS = {"class", "params", "seed", "fingerprint", "file"}
_CACHE_SIZE = 2  # p-spin couplings can be large: keep only the last few models


@dataclass(frozen=True)
class _Entry:
    name: str
    builder: Callable[[dict, np.random.SeedSequence | None], Any]
    describe: Callable[[Any], tuple[dict, dict | None]] | None
    loader: Callable[[str], Any] | None


_REGISTRY: dict[str, _Entry] = {}
_NAMES: dict[type, str] = {}


def _default_builder(cls: type) -> Callable:
    def builder(params: dict, seed):
        kwargs = dict(params)
        if seed is not None:
            kwargs["seed"] = seed
        return cls(**kwargs)

    return builder


def _default_describe(energy) -> tuple[dict, dict | None]:
    return energy.spec_params(), getattr(energy, "seed_record", None)


def register(
    name: str,
    cls_or_builder: type | Callable,
    *,
    describe: Callable | None = None,
    loader: Callable | None = None,
    cls: type | None = None,
) -> None:
    """Register an energy class (or a builder function) under ``name``.

    Parameters
    ----------
    name : str
        The ``"class"`` entry of its specs.
    cls_or_builder : class or callable
        A class: built by ``cls.from_spec(params, seed)`` when it has that classmethod,
        else by ``cls(**params, seed=seed)`` (``seed`` omitted when the spec has none);
        described by ``energy.spec_params()`` (constructor parameters, JSON-able) and
        ``energy.seed_record`` (:func:`landscapes.random.seed_info` of its seed, or None);
        loaded by ``cls.load(path)`` for file specs when it has that classmethod.
        A callable: ``builder(params, seed) -> Energy``; give ``describe`` and ``cls``
        for :func:`spec_of` to write specs of its energies.
    describe : callable, optional
        ``describe(energy) -> (params, seed_record)``, overriding the default.
    loader : callable, optional
        ``loader(path) -> Energy`` for file specs, overriding ``cls.load``.
    cls : class, optional
        The class whose instances :func:`spec_of` maps to ``name`` (for a builder function).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    if isinstance(cls_or_builder, type):
        cls = cls_or_builder
        builder = getattr(cls, "from_spec", None) or _default_builder(cls)
        if loader is None:
            loader = getattr(cls, "load", None)
        if describe is None and hasattr(cls, "spec_params"):
            describe = _default_describe
    elif callable(cls_or_builder):
        builder = cls_or_builder
    else:
        raise ValueError(f"cls_or_builder must be a class or a callable; got {cls_or_builder!r}")
    _REGISTRY[name] = _Entry(name, builder, describe, loader)
    if cls is not None:
        _NAMES[cls] = name
    _build_cached.cache_clear()


def registered() -> list[str]:
    """Names registered so far (after importing the providers)."""
    _import_providers()
    return sorted(_REGISTRY)


def _import_providers() -> None:
    for mod in PROVIDERS:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # a provider that is not installed registers nothing
            if exc.name != mod:
                raise


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        _import_providers()
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown energy class {name!r} in model spec; registered classes: "
            f"{', '.join(sorted(_REGISTRY))} (register new ones with landscapes.spec.register)"
        )
    return _REGISTRY[name]


# ----------------------------------------------------------------------------- JSON
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def canonical(spec: dict) -> str:
    """Canonical JSON text of a spec (sorted keys, no spaces): its cache key."""
    return json.dumps(_jsonable(spec), sort_keys=True, separators=(",", ":"))


# ----------------------------------------------------------------------------- writing specs
def spec_of(energy) -> dict:
    """The spec of an energy: registered class name, parameters, seed record, fingerprint.

    A deterministic energy (one that draws nothing at random, declared by a true
    ``deterministic`` attribute, e.g. :class:`landscapes.clusters.LennardJones`) gets
    ``"seed": null``; :func:`build` rebuilds it from its parameters alone and checks the
    fingerprint.

    Raises a ValueError when the class is not registered, or when the instance has no
    seed record and is not deterministic (couplings or data given as arrays): save such a
    model and use :func:`file_spec`.
    """
    name = _NAMES.get(type(energy))
    if name is None:
        raise ValueError(
            f"no model spec for {type(energy).__name__}: its class is not registered "
            "(landscapes.spec.register)"
        )
    entry = _REGISTRY[name]
    if entry.describe is None:
        raise ValueError(f"{name} is registered without a describe function: no spec_of")
    params, seed = entry.describe(energy)
    if seed is None and getattr(energy, "deterministic", False) is not True:
        raise ValueError(
            f"this {name} has no seed (its couplings or data were given or loaded); save it "
            "with .save(path) where the workers can read it and use landscapes.spec.file_spec"
        )
    spec = {"class": name, "params": params, "seed": seed, "fingerprint": energy.fingerprint}
    return json.loads(canonical(spec))


def file_spec(path: str | os.PathLike) -> dict:
    """Spec of a model saved with ``.save(path)``, loaded from that path by :func:`build`."""
    from landscapes.io import load_npz

    p = Path(path).resolve()
    meta, _ = load_npz(p)
    if "class" not in meta:
        raise ValueError(f"{p} names no energy class in its metadata; was it written by save()?")
    return {"class": meta["class"], "file": str(p), "fingerprint": meta.get("fingerprint")}


# ----------------------------------------------------------------------------- building
def _from_legacy(spec: dict) -> dict:
    """Convert the pre-spec ``{"model": "pspin" | "mixed_pspin" | "file", ...}`` form."""
    kind = spec["model"]
    fp = {"fingerprint": spec["fingerprint"]} if spec.get("fingerprint") is not None else {}
    common = {
        "couplings": spec.get("couplings", "gaussian"),
        "dtype": spec.get("dtype", "float64"),
    }
    if kind in ("pspin", "mixed_pspin"):
        if "seed" not in spec:
            raise ValueError("a p-spin model spec needs the coupling seed record 'seed'")
        if kind == "pspin":
            name, params = "SphericalPSpin", {"N": spec["N"], "p": spec["p"], **common}
        else:
            name, params = "MixedPSpin", {"N": spec["N"], "xi": spec["xi"], **common}
        return {"class": name, "params": params, "seed": spec["seed"], **fp}
    if kind == "file":
        out = file_spec(spec["path"])
        return {**out, **fp}
    raise ValueError(f"unknown model kind {kind!r} in model spec (pspin, mixed_pspin or file)")


def _check_spec(spec) -> dict:
    if not isinstance(spec, dict):
        raise ValueError(f"a model spec must be a dict; got {type(spec).__name__}")
    if "class" not in spec and "model" in spec:
        spec = _from_legacy(spec)
    if "class" not in spec:
        raise ValueError(f"a model spec needs a 'class' entry; got keys {sorted(spec)}")
    extra = set(spec) - _SPEC_KEYS
    if extra:
        raise ValueError(f"unknown model spec keys {sorted(extra)}; allowed: {sorted(_SPEC_KEYS)}")
    if "file" in spec and ("params" in spec or spec.get("seed") is not None):
        raise ValueError("a file model spec takes 'class', 'file' and 'fingerprint' only")
    if "file" not in spec and not isinstance(spec.get("params", {}), dict):
        raise ValueError(f"model spec 'params' must be a dict; got {spec['params']!r}")
    return spec


def _build_uncached(body: dict):
    entry = _entry(body["class"])
    if "file" in body:
        if entry.loader is None:
            raise ValueError(f"{entry.name} cannot be loaded from a file (no loader registered)")
        return entry.loader(body["file"])
    seed = body.get("seed")
    return entry.builder(
        dict(body.get("params", {})), None if seed is None else seed_from_info(seed)
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _build_cached(key: str):
    return _build_uncached(json.loads(key))


def build(spec: dict, *, cache: bool = True):
    """The energy of a spec (reused within a process), its fingerprint checked.

    Parameters
    ----------
    spec : dict
        From :func:`spec_of` / :func:`file_spec`, or written by hand (``fingerprint``
        optional; when present it must match the energy built). The pre-spec task form
        ``{"model": "pspin", "N": ..., "p": ..., "seed": ...}`` is accepted too.
    cache : bool
        Reuse the energy built from the same spec earlier in this process (the default).
        Energies are not modified by their methods, so sharing one is safe.

    Raises
    ------
    ValueError
        Unknown class or keys, or a fingerprint that differs from the energy built (the
        message names both hashes).
    """
    spec = _check_spec(spec)
    fp = spec.get("fingerprint")
    body = {k: v for k, v in spec.items() if k != "fingerprint"}
    energy = (
        _build_cached(canonical(body)) if cache else _build_uncached(json.loads(canonical(body)))
    )
    if fp is not None and energy.fingerprint != fp:
        raise ValueError(
            f"model fingerprint mismatch for {spec['class']}: the spec says {fp}, the model "
            f"built here is {energy.fingerprint} (different versions of numpy, scikit-learn "
            "or landscapes, a wrong seed record, or an altered file)"
        )
    return energy


def clear_cache() -> None:
    """Forget the energies built so far in this process."""
    _build_cached.cache_clear()
