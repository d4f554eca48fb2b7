"""Neural-network losses in numpy with exact gradients and Hessian-vector products.

* :class:`MLPLoss`: fully connected networks (tanh, relu, softplus, gelu, linear units;
  cross-entropy or squared loss; weight decay), batched over parameter replicas.
* :class:`ParabolicResNet`, :class:`HamiltonianResNet`, :class:`SecondOrderResNet`:
  Ruthotto & Haber's PDE-motivated residual networks (dense layers), with their forward
  maps (:func:`parabolic_forward`, :func:`hamiltonian_forward`, :func:`hamiltonian_inverse`,
  :func:`leapfrog_forward`) for stability checks.
* :mod:`landscapes.nn.layers`: the layer maths both share (activations, parameter layout,
  loss heads), which :mod:`landscapes.datasets` uses for its teacher networks.

The names are loaded on first use, so that ``landscapes.datasets`` can import
``landscapes.nn.layers`` without importing the losses (which import the datasets).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "MLPLoss": "landscapes.nn.mlp",
    "ACTIVATIONS": "landscapes.nn.layers",
    "LOSSES": "landscapes.nn.layers",
    "ParabolicResNet": "landscapes.nn.resnets",
    "HamiltonianResNet": "landscapes.nn.resnets",
    "SecondOrderResNet": "landscapes.nn.resnets",
    "parabolic_forward": "landscapes.nn.resnets",
    "hamiltonian_forward": "landscapes.nn.resnets",
    "hamiltonian_inverse": "landscapes.nn.resnets",
    "leapfrog_forward": "landscapes.nn.resnets",
}

#: Modules whose energies register with :mod:`landscapes.spec` when imported.
ENERGY_MODULES = ("landscapes.nn.mlp", "landscapes.nn.resnets")

__all__ = list(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'landscapes.nn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
