"""The Sagun–Guney–Ben Arous–LeCun comparison: one protocol applied to p-spin and networks.

* :mod:`~analysis.studies.compare.protocol`: :func:`measure_ensemble`, the measurements on any
  Energy (descents, final intensive energies, halting times, Hessian spectra, overlaps).
* :mod:`~analysis.studies.compare.models`: the default comparison's (model, size) tasks, their
  streams (:func:`task_seed`) and the network builder.
* :mod:`~analysis.studies.compare.tasks`: the sweep (:func:`comparison_tasks`,
  :func:`compare_task`, :func:`run_comparison`): resumable, identical on any executor.
* :mod:`~analysis.studies.compare.landscape`: slices through endpoints and a small census.
* :mod:`~analysis.studies.compare.tables`: :func:`load_tables`, tidy tables from a run folder.
* :mod:`~analysis.studies.compare.dynamics`: the "Dynamics" section's data: the exact N = inf
  p-spin curve (:func:`exact_dynamics_arrays`, solved once per run and stored) and the
  two-time observables of network GD/SGD (:func:`record_two_time`, :func:`dynamics_data`).
* :mod:`~analysis.studies.compare.graphs`: the "Landscape graphs" section's data: a tiny
  network and a small p-spin catalogued (minima, connected index-1 saddles) and drawn side
  by side as disconnectivity graphs in (E - E_min) / (E_top - E_min)
  (:func:`run_landscape_graphs`, :func:`landscape_graphs_data`).
* :mod:`~analysis.studies.compare.report`: :func:`make_figures_and_report` (figures drawn
  by worker processes from plain data, report.html and report.md with every warning in one
  table) and the theory lines (:func:`pspin_theory_lines`, from :mod:`pspin.theory`).
"""

from analysis.studies.compare.dynamics import (
    dynamics_data,
    exact_dynamics_arrays,
    record_two_time,
)
from analysis.studies.compare.graphs import (
    landscape_graphs_data,
    plot_landscape_graphs,
    run_landscape_graphs,
)
from analysis.studies.compare.landscape import (
    census_task,
    path_between_minima,
    slice_at_minimum,
    slice_task,
)
from analysis.studies.compare.models import (
    FAMILY_ID,
    MODEL_LABELS,
    ModelTask,
    build_energy,
    census_key,
    model_tasks,
    network_spec,
    pspin_spec,
    run_task_config,
    slice_key,
    task_config,
    task_seed,
)
from analysis.studies.compare.protocol import (
    EnsembleResult,
    function_overlaps,
    measure_ensemble,
    overlaps,
)
from analysis.studies.compare.report import make_figures_and_report, pspin_theory_lines
from analysis.studies.compare.tables import load_tables
from analysis.studies.compare.tasks import (
    TASK_FUNC,
    compare_task,
    comparison_tasks,
    load_model_result,
    run_comparison,
    run_task,
)

__all__ = [
    "EnsembleResult",
    "ModelTask",
    "MODEL_LABELS",
    "FAMILY_ID",
    "TASK_FUNC",
    "comparison_tasks",
    "compare_task",
    "measure_ensemble",
    "overlaps",
    "function_overlaps",
    "model_tasks",
    "task_seed",
    "task_config",
    "run_task_config",
    "slice_key",
    "census_key",
    "build_energy",
    "pspin_spec",
    "network_spec",
    "run_task",
    "load_model_result",
    "run_comparison",
    "load_tables",
    "slice_task",
    "census_task",
    "slice_at_minimum",
    "path_between_minima",
    "pspin_theory_lines",
    "make_figures_and_report",
    "exact_dynamics_arrays",
    "record_two_time",
    "dynamics_data",
    "run_landscape_graphs",
    "landscape_graphs_data",
    "plot_landscape_graphs",
]
