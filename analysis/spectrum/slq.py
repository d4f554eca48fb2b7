"""Spectral densities by stochastic Lanczos quadrature (or dense eigh), and Hessian traces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.spectrum.operators import TangentOperator, _freeze, tangent_operator
from landscapes._validation import check_int, check_positive
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_generator


# --------------------------------------------------------------------------- densities
def default_bandwidth(lo: float, hi: float, n: int | None = None) -> float:
    """Default Gaussian smoothing width: ``max(1%, 2.5 / n)`` of the spectral width ``hi - lo``.

    ``n`` is the number of distinct eigenvalues that can be resolved (the dimension, or the
    number of nodes if smaller). With 80 Lanczos steps the Ritz nodes resolve features at
    about width/80; 1% of the width smooths the node comb into a density while keeping
    outliers separate, and 2.5 mean eigenvalue spacings smooth the comb of a small matrix.
    (Ghorbani et al. use a variance of 1e-5 width^2, i.e. 0.3%, which needs many more
    probes to look smooth.)
    """
    w = float(hi - lo)
    if not w > 0:
        return max(abs(float(hi)), 1.0) * 1e-3
    frac = 0.01 if not n else max(0.01, 2.5 / float(n))
    return frac * w


def gaussian_smooth(nodes, weights, grid, bandwidth: float) -> np.ndarray:
    """Density ``sum_i w_i N(t; nodes_i, bandwidth^2)`` on ``grid``; rows of nodes are probes.

    ``nodes``/``weights`` of shape (n,) give one density (len(grid),); shape (m, n) give
    one density per row, (m, len(grid)). NaN nodes (padding) are ignored.
    """
    nodes = np.asarray(nodes, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    ok = np.isfinite(nodes)
    n = np.where(ok, nodes, 0.0)
    wts = np.where(ok, weights, 0.0)
    z = (grid[..., None, :] if nodes.ndim == 2 else grid[None, :]) - n[..., None]
    k = np.exp(-0.5 * (z / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))
    return np.einsum("...n,...ng->...g", wts, k)


@dataclass(frozen=True)
class DensityResult:
    """Spectral density of a Hessian at one point (exact or by SLQ).

    Attributes
    ----------
    nodes, weights : (n_probes, m)
        Ritz values and quadrature weights (squared first components of the Ritz vectors)
        per probe; each row of weights sums to 1. NaN pads probes that stopped early. For
        the exact method: one row, all eigenvalues, weights 1/d.
    grid : (G,)
    density : (G,)
        Gaussian-smoothed density (integrates to 1 over the real line).
    density_stderr : (G,)
        Standard error of the density across probes (0 for the exact method).
    density_per_probe : (n_probes, G)
    bandwidth : float
    steps : (n_probes,) int
        Lanczos steps taken per probe (fewer if the Krylov space closed).
    n_hvp : int
    method : "exact" or "slq"
    dim : int
    """

    nodes: np.ndarray
    weights: np.ndarray
    grid: np.ndarray
    density: np.ndarray
    density_stderr: np.ndarray
    density_per_probe: np.ndarray
    bandwidth: float
    steps: np.ndarray
    n_hvp: int
    method: str
    dim: int
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        _freeze(self)

    def moments(self, orders=(1, 2, 3, 4)) -> tuple[np.ndarray, np.ndarray]:
        """Spectral moments ``tr(H^j)/d`` and their standard errors across probes."""
        orders = np.atleast_1d(orders)
        ok = np.isfinite(self.nodes)
        n = np.where(ok, self.nodes, 0.0)
        w = np.where(ok, self.weights, 0.0)
        per = np.stack([np.sum(w * n**j, axis=1) for j in orders], axis=1)  # (probes, orders)
        mean = per.mean(axis=0)
        se = (
            per.std(axis=0, ddof=1) / np.sqrt(per.shape[0])
            if per.shape[0] > 1
            else np.zeros_like(mean)
        )
        return mean, se

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """All nodes and weights as one discrete measure (weights sum to 1)."""
        ok = np.isfinite(self.nodes)
        return self.nodes[ok], self.weights[ok] / self.nodes.shape[0]


def _lanczos_block(op: TangentOperator, Q0: np.ndarray, steps: int):
    """Lanczos with full reorthogonalization on a block of independent probes at once.

    Each step applies the operator to all active probes with ONE block HVP. Returns
    ``alpha (p, steps)``, ``beta (p, steps)`` and the number of steps per probe (a probe
    stops when its Krylov space closes: beta below 1e-10 of the running operator norm).
    """
    P, d = Q0.shape
    m = min(steps, d)
    Q = np.zeros((P, m, d))
    alpha = np.zeros((P, m))
    beta = np.zeros((P, m))
    active = np.ones(P, bool)
    nsteps = np.full(P, m)
    Q[:, 0] = Q0 / np.linalg.norm(Q0, axis=1, keepdims=True)
    anorm = np.zeros(P)
    for j in range(m):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        W = op.apply(Q[idx, j], where=f"at SLQ step {j + 1}")
        a = np.einsum("pd,pd->p", W, Q[idx, j])
        alpha[idx, j] = a
        W -= a[:, None] * Q[idx, j]
        if j > 0:
            W -= beta[idx, j - 1][:, None] * Q[idx, j - 1]
        # full reorthogonalization, twice ("twice is enough")
        for _ in range(2):
            c = np.einsum("pkd,pd->pk", Q[idx, : j + 1], W)
            W -= np.einsum("pkd,pk->pd", Q[idx, : j + 1], c)
        b = np.linalg.norm(W, axis=1)
        anorm[idx] = np.maximum(anorm[idx], np.abs(a) + b)
        if j + 1 == m:
            break
        beta[idx, j] = b
        done = b <= 1e-10 * np.maximum(anorm[idx], np.finfo(float).tiny)
        for p_, dn in zip(idx, done, strict=True):
            if dn:
                active[p_] = False
                nsteps[p_] = j + 1
        live = idx[~done]
        Q[live, j + 1] = W[~done] / b[~done, None]
    return alpha, beta, nsteps


def _tridiag_quadrature(alpha, beta, nsteps):
    P, m = alpha.shape
    nodes = np.full((P, m), np.nan)
    weights = np.full((P, m), np.nan)
    for i in range(P):  # tiny (m x m) eigenproblems, one per probe
        s = int(nsteps[i])
        T = np.diag(alpha[i, :s]) + np.diag(beta[i, : s - 1], 1) + np.diag(beta[i, : s - 1], -1)
        th, S = np.linalg.eigh(T)
        nodes[i, :s] = th
        weights[i, :s] = S[0] ** 2
    return nodes, weights


def spectral_density(
    energy: Energy,
    x,
    method: str = "exact",
    n_probes: int = 10,
    lanczos_steps: int = 80,
    bandwidth: float | None = None,
    grid=None,
    seed: SeedLike = None,
    *,
    riemannian: bool = True,
    n_grid: int = 512,
) -> DensityResult:
    """Spectral density of the Hessian at ``x``: exact (dense eigh) or stochastic Lanczos.

    Parameters
    ----------
    method : {"exact", "slq"}
        "slq": stochastic Lanczos quadrature (Lin, Saad & Yang 2016; Ghorbani et al. 2019)
        with ``n_probes`` Rademacher probes (normalized), ``lanczos_steps`` steps of Lanczos
        with full reorthogonalization, all probes advanced together (one block HVP per step).
        Node weights are the squared first components of the Ritz vectors.
    bandwidth : float, optional
        Gaussian smoothing width; default :func:`default_bandwidth` of the nodes' range
        (``max(1%, 2.5/n)`` of the width, n = number of resolvable eigenvalues).
    grid : array, optional
        Where to evaluate the density; default ``n_grid`` points spanning the nodes
        +- 5 bandwidths.
    seed : seed-like
        Seed of the probes.
    """
    if method not in ("exact", "slq"):
        raise ValueError(f"unknown method={method!r}; choose 'exact' or 'slq'")
    n_probes = check_int(n_probes, "n_probes", minimum=1)
    lanczos_steps = check_int(lanczos_steps, "lanczos_steps", minimum=1)
    n_grid = check_int(n_grid, "n_grid", minimum=2)
    if bandwidth is not None:
        bandwidth = check_positive(bandwidth, "bandwidth")
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if method == "exact":
        w = np.linalg.eigvalsh(op.dense())
        nodes = w[None, :]
        weights = np.full_like(nodes, 1.0 / d)
        steps = np.array([d])
    else:
        rng = as_generator(seed)
        Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
        alpha, beta, steps = _lanczos_block(op, Z, lanczos_steps)
        nodes, weights = _tridiag_quadrature(alpha, beta, steps)
    lo, hi = float(np.nanmin(nodes)), float(np.nanmax(nodes))
    n_res = min(d, int(np.sum(np.isfinite(nodes))))
    bw = default_bandwidth(lo, hi, n_res) if bandwidth is None else bandwidth
    if grid is None:
        grid = np.linspace(lo - 5 * bw, hi + 5 * bw, n_grid)
    else:
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
            raise ValueError(
                f"grid must be a finite 1-D array of >= 2 points; got shape {grid.shape}"
            )
    per = gaussian_smooth(nodes, weights, grid, bw)
    dens = per.mean(axis=0)
    se = (
        per.std(axis=0, ddof=1) / np.sqrt(per.shape[0]) if per.shape[0] > 1 else np.zeros_like(dens)
    )
    return DensityResult(
        nodes,
        weights,
        grid,
        dens,
        se,
        per,
        float(bw),
        np.asarray(steps),
        op.n_hvp,
        method,
        d,
        {"riemannian": op.riemannian, "n_probes": int(nodes.shape[0])},
    )


# --------------------------------------------------------------------------- trace
@dataclass(frozen=True)
class TraceResult:
    """A trace estimate with its standard error.

    Attributes
    ----------
    estimate, stderr : float
    samples : (n,) per-probe samples of the stochastic part
    n_hvp : int
    method : "hutchinson", "hutch++" or "exact"
    dim : int
    """

    estimate: float
    stderr: float
    samples: np.ndarray
    n_hvp: int
    method: str
    dim: int

    def __post_init__(self):
        _freeze(self)


def hessian_trace(
    energy: Energy,
    x,
    method: str = "hutchinson",
    n_probes: int = 30,
    seed: SeedLike = None,
    *,
    riemannian: bool = True,
) -> TraceResult:
    """Trace of the Hessian at ``x`` by Hutchinson or Hutch++ (Meyer et al. 2021).

    Hutchinson: mean of ``z.Hz`` over Rademacher probes ``z`` (one block HVP), standard
    error = sample std / sqrt(n). Hutch++: with ``n_probes`` HVPs in all, a third sketches
    ``Q = orth(H S)``, a third computes ``tr(Q^T H Q)`` exactly and the rest estimate the
    trace of the deflated remainder by Hutchinson (its standard error is the result's).
    ``method="exact"`` sums the dense Hessian's diagonal.
    """
    if method not in ("hutchinson", "hutch++", "exact"):
        raise ValueError(f"unknown method={method!r}; choose 'hutchinson', 'hutch++' or 'exact'")
    n_probes = check_int(n_probes, "n_probes", minimum=2 if method == "hutchinson" else 6)
    op = tangent_operator(energy, x, riemannian)
    d = op.dim
    if method == "exact":
        t = float(np.trace(op.dense()))
        return TraceResult(t, 0.0, np.array([t]), op.n_hvp, "exact", d)
    rng = as_generator(seed)
    if method == "hutchinson":
        Z = rng.choice(np.array([-1.0, 1.0]), size=(n_probes, d))
        s = np.einsum("pd,pd->p", Z, op.apply(Z, where="in Hutchinson probes"))
        return TraceResult(
            float(s.mean()), float(s.std(ddof=1) / np.sqrt(s.size)), s, op.n_hvp, method, d
        )
    m = n_probes // 3
    S = rng.choice(np.array([-1.0, 1.0]), size=(m, d))
    G = rng.choice(np.array([-1.0, 1.0]), size=(n_probes - 2 * m, d))
    Q, _ = np.linalg.qr(op.apply(S, where="in the Hutch++ sketch").T)
    Q = Q.T  # (m, d) orthonormal rows
    t_low = float(np.einsum("pd,pd->", Q, op.apply(Q, where="in the Hutch++ projection")))
    Gp = G - (G @ Q.T) @ Q
    s = np.einsum("pd,pd->p", Gp, op.apply(Gp, where="in the Hutch++ residual"))
    return TraceResult(
        t_low + float(s.mean()), float(s.std(ddof=1) / np.sqrt(s.size)), s, op.n_hvp, method, d
    )
