"""Landscapes of small networks beside the Lennard-Jones reference and the p-spin glass.

The protocol (:func:`explore_landscape`) runs on any Energy:

1. **minima**: basin-hopping (:func:`analysis.critical.basinhopping.basin_hopping`), every
   distinct quench polished by Newton steps and verified (|grad| <= 1e-10 relative to the
   scale, index 0 modulo the declared symmetries), deduplicated modulo symmetries;
2. **index-1 saddles** from three single-ended sources, each verified (|grad| <= 1e-10,
   index 1): hybrid eigenvector-following from the lowest minima along their softest modes
   (:func:`analysis.critical.transition.hybrid_eigenvector_following`), Newton
   eigenvector-following with target index 1 from minima kicked in random directions
   (:func:`analysis.critical.newton_search`), and the index-1 points of the Newton-MR census;
   every distinct saddle is connected to its two minima by descents along +- its unstable
   direction with an adaptive push-off, continued through higher-index critical points
   where a descent stalls in a symmetric subspace
   (:func:`analysis.critical.saddle_descent.descend_from_saddles`), new minima joining;
   with ``rounds > 1`` the searches are repeated from the minima found since the last round;
3. **census by index**: Newton-MR (:func:`analysis.critical.newton_mr.newton_mr`) from random
   starts at several scales and from kicked minima, and index-targeted eigenvector-following
   (Newton steps uphill along the k lowest modes, k drawn up to half the dimension) from
   random starts, and an index ladder (:func:`analysis.critical.transition.climb_index`:
   index k -> k + 1 along the softest stable mode of the highest-index points found);
   critical points of every index are kept with their energy and index fraction,
   gradient-flat end points of Newton-MR as their own category.

Energies in a :class:`Landscape` are intensive (``energy / energy.scale``): the mean loss of
a network, the cluster total (epsilon) of a Lennard-Jones cluster, H/N of a p-spin. For the
side-by-side disconnectivity graphs every landscape is drawn in the same *normalized* unit
``(E - E_min) / (E_top - E_min)``: 0 at its lowest minimum, 1 at its highest saddle that joins
two minima (:func:`normalized_connections`), so the shapes (one funnel, many competing
basins) compare across energies whose natural units differ.

:func:`pspin_landscape` gives the same :class:`Landscape` for a spherical p-spin sample,
from the complete census of :mod:`analysis.critical` and :func:`analysis.connectivity
.connect_minima`; :func:`network_model` (:mod:`analysis.studies.network_setups`) builds the network setups
(XOR-like data, the checkerboard, random labels, a digits subset) that ``landscapes
landscape mlp`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from analysis.critical import newton_search, verify
from analysis.critical.basinhopping import MinimaRegistry, basin_hopping, verified_minima
from analysis.critical.newton_mr import newton_mr
from analysis.critical.saddle_descent import descend_from_saddles
from analysis.critical.transition import (
    climb_index,
    hybrid_eigenvector_following,
    lowest_modes,
    symmetry_basis,
)
from analysis.studies.network_setups import (
    DATASETS,
    checkerboard_data,
    network_model,
    random_label_data,
    xor_data,
)
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_generator, as_seed_sequence, child, seed_info

__all__ = [
    "DATASETS",
    "xor_data",
    "checkerboard_data",
    "random_label_data",
    "network_model",
    "Landscape",
    "explore_landscape",
    "pspin_landscape",
    "normalized_connections",
    "store_landscape",
]


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class Landscape:
    """Minima, connected index-1 saddles and a census by index of one energy.

    Attributes
    ----------
    name : str
        Label of the system.
    energy_unit : str
        What the (intensive) energies are.
    dim : int
        Dimension of the energy (parameters, coordinates, spins).
    n_zero_modes : int
        Declared symmetry directions at the lowest minimum (excluded from indices).
    minima_energies : ndarray (m,)
        Verified distinct minima, intensive energies, ascending.
    saddle_energies : ndarray (s,)
        Verified distinct index-1 saddles.
    ends : ndarray (s, 2)
        Minima each saddle joins (-1: the descent reached no verified minimum).
    census_energies, census_index_fractions, census_indices : ndarray (c,)
        Distinct verified critical points of every index (minima and saddles included).
    flat_energies, flat_grad_norms, flat_null_fractions : ndarray (f,)
        Gradient-flat end points of the Newton-MR census (not critical points).
    counts : dict
        Attempts and outcomes of every stage.
    timings : dict
        Seconds per stage.
    seed : dict
        ``seed_info`` of the root seed.
    minima, saddles : ndarray
        Coordinates (for the catalogue and the arrays file).
    """

    name: str
    energy_unit: str
    dim: int
    n_zero_modes: int
    minima_energies: np.ndarray
    saddle_energies: np.ndarray
    ends: np.ndarray
    census_energies: np.ndarray
    census_index_fractions: np.ndarray
    census_indices: np.ndarray
    flat_energies: np.ndarray
    flat_grad_norms: np.ndarray
    flat_null_fractions: np.ndarray
    counts: dict
    timings: dict
    seed: dict = field(default_factory=dict)
    minima: np.ndarray | None = None
    saddles: np.ndarray | None = None

    @property
    def n_connected(self) -> int:
        """Saddles joined to two verified minima."""
        return int(np.sum(np.all(self.ends >= 0, axis=1))) if self.ends.size else 0

    def connections(self):
        """The minima/saddle graph as :class:`analysis.connectivity.Connections`."""
        from analysis.connectivity import Connections

        G = nx.MultiGraph()
        for j, e in enumerate(self.minima_energies):
            G.add_node(j, energy=float(e))
        for s, (a, b) in enumerate(self.ends):
            if a >= 0 and b >= 0:
                G.add_edge(int(a), int(b), energy=float(self.saddle_energies[s]), saddle=s)
        dim = self.dim
        return Connections(
            graph=G,
            minima=self.minima if self.minima is not None else np.zeros((0, dim)),
            minima_energies=self.minima_energies,
            saddles=self.saddles if self.saddles is not None else np.zeros((0, dim)),
            saddle_energies=self.saddle_energies,
            ends=self.ends,
            n_components=nx.number_connected_components(G) if G.number_of_nodes() else 0,
        )

    def barriers(self) -> np.ndarray:
        """``(s, 2)`` saddle energy minus each end's energy (NaN for a missing end)."""
        out = np.full(self.ends.shape, np.nan)
        for c in range(2):
            ok = self.ends[:, c] >= 0
            out[ok, c] = self.saddle_energies[ok] - self.minima_energies[self.ends[ok, c]]
        return out

    def tables(self) -> dict[str, dict]:
        """Tidy tables: ``minima``, ``saddles`` (ends, barriers), ``critical`` and ``flat``."""
        bar = self.barriers()
        return {
            "minima": {
                "minimum": np.arange(self.minima_energies.size),
                "energy": self.minima_energies,
            },
            "saddles": {
                "saddle": np.arange(self.saddle_energies.size),
                "energy": self.saddle_energies,
                "min_a": self.ends[:, 0] if self.ends.size else np.zeros(0, int),
                "min_b": self.ends[:, 1] if self.ends.size else np.zeros(0, int),
                "barrier_a": bar[:, 0] if bar.size else np.zeros(0),
                "barrier_b": bar[:, 1] if bar.size else np.zeros(0),
            },
            "critical": {
                "energy": self.census_energies,
                "index": self.census_indices,
                "index_fraction": self.census_index_fractions,
            },
            "flat": {
                "energy": self.flat_energies,
                "grad_norm": self.flat_grad_norms,
                "null_fraction": self.flat_null_fractions,
            },
        }

    def summary(self) -> dict:
        """Counts for reports and benchmarks.

        ``minima`` and ``saddles`` count points distinct modulo the energy's declared and
        canonical symmetries; ``*_distinct_energies`` count distinct energy values, a lower
        bound on the count modulo *every* symmetry (e.g. a dataset's own symmetries, which
        map minima of a network to other minima of the same loss);
        ``saddles_connected_via_higher_index`` counts the connected saddles one of whose
        descents stopped at a higher-index critical point and was continued from there.
        """
        idx = self.census_index_fractions
        return {
            "system": self.name,
            "dim": self.dim,
            "minima": int(self.minima_energies.size),
            "saddles": int(self.saddle_energies.size),
            "saddles_connected": self.n_connected,
            "saddles_connected_via_higher_index": int(
                self.counts.get("connect_via_higher_index", 0)
            ),
            "minima_distinct_energies": _n_distinct(self.minima_energies),
            "saddles_distinct_energies": _n_distinct(self.saddle_energies),
            "critical_points": int(idx.size),
            "max_index_fraction": float(idx.max()) if idx.size else float("nan"),
            "gradient_flat": int(self.flat_energies.size),
            "lowest_minimum": float(self.minima_energies.min())
            if self.minima_energies.size
            else float("nan"),
        }


def _n_distinct(e: np.ndarray, rtol: float = 1e-9) -> int:
    """Number of distinct energy values (points related by a symmetry share one)."""
    e = np.sort(np.asarray(e, dtype=np.float64))
    if e.size == 0:
        return 0
    gaps = np.diff(e) > rtol * np.maximum(1.0, np.abs(e[1:]))
    return int(1 + np.sum(gaps))


# ----------------------------------------------------------------------------- protocol
def _unit_directions(rng, energy, X):
    """Random unit directions orthogonal to the declared symmetry directions at each point."""
    U = rng.standard_normal(X.shape)
    for k in range(X.shape[0]):  # symmetry bases are per point; a handful of points
        Q = symmetry_basis(energy, X[k])
        U[k] -= Q.T @ (Q @ U[k])
    return U / np.linalg.norm(U, axis=1, keepdims=True)


def _index_ladder(energy, crit, crit_idx, add_census, *, rounds, width, step, gtol) -> dict:
    """Climb one index at a time from the highest-index critical points not yet climbed
    from (:func:`~analysis.critical.transition.climb_index`); returns the stage's counts."""
    climbed: set[int] = set()
    n_starts = n_new = 0
    for _ in range(rounds):
        idx = np.asarray(crit_idx)
        rows = [int(r) for r in np.lexsort((crit.E, -idx)) if int(r) not in climbed][:width]
        climbed.update(rows)
        Z, _ = climb_index(energy, crit.X[rows], idx[rows], step=step, gtol=gtol)
        if not Z.shape[0]:
            break
        n0 = len(crit)
        add_census(Z, verify(energy, Z, gtol=gtol))
        n_starts += Z.shape[0]
        n_new += len(crit) - n0
        if len(crit) == n0:
            break
    return {"ladder_starts": n_starts, "ladder_new_points": n_new}


def explore_landscape(
    energy: Energy,
    *,
    name: str = "",
    seed: SeedLike = 0,
    bh_replicas: int = 16,
    bh_steps: int = 30,
    bh_temperature: float = 1.0,
    bh_step: float | None = None,
    quench_gtol: float = 1e-6,
    quench_max_iter: int = 2000,
    hef_minima: int = 10,
    hef_modes: int = 2,
    hef_options: dict | None = None,
    ef_starts: int = 64,
    ef_kick: float = 0.1,
    mr_starts: int = 64,
    mr_scales: tuple = (0.5, 1.0, 2.0, 4.0),
    mr_kick: float = 0.3,
    mr_max_iter: int = 100,
    tef_starts: int = 0,
    tef_max_fraction: float = 0.5,
    tef_ladder: int = 0,
    tef_ladder_width: int = 16,
    tef_ladder_step: float = 0.1,
    rounds: int = 1,
    key_tol: float = 1e-5,
    gtol: float = 1e-10,
) -> Landscape:
    """Minima, connected index-1 saddles and a census by index (see the module docstring).

    Parameters
    ----------
    energy : Energy
        On Euclidean space (dense Hessians of dimension ``dim`` are formed: keep it at a few
        hundred at most).
    name : str
        Label.
    seed : seed-like
        Root seed: basin-hopping uses ``child(root, "search", 0)``, the saddle searches
        ``child(root, "search", 1)``, the Newton-MR starts ``child(root, "search", 2)``, the
        index-targeted starts ``child(root, "search", 3)``.
    bh_replicas, bh_steps, bh_temperature, bh_step : int, int, float, float
        Basin-hopping (temperature in units of ``energy.energy``).
    quench_gtol, quench_max_iter : float, int
        L-BFGS quenches.
    hef_minima, hef_modes : int
        Hybrid eigenvector-following from the ``hef_minima`` lowest minima along their
        ``hef_modes`` softest modes (both signs).
    hef_options : dict, optional
        Options of :func:`~analysis.critical.transition.hybrid_eigenvector_following`.
    ef_starts, ef_kick : int, float
        Newton eigenvector-following (target index 1) from minima kicked by ``ef_kick``.
    mr_starts, mr_scales, mr_kick, mr_max_iter : int, tuple, float, int
        Newton-MR census: ``mr_starts`` random points (``energy.random_point`` times each
        scale in turn) and as many minima kicked by ``mr_kick``.
    tef_starts, tef_max_fraction : int, float
        Index-targeted eigenvector-following (:func:`analysis.critical.newton_search`, mode
        ``"index"``) from ``tef_starts`` random points at the ``mr_scales``, target indices
        drawn uniformly in ``0..tef_max_fraction * dim``: reaches the high-index saddles that
        Newton-MR from random starts rarely does.
    tef_ladder, tef_ladder_width, tef_ladder_step : int, int, float
        Index ladder (after the census): up to ``tef_ladder`` rounds, each from the
        ``tef_ladder_width`` verified critical points of highest index not yet climbed from;
        from a point of index k, Newton eigenvector-following with target index k + 1 starts
        ``tef_ladder_step`` away along +- its (k+1)-th Hessian eigenvector (its softest
        stable mode), the way hybrid eigenvector-following climbs from a minimum to an
        index-1 saddle. Stops early when a round finds no new point.
    rounds : int
        Rounds of saddle searches: after the first (from the basin-hopping minima) and the
        connections, each further round runs hybrid and Newton eigenvector-following from
        the minima found since the previous round (by the descents from saddles and the
        census) and connects the new saddles; stops early when no new minimum appeared.
    key_tol : float
        Two verified points are the same when their energies agree (relative 1e-7) and their
        structure keys (:func:`~analysis.critical.basinhopping.structure_keys`) within this.
    gtol : float
        Verification tolerance on |grad| relative to the scale.
    """
    root = as_seed_sequence(seed)
    scale = float(energy.scale)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    bh = basin_hopping(
        energy,
        n_replicas=bh_replicas,
        n_steps=bh_steps,
        temperature=bh_temperature,
        step_size=bh_step,
        seed=child(root, "search", 0),
        gtol=quench_gtol,
        max_iter=quench_max_iter,
    )
    Y, ver = verified_minima(energy, bh.minima, gtol=gtol)
    ok = (ver.kind == "critical") & (ver.indices == 0)
    mins = MinimaRegistry(energy, key_tol=key_tol)
    mins.add(Y[ok], ver.energies[ok], 0)
    counts.update(bh_quenches=bh.n_quenches, bh_candidates=bh.n_minima, bh_verified=int(ok.sum()))
    timings["basin_hopping"] = time.perf_counter() - t0

    # ---- index-1 saddles
    t1 = time.perf_counter()
    rng = as_generator(child(root, "search", 1))
    sads = MinimaRegistry(energy, key_tol=key_tol)
    sad_u: list[np.ndarray] = []

    def add_saddles(Z, vz):
        good = (vz.kind == "critical") & (vz.indices == 1)
        for i in np.flatnonzero(good):
            n0 = len(sads)
            sads.add(Z[i : i + 1], vz.energies[i : i + 1], 0)
            if len(sads) > n0:
                sad_u.append(vz.unstable[i] / np.linalg.norm(vz.unstable[i]))
        return int(good.sum())

    def search_from(rows):
        """HEF from the ``hef_minima`` lowest minima of ``rows``, EF from kicked ones."""
        n_hef = n_hef_ok = 0
        rows = np.asarray(rows, dtype=int)
        for r in rows[np.argsort(mins.E[rows])][: int(hef_minima)]:
            x = mins.X[r]
            kmax = energy.dim - symmetry_basis(energy, x).shape[0] - 1
            if hef_modes <= 0 or kmax < 1:
                break
            _, V = lowest_modes(energy, x, min(int(hef_modes), kmax))
            for v in V:
                for sgn in (1.0, -1.0):
                    n_hef += 1
                    ts = hybrid_eigenvector_following(
                        energy, x + 0.1 * sgn * v, v0=sgn * v, follow="overlap", **hef_kw
                    )
                    if ts.verified:
                        n_hef_ok += 1
                        add_saddles(ts.x[None], verify(energy, ts.x[None], gtol=gtol))
        counts["hef_attempts"] = counts.get("hef_attempts", 0) + n_hef
        counts["hef_verified"] = counts.get("hef_verified", 0) + n_hef_ok
        if rows.size and ef_starts > 0:
            src = rows[rng.integers(0, rows.size, size=int(ef_starts))]
            X0 = mins.X[src] + ef_kick * _unit_directions(rng, energy, mins.X[src])
            Z, _, _ = newton_search(
                energy,
                X0,
                mode="index",
                target_index=1,
                max_iter=150,
                gtol=gtol,
                trust_radius=ef_kick,
                adaptive=True,
            )
            counts["ef_attempts"] = counts.get("ef_attempts", 0) + int(ef_starts)
            n_ok = add_saddles(Z, verify(energy, Z, gtol=gtol))
            counts["ef_verified"] = counts.get("ef_verified", 0) + n_ok

    hef_kw = hef_options or {}
    n_searched = len(mins)
    search_from(np.arange(n_searched))
    timings["saddle_searches"] = time.perf_counter() - t1

    # ---- Newton-MR census
    t2 = time.perf_counter()
    rng_mr = as_generator(child(root, "search", 2))
    starts = []
    if mr_starts > 0:
        sc = np.resize(np.asarray(mr_scales, dtype=float), int(mr_starts))
        R = energy.random_point(rng_mr, size=int(mr_starts))
        starts.append(R * sc[:, None])
        if len(mins):
            src = rng_mr.integers(0, len(mins), size=int(mr_starts))
            starts.append(mins.X[src] + mr_kick * _unit_directions(rng_mr, energy, mins.X[src]))
    crit = MinimaRegistry(energy, key_tol=key_tol)
    crit_idx: list[int] = []
    crit_frac: list[float] = []
    flat = {"e": [], "g": [], "n": []}

    def add_census(Xc, vc):
        """Distinct verified critical points of any index; index 0 and 1 join the graph."""
        isc = vc.kind == "critical"
        d = energy.dim - vc.n_zero_modes
        for i in np.flatnonzero(isc):
            n0 = len(crit)
            crit.add(Xc[i : i + 1], vc.energies[i : i + 1], 0)
            if len(crit) > n0:
                crit_idx.append(int(vc.indices[i]))
                crit_frac.append(float(vc.indices[i]) / max(int(d[i]), 1))
        add_saddles(Xc, vc)
        m0 = isc & (vc.indices == 0)
        if m0.any():
            mins.add(Xc[m0], vc.energies[m0], 0)

    if starts:
        mr = newton_mr(energy, np.concatenate(starts), max_iter=mr_max_iter, gtol=gtol)
        counts.update({f"mr_{k}": v for k, v in mr.counts().items()})
        fl = mr.kind == "flat"
        flat = {"e": mr.energies[fl], "g": mr.grad_norms[fl], "n": mr.null_fractions[fl]}
        isc = mr.kind == "critical"
        if isc.any():
            add_census(mr.x[isc], verify(energy, mr.x[isc], gtol=gtol))
    timings["newton_mr"] = time.perf_counter() - t2
    t2 = time.perf_counter()
    if tef_starts > 0:
        rng_t = as_generator(child(root, "search", 3))
        sc = np.resize(np.asarray(mr_scales, dtype=float), int(tef_starts))
        X0 = energy.random_point(rng_t, size=int(tef_starts)) * sc[:, None]
        kmax = int(tef_max_fraction * energy.dim)
        tgt = rng_t.integers(0, kmax + 1, size=int(tef_starts))
        Z, _, _ = newton_search(
            energy,
            X0,
            mode="index",
            target_index=tgt,
            max_iter=200,
            gtol=gtol,
            trust_radius=0.3,
            adaptive=True,
        )
        vz = verify(energy, Z, gtol=gtol)
        counts.update({f"tef_{k}": int(np.sum(vz.kind == k)) for k in ("critical", "none")})
        add_census(Z, vz)
    if tef_ladder > 0:
        counts.update(
            _index_ladder(
                energy,
                crit,
                crit_idx,
                add_census,
                rounds=int(tef_ladder),
                width=int(tef_ladder_width),
                step=float(tef_ladder_step),
                gtol=gtol,
            )
        )
    timings["index_targeted_ef"] = time.perf_counter() - t2

    # ---- connections, and further rounds from the minima they found
    t3 = time.perf_counter()
    ends = np.zeros((0, 2), dtype=int)
    counts.update(connect_via_higher_index=0, connect_failed_descents=0)

    def connect(first):
        """Ends of the saddles ``first..`` (new minima registered)."""
        if len(sads) <= first:
            return np.zeros((0, 2), dtype=int)
        desc = descend_from_saddles(energy, sads.X[first:], np.array(sad_u[first:]), gtol=gtol)
        pair, okp = desc.minima, desc.ok
        counts["connect_via_higher_index"] += int(np.sum(np.any(desc.via > 0, 1) & okp.all(1)))
        counts["connect_failed_descents"] += int(np.sum(~okp))
        e = np.full(okp.shape, -1, dtype=int)
        Ep = np.asarray(energy.energy(pair.reshape(-1, energy.dim))).reshape(-1, 2)
        for c in range(2):
            sel = np.flatnonzero(okp[:, c])
            if sel.size:
                e[sel, c] = mins.add(pair[sel, c], Ep[sel, c], 0)
        return e

    ends = connect(0)
    timings["connect"] = time.perf_counter() - t3
    for _ in range(1, int(rounds)):
        new = np.arange(n_searched, len(mins))
        if not new.size:
            break
        t1 = time.perf_counter()
        n_searched, n_s0 = len(mins), len(sads)
        search_from(new)
        counts["rounds"] = counts.get("rounds", 1) + 1
        timings["saddle_searches"] += time.perf_counter() - t1
        t3 = time.perf_counter()
        ends = np.concatenate([ends, connect(n_s0)])
        timings["connect"] += time.perf_counter() - t3

    # ---- the census holds every distinct verified critical point
    d_eff = energy.dim - (symmetry_basis(energy, mins.X[0]).shape[0] if len(mins) else 0)
    for X, E, k in ((mins.X, mins.E, 0), (sads.X, sads.E, 1)):
        for i in range(len(E)):
            n0 = len(crit)
            crit.add(X[i : i + 1], E[i : i + 1], 0)
            if len(crit) > n0:
                crit_idx.append(k)
                crit_frac.append(k / max(d_eff, 1))
    # minima sorted by energy, ends remapped
    order = np.argsort(mins.E, kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    ends = np.where(ends >= 0, inv[np.maximum(ends, 0)], -1) if ends.size else ends
    timings["total"] = time.perf_counter() - t0
    nz = symmetry_basis(energy, mins.X[order[0]]).shape[0] if len(mins) else 0
    return Landscape(
        name=name or type(energy).__name__,
        energy_unit=getattr(energy, "intensive_name", "energy"),
        dim=int(energy.dim),
        n_zero_modes=int(nz),
        minima_energies=mins.E[order] / scale,
        saddle_energies=sads.E / scale,
        ends=ends,
        census_energies=crit.E / scale,
        census_index_fractions=np.array(crit_frac),
        census_indices=np.array(crit_idx, dtype=int),
        flat_energies=np.asarray(flat["e"]) / scale,
        flat_grad_norms=np.asarray(flat["g"]),
        flat_null_fractions=np.asarray(flat["n"]),
        counts=counts,
        timings=timings,
        seed=seed_info(root),
        minima=mins.X[order],
        saddles=sads.X,
    )


def pspin_landscape(
    N: int = 10, p: int = 3, *, seed: SeedLike = 0, max_time: float | None = None
) -> Landscape:
    """The same :class:`Landscape` for a pure spherical p-spin sample (energies H/N).

    All critical points from :func:`analysis.critical.census` (complete when its certificate
    holds), the minima joined through the index-1 saddles by
    :func:`analysis.connectivity.connect_minima`; index fractions are ``k / (N - 1)``.
    """
    from analysis.connectivity import connect_minima
    from analysis.critical import census
    from pspin import SphericalPSpin

    root = as_seed_sequence(seed)
    t0 = time.perf_counter()
    energy = SphericalPSpin(N, p, seed=child(root, "model"))
    c = census(energy, seed=child(root, "search"), max_time=max_time, progress=False)
    conn = connect_minima(energy, c.points, c.indices)
    d = energy.manifold.intrinsic_dim
    return Landscape(
        name=f"spherical {p}-spin N={N}",
        energy_unit="H/N (energy per spin)",
        dim=int(N),
        n_zero_modes=0,
        minima_energies=conn.minima_energies,
        saddle_energies=conn.saddle_energies,
        ends=conn.ends,
        census_energies=c.energies,
        census_index_fractions=c.indices / d,
        census_indices=c.indices,
        flat_energies=np.asarray(c.flat_energies),
        flat_grad_norms=np.asarray(c.flat_grad_norms),
        flat_null_fractions=np.full(len(c.flat_energies), np.nan),
        counts={"census_points": c.n_points, "census_complete": int(c.complete)},
        timings={"total": time.perf_counter() - t0},
        seed=seed_info(root),
        minima=conn.minima,
        saddles=conn.saddles,
    )


def normalized_connections(landscape: Landscape):
    """Connections in the comparable unit ``(E - E_min) / (E_top - E_min)``.

    ``E_min`` is the lowest minimum, ``E_top`` the highest saddle joining two minima (the
    highest minimum when there is none), so every landscape spans [0, 1].
    """
    conn = landscape.connections()
    lo = float(conn.minima_energies.min())
    joined = np.all(conn.ends >= 0, axis=1) if conn.ends.size else np.zeros(0, bool)
    top = (
        float(conn.saddle_energies[joined].max())
        if joined.any()
        else float(conn.minima_energies.max())
    )
    span = top - lo if top > lo else 1.0
    G = nx.MultiGraph()
    for n, d in conn.graph.nodes(data=True):
        G.add_node(n, energy=(d["energy"] - lo) / span)
    for a, b, d in conn.graph.edges(data=True):
        G.add_edge(a, b, energy=(d["energy"] - lo) / span, saddle=d["saddle"])
    return G, {"E_min": lo, "E_top": top, "span": span}


def store_landscape(catalogue, energy: Energy, landscape: Landscape) -> dict:
    """Store a landscape's minima, saddles and connections in an
    :class:`analysis.catalogue.Catalogue` (points deduplicated by the catalogue's distance).

    Returns ``{"minima_ids", "saddle_ids"}``.
    """
    from analysis.critical import verify as _verify

    fp = catalogue.add_model(energy)
    ids = {}
    for key, X, idx in (("minima_ids", landscape.minima, 0), ("saddle_ids", landscape.saddles, 1)):
        out = []
        if X is not None and X.shape[0]:
            v = _verify(energy, X)
            for i in range(X.shape[0]):
                out.append(
                    catalogue.add_point(
                        energy,
                        X[i],
                        energy_value=float(v.energies[i]) / float(energy.scale),
                        index=idx,
                        grad_norm=float(v.grad_norms[i]),
                        min_abs_eig=float(v.min_abs_eigs[i]),
                    )
                )
        ids[key] = out
    for s, (a, b) in enumerate(landscape.ends):
        catalogue.add_connection(
            fp,
            ids["saddle_ids"][s],
            None if a < 0 else ids["minima_ids"][a],
            None if b < 0 else ids["minima_ids"][b],
            float(landscape.saddle_energies[s]),
        )
    return ids
