"""Two-layer networks in the mean-field scaling and their exact N -> infinity limit.

The network g_N(x) = (1/N) sum_i c_i s(w_i . x) is a function of the empirical measure of its
N particles theta_i = (c_i, w_i); its loss (half the mean squared error over frozen data) is
:class:`MeanFieldNet`, an Energy with exact gradients and R-operator Hessian-vector products
(:mod:`landscapes.meanfield.net`). Its gradient flow in the mean-field time scale
(d theta_i/dt = -N dL/dtheta_i) has an N -> infinity limit, the mean-field PDE
d_t mu = div(mu grad Psi(.; mu)), solved exactly for inputs of dimension <= 2 by
:func:`meanfield_limit` (:mod:`landscapes.meanfield.limit`). Synthetic teachers:
:mod:`landscapes.meanfield.data`.

The experiments built on them (the law of large numbers, the CLT, the particles' approach to
the limit, learning the 3-spin energy), the mean-field GD / online SGD and their statistics
live in :mod:`analysis.studies.meanfield`; this package imports neither ``analysis`` nor
pandas nor ``pspin``.
"""

from __future__ import annotations

from landscapes.meanfield.data import (
    as_data,
    isotropic_gaussians,
    line_teacher,
    make_data,
    one_neuron_teacher,
    register_data,
)
from landscapes.meanfield.limit import MeanFieldLimit, meanfield_limit, record_steps
from landscapes.meanfield.net import (
    ACTIVATIONS,
    INITS,
    DivergenceError,
    MeanFieldNet,
    activate,
    check_activation,
    check_inputs,
    particle_field,
    preactivations,
    replica_blocks,
)

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MeanFieldNet",
    "DivergenceError",
    "as_data",
    "one_neuron_teacher",
    "isotropic_gaussians",
    "line_teacher",
    "make_data",
    "register_data",
    "meanfield_limit",
    "MeanFieldLimit",
    "record_steps",
    "activate",
    "check_activation",
    "check_inputs",
    "particle_field",
    "preactivations",
    "replica_blocks",
]

# Names that lived here before the experiments moved to the study layer (issue 13). The model
# layer cannot import ``analysis``, so they are not forwarded: the error says where they went.
_MOVED = {
    name: "analysis.studies.meanfield"
    for name in (
        "Trajectory",
        "gd",
        "online_sgd",
        "fit_loglog",
        "bootstrap_slope",
        "ScalingResult",
        "CLTResult",
        "SCALING_KINDS",
        "scaling_config",
        "scaling_streams",
        "scaling_test_inputs",
        "scaling_width",
        "scaling_width_params",
        "limit_solution",
        "lln_combine",
        "clt_combine",
        "limit_combine",
        "lln_experiment",
        "clt_experiment",
        "limit_experiment",
    )
}


def __getattr__(name: str):
    if name in _MOVED:
        raise AttributeError(
            f"landscapes.meanfield.{name} moved to {_MOVED[name]} (the experiments and the "
            f"mean-field dynamics are a study, not part of the model): "
            f"use `from {_MOVED[name]} import {name}`"
        )
    raise AttributeError(f"module 'landscapes.meanfield' has no attribute {name!r}")
