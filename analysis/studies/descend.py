"""The descend study: GD, SGD or Langevin dynamics over many replicas, as a resumable sweep.

:func:`run_descend` splits the replicas of a validated ``descend`` configuration evenly over
the coupling samples (or the one data set), runs them in chunks of ``chunk`` replicas (one
sweep task per chunk, :func:`descend_chunk_task`), and gathers the final table, the
trajectories on a common time grid and the summary.

Seeds: the root seed's child 0 gives the models (sample s: its child s) and its child 1 the
replicas (replica j: its child j, split into an initial-point stream, child 0, and a dynamics
stream, child 1). Workers rebuild each sample's model from its spec
(:func:`landscapes.spec.build`, fingerprint checked), so the tables are identical wherever
the chunks run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.dynamics import gradient_descent, langevin, sgd
from analysis.store import RunFolder
from analysis.sweep import ExecutorSpec, SweepResult, Task
from landscapes.random import as_seed_sequence, child, seed_info
from landscapes.spec import build, spec_of
from pspin import theory

__all__ = ["DescendStudy", "descend_chunk_task", "mlp_model", "run_descend", "theory_lines"]

TASK_FUNC = "analysis.studies.descend:descend_chunk_task"


def theory_lines(p: int) -> dict[str, float]:
    """Threshold and ground-state energies per spin of the pure p-spin (pspin.theory)."""
    return {
        "-E_inf (threshold)": -float(theory.threshold_energy(p)),
        "-E_0 (ground state)": -float(theory.ground_state_energy(p)),
    }


def mlp_model(cfg: dict, data_seed):
    """The network loss of an ``mlp`` configuration (data drawn from ``data_seed``)."""
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    if cfg["dataset"] == "digits":
        data = datasets.digits(seed=data_seed, n_train=cfg["n_train"])
    else:
        data = datasets.teacher_student(
            n_samples=cfg["n_train"] or 500,
            dim=cfg["input_dim"],
            hidden=tuple(cfg["teacher_hidden"]),
            activation=cfg["activation"],
            noise=cfg["noise"],
            seed=data_seed,
        )
    return MLPLoss(
        data,
        hidden=tuple(cfg["hidden"]),
        activation=cfg["activation"],
        loss=cfg["loss"],
        weight_decay=cfg["weight_decay"],
    )


def _tasks(cfg):
    per = cfg["replicas"] // cfg["samples"]
    for s in range(cfg["samples"]):
        for a in range(0, per, cfg["chunk"]):
            yield s, s * per + a, s * per + min(per, a + cfg["chunk"])


def _descent_arrays(r) -> dict:
    out = dict(
        energies=r.energies,
        intensive=r.intensive,
        grad_norms=r.grad_norms,
        intensive_grad_norms=r.intensive_grad_norms,
        steps=r.steps,
        converged=r.converged,
        diverged=r.diverged,
        halting_times=r.halting_times,
        ladder=r.ladder,
        x=r.x,
        traj_steps=r.trajectory_steps,
        traj_energies=r.trajectory_energies,
        traj_grad_norms=r.trajectory_grad_norms,
    )
    if r.method == "sgd":  # no stopping rule, hence no halting times
        del out["halting_times"], out["ladder"]
    return out


def _run_chunk(cfg, model, streams):
    """Run one chunk of replicas (replica j of the chunk from ``streams[j]``)."""
    lo, hi = 0, len(streams)
    inits, dyns = [], []
    for ss in streams:
        inits.append(model.random_point(child(ss, 0)))
        dyns.append(child(ss, 1))
    x0 = np.stack(inits)
    if cfg["method"] == "gd":
        r = gradient_descent(
            model,
            x0,
            step=cfg["step"],
            max_steps=cfg["max_steps"],
            gtol=cfg["gtol"],
            schedule=cfg["schedule"],
            decay=cfg["decay"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        arrays = _descent_arrays(r)
    elif cfg["method"] == "sgd":
        r = sgd(
            model,
            x0,
            batch_size=cfg["batch_size"],
            step=cfg["step"],
            epochs=cfg["epochs"],
            seed=dyns,
            schedule=cfg["schedule"],
            decay=cfg["decay"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        arrays = _descent_arrays(r)
    else:
        r = langevin(
            model,
            x0,
            temperature=cfg["temperature"],
            step=cfg["step"],
            n_steps=cfg["n_steps"],
            seed=dyns,
            adjusted=cfg["adjusted"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        g = model.rgrad(r.x)
        gn = np.linalg.norm(g, axis=1)
        arrays = dict(
            energies=r.energies,
            intensive=r.intensive,
            grad_norms=gn,
            intensive_grad_norms=gn / np.sqrt(model.dim),
            steps=np.full(hi - lo, r.n_steps),
            converged=np.zeros(hi - lo, dtype=bool),
            diverged=r.diverged,
            acceptance=r.acceptance,
            x=r.x,
            traj_steps=r.trace_steps,
            traj_energies=r.trace,
        )
    if cfg["target"] == "mlp" and model.data.task == "classification":
        arrays["train_accuracy"] = np.asarray(model.accuracy(r.x, "train"), dtype=float)
        if model.data.X_test is not None:
            arrays["test_accuracy"] = np.asarray(model.accuracy(r.x, "test"), dtype=float)
    return arrays


def descend_chunk_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """One chunk of replicas of ``descend`` (a sweep task; runs on a worker).

    ``config``: ``run`` (the command's configuration), ``sample`` (coupling sample or data
    set), ``lo``/``hi`` (the chunk's replicas) and ``model`` (the sample's model spec,
    :func:`landscapes.spec.spec_of`: the model is built here by :func:`landscapes.spec.build`
    and its fingerprint checked). ``seed`` is the run's replica SeedSequence: replica ``j``
    uses its child ``j``, split into an initial-point and a dynamics stream.

    Returns meta ``{sample, lo, hi, fingerprint}`` and the chunk's arrays (final energies,
    gradient norms, steps, flags, halting times, final points, trajectories).
    """
    cfg, lo, hi = config["run"], int(config["lo"]), int(config["hi"])
    model = build(config["model"])
    streams = [child(seed, j) for j in range(lo, hi)]
    arrays = _run_chunk(cfg, model, streams)
    meta = {"sample": int(config["sample"]), "lo": lo, "hi": hi, "fingerprint": model.fingerprint}
    return meta, arrays


def _on_grid(steps, values, grid):
    """Values at grid times: the last recorded value at or before each time."""
    i = np.searchsorted(steps, grid, side="right") - 1
    return values[np.clip(i, 0, len(steps) - 1)]


def _describe(cfg) -> dict:
    """Names, labels and theory lines of a configuration's target."""
    if cfg["target"] == "pspin":
        return dict(
            what="H/N (energy per spin)",
            column="final_energy_per_spin",
            lines=theory_lines(cfg["p"]),
            energy_definition="H/N, ABC normalization (E[H(s)H(s')] = N q^p)",
            model=(
                f"p={cfg['p']}, N={cfg['N']}, {{n}} replicas, "
                f"{cfg['samples']} coupling sample(s) ({cfg['couplings']})"
            ),
        )
    arch = "-".join(str(h) for h in cfg["hidden"])
    lines = {}
    if cfg["dataset"] == "teacher_student" and cfg["noise"] == 0 and cfg["weight_decay"] == 0:
        if cfg["teacher_hidden"] == cfg["hidden"]:
            lines = {"teacher (global minimum)": 0.0}
    return dict(
        what="mean loss per sample",
        column="final_mean_loss",
        lines=lines,
        energy_definition=f"mean {cfg['loss']} loss per training sample"
        + (f" + {cfg['weight_decay']} |theta|^2/2" if cfg["weight_decay"] else ""),
        model=(
            f"MLP hidden {arch} ({cfg['activation']}, {cfg['loss']}) on {cfg['dataset']}, "
            "{n} replicas"
        ),
    )


@dataclass(frozen=True)
class DescendStudy:
    """Outcome of :func:`run_descend`.

    Attributes
    ----------
    result : SweepResult
        The sweep over chunks (when some failed, the other fields are empty).
    rows : list of dict
        ``final.csv``: one row per replica (sample, replica, final energy, its intensive
        value, gradient norms, steps, flags, halting steps, accuracies).
    grid : ndarray (T,)
        Common time grid of the trajectories.
    trajectories : ndarray (T, replicas)
        Intensive energy (H/N or mean loss) of every replica on the grid.
    final_x : ndarray (replicas, dim)
        Final points.
    summary : dict
        ``summary.json``: statistics of the final intensive values, theory lines, seeds,
        fingerprints, definitions.
    description : dict
        ``what``, ``column``, ``lines`` (theory lines), ``energy_definition``, ``model``.
    """

    result: SweepResult
    rows: list
    grid: np.ndarray
    trajectories: np.ndarray
    final_x: np.ndarray
    summary: dict
    description: dict

    @property
    def trajectory_name(self) -> str:
        """Name of the trajectory array: ``energy_per_spin`` or ``mean_loss``."""
        return "energy_per_spin" if self.description["column"].endswith("spin") else "mean_loss"


def _model(cfg: dict, stream):
    if cfg["target"] == "mlp":
        return mlp_model(cfg, stream)
    from pspin import SphericalPSpin, SplitPSpin

    if cfg.get("splits"):  # SGD: the split p-spin, whose full energy is the p-spin with J
        return SplitPSpin(
            cfg["N"], cfg["p"], cfg["splits"], seed=stream, couplings=cfg["couplings"]
        )
    return SphericalPSpin(cfg["N"], cfg["p"], seed=stream, couplings=cfg["couplings"])


def run_descend(
    cfg: dict, run_folder: RunFolder, executor: ExecutorSpec | None = None, *, desc: str = ""
) -> DescendStudy:
    """Run a validated ``descend`` configuration as a sweep into ``run_folder`` and gather it.

    Parameters
    ----------
    cfg : dict
        The configuration ``landscapes descend`` validated and stored (``target`` "pspin"
        or "mlp", model parameters, ``replicas``, ``samples``, ``seed``, ``method`` and its
        options, ``record_every``, ``chunk``).
    run_folder : RunFolder
        Where the chunks' results are stored; chunks already stored are not rerun.
    executor : ExecutorSpec, optional
        Where the chunks run (default in-process). Failed chunks raise
        :class:`analysis.sweep.SweepError`.
    desc : str
        Label of the progress bar.

    Returns
    -------
    DescendStudy
    """
    executor = executor or ExecutorSpec()
    root = as_seed_sequence(cfg["seed"])
    rep_root = child(root, 1)
    coup_streams = [child(root, 0, s) for s in range(cfg["samples"])]
    chunks = list(_tasks(cfg))
    # one model spec per sample (parameters, seed, fingerprint): the client builds each model
    # once, one at a time, for its fingerprint; workers rebuild it and check the fingerprint
    specs = {}
    for s in sorted({s for s, _, _ in chunks}):
        specs[s] = spec_of(_model(cfg, coup_streams[s]))
    rep_seed = seed_info(rep_root)
    tasks = [
        Task(TASK_FUNC, {"run": cfg, "sample": s, "lo": lo, "hi": hi, "model": specs[s]}, rep_seed)
        for s, lo, hi in chunks
    ]
    result = executor.run(tasks, run_folder, desc=desc or f"descend {cfg['target']}")
    fingerprints = {}
    d = _describe(cfg)
    col = d["column"]
    rows, finals, trajs = [], [], []
    for task in tasks:
        rec, a = run_folder.load_task(task.key)
        meta = rec["result"]
        s, lo, hi = meta["sample"], meta["lo"], meta["hi"]
        fingerprints[s] = meta["fingerprint"]
        for j in range(hi - lo):
            row = dict(sample=s, replica=lo + j, final_energy=float(a["energies"][j]))
            row[col] = float(a["intensive"][j])
            row.update(
                grad_norm=float(a["grad_norms"][j]),
                grad_norm_rms=float(a["intensive_grad_norms"][j]),
                steps=int(a["steps"][j]),
                converged=bool(a["converged"][j]),
                diverged=bool(a["diverged"][j]),
            )
            if "halting_times" in a:
                for lv, ht in zip(a["ladder"], a["halting_times"][j], strict=True):
                    # the table keeps its documented -1 for "never reached" (byte-identical
                    # to earlier runs); the DescentResult says NaN
                    row[f"halting_step_g{lv:.0e}"] = int(ht) if np.isfinite(ht) else -1
            for extra in ("acceptance", "train_accuracy", "test_accuracy"):
                if extra in a:
                    row[extra] = float(a[extra][j])
            rows.append(row)
        finals.append(a["x"])
        trajs.append((a["traj_steps"], a["traj_energies"]))
    tmax = max(int(t[-1]) for t, _ in trajs)
    grid = np.unique(np.concatenate([np.arange(0, tmax + 1, cfg["record_every"]), [tmax]]))
    E = np.concatenate([_on_grid(t, e, grid) for t, e in trajs], axis=1)
    vals = np.array([r[col] for r in rows])
    summary = dict(
        replicas=len(rows),
        quantity=d["what"],
        mean=float(vals.mean()),
        std=float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
        min=float(vals.min()),
        max=float(vals.max()),
        converged=int(sum(r["converged"] for r in rows)),
        diverged=int(sum(r["diverged"] for r in rows)),
        theory=d["lines"],
        fingerprints={str(k): v for k, v in fingerprints.items()},
        seeds={
            "root": seed_info(root),
            ("couplings" if cfg["target"] == "pspin" else "data"): [
                seed_info(c) for c in coup_streams
            ],
        },
        energy_definition=d["energy_definition"],
        gtol_definition="|rgrad| / sqrt(dim)",
    )
    for extra in ("train_accuracy", "test_accuracy"):
        if rows and extra in rows[0]:
            summary[f"mean_{extra}"] = float(np.mean([r[extra] for r in rows]))
    return DescendStudy(result, rows, grid, E, np.concatenate(finals), summary, d)
