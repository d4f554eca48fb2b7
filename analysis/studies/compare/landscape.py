"""The comparison's landscape pictures: slices and paths through endpoints, a small census.

:func:`slice_task` rebuilds the largest model of a family from its spec (fingerprint checked)
and slices the landscape through a stored GD endpoint; :func:`census_task` enumerates the
critical points of one small p-spin instance for the index-vs-energy figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.connectivity import connect_minima
from analysis.critical import census
from analysis.dynamics import gradient_descent
from analysis.slices import path_between, pca_plane, slice_1d, slice_2d
from analysis.studies.compare.models import (
    FAMILY_ID,
    ModelTask,
    network_spec,
    pspin_spec,
    task_seed,
)
from analysis.studies.compare.protocol import _pad
from landscapes.energy import Energy
from landscapes.random import child, seed_info
from landscapes.spec import build

__all__ = ["slice_task", "census_task", "slice_at_minimum", "path_between_minima"]

_CENSUS_STREAM = 8  # run-seed child (8, N): the census instance
_SLICE_STREAM = 9  # run-seed child (9, family): slice directions and PCA trajectories


def slice_task(
    config: dict, tasks_meta: Sequence[tuple[dict, dict]], family: str, n_points: int = 41
):
    """Landscape slices through the first GD endpoint of the largest size of ``family``.

    Rebuilds the energy from its seeds (sample 0 for the p-spin), checks its fingerprint
    against the stored one, and returns ``(meta, arrays)``: a 1D slice along each of two
    random normalized directions (geodesic on the sphere, filter-normalized for networks), a
    2D slice on their plane, and the path (geodesic / straight) to the second endpoint.
    """
    group = [(m, a) for m, a in tasks_meta if m["family"] == family]
    if not group:
        raise ValueError(f"no stored task of family {family!r}")
    meta, arrays = max(group, key=lambda t: t[0]["size"])
    task = ModelTask(family, int(meta["size"]))
    ss = task_seed(config, task)
    if family == "pspin":
        spec = pspin_spec(task.size, config["pspin"]["p"], child(ss, 0, "model"))
        span = (-np.pi / 2, np.pi / 2)
    else:
        spec = network_spec(config, task, child(ss, "model"))
        span = (-1.0, 1.0)
    energy = build({**spec, "fingerprint": meta["fingerprints"][0]})
    x, y = arrays["x_pair"][0], arrays["x_pair"][1]
    s_dir = child(int(config["seed"]), _SLICE_STREAM, FAMILY_ID[family])
    s2 = slice_2d(energy, x, span=span, n_points=21, seed=s_dir)
    curves = [
        slice_1d(
            energy,
            x,
            direction=d,
            span=span,
            n_points=n_points,
            normalization="none" if s2.normalization in ("filter", "layer", "model") else "auto",
        )
        for d in s2.directions
    ]
    path = path_between(energy, x, y, n_points=n_points)
    pca = _pca_trajectories(config, family, energy, s_dir)
    out_meta = {
        "family": family,
        "size": task.size,
        "normalization": s2.normalization,
        "coordinate": s2.coordinate,
        "intensive_name": s2.intensive_name,
        "path_kind": path.kind,
        "path_length": path.length,
        "barrier": path.barrier,
        "center_energy": s2.center_energy,
    }
    out = {
        "alphas": curves[0].alphas,
        "slice1d": np.stack([c.energies for c in curves]),
        "grid": s2.alphas,
        "slice2d": s2.energies,
        "path_t": path.t,
        "path": path.energies,
        **pca,
    }
    return out_meta, out


def _pca_trajectories(config: dict, family: str, energy: Energy, seed, n_traj: int = 3) -> dict:
    """GD trajectories of ``n_traj`` fresh replicas projected on their PCA plane.

    The replicas start from ``energy.random_point`` (stream spawned from ``seed``) and run
    the family's GD protocol with their points recorded; :func:`analysis.slices.pca_plane`
    (through the first replica's endpoint) projects them. Returns ``pca_coords`` (n_traj,
    T, 2; NaN after a replica stopped), ``pca_energy`` (n_traj, T) intensive energies along
    the way and ``pca_evr`` (2,) the explained variance ratios.
    """
    if family == "pspin":
        c = config["pspin"]
        gd = dict(step=c["step"], max_steps=c["max_steps"], gtol=c["gtol"])
    else:
        c = config["networks"]
        gd = dict(
            step=c["gd_step"],
            max_steps=c["gd_steps"],
            gtol=c["gtol"],
            schedule=c.get("gd_schedule", "fixed"),
        )
    every = max(1, gd["max_steps"] // 300)
    x0 = energy.random_point(child(seed, 0), size=n_traj)
    r = gradient_descent(energy, x0, record_every=every, record_points=True, progress=False, **gd)
    t = r.trajectory_steps
    trajs, energies = [], []
    for k in range(n_traj):
        keep = (t < r.steps[k]) | (t == t[t >= r.steps[k]].min())
        trajs.append(r.trajectory_x[keep, k])
        energies.append(r.trajectory_energies[keep, k])
    plane = pca_plane(trajs)
    return {
        "pca_coords": np.stack(_same_length(plane.coords)),
        "pca_energy": _pad([np.asarray(e) for e in energies]),
        "pca_evr": np.asarray(plane.explained_variance_ratio, dtype=float),
    }


def _same_length(coords) -> list[np.ndarray]:
    n = max(c.shape[0] for c in coords)
    return [np.vstack([c, np.full((n - c.shape[0], 2), np.nan)]) for c in coords]


def census_task(config: dict) -> tuple[dict, dict]:
    """Critical points of one small p-spin instance, for the index-vs-energy figure.

    One coupling draw at ``N = pspin.census_size`` (the run seed's child (8, N)) and a
    census (:func:`analysis.critical.census`) over a fixed number of random starts
    (``pspin.census_starts``; a start budget, not a time budget, so the result is
    reproducible). Returns ``(meta, arrays)`` with every verified critical point's intensive
    energy ``energies`` (H/N) and index ``indices``, and, when it found minima and index-1
    saddles, the minima joined through those saddles
    (:func:`analysis.connectivity.connect_minima`): ``minima_energies``,
    ``saddle_energies`` and ``saddle_ends`` (s, 2) (the two minima a saddle joins; NaN where
    a descent reached no verified minimum), the data of the disconnectivity graph.
    """
    c = config["pspin"]
    n = int(c["census_size"])
    if n < 4:
        raise ValueError(f"pspin.census_size must be >= 4 for a census; got {n}")
    root = child(int(config["seed"]), _CENSUS_STREAM, n)
    s_coup, s_starts = child(root, "model"), child(root, 1)
    model = build(pspin_spec(n, c["p"], s_coup))
    res = census(
        model,
        seed=s_starts,
        batch_size=min(128, int(c["census_starts"])),
        min_starts=int(c["census_starts"]),
        max_starts=int(c["census_starts"]),
        partners=False,  # a fixed start budget: exactly census_starts random starts
        progress=False,
    )
    meta = {
        "family": "pspin",
        "size": n,
        "p": int(c["p"]),
        "starts": int(c["census_starts"]),
        "n_points": int(res.energies.size),
        "stopped_by": res.stopped_by,
        "fingerprint": model.fingerprint,
        "seed": seed_info(s_starts),
    }
    arrays = {"energies": np.asarray(res.energies), "indices": np.asarray(res.indices)}
    if int(np.sum(res.indices == 0)) >= 1 and int(np.sum(res.indices == 1)) >= 1:
        # minima joined through the index-1 saddles: the disconnectivity graph's data
        conn = connect_minima(model, res.points, res.indices)
        ends = np.asarray(conn.ends, dtype=float)
        ends[ends < 0] = np.nan  # a descent that reached no verified minimum: not measured
        arrays.update(
            minima_energies=np.asarray(conn.minima_energies, dtype=float),
            saddle_energies=np.asarray(conn.saddle_energies, dtype=float),
            saddle_ends=ends,
        )
        meta["n_minima_connected"] = int(conn.minima_energies.size)
        meta["n_saddles"] = int(conn.saddle_energies.size)
    return meta, arrays


def slice_at_minimum(
    energy: Energy, *, gd: dict, steps: int, seed: int, points: int, half: float
) -> tuple[dict, dict]:
    """A GD minimum from a random start and two slices through it: ``(meta, arrays)``.

    The descent (``gd``: step, gtol) runs at most ``steps`` steps from
    ``energy.random_point(seed)``; two random directions (seeded by ``seed``; geodesic on the
    sphere, filter-normalized for networks) give 1D slices of ``points`` points over
    ``[-half, half]`` and a 2D slice on their plane (at most 31 points a side).
    """
    r = gradient_descent(
        energy, energy.random_point(seed, size=1), max_steps=steps, progress=None, **gd
    )
    curved = energy.manifold.is_compact
    s2 = slice_2d(energy, r.x[0], span=(-half, half), n_points=min(points, 31), seed=seed)
    curves = [
        slice_1d(
            energy,
            r.x[0],
            direction=d,
            span=(-half, half),
            n_points=points,
            normalization="auto" if curved else "none",
        )
        for d in s2.directions
    ]
    meta = {
        **_endpoints_meta(energy, r),
        "normalization": s2.normalization,
        "coordinate": s2.coordinate,
    }
    arrays = {
        "alphas": curves[0].alphas,
        "slice1d": np.stack([c.energies for c in curves]),
        "grid": s2.alphas,
        "slice2d": s2.energies,
        "directions": s2.directions,
        "x": r.x[0],
    }
    return meta, arrays


def path_between_minima(
    energy: Energy, *, gd: dict, steps: int, seed: int, points: int
) -> tuple[dict, dict]:
    """Two GD minima from two random starts and the energy along the path between them.

    The path is the manifold's geodesic (a great-circle arc on the sphere, a segment in
    Euclidean space) sampled at ``points`` points; returns ``(meta, arrays)``.
    """
    r = gradient_descent(
        energy, energy.random_point(seed, size=2), max_steps=steps, progress=None, **gd
    )
    path = path_between(energy, r.x[0], r.x[1], n_points=points)
    meta = {
        **_endpoints_meta(energy, r),
        "path_kind": path.kind,
        "path_length": path.length,
        "barrier": path.barrier,
    }
    return meta, {"path_t": path.t, "path": path.energies, "x": r.x}


def _endpoints_meta(energy: Energy, r) -> dict:
    return {
        "intensive_name": getattr(energy, "intensive_name", "energy"),
        "converged": r.converged.tolist(),
        "endpoint_energies": r.intensive.tolist(),
    }
