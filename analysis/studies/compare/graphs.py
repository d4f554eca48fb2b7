"""The comparison's "Landscape graphs": a tiny network and a small p-spin, side by side.

Both systems are catalogued with the issue-19 machinery and drawn as disconnectivity graphs in
one comparable unit:

* **network**: a tanh MLP with ``graphs.hidden`` hidden units (25 parameters for 2 units on
  the default 10 inputs) and weight decay ``graphs.weight_decay`` on the training data of the
  comparison's teacher–student task at its smallest width (the same data, bit for bit: an
  unrealizable student, so the landscape has several minima); minima by basin-hopping and
  verified index-1 saddles by eigenvector-following, each joined to its two minima
  (:func:`analysis.studies.network_landscapes.explore_landscape`; no census by index);
* **p-spin**: the census of a pure p-spin of ``graphs.pspin_N`` spins with its minima joined
  through the index-1 saddles (:func:`~analysis.studies.compare.landscape.census_task`,
  :func:`analysis.connectivity.connect_minima`); with the presets this is the run's own census
  instance (same key, stored once).

:func:`run_landscape_graphs` computes what is missing and stores it in the run folder (task
keys :func:`graphs_key` and the census key), so a resumed run recomputes nothing;
:func:`landscape_graphs_data` turns the stored results into the plain data of the figure
(:func:`plot_landscape_graphs`) and of the tables ``landscape_graphs.csv`` (one row per
system) and ``landscape_graph_barriers.csv`` (one row per connected saddle).

Unit: ``(E - E_min) / (E_top - E_min)`` per system (:data:`UNIT`), ``E`` the intensive energy
(mean loss of the network, H/N of the p-spin), ``E_min`` the lowest drawn minimum and
``E_top`` the highest saddle joining two minima
(:func:`analysis.studies.network_landscapes.normalized_connections`): 0 at the bottom, 1 at
the top of each graph. The graphs hold the minima joined by at least one connected saddle
(all minima when no saddle is connected), so every drawn energy lies in [0, 1].
"""

from __future__ import annotations

import copy
import time

import numpy as np

from analysis.store import task_key
from analysis.studies.compare.landscape import census_task
from analysis.studies.compare.models import ModelTask, census_key, network_spec, task_seed
from landscapes.random import child, seed_info
from landscapes.spec import build

__all__ = [
    "UNIT",
    "BARRIER_COLUMNS",
    "graphs_enabled",
    "graph_network_spec",
    "graphs_key",
    "graphs_census_config",
    "network_graph_task",
    "run_landscape_graphs",
    "graph_panel",
    "landscape_graphs_data",
    "plot_landscape_graphs",
]

UNIT = "(E - E_min) / (E_top - E_min)"
"""The common unit of the two graphs (0: lowest minimum, 1: highest saddle joining two)."""

_LEVELS = 30  # levels of each disconnectivity tree
_GRAPHS_STREAM = 10  # run-seed child (10,): the network's searches (census 8, slices 9)

BARRIER_COLUMNS = (
    "system",
    "saddle",
    "energy",
    "energy_normalized",
    "min_a",
    "min_b",
    "barrier_a",
    "barrier_b",
    "barrier_a_normalized",
    "barrier_b_normalized",
)
"""Columns of ``tables/landscape_graph_barriers.csv`` (one row per connected saddle)."""


def graphs_enabled(config: dict) -> bool:
    """Whether the run has the section (configurations older than it have no ``graphs``)."""
    return bool(config.get("graphs", {}).get("enabled", False))


def graph_network_spec(config: dict) -> dict:
    """Model spec of the section's network: the teacher–student data of the smallest width.

    The data spec (and its seed record) is that of the comparison's teacher–student task at
    ``min(networks.widths)`` (:func:`~analysis.studies.compare.models.network_spec` with
    that task's model stream), so the training set is the task's own; only the student's
    width and weight decay are the section's.
    """
    g = config["graphs"]
    teacher = ModelTask("teacher_student", int(min(config["networks"]["widths"])))
    spec = network_spec(config, teacher, child(task_seed(config, teacher), "model"))
    spec["params"]["hidden"] = [int(g["hidden"])]
    spec["params"]["weight_decay"] = float(g["weight_decay"])
    return spec


def _budget(config: dict) -> dict:
    g = config["graphs"]
    return {
        k: g[k] for k in ("bh_replicas", "bh_steps", "saddle_minima", "saddle_modes", "ef_starts")
    }


def graphs_key(config: dict) -> str:
    """Run-folder key of the section's network catalogue (what its result depends on)."""
    return task_key(
        {
            "landscape_graphs": "network",
            "spec": graph_network_spec(config),
            "budget": _budget(config),
            "seed": int(config["seed"]),
        }
    )


def graphs_census_config(config: dict) -> dict:
    """The configuration whose census is the section's p-spin (``graphs.pspin_N`` spins,
    ``graphs.pspin_starts`` starts); equal to the run's census when those agree."""
    out = copy.deepcopy(config)
    out["pspin"]["census_size"] = int(config["graphs"]["pspin_N"])
    out["pspin"]["census_starts"] = int(config["graphs"]["pspin_starts"])
    return out


def network_graph_task(config: dict) -> tuple[dict, dict]:
    """Catalogue the section's network: ``(meta, arrays)`` for ``RunFolder.save_task``.

    Basin-hopping (``bh_replicas`` x ``bh_steps``, temperature 0.01 and step 0.5 as
    ``landscapes landscape mlp``), hybrid eigenvector-following from the ``saddle_minima``
    lowest minima along ``saddle_modes`` softest modes and Newton eigenvector-following from
    ``ef_starts`` kicked minima; every point verified (|grad| <= 1e-10, index 0 or 1) and
    every saddle descended to its two minima. Arrays: ``minima_energies`` (ascending),
    ``saddle_energies``, ``saddle_ends`` (s, 2) (NaN: no verified minimum reached),
    ``minima``, ``saddles`` (coordinates). ``meta`` holds the counts, the spec and
    fingerprint, wall and CPU seconds.
    """
    from analysis.studies.network_landscapes import explore_landscape

    g = config["graphs"]
    spec = graph_network_spec(config)
    energy = build(spec)
    root = child(int(config["seed"]), _GRAPHS_STREAM)
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    land = explore_landscape(
        energy,
        name=f"MLP h={int(g['hidden'])} (P = {energy.dim})",
        seed=root,
        bh_replicas=int(g["bh_replicas"]),
        bh_steps=int(g["bh_steps"]),
        bh_temperature=0.01,
        bh_step=0.5,
        quench_gtol=1e-5,
        quench_max_iter=500,
        hef_minima=int(g["saddle_minima"]),
        hef_modes=int(g["saddle_modes"]),
        ef_starts=int(g["ef_starts"]),
        mr_starts=0,
        tef_starts=0,
    )
    ends = np.asarray(land.ends, dtype=float).reshape(-1, 2)
    ends[ends < 0] = np.nan
    meta = {
        "system": "network",
        "name": land.name,
        "energy_unit": land.energy_unit,
        "dim": int(energy.dim),
        "spec": spec,
        "fingerprint": energy.fingerprint,
        "counts": {k: int(v) for k, v in land.counts.items()},
        "seed": seed_info(root),
        "seconds": time.perf_counter() - t_wall,
        "cpu_seconds": time.process_time() - t_cpu,
    }
    arrays = {
        "minima_energies": np.asarray(land.minima_energies, dtype=float),
        "saddle_energies": np.asarray(land.saddle_energies, dtype=float),
        "saddle_ends": ends,
        "minima": np.asarray(land.minima, dtype=float).reshape(-1, energy.dim),
        "saddles": np.asarray(land.saddles, dtype=float).reshape(-1, energy.dim),
    }
    return meta, arrays


def run_landscape_graphs(config: dict, run) -> list[str]:
    """Compute and store whatever the section lacks in ``run``; returns the keys computed.

    Nothing when the section is disabled; the p-spin census is shared with the run's own
    when the keys agree (the presets), so it is computed at most once per run.
    """
    if not graphs_enabled(config):
        return []
    done = []
    k = graphs_key(config)
    if not run.has_task(k):
        meta, arrays = network_graph_task(config)
        meta["key"] = k
        run.save_task(k, meta, **arrays)
        done.append(k)
    cc = graphs_census_config(config)
    k = census_key(cc)
    if not run.has_task(k):
        t = time.process_time()
        meta, arrays = census_task(cc)
        meta.update(key=k, cpu_seconds=time.process_time() - t)
        run.save_task(k, meta, **arrays)
        done.append(k)
    return done


# ----------------------------------------------------------------------------- data
def _ends_int(ends: np.ndarray) -> np.ndarray:
    e = np.asarray(ends, dtype=float).reshape(-1, 2)
    return np.where(np.isfinite(e), e, -1).astype(int)


def graph_panel(
    title: str,
    energy_unit: str,
    dim: int,
    minima_energies: np.ndarray,
    saddle_energies: np.ndarray,
    ends: np.ndarray,
) -> tuple[dict, dict, list[dict]]:
    """One system's graph in :data:`UNIT`: ``(panel, summary row, barrier rows)``.

    ``ends`` (s, 2) index ``minima_energies`` (-1 or NaN: no verified minimum reached). The
    panel keeps the minima joined by a connected saddle (all of them when none is), its
    energies normalized by :func:`analysis.studies.network_landscapes
    .normalized_connections`: ``minima`` (m,), ``saddles`` (c,), ``ends`` (c, 2) into the
    kept minima. Barriers are the saddle's energy above each of its two minima, in the
    intensive unit and in :data:`UNIT`.
    """
    from analysis.studies.network_landscapes import Landscape, normalized_connections

    E = np.asarray(minima_energies, dtype=float)
    S = np.asarray(saddle_energies, dtype=float)
    ends = _ends_int(ends)
    joined = np.all(ends >= 0, axis=1) if ends.size else np.zeros(0, bool)
    keep = np.unique(ends[joined]) if joined.any() else np.arange(E.size)
    remap = np.full(E.size, -1, dtype=int)
    remap[keep] = np.arange(keep.size)
    sub_ends = remap[ends[joined]] if joined.any() else np.zeros((0, 2), dtype=int)
    empty = np.zeros(0)
    land = Landscape(
        name=title,
        energy_unit=energy_unit,
        dim=int(dim),
        n_zero_modes=0,
        minima_energies=E[keep],
        saddle_energies=S[joined],
        ends=sub_ends,
        census_energies=empty,
        census_index_fractions=empty,
        census_indices=np.zeros(0, dtype=int),
        flat_energies=empty,
        flat_grad_norms=empty,
        flat_null_fractions=empty,
        counts={},
        timings={},
    )
    G, scale = normalized_connections(land)
    m_norm = np.array([G.nodes[i]["energy"] for i in range(keep.size)])
    s_norm = (S[joined] - scale["E_min"]) / scale["span"]
    bar = S[joined][:, None] - E[keep][sub_ends] if sub_ends.size else np.zeros((0, 2))
    rows = [
        {
            "system": title,
            "saddle": int(j),
            "energy": float(S[joined][j]),
            "energy_normalized": float(s_norm[j]),
            "min_a": int(sub_ends[j, 0]),
            "min_b": int(sub_ends[j, 1]),
            "barrier_a": float(bar[j, 0]),
            "barrier_b": float(bar[j, 1]),
            "barrier_a_normalized": float(bar[j, 0] / scale["span"]),
            "barrier_b_normalized": float(bar[j, 1] / scale["span"]),
        }
        for j in range(sub_ends.shape[0])
    ]
    import networkx as nx

    low = bar.min(axis=1) / scale["span"] if bar.size else empty  # escape from the higher end
    summary = {
        "system": title,
        "degrees_of_freedom": int(dim),
        "energy_unit": energy_unit,
        "minima": int(E.size),
        "minima_drawn": int(keep.size),
        "saddles": int(S.size),
        "saddles_connected": int(joined.sum()),
        "components": int(nx.number_connected_components(G)) if keep.size else 0,
        "E_min": scale["E_min"],
        "E_top": scale["E_top"],
        "E_top_minus_E_min": scale["E_top"] - scale["E_min"],
        "barrier_low_median_normalized": float(np.median(low)) if low.size else float("nan"),
        "barrier_low_max_normalized": float(np.max(low)) if low.size else float("nan"),
    }
    panel = {"title": title, "minima": m_norm, "saddles": s_norm, "ends": sub_ends}
    return panel, summary, rows


def landscape_graphs_data(run, config: dict) -> dict | None:
    """Plain data of the section from the results stored in ``run`` (None when disabled or
    not computed): ``panels`` (network first), ``summary`` and ``barriers`` (lists of
    rows), ``unit``, ``network`` and ``pspin`` (their stored meta)."""
    if not graphs_enabled(config):
        return None
    kn, kp = graphs_key(config), census_key(graphs_census_config(config))
    if not (run.has_task(kn) and run.has_task(kp)):
        return None
    net_meta, net = run.load_task(kn)
    ps_meta, ps = run.load_task(kp)
    g = config["graphs"]
    out = {"unit": UNIT, "panels": [], "summary": [], "barriers": []}
    act = config["networks"]["activation"]
    net_title = (
        f"{act} MLP, {int(g['hidden'])} hidden, wd {float(g['weight_decay']):g} "
        f"(P = {int(net_meta['dim'])}), teacher-student data"
    )
    systems = [(net_title, net_meta["energy_unit"], int(net_meta["dim"]), net)]
    if "minima_energies" in ps:
        ps_title = f"spherical {int(ps_meta['p'])}-spin, N = {int(ps_meta['size'])}"
        systems.append((ps_title, "H/N (energy per spin)", int(ps_meta["size"]), ps))
    for title, unit, dim, a in systems:
        if np.size(a["minima_energies"]) == 0:
            continue
        panel, summary, rows = graph_panel(
            title, unit, dim, a["minima_energies"], a["saddle_energies"], a["saddle_ends"]
        )
        span = summary["E_top"] - summary["E_min"]
        panel["title"] = (
            f"{title}\n{unit}: E_min = {summary['E_min']:.4g}, E_top - E_min = {span:.3g}"
        )
        out["panels"].append(panel)
        out["summary"].append(summary)
        out["barriers"].extend(rows)
    out["network"], out["pspin"] = net_meta, ps_meta
    return out if out["panels"] else None


# ----------------------------------------------------------------------------- figure
def plot_landscape_graphs(data: dict):
    """The section's figure: one disconnectivity graph per system in :data:`UNIT`."""
    import networkx as nx

    from analysis.connectivity import disconnectivity_tree
    from analysis.plots.landscape import plot_disconnectivity_panels

    panels = []
    for p in data["panels"]:
        G = nx.MultiGraph()
        for i, e in enumerate(p["minima"]):
            G.add_node(i, energy=float(e))
        for s, (a, b) in enumerate(np.asarray(p["ends"], dtype=int).reshape(-1, 2)):
            G.add_edge(int(a), int(b), energy=float(p["saddles"][s]), saddle=s)
        panels.append((p["title"], disconnectivity_tree(G, _LEVELS)))
    return plot_disconnectivity_panels(panels, f"{data['unit']} (per system)")
