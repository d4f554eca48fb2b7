"""The two-layer network in the mean-field scaling: an Energy with exact gradients and HVPs.

The network (Mei–Montanari–Nguyen 2018; Sirignano–Spiliopoulos 2020; Chizat–Bach 2018;
Rotskoff–Vanden-Eijnden 2018) is

    g_N(x) = (1/N) sum_{i=1..N} c_i s(w_i . x),        theta_i = (c_i, w_i) in R^{1+d},

a function of the empirical measure of its N *particles* theta_i. The loss is half the mean
squared error over a frozen dataset (X, y) of n samples,

    L(theta) = (1/(2n)) sum_m (g_N(x_m) - y_m)^2,

exposed as a :class:`~landscapes.energy.FiniteSumEnergy` on ``Euclidean(N (1+d))`` with the
parameters laid out particle by particle: ``theta.reshape(K, N, 1+d)[:, :, 0]`` are the c_i
and ``[:, :, 1:]`` the w_i. ``MeanFieldNet.speed`` (N in the mean-field scaling) is the
factor that turns gradients into particle velocities: d theta_i/dt = -speed * dL/dtheta_i
moves every particle by O(1) per unit time.

The public kernels (:func:`activate`, :func:`preactivations`, :func:`particle_field`,
:func:`replica_blocks`, :func:`check_inputs`) are what the energy, the exact limit
(:mod:`landscapes.meanfield.limit`) and the mean-field dynamics of
:mod:`analysis.studies.meanfield` share, so all three compute the same numbers.
"""

from __future__ import annotations

import json
import math

import numpy as np

from landscapes import threads
from landscapes._validation import check_int, check_positive
from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Euclidean
from landscapes.meanfield.data import as_data, make_data
from landscapes.nn.layers import Scratch
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info
from landscapes.spec import register

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "DivergenceError",
    "MeanFieldNet",
    "activate",
    "check_activation",
    "check_inputs",
    "particle_field",
    "preactivations",
    "replica_blocks",
]

ACTIVATIONS = ("tanh", "sigmoid")
INITS = ("gaussian", "uniform")

# scratch budget of one (K, N, n) pre-activation block, in float64 elements
_BLOCK_ELEMENTS = 1 << 21
# the energy's (K, N, n) work arrays, kept per thread between calls (no page faults)
_SCRATCH = Scratch()


class DivergenceError(ValueError):
    """The training dynamics diverged (loss non-finite or exploded): the step is too large."""


# ---------------------------------------------------------------------------- kernels
def activate(
    name: str, Z: np.ndarray, order: int = 0
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The activation s(Z) and, up to ``order`` (0, 1 or 2), its first and second derivatives.

    Returns ``(S, S1, S2)``, the derivatives beyond ``order`` being None. ``name`` is one of
    :data:`ACTIVATIONS`; any other raises a ValueError.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
    S = np.empty_like(Z, dtype=np.float64)
    S1 = np.empty_like(S) if order >= 1 else None
    S2 = np.empty_like(S) if order >= 2 else None
    return _activate_into(name, Z, order, S, S1, S2)


def _activate_into(name, Z, order, S, S1, S2):
    """:func:`activate` writing into ``S``, ``S1``, ``S2`` (``S`` may be ``Z`` itself)."""
    if name == "tanh":
        # tanh(z) = 1 - 2 / (exp(2z) + 1): vectorised exp, exact to ~1e-16
        np.multiply(Z, 2.0, out=S)
        with np.errstate(over="ignore"):
            np.exp(S, out=S)
        S += 1.0
        np.divide(-2.0, S, out=S)
        S += 1.0
        if order == 0:
            return S, None, None
        np.multiply(S, S, out=S1)
        np.subtract(1.0, S1, out=S1)
        if order >= 2:
            np.multiply(S, -2.0, out=S2)
            S2 *= S1
        return S, S1, (S2 if order >= 2 else None)
    np.negative(Z, out=S)  # sigmoid
    with np.errstate(over="ignore"):
        np.exp(S, out=S)
    S += 1.0
    np.divide(1.0, S, out=S)
    if order == 0:
        return S, None, None
    np.subtract(1.0, S, out=S1)
    S1 *= S
    if order >= 2:
        np.multiply(S, 2.0, out=S2)
        np.subtract(1.0, S2, out=S2)
        S2 *= S1
    return S, S1, (S2 if order >= 2 else None)


def check_activation(name) -> str:
    """The activation ``name`` if it is one of :data:`ACTIVATIONS`, else a ValueError."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
    return name


def particle_field(
    c: np.ndarray,
    W: np.ndarray,
    Xb: np.ndarray,
    yb: np.ndarray,
    act: str,
    weights: np.ndarray | None = None,
    order: int = 1,
) -> tuple:
    """Residuals and per-particle velocity fields of the mean-field potential (trusted input).

    ``c`` (K, N), ``W`` (K, N, d), ``Xb`` (n, d), ``yb`` (n,) shared by the replicas, or
    per-replica ``Xb`` (K, n, d), ``yb`` (K, n) (one minibatch each). The output is
    g = sum_i weights_i c_i s(w_i.x) (weights 1/N by default). Nothing is validated.

    Returns
    -------
    (r, vc, vw, (S, S1, S2))
        The residual r = g - y (K, n); the unnormalised gradients of the potential
        vc_i = (1/n) sum_m r_m s_im (K, N) and vw_i = (1/n) c_i sum_m r_m s'_im x_m (K, N, d),
        so that dL/dc_i = weights_i * vc_i (None when ``order`` is 0); and the activations
        with their derivatives up to ``order`` (:func:`activate`).
    """
    return _field(c, W, Xb, yb, act, weights, order, None)


def _buf(ws, name, shape):
    return np.empty(shape) if ws is None else ws(name, shape)


def _field(c, W, Xb, yb, act, weights, order, ws):
    """:func:`particle_field` with its (K, N, n) arrays from the scratch ``ws`` (None: new)."""
    K, N = c.shape
    n = Xb.shape[-2]
    Z = _preactivations(W, Xb, _buf(ws, "z", (K, N, n)))
    S1 = _buf(ws, "s1", (K, N, n)) if order >= 1 else None
    S2 = _buf(ws, "s2", (K, N, n)) if order >= 2 else None
    S, S1, S2 = _activate_into(act, Z, order, Z, S1, S2)
    cw = c / c.shape[1] if weights is None else c * weights
    g = (cw[:, None, :] @ S)[:, 0, :]
    r = g - yb
    if order == 0:
        return r, None, None, (S, S1, S2)
    nb = Xb.shape[-2]
    vc = (S @ r[:, :, None])[:, :, 0] / nb
    T = np.multiply(S1, r[:, None, :], out=_buf(ws, "t", (K, N, n)))
    vw = c[:, :, None] * _back(T, Xb) / nb
    return r, vc, vw, (S, S1, S2)


def preactivations(W: np.ndarray, Xb: np.ndarray) -> np.ndarray:
    """Pre-activations w_i . x (K, N, n) of a block W (K, N, d) on inputs (n, d): one 2-D product.

    Per-replica inputs (K, n, d): one batched product.
    """
    return _preactivations(W, Xb, None)


def _preactivations(W, Xb, out):
    if Xb.ndim == 3:
        return np.matmul(W, Xb.transpose(0, 2, 1), out=out)
    K, N, d = W.shape
    Wf = np.ascontiguousarray(W).reshape(K * N, d)
    if out is None:
        return (Wf @ Xb.T).reshape(K, N, Xb.shape[0])
    np.matmul(Wf, Xb.T, out=out.reshape(K * N, Xb.shape[0]))
    return out


def _back(M, Xb):
    """sum_m M[k, i, m] x_m for a block (K, N, n): one 2-D product (batched: (K, n, d))."""
    if Xb.ndim == 3:
        return np.matmul(M, Xb)
    K, N, n = M.shape
    return (M.reshape(K * N, n) @ Xb).reshape(K, N, Xb.shape[1])


def replica_blocks(K: int, N: int, n: int):
    """Slices of the K replicas whose (k, N, n) pre-activation blocks fit the scratch budget."""
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
        self.activation = check_activation(activation)
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

    # ------------------------------------------------------------------ model spec
    data_source: dict | None = None  # {"name": ..., **params} when built from a data source
    seed_record: dict | None = None  # seed record of the data's stream (landscapes.spec)

    @classmethod
    def from_source(cls, source: dict, N: int, *, seed: SeedLike = None, **kwargs) -> MeanFieldNet:
        """The net on the data of a named source (:func:`landscapes.meanfield.data.make_data`).

        ``source`` is ``{"name": NAME, **params}``; ``seed`` (the data's stream, or None
        for deterministic data) and the source are recorded, so :func:`landscapes.spec.spec_of`
        can describe the net and :func:`landscapes.spec.build` rebuild it.
        """
        ss = None if seed is None else as_seed_sequence(seed)
        net = cls(make_data(source, ss), N, **kwargs)
        net.data_source = json.loads(json.dumps(source))
        net.seed_record = None if ss is None else seed_info(ss)
        return net

    @classmethod
    def from_spec(cls, params: dict, seed) -> MeanFieldNet:
        """Build from a model spec's ``params`` (``data`` is the source record) and seed."""
        p = dict(params)
        if "data" not in p:
            raise ValueError("a MeanFieldNet spec needs params['data'], a data source record")
        source = p.pop("data")
        N = p.pop("N", None)
        if N is None:
            raise ValueError("a MeanFieldNet spec needs params['N'] (the width)")
        return cls.from_source(source, N, seed=seed, **p)

    def spec_params(self) -> dict:
        """Constructor parameters of a model spec (ValueError for data given as arrays)."""
        if self.data_source is None:
            raise ValueError(
                "this MeanFieldNet was given its data as arrays: no spec (build it with "
                "MeanFieldNet.from_source to have one)"
            )
        return {
            "data": self.data_source,
            "N": self.N,
            "activation": self.activation,
            "scaling": self.scaling,
            "c_scale": self.c_scale,
            "w_scale": self.w_scale,
            "init": self.init,
        }

    @classmethod
    def spec(
        cls,
        source: dict,
        N: int,
        *,
        seed: SeedLike = None,
        fingerprint: str | None = None,
        **kwargs,
    ) -> dict:
        """The model spec of ``from_source(source, N, seed=seed, **kwargs)``, without building it.

        For deterministic data (``seed=None``), which :func:`landscapes.spec.spec_of` does not
        describe; :func:`landscapes.spec.build` rebuilds the net from either.
        """
        defaults = {"activation": "tanh", "scaling": "meanfield", "c_scale": 1.0, "w_scale": 1.0}
        params = {"data": dict(source), "N": int(N), **defaults, "init": "gaussian", **kwargs}
        out = {
            "class": "MeanFieldNet",
            "params": json.loads(json.dumps(params)),
            "seed": None if seed is None else seed_info(as_seed_sequence(seed)),
        }
        if fingerprint is not None:
            out["fingerprint"] = fingerprint
        return out

    # ------------------------------------------------------------------ layout
    def unpack(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """Split parameters ``(dim,)`` or ``(K, dim)`` into c ``(..., N)`` and W ``(..., N, d)``."""
        T, single = self.as_batch(theta, "theta")
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
        Xq = self.X if X is None else check_inputs(X, self.d)
        out = np.empty((c.shape[0], Xq.shape[0]))
        for sl in replica_blocks(c.shape[0], self.N, Xq.shape[0]):
            S = activate(self.activation, preactivations(W[sl], Xq), 0)[0]
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

    def _flops(self, K: int, n: int) -> float:
        """Flops of the largest single product of a kernel on K replicas (thread policy).

        The pre-activations of all replicas' particles are one (K N, d) @ (d, n) product.
        """
        return 2.0 * K * self.N * n * self.d

    def _energy_and_gradient(self, X, idx=None):
        Xb, yb = self._batch(idx)
        K = X.shape[0]
        P = X.reshape(K, self.N, self.d + 1)
        e = np.empty(K)
        G = np.empty((K, self.N, self.d + 1))
        w = np.full(self.N, self.norm)
        with threads.kernel(self._flops(K, Xb.shape[-2])):
            for sl in replica_blocks(K, self.N, Xb.shape[-2]):
                Xs, ys = self._rows(Xb, yb, sl)
                r, vc, vw, _ = _field(
                    P[sl, :, 0], P[sl, :, 1:], Xs, ys, self.activation, w, 1, _SCRATCH
                )
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
        with threads.kernel(self._flops(K, Xb.shape[-2])):
            for sl in replica_blocks(K, self.N, Xb.shape[-2]):
                Xs, ys = self._rows(Xb, yb, sl)
                r = _field(P[sl, :, 0], P[sl, :, 1:], Xs, ys, self.activation, w, 0, _SCRATCH)[0]
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
        ws = _SCRATCH
        with threads.kernel(self._flops(K, nb)):
            for sl in replica_blocks(K, self.N, nb):
                c, W = P[sl, :, 0], P[sl, :, 1:]
                dc, dW = D[sl, :, 0], D[sl, :, 1:]
                Xs, ys = self._rows(Xb, yb, sl)
                r, _, _, (S, S1, S2) = _field(c, W, Xs, ys, self.activation, w, 2, ws)
                shape = S.shape
                RZ = _preactivations(dW, Xs, ws("rz", shape))  # (k, N, n)
                cS1 = np.multiply(c[:, :, None], S1, out=ws("cs1", shape))
                Rr = a * ((dc[:, None, :] @ S)[:, 0, :] + np.einsum("kin,kin->kn", cS1, RZ))
                T = np.multiply(S1, RZ, out=ws("t", shape))  # S1 RZ
                out[sl, :, 0] = (a / nb) * (
                    (S @ Rr[:, :, None])[:, :, 0] + (T @ r[:, :, None])[:, :, 0]
                )
                # M = cS1 Rr + S1 (dc r) + ((c S2) RZ) r, in that order of operations
                M = np.multiply(cS1, Rr[:, None, :], out=ws("m", shape))
                np.multiply(dc[:, :, None], r[:, None, :], out=T)
                np.multiply(S1, T, out=T)
                M += T
                np.multiply(c[:, :, None], S2, out=T)
                T *= RZ
                T *= r[:, None, :]
                M += T
                out[sl, :, 1:] = (a / nb) * _back(M, Xs)
        return out.reshape(K, self.dim)


def check_inputs(X, d: int) -> np.ndarray:
    """Validated float64 inputs (m, d), m >= 1, finite; a ValueError naming the shape otherwise."""
    Xq = np.asarray(X, dtype=np.float64)
    if Xq.ndim != 2 or Xq.shape[1] != d or Xq.shape[0] < 1:
        raise ValueError(f"inputs must have shape (m, {d}); got shape {np.shape(X)}")
    if not np.all(np.isfinite(Xq)):
        raise ValueError("inputs contain NaN or infinite values")
    return Xq


register("MeanFieldNet", MeanFieldNet, cls=MeanFieldNet)
