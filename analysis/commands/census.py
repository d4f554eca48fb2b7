"""``landscapes census``: count critical points by index over disorder samples, against theory.

``landscapes census pspin --p 3 --N 10 --samples 20 --db census.sqlite`` runs one census per
disorder sample (batched Newton search, verified, deduplicated with the x -> -x symmetry,
stopped by its completeness certificate), stores the points in an SQLite catalogue, and writes
a run folder with the per-sample counts, the disorder average with standard errors beside the
exact Kac–Rice mean (pspin.theory), and figures. Rerunning with ``--resume`` (or on the same
``--db``) redoes nothing already stored.
"""

from __future__ import annotations

import numpy as np

__all__ = ["register", "run"]


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
    q.set_defaults(func=run)


def run(args) -> int:
    from analysis.catalogue import Catalogue
    from analysis.critical import _batch_seed, census
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_counts_by_index, plot_saturation
    from analysis.store import RunFolder
    from landscapes.progress import Progress
    from landscapes.random import as_seed_sequence
    from pspin import SphericalPSpin

    if args.N < 2 or args.p < 2:
        raise ValueError("--N and --p must be >= 2")
    if args.samples < 1:
        raise ValueError("--samples must be >= 1")
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
    rows, counts, censuses = [], [], []
    with Catalogue(db) as cat, Progress(args.samples, desc="census samples") as bar:
        for i in range(args.samples):
            model = SphericalPSpin(args.N, args.p, seed=_batch_seed(model_root, i))
            key = f"sample-{i}"
            c = census(
                model,
                seed=_batch_seed(search_root, i),
                batch_size=args.batch_size,
                max_starts=args.max_starts,
                max_time=args.max_time,
                catalogue=cat,
                progress=False,
            )
            censuses.append(c)
            cnt = np.zeros(args.N, dtype=int)
            cnt[: c.counts_by_index.size] = c.counts_by_index[: args.N]
            counts.append(cnt)
            row = {
                "sample": i,
                "fingerprint": model.fingerprint,
                "points": c.n_points,
                "complete": c.complete,
                "morse_sum": c.certificate.morse_sum,
                "starts": c.certificate.n_starts,
                "stopped_by": c.stopped_by,
                "seconds": round(c.elapsed, 3),
                **{f"n{k}": int(v) for k, v in enumerate(cnt)},
            }
            if args.exact:
                from pspin.homotopy import pspin_critical_points

                r = pspin_critical_points(model, seed=_batch_seed(search_root, 10**6 + i))
                row["exact_points"] = len(r.points)
                row["exact_complete"] = r.complete
                row["exact_agrees"] = bool(
                    np.array_equal(np.bincount(r.indices, minlength=args.N), cnt)
                )
            rows.append(row)
            if not rf.has_task(key):
                rf.save_task(key, row, points=c.points, energies=c.energies, indices=c.indices)
            bar.update(1, points=c.n_points)
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


def _theory(N: int, p: int):
    """Kac–Rice mean per index from pspin.theory when available (None otherwise)."""
    try:
        from pspin.theory import kac_rice_mean
    except ImportError:
        return None
    r = kac_rice_mean(N, p)
    by = getattr(r, "by_index", None)
    return None if by is None else np.asarray(by, dtype=float)
