"""Exact N -> infinity Langevin dynamics of the spherical p-spin (Cugliandolo–Kurchan / CHS).

Model and dynamics (this project's normalization)
-------------------------------------------------
``H`` on the sphere ``|s|^2 = N`` is Gaussian with ``E[H(s) H(s')] = N xi(s.s'/N)`` (pure ABC:
``xi(q) = q^p``; a mixture ``xi(q) = sum_p a_p q^p``). The dynamics is the overdamped Langevin
equation projected on the sphere,

    ds = -grad H(s) dt - mu(t) s dt + sqrt(2 T) dW,

with ``H`` *extensive* (not per spin) and ``mu(t)`` the Lagrange multiplier keeping
``|s|^2 = N``. This is what :func:`analysis.dynamics.langevin` integrates
(``x <- R_x(-h rgrad H + sqrt(2 h T) P_x xi)``, ``R`` the projection retraction: to first
order in ``h`` the retraction supplies ``-mu s`` with ``mu = T (N-1)/N - s.grad H / N``), and
:func:`analysis.dynamics.gradient_descent` with a fixed step ``h`` is its ``T = 0`` Euler scheme
(time ``t = h x steps``). The start is uniform on the sphere (infinite temperature), independent
of the disorder.

Closed equations
----------------
For ``C(t,t') = s(t).s(t')/N`` and the response ``R(t,t') = (1/N) sum_i d<s_i(t)>/dh_i(t')``
(``t > t'``), averaged over the disorder, as ``N -> infinity`` (Crisanti–Horner–Sommers 1993,
Cugliandolo–Kurchan 1993, proved by Ben Arous–Dembo–Guionnet 2006)::

    d_t C(t,t') = -mu C(t,t') + int_0^t xi''(C(t,u)) R(t,u) C(u,t') du
                              + int_0^t' xi'(C(t,u)) R(t',u) du
    d_t R(t,t') = -mu R(t,t') + int_t'^t xi''(C(t,u)) R(t,u) R(u,t') du,   R(t'+, t') = 1
    mu(t)       = T + int_0^t [xi'(C(t,u)) + xi''(C(t,u)) C(t,u)] R(t,u) du
    e(t)        = -int_0^t xi'(C(t,u)) R(t,u) du      (energy per spin, H/N)

Every factor follows from the covariance: the gradient at a random point has
``|grad H|^2 / N = xi'(1)`` (so ``de/dt(0) = -xi'(1)`` at ``T = 0``), the noise ``sqrt(2T)`` gives
the equal-time slope ``d_t C(t,t')|_{t' -> t} = -T``, and for a pure model
``mu = T - p e`` (Euler's identity ``s.grad H = p H``). Above ``T_d`` the solution relaxes to the
paramagnet ``e = -xi(1)/T`` (:func:`pspin.theory.paramagnetic_energy`) and obeys FDT,
``R(t, t_w) = (1/T) d C(t, t_w) / d t_w``. For ``p = 2`` the dynamics is linear and solved through
the semicircle law of radius ``sqrt 2`` (:func:`p2_zero_temperature`). The Crisanti–Sommers
convention (covariance ``(N/2) xi``) is ``convention="cs"``: then temperatures and energies are
in CS units (``xi`` is halved).

Numerical method
----------------
The solver integrates ``C`` and the integrated response ``chi(t,t') = int_t'^t R(t,u) du`` (whose
increments along a row are *exact* cell integrals of ``R``, so the fast decay of ``R`` near the
diagonal is never sampled by a coarse rule) on a uniform two-time grid of ``grid + 1`` times:

* time stepping: trapezoidal rule (Crank–Nicolson) in ``t`` for every ``t'``, a fixed point
  per step (the linear ``mu`` and last-cell memory terms implicit) accelerated by Anderson
  mixing;
* memory integrals: every integral is a sum over grid cells of products of *cell averages* of
  its factors (vertical averages along a row for functions of ``C(t,u)``, horizontal averages for
  ``C(u,t')`` and ``chi(u,t')``); each integral of a row is one matrix-vector product (numpy,
  no loop over grid cells). The averages of ``xi'(C)``, ``xi''(C)`` and ``xi' + C xi''`` over a
  cell are the exact ones for ``C`` linear across the cell (secant averages such as
  ``(xi(C_1) - xi(C_0)) / (C_1 - C_0)``, evaluated without division), not the trapezoid of the
  end values: where the discrete solution obeys FDT (``chi`` increments ``= C`` increments
  ``/ T``) the energy and ``mu`` sums then telescope to their exact equilibrium values, which
  removes the dominant ``h^2`` error above ``T_d`` (p = 3, T = 1.5: the two-resolution difference
  at steps 0.04 / 0.08 drops from 1.8e-4 to 4.7e-5) and slightly reduces it at ``T = 0``; for
  ``p = 2`` they equal the trapezoid;
* the adaptive grid (Kim & Latz 2001): when the grid is full, every second time is dropped, the
  step doubles, and the cell averages of the dropped cells are merged (so they keep the
  information of the fine grid; except the averages of ``C`` in the two cells touching the
  diagonal, see below). Kim and Latz also copy a band of cells next to the diagonal
  from the previous row (time-translation invariance); ``band > 0`` does that, but with the
  integrated response the exact cell integrals of ``R`` already carry the fast decay, and the
  band's copying error dominated in our checks (p = 3, T = 0 and 1.5), so the default is 0.

The first ``grid`` steps of size ``h0`` form the fixed fine grid; every halving then costs
``grid/2`` steps, so reaching ``t_max`` costs ``O(grid^2 log(t_max / (grid h0)))`` operations
with ``O(grid^2)`` memory (plus one snapshot of the two-time grid per halving for
:meth:`DynamicsSolution.correlation`). ``adaptive=False`` keeps the fine grid to ``t_max``
(memory ``(t_max/h0)^2``; for checks and the benchmark). The error estimate is the plain
two-resolution difference ``|e_h0 - e_2h0|`` between this run and one with step ``2 h0`` on a
grid half as large (same halving times, so the steps differ by 2 at every time), taken at the
coarse times and interpolated onto ``t``; no Richardson factor is applied, so for a second-order
scheme it overstates the error of this run by about 3. After a halving the merged history
(fine-grid averages) and the new coarse rows disagree at order ``h^2``, mostly in the two cells
touching the diagonal, where ``C(u, t_j)`` has its cusp at ``u = t_j``; there the merged
horizontal averages of ``C`` are replaced by the trapezoid of the coarse points (what the new
rows use). Without that, at p = 3, T = 1.5 (grid 512, h0 = 0.01) the energy overshoots after
each halving and the two-resolution difference peaks at 8.0e-5 after the halving at
t = 10.24 (4.8e-5 with it; 4.7e-5 once stationary). Every other average stays merged:
recomputing all of them from the coarse points also removes the overshoot but roughly doubles
the error at ``T = 0`` (aging; two-resolution difference at t = 1000, grid 512: 6.5e-4
against 2.9e-4), and recomputing only the averages of ``chi`` does about as much harm
(t = 200, grid 256: 1.35e-3 against 5.0e-4).

References
----------
A. Crisanti, H. Horner, H.-J. Sommers, Z. Phys. B 92 (1993) 257. L. F. Cugliandolo, J. Kurchan,
PRL 71 (1993) 173. G. Ben Arous, A. Dembo, A. Guionnet, PTRF 136 (2006) 619. B. Kim, A. Latz,
Europhys. Lett. 53 (2001) 660.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ive

from pspin.theory.conventions import Convention, _model

__all__ = ["DynamicsSolution", "dynamics", "p2_zero_temperature"]

_ANDERSON = 4  # history of the Anderson acceleration of each step's fixed point


# ============================================================================ the solution
@dataclass(frozen=True, eq=False)
class DynamicsSolution:
    """Solution of the closed N -> infinity dynamics from the uniform start.

    Attributes
    ----------
    xi : dict
        The covariance ``{p: a_p}`` (in the units of ``convention``).
    temperature : float
        ``T >= 0``.
    t : array (n,)
        Times at which ``energy`` and ``mu`` are given (every step of the run).
    energy : array (n,)
        Energy per spin ``e(t) = E H(s(t)) / N``.
    mu : array (n,)
        Lagrange multiplier ``mu(t)``.
    error : array (n,)
        ``|e_h0(t) - e_2h0(t)|``: the difference with a run of twice the step (interpolated
        onto ``t``; a plain two-resolution difference, not Richardson-scaled; zeros when
        ``error=False`` was asked).
    grids : tuple of (h, C, chi)
        The two-time grid before every halving and at the end: uniform step ``h``, arrays
        ``(m, m)`` with ``C[i, j] = C(i h, j h)`` and ``chi[i, j] = int_{jh}^{ih} R(ih, u) du``
        for ``j <= i``.
    params : dict
        Solver parameters (``h0``, ``grid``, ``band``, ``adaptive``, iterations, wall time).
    convention : str
        ``"abc"`` or ``"cs"``.
    """

    xi: dict
    temperature: float
    t: np.ndarray
    energy: np.ndarray
    mu: np.ndarray
    error: np.ndarray
    grids: tuple
    params: dict = field(default_factory=dict)
    convention: str = "abc"

    @property
    def t_max(self) -> float:
        """Last computed time."""
        return float(self.t[-1])

    def _grid_for(self, t_hi: float):
        for h, C, X in self.grids:
            if t_hi <= h * (C.shape[0] - 1) * (1 + 1e-12):
                return h, C, X
        raise ValueError(f"t must be within the computed range [0, {self.t_max:g}]; got {t_hi:g}")

    def _two_time(self, which: str, t, t_w) -> np.ndarray:
        t, t_w = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(t_w, dtype=float))
        if t.size and (np.any(t_w < 0) or np.any(t < t_w) or not np.all(np.isfinite(t))):
            raise ValueError("need 0 <= t_w <= t (times finite); got t < t_w or t_w < 0")
        out = np.empty(t.shape)
        flat_t, flat_w, flat_o = t.ravel(), t_w.ravel(), out.reshape(-1)
        for k in range(flat_t.size):
            h, C, X = self._grid_for(float(flat_t[k]))
            flat_o[k] = _bilinear(C if which == "C" else X, h, flat_t[k], flat_w[k], which)
        return out

    def correlation(self, t, t_w) -> np.ndarray:
        """``C(t, t_w)`` for ``0 <= t_w <= t <= t_max`` (bilinear on the finest grid covering t)."""
        return self._two_time("C", t, t_w)

    def integrated_response(self, t, t_w) -> np.ndarray:
        """``chi(t, t_w) = int_{t_w}^t R(t, u) du`` (the susceptibility; FDT: ``(1 - C)/T``)."""
        return self._two_time("X", t, t_w)

    def response(self, t, t_w) -> np.ndarray:
        """``R(t, t_w) = -d chi(t, t_w) / d t_w`` by a centred difference on the grid.

        Accurate where ``R`` varies slowly on the grid step at ``t`` (the grid step grows with
        ``t`` on the adaptive grid); ``R(t, t) = 1``.
        """
        t, t_w = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(t_w, dtype=float))
        out = np.empty(t.shape)
        flat_t, flat_w, flat_o = t.ravel(), t_w.ravel(), out.reshape(-1)
        for k in range(flat_t.size):
            h, _, _ = self._grid_for(float(flat_t[k]))
            d = 0.5 * h
            lo = max(flat_w[k] - d, 0.0)
            hi = min(flat_w[k] + d, flat_t[k])
            if hi <= lo:
                flat_o[k] = 1.0
                continue
            chi = self.integrated_response([flat_t[k], flat_t[k]], [lo, hi])
            flat_o[k] = (chi[0] - chi[1]) / (hi - lo)
        return out

    def energy_at(self, t) -> np.ndarray:
        """``e(t)`` interpolated (linear) on the computed range."""
        t = np.asarray(t, dtype=float)
        if np.any(t < 0) or np.any(t > self.t_max * (1 + 1e-12)):
            raise ValueError(f"t must be within [0, {self.t_max:g}]")
        return np.interp(t, self.t, self.energy)


def _bilinear(A: np.ndarray, h: float, t: float, tw: float, which: str) -> float:
    """Value of a lower-triangular grid function at (t, tw), tw <= t (symmetric for C)."""
    m = A.shape[0] - 1
    x, y = min(t / h, m), min(tw / h, m)
    i0, j0 = min(int(math.floor(x)), m - 1), min(int(math.floor(y)), m - 1)
    fx, fy = x - i0, y - j0

    def val(i, j):
        if j <= i:
            return A[i, j]
        return A[j, i] if which == "C" else 0.0  # chi(t, t_w) = 0 for t < t_w

    if i0 == j0:  # a diagonal cell: interpolate on the lower triangle (t >= t_w)
        a = val(i0, j0)
        b = val(i0 + 1, j0)
        c = val(i0 + 1, j0 + 1)
        # barycentric on the triangle (i0, j0), (i0+1, j0), (i0+1, j0+1)
        return float(a + fx * (b - a) + fy * (c - b))
    v00, v10, v01, v11 = val(i0, j0), val(i0 + 1, j0), val(i0, j0 + 1), val(i0 + 1, j0 + 1)
    return float(
        v00 * (1 - fx) * (1 - fy) + v10 * fx * (1 - fy) + v01 * (1 - fx) * fy + v11 * fx * fy
    )


# ============================================================================ the solver
class _Xi:
    """Cell averages of xi'', xi' and xi' + C xi'' along a segment of C, vectorized."""

    def __init__(self, coeffs):
        self.coeffs = tuple((int(p), float(a)) for p, a in coeffs)

    def cell_averages(self, c0, c1):
        """Averages over a cell on which ``C`` runs linearly from ``c0`` to ``c1``.

        With ``s_k = (c1^k - c0^k) / (c1 - c0) = sum_{j<k} c1^j c0^(k-1-j)`` (no division, so
        exact also for ``c1 = c0``): ``<xi''> = sum_p a_p p s_(p-1)``, ``<xi'> = sum_p a_p s_p``
        and ``<xi' + C xi''> = <d(C xi')/dC> = sum_p a_p p s_p``. For ``p = 2`` these are the
        trapezoidal averages.
        """
        m, b, g = np.zeros_like(c0), np.zeros_like(c0), np.zeros_like(c0)
        for p, a in self.coeffs:
            pw0, pw1 = [np.ones_like(c0)], [np.ones_like(c1)]
            for _ in range(p - 1):
                pw0.append(pw0[-1] * c0)
                pw1.append(pw1[-1] * c1)
            s_p = sum(pw1[j] * pw0[p - 1 - j] for j in range(p))
            s_pm1 = sum(pw1[j] * pw0[p - 2 - j] for j in range(p - 1))
            m += (a * p) * s_pm1
            b += a * s_p
            g += (a * p) * s_p
        return m, b, g


class _Run:
    """One run of the solver: a uniform two-time grid of ``n + 1`` times with halvings."""

    def __init__(self, xi: _Xi, T, h0, n, band, adaptive, t_max, tol, max_iter):
        self.xi, self.T, self.h, self.n = xi, float(T), float(h0), int(n)
        self.band, self.adaptive, self.t_max = int(band), adaptive, float(t_max)
        self.tol, self.max_iter = tol, max_iter
        m = self.n + 1
        z = lambda: np.zeros((m, m))  # noqa: E731
        self.C, self.X = z(), z()  # point values, lower triangle (i >= j)
        self.Mv, self.Bv, self.Gv = z(), z(), z()  # row cell averages of xi'', xi', xi'+C xi''
        self.CA, self.XA = z(), z()  # CA[l, j]: cell-l average of C(u, t_j); XA likewise of chi
        self.DXL = z()  # DXL[j, l] = chi[j, l-1] - chi[j, l] (cell integral of R(t_j, .)), l <= j
        self.C[0, 0] = 1.0
        self.FC = np.zeros(m)  # d_t C(t_{i}, t_j) of the last row (j < i), and the diagonal limit
        self.FX = np.zeros(m)
        self.FC[0], self.FX[0] = -self.T, 1.0
        self.halved = False
        self.i = 0
        self.times, self.energies, self.mus = [0.0], [0.0], [self.T]
        self.grids = []
        self.iters = 0

    # -------------------------------------------------------------------- one row
    def _row_averages(self, i, hi):
        """Cell averages of row i (cells l = 1..hi) from its point values (C linear per cell)."""
        Ci, Xi = self.C[i], self.X[i]
        l = np.arange(1, hi + 1)
        c0, c1 = Ci[l - 1], Ci[l]
        self.Mv[i, l], self.Bv[i, l], self.Gv[i, l] = self.xi.cell_averages(c0, c1)
        self.DXL[i, l] = Xi[l - 1] - Xi[l]

    def step(self) -> None:
        i = self.i + 1
        h, T = self.h, self.T
        C, X = self.C, self.X
        nb = self.band if self.halved else 0
        js = i - nb  # columns 0..js-1 are solved; js..i-1 copied (band); i diagonal
        C[i, i], X[i, i] = 1.0, 0.0
        if nb:
            C[i, js:i] = C[i - 1, js - 1 : i - 1]
            X[i, js:i] = X[i - 1, js - 1 : i - 1]
            lb = i - nb + 1  # cells lb..i lie inside the band
            for A in (self.Mv, self.Bv, self.Gv, self.DXL):
                A[i, lb : i + 1] = A[i - 1, lb - 1 : i]
            self.CA[i, js:i] = self.CA[i - 1, js - 1 : i - 1]
            self.XA[i, js:i] = self.XA[i - 1, js - 1 : i - 1]
        # predictor: linear extrapolation in t at fixed t' (previous row where unavailable)
        if i >= 2:
            C[i, :js] = 2.0 * C[i - 1, :js] - np.where(
                np.arange(js) <= i - 2, C[i - 2, :js], C[:js, i - 2]
            )
            X[i, :js] = 2.0 * X[i - 1, :js] - np.where(np.arange(js) <= i - 2, X[i - 2, :js], 0.0)
        else:
            C[i, :js] = C[i - 1, :js] + h * self.FC[:js]
            X[i, :js] = X[i - 1, :js] + h * self.FX[:js]
        C[i, :js] = np.clip(C[i, :js], -1.0, 1.0)
        hi_cell = js if nb else i  # cells 1..hi_cell from point values, the rest copied
        CA_old = self.CA[1:i, :i]  # rows l = 1..i-1: fixed during the iteration
        XA_old = self.XA[1:i, :i]
        DXL_old = self.DXL[:i, 1:i]  # rows j = 0..i-1, cells 1..i-1
        Cprev, Xprev = C[i - 1, :js], X[i - 1, :js]
        Cprev_h = C[i - 1, :i].copy()  # for the horizontal averages of cell i
        Xprev_h = X[i - 1, :i].copy()
        FCp, FXp = self.FC[:js], self.FX[:js]
        f_prev = g_prev = None
        dF: list = []
        dG: list = []
        for _ in range(self.max_iter):
            self._row_averages(i, hi_cell)
            w = self.Mv[i, 1 : i + 1] * self.DXL[i, 1 : i + 1]  # cells 1..i
            mu = T + float(self.Gv[i, 1 : i + 1] @ self.DXL[i, 1 : i + 1])
            # horizontal averages of cell i for columns j < i
            cah = 0.5 * (Cprev_h + C[i, :i])
            xah = 0.5 * (Xprev_h + X[i, :i])
            if nb:
                cah[js:i] = self.CA[i, js:i]
                xah[js:i] = self.XA[i, js:i]
            I1 = w[:-1] @ CA_old + w[-1] * cah  # (i,)
            IX = w[:-1] @ XA_old + w[-1] * xah
            I2 = DXL_old @ self.Bv[i, 1:i]  # (i,): sum over cells l <= j of Bv[i,l] DX[j,l]
            a = w[-1]
            # C[i,j] (1 + h mu/2 - h a/4) = C[i-1,j] + h/2 (FCp + rest), rest excludes the
            # implicit part a C[i,j]/2 of I1 and -mu C[i,j]
            restC = I1[:js] - 0.5 * a * C[i, :js] + I2[:js]
            restX = IX[:js] - 0.5 * a * X[i, :js] + 1.0
            den = 1.0 + 0.5 * h * mu - 0.25 * h * a
            newC = (Cprev + 0.5 * h * (FCp + restC)) / den
            newX = (Xprev + 0.5 * h * (FXp + restX)) / den
            u = np.concatenate([C[i, :js], X[i, :js]])
            g = np.concatenate([newC, newX])
            f = g - u
            delta = float(np.max(np.abs(f), initial=0.0))
            self.iters += 1
            if delta <= self.tol:
                C[i, :js], X[i, :js] = newC, newX
                break
            # Anderson acceleration of the fixed point (the plain iteration contracts slowly
            # once h mu is not small)
            if f_prev is not None:
                dF.append(f - f_prev)
                dG.append(g - g_prev)
                if len(dF) > _ANDERSON:
                    dF.pop(0)
                    dG.pop(0)
                DF = np.stack(dF, axis=1)
                gamma = np.linalg.lstsq(DF, f, rcond=None)[0]
                u_new = g - np.stack(dG, axis=1) @ gamma
            else:
                u_new = g
            f_prev, g_prev = f, g
            C[i, :js] = np.clip(u_new[:js], -1.0, 1.0)
            X[i, :js] = u_new[js:]
        self._row_averages(i, hi_cell)
        w = self.Mv[i, 1 : i + 1] * self.DXL[i, 1 : i + 1]
        mu = T + float(self.Gv[i, 1 : i + 1] @ self.DXL[i, 1 : i + 1])
        energy = -float(self.Bv[i, 1 : i + 1] @ self.DXL[i, 1 : i + 1])
        # finalize the averages of cell i (row i of CA/XA) and column i (row i's own cells)
        cah = 0.5 * (Cprev_h + C[i, :i])
        xah = 0.5 * (Xprev_h + X[i, :i])
        if nb:
            cah[js:i] = self.CA[i, js:i]
            xah[js:i] = self.XA[i, js:i]
        self.CA[i, :i] = cah
        self.XA[i, :i] = xah
        # column i of CA: cell l <= i average of C(u, t_i) for u < t_i = row i's vertical average
        l = np.arange(1, i + 1)
        cv = 0.5 * (C[i, l - 1] + C[i, l])
        if nb:
            lb = i - nb + 1
            cv[lb - 1 :] = self.CA[lb - 1 : i, i - 1]  # TTI: copy column i-1's band cells
        self.CA[1 : i + 1, i] = cv
        self.XA[1 : i + 1, i] = 0.0
        # derivatives of row i for the next step
        I1 = w[:-1] @ self.CA[1:i, :i] + w[-1] * self.CA[i, :i]
        IX = w[:-1] @ self.XA[1:i, :i] + w[-1] * self.XA[i, :i]
        I2 = self.DXL[:i, 1:i] @ self.Bv[i, 1:i]
        self.FC[:i] = -mu * C[i, :i] + I1 + I2
        self.FX[:i] = 1.0 - mu * X[i, :i] + IX
        self.FC[i], self.FX[i] = -T, 1.0
        self.i = i
        self.times.append(i * h)
        self.energies.append(energy)
        self.mus.append(mu)

    # -------------------------------------------------------------------- halving
    def halve(self) -> None:
        n, k = self.n, self.n // 2
        self.grids.append((self.h, self.C.copy(), self.X.copy()))
        e = np.arange(0, n + 1, 2)
        m1 = np.arange(1, k + 1)
        for A in (self.C, self.X):
            A[: k + 1, : k + 1] = A[np.ix_(e, e)]
        for A in (self.Mv, self.Bv, self.Gv):  # vertical: merge cells 2m-1, 2m of row 2i
            new = np.zeros((k + 1, k + 1))
            new[:, 1:] = 0.5 * (A[np.ix_(e, 2 * m1 - 1)] + A[np.ix_(e, 2 * m1)])
            A[: k + 1, : k + 1] = new
        new = np.zeros((k + 1, k + 1))
        new[:, 1:] = self.DXL[np.ix_(e, 2 * m1 - 1)] + self.DXL[np.ix_(e, 2 * m1)]
        self.DXL[: k + 1, : k + 1] = new
        for A in (self.CA, self.XA):  # cell l -> cells 2l-1, 2l (row index) at column 2j
            new = np.zeros((k + 1, k + 1))
            new[1:, :] = 0.5 * (A[np.ix_(2 * m1 - 1, e)] + A[np.ix_(2 * m1, e)])
            A[: k + 1, : k + 1] = new
        # the two cells touching the diagonal, where C(u, t_j) has its cusp at u = t_j: the
        # trapezoid of the coarse points, as the new rows will use (see the module docstring)
        j = np.arange(k)
        self.CA[j + 1, j + 1] = 0.5 * (self.C[j + 1, j] + self.C[j + 1, j + 1])
        self.CA[j + 1, j] = 0.5 * (self.C[j + 1, j] + self.C[j, j])
        for A in (self.C, self.X, self.Mv, self.Bv, self.Gv, self.DXL, self.CA, self.XA):
            A[k + 1 :, :] = 0.0
            A[:, k + 1 :] = 0.0
        self.FC[: k + 1] = self.FC[e]
        self.FC[k + 1 :] = 0.0
        self.FX[: k + 1] = self.FX[e]
        self.FX[k + 1 :] = 0.0
        self.i = k
        self.h *= 2.0
        self.halved = True

    def run(self) -> None:
        while self.i * self.h < self.t_max * (1 - 1e-12):
            if self.i == self.n:
                if not self.adaptive:
                    break
                self.halve()
            self.step()
        m = self.i + 1
        self.grids.append((self.h, self.C[:m, :m].copy(), self.X[:m, :m].copy()))


def _check_dynamics_args(temperature, t_max, h0, grid, band, tol, max_iter):
    try:
        T = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number >= 0; got {temperature!r}") from None
    if not (math.isfinite(T) and T >= 0):
        raise ValueError(f"temperature must be finite and >= 0; got {temperature!r}")
    try:
        t_max = float(t_max)
        h0 = float(h0)
    except (TypeError, ValueError):
        raise ValueError("t_max and h0 must be numbers > 0") from None
    if not (math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be finite and > 0; got {t_max!r}")
    if not (math.isfinite(h0) and 0 < h0 <= t_max):
        raise ValueError(f"h0 must satisfy 0 < h0 <= t_max; got {h0!r}")
    if isinstance(grid, bool) or not isinstance(grid, int | np.integer) or grid < 8 or grid % 4:
        raise ValueError(f"grid must be an integer >= 8 divisible by 4; got {grid!r}")
    if (
        isinstance(band, bool)
        or not isinstance(band, int | np.integer)
        or not 0 <= band < grid // 4
    ):
        raise ValueError(f"band must be an integer with 0 <= band < grid/4; got {band!r}")
    if not (tol > 0):
        raise ValueError(f"tol must be > 0; got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1; got {max_iter!r}")
    return T, t_max, h0, int(grid), int(band)


def _solve(xi, T, t_max, h0, grid, band, adaptive, tol, max_iter) -> _Run:
    n = grid if adaptive else max(8, int(math.ceil(t_max / h0 - 1e-9)))
    run = _Run(xi, T, h0, n, band, adaptive, t_max, tol, max_iter)
    run.run()
    return run


def dynamics(
    xi,
    temperature: float,
    t_max: float,
    *,
    h0: float = 0.01,
    grid: int = 512,
    band: int = 0,
    adaptive: bool = True,
    error: bool = True,
    tol: float = 1e-11,
    max_iter: int = 200,
    convention: Convention = "abc",
) -> DynamicsSolution:
    """Solve the closed N -> infinity Langevin dynamics of a spherical p-spin from a random start.

    Parameters
    ----------
    xi : int, dict or model
        Pure ``p``, a mixture ``{p: a_p}`` or an object with ``xi`` (as in :mod:`pspin.theory`).
    temperature : float
        ``T >= 0`` (``0``: gradient flow).
    t_max : float
        Last time (> 0).
    h0 : float
        Step of the fixed fine grid (the first ``grid`` steps).
    grid : int
        Times per grid (>= 8, divisible by 4); memory ``~ 8 grid^2`` doubles.
    band : int
        Cells next to the diagonal carried by time-translation invariance after a halving
        (default 0: none; see the module docstring).
    adaptive : bool
        Halve the grid and double the step when it is full (Kim–Latz); ``False`` keeps the step
        ``h0`` to ``t_max`` (a grid of ``t_max / h0`` times).
    error : bool
        Also run with step ``2 h0`` on a grid of ``grid / 2`` times and report the difference.
    tol, max_iter
        Fixed-point tolerance and iteration cap per step.
    convention : {"abc", "cs"}
        Units of ``temperature`` and of the energies.

    Returns
    -------
    DynamicsSolution
    """
    T, t_max, h0, grid, band = _check_dynamics_args(
        temperature, t_max, h0, grid, band, tol, max_iter
    )
    m = _model(xi, convention)
    xs = _Xi(m.coeffs)
    t0 = time.perf_counter()
    run = _solve(xs, T, t_max, h0, grid, band, adaptive, tol, max_iter)
    wall = time.perf_counter() - t0
    t = np.asarray(run.times)
    e = np.asarray(run.energies)
    err = np.zeros_like(e)
    params = dict(
        h0=h0,
        grid=grid,
        band=band,
        adaptive=bool(adaptive),
        tol=tol,
        iterations=run.iters,
        steps=len(run.times) - 1,
        halvings=len(run.grids) - 1,
        final_step=run.h,
        seconds=wall,
    )
    if error:
        t1 = time.perf_counter()
        g2 = grid // 2 if adaptive else grid
        coarse = _solve(xs, T, t_max, 2 * h0, g2, band, adaptive, tol, max_iter)
        tc, ec = np.asarray(coarse.times), np.asarray(coarse.energies)
        # compare at the coarse times (a subset of the fine times), interpolate the difference
        diff = np.abs(np.interp(tc, t, e) - ec)
        err = np.interp(t, tc, diff)
        params["error_seconds"] = time.perf_counter() - t1
    return DynamicsSolution(
        xi={int(p): float(a) for p, a in m.coeffs},
        temperature=T,
        t=t,
        energy=e,
        mu=np.asarray(run.mus),
        error=err,
        grids=tuple(run.grids),
        params=params,
        convention=m.convention,
    )


# ============================================================================ p = 2 exactly
def p2_zero_temperature(t, scale: float = 1.0) -> dict:
    """Closed-form ``T = 0`` dynamics of the pure ``p = 2`` model (ABC, weight ``scale``).

    ``H = s.M s`` with ``M`` a GOE whose semicircle has radius ``r = sqrt(2 scale)``; gradient
    flow is linear, ``s(t) ~ exp(-2 M t) s(0)``, so with ``Z(a) = int exp(-a l) rho(l) dl =
    2 I_1(a r)/(a r)``: ``e(t) = -r I_2(4 r t)/I_1(4 r t)``, ``mu(t) = -2 e(t)``,
    ``C(t, t') = Z(2(t + t'))/sqrt(Z(4t) Z(4t'))`` and
    ``R(t, t') = Z(2(t - t')) sqrt(Z(4t')/Z(4t))``.

    Parameters
    ----------
    t : array
        Times (>= 0).
    scale : float
        Weight ``a`` of ``xi(q) = a q^2``.

    Returns
    -------
    dict
        ``energy(t)``, ``mu(t)`` arrays and callables ``correlation(t, t')``,
        ``response(t, t')``.
    """
    r = math.sqrt(2.0 * scale)

    def log_z(a):
        x = np.asarray(a, dtype=float) * r
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(2.0 * ive(1, x) / np.where(x == 0, 1.0, x)) + x
        return np.where(x == 0, 0.0, out)

    t = np.asarray(t, dtype=float)
    x = 4.0 * r * t
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(x == 0, 0.0, -r * ive(2, x) / np.where(x == 0, 1.0, ive(1, x)))

    def corr(t1, t2):
        return np.exp(
            log_z(2 * (np.asarray(t1) + t2))
            - 0.5 * (log_z(4 * np.asarray(t1)) + log_z(4 * np.asarray(t2)))
        )

    def resp(t1, t2):
        return np.exp(
            log_z(2 * (np.asarray(t1) - t2))
            + 0.5 * (log_z(4 * np.asarray(t2)) - log_z(4 * np.asarray(t1)))
        )

    return {"energy": e, "mu": -2.0 * e, "correlation": corr, "response": resp}
