"""Two-layer networks in the mean-field scaling, their particle dynamics and scaling laws.

The network (Mei–Montanari–Nguyen 2018; Sirignano–Spiliopoulos 2020; Chizat–Bach 2018;
Rotskoff–Vanden-Eijnden 2018) is

    g_N(x) = (1/N) sum_{i=1..N} c_i s(w_i . x),        theta_i = (c_i, w_i) in R^{1+d},

a function of the empirical measure of its N *particles* theta_i. The loss is half the mean
squared error over a frozen dataset (X, y) of n samples,

    L(theta) = (1/(2n)) sum_m (g_N(x_m) - y_m)^2,

exposed as a :class:`~landscapes.energy.FiniteSumEnergy` on ``Euclidean(N (1+d))`` with the
parameters laid out particle by particle: ``theta.reshape(K, N, 1+d)[:, :, 0]`` are the c_i
and ``[:, :, 1:]`` the w_i.

Time scale (documented scaling)
-------------------------------
Since g_N is an average, dL/dtheta_i = O(1/N). The mean-field dynamics moves every particle
by O(1) per unit time:

* **Full-batch GD**: theta_i <- theta_i - eps * N * dL/dtheta_i (step eps*N per particle),
  at time t = k * eps. This is the Euler scheme, with step eps, of the particle ODE
  d theta_i/dt = -grad Psi(theta_i; mu_t), whose N -> infinity limit is the mean-field PDE
  d_t mu = div(mu grad Psi(.; mu)), Psi(theta; mu) = (1/n) sum_m (g_mu(x_m) - y_m) c s(w.x_m).
* **Online SGD**: one sample (x_k, y_k) drawn uniformly from the data per step,
  theta_i <- theta_i - (alpha/N) * N * d l_k/dtheta_i with l_k = (g_N(x_k) - y_k)^2 / 2
  (Sirignano–Spiliopoulos: c_i += (alpha/N)(y_k - g_N(x_k)) s(w_i.x_k)), at time t = k/N.
  Its limit is the same PDE run at speed alpha (GD flow at time alpha*t); at finite N it
  carries an extra O(1/sqrt(N)) martingale fluctuation, so its output variance is C'/N
  with C' > C(GD).

In both, the training time does not depend on N. The NTK parametrisation
g = N^{-1/2} sum_i c_i s(w_i.x) (``scaling="ntk"``) is a different object: its output at
initialisation has variance O(1), not O(1/N), and its particles barely move.

Experiments (each takes ``widths``, ``seeds`` — how many — and ``seed``; all seeds of a
width run as one batched array computation; per-seed streams come from
``SeedSequence.spawn``):

* :func:`lln_experiment` — law of large numbers: rms distance of smooth observables to the
  limit ~ N^(-1/2), the limit estimated by an averaged reference 16x wider whose own
  variance is subtracted;
* :func:`clt_experiment` — central limit theorem: Var over seeds of the trained output
  ~ 1/N for GD and online SGD, and a normality test of sqrt(N)(g_N - mean);
* :func:`limit_experiment` — the limit itself: for inputs of dimension <= 2 the mean-field
  PDE is solved to high accuracy (:func:`meanfield_limit`: Gauss–Hermite quadrature of the
  initial law pushed through the exact characteristic flow) and the particle system's
  observables approach it at rate N^(-1/2), with a bias of the seed mean ~ 1/N.

Each experiment is a thin loop over public units, so that a sweep can run one width per
task anywhere and still get the experiment's result bit for bit: :func:`scaling_config`
(the validated configuration), :func:`scaling_streams` (the seed streams: one per width, the
bootstrap's...), :func:`scaling_test_inputs` and :func:`limit_solution`,
:func:`scaling_width` (all seeds of one width, batched) and :func:`lln_combine`,
:func:`clt_combine`, :func:`limit_combine` (bootstrap and fits -> :class:`ScalingResult`).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from landscapes._validation import as_points, check_int, check_positive
from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Euclidean
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info

__all__ = [
    "ACTIVATIONS",
    "MeanFieldNet",
    "DivergenceError",
    "Trajectory",
    "gd",
    "online_sgd",
    "as_data",
    "one_neuron_teacher",
    "isotropic_gaussians",
    "line_teacher",
    "meanfield_limit",
    "MeanFieldLimit",
    "fit_loglog",
    "bootstrap_slope",
    "ScalingResult",
    "CLTResult",
    "SCALING_KINDS",
    "scaling_config",
    "scaling_streams",
    "scaling_test_inputs",
    "scaling_width",
    "scaling_width_params",
    "limit_solution",
    "lln_combine",
    "clt_combine",
    "limit_combine",
    "lln_experiment",
    "clt_experiment",
    "limit_experiment",
]

ACTIVATIONS = ("tanh", "sigmoid")
INITS = ("gaussian", "uniform")

# scratch budget of one (K, N, n) pre-activation block, in float64 elements
_BLOCK_ELEMENTS = 1 << 21


class DivergenceError(ValueError):
    """The training dynamics diverged (loss non-finite or exploded): the step is too large."""


# ---------------------------------------------------------------------------- helpers
def _activation(name: str, Z: np.ndarray, order: int):
    """s(Z) and, up to ``order``, its first and second derivatives."""
    if name == "tanh":
        # tanh(z) = 1 - 2 / (exp(2z) + 1): several times faster than np.tanh, exact to ~1e-16
        with np.errstate(over="ignore"):
            S = np.exp(2.0 * Z)
        S += 1.0
        np.divide(-2.0, S, out=S)
        S += 1.0
        if order == 0:
            return S, None, None
        S1 = 1.0 - S * S
        return S, S1, (-2.0 * S * S1 if order >= 2 else None)
    if name == "sigmoid":
        with np.errstate(over="ignore"):
            S = np.exp(-Z)
        S += 1.0
        np.divide(1.0, S, out=S)
        if order == 0:
            return S, None, None
        S1 = S * (1.0 - S)
        return S, S1, (S1 * (1.0 - 2.0 * S) if order >= 2 else None)
    raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")


def _check_activation(name) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
    return name


def as_data(data) -> tuple[np.ndarray, np.ndarray]:
    """Validate a frozen dataset: an object with attributes ``X`` and ``y``, or a tuple (X, y).

    Returns read-only float64 copies ``X`` of shape (n, d) and ``y`` of shape (n,) (a target
    of shape (n, 1) is flattened).
    """
    if hasattr(data, "X") and hasattr(data, "y"):
        X, y = data.X, data.y
    elif isinstance(data, tuple | list) and len(data) == 2:
        X, y = data
    else:
        raise ValueError(
            "data must be a dataset with attributes X and y, or a tuple (X, y); "
            f"got {type(data).__name__}"
        )
    X = np.array(X, dtype=np.float64, copy=True)
    y = np.array(y, dtype=np.float64, copy=True)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"data X must have shape (n, d) with n, d >= 1; got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"data y must have shape (n,) = ({X.shape[0]},) (one real target per row of X); "
            f"got shape {y.shape}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("data X or y contains NaN or infinite values")
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def one_neuron_teacher(
    n: int = 200, d: int = 5, *, scale: float = 2.0, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs x ~ N(0, I_d) labelled by one tanh neuron, y = tanh(scale * u.x), |u| = 1."""
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    rng = as_generator(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((n, d))
    return X, np.tanh(check_positive(scale, "scale") * (X @ u))


def isotropic_gaussians(
    n: int = 200, d: int = 5, *, delta: float = 0.5, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mei–Montanari–Nguyen's two isotropic Gaussians: y = +-1, x ~ N(0, (1 +- delta)^2 I_d)."""
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    delta = float(delta)
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must lie in [0, 1); got {delta}")
    rng = as_generator(seed)
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    X = rng.standard_normal((n, d)) * (1.0 + delta * y)[:, None]
    return X, y


def line_teacher(
    n: int = 16, *, slope: float = 2.0, offset: float = -0.5, lim: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """A one-dimensional one-neuron teacher with a bias input: x = (u, 1), y = tanh(slope u + offset).

    ``u`` is an evenly spaced grid on [-lim, lim]. Inputs have dimension 2, so the
    mean-field limit is solvable to high accuracy by :func:`meanfield_limit`.
    """
    n = check_int(n, "n", minimum=2)
    u = np.linspace(-lim, lim, n)
    return np.column_stack([u, np.ones(n)]), np.tanh(slope * u + offset)


# ---------------------------------------------------------------------------- the kernels
def _field(c, W, Xb, yb, act, weights=None, order=1):
    """Residuals and per-particle velocity fields of the mean-field potential.

    ``c`` (K, N), ``W`` (K, N, d), ``Xb`` (n, d), ``yb`` (n,) shared by the replicas, or
    per-replica ``Xb`` (K, n, d), ``yb`` (K, n) (one minibatch each). The output is
    g = sum_i weights_i c_i s(w_i.x) (weights 1/N by default); returns the residual
    r = g - y (K, n), the pre-activation block pieces, and the unnormalized gradients
    vc_i = (1/n) sum_m r_m s_im, vw_i = (1/n) c_i sum_m r_m s'_im x_m, so that
    dL/dc_i = weights_i * vc_i.
    """
    Z = _lin(W, Xb)  # (K, N, n)
    S, S1, S2 = _activation(act, Z, order)
    cw = c / c.shape[1] if weights is None else c * weights
    g = (cw[:, None, :] @ S)[:, 0, :]
    r = g - yb
    if order == 0:
        return r, None, None, (S, S1, S2)
    nb = Xb.shape[-2]
    vc = (S @ r[:, :, None])[:, :, 0] / nb
    vw = c[:, :, None] * _back(S1 * r[:, None, :], Xb) / nb
    return r, vc, vw, (S, S1, S2)


def _lin(W, Xb):
    """Pre-activations W x for a block (K, N, d) and inputs (n, d): one 2-D product.

    Per-replica inputs (K, n, d): one batched product.
    """
    if Xb.ndim == 3:
        return np.matmul(W, Xb.transpose(0, 2, 1))
    K, N, d = W.shape
    return (np.ascontiguousarray(W).reshape(K * N, d) @ Xb.T).reshape(K, N, Xb.shape[0])


def _back(M, Xb):
    """sum_m M[k, i, m] x_m for a block (K, N, n): one 2-D product (batched: (K, n, d))."""
    if Xb.ndim == 3:
        return np.matmul(M, Xb)
    K, N, n = M.shape
    return (M.reshape(K * N, n) @ Xb).reshape(K, N, Xb.shape[1])


def _blocks(K: int, N: int, n: int):
    step = max(1, _BLOCK_ELEMENTS // max(1, N * n))
    for k0 in range(0, K, step):
        yield slice(k0, min(K, k0 + step))


class MeanFieldNet(FiniteSumEnergy):
    """Half the mean squared error of a two-layer network in the mean-field scaling.

    g_N(x) = (1/N) sum_i c_i s(w_i . x) (``scaling="meanfield"``) or N^{-1/2} sum_i ...
    (``scaling="ntk"``, for comparison); L = (1/(2n)) sum_m (g_N(x_m) - y_m)^2. Parameters
    are laid out particle by particle: ``theta.reshape(N, 1 + d)`` has rows (c_i, w_i).

    Parameters
    ----------
    data : dataset or tuple (X, y)
        Frozen data: an object with attributes ``X`` (n, d) and ``y`` (n,), or a tuple.
    N : int
        Width (number of particles), >= 1.
    activation : {"tanh", "sigmoid"}
        Smooth activation s.
    scaling : {"meanfield", "ntk"}
        Output normalisation 1/N or 1/sqrt(N).
    c_scale, w_scale : float
        Initialisation: c_i ~ N(0, c_scale^2), w_i ~ N(0, (w_scale^2 / d) I_d).
    init : {"gaussian", "uniform"}
        Law of the initial particles: Gaussian as above, or uniform on the box with the same
        variances (c_i ~ U(+-sqrt(3) c_scale), coordinates of w_i ~ U(+-sqrt(3/d) w_scale)),
        for which :func:`meanfield_limit` converges geometrically in the number of nodes.

    Notes
    -----
    Minibatches: ``idx`` may be 2-D (K, b), one minibatch per replica (see
    :class:`~landscapes.energy.FiniteSumEnergy`); the inputs are gathered to (K, b, d) and
    evaluated with batched products, all replicas in one pass.
    """

    intensive_name = "loss (half mean squared error)"

    def __init__(
        self,
        data,
        N: int,
        activation: str = "tanh",
        *,
        scaling: str = "meanfield",
        c_scale: float = 1.0,
        w_scale: float = 1.0,
        init: str = "gaussian",
    ):
        self.X, self.y = as_data(data)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {init!r}")
        self.init = init
        self.N = check_int(N, "N (the width)", minimum=1)
        self.activation = _check_activation(activation)
        if scaling not in ("meanfield", "ntk"):
            raise ValueError(f"scaling must be 'meanfield' or 'ntk'; got {scaling!r}")
        self.scaling = scaling
        self.c_scale = check_positive(c_scale, "c_scale")
        self.w_scale = check_positive(w_scale, "w_scale")
        self.n_samples = int(self.X.shape[0])
        self.d = int(self.X.shape[1])
        self.manifold = Euclidean(self.N * (self.d + 1))
        # dL/dtheta_i = a * v_i with a the output normalisation; the mean-field time scale
        # multiplies gradients by N so that particles move O(1) per unit time
        self.norm = 1.0 / self.N if scaling == "meanfield" else 1.0 / math.sqrt(self.N)
        self.speed = float(self.N) if scaling == "meanfield" else 1.0

    # ------------------------------------------------------------------ identity
    def params(self) -> dict:
        return {
            "model": "meanfield-net",
            "N": self.N,
            "d": self.d,
            "n_samples": self.n_samples,
            "activation": self.activation,
            "scaling": self.scaling,
            "c_scale": self.c_scale,
            "w_scale": self.w_scale,
            "init": self.init,
        }

    def _fingerprint_payload(self):
        return [self.X.tobytes(), self.y.tobytes()]

    # ------------------------------------------------------------------ layout
    def unpack(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """Split parameters ``(dim,)`` or ``(K, dim)`` into c ``(..., N)`` and W ``(..., N, d)``."""
        T, single = self._points(theta, "theta")
        P = T.reshape(T.shape[0], self.N, self.d + 1)
        c, W = P[:, :, 0], P[:, :, 1:]
        return (c[0], W[0]) if single else (c, W)

    def pack(self, c, W) -> np.ndarray:
        """Parameters from c ``(N,)``/``(K, N)`` and W ``(N, d)``/``(K, N, d)`` (a new array)."""
        c = np.asarray(c, dtype=np.float64)
        W = np.asarray(W, dtype=np.float64)
        if (
            c.shape[-1:] != (self.N,)
            or W.shape[-2:] != (self.N, self.d)
            or c.shape[:-1] != W.shape[:-2]
        ):
            raise ValueError(
                f"c must have shape (..., {self.N}) and W (..., {self.N}, {self.d}) with the same "
                f"batch shape; got {c.shape} and {W.shape}"
            )
        P = np.concatenate([c[..., None], W], axis=-1)
        return P.reshape(*c.shape[:-1], self.dim)

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """iid particles: c_i ~ N(0, c_scale^2), w_i ~ N(0, w_scale^2 I_d / d) (or uniform)."""
        rng = as_generator(seed)
        K = 1 if size is None else check_int(size, "size", minimum=1)
        if self.init == "gaussian":
            P = rng.standard_normal((K, self.N, self.d + 1))
        else:
            P = rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), size=(K, self.N, self.d + 1))
        P[:, :, 0] *= self.c_scale
        P[:, :, 1:] *= self.w_scale / math.sqrt(self.d)
        P = P.reshape(K, self.dim)
        return P[0] if size is None else P

    def predict(self, theta, X=None) -> np.ndarray:
        """Network outputs g_N on inputs ``X`` (m, d) (the training inputs by default).

        Returns (m,) for one parameter vector, (K, m) for a batch.
        """
        c, W = self.unpack(np.atleast_2d(theta))
        Xq = self.X if X is None else _check_inputs(X, self.d)
        out = np.empty((c.shape[0], Xq.shape[0]))
        for sl in _blocks(c.shape[0], self.N, Xq.shape[0]):
            S = _activation(self.activation, _lin(W[sl], Xq), 0)[0]
            out[sl] = self.norm * (c[sl][:, None, :] @ S)[:, 0, :]
        return out[0] if np.ndim(theta) == 1 else out

    # ------------------------------------------------------------------ kernels
    batched_idx = True  # 2-D idx: per-replica inputs (K, b, d), batched products

    def _batch(self, idx):
        if idx is None:
            return self.X, self.y
        return self.X[idx], self.y[idx]

    @staticmethod
    def _rows(Xb, yb, sl):
        """The data of the replicas ``sl``: all of it when shared, their rows when per-replica."""
        return (Xb[sl], yb[sl]) if Xb.ndim == 3 else (Xb, yb)

    def _energy_and_gradient(self, X, idx=None):
        Xb, yb = self._batch(idx)
        K = X.shape[0]
        P = X.reshape(K, self.N, self.d + 1)
        e = np.empty(K)
        G = np.empty((K, self.N, self.d + 1))
        w = np.full(self.N, self.norm)
        for sl in _blocks(K, self.N, Xb.shape[-2]):
            Xs, ys = self._rows(Xb, yb, sl)
            r, vc, vw, _ = _field(P[sl, :, 0], P[sl, :, 1:], Xs, ys, self.activation, w)
            e[sl] = 0.5 * np.mean(r * r, axis=1)
            G[sl, :, 0] = self.norm * vc
            G[sl, :, 1:] = self.norm * vw
        return e, G.reshape(K, self.dim)

    def _energy(self, X, idx=None):
        Xb, yb = self._batch(idx)
        K = X.shape[0]
        P = X.reshape(K, self.N, self.d + 1)
        e = np.empty(K)
        w = np.full(self.N, self.norm)
        for sl in _blocks(K, self.N, Xb.shape[-2]):
            Xs, ys = self._rows(Xb, yb, sl)
            r = _field(P[sl, :, 0], P[sl, :, 1:], Xs, ys, self.activation, w, order=0)[0]
            e[sl] = 0.5 * np.mean(r * r, axis=1)
        return e

    def _hvp(self, X, V, idx=None):
        """R-operator (Pearlmutter) Hessian-vector products, one vector per point."""
        Xb, yb = self._batch(idx)
        K = X.shape[0]
        nb = Xb.shape[-2]
        a = self.norm
        P = X.reshape(K, self.N, self.d + 1)
        D = V.reshape(K, self.N, self.d + 1)
        out = np.empty((K, self.N, self.d + 1))
        w = np.full(self.N, a)
        for sl in _blocks(K, self.N, nb):
            c, W = P[sl, :, 0], P[sl, :, 1:]
            dc, dW = D[sl, :, 0], D[sl, :, 1:]
            Xs, ys = self._rows(Xb, yb, sl)
            r, _, _, (S, S1, S2) = _field(c, W, Xs, ys, self.activation, w, order=2)
            RZ = _lin(dW, Xs)  # (k, N, n)
            cS1 = c[:, :, None] * S1
            Rr = a * ((dc[:, None, :] @ S)[:, 0, :] + np.einsum("kin,kin->kn", cS1, RZ))
            S1RZ = S1 * RZ
            out[sl, :, 0] = (a / nb) * (
                (S @ Rr[:, :, None])[:, :, 0] + (S1RZ @ r[:, :, None])[:, :, 0]
            )
            M = cS1 * Rr[:, None, :] + S1 * (dc[:, :, None] * r[:, None, :])
            M += c[:, :, None] * S2 * RZ * r[:, None, :]
            out[sl, :, 1:] = (a / nb) * _back(M, Xs)
        return out.reshape(K, self.dim)


def _check_inputs(X, d: int) -> np.ndarray:
    Xq = np.asarray(X, dtype=np.float64)
    if Xq.ndim != 2 or Xq.shape[1] != d or Xq.shape[0] < 1:
        raise ValueError(f"inputs must have shape (m, {d}); got shape {np.shape(X)}")
    if not np.all(np.isfinite(Xq)):
        raise ValueError("inputs contain NaN or infinite values")
    return Xq


# ---------------------------------------------------------------------------- dynamics
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Observables of a batch of training runs at recorded times.

    Attributes
    ----------
    times : ndarray (R,)
        Training times (mean-field time: k*eps for GD, k/N for online SGD).
    loss : ndarray (R, K)
        Full-batch loss L (half MSE) of each replica.
    outputs : ndarray (R, K, m)
        Network outputs on the test inputs (m = 0 when none were given).
    mean_abs_c, mean_c2, mean_w2 : ndarray (R, K)
        Particle averages <|c|>, <c^2> and <|w|^2>.
    theta : ndarray (K, dim)
        Final parameters.
    method : str
        "gd" or "online_sgd"; ``step`` is eps or alpha and ``steps`` the number of updates.
    """

    times: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    mean_abs_c: np.ndarray
    mean_c2: np.ndarray
    mean_w2: np.ndarray
    theta: np.ndarray
    method: str
    step: float
    steps: int


def _record_steps(steps: int, n_records: int) -> np.ndarray:
    n_records = check_int(n_records, "n_records", minimum=2)
    return np.unique(np.rint(np.linspace(0, steps, n_records)).astype(int))


def _diverged(method: str, step_name: str, step: float, t: float, loss: np.ndarray, limit):
    bad = np.nonzero(~np.isfinite(loss) | (loss > limit))[0]
    return DivergenceError(
        f"{method} diverged at time t={t:.4g}: loss {float(loss[bad[0]]):.3g} (replicas "
        f"{bad[:10].tolist()}) exceeds {limit:.3g}; the step {step_name}={step:g} is too large "
        f"for this data, try {step_name}={step / 4:g}"
    )


def gd(
    net: MeanFieldNet,
    theta0,
    *,
    eps: float,
    T: float,
    n_records: int = 11,
    test_X=None,
) -> Trajectory:
    """Full-batch gradient descent in the mean-field time scale, on a batch of replicas.

    theta_i <- theta_i - eps * N * dL/dtheta_i for ``round(T/eps)`` steps (time t = k eps).
    Replicas are independent; they run together in blocks of array operations.

    Raises
    ------
    DivergenceError
        (a ValueError) when a loss becomes non-finite or exceeds 1e4 times its scale.
    """
    eps = check_positive(eps, "eps")
    T = check_positive(T, "T", allow_zero=True)
    steps = int(round(T / eps))
    rec = _record_steps(steps, n_records)
    Th, _ = as_points(theta0, net.dim, name="theta0")
    Th = np.array(Th, copy=True)
    K = Th.shape[0]
    Xt = np.zeros((0, net.d)) if test_X is None else _check_inputs(test_X, net.d)
    R = rec.size
    out = _empty_records(R, K, Xt.shape[0])
    w = np.full(net.N, net.norm)
    limit = 1e4 * (1.0 + float(np.mean(net.y**2)))
    for sl in _blocks(K, net.N, net.n_samples):
        P = Th[sl].reshape(-1, net.N, net.d + 1)
        j = 0
        for k in range(steps + 1):
            r, vc, vw, _ = _field(P[:, :, 0], P[:, :, 1:], net.X, net.y, net.activation, w)
            loss = 0.5 * np.mean(r * r, axis=1)
            if not np.all(np.isfinite(loss) & (loss <= limit)):
                raise _diverged("gradient descent", "eps", eps, k * eps, loss, limit)
            if k == rec[j]:
                _record(out, j, sl, P, loss, net, Xt)
                j += 1
            if k == steps:
                break
            step = eps * net.speed * net.norm
            P[:, :, 0] -= step * vc
            P[:, :, 1:] -= step * vw
        Th[sl] = P.reshape(-1, net.dim)
    return Trajectory(rec * eps, *out, Th, "gd", eps, steps)


def online_sgd(
    net: MeanFieldNet,
    theta0,
    *,
    alpha: float,
    T: float,
    seed: SeedLike = None,
    n_records: int = 11,
    test_X=None,
) -> Trajectory:
    """Online SGD in the mean-field time scale: one sample per step, step alpha/N, time k/N.

    theta_i <- theta_i - (alpha/N) * N * d l_k/dtheta_i with l_k = (g_N(x_k) - y_k)^2 / 2 and
    (x_k, y_k) drawn uniformly from the data, for ``round(T N)`` steps. ``seed`` is one seed
    for all replicas, or a list of K seeds (one stream per replica: replica k of a batch then
    equals a single run given its stream).
    """
    alpha = check_positive(alpha, "alpha")
    T = check_positive(T, "T", allow_zero=True)
    Th, _ = as_points(theta0, net.dim, name="theta0")
    Th = np.array(Th, copy=True)
    K = Th.shape[0]
    steps = int(round(T * net.N))
    rec = _record_steps(steps, n_records)
    if isinstance(seed, list | tuple):
        if len(seed) != K:
            raise ValueError(f"seed must be one seed or a list of K={K} seeds; got {len(seed)}")
        idx = np.stack([as_generator(s).integers(net.n_samples, size=steps) for s in seed])
    else:
        idx = as_generator(seed).integers(net.n_samples, size=(K, steps))
    Xt = np.zeros((0, net.d)) if test_X is None else _check_inputs(test_X, net.d)
    out = _empty_records(rec.size, K, Xt.shape[0])
    P = Th.reshape(K, net.N, net.d + 1)
    c, W = np.ascontiguousarray(P[:, :, 0]), np.ascontiguousarray(P[:, :, 1:])
    a = net.norm
    lr = alpha / net.N * net.speed * a
    limit = 1e4 * (1.0 + float(np.mean(net.y**2)))
    j = 0
    allk = slice(0, K)
    for k in range(steps + 1):
        if k == rec[j]:
            r = _field(c, W, net.X, net.y, net.activation, order=0, weights=np.full(net.N, a))[0]
            loss = 0.5 * np.mean(r * r, axis=1)
            if not np.all(np.isfinite(loss) & (loss <= limit)):
                raise _diverged("online SGD", "alpha", alpha, k / net.N, loss, limit)
            P[:, :, 0], P[:, :, 1:] = c, W
            _record(out, j, allk, P, loss, net, Xt)
            j += 1
        if k == steps:
            break
        xs = net.X[idx[:, k]]  # (K, d)
        z = np.einsum("kid,kd->ki", W, xs)
        s, s1, _ = _activation(net.activation, z, 1)
        res = a * np.sum(c * s, axis=1) - net.y[idx[:, k]]  # (K,)
        gc = res[:, None] * s
        gw = (res[:, None] * c * s1)[:, :, None] * xs[:, None, :]
        c -= lr * gc
        W -= lr * gw
    P[:, :, 0], P[:, :, 1:] = c, W
    return Trajectory(rec / net.N, *out, Th, "online_sgd", alpha, steps)


def _empty_records(R, K, m):
    return [np.empty((R, K, m)) if i == 1 else np.empty((R, K)) for i in range(5)]


def _record(out, j, sl, P, loss, net, Xt):
    loss_a, outs, mac, mc2, mw2 = out
    loss_a[j, sl] = loss
    c, W = P[:, :, 0], P[:, :, 1:]
    if Xt.shape[0]:
        S = _activation(net.activation, _lin(W, Xt), 0)[0]
        outs[j, sl] = net.norm * (c[:, None, :] @ S)[:, 0, :]
    mac[j, sl] = np.mean(np.abs(c), axis=1)
    mc2[j, sl] = np.mean(c * c, axis=1)
    mw2[j, sl] = np.mean(np.sum(W * W, axis=2), axis=1)


# ---------------------------------------------------------------------------- the limit
@dataclass(frozen=True, eq=False)
class MeanFieldLimit:
    """The N -> infinity limit of mean-field GD, solved by quadrature of the initial law.

    Attributes
    ----------
    times : ndarray (R,)
    loss, mean_c2, mean_w2 : ndarray (R,)
        Limit observables (<|c|> is omitted: not smooth, so quadrature would be inexact).
    outputs : ndarray (R, m)
        Limit outputs on the test inputs.
    nodes : int
        Gauss–Hermite nodes per dimension; ``quadrature_error`` is the largest change of any
        observable when the rule is refined by ``refine`` nodes per dimension.
    """

    times: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    mean_c2: np.ndarray
    mean_w2: np.ndarray
    nodes: int
    quadrature_error: float


def _limit_once(X, y, act, c_scale, w_scale, init, eps, steps, rec, Xt, q):
    d = X.shape[1]
    if init == "gaussian":
        z, wq = np.polynomial.hermite_e.hermegauss(q)
        wq = wq / math.sqrt(2 * math.pi)
    else:
        z, wq = np.polynomial.legendre.leggauss(q)
        z, wq = z * math.sqrt(3.0), wq / 2.0
    grids = np.meshgrid(*([z] * (d + 1)), indexing="ij")
    wts = np.ones_like(grids[0])
    for ax in range(d + 1):
        shape = [1] * (d + 1)
        shape[ax] = q
        wts = wts * wq.reshape(shape)
    c = (c_scale * grids[0].ravel())[None, :]
    W = np.stack([g.ravel() for g in grids[1:]], axis=1)[None] * (w_scale / math.sqrt(d))
    wts = wts.ravel()
    R = rec.size
    res = {k: np.empty(R) for k in ("loss", "mean_c2", "mean_w2")}
    outs = np.empty((R, Xt.shape[0]))
    j = 0
    for k in range(steps + 1):
        r, vc, vw, _ = _field(c, W, X, y, act, wts)
        if k == rec[j]:
            res["loss"][j] = 0.5 * np.mean(r * r)
            res["mean_c2"][j] = np.sum(wts * c[0] ** 2)
            res["mean_w2"][j] = np.sum(wts * np.sum(W[0] ** 2, axis=1))
            if Xt.shape[0]:
                S = _activation(act, W[0] @ Xt.T, 0)[0]
                outs[j] = (wts * c[0]) @ S
            j += 1
        if k == steps:
            break
        c = c - eps * vc
        W = W - eps * vw
    return res, outs


def meanfield_limit(
    data,
    *,
    eps: float,
    T: float,
    activation: str = "tanh",
    c_scale: float = 1.0,
    w_scale: float = 1.0,
    init: str = "uniform",
    test_X=None,
    n_records: int = 11,
    nodes: int = 24,
    refine: int = 6,
) -> MeanFieldLimit:
    """The mean-field PDE's solution for GD with step eps, for inputs of dimension d <= 2.

    Given the residuals r_t, particles move independently along
    d theta/dt = -grad_theta (1/n) sum_m r_t(x_m) c s(w.x_m), so mu_t is the push-forward
    of mu_0 (the law of :meth:`MeanFieldNet.random_point` with the same ``init``) by this
    flow, and every observable <f, mu_t> is an integral over mu_0. It is computed by a tensor
    Gauss–Legendre rule (``init="uniform"``: geometric convergence) or Gauss–Hermite rule
    (``init="gaussian"``: slower, the integrands' poles limit it) with
    ``nodes`` points per dimension (weighted particles at the nodes, moved by the same
    Euler scheme with step eps as the particle system, so the time discretisation is common
    to both and the comparison isolates the N-dependence). The rule is checked against one
    with ``nodes + refine`` points: ``quadrature_error``.
    """
    X, y = as_data(data)
    d = X.shape[1]
    if d > 2:
        raise ValueError(
            f"meanfield_limit solves the PDE by quadrature over (c, w) in R^(1+d) and needs "
            f"input dimension d <= 2; got d={d}"
        )
    act = _check_activation(activation)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    eps = check_positive(eps, "eps")
    T = check_positive(T, "T", allow_zero=True)
    nodes = check_int(nodes, "nodes", minimum=4)
    steps = int(round(T / eps))
    rec = _record_steps(steps, n_records)
    Xt = np.zeros((0, d)) if test_X is None else _check_inputs(test_X, d)
    args = (X, y, act, c_scale, w_scale, init, eps, steps, rec, Xt)
    res, outs = _limit_once(*args, nodes)
    res2, outs2 = _limit_once(*args, nodes + check_int(refine, "refine", minimum=1))
    err = max(float(np.max(np.abs(res[k] - res2[k]))) for k in res)
    if outs.size:
        err = max(err, float(np.max(np.abs(outs - outs2))))
    if not np.isfinite(err):
        raise DivergenceError(f"the limit dynamics diverged; the step eps={eps:g} is too large")
    return MeanFieldLimit(
        rec * eps, res2["loss"], outs2, res2["mean_c2"], res2["mean_w2"], nodes + refine, err
    )


# ---------------------------------------------------------------------------- statistics
def fit_loglog(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log(y) against log(x)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.column_stack([lx, np.ones_like(lx)])
    coef = np.linalg.lstsq(A, ly, rcond=None)[0]
    return float(coef[0]), float(coef[1])


def _slopes_rows(widths, Y):
    """Slopes of log Y[b, :] against log widths for every row b (vectorised OLS)."""
    lx = np.log(np.asarray(widths, float))
    lx = lx - lx.mean()
    ly = np.log(np.maximum(Y, 1e-300))
    return (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)


def bootstrap_slope(widths, stat, boot) -> tuple[float, float]:
    """Log-log slope of a statistic against the width and its bootstrap standard error.

    Parameters
    ----------
    widths : sequence of float
        The widths N (k of them).
    stat : array (k,)
        The statistic at each width (positive).
    boot : array (B, k)
        Its bootstrap replicates, one row per resample; values <= 0 are clipped to 1e-300.

    Returns
    -------
    (slope, slope_se) : the least-squares slope of log(stat) against log(N)
    (:func:`fit_loglog`) and the standard deviation (ddof 1) of the slopes of the rows of
    ``boot``.
    """
    return fit_loglog(widths, stat)[0], float(np.std(_slopes_rows(widths, boot), ddof=1))


@dataclass(frozen=True, eq=False)
class ScalingResult:
    """A measured scaling law: tidy tables, a fitted log-log slope and its bootstrap error.

    Attributes
    ----------
    kind : str
        "lln", "clt" or "limit".
    table : pandas.DataFrame
        One row per (width, seed, observable, component): the measured value and, where
        defined, the limit it is compared with.
    summary : pandas.DataFrame
        One row per (observable, width): the statistic whose scaling is fitted (``stat``)
        with its bootstrap standard error (``stat_se``).
    slope, slope_se : float
        Fitted slope of log(stat) against log(N) for the headline observable, and its
        bootstrap standard error (seeds resampled within each width).
    theory_slope : float
        What the theory predicts (-1/2 for rms distances, -1 for variances).
    slopes : dict
        ``{observable: (slope, slope_se)}`` for every observable.
    config : dict
        Everything needed to rerun (seed record included).
    extra : dict
        Experiment-specific results (normality test, limit solution, bias slope...).
    """

    kind: str
    table: Any
    summary: Any
    slope: float
    slope_se: float
    theory_slope: float
    slopes: dict
    config: dict
    extra: dict = field(default_factory=dict)

    @property
    def z_score(self) -> float:
        """(slope - theory) / slope_se."""
        return (self.slope - self.theory_slope) / self.slope_se


CLTResult = ScalingResult


# ---------------------------------------------------------------------------- experiments
# Each experiment is split into units that can run anywhere (one task per width) and are
# assembled here by thin loops:
#   scaling_config   -> the validated, JSON-able configuration (ScalingResult.config)
#   scaling_streams  -> the seed streams: one per width, the bootstrap's, the reference's...
#   scaling_test_inputs, limit_solution -> the fixed test inputs and the exact limit
#   scaling_width    -> all seeds of one width, batched: per-seed observables
#   lln_combine / clt_combine / limit_combine -> bootstrap + fits -> ScalingResult

SCALING_KINDS = ("lln", "clt", "limit")

# the parameters each experiment records in its configuration, in order (ref_width follows
# ref_seeds for lln); n_samples and d close every configuration
_CONFIG_PARAMS = {
    "lln": ("activation", "eps", "T", "n_test", "ref_factor", "ref_seeds", "n_records", "n_boot"),
    "clt": ("dynamics", "activation", "eps", "alpha", "T", "n_test", "n_boot"),
    "limit": ("activation", "eps", "T", "n_records", "nodes", "n_boot"),
}
_DYNAMICS = ("gd", "online_sgd")
_CLT_RECORDS = 3  # the CLT needs only the final outputs and losses


def _check_kind(kind) -> str:
    if kind not in SCALING_KINDS:
        raise ValueError(f"unknown scaling experiment {kind!r}; choose one of {SCALING_KINDS}")
    return kind


def _check_widths(widths) -> list[int]:
    ws = [check_int(w, "width N", minimum=1) for w in np.atleast_1d(widths).tolist()]
    if len(ws) < 2 or len(set(ws)) != len(ws):
        raise ValueError(f"widths must hold at least two distinct widths; got {ws}")
    return sorted(ws)


def _check_dynamics(dynamics) -> str:
    if dynamics not in _DYNAMICS:
        raise ValueError(f"dynamics must be 'gd' or 'online_sgd'; got {dynamics!r}")
    return dynamics


def scaling_config(
    kind: str, widths, seeds: int, seed: SeedLike, *, n_samples: int, d: int, **params
) -> dict:
    """The validated configuration of one scaling experiment (``ScalingResult.config``).

    Parameters
    ----------
    kind : {"lln", "clt", "limit"}
        Which experiment (:func:`lln_experiment`, :func:`clt_experiment`,
        :func:`limit_experiment`).
    widths : sequence of int
        At least two distinct widths; recorded sorted.
    seeds : int
        Seeds per width, >= 3.
    seed : int, SeedSequence or Generator
        The experiment's root seed (recorded with :func:`~landscapes.random.seed_info`; pass
        the SeedSequence itself, not None, when the streams are also drawn from it).
    n_samples, d : int
        Shape of the training data (limit: d <= 2).
    **params
        Keyword parameters of the experiment (``activation``, ``eps``, ``T``, ``n_test``,
        ``ref_factor``, ``ref_seeds``, ``n_records``, ``nodes``, ``dynamics``, ``alpha``,
        ``n_boot``: those the experiment takes); those not given take the experiment's
        defaults. ``data`` and ``progress`` are not parameters of the configuration.

    Returns
    -------
    dict
        JSON-able: widths, seeds, seed record, the parameters (lln adds ``ref_width`` =
        ``ref_factor * max(widths)``), n_samples and d, in the order the experiment records.
    """
    kind = _check_kind(kind)
    names = _CONFIG_PARAMS[kind]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s): {unknown}; expected some of {list(names)}")
    defaults = inspect.signature(_EXPERIMENTS[kind]).parameters
    p = {k: params[k] if k in params else defaults[k].default for k in names}
    ws = _check_widths(widths)
    S = check_int(seeds, "seeds (how many)", minimum=3)
    root = as_seed_sequence(seed)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    d = check_int(d, "d (input dimension)", minimum=1)
    if kind == "limit" and d > 2:
        raise ValueError(f"limit_experiment needs inputs of dimension <= 2; got d={d}")
    p["activation"] = _check_activation(p["activation"])
    if "dynamics" in p:
        p["dynamics"] = _check_dynamics(p["dynamics"])
    if "n_test" in p:
        p["n_test"] = check_int(p["n_test"], "n_test", minimum=1)
    if kind == "lln":
        p["ref_factor"] = check_int(p["ref_factor"], "ref_factor", minimum=2)
        p["ref_seeds"] = check_int(p["ref_seeds"], "ref_seeds", minimum=2)
    p["n_boot"] = check_int(p["n_boot"], "n_boot (bootstrap resamples)", minimum=2)
    config: dict[str, Any] = dict(widths=ws, seeds=S, seed=seed_info(root))
    for k in names:
        config[k] = p[k]
        if k == "ref_seeds":
            config["ref_width"] = p["ref_factor"] * ws[-1]
    config.update(n_samples=n_samples, d=d)
    return config


def scaling_streams(kind: str, n_widths: int, seed: SeedLike) -> dict[str, Any]:
    """The seed streams of a scaling experiment, spawned from its root seed.

    Returns ``{"widths": [SeedSequence] * n_widths, "bootstrap": SeedSequence}`` plus, for
    lln, ``"reference"`` (the wide reference nets) and, for lln and clt, ``"test"`` (the
    Gaussian test inputs). Width j's seed s starts from child s of ``widths[j]`` (see
    :func:`scaling_width`), so each width can run as an independent task.
    """
    kind = _check_kind(kind)
    n = check_int(n_widths, "n_widths", minimum=1)
    named = {"lln": ("bootstrap", "reference", "test"), "clt": ("bootstrap", "test")}
    names = named.get(kind, ("bootstrap",))
    kids = as_seed_sequence(seed).spawn(n + len(names))
    return {"widths": kids[:n], **dict(zip(names, kids[n:], strict=True))}


def scaling_test_inputs(kind: str, d: int, *, n_test: int = 8, seed: SeedLike = None) -> np.ndarray:
    """The fixed test inputs (n_test, d) at which an experiment records the outputs.

    lln and clt: ``n_test`` standard Gaussian inputs drawn from ``seed`` (the ``"test"``
    stream of :func:`scaling_streams`). limit: the four points u = -1.5, -0.5, 0.5, 1.5 of
    the line teacher (with the bias input 1 when d = 2); ``n_test`` and ``seed`` are unused.
    """
    kind = _check_kind(kind)
    d = check_int(d, "d (input dimension)", minimum=1)
    if kind == "limit":
        u = np.array([-1.5, -0.5, 0.5, 1.5])
        return np.column_stack([u, np.ones(4)]) if d == 2 else u[:, None]
    return as_generator(seed).standard_normal((check_int(n_test, "n_test", minimum=1), d))


def limit_solution(
    data,
    *,
    activation: str = "tanh",
    eps: float = 0.05,
    T: float = 2.0,
    n_records: int = 11,
    nodes: int = 20,
) -> MeanFieldLimit:
    """The exact limit that :func:`limit_experiment` compares the particles with.

    :func:`meanfield_limit` from the uniform initial law, at the test inputs
    ``scaling_test_inputs("limit", d)``, checked against ``nodes + 4`` nodes.
    """
    X, y = as_data(data)
    return meanfield_limit(
        (X, y),
        eps=eps,
        T=T,
        activation=activation,
        init="uniform",
        test_X=scaling_test_inputs("limit", X.shape[1]),
        n_records=n_records,
        nodes=nodes,
        refine=4,
    )


def _init_batch(net: MeanFieldNet, seqs) -> np.ndarray:
    return np.stack([net.random_point(np.random.Generator(np.random.PCG64(s))) for s in seqs])


def _run_width(net, seqs, dynamics, eps, alpha, T, n_records, Xt):
    """All seeds of one width in one batched call: initial particles from the seeds' streams."""
    theta0 = _init_batch(net, [s.spawn(1)[0] for s in seqs])
    if dynamics == "gd":
        return gd(net, theta0, eps=eps, T=T, n_records=n_records, test_X=Xt)
    sgd_seqs = [s.spawn(1)[0] for s in seqs]
    return online_sgd(
        net, theta0, alpha=alpha, T=T, seed=list(sgd_seqs), n_records=n_records, test_X=Xt
    )


def _observables(tr: Trajectory, smooth_c: bool = False) -> dict[str, np.ndarray]:
    """Per-seed observable vectors (K, components) at the final time and along the loss curve."""
    return {
        "output": tr.outputs[-1],
        "mean_c2" if smooth_c else "mean_abs_c": (tr.mean_c2 if smooth_c else tr.mean_abs_c)[-1][
            :, None
        ],
        "mean_w2": tr.mean_w2[-1][:, None],
        "loss_curve": tr.loss.T,
    }


def scaling_width(
    kind: str,
    data,
    N: int,
    seeds: int,
    seed: SeedLike,
    test_X,
    *,
    dynamics: str = "gd",
    activation: str = "tanh",
    eps: float = 0.1,
    alpha: float = 1.0,
    T: float = 2.0,
    n_records: int = 11,
) -> dict[str, np.ndarray]:
    """One width of a scaling experiment: ``seeds`` networks of width N trained as one batch.

    Seed s starts from child s of ``seed`` (its first child draws the initial particles, its
    second the online-SGD samples). lln (also its wide reference) and clt start from the
    Gaussian law, limit from the uniform law (``MeanFieldNet(init="uniform")``). Training:
    ``dynamics`` "gd" (step eps) or "online_sgd" (step alpha/N) to time T, ``n_records``
    records (the clt experiment uses 3).

    Returns
    -------
    dict of arrays, one row per seed
        lln and limit: ``output`` (seeds, n_test) at ``test_X`` at time T, ``mean_abs_c``
        (lln) or ``mean_c2`` (limit) and ``mean_w2`` (seeds, 1), ``loss_curve`` (seeds,
        n_records). clt: ``output`` (seeds, n_test) and ``final_loss`` (seeds,).
    """
    kind = _check_kind(kind)
    init = "uniform" if kind == "limit" else "gaussian"
    net = MeanFieldNet(data, N, activation, init=init)
    S = check_int(seeds, "seeds (how many)", minimum=1)
    tr = _run_width(
        net,
        as_seed_sequence(seed).spawn(S),
        _check_dynamics(dynamics),
        eps,
        alpha,
        T,
        n_records,
        test_X,
    )
    if kind == "clt":
        return {"output": tr.outputs[-1], "final_loss": tr.loss[-1]}
    return _observables(tr, smooth_c=kind == "limit")


def scaling_width_params(config: dict) -> dict:
    """Keyword arguments of :func:`scaling_width` implied by an experiment's configuration.

    ``dynamics``, ``activation``, ``eps``, ``alpha``, ``T`` and ``n_records`` of a
    :func:`scaling_config` (or of any dict holding them): "gd", alpha 1 and 3 records where
    the experiment has none.
    """
    return dict(
        dynamics=config.get("dynamics", "gd"),
        activation=config["activation"],
        eps=config["eps"],
        alpha=config.get("alpha", 1.0),
        T=config["T"],
        n_records=config.get("n_records", _CLT_RECORDS),
    )


def _check_observables(config: dict, observables, names) -> list[dict]:
    obs = list(observables)
    if len(obs) != len(config["widths"]):
        raise ValueError(
            f"expected one observables dict per width ({len(config['widths'])}); got {len(obs)}"
        )
    for N, o in zip(config["widths"], obs, strict=True):
        missing = [k for k in names if k not in o]
        if missing:
            raise ValueError(f"observables of width {N} lack {missing}")
        if len(o[names[0]]) != config["seeds"]:
            raise ValueError(
                f"observables of width {N} hold {len(o[names[0]])} seeds; the configuration "
                f"says {config['seeds']}"
            )
    return obs


def _tidy_rows(name, N, v, centre) -> list[tuple]:
    return [
        (name, N, s, comp, v[s, comp], centre[comp])
        for s in range(v.shape[0])
        for comp in range(v.shape[1])
    ]


def _summary_rows(name, ws, stat, boot) -> list[tuple]:
    return [
        (name, N, stat[j], float(np.std(boot[:, j], ddof=1)), stat[j] * math.sqrt(N))
        for j, N in enumerate(ws)
    ]


def _distance_frames(rows, summ):
    import pandas as pd

    table = pd.DataFrame(
        rows, columns=["observable", "width", "seed", "component", "value", "limit"]
    )
    summary = pd.DataFrame(summ, columns=["observable", "width", "stat", "stat_se", "scaled"])
    return table, summary


def _headline(kind, table, summary, slopes, config, extra) -> ScalingResult:
    sl, se = slopes["output"]
    return ScalingResult(kind, table, summary, sl, se, -0.5, slopes, config, extra)


def lln_combine(
    config: dict, observables, reference: dict, *, bootstrap_seed: SeedLike, test_X
) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`lln_experiment` from its per-width results.

    Parameters
    ----------
    config : dict
        ``scaling_config("lln", ...)``.
    observables : sequence of dict
        :func:`scaling_width` ``("lln", ...)`` of each width, in ``config["widths"]`` order.
    reference : dict
        :func:`scaling_width` of the reference (``config["ref_seeds"]`` nets of width
        ``config["ref_width"]``).
    bootstrap_seed : SeedSequence
        The ``"bootstrap"`` stream of :func:`scaling_streams`.
    test_X : array (n_test, d)
        The test inputs (recorded in ``extra``).
    """
    ws, S, R, n_boot = config["widths"], config["seeds"], config["ref_seeds"], config["n_boot"]
    obs = _check_observables(config, observables, list(reference))
    boot_rng = as_generator(bootstrap_seed)
    rows, summ, slopes = [], [], {}
    bidx = boot_rng.integers(S, size=(n_boot, S))
    ridx = boot_rng.integers(R, size=(n_boot, R))
    for name, refv in reference.items():
        rmean = refv.mean(axis=0)
        rvar = float(np.mean(refv.var(axis=0, ddof=1))) / R
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        rb = refv[ridx]  # (B, R, comp)
        rbm = rb.mean(axis=1)
        rbv = np.mean(rb.var(axis=1, ddof=1), axis=1) / R
        for j, N in enumerate(ws):
            v = obs[j][name]
            msd = float(np.mean((v - rmean) ** 2)) - rvar
            stat[j] = math.sqrt(max(msd, 1e-300))
            mb = np.mean((v[bidx] - rbm[:, None, :]) ** 2, axis=(1, 2)) - rbv
            boot[:, j] = np.sqrt(np.maximum(mb, 1e-300))
            rows += _tidy_rows(name, N, v, rmean)
        slopes[name] = bootstrap_slope(ws, stat, boot)
        summ += _summary_rows(name, ws, stat, boot)
    table, summary = _distance_frames(rows, summ)
    extra = {"statistic": "rms distance to the limit", "test_X": test_X}
    return _headline("lln", table, summary, slopes, config, extra)


def clt_combine(config: dict, observables, *, bootstrap_seed: SeedLike, test_X) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`clt_experiment` from its per-width results.

    ``config``: ``scaling_config("clt", ...)``; ``observables``: :func:`scaling_width`
    ``("clt", ...)`` of each width in order; ``bootstrap_seed``: the ``"bootstrap"`` stream
    of :func:`scaling_streams`; ``test_X``: the test inputs (recorded in ``extra``).
    """
    from scipy import stats

    ws, S, n_boot, n_test = config["widths"], config["seeds"], config["n_boot"], config["n_test"]
    obs = _check_observables(config, observables, ["output", "final_loss"])
    outs = {N: o["output"] for N, o in zip(ws, obs, strict=True)}
    losses = {N: o["final_loss"] for N, o in zip(ws, obs, strict=True)}
    bidx = as_generator(bootstrap_seed).integers(S, size=(n_boot, S))
    stat = np.array([float(np.mean(outs[N].var(axis=0, ddof=1))) for N in ws])
    boot = np.stack([np.mean(outs[N][bidx].var(axis=1, ddof=1), axis=1) for N in ws], axis=1)
    sl, se = bootstrap_slope(ws, stat, boot)
    top = outs[ws[-1]]
    fluct = math.sqrt(ws[-1]) * (top - top.mean(axis=0))
    pvals = np.array([float(stats.shapiro(fluct[:, i]).pvalue) for i in range(n_test)])
    import pandas as pd

    rows = [
        (N, s, i, outs[N][s, i], losses[N][s]) for N in ws for s in range(S) for i in range(n_test)
    ]
    table = pd.DataFrame(rows, columns=["width", "seed", "point", "output", "final_loss"])
    summary = pd.DataFrame(
        {
            "observable": "output",
            "width": ws,
            "stat": stat,
            "stat_se": boot.std(axis=0, ddof=1),
            "scaled": stat * np.asarray(ws),
            "mean_final_loss": [float(losses[N].mean()) for N in ws],
        }
    )
    extra = {
        "statistic": "variance over seeds",
        "normality_pvalues": pvals,
        "normality_pvalue": float(min(1.0, pvals.min() * n_test)),
        "fluctuations": fluct,
        "test_X": test_X,
    }
    return ScalingResult("clt", table, summary, sl, se, -1.0, {"output": (sl, se)}, config, extra)


def limit_combine(
    config: dict, observables, limit: MeanFieldLimit, *, bootstrap_seed: SeedLike
) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`limit_experiment` from its per-width results.

    ``config``: ``scaling_config("limit", ...)``; ``observables``: :func:`scaling_width`
    ``("limit", ...)`` of each width in order; ``limit``: :func:`limit_solution`;
    ``bootstrap_seed``: the ``"bootstrap"`` stream of :func:`scaling_streams`.
    """
    ws, S, n_boot = config["widths"], config["seeds"], config["n_boot"]
    limv = {
        "output": limit.outputs[-1],
        "mean_c2": limit.mean_c2[-1:],
        "mean_w2": limit.mean_w2[-1:],
        "loss_curve": limit.loss,
    }
    obs = _check_observables(config, observables, list(limv))
    bidx = as_generator(bootstrap_seed).integers(S, size=(n_boot, S))
    rows, summ, slopes = [], [], {}
    for name, lv in limv.items():
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        for j, N in enumerate(ws):
            v = obs[j][name]
            stat[j] = math.sqrt(float(np.mean((v - lv) ** 2)))
            boot[:, j] = np.sqrt(np.mean((v[bidx] - lv) ** 2, axis=(1, 2)))
            rows += _tidy_rows(name, N, v, lv)
        summ += _summary_rows(name, ws, stat, boot)
        slopes[name] = bootstrap_slope(ws, stat, boot)
    # bias of the seed mean: |mean_s o_N - o_lim|^2 - Var/S, expected b^2/N^2
    bias2 = np.empty(len(ws))
    bias_boot = np.empty((n_boot, len(ws)))
    for j in range(len(ws)):
        v = obs[j]["output"]
        bias2[j] = np.mean((v.mean(0) - limv["output"]) ** 2 - v.var(0, ddof=1) / S)
        vb = v[bidx]
        bias_boot[:, j] = np.mean(
            (vb.mean(1) - limv["output"]) ** 2 - vb.var(1, ddof=1) / S, axis=1
        )
    resolved = bias2 > 0
    if resolved.sum() >= 2:
        wsr = np.asarray(ws)[resolved]
        bb = np.sqrt(np.maximum(bias_boot[:, resolved], 1e-300))
        bias_slope, bias_se = bootstrap_slope(wsr, np.sqrt(bias2[resolved]), bb)
    else:
        bias_slope, bias_se = float("nan"), float("nan")
    table, summary = _distance_frames(rows, summ)
    extra = {
        "statistic": "rms distance to the exact limit",
        "limit": limit,
        "quadrature_error": limit.quadrature_error,
        "bias": np.sqrt(np.maximum(bias2, 0.0)),
        "bias_slope": bias_slope,
        "bias_slope_se": bias_se,
        "test_X": scaling_test_inputs("limit", config["d"]),
    }
    return _headline("limit", table, summary, slopes, config, extra)


def _widths_observables(kind, data, config, streams, Xt, pr) -> list[dict]:
    """Every width of an experiment, one after the other (the thin loop of the experiments)."""
    out = []
    for N, s in zip(config["widths"], streams["widths"], strict=True):
        out.append(
            scaling_width(kind, data, N, config["seeds"], s, Xt, **scaling_width_params(config))
        )
        pr.update(width=N)
    pr.close()
    return out


def _setup(kind, widths, seeds, seed, data, default, **params):
    """Data, configuration, streams and test inputs of an experiment (its first steps)."""
    X, y = as_data(default() if data is None else data)
    root = as_seed_sequence(seed)
    d = X.shape[1]
    config = scaling_config(kind, widths, seeds, root, n_samples=X.shape[0], d=d, **params)
    streams = scaling_streams(kind, len(config["widths"]), root)
    Xt = scaling_test_inputs(kind, d, n_test=config.get("n_test", 1), seed=streams.get("test"))
    return (X, y), config, streams, Xt


# ---------------------------------------------------------------------------- LLN
def lln_experiment(
    widths=(25, 50, 100, 200, 400, 800),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    data=None,
    activation: str = "tanh",
    eps: float = 0.1,
    T: float = 2.0,
    n_test: int = 8,
    ref_factor: int = 16,
    ref_seeds: int = 4,
    n_records: int = 11,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """Law of large numbers: the rms distance of smooth observables to the limit ~ N^(-1/2).

    Observables after GD to time T: the outputs on ``n_test`` fixed test inputs, <|c|>,
    <|w|^2> and the loss curve (``n_records`` times). The limit is estimated by the mean of
    ``ref_seeds`` independent references of width ``ref_factor * max(widths)``; its own
    variance (estimated from the references, divided by ``ref_seeds``) is subtracted from the
    mean squared distance, so the reference's randomness does not bias the slope:

        msd_N = mean_seeds |o_N - o_ref|^2 - Var(o_ref) / ref_seeds  ~  C / N.

    ``slope`` is the fitted slope of log rms (= sqrt msd) against log N for the outputs
    (theory -1/2); ``slopes`` has every observable. Bootstrap: seeds and references are
    resampled ``n_boot`` times.

    Runs :func:`scaling_width` for the reference and each width, then :func:`lln_combine`.
    """
    data, config, streams, Xt = _setup(
        "lln",
        widths,
        seeds,
        seed,
        data,
        lambda: one_neuron_teacher(seed=0),
        activation=activation,
        eps=eps,
        T=T,
        n_test=n_test,
        ref_factor=ref_factor,
        ref_seeds=ref_seeds,
        n_records=n_records,
        n_boot=n_boot,
    )
    pr = Progress(len(config["widths"]) + 1, "meanfield lln", enabled=progress)
    ref = scaling_width(
        "lln",
        data,
        config["ref_width"],
        config["ref_seeds"],
        streams["reference"],
        Xt,
        **scaling_width_params(config),
    )
    pr.update()
    obs = _widths_observables("lln", data, config, streams, Xt, pr)
    return lln_combine(config, obs, ref, bootstrap_seed=streams["bootstrap"], test_X=Xt)


# ---------------------------------------------------------------------------- CLT
def clt_experiment(
    widths=(50, 100, 200, 400, 800, 1600),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    dynamics: str = "gd",
    data=None,
    activation: str = "tanh",
    eps: float = 0.1,
    alpha: float = 1.0,
    T: float = 2.0,
    n_test: int = 8,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """Central limit theorem: Var over seeds of the trained output at time T ~ C/N.

    ``dynamics`` is "gd" (step eps) or "online_sgd" (step alpha/N, time k/N); the SGD
    constant is larger (its martingale term). ``stat`` is the variance over seeds averaged
    over ``n_test`` fixed test inputs; ``scaled`` = N * stat estimates C. ``extra`` holds a
    Shapiro–Wilk test of sqrt(N)(g_N - mean) at the largest width: the p-value at each test
    point and ``normality_pvalue`` (the smallest, Bonferroni-corrected).

    Runs :func:`scaling_width` for each width, then :func:`clt_combine`.
    """
    _check_dynamics(dynamics)
    data, config, streams, Xt = _setup(
        "clt",
        widths,
        seeds,
        seed,
        data,
        lambda: one_neuron_teacher(seed=0),
        dynamics=dynamics,
        activation=activation,
        eps=eps,
        alpha=alpha,
        T=T,
        n_test=n_test,
        n_boot=n_boot,
    )
    pr = Progress(len(config["widths"]), f"meanfield clt ({dynamics})", enabled=progress)
    obs = _widths_observables("clt", data, config, streams, Xt, pr)
    return clt_combine(config, obs, bootstrap_seed=streams["bootstrap"], test_X=Xt)


# ---------------------------------------------------------------------------- the limit
def limit_experiment(
    widths=(16, 32, 64, 128, 256, 512),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    data=None,
    activation: str = "tanh",
    eps: float = 0.05,
    T: float = 2.0,
    n_records: int = 11,
    nodes: int = 20,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """The particle system approaches the exactly solved mean-field limit.

    The data (default :func:`line_teacher`: x = (u, 1), a one-neuron teacher) has input
    dimension <= 2 and the particles start from the uniform law (``init="uniform"``), so
    :func:`meanfield_limit` solves the PDE to quadrature accuracy. The rms distance of the
    outputs on 4 test inputs (and of <c^2>, <|w|^2> and the loss curve) to the limit scales
    as N^(-1/2) (``slope``, theory -1/2); ``extra["bias_slope"]`` fits the distance of the
    seed mean of the outputs to the limit, whose expectation is O(1/N) (a noise floor
    C/(N seeds) is subtracted; fitted only where the bias is resolved).

    Runs :func:`limit_solution` and :func:`scaling_width` for each width, then
    :func:`limit_combine`.
    """
    data, config, streams, Xt = _setup(
        "limit",
        widths,
        seeds,
        seed,
        data,
        line_teacher,
        activation=activation,
        eps=eps,
        T=T,
        n_records=n_records,
        nodes=nodes,
        n_boot=n_boot,
    )
    lim = limit_solution(
        data, activation=config["activation"], eps=eps, T=T, n_records=n_records, nodes=nodes
    )
    pr = Progress(len(config["widths"]), "meanfield limit", enabled=progress)
    obs = _widths_observables("limit", data, config, streams, Xt, pr)
    return limit_combine(config, obs, lim, bootstrap_seed=streams["bootstrap"])


_EXPERIMENTS = {"lln": lln_experiment, "clt": clt_experiment, "limit": limit_experiment}
