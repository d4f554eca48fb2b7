"""Mean-field networks: the law of large numbers, the CLT, the exact limit, the 3-spin target.

The study of :mod:`landscapes.meanfield` (the network and its exact limit):

* :mod:`~analysis.studies.meanfield.training` — mean-field GD and online SGD
  (:func:`gd`, :func:`online_sgd`, :class:`Trajectory`), in the mean-field time scale;
* :mod:`~analysis.studies.meanfield.fits` — log-log slopes and bootstrap errors;
* :mod:`~analysis.studies.meanfield.scaling` — the units of the scaling experiments
  (configuration, streams, one width, combine -> :class:`ScalingResult`);
* :mod:`~analysis.studies.meanfield.experiments` — :func:`lln_experiment`,
  :func:`clt_experiment`, :func:`limit_experiment`;
* :mod:`~analysis.studies.meanfield.landscape` — learning the spherical 3-spin energy:
  :func:`landscape_experiment` and its sweep;
* :mod:`~analysis.studies.meanfield.sweep` — the experiments as sweeps of tasks (task
  functions, plans, combine) and :func:`plan_experiment` / :func:`run_experiment`, what
  ``landscapes meanfield`` calls.
"""

from __future__ import annotations

from analysis.studies.meanfield.experiments import (
    EXPERIMENTS,
    clt_experiment,
    limit_experiment,
    lln_experiment,
)
from analysis.studies.meanfield.fits import bootstrap_slope, fit_loglog
from analysis.studies.meanfield.landscape import (
    LandscapeResult,
    landscape_combine,
    landscape_experiment,
    landscape_net_task,
    landscape_plan,
    landscape_pspin_task,
    landscape_tasks,
    pspin_target_data,
)
from analysis.studies.meanfield.scaling import (
    SCALING_KINDS,
    CLTResult,
    ScalingResult,
    clt_combine,
    limit_combine,
    limit_solution,
    lln_combine,
    scaling_config,
    scaling_init,
    scaling_net_width,
    scaling_streams,
    scaling_test_inputs,
    scaling_width,
    scaling_width_params,
)
from analysis.studies.meanfield.sweep import (
    DEFAULT_WIDTHS,
    EXPERIMENT_NAMES,
    limit_solution_task,
    plan_experiment,
    run_experiment,
    scaling_combine,
    scaling_plan,
    scaling_tasks,
    width_task,
)
from analysis.studies.meanfield.training import Trajectory, gd, online_sgd

__all__ = [
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
    "scaling_init",
    "scaling_width",
    "scaling_net_width",
    "scaling_width_params",
    "limit_solution",
    "lln_combine",
    "clt_combine",
    "limit_combine",
    "EXPERIMENTS",
    "lln_experiment",
    "clt_experiment",
    "limit_experiment",
    "LandscapeResult",
    "pspin_target_data",
    "landscape_experiment",
    "landscape_plan",
    "landscape_tasks",
    "landscape_combine",
    "landscape_net_task",
    "landscape_pspin_task",
    "EXPERIMENT_NAMES",
    "DEFAULT_WIDTHS",
    "scaling_plan",
    "scaling_tasks",
    "scaling_combine",
    "width_task",
    "limit_solution_task",
    "plan_experiment",
    "run_experiment",
]
