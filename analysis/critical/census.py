"""Census of the critical points of one energy instance, with its completeness certificate.

Batches of random starts run :func:`analysis.critical.search.search_batch`; new verified
points (with their images under x -> -x when the energy has a parity) are deduplicated and
counted by index and energy, until the certificate holds (Morse relation on a compact
manifold, index symmetry for odd energies, saturation) or a budget ends the search. Before it
stops on its certificate, every point is used once as the source of a partner search
(:func:`analysis.critical.search.partner_batch`) along its softest Hessian direction: the
second point of a close pair near a fold is hard to reach from random starts, and a missing
pair {x, -x} of neighbouring indices changes neither the Morse sum nor the index symmetry.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.critical.search import partner_batch, search_batch
from analysis.critical.verify import (
    Verified,
    canonical_forms,
    deduplicate,
    detect_symmetry,
    symmetric_images,
)
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = ["Census", "Certificate", "census", "check_fraction", "check_tolerances"]


@dataclass(frozen=True)
class Certificate:
    """Evidence that a census is complete.

    Attributes
    ----------
    morse_sum : int or None
        sum_k (-1)^k n_k (None on a non-compact manifold).
    morse_expected : int or None
        Euler characteristic of the manifold (``manifold.euler_characteristic``; for the
        sphere S^{N-1}: 0 for even N, 2 for odd N); None on a non-compact manifold.
    morse_ok : bool
        The Morse relation holds (True on a non-compact manifold, where it is not checked).
    symmetric_ok : bool
        n_k = n_{d-k} for odd energies (True when not applicable).
    saturation_ok : bool
        No new point in the last stretch of starts, at least as long as all the search before
        it (starts since the last new point >= starts up to it).
    last_new_at : int
        Starts done when the last new point was found.
    n_starts : int
        Starts done in total.
    """

    morse_sum: int | None
    morse_expected: int | None
    morse_ok: bool
    symmetric_ok: bool
    saturation_ok: bool
    last_new_at: int
    n_starts: int

    @property
    def complete(self) -> bool:
        """All three checks hold."""
        return bool(self.morse_ok and self.symmetric_ok and self.saturation_ok)


@dataclass(frozen=True)
class Census:
    """The critical points of one energy instance, by index and energy.

    Attributes
    ----------
    points : ndarray (n, dim)
        Distinct critical points (both members of each symmetric pair), sorted by energy.
    energies : ndarray (n,)
        Intensive energies (energy / scale, e.g. H/N).
    indices : ndarray (n,)
        Indices.
    grad_norms, min_abs_eigs : ndarray (n,)
        Verification data.
    n_zero_modes : int
        Declared symmetry directions removed from each Hessian.
    counts_by_index : ndarray (d + 1,)
        Number of points of each index 0..d (d the tangent dimension).
    energy_bins : ndarray (B + 1,)
        Edges of the intensive energy bins.
    counts_by_index_energy : ndarray (d + 1, B)
        Counts per index and energy bin.
    saturation : ndarray (m, 2)
        Distinct points found (column 1) against starts done (column 0), after each batch.
    certificate : Certificate
        Completeness checks.
    flat_points, flat_energies, flat_grad_norms : ndarray
        Gradient-flat points (reported apart, never counted).
    n_degenerate : int
        Converged points rejected as degenerate.
    symmetry : str or None
        Parity used for deduplication ("odd", "even" or None).
    stopped_by : str
        "certificate" or the budget that ended the search ("max_starts", "max_time").
    seed : dict
        Root entropy and spawn key of the search seed.
    fingerprint : str
        Fingerprint of the energy instance.
    elapsed : float
        Seconds spent.
    """

    points: np.ndarray
    energies: np.ndarray
    indices: np.ndarray
    grad_norms: np.ndarray
    min_abs_eigs: np.ndarray
    n_zero_modes: int
    counts_by_index: np.ndarray
    energy_bins: np.ndarray
    counts_by_index_energy: np.ndarray
    saturation: np.ndarray
    certificate: Certificate
    flat_points: np.ndarray
    flat_energies: np.ndarray
    flat_grad_norms: np.ndarray
    n_degenerate: int
    symmetry: str | None
    stopped_by: str
    seed: dict = field(default_factory=dict)
    fingerprint: str = ""
    elapsed: float = 0.0

    @property
    def n_points(self) -> int:
        """Number of distinct critical points."""
        return int(self.points.shape[0])

    @property
    def complete(self) -> bool:
        """Whether the certificate holds."""
        return self.certificate.complete


def _certificate(energy, indices, d, symmetry, last_new_at, n_starts) -> Certificate:
    counts = np.bincount(indices, minlength=d + 1) if len(indices) else np.zeros(d + 1, int)
    n = int(counts.sum())
    chi = energy.manifold.euler_characteristic
    if chi is not None:  # Morse relation on a compact manifold: sum (-1)^k n_k = chi
        ms = int(sum((-1) ** k * int(c) for k, c in enumerate(counts)))
        me = int(chi)
        # a smooth function on a compact manifold has a minimum and a maximum: fewer than two
        # points is never complete, even when the alternating sum matches (chi = 0, even N)
        mok = ms == me and n >= 2
    else:
        ms = me = None
        mok = True
    sym_ok = bool(np.array_equal(counts, counts[::-1])) if symmetry == "odd" else True
    # saturation needs something found: an empty census has not saturated, it has failed
    sat = n > 0 and n_starts - last_new_at >= last_new_at
    return Certificate(ms, me, bool(mok), sym_ok, bool(sat), int(last_new_at), int(n_starts))


def check_tolerances(**tols) -> dict[str, float]:
    """Validated tolerances (each finite and > 0; ValueError naming the one that is not).

    A tolerance <= 0 or NaN would make every candidate fail (an empty census that looks
    complete) or, for a distance, be squared into a positive one and merge distinct points.
    """
    return {name: check_positive(v, name) for name, v in tols.items()}


def check_fraction(value, name: str) -> float:
    """``value`` as a float in [0, 1] (ValueError naming ``name`` otherwise)."""
    v = check_positive(value, name, allow_zero=True)
    if v > 1:
        raise ValueError(f"{name} must lie in [0, 1]; got {value!r}")
    return v


def _check_energy_bins(energy_bins) -> None:
    if energy_bins is None:
        return
    if isinstance(energy_bins, int | np.integer) and not isinstance(energy_bins, bool):
        check_int(energy_bins, "energy_bins (number of bins)", minimum=1)
        return
    try:
        edges = np.asarray(energy_bins, dtype=np.float64)
    except (TypeError, ValueError):
        edges = np.zeros(0)
    if (
        edges.ndim != 1
        or edges.size < 2
        or not np.all(np.isfinite(edges))
        or np.any(np.diff(edges) <= 0)
    ):
        raise ValueError(
            "energy_bins must be a number of bins >= 1 or at least two finite increasing bin "
            f"edges; got {energy_bins!r}"
        )


def _dist_tol(energy, dist_tol):
    return dist_tol * energy.manifold.length_scale


class _State:
    """Mutable accumulator of a census (points, flat points, saturation), kept private."""

    def __init__(self, dim):
        self.X = np.zeros((0, dim))
        self.e = np.zeros(0)
        self.k = np.zeros(0, dtype=int)
        self.gn = np.zeros(0)
        self.mins = np.zeros(0)
        self.low = np.zeros((0, 0))
        self.Xf = np.zeros((0, dim))
        self.ef = np.zeros(0)
        self.gf = np.zeros(0)
        self.n_degenerate = 0
        self.n_starts = 0
        self.last_new_at = 0
        self.saturation: list[tuple[int, int]] = []
        self.n_zero = 0
        self.partner_done = 0  # points (a prefix of X) already used as partner-search sources


def _merge_batch(energy, state: _State, X, ver: Verified, symmetry, tol) -> dict:
    """New distinct points of a verified batch (with their symmetric images)."""
    d = energy.manifold.intrinsic_dim
    crit = ver.kind == "critical"
    Xc = canonical_forms(energy, X[crit])
    ec, kc = ver.energies[crit], ver.indices[crit]
    gc, mc = ver.grad_norms[crit], ver.min_abs_eigs[crit]
    lc = ver.low_eigs[crit]
    if symmetry is not None and Xc.shape[0]:
        Xi, ei, ki = symmetric_images(
            Xc, ec, kc, symmetry, d - int(ver.n_zero_modes.max(initial=0))
        )
        Xi = canonical_forms(energy, Xi)
        Xc = np.concatenate([Xc, Xi])
        ec = np.concatenate([ec, ei])
        kc = np.concatenate([kc, ki])
        gc = np.concatenate([gc, gc])
        mc = np.concatenate([mc, mc])
        lc = np.concatenate([lc, np.full_like(lc, np.nan)])
    new = deduplicate(state.X, Xc, tol)
    flat = ver.kind == "flat"
    newf = deduplicate(state.Xf, X[flat], tol) if flat.any() else np.zeros(0, dtype=bool)
    return {
        "X": Xc[new],
        "e": ec[new],
        "k": kc[new],
        "gn": gc[new],
        "mins": mc[new],
        "low": lc[new],
        "Xf": X[flat][newf],
        "ef": ver.energies[flat][newf],
        "gf": ver.grad_norms[flat][newf],
        "n_degenerate": int(np.sum(ver.kind == "degenerate")),
        "n_zero": int(ver.n_zero_modes.max(initial=0)),
    }


def _apply(state: _State, add: dict, size: int) -> None:
    state.n_starts += size
    if add["X"].shape[0]:
        state.X = np.concatenate([state.X, add["X"]])
        state.e = np.concatenate([state.e, add["e"]])
        state.k = np.concatenate([state.k, add["k"]])
        state.gn = np.concatenate([state.gn, add["gn"]])
        state.mins = np.concatenate([state.mins, add["mins"]])
        state.last_new_at = state.n_starts
    if add["Xf"].shape[0]:
        state.Xf = np.concatenate([state.Xf, add["Xf"]])
        state.ef = np.concatenate([state.ef, add["ef"]])
        state.gf = np.concatenate([state.gf, add["gf"]])
    state.n_degenerate += add["n_degenerate"]
    state.n_zero = max(state.n_zero, add["n_zero"])
    state.saturation.append((state.n_starts, state.X.shape[0]))


def census(
    energy: Energy,
    *,
    seed: SeedLike = None,
    batch_size: int = 256,
    min_starts: int | None = None,
    max_starts: int = 1_000_000,
    max_time: float | None = None,
    gtol: float = 1e-10,
    eig_tol: float = 1e-7,
    dist_tol: float = 1e-6,
    symmetry: str | None = "auto",
    lm_fraction: float = 0.25,
    max_iter: int = 80,
    deflation: bool = True,
    partners: bool = True,
    search_options: dict | None = None,
    energy_bins: Sequence[float] | int | None = None,
    catalogue=None,
    progress: bool | None = None,
) -> Census:
    """Census of the critical points of one energy instance, by index and energy.

    Batches of random starts run :func:`search_batch` (eigenvector following towards random
    target indices plus Levenberg–Marquardt), candidates are verified, put in canonical form
    (``energy.canonical_form`` if it exists), completed by their images under x -> -x when the
    energy has a parity, and deduplicated by distance. The census stops by itself when its
    certificate holds (Morse relation, index symmetry for odd energies, and no new point in a
    final stretch of starts at least as long as all the search before it) and every point has
    been the source of a partner search (``partners``), or at a budget.

    Parameters
    ----------
    energy : Energy
        The energy instance (dense Hessians are formed: keep the dimension small).
    seed : seed
        Seed of the starts; batch b uses the b-th spawned child, so a census is reproducible
        batch by batch (and resumable from a catalogue).
    batch_size : int
        Starts per batch (one stacked Newton iteration serves the whole batch).
    min_starts : int
        Starts before the census may stop (default 4 batches).
    max_starts, max_time : int, float
        Budgets (starts, seconds); the census stops at the first one reached.
    gtol, eig_tol : float
        Verification tolerances (see :func:`verify`).
    dist_tol : float
        Two points are the same when closer than ``dist_tol`` times the radius.
    symmetry : {"auto", "odd", "even", None}
        Parity under x -> -x used to complete and deduplicate ("auto": :func:`detect_symmetry`).
    lm_fraction, max_iter : float, int
        Search options (see :func:`search_batch`).
    deflation : bool
        Deflate each batch's searches away from the points already known (default True).
    partners : bool
        When the certificate holds, search once from every point along its softest Hessian
        direction (:func:`~analysis.critical.search.partner_batch`, two starts per point, in
        batches of at most ``batch_size`` starts) before stopping; new points found reopen
        the search (default True). Found the pair a census missed at N = 8 (disorder seed
        3016) for about 15% more work at N = 12.
    search_options : dict, optional
        Extra options of the searches' :func:`newton_search` calls (e.g. ``{"adaptive":
        True, "trust_radius": 1.0}`` for networks).
    energy_bins : int or sequence
        Number of bins or bin edges of the intensive energy (default: 20 bins over the range
        found).
    catalogue : analysis.catalogue.Catalogue, optional
        Store points and finished batches as they are found; a rerun with the same catalogue,
        energy and seed resumes where it stopped and never duplicates.
    progress : bool or None
        Show progress (default: on a terminal only).

    Returns
    -------
    Census
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    bs = check_int(batch_size, "batch_size", minimum=1)
    max_starts = check_int(max_starts, "max_starts", minimum=1)
    if max_time is not None:
        max_time = check_positive(max_time, "max_time (seconds)")
    check_tolerances(gtol=gtol, eig_tol=eig_tol, dist_tol=dist_tol)
    lm_fraction = check_fraction(lm_fraction, "lm_fraction")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    if search_options is not None and not isinstance(search_options, dict):
        raise ValueError(f"search_options must be a dict or None; got {search_options!r}")
    if symmetry == "auto":
        symmetry = detect_symmetry(energy)
    elif symmetry not in ("odd", "even", None):
        raise ValueError(f"symmetry must be 'auto', 'odd', 'even' or None; got {symmetry!r}")
    min_starts = 4 * bs if min_starts is None else check_int(min_starts, "min_starts", minimum=0)
    _check_energy_bins(energy_bins)
    root = as_seed_sequence(seed)
    tol = _dist_tol(energy, dist_tol)
    d = energy.manifold.intrinsic_dim
    state = _State(energy.dim)
    run_key = None
    if catalogue is not None:
        run_key = catalogue.begin_census(
            energy,
            seed_info(root),
            {
                "batch_size": bs,
                "gtol": gtol,
                "eig_tol": eig_tol,
                "dist_tol": dist_tol,
                "symmetry": symmetry,
                "lm_fraction": lm_fraction,
                "max_iter": max_iter,
                "deflation": deflation,
                "partners": bool(partners),
                **({"search_options": search_options} if search_options else {}),
            },
        )
        catalogue.restore_state(run_key, state)
        if partners and state.saturation:
            state.partner_done = _replay_partners(energy, state, d, symmetry, min_starts)
    t0 = time.perf_counter()
    stopped = "max_starts"
    b = len(state.saturation)
    bar = Progress(max_starts, desc=f"census N={energy.dim}", enabled=progress, budget=True)
    bar.update(state.n_starts)
    with bar:
        while True:
            cert = _certificate(energy, state.k, d, symmetry, state.last_new_at, state.n_starts)
            partner = False
            if state.n_starts >= min_starts and cert.complete:
                partner = partners and state.partner_done < state.X.shape[0]
                if not partner:
                    stopped = "certificate"
                    break
            if state.n_starts >= max_starts:
                stopped = "max_starts"
                break
            if max_time is not None and time.perf_counter() - t0 >= max_time:
                stopped = "max_time"
                break
            if partner:
                quota = min(bs, max_starts - state.n_starts) // 2  # two starts per source
                if quota == 0:
                    stopped = "max_starts"
                    break
                lo = state.partner_done
                hi = min(state.X.shape[0], lo + quota)
                X, ver = partner_batch(
                    energy,
                    state.X[lo:hi],
                    state.k[lo:hi],
                    known=state.X,
                    n_zero_modes=state.n_zero,
                    max_iter=max_iter,
                    gtol=gtol,
                    eig_tol=eig_tol,
                    deflation=deflation,
                    search_options=search_options,
                )
                size = X.shape[0]
            else:
                size = min(bs, max_starts - state.n_starts)
                X, ver = search_batch(
                    energy,
                    child(root, b),
                    size,
                    lm_fraction=lm_fraction,
                    max_iter=max_iter,
                    gtol=gtol,
                    eig_tol=eig_tol,
                    known=state.X,
                    known_indices=state.k,
                    deflation=deflation,
                    search_options=search_options,
                )
            add = _merge_batch(energy, state, X, ver, symmetry, tol)
            if catalogue is not None:
                catalogue.commit_batch(run_key, b, size, add, state.X.shape[0] + add["X"].shape[0])
            _apply(state, add, size)
            if partner:
                state.partner_done = hi
            b += 1
            bar.update(size, points=state.X.shape[0])
    return _finish(energy, state, symmetry, d, energy_bins, stopped, root, t0)


def _replay_partners(energy, state: _State, d: int, symmetry, min_starts: int) -> int:
    """Partner-search sources already used by the restored batches of a resumed census.

    Replays the census loop's rule batch by batch from the saturation record (starts and
    points after each batch) and the points' indices in the order they were found.
    """
    done = n_starts = npts = last_new = 0
    for ns, np_ in state.saturation:
        cert = _certificate(energy, state.k[:npts], d, symmetry, last_new, n_starts)
        if n_starts >= min_starts and cert.complete and done < npts:
            done = min(npts, done + (ns - n_starts) // 2)  # a partner batch: two starts per source
        if np_ > npts:
            last_new = ns
        n_starts, npts = ns, np_
    return done


def _finish(energy, state, symmetry, d, energy_bins, stopped, root, t0) -> Census:
    order = np.argsort(state.e, kind="stable")
    e = state.e[order] / float(energy.scale)
    k = state.k[order].astype(int)
    counts = np.bincount(k, minlength=d + 1)[: d + 1] if k.size else np.zeros(d + 1, int)
    if energy_bins is None or isinstance(energy_bins, int | np.integer):
        nb = 20 if energy_bins is None else int(energy_bins)
        lo, hi = (float(e.min()), float(e.max())) if e.size else (-1.0, 1.0)
        pad = 1e-9 + 1e-6 * (hi - lo)
        edges = np.linspace(lo - pad, hi + pad, nb + 1)
    else:
        edges = np.asarray(energy_bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("energy_bins must be an int or increasing bin edges")
    cie = np.zeros((d + 1, edges.size - 1), dtype=int)
    if e.size:
        ib = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, edges.size - 2)
        inside = (e >= edges[0]) & (e <= edges[-1])
        np.add.at(cie, (k[inside], ib[inside]), 1)
    cert = _certificate(energy, state.k, d, symmetry, state.last_new_at, state.n_starts)
    return Census(
        points=state.X[order],
        energies=e,
        indices=k,
        grad_norms=state.gn[order],
        min_abs_eigs=state.mins[order],
        n_zero_modes=int(state.n_zero),
        counts_by_index=counts,
        energy_bins=edges,
        counts_by_index_energy=cie,
        saturation=np.array(state.saturation, dtype=int).reshape(-1, 2),
        certificate=cert,
        flat_points=state.Xf,
        flat_energies=state.ef / float(energy.scale),
        flat_grad_norms=state.gf,
        n_degenerate=int(state.n_degenerate),
        symmetry=symmetry,
        stopped_by=stopped,
        seed=seed_info(root),
        fingerprint=energy.fingerprint,
        elapsed=time.perf_counter() - t0,
    )
