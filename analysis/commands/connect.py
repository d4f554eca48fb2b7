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
index-1 saddle (``barrier.csv``, ``barriers.png``). The study is
:func:`analysis.studies.connect.run_connect`.
"""

from __future__ import annotations

import numpy as np

from analysis.commands._options import (
    add_run_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
)
from pspin import theory

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
    q.add_argument("--sample", type=int, default=0, help="disorder sample of that seed (default 0)")
    q.add_argument("--levels", type=int, default=30, help="energy levels of the tree (default 30)")
    q.add_argument("--db", default=None, help="SQLite catalogue (default RUN_DIR/census.sqlite)")
    q.add_argument("--max-time", type=float, default=None, help="census budget in seconds")
    add_run_options(q, seed=0, seed_help="root seed, as for `census` (default 0)")
    q.set_defaults(func=run)


def run(args) -> int:
    """Run ``connect pspin``; returns the exit status."""
    if args.N < 2 or args.p < 2:
        raise ValueError("--N and --p must be >= 2")
    if args.sample < 0:
        raise ValueError("--sample must be >= 0")
    if args.levels < 2:
        raise ValueError("--levels must be >= 2")
    if args.max_time is not None:
        check_range(args.max_time, "--max-time", low=0, low_open=True)
    check_run_options(args)
    config = {
        "target": "pspin",
        "N": args.N,
        "p": args.p,
        "seed": args.seed,
        "sample": args.sample,
        "levels": args.levels,
        "max_time": args.max_time,
    }
    rf = open_run_folder(args, "connect", config)
    with command_context(args):
        return _run(args, rf)


def _run(args, rf) -> int:
    from analysis.plots import use_agg
    from analysis.plots.critical import plot_barriers, plot_disconnectivity
    from analysis.report import write_run_report
    from analysis.studies.connect import run_connect
    from landscapes.progress import phase

    db = args.db or str(rf.file("census.sqlite"))
    with phase("connect: census, connections and barrier"):
        study = run_connect(
            N=args.N,
            p=args.p,
            seed=args.seed,
            sample=args.sample,
            levels=args.levels,
            max_time=args.max_time,
            db=db,
        )
    conn, model = study.conn, study.model
    ends, em = conn.ends, conn.minima_energies
    rf.write_table("edges.csv", study.edges_table())
    rf.write_table("minima.csv", {"minimum": np.arange(em.size), "energy": em})
    rf.write_arrays("connections.npz", minima=conn.minima, saddles=conn.saddles, ends=ends)
    rf.write_json("tables/tree.json", study.tree.to_dict())
    use_agg()
    e_inf = -float(theory.threshold_energy(args.p))
    fig = plot_disconnectivity(
        study.tree,
        title=f"spherical {args.p}-spin, N = {args.N}, seed {args.seed} sample {args.sample}",
        reference_lines={"threshold -E_inf (N → ∞)": e_inf},
    )
    rf.save_figure("disconnectivity.png", fig)
    b = study.barrier
    if b is None:
        bar_lines = ["one minimum only: no barrier to compute"]
    else:
        rf.write_table("barrier.csv", b.table())
        rf.save_figure(
            "barriers.png",
            plot_barriers(
                {
                    f"minima {b.i} -> {b.j}": (
                        "H/N (energy per spin)",
                        {"geodesic": b.geodesic, "nudged elastic band (climbing image)": b.neb},
                    )
                },
                title="energy along paths between the two lowest minima",
            ),
        )
        if b.saddle_ok:
            found = f"index-1 saddle at {b.saddle_energy:.6f}" + (
                f", the stored saddle {b.nearest} joining "
                f"{tuple(int(e) for e in conn.ends[b.nearest])}"
                if b.known
                else ""
            )
        else:
            found = f"no index-1 saddle ({b.verified.kind[0]}, index {b.verified.indices[0]})"
        bar_lines = [
            f"barrier {b.i} -> {b.j}: geodesic max {b.geodesic.e_max:.6f}, NEB max "
            f"{b.neb.e_max:.6f} (converged {b.neb.converged}); Newton from the NEB top: " + found
        ]
    n_bad = int(np.sum((ends < 0).any(axis=1)))
    lines = [
        f"spherical {args.p}-spin N = {args.N}, fingerprint {model.fingerprint[:12]}",
        f"catalogue: {db}" + (" (census run now)" if study.ran_census else ""),
        f"{em.size} minima, {study.n_saddles} index-1 saddles; connections {study.how}",
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
    figs = [("disconnectivity.png", "disconnectivity graph")]
    if b is not None:
        figs.append(("barriers.png", "energy along paths between the two lowest minima"))
    write_run_report(
        rf,
        title=f"connect: spherical {args.p}-spin, N = {args.N}",
        text=" ".join(lines),
        tables=["minima.csv", "edges.csv"] + (["barrier.csv"] if b is not None else []),
        figures=figs,
        markdown=f"# connect pspin\n\n```\n{text}```\n",
    )
    print(text, end="")
    print(f"run folder: {rf.path}")
    return 0
