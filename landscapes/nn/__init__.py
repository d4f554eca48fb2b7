"""Neural-network losses in numpy with exact gradients and Hessian-vector products.

* :class:`MLPLoss`: fully connected networks (tanh, relu, softplus, gelu, linear units;
  cross-entropy or squared loss; weight decay), batched over parameter replicas.
* :class:`ParabolicResNet`, :class:`HamiltonianResNet`, :class:`SecondOrderResNet`:
  Ruthotto & Haber's PDE-motivated residual networks (dense layers), with their forward
  maps (:func:`parabolic_forward`, :func:`hamiltonian_forward`, :func:`hamiltonian_inverse`,
  :func:`leapfrog_forward`) for stability checks.
"""

from landscapes.nn.mlp import ACTIVATIONS, LOSSES, MLPLoss
from landscapes.nn.resnets import (
    HamiltonianResNet,
    ParabolicResNet,
    SecondOrderResNet,
    hamiltonian_forward,
    hamiltonian_inverse,
    leapfrog_forward,
    parabolic_forward,
)

__all__ = [
    "MLPLoss",
    "ACTIVATIONS",
    "LOSSES",
    "ParabolicResNet",
    "HamiltonianResNet",
    "SecondOrderResNet",
    "parabolic_forward",
    "hamiltonian_forward",
    "hamiltonian_inverse",
    "leapfrog_forward",
]
