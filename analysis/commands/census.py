"""``landscapes census``: count critical points by index over disorder samples, against theory.

``landscapes census pspin --p 3 --N 10 --samples 20 --db census.sqlite`` runs one census per
disorder sample (batched Newton search, verified, deduplicated with the x -> -x symmetry,
stopped by its completeness certificate), stores the points in an SQLite catalogue, and writes
a run folder with the per-sample counts, the disorder average with standard errors beside the
exact Kac–Rice mean (pspin.theory), and figures.

Each disorder sample is one task of a sweep (:mod:`analysis.tasks`, function
:func:`census_sample_task`): ``--scheduler local:N`` runs the samples on a local Dask cluster,
``--scheduler tcp://HOST:PORT`` on an existing one, ``--executor processes`` on a local
process pool. Workers build each sample's model from its parameters and coupling seed (and
check its fingerprint); they never touch the catalogue: the client commits a sample's batches
to it when the sample's result is stored (idempotently: no batch or point is stored twice).
Rerunning with ``--resume`` runs only the samples whose results are missing; the tables are
identical wherever the samples run (``--max-time`` makes a census depend on the machine).
"""

from __future__ import annotations

import numpy as np

from analysis.tasks import add_executor_arguments

__all__ = ["census_sample_task", "register", "run"]


def register(subparsers) -> None:
    """Add ``census pspin`` to the CLI."""
    p = subparsers.add_parser(
        "census",
        help="count critical points by index and energy (p-spin, against Kac–Rice)",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser("pspin", help="census of pure spherical p-spin samples")
    q.add_argument("--N", type=int, default=8, help="number of spins (default 8)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--samples", type=int, default=20, help="disorder samples (default 20)")
    q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    q.add_argument("--batch-size", type=int, default=256, help="starts per batch (default 256)")
    q.add_argument("--max-starts", type=int, default=1_000_000, help="budget per sample")
    q.add_argument("--max-time", type=float, default=None, help="seconds per sample (budget)")
    q.add_argument("--db", default=None, help="SQLite catalogue (default RUN_DIR/census.sqlite)")
    q.add_argument("--exact", action="store_true", help="also enumerate by homotopy (small N)")
    q.add_argument("--out", default=None, help="run folder (default runs/census-...)")
    q.add_argument("--resume", action="store_true", help="resume an existing run folder")
    add_executor_arguments(q)
    q.set_defaults(func=run)


_TASK_FUNC = "analysis.commands.census:census_sample_task"


def census_sample_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Census of one disorder sample (a sweep task; runs on a worker).

    ``config`` holds the model spec (``model``: parameters, coupling seed record and
    fingerprint; the model is built here and its fingerprint checked), the census options
    (``batch_size``, ``max_starts``, ``max_time``), ``sample`` and, with ``exact``, the seed
    record ``exact_seed`` of the homotopy enumeration. ``seed`` is the sample's search seed.

    The catalogue is not touched here: every finished batch the census would have written to
    it is returned (arrays ``cat_*``), and the client commits them (:func:`_commit`).

    Returns the row of ``samples.csv`` as meta (plus ``catalogue``: the census run's seed and
    options) and arrays ``points``, ``energies``, ``indices``, ``saturation`` and ``cat_*``.
    """
    from analysis.critical import census
    from analysis.tasks import build_model
    from landscapes.random import seed_from_info

    model = build_model(config["model"])
    N = int(config["N"])
    rec = _Recorder()
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
    meta = {**row, "catalogue": {"seed": rec.seed, "options": rec.options}}
    arrays = {
        "points": c.points,
        "energies": c.energies,
        "indices": c.indices,
        "saturation": c.saturation,
        **rec.arrays(model.dim),
    }
    return meta, arrays


class _Recorder:
    """Stands in for the catalogue on a worker: records each finished census batch."""

    def __init__(self):
        self.seed = None
        self.options = None
        self.batches: list[tuple[int, int, dict, int]] = []

    def begin_census(self, energy, seed: dict, options: dict) -> str:
        self.seed, self.options = seed, options
        return "recorded"

    def restore_state(self, run_key, state) -> None:  # a task always starts from scratch
        return None

    def commit_batch(self, run_key, batch: int, size: int, add: dict, n_points: int) -> None:
        if batch != len(self.batches):
            raise RuntimeError(f"census batch {batch} out of order")
        self.batches.append((int(batch), int(size), add, int(n_points)))

    def arrays(self, dim: int) -> dict[str, np.ndarray]:
        """The recorded batches as flat arrays (one row per batch, per point, per flat point)."""
        adds = [a for _, _, a, _ in self.batches]

        def cat(name, shape=(0,), dtype=float):
            parts = [np.asarray(a[name], dtype=dtype) for a in adds]
            return np.concatenate(parts) if parts else np.zeros(shape, dtype=dtype)

        lows = [np.asarray(row, dtype=float) for a in adds for row in a["low"]]
        return {
            "cat_batch": np.array(
                [
                    [s, n, a["n_degenerate"], a["n_zero"], a["X"].shape[0], a["Xf"].shape[0]]
                    for (_, s, a, n) in self.batches
                ],
                dtype=np.int64,
            ).reshape(-1, 6),
            "cat_X": cat("X", (0, dim)).reshape(-1, dim),
            "cat_e": cat("e"),
            "cat_k": cat("k", dtype=np.int64),
            "cat_gn": cat("gn"),
            "cat_mins": cat("mins"),
            "cat_low_len": np.array([r.size for r in lows], dtype=np.int64),
            "cat_low": np.concatenate(lows) if lows else np.zeros(0),
            "cat_Xf": cat("Xf", (0, dim)).reshape(-1, dim),
            "cat_ef": cat("ef"),
            "cat_gf": cat("gf"),
        }


def _commit(cat, model, meta: dict, arrays: dict) -> int:
    """Write a finished sample's census batches into the catalogue (client side).

    Idempotent: batches the catalogue already holds for this census run are skipped after
    checking that they agree with the task's; returns the number of batches written.
    """
    from analysis.critical import _State

    run_key = cat.begin_census(model, meta["catalogue"]["seed"], meta["catalogue"]["options"])
    state = _State(model.dim)
    cat.restore_state(run_key, state)
    have = len(state.saturation)
    B = arrays["cat_batch"]
    sat = np.cumsum(B[:, 0]) if len(B) else np.zeros(0, dtype=np.int64)
    stored = [tuple(int(v) for v in s) for s in state.saturation]
    ours = [(int(s), int(n)) for s, n in zip(sat, B[:, 1], strict=True)]
    if stored != ours[:have]:
        raise ValueError(
            f"catalogue {cat.path}: the stored census of sample {meta['sample']} "
            f"({model.fingerprint[:12]}...) differs from this run's; use another --db"
        )
    i0 = np.concatenate([[0], np.cumsum(B[:, 4])])
    f0 = np.concatenate([[0], np.cumsum(B[:, 5])])
    low_len = arrays["cat_low_len"]
    l0 = np.concatenate([[0], np.cumsum(low_len)])
    for b in range(have, len(B)):
        a, z = i0[b], i0[b + 1]
        add = {
            "X": arrays["cat_X"][a:z],
            "e": arrays["cat_e"][a:z],
            "k": arrays["cat_k"][a:z],
            "gn": arrays["cat_gn"][a:z],
            "mins": arrays["cat_mins"][a:z],
            "low": [arrays["cat_low"][l0[j] : l0[j + 1]] for j in range(a, z)],
            "Xf": arrays["cat_Xf"][f0[b] : f0[b + 1]],
            "ef": arrays["cat_ef"][f0[b] : f0[b + 1]],
            "gf": arrays["cat_gf"][f0[b] : f0[b + 1]],
            "n_degenerate": int(B[b, 2]),
            "n_zero": int(B[b, 3]),
        }
        cat.commit_batch(run_key, b, int(B[b, 0]), add, int(B[b, 1]))
    return len(B) - have


def run(args) -> int:
    from types import SimpleNamespace

    from analysis.catalogue import Catalogue
    from analysis.critical import _batch_seed
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_counts_by_index, plot_saturation
    from analysis.store import RunFolder
    from analysis.tasks import SweepError, Task, executor_from_args, model_spec
    from landscapes.random import as_seed_sequence, seed_info
    from pspin import SphericalPSpin

    if args.N < 2 or args.p < 2:
        raise ValueError("--N and --p must be >= 2")
    if args.samples < 1:
        raise ValueError("--samples must be >= 1")
    spec = executor_from_args(args)  # checked before any folder is written
    config = {
        "target": "pspin",
        "N": args.N,
        "p": args.p,
        "samples": args.samples,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "max_starts": args.max_starts,
        "max_time": args.max_time,
        "exact": bool(args.exact),
    }
    rf = RunFolder(args.out, "census", config, resume=args.resume)
    db = args.db or str(rf.file("census.sqlite"))
    root = as_seed_sequence(args.seed)
    model_root, search_root = _batch_seed(root, 0), _batch_seed(root, 1)
    tasks, models = [], {}
    for i in range(args.samples):
        # the client builds each (small) model once for its spec and fingerprint; workers
        # rebuild it from the spec and check the fingerprint
        model = SphericalPSpin(args.N, args.p, seed=_batch_seed(model_root, i))
        cfg = {
            "sample": i,
            "N": args.N,
            "p": args.p,
            "model": model_spec(model),
            "batch_size": args.batch_size,
            "max_starts": args.max_starts,
            "max_time": args.max_time,
            "exact": bool(args.exact),
        }
        if args.exact:
            cfg["exact_seed"] = seed_info(_batch_seed(search_root, 10**6 + i))
        task = Task(_TASK_FUNC, cfg, seed_info(_batch_seed(search_root, i)))
        tasks.append(task)
        models[task.key] = model
    with Catalogue(db) as cat:
        # The catalogue is written here, by the client only, in task order whatever order the
        # executor finishes tasks in (so point ids are the same in-process and on a cluster):
        # each stored result commits the longest run of consecutive stored tasks.
        next_task = 0

        def commit_ready(task=None, meta=None, arrays=None):
            nonlocal next_task
            while next_task < len(tasks) and rf.has_task(tasks[next_task].key):
                t = tasks[next_task]
                rec, arr = rf.load_task(t.key)
                _commit(cat, models[t.key], rec["result"], arr)
                next_task += 1

        commit_ready()  # results stored before an interruption, or a new --db
        result = spec.run(
            tasks, rf, desc="census samples", on_failure="report", on_stored=commit_ready
        )
        for t in tasks[next_task:]:  # after a failed task: commit what is stored, in order
            if rf.has_task(t.key):
                rec, arr = rf.load_task(t.key)
                _commit(cat, models[t.key], rec["result"], arr)
    try:
        result.raise_if_failed()
    except SweepError as exc:
        print(str(exc))
        return 1
    rows, counts, censuses = [], [], []
    for t in tasks:
        rec, a = rf.load_task(t.key)
        res = rec["result"]  # stored JSON has sorted keys: restore the table's column order
        row = {k: res[k] for k in _columns(args.N, args.exact)}
        rows.append(row)
        counts.append([row[f"n{k}"] for k in range(args.N)])
        censuses.append(SimpleNamespace(saturation=a["saturation"]))
    counts = np.array(counts)
    S = counts.shape[0]
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.full(args.N, np.nan)
    theory = _theory(args.N, args.p)
    from analysis.critical import CensusEnsemble

    tot = counts.sum(axis=1)
    ens = CensusEnsemble(
        counts=counts,
        mean=mean,
        stderr=se,
        total_mean=float(tot.mean()),
        total_stderr=float(tot.std(ddof=1) / np.sqrt(S)) if S > 1 else float("nan"),
        theory=theory,
        theory_total=None if theory is None else float(theory.sum()),
        z=None if theory is None else (mean - theory) / se,
        z_total=None,
        energy_bins=np.zeros(0),
        counts_by_index_energy=np.zeros((S, args.N, 0)),
        complete=np.array([r["complete"] for r in rows]),
        seeds=list(range(S)),
    )
    rf.write_table("samples.csv", rows)
    summary = {
        "index": list(range(args.N)),
        "mean": mean,
        "stderr": se,
        "theory": theory if theory is not None else [np.nan] * args.N,
    }
    rf.write_table("counts_by_index.csv", summary)
    use_agg()
    title = f"spherical {args.p}-spin, N = {args.N}"
    rf.save_figure("counts_by_index.png", plot_counts_by_index(ens, title=title))
    rf.save_figure("saturation.png", plot_saturation(censuses, title=title))
    lines = [
        f"census of {S} samples of the spherical {args.p}-spin at N = {args.N}",
        f"catalogue: {db}",
        f"complete certificates: {int(ens.complete.sum())}/{S}",
        f"total per sample: {ens.total_mean:.2f} ± {ens.total_stderr:.2f}"
        + ("" if theory is None else f"   Kac–Rice {theory.sum():.4f}"),
        "index   mean ± s.e.      Kac–Rice",
    ]
    for k in range(args.N):
        th = "" if theory is None else f"{theory[k]:10.4f}"
        lines.append(f"{k:5d} {mean[k]:8.2f} ± {se[k]:5.2f} {th}")
    text = "\n".join(lines) + "\n"
    rf.write_text("report.txt", text)
    print(text, end="")
    print(f"run folder: {rf.path}")
    return 0


def _columns(N: int, exact: bool) -> list[str]:
    """Columns of ``samples.csv``, in order."""
    cols = ["sample", "fingerprint", "points", "complete", "morse_sum", "starts", "stopped_by"]
    cols += ["seconds", *(f"n{k}" for k in range(N))]
    return cols + (["exact_points", "exact_complete", "exact_agrees"] if exact else [])


def _theory(N: int, p: int):
    """Kac–Rice mean per index from pspin.theory when available (None otherwise)."""
    try:
        from pspin.theory import kac_rice_mean
    except ImportError:
        return None
    r = kac_rice_mean(N, p)
    by = getattr(r, "by_index", None)
    return None if by is None else np.asarray(by, dtype=float)
