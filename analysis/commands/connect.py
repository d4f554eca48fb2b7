"""``landscapes connect``: minima joined through index-1 saddles, and the disconnectivity graph.

``landscapes connect pspin --p 3 --N 10 --seed S [--db census.sqlite]`` takes the critical
points of the disorder sample that ``landscapes census pspin --seed S`` builds first (sample
``--sample``, default 0) from the catalogue, or runs that census when the catalogue holds none,
descends from every index-1 saddle along +- its unstable direction to the two minima it joins
(analysis.connectivity.connect_minima), stores the connections in the catalogue (one
transaction; a rerun replaces, never duplicates), and writes a run folder with the graph
(``edges.csv``, ``minima.csv``), the tree (``tree.json``), the disconnectivity graph
(``disconnectivity.png``) and the barrier between the two lowest minima along the geodesic
and along a climbing-image nudged elastic band, whose top is refined by Newton into an
index-1 saddle (``barrier.csv``, ``barriers.png``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add ``connect pspin`` to the CLI."""
    p = subparsers.add_parser(
        "connect",
        help="connect minima through index-1 saddles; draw the disconnectivity graph",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser("pspin", help="a pure spherical p-spin sample (as `census pspin` builds)")
    q.add_argument("--N", type=int, default=10, help="number of spins (default 10)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument("--seed", type=int, default=0, help="root seed, as for `census` (default 0)")
    q.add_argument("--sample", type=int, default=0, help="disorder sample of that seed (default 0)")
    q.add_argument("--levels", type=int, default=30, help="energy levels of the tree (default 30)")
    q.add_argument("--db", default=None, help="SQLite catalogue (default RUN_DIR/census.sqlite)")
    q.add_argument("--max-time", type=float, default=None, help="census budget in seconds")
    q.add_argument("--out", default=None, help="run folder (default runs/connect-...)")
    q.add_argument("--resume", action="store_true", help="resume an existing run folder")
    q.set_defaults(func=run)


def run(args) -> int:
    from analysis.catalogue import Catalogue
    from analysis.connectivity import (
        connect_minima,
        connections_from_catalogue,
        disconnectivity_tree,
    )
    from analysis.critical import _batch_seed, census
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_disconnectivity
    from analysis.store import RunFolder
    from landscapes.random import as_seed_sequence
    from pspin import SphericalPSpin

    if args.N < 2 or args.p < 2:
        raise ValueError("--N and --p must be >= 2")
    if args.sample < 0:
        raise ValueError("--sample must be >= 0")
    if args.levels < 2:
        raise ValueError("--levels must be >= 2")
    config = {
        "target": "pspin",
        "N": args.N,
        "p": args.p,
        "seed": args.seed,
        "sample": args.sample,
        "levels": args.levels,
        "max_time": args.max_time,
    }
    rf = RunFolder(args.out, "connect", config, resume=args.resume)
    db = args.db or str(rf.file("census.sqlite"))
    root = as_seed_sequence(args.seed)
    # the same disorder sample and search seed as `landscapes census pspin --seed S`
    model_seed = _batch_seed(_batch_seed(root, 0), args.sample)
    search_seed = _batch_seed(_batch_seed(root, 1), args.sample)
    model = SphericalPSpin(args.N, args.p, seed=model_seed)
    fp = model.fingerprint
    with Catalogue(db) as cat:
        pts = cat.points(fp)
        ran_census = False
        if pts["id"].size == 0:
            print(f"no points of this sample in {db}: running its census first")
            census(model, seed=search_seed, catalogue=cat, max_time=args.max_time)
            pts = cat.points(fp)
            ran_census = True
        n_sad = int(np.sum(pts["index"] == 1))
        stored = {r[0] for r in cat.connections(fp)}
        sad_ids = set(pts["id"][pts["index"] == 1].tolist())
        if sad_ids and sad_ids <= stored:
            conn = connections_from_catalogue(cat, fp)
            how = "read from the catalogue (all saddles already connected)"
        else:
            conn = connect_minima(model, pts["coords"], pts["index"])
            info = cat.add_connections(model, conn)
            conn = connections_from_catalogue(cat, fp)
            how = f"computed and stored ({info['n_new_points']} new minima added)"
    if conn is None:  # pragma: no cover - add_connections always stores at least one row
        raise ValueError(f"no connections stored for this sample in {db}")
    ends = conn.ends
    em = conn.minima_energies
    edges = {
        "saddle": np.arange(ends.shape[0]),
        "min_a": ends[:, 0],
        "min_b": ends[:, 1],
        "saddle_energy": conn.saddle_energies,
        "barrier_from_a": np.where(ends[:, 0] >= 0, conn.saddle_energies - em[ends[:, 0]], np.nan),
        "barrier_from_b": np.where(ends[:, 1] >= 0, conn.saddle_energies - em[ends[:, 1]], np.nan),
    }
    rf.write_table("edges.csv", edges)
    rf.write_table("minima.csv", {"minimum": np.arange(em.size), "energy": em})
    rf.write_arrays("connections.npz", minima=conn.minima, saddles=conn.saddles, ends=ends)
    tree = disconnectivity_tree(conn, levels=args.levels)
    rf.write_json("tree.json", tree.to_dict())
    use_agg()
    e_inf = -2.0 * np.sqrt((args.p - 1) / args.p)
    fig = plot_disconnectivity(
        tree,
        title=f"spherical {args.p}-spin, N = {args.N}, seed {args.seed} sample {args.sample}",
        reference_lines={"threshold -E_inf (N → ∞)": e_inf},
    )
    rf.save_figure("disconnectivity.png", fig)
    bar_lines = _barrier(rf, model, conn)
    n_bad = int(np.sum((ends < 0).any(axis=1)))
    lines = [
        f"spherical {args.p}-spin N = {args.N}, fingerprint {fp[:12]}",
        f"catalogue: {db}" + (" (census run now)" if ran_census else ""),
        f"{em.size} minima, {n_sad} index-1 saddles; connections {how}",
        f"graph: {conn.graph.number_of_edges()} edges, {conn.n_components} connected component(s)"
        + (f"; {n_bad} saddles whose descent reached no verified minimum" if n_bad else ""),
        f"lowest minimum {em.min():.6f}, highest saddle {conn.saddle_energies.max():.6f} (H/N)",
    ]
    lines += bar_lines
    if conn.n_components > 1:
        lines.append(
            "the graph is disconnected: some minima are joined by no stored saddle "
            "(an incomplete census?)"
        )
    text = "\n".join(lines) + "\n"
    rf.write_text("report.txt", text)
    print(text, end="")
    print(f"run folder: {rf.path}")
    return 0


def _barrier(rf, model, conn) -> list[str]:
    """Geodesic and NEB paths between the two lowest minima; figure, table, report lines."""
    from analysis.barriers import linear_path, nudged_elastic_band, refine_saddle
    from analysis.plots.critical import plot_barriers

    if conn.minima.shape[0] < 2:
        return ["one minimum only: no barrier to compute"]
    i, j = np.argsort(conn.minima_energies)[:2]
    geo = linear_path(model, conn.minima[i], conn.minima[j])
    neb = nudged_elastic_band(model, conn.minima[i], conn.minima[j])
    x, v = refine_saddle(model, neb.x_max)
    ok = bool(v.kind[0] == "critical" and v.indices[0] == 1)
    e_sad = float(v.energies[0] / model.scale)
    d = np.linalg.norm(conn.saddles - x, axis=1)
    k = int(np.argmin(d))
    known = bool(d[k] <= 1e-6 * np.sqrt(model.dim))
    rf.write_table(
        "barrier.csv",
        {
            "path": ["geodesic", "neb"],
            "max_energy": [geo.e_max, neb.e_max],
            "barrier_from_lowest": [geo.barrier, neb.barrier],
            "converged": [True, neb.converged],
        },
    )
    rf.save_figure(
        "barriers.png",
        plot_barriers(
            {
                f"minima {i} -> {j}": (
                    "H/N (energy per spin)",
                    {"geodesic": geo, "nudged elastic band (climbing image)": neb},
                )
            },
            title="energy along paths between the two lowest minima",
        ),
    )
    return [
        f"barrier {i} -> {j}: geodesic max {geo.e_max:.6f}, NEB max {neb.e_max:.6f} "
        f"(converged {neb.converged}); Newton from the NEB top: "
        + (
            f"index-1 saddle at {e_sad:.6f}"
            + (
                f", the stored saddle {k} joining {tuple(int(e) for e in conn.ends[k])}"
                if known
                else ""
            )
            if ok
            else f"no index-1 saddle ({v.kind[0]}, index {v.indices[0]})"
        )
    ]
