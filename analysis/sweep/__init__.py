"""Sweeps of independent tasks, run in-process, on local processes or on a Dask cluster.

:mod:`analysis.sweep.tasks` holds the task model and its results, :mod:`analysis.sweep.executors`
the executors and :func:`run_tasks`. The package imports no model and no study: tasks name
their function as ``"module:function"`` (task functions live with their study).
"""

from analysis.sweep.executors import (
    EXECUTORS,
    ExecutorSpec,
    add_executor_arguments,
    executor_from_args,
    run_tasks,
)
from analysis.sweep.tasks import (
    SweepError,
    SweepResult,
    Task,
    TaskFailure,
    execute_task,
    load_results,
    make_tasks,
    results_table,
    task_labels,
)

__all__ = [
    "EXECUTORS",
    "ExecutorSpec",
    "SweepError",
    "SweepResult",
    "Task",
    "TaskFailure",
    "add_executor_arguments",
    "execute_task",
    "executor_from_args",
    "load_results",
    "make_tasks",
    "task_labels",
    "results_table",
    "run_tasks",
]
