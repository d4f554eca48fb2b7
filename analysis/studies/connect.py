"""The connectivity study: minima of a p-spin sample joined through index-1 saddles.

:func:`run_connect` takes the critical points of disorder sample ``sample`` of the census
with root seed ``seed`` (:func:`analysis.studies.census.sample_seeds`) from an SQLite
catalogue, or runs that census when the catalogue holds none, descends from every index-1
saddle along +- its unstable direction to the minima it joins
(:func:`analysis.connectivity.connect_minima`), stores the connections in the catalogue (one
transaction; a rerun replaces, never duplicates), builds the disconnectivity tree, and
computes the barrier between the two lowest minima along the geodesic and along a
climbing-image nudged elastic band whose top is refined by Newton into an index-1 saddle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.barriers import linear_path, nudged_elastic_band, refine_saddle
from analysis.catalogue import Catalogue
from analysis.connectivity import connect_minima, connections_from_catalogue, disconnectivity_tree
from analysis.critical import census
from analysis.studies.census import sample_seeds

__all__ = ["Barrier", "ConnectStudy", "lowest_barrier", "run_connect"]


@dataclass(frozen=True)
class Barrier:
    """Paths between the two lowest minima ``i`` and ``j`` and the saddle refined from the NEB.

    ``geodesic`` and ``neb`` are :mod:`analysis.barriers` paths; ``saddle_ok`` says whether
    Newton from the NEB top reached an index-1 saddle (energy ``saddle_energy`` per spin,
    ``verified`` its verification); ``known`` whether it is the stored saddle ``nearest``.
    """

    i: int
    j: int
    geodesic: object
    neb: object
    saddle_ok: bool
    saddle_energy: float
    verified: object
    known: bool
    nearest: int

    def table(self) -> dict:
        """``barrier.csv``: maximum energy and barrier along each path."""
        return {
            "path": ["geodesic", "neb"],
            "max_energy": [self.geodesic.e_max, self.neb.e_max],
            "barrier_from_lowest": [self.geodesic.barrier, self.neb.barrier],
            "converged": [True, self.neb.converged],
        }


def lowest_barrier(model, conn) -> Barrier | None:
    """Geodesic and NEB paths between the two lowest minima of ``conn`` (None for one minimum)."""
    if conn.minima.shape[0] < 2:
        return None
    i, j = np.argsort(conn.minima_energies)[:2]
    geo = linear_path(model, conn.minima[i], conn.minima[j])
    neb = nudged_elastic_band(model, conn.minima[i], conn.minima[j])
    x, v = refine_saddle(model, neb.x_max)
    ok = bool(v.kind[0] == "critical" and v.indices[0] == 1)
    d = np.linalg.norm(conn.saddles - x, axis=1)
    k = int(np.argmin(d))
    known = bool(d[k] <= 1e-6 * np.sqrt(model.dim))
    return Barrier(int(i), int(j), geo, neb, ok, float(v.energies[0] / model.scale), v, known, k)


@dataclass(frozen=True)
class ConnectStudy:
    """Outcome of :func:`run_connect`.

    Attributes
    ----------
    model : SphericalPSpin
        The disorder sample.
    conn : analysis.connectivity.Connections
        Minima, saddles and the minima each saddle joins (as stored in the catalogue).
    tree : analysis.connectivity.DisconnectivityTree
        The disconnectivity tree.
    barrier : Barrier or None
        Paths between the two lowest minima.
    n_saddles : int
        Stored index-1 saddles.
    how : str
        Whether the connections were read from the catalogue or computed.
    ran_census : bool
        Whether the census of the sample was run now.
    catalogue : str
        Path of the catalogue.
    """

    model: object
    conn: object
    tree: object
    barrier: Barrier | None
    n_saddles: int
    how: str
    ran_census: bool
    catalogue: str

    def edges_table(self) -> dict:
        """``edges.csv``: each saddle, the minima it joins and the barriers from each side."""
        conn, ends, em = self.conn, self.conn.ends, self.conn.minima_energies
        return {
            "saddle": np.arange(ends.shape[0]),
            "min_a": ends[:, 0],
            "min_b": ends[:, 1],
            "saddle_energy": conn.saddle_energies,
            "barrier_from_a": np.where(
                ends[:, 0] >= 0, conn.saddle_energies - em[ends[:, 0]], np.nan
            ),
            "barrier_from_b": np.where(
                ends[:, 1] >= 0, conn.saddle_energies - em[ends[:, 1]], np.nan
            ),
        }


def run_connect(
    *,
    N: int,
    p: int,
    seed: int,
    sample: int = 0,
    levels: int = 30,
    max_time: float | None = None,
    db: str,
) -> ConnectStudy:
    """Connect the minima of census sample ``sample`` (root ``seed``) through index-1 saddles.

    Parameters
    ----------
    N, p : int
        Spins and interaction order (>= 2).
    seed, sample : int
        Root seed and disorder sample, as for ``landscapes census pspin --seed S``.
    levels : int
        Energy levels of the disconnectivity tree (>= 2).
    max_time : float, optional
        Budget in seconds of the census, when it has to run.
    db : str
        SQLite catalogue.

    Returns
    -------
    ConnectStudy
    """
    from pspin import SphericalPSpin

    if N < 2 or p < 2:
        raise ValueError("--N and --p must be >= 2")
    if sample < 0:
        raise ValueError("--sample must be >= 0")
    if levels < 2:
        raise ValueError("--levels must be >= 2")
    model_seed, search_seed = sample_seeds(seed, sample)
    model = SphericalPSpin(N, p, seed=model_seed)
    fp = model.fingerprint
    with Catalogue(db) as cat:
        pts = cat.points(fp)
        ran_census = False
        if pts["id"].size == 0:
            print(f"no points of this sample in {db}: running its census first")
            census(model, seed=search_seed, catalogue=cat, max_time=max_time)
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
    tree = disconnectivity_tree(conn, levels=levels)
    return ConnectStudy(
        model, conn, tree, lowest_barrier(model, conn), n_sad, how, ran_census, str(db)
    )
