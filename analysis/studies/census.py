"""The census study: critical points by index over disorder samples, against Kac–Rice.

:func:`run_census` runs one census (:func:`analysis.critical.census`) per disorder sample of
the pure spherical p-spin as a sweep (one task per sample, :func:`census_sample_task`), commits
every sample's census batches to an SQLite catalogue in task order (so point ids are the same
on any executor), and returns the per-sample rows, the disorder average with standard errors
and the exact Kac–Rice mean per index (:func:`pspin.theory.kac_rice_mean`).

Seeds: the root seed's child ``"model"`` gives the couplings (sample i: its child i) and its
child ``"search"`` the census searches (sample i: its child i), as ``landscapes connect``
expects. Workers rebuild each sample's model from its spec (:func:`landscapes.spec.build`,
fingerprint checked) and never touch the catalogue: the batches travel back with the task's
result (:class:`analysis.catalogue.CatalogueRecorder`) and the client commits them
(:func:`analysis.catalogue.record_batches`, idempotently).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.catalogue import Catalogue, CatalogueRecorder, record_batches
from analysis.critical import CensusEnsemble, census
from analysis.store import RunFolder
from analysis.sweep import ExecutorSpec, SweepResult, Task
from landscapes.random import as_seed_sequence, child, seed_from_info, seed_info
from landscapes.spec import build, spec_of

__all__ = ["CensusStudy", "census_sample_task", "run_census", "sample_seeds"]

TASK_FUNC = "analysis.studies.census:census_sample_task"


def sample_seeds(seed: int, sample: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """Coupling and search seeds of disorder sample ``sample`` of a census with root ``seed``."""
    root = as_seed_sequence(seed)
    return child(root, "model", sample), child(root, "search", sample)


def census_sample_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Census of one disorder sample (a sweep task; runs on a worker).

    ``config`` holds the model spec (``model``: :func:`landscapes.spec.spec_of`; the model is
    built here and its fingerprint checked), the census options (``batch_size``,
    ``max_starts``, ``max_time``), ``N``, ``sample`` and, with ``exact``, the seed record
    ``exact_seed`` of the homotopy enumeration. ``seed`` is the sample's search seed.

    The catalogue is not touched here: every finished batch the census would have written to
    it is returned (arrays ``cat_*``, :class:`analysis.catalogue.CatalogueRecorder`) and the
    client commits them (:func:`analysis.catalogue.record_batches`).

    Returns the row of ``samples.csv`` as meta (plus ``catalogue``: the census run's seed and
    options) and arrays ``points``, ``energies``, ``indices``, ``saturation`` and ``cat_*``.
    """
    model = build(config["model"])
    N = int(config["N"])
    rec = CatalogueRecorder()
    c = census(
        model,
        seed=seed,
        batch_size=config["batch_size"],
        max_starts=config["max_starts"],
        max_time=config["max_time"],
        catalogue=rec,
        progress=False,
    )
    cnt = np.zeros(N, dtype=int)
    cnt[: c.counts_by_index.size] = c.counts_by_index[:N]
    row = {
        "sample": int(config["sample"]),
        "fingerprint": model.fingerprint,
        "points": c.n_points,
        "complete": c.complete,
        "morse_sum": c.certificate.morse_sum,
        "starts": c.certificate.n_starts,
        "stopped_by": c.stopped_by,
        "seconds": round(c.elapsed, 3),
        **{f"n{k}": int(v) for k, v in enumerate(cnt)},
    }
    if config.get("exact"):
        from pspin.homotopy import pspin_critical_points

        r = pspin_critical_points(model, seed=seed_from_info(config["exact_seed"]))
        row["exact_points"] = len(r.points)
        row["exact_complete"] = r.complete
        row["exact_agrees"] = bool(np.array_equal(np.bincount(r.indices, minlength=N), cnt))
    meta = {**row, "catalogue": rec.record()}
    arrays = {
        "points": c.points,
        "energies": c.energies,
        "indices": c.indices,
        "saturation": c.saturation,
        **rec.arrays(model.dim),
    }
    return meta, arrays


@dataclass(frozen=True)
class CensusStudy:
    """Outcome of :func:`run_census`.

    Attributes
    ----------
    result : SweepResult
        The sweep over samples (``result.failed`` lists failed samples; then the other
        fields are empty).
    rows : list of dict
        One row of ``samples.csv`` per sample, in sample order and column order.
    ensemble : CensusEnsemble or None
        Mean counts per index with standard errors, beside the Kac–Rice mean.
    saturations : list of ndarray
        Each sample's saturation curve (starts, distinct points).
    catalogue : str
        Path of the catalogue.
    """

    result: SweepResult
    rows: list
    ensemble: CensusEnsemble | None
    saturations: list
    catalogue: str

    def counts_table(self) -> dict:
        """``counts_by_index.csv``: index, mean, stderr, theory."""
        ens = self.ensemble
        n = ens.mean.size
        theory = ens.theory if ens.theory is not None else [np.nan] * n
        return {"index": list(range(n)), "mean": ens.mean, "stderr": ens.stderr, "theory": theory}

    def summary_lines(self, N: int, p: int) -> list[str]:
        """The text summary: certificates, total and per-index mean ± s.e. beside Kac–Rice.

        With one sample there is no standard error: the lines say so instead of ``± nan``.
        """
        ens = self.ensemble
        S = ens.n_samples
        theory = ens.theory if ens.theory is not None else np.full(ens.mean.size, np.nan)
        lines = [
            f"census of {S} sample{'s' if S != 1 else ''} of the spherical {p}-spin at N = {N}",
            f"catalogue: {self.catalogue}",
            f"complete certificates: {int(ens.complete.sum())}/{S}",
            f"total per sample: {format_mean_se(ens.total_mean, ens.total_stderr)}"
            f"   Kac–Rice {float(np.sum(theory)):.4f}",
            "index   mean ± s.e.      Kac–Rice",
        ]
        for k in range(ens.mean.size):
            lines.append(
                f"{k:5d} {format_mean_se(ens.mean[k], ens.stderr[k], width=8)} {theory[k]:10.4f}"
            )
        if S < 2:
            lines.append("(one sample: no standard error; run --samples 2 or more for one)")
        return lines


def format_mean_se(mean: float, se: float, *, width: int = 0) -> str:
    """``mean ± se`` with two decimals, or ``mean`` and blanks when ``se`` is not measured
    (NaN: a single sample), never ``± nan``."""
    m = f"{float(mean):{width}.2f}"
    if se is None or not np.isfinite(se):
        return m + " " * 8
    return f"{m} ± {float(se):5.2f}"


def _columns(N: int, exact: bool) -> list[str]:
    """Columns of ``samples.csv``, in order."""
    cols = ["sample", "fingerprint", "points", "complete", "morse_sum", "starts", "stopped_by"]
    cols += ["seconds", *(f"n{k}" for k in range(N))]
    return cols + (["exact_points", "exact_complete", "exact_agrees"] if exact else [])


def _theory(N: int, p: int) -> np.ndarray:
    """Kac–Rice mean number of critical points per index (:func:`pspin.theory.kac_rice_mean`)."""
    from pspin.theory import kac_rice_mean

    return np.asarray(kac_rice_mean(N, p).by_index, dtype=float)


def run_census(
    run_folder: RunFolder,
    *,
    N: int,
    p: int,
    samples: int,
    seed: int,
    batch_size: int = 256,
    max_starts: int = 1_000_000,
    max_time: float | None = None,
    exact: bool = False,
    db: str | None = None,
    executor: ExecutorSpec | None = None,
) -> CensusStudy:
    """Census of ``samples`` disorder samples of the pure spherical ``p``-spin with ``N`` spins.

    Parameters
    ----------
    run_folder : RunFolder
        Where the samples' results are stored (``tasks/``); a rerun on it runs only the
        missing samples.
    N, p, samples, seed : int
        Spins (>= 2), interaction order (>= 2), disorder samples (>= 1), root seed.
    batch_size, max_starts, max_time : int, int, float or None
        Census options per sample (``max_time`` makes a census depend on the machine).
    exact : bool
        Also enumerate every sample's critical points by homotopy (small N).
    db : str, optional
        SQLite catalogue (default ``run_folder/census.sqlite``).
    executor : ExecutorSpec, optional
        Where the samples run (default in-process).

    Returns
    -------
    CensusStudy
    """
    if N < 2 or p < 2:
        raise ValueError("--N and --p must be >= 2")
    if samples < 1:
        raise ValueError("--samples must be >= 1")
    from pspin import SphericalPSpin

    executor = executor or ExecutorSpec()
    db = db or str(run_folder.file("census.sqlite"))
    tasks, models = [], {}
    for i in range(samples):
        # the client builds each (small) model once for its spec and fingerprint; workers
        # rebuild it from the spec and check the fingerprint
        model_seed, search_seed = sample_seeds(seed, i)
        model = SphericalPSpin(N, p, seed=model_seed)
        cfg = {
            "sample": i,
            "N": N,
            "p": p,
            "model": spec_of(model),
            "batch_size": batch_size,
            "max_starts": max_starts,
            "max_time": max_time,
            "exact": bool(exact),
        }
        if exact:
            cfg["exact_seed"] = seed_info(child(as_seed_sequence(seed), "search", 10**6 + i))
        task = Task(TASK_FUNC, cfg, seed_info(search_seed))
        tasks.append(task)
        models[task.key] = model
    with Catalogue(db) as cat:
        # The catalogue is written here, by the client only, in task order whatever order the
        # executor finishes tasks in (so point ids are the same in-process and on a cluster):
        # each stored result commits the longest run of consecutive stored tasks.
        next_task = 0

        def commit(t: Task) -> None:
            rec, arr = run_folder.load_task(t.key)
            record_batches(cat, models[t.key], rec["result"]["catalogue"], arr)

        def commit_ready(task=None, meta=None, arrays=None):
            nonlocal next_task
            while next_task < len(tasks) and run_folder.has_task(tasks[next_task].key):
                commit(tasks[next_task])
                next_task += 1

        commit_ready()  # results stored before an interruption, or a new catalogue
        result = executor.run(
            tasks, run_folder, desc="census samples", on_failure="report", on_stored=commit_ready
        )
        for t in tasks[next_task:]:  # after a failed task: commit what is stored, in order
            if run_folder.has_task(t.key):
                commit(t)
    if not result.ok:
        return CensusStudy(result, [], None, [], db)
    rows, counts, saturations = [], [], []
    for t in tasks:
        rec, a = run_folder.load_task(t.key)
        res = rec["result"]  # stored JSON has sorted keys: restore the table's column order
        row = {k: res[k] for k in _columns(N, exact)}
        rows.append(row)
        counts.append([row[f"n{k}"] for k in range(N)])
        saturations.append(a["saturation"])
    counts = np.array(counts)
    S = counts.shape[0]
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.full(N, np.nan)
    theory = _theory(N, p)
    tot = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # indices without points: se = 0
        z = (mean - theory) / se
    ens = CensusEnsemble(
        counts=counts,
        mean=mean,
        stderr=se,
        total_mean=float(tot.mean()),
        total_stderr=float(tot.std(ddof=1) / np.sqrt(S)) if S > 1 else float("nan"),
        theory=theory,
        theory_total=float(theory.sum()),
        z=z,
        z_total=None,
        energy_bins=np.zeros(0),
        counts_by_index_energy=np.zeros((S, N, 0)),
        complete=np.array([r["complete"] for r in rows]),
        seeds=list(range(S)),
    )
    return CensusStudy(result, rows, ens, saturations, db)
