"""Configuration of ``landscapes compare``: presets, a TOML file, flags, all validated.

A configuration is a plain nested dict (it is written to ``config.json`` verbatim, so a run
can be repeated from it) built in three layers: a preset (``quick``, ``default``, ``full``),
then a TOML file (``--config FILE``), then command-line flags. :func:`validate` checks every
key and value and raises ValueError naming the offending entry (``pspin.sizes[1]: expected an
integer >= 4, got 'a'``) and the keys it accepts.

TOML layout (every table and key optional; unknown keys are errors)::

    seed = 0
    [pspin]            # p-spin ensemble: GD from uniform random starts on the sphere
    p = 3
    sizes = [50, 100, 200]
    replicas = 20       # per coupling sample
    samples = 2         # coupling samples per size (fresh couplings)
    step = 0.2          # GD step (fixed)
    max_steps = 3000
    gtol = 1e-3         # intensive gradient tolerance |rgrad| / sqrt(N)
    census_size = 16    # N of one small instance whose critical points are enumerated
                        # (index vs energy against alpha(u)); 0 for none
    census_starts = 512 # random starts of that census (a fixed budget: reproducible)
    [networks]          # every network family shares these
    widths = [8, 16, 32, 64]
    families = ["digits", "teacher_student"]
    replicas = 8
    activation = "tanh"
    weight_decay = 5e-3 # (wd / 2) |theta|^2 added to the mean loss: isolated minima exist
    gd_schedule = "armijo"  # per-replica backtracking from gd_step ("fixed": constant step)
    gd_step = 1.0
    gd_steps = 1500
    gtol = 1e-4         # RMS gradient component |grad| / sqrt(P) of the regularized loss
    sgd = true
    sgd_batch = 32
    sgd_step = 0.2
    sgd_epochs = 40
    n_train = 200       # training samples (digits subsample; teacher-student draws)
    n_test = 200        # held-out samples (function-space overlaps)
    ts_dim = 10         # teacher-student input dimension
    [spectra]
    endpoints = 2       # endpoints per (model, size) whose Hessian spectrum is computed
    dense_max = 1000    # dense eigh up to this many parameters, SLQ above
    slq_probes = 6
    slq_steps = 60
    [graphs]            # "Landscape graphs": a tiny network and a small p-spin, catalogued
    enabled = true      # false (or --no-landscape-graphs): no such section
    hidden = 2          # hidden units of the tiny tanh MLP on the teacher-student data
    weight_decay = 3e-4 # (1e-3 leaves 1-2 minima on the default's 200 samples)
    pspin_N = 16        # N of the p-spin census drawn beside it (the census above when equal)
    pspin_starts = 512
    bh_replicas = 16    # basin-hopping replicas and steps for the network's minima
    bh_steps = 20
    saddle_minima = 8   # eigenvector-following from this many lowest minima ...
    saddle_modes = 2    # ... along this many softest modes (both signs)
    ef_starts = 32      # Newton eigenvector-following (index 1) from kicked minima
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["PRESETS", "FAMILIES", "preset", "load_toml", "merge", "validate", "build_config"]

FAMILIES = ("digits", "teacher_student")

_BASE: dict[str, Any] = {
    "seed": 0,
    "pspin": {
        "p": 3,
        "sizes": [50, 100, 200],
        "replicas": 20,
        "samples": 2,
        "step": 0.2,
        "max_steps": 3000,
        "gtol": 1e-3,
        "census_size": 16,
        "census_starts": 512,
    },
    "networks": {
        "families": list(FAMILIES),
        "widths": [8, 16, 32, 64],
        "replicas": 8,
        "activation": "tanh",
        "weight_decay": 5e-3,
        "gd_schedule": "armijo",
        "gd_step": 1.0,
        "gd_steps": 1500,
        "gtol": 1e-4,
        "sgd": True,
        "sgd_batch": 32,
        "sgd_step": 0.2,
        "sgd_epochs": 40,
        "n_train": 200,
        "n_test": 200,
        "ts_dim": 10,
    },
    "spectra": {"endpoints": 2, "dense_max": 1000, "slq_probes": 6, "slq_steps": 60},
    "graphs": {
        "enabled": True,
        "hidden": 2,
        "weight_decay": 3e-4,
        "pspin_N": 16,
        "pspin_starts": 512,
        "bh_replicas": 16,
        "bh_steps": 20,
        "saddle_minima": 8,
        "saddle_modes": 2,
        "ef_starts": 32,
    },
}


def _preset_quick() -> dict:
    c = copy.deepcopy(_BASE)
    c["pspin"].update(
        sizes=[25, 50], replicas=16, samples=1, max_steps=1500, census_size=12, census_starts=256
    )
    c["networks"].update(
        widths=[8, 16], replicas=6, gd_steps=600, sgd_epochs=15, n_train=100, n_test=100
    )
    c["spectra"].update(endpoints=2, dense_max=400, slq_probes=4, slq_steps=40)
    c["graphs"].update(
        pspin_N=12,
        pspin_starts=256,
        bh_replicas=8,
        bh_steps=10,
        saddle_minima=4,
        saddle_modes=1,
        ef_starts=16,
    )
    return c


def _preset_full() -> dict:
    c = copy.deepcopy(_BASE)
    c["pspin"].update(
        sizes=[50, 100, 200, 400],
        replicas=200,
        samples=4,
        max_steps=20000,
        gtol=1e-5,
        census_size=20,
        census_starts=4096,
    )
    c["networks"].update(
        widths=[8, 16, 32, 64, 128],
        replicas=100,
        gd_steps=20000,
        sgd_epochs=200,
        n_train=1347,
        n_test=450,
        gtol=1e-5,
    )
    c["spectra"].update(endpoints=8, dense_max=3000, slq_probes=10, slq_steps=80)
    c["graphs"].update(pspin_N=20, pspin_starts=4096, bh_steps=40, saddle_minima=20, ef_starts=128)
    return c


PRESETS = {"quick": _preset_quick, "default": lambda: copy.deepcopy(_BASE), "full": _preset_full}

# key -> (kind, minimum or choices)
_SCHEMA: dict[str, dict[str, tuple]] = {
    "pspin": {
        "p": ("int", 2),
        "sizes": ("int_list", 4),
        "replicas": ("int", 2),
        "samples": ("int", 1),
        "step": ("pos_float", None),
        "max_steps": ("int", 1),
        "gtol": ("pos_float", None),
        "census_size": ("int", 0),
        "census_starts": ("int", 1),
    },
    "networks": {
        "families": ("choice_list", FAMILIES),
        "widths": ("int_list", 1),
        "replicas": ("int", 2),
        "activation": ("choice", ("tanh", "relu", "softplus", "gelu")),
        "weight_decay": ("nonneg_float", None),
        "gd_schedule": ("choice", ("armijo", "fixed")),
        "gd_step": ("pos_float", None),
        "gd_steps": ("int", 1),
        "gtol": ("pos_float", None),
        "sgd": ("bool", None),
        "sgd_batch": ("int", 1),
        "sgd_step": ("pos_float", None),
        "sgd_epochs": ("int", 1),
        "n_train": ("int", 20),
        "n_test": ("int", 10),
        "ts_dim": ("int", 1),
    },
    "spectra": {
        "endpoints": ("int", 0),
        "dense_max": ("int", 2),
        "slq_probes": ("int", 1),
        "slq_steps": ("int", 2),
    },
    "graphs": {
        "enabled": ("bool", None),
        "hidden": ("int", 1),
        "weight_decay": ("nonneg_float", None),
        "pspin_N": ("int", 4),
        "pspin_starts": ("int", 1),
        "bh_replicas": ("int", 2),
        "bh_steps": ("int", 1),
        "saddle_minima": ("int", 0),
        "saddle_modes": ("int", 0),
        "ef_starts": ("int", 0),
    },
}
_TOP = {
    "seed": ("int", 0),
    "pspin": None,
    "networks": None,
    "spectra": None,
    "graphs": None,  # optional: configurations written before it have no such section
    "preset": None,
}


def preset(name: str) -> dict:
    """A fresh copy of a preset configuration ("quick", "default" or "full")."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def load_toml(path: str | Path) -> dict:
    """Read a TOML configuration file (errors name the file and the parse problem)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config file {p} does not exist")
    try:
        with p.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {p} is not valid TOML: {exc}") from None


def merge(base: dict, override: dict) -> dict:
    """``base`` updated by ``override`` table by table (new dict; neither is modified)."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_value(where: str, value, kind: str, arg):
    def bad(expected: str):
        return ValueError(f"{where}: expected {expected}, got {value!r}")

    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < arg:
            raise bad(f"an integer >= {arg}")
        return value
    if kind == "pos_float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise bad("a positive number")
        if value != value or value == float("inf"):
            raise bad("a finite positive number")
        return float(value)
    if kind == "nonneg_float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise bad("a number >= 0")
        if value == float("inf"):
            raise bad("a finite number >= 0")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "choice":
        if value not in arg:
            raise bad(f"one of {', '.join(map(repr, arg))}")
        return value
    if kind in ("int_list", "choice_list"):
        if not isinstance(value, list | tuple) or len(value) == 0:
            raise bad("a non-empty list")
        inner = "int" if kind == "int_list" else "choice"
        out = [_check_value(f"{where}[{i}]", v, inner, arg) for i, v in enumerate(value)]
        if len(set(out)) != len(out):
            raise ValueError(f"{where}: entries must be distinct; got {list(value)!r}")
        return sorted(out) if kind == "int_list" else out
    raise AssertionError(kind)  # pragma: no cover


def validate(config: dict) -> dict:
    """Check a configuration; return a normalized copy (sorted sizes, floats as floats).

    Raises ValueError naming the first bad key or value and listing the keys accepted.
    """
    if not isinstance(config, dict):
        raise ValueError(f"configuration must be a table; got {type(config).__name__}")
    out: dict[str, Any] = {}
    for k, v in config.items():
        if k not in _TOP:
            raise ValueError(f"unknown configuration key {k!r}; accepted: {', '.join(_TOP)}")
        if k == "seed":
            out[k] = _check_value("seed", v, "int", 0)
        elif k == "preset":
            if v not in PRESETS:
                raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {v!r}")
            out[k] = v
        else:
            if not isinstance(v, dict):
                raise ValueError(f"{k}: expected a table, got {v!r}")
            schema = _SCHEMA[k]
            sec = {}
            for kk, vv in v.items():
                if kk not in schema:
                    raise ValueError(
                        f"unknown key {k}.{kk}; accepted in [{k}]: {', '.join(schema)}"
                    )
                sec[kk] = _check_value(f"{k}.{kk}", vv, *schema[kk])
            missing = [kk for kk in schema if kk not in sec]
            if missing:
                raise ValueError(f"[{k}] is missing {', '.join(missing)}")
            out[k] = sec
    for k in ("seed", "pspin", "networks", "spectra"):
        if k not in out:
            raise ValueError(f"configuration is missing {k!r}")
    nets = out["networks"]
    if nets["sgd"] and nets["sgd_batch"] > nets["n_train"]:
        raise ValueError(
            f"networks.sgd_batch ({nets['sgd_batch']}) exceeds networks.n_train ({nets['n_train']})"
        )
    cs = out["pspin"]["census_size"]
    if 0 < cs < 4 or cs > 40:
        raise ValueError(
            f"pspin.census_size: expected 0 (no census) or an integer in 4..40 (dense "
            f"Hessians of every critical point are formed), got {cs}"
        )
    if "graphs" in out and out["graphs"]["pspin_N"] > 40:
        raise ValueError(
            f"graphs.pspin_N: expected an integer in 4..40, got {out['graphs']['pspin_N']}"
        )
    if out["pspin"]["p"] > 4:
        raise ValueError("pspin.p: at most 4 in compare (the couplings take N^p numbers)")
    return out


def build_config(
    preset_name: str = "default", toml: dict | None = None, flags: dict | None = None
) -> dict:
    """Preset, then TOML table, then flags (dotted keys such as ``"pspin.sizes"``), validated.

    A TOML file may name its own ``preset``; an explicit ``--quick``/``--full`` flag wins.
    """
    toml = dict(toml or {})
    name = toml.pop("preset", None) if preset_name == "default" else preset_name
    toml.pop("preset", None)
    cfg = preset(name or preset_name)
    cfg = merge(cfg, toml)
    for dotted, value in (flags or {}).items():
        if value is None:
            continue
        parts = dotted.split(".")
        node = cfg
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return validate(cfg)
