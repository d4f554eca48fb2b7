"""Random-matrix densities: the semicircle law and the exact finite-N GOE densities.

:func:`semicircle_density` / :func:`semicircle_cdf` are the one semicircle of the project
(Hessian laws, spectra, the p = 2 dynamics use them). :func:`goe_density` and
:func:`goe_ordered_eigenvalue_density` are exact for the N x N GOE in ABC's normalization.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import erfc, gammaln

from pspin.theory.conventions import _check_n

__all__ = [
    "semicircle_density",
    "semicircle_cdf",
    "goe_density",
    "goe_ordered_eigenvalue_density",
]


def semicircle_density(x, center: float = 0.0, radius: float = 2.0) -> np.ndarray:
    """Wigner semicircle density ``2/(pi R^2) sqrt(R^2 - (x - c)^2)`` on ``[c - R, c + R]``.

    Parameters
    ----------
    x : float or array
        Points.
    center : float
        Centre ``c``.
    radius : float
        Radius ``R > 0`` (``R = 2 sigma`` for a Wigner matrix of entry variance ``sigma^2/N``;
        the default 2 is the standard semicircle of variance 1).

    Returns
    -------
    ndarray
        The density (0 outside the support), shape of ``x``; it integrates to 1.
    """
    radius = float(radius)
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be finite and > 0; got {radius!r}")
    t = (np.asarray(x, dtype=float) - float(center)) / radius
    return np.where(
        np.abs(t) < 1, 2.0 / (math.pi * radius) * np.sqrt(np.clip(1 - t * t, 0, 1)), 0.0
    )


def semicircle_cdf(x, center: float = 0.0, radius: float = 2.0) -> np.ndarray:
    """Cumulative distribution function of :func:`semicircle_density` (same parameters)."""
    radius = float(radius)
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be finite and > 0; got {radius!r}")
    return _semicircle_cdf((np.asarray(x, dtype=float) - float(center)) / radius)


def _semicircle_cdf(t: np.ndarray) -> np.ndarray:
    """CDF of the semicircle on [-1, 1] at ``t``."""
    t = np.clip(t, -1.0, 1.0)
    return 0.5 + (t * np.sqrt(1.0 - t * t) + np.arcsin(t)) / math.pi


# ================================================================== GOE densities (exact, N x N)
# GOE^N in ABC's normalization: real symmetric N x N, E M_ij^2 = (1 + delta_ij)/(2N), eigenvalue
# density prop. to prod |l_i - l_j| exp(-N sum l_i^2 / 2), semicircle on [-sqrt2, sqrt2].
# Basis: e_n(y) = He_n(s) exp(-s^2/4) / sqrt(n!), s = sqrt(2N) y (Hermite functions; the
# polynomials He_n(s) are orthogonal for exp(-N y^2), which keeps the Pfaffians well conditioned).


@functools.lru_cache(maxsize=64)
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.legendre.leggauss(n)
    t.setflags(write=False)
    w.setflags(write=False)
    return t, w


def _hermite_functions(t: np.ndarray, n: int, N: int) -> np.ndarray:
    """``e_j(t)`` for ``j = 0..n-1``, shape ``t.shape + (n,)`` (stable three-term recurrence)."""
    s = math.sqrt(2.0 * N) * np.asarray(t, dtype=float)
    e = np.empty(s.shape + (n,))
    e[..., 0] = np.exp(-0.25 * s * s)
    if n > 1:
        e[..., 1] = s * e[..., 0]
    for j in range(1, n - 1):
        e[..., j + 1] = (s * e[..., j] - math.sqrt(j) * e[..., j - 1]) / math.sqrt(j + 1)
    return e


def _hermite_cumulative(t: np.ndarray, n: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """``(e_j(t), int_{-inf}^t e_j)`` for ``j = 0..n-1``.

    Uses ``de_j/ds = (sqrt(j) e_{j-1} - sqrt(j+1) e_{j+1}) / 2``, i.e.
    ``E_{j+1} = (sqrt(j) E_{j-1} - 2 e_j) / sqrt(j+1)`` with ``E_0 = sqrt(pi) erfc(-s/2)``.
    """
    s = math.sqrt(2.0 * N) * np.asarray(t, dtype=float)
    e = _hermite_functions(t, n, N)
    E = np.empty_like(e)
    E[..., 0] = math.sqrt(math.pi) * erfc(-0.5 * s)
    if n > 1:
        E[..., 1] = -2.0 * e[..., 0]
    for j in range(1, n - 1):
        E[..., j + 1] = (math.sqrt(j) * E[..., j - 1] - 2.0 * e[..., j]) / math.sqrt(j + 1)
    return e, E / math.sqrt(2.0 * N)


def _hermite_total(n: int, N: int) -> np.ndarray:
    """``int_R e_j`` for ``j = 0..n-1``."""
    E = np.zeros(n)
    E[0] = 2.0 * math.sqrt(math.pi)
    for j in range(1, n - 1):
        E[j + 1] = math.sqrt(j / (j + 1)) * E[j - 1]
    return E / math.sqrt(2.0 * N)


def _log_goe_norm(N: int) -> float:
    """log of ``int_{R^N} prod|l_i - l_j| exp(-N sum l^2/2) dl`` (Mehta's integral)."""
    j = np.arange(1, N + 1)
    return (
        0.5 * N * math.log(2 * math.pi)
        + float(np.sum(gammaln(1 + j / 2.0) - gammaln(1.5)))
        - (N * (N - 1) / 4.0 + N / 2.0) * math.log(N)
    )


def goe_density(N: int, x) -> np.ndarray:
    """Exact one-point eigenvalue density of the N x N GOE in ABC's normalization (integral 1).

    ``E M_ij^2 = (1 + delta_ij)/(2N)``; the density tends to the semicircle on
    ``[-sqrt2, sqrt2]``. Mehta's formula: the GUE kernel of Hermite functions plus the
    ``epsilon``-correction of the orthogonal ensemble (and its odd-N term).

    Parameters
    ----------
    N : int
        Matrix size (>= 2).
    x : float or array
        Points.
    """
    N = _check_n(N)
    x = np.asarray(x, dtype=float)
    e, E = _hermite_cumulative(x, N + 1, N)
    Einf = _hermite_total(N + 1, N)
    # R_1 in Mehta's variable X = sqrt(N) x, with phi_j(X) = pi^{-1/4} e_j(x):
    R = np.sum(e[..., :N] ** 2, axis=-1) / math.sqrt(math.pi)
    R = R + math.sqrt(N / 2.0) * e[..., N - 1] * math.sqrt(N) * (E[..., N] - 0.5 * Einf[N]) / (
        math.sqrt(math.pi)
    )
    if N % 2:
        R = R + e[..., N - 1] / (math.sqrt(N) * Einf[N - 1])
    return R / math.sqrt(N)


def _pfaffian_log(A: np.ndarray) -> np.ndarray:
    """Complex log of the Pfaffian of a batch of skew matrices ``(B, n, n)``, ``n`` even.

    Parlett–Reid ``L T L^T`` elimination with partial pivoting, vectorized over the batch
    (the loop runs over the ``n/2`` elimination steps only). The input is overwritten.
    """
    B, n, _ = A.shape
    logpf = np.zeros(B, dtype=complex)
    for k in range(0, n - 1, 2):
        kp = k + 1 + np.abs(A[:, k + 1 :, k]).argmax(axis=1)
        s = np.nonzero(kp != k + 1)[0]
        if s.size:
            q = kp[s]
            row = A[s, k + 1, :].copy()
            A[s, k + 1, :] = A[s, q, :]
            A[s, q, :] = row
            col = A[s, :, k + 1].copy()
            A[s, :, k + 1] = A[s, :, q]
            A[s, :, q] = col
            logpf[s] += 1j * math.pi
        piv = A[:, k, k + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            logpf += np.log(piv)
            if k + 2 < n:
                tau = A[:, k, k + 2 :] / piv[:, None]
                v = A[:, k + 2 :, k + 1]
                # rank-2 skew update tau v^T - v tau^T as one batched matrix product
                A[:, k + 2 :, k + 2 :] += np.stack([tau, -v], axis=2) @ np.stack([v, tau], axis=1)
    return logpf


def _ordered_block(N: int, x: np.ndarray, nq: int, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Densities of all ordered eigenvalues at the points ``x`` (1-D): ``(len(x), N)``.

    de Bruijn: with ``M = N-1`` other eigenvalues ``y`` and a marker ``z`` per eigenvalue below
    ``x``, ``int |Delta(y)| prod |y_j - x| w(y_j) z^{#{y_j < x}} dy = M! Pf(A(z))`` with
    ``A(z) = z^2 A_L + A_R + z (b_L b_R^T - b_R b_L^T)`` (augmented by ``b(z) = z b_L + b_R``
    when ``M`` is odd); the one-dimensional integrals use the exact antiderivatives of the
    Hermite functions and Gauss–Legendre on each side of ``x``. Evaluating at the N-th roots of
    unity and an FFT give the coefficient of ``z^k`` for every ``k`` at once.
    Returns the densities and an absolute round-off bound per entry.
    """
    M = N - 1
    nx = x.size
    tq, wq = _leggauss(nq)
    xx = x[:, None]
    # left side [-L, x] and right side [x, L]; the Hermite functions are negligible beyond L
    xc = np.clip(xx, -L, L)
    tL = 0.5 * (xc + L) * tq + 0.5 * (xc - L)
    wL = 0.5 * (xc + L) * wq
    tR = 0.5 * (L - xc) * tq + 0.5 * (L + xc)
    wR = 0.5 * (L - xc) * wq
    i = np.arange(M)
    up = np.sqrt((i + 1) / (2.0 * N))
    dn = np.sqrt(i / (2.0 * N))

    def antideriv(E, xcol):
        # int_{-inf}^t (x - y) e_i(y) dy, using y e_i = up_i e_{i+1} + dn_i e_{i-1}
        G = xcol * E[..., :M] - up * E[..., 1 : M + 1]
        G[..., 1:] -= dn[1:] * E[..., : M - 1]
        return G

    eL, EL = _hermite_cumulative(tL, M + 1, N)
    eR, ER = _hermite_cumulative(tR, M + 1, N)
    _, Ex = _hermite_cumulative(x, M + 1, N)
    Gx = antideriv(Ex, xx)  # (nx, M)
    Ginf = antideriv(np.broadcast_to(_hermite_total(M + 1, N), (nx, M + 1)), xx)
    GL = antideriv(EL, xx[..., None])  # (nx, nq, M)
    gL = (xx - tL)[..., None] * eL[..., :M]
    GR = Gx[:, None, :] - antideriv(ER, xx[..., None])
    gR = (tR - xx)[..., None] * eR[..., :M]
    bL = Gx
    bR = Gx - Ginf
    AL = (
        2.0 * np.matmul((GL * wL[..., None]).transpose(0, 2, 1), gL)
        - bL[:, :, None] * bL[:, None, :]
    )
    AR = (
        2.0 * np.matmul((GR * wR[..., None]).transpose(0, 2, 1), gR)
        - bR[:, :, None] * bR[:, None, :]
    )
    AL = 0.5 * (AL - AL.transpose(0, 2, 1))
    AR = 0.5 * (AR - AR.transpose(0, 2, 1))
    C = bL[:, :, None] * bR[:, None, :] - bR[:, :, None] * bL[:, None, :]
    nz = N // 2 + 1  # P(conj z) = conj P(z): half of the roots of unity suffice
    z = np.exp(2j * math.pi * np.arange(nz) / N)[None, :, None, None]
    nA = M + (M % 2)
    A = np.zeros((nx, nz, nA, nA), dtype=complex)
    A[:, :, :M, :M] = z * z * AL[:, None] + AR[:, None] + z * C[:, None]
    if M % 2:
        bz = z[..., 0] * bL[:, None, :] + bR[:, None, :]
        A[:, :, :M, M] = bz
        A[:, :, M, :M] = -bz
    lp = _pfaffian_log(A.reshape(nx * nz, nA, nA)).reshape(nx, nz)
    h = 0.5 * (gammaln(i + 1) - i * math.log(2.0 * N))  # monic <-> e_n basis
    const = math.log(N) - _log_goe_norm(N) + gammaln(M + 1) + float(h.sum())
    lp = lp + const - 0.5 * N * x[:, None] ** 2
    ref = lp.real.max(axis=1, keepdims=True)
    half = np.exp(lp - ref)
    full = np.empty((nx, N), dtype=complex)
    full[:, :nz] = half
    full[:, nz:] = np.conj(half[:, 1 : N - nz + 1][:, ::-1])
    coef = np.fft.fft(full, axis=1) / N
    scale = np.exp(ref)
    dens = coef.real * scale
    roundoff = 4.0 * N * np.finfo(float).eps * np.abs(full).max(axis=1, keepdims=True) * scale
    return dens, np.broadcast_to(roundoff, dens.shape)


def _ordered_densities(N: int, x: np.ndarray, nq: int, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Chunked :func:`_ordered_block` (bounded memory)."""
    x = np.asarray(x, dtype=float).ravel()
    nA = N - 1 + ((N - 1) % 2)
    per_x = 16 * (N // 2 + 1) * nA * nA * 3 + 8 * nq * N * 8
    chunk = max(1, int(48e6 // per_x))
    dens = np.empty((x.size, N))
    err = np.empty((x.size, N))
    for s in range(0, x.size, chunk):
        dens[s : s + chunk], err[s : s + chunk] = _ordered_block(N, x[s : s + chunk], nq, L)
    return dens, err


def _cutoff(N: int) -> float:
    """Half-width of the eigenvalue window: the GOE^N density is below ~1e-17 outside it."""
    return math.sqrt(2.0) + 7.0 / math.sqrt(N)


def _inner_nodes(N: int, resolution: float) -> int:
    return max(24, int(math.ceil(resolution * (4.0 * N + 24))))


def goe_ordered_eigenvalue_density(N: int, x) -> np.ndarray:
    """Exact densities of the ordered eigenvalues ``lambda_0 <= ... <= lambda_{N-1}`` of GOE^N.

    ABC's normalization (``E M_ij^2 = (1 + delta_ij)/(2N)``). Computed by de Bruijn's Pfaffian
    integration with a counting marker evaluated at the N-th roots of unity and an FFT (no
    randomness); the densities integrate to 1 to about 1e-13 for N <= 40.

    Parameters
    ----------
    N : int
        Matrix size (>= 2).
    x : float or array
        Points.

    Returns
    -------
    ndarray
        Shape ``x.shape + (N,)``: entry ``[..., k]`` is the density of ``lambda_k`` at ``x``.
    """
    N = _check_n(N)
    x = np.asarray(x, dtype=float)
    dens, _ = _ordered_densities(N, x.ravel(), _inner_nodes(N, 1.0), _cutoff(N))
    return dens.reshape(x.shape + (N,))
