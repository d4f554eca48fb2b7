"""The models of the default comparison: (model, size) tasks, their streams and builders.

The default comparison is the p = 3 spherical p-spin at several N against MLPs on digits and
on a teacher–student task at several widths. Each (model, size) is a :class:`ModelTask`; its
stream is the run seed's child (family, size) (:func:`task_seed`) and its sweep
configuration (:func:`task_config`) holds only what its result depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.store import task_key
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info
from landscapes.spec import build

__all__ = [
    "MODEL_LABELS",
    "FAMILY_ID",
    "ModelTask",
    "model_tasks",
    "task_seed",
    "pspin_spec",
    "network_spec",
    "build_energy",
    "task_config",
    "run_task_config",
    "slice_key",
    "census_key",
]

MODEL_LABELS = {
    "pspin": "spherical p-spin",
    "digits": "MLP on digits",
    "teacher_student": "MLP teacher-student",
}


@dataclass(frozen=True)
class ModelTask:
    """One (model, size) of the comparison: a resumable task of the run folder."""

    family: str
    size: int

    @property
    def label(self) -> str:
        unit = "N" if self.family == "pspin" else "width"
        return f"{MODEL_LABELS[self.family]}, {unit} = {self.size}"


def model_tasks(config: dict) -> list[ModelTask]:
    """Every (model, size) of a validated configuration, p-spin first."""
    tasks = [ModelTask("pspin", n) for n in config["pspin"]["sizes"]]
    for fam in config["networks"]["families"]:
        tasks += [ModelTask(fam, w) for w in config["networks"]["widths"]]
    return tasks


FAMILY_ID = {"pspin": 0, "digits": 1, "teacher_student": 2}


def task_seed(config: dict, task: ModelTask) -> np.random.SeedSequence:
    """Deterministic per-task stream: the run seed's child (family, size)."""
    return child(int(config["seed"]), FAMILY_ID[task.family], task.size)


def pspin_spec(n: int, p: int, seed: SeedLike) -> dict:
    """Model spec of a pure p-spin of the comparison (couplings drawn from ``seed``)."""
    return {
        "class": "SphericalPSpin",
        "params": {"N": int(n), "p": int(p)},
        "seed": seed_info(as_seed_sequence(seed)),
    }


def network_spec(config: dict, task: ModelTask, seed: SeedLike) -> dict:
    """Model spec of a network task: an MLP with one hidden layer of ``task.size`` units.

    Digits: the bundled digits (pixels / 16) subsampled to ``n_train`` training and
    ``n_test`` held-out images with the run seed, cross-entropy. Teacher–student: data drawn
    from ``seed`` by a random teacher of the student's architecture, mean squared error.
    Both with the configuration's activation and weight decay.
    """
    nets = config["networks"]
    act = nets["activation"]
    if task.family == "digits":
        data = {
            "name": "digits",
            "params": {
                "scaling": "unit",
                "test_size": nets["n_test"],
                "n_train": nets["n_train"],
                "classes": None,
            },
        }
        loss, data_seed = "cross_entropy", int(config["seed"])
    elif task.family == "teacher_student":
        data = {
            "name": "teacher_student",
            "params": {
                "n_samples": nets["n_train"],
                "dim": nets["ts_dim"],
                "hidden": [task.size],
                "activation": act,
                "n_outputs": 1,
                "noise": 0.0,
                "n_test": nets["n_test"],
            },
        }
        loss, data_seed = "mse", seed
    else:
        raise ValueError(f"unknown network family {task.family!r}")
    return {
        "class": "MLPLoss",
        "params": {
            "data": data,
            "hidden": [task.size],
            "activation": act,
            "loss": loss,
            "weight_decay": nets.get("weight_decay", 0.0),
        },
        "seed": seed_info(as_seed_sequence(data_seed)),
    }


def build_energy(config: dict, task: ModelTask, seed: SeedLike) -> Energy:
    """The Energy of a network task, built by :func:`landscapes.spec.build` from its spec."""
    return build(network_spec(config, task, seed))


_RUN_LISTS = {
    "pspin": ("sizes", "census_size", "census_starts"),
    "networks": ("widths", "families"),
}


def task_config(config: dict, task: ModelTask) -> dict:
    """The part of the configuration a task depends on (the configuration of its sweep task).

    The lists of sizes, widths and families of the run are left out: a (model, size)'s
    result does not depend on which other sizes the run holds, so extending a run keeps
    every stored task.
    """
    sec = "pspin" if task.family == "pspin" else "networks"
    section = {k: v for k, v in config[sec].items() if k not in _RUN_LISTS[sec]}
    return {
        "family": task.family,
        "size": task.size,
        "seed": config["seed"],
        sec: section,
        "spectra": config["spectra"],
    }


def run_task_config(config: dict, task: ModelTask) -> dict:
    """:func:`task_config` with the run's lists (the key of the slices of a run)."""
    sec = "pspin" if task.family == "pspin" else "networks"
    return {**task_config(config, task), sec: config[sec]}


def slice_key(config: dict, family: str) -> str:
    """Run-folder key of the landscape slices of ``family``."""
    return task_key({"slices": family, **run_task_config(config, ModelTask(family, 0))})


def census_key(config: dict) -> str:
    """Run-folder key of the census of the comparison's small p-spin instance."""
    c = config["pspin"]
    return task_key(
        {
            "census": int(c["census_size"]),
            "starts": int(c["census_starts"]),
            "p": int(c["p"]),
            "seed": int(config["seed"]),
        }
    )
