"""Layer maths shared by the network losses and the datasets: activations, layout, heads.

Everything here is a pure function of arrays (no Energy, no Dataset), so
:mod:`landscapes.datasets` (the teacher network of ``teacher_student``) and the losses of
:mod:`landscapes.nn` both import it and neither imports the other's internals.

* Activations: ``ACTIVATION_FUNCS[name](z, order)`` returns ``(s(z), s'(z), s''(z))`` with
  the derivatives ``None`` beyond ``order`` (0, 1 or 2); :func:`activate` computes the
  same numbers in place (the kernels' version).
* Work arrays: :class:`Scratch` keeps the kernels' temporaries per thread between calls,
  so a call pays no page faults (half the time of an MLPLoss HVP before).
* Flat parameter layout of an MLP ``sizes = (d, h_1, ..., m)``: for each layer the weight
  ``W`` (fan_in, fan_out) in row-major order, then the bias (fan_out,) (:func:`split_layout`,
  :func:`unflatten_batch`, :func:`flatten_grads`); :func:`init_std` is the standard
  initialization's weight scale.
* Batched products of data with per-replica weights (:func:`xmm`, :func:`xtmm`) and the
  loss heads (:func:`loss_head`, :func:`head_hvp`) for cross-entropy and squared error.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy.special import erfc, expit

__all__ = [
    "ACTIVATION_FUNCS",
    "ACTIVATIONS",
    "LOSSES",
    "HE_INIT",
    "check_activation",
    "activate",
    "Scratch",
    "SCRATCH_MAX_BYTES",
    "init_std",
    "split_layout",
    "unflatten_batch",
    "flatten_grads",
    "xmm",
    "xtmm",
    "tr",
    "mlp_outputs",
    "loss_head",
    "head_hvp",
]

_SQRT2 = np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


# ----------------------------------------------------------------------------- activations
def _tanh(z, order):
    a = np.tanh(z)
    if order == 0:
        return a, None, None
    da = 1.0 - a * a
    return a, da, (-2.0 * a * da if order == 2 else None)


def _relu(z, order):
    a = np.maximum(z, 0.0)
    if order == 0:
        return a, None, None
    da = (z > 0).astype(z.dtype)
    return a, da, (np.zeros_like(z) if order == 2 else None)


def _softplus(z, order):
    a = np.logaddexp(0.0, z)
    if order == 0:
        return a, None, None
    s = expit(z)
    return a, s, (s * (1.0 - s) if order == 2 else None)


def _gelu(z, order):
    # exact (erf) GELU: z * Phi(z)
    Phi = 0.5 * erfc(-z / _SQRT2)
    a = z * Phi
    if order == 0:
        return a, None, None
    phi = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    da = Phi + z * phi
    return a, da, (phi * (2.0 - z * z) if order == 2 else None)


def _linear(z, order):
    if order == 0:
        return z, None, None
    one = np.ones_like(z)
    return z, one, (np.zeros_like(z) if order == 2 else None)


ACTIVATION_FUNCS = {
    "tanh": _tanh,
    "relu": _relu,
    "softplus": _softplus,
    "gelu": _gelu,
    "linear": _linear,
}
ACTIVATIONS = tuple(ACTIVATION_FUNCS)


def activate(name: str, z: np.ndarray, order: int, da: np.ndarray, d2a: np.ndarray):
    """``(s(z), s'(z), s''(z))`` like ``ACTIVATION_FUNCS[name](z, order)``, written in place.

    ``z`` is overwritten (tanh: by ``s(z)``; the others may keep it); ``da`` and ``d2a``
    (arrays like ``z``) receive the derivatives up to ``order``. The results equal those
    of :data:`ACTIVATION_FUNCS` bit for bit (the same operations in the same order), without
    their temporaries: tanh' = 1 - a^2 and tanh'' = -2 a tanh' come from the stored ``a``.
    """
    if name == "tanh":
        a = np.tanh(z, out=z)
        if order >= 1:
            np.multiply(a, a, out=da)
            np.subtract(1.0, da, out=da)
        if order == 2:
            np.multiply(a, -2.0, out=d2a)
            np.multiply(d2a, da, out=d2a)
        return a, (da if order else None), (d2a if order == 2 else None)
    if name == "relu":
        if order >= 1:
            np.greater(z, 0, out=da)
        if order == 2:
            d2a.fill(0.0)
        a = np.maximum(z, 0.0, out=z)
        return a, (da if order else None), (d2a if order == 2 else None)
    if name == "softplus":
        if order >= 1:
            expit(z, out=da)
        if order == 2:
            np.subtract(1.0, da, out=d2a)
            np.multiply(da, d2a, out=d2a)
        a = np.logaddexp(0.0, z, out=z)
        return a, (da if order else None), (d2a if order == 2 else None)
    if name == "linear":
        if order >= 1:
            da.fill(1.0)
        if order == 2:
            d2a.fill(0.0)
        return z, (da if order else None), (d2a if order == 2 else None)
    a, s1, s2 = ACTIVATION_FUNCS[name](z, order)
    if order >= 1:
        da[...] = s1
    if order == 2:
        d2a[...] = s2
    return a, (da if order else None), (d2a if order == 2 else None)


#: Bytes of work arrays one thread keeps between kernel calls; arrays beyond it are
#: allocated afresh each call.
SCRATCH_MAX_BYTES = 64 * 2**20


class Scratch:
    """Work arrays of the network kernels, kept per thread from one call to the next.

    A kernel that allocates its temporaries afresh pays for the operating system's page
    faults on every call: glibc returns freed megabyte-sized blocks to the system, and the
    next call touches new pages (measured: 3,470 faults and about half the CPU time of one
    MLPLoss HVP on digits 64-128-10). ``scratch(name, shape)`` returns the array kept under
    ``name`` when its shape matches, else a new one, kept while this thread's arrays total at
    most :data:`SCRATCH_MAX_BYTES`. Arrays are per thread, so concurrent calls never share
    one; a kernel never returns a scratch array to its caller. ``replica_major=False`` gives
    a (K, n, w) array laid out as (n, K, w) in memory, the layout of :func:`xmm`'s one GEMM
    for all replicas of shared data.
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        self._local = threading.local()
        self.max_bytes = SCRATCH_MAX_BYTES if max_bytes is None else int(max_bytes)

    def __call__(self, name: str, shape: tuple, replica_major: bool = True) -> np.ndarray:
        pool = self._local.__dict__.setdefault("arrays", {})
        key = (name, replica_major)
        a = pool.get(key)
        if a is not None and a.shape == shape:
            return a
        if a is not None:
            del pool[key]
            self._local.nbytes -= a.nbytes
        if replica_major or len(shape) != 3:
            a = np.empty(shape)
        else:
            K, n, w = shape
            a = np.empty((n, K, w)).transpose(1, 0, 2)
        used = self._local.__dict__.get("nbytes", 0)
        if used + a.nbytes <= self.max_bytes:
            pool[key] = a
            self._local.nbytes = used + a.nbytes
        return a

    def clear(self) -> None:
        """Drop this thread's arrays."""
        self._local.__dict__.pop("arrays", None)
        self._local.nbytes = 0


LOSSES = ("cross_entropy", "mse")
HE_INIT = ("relu", "gelu")  # He init for rectifier-like units, Glorot otherwise


def check_activation(activation: str) -> str:
    """``activation`` if it is known, else a ValueError listing the known ones."""
    if activation not in ACTIVATION_FUNCS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
    return activation


def init_std(activation: str, fan_in: int, fan_out: int) -> float:
    """Weight standard deviation of the standard init: He for relu/gelu, else Glorot."""
    return np.sqrt(2.0 / fan_in) if activation in HE_INIT else np.sqrt(2.0 / (fan_in + fan_out))


# ----------------------------------------------------------------------------- layout
def split_layout(sizes) -> list[tuple[int, int, int]]:
    """(weight start, weight end = bias start, bias end) of each layer in the flat vector."""
    out, pos = [], 0
    for i in range(len(sizes) - 1):
        w = sizes[i] * sizes[i + 1]
        out.append((pos, pos + w, pos + w + sizes[i + 1]))
        pos += w + sizes[i + 1]
    return out


def unflatten_batch(X: np.ndarray, sizes, layout):
    """Views/copies (W (K, fi, fo), b (K, fo)) of a (K, P) batch."""
    K = X.shape[0]
    Ws, bs = [], []
    for i, (w0, w1, b1) in enumerate(layout):
        Ws.append(X[:, w0:w1].reshape(K, sizes[i], sizes[i + 1]))
        bs.append(X[:, w1:b1])
    return Ws, bs


def flatten_grads(gWs, gbs, P: int) -> np.ndarray:
    K = gWs[0].shape[0]
    out = np.empty((K, P))
    pos = 0
    for gW, gb in zip(gWs, gbs, strict=True):
        w = gW.shape[1] * gW.shape[2]
        out[:, pos : pos + w] = gW.reshape(K, w)
        pos += w
        out[:, pos : pos + gb.shape[1]] = gb
        pos += gb.shape[1]
    return out


def xmm(Xd: np.ndarray, W: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Data times a batch of weights (K, d, h) -> (K, n, h), into ``out`` when given.

    Shared data (n, d): one GEMM, whose (n, K h) result is viewed as (K, n, h) (``out``
    must then be laid out as (n, K, h), see :class:`Scratch`). Per-replica data (K, n, d)
    (a 2-D ``idx``, one minibatch per replica): one batched matmul.
    """
    if Xd.ndim == 3:
        return np.matmul(Xd, W, out=out)
    K, d, h = W.shape
    if K == 1:
        if out is None:
            return (Xd @ W[0])[None]
        np.matmul(Xd, W[0], out=out[0])
        return out
    Wc = W.transpose(1, 0, 2).reshape(d, K * h)
    n = Xd.shape[0]
    if out is None:
        return (Xd @ Wc).reshape(n, K, h).transpose(1, 0, 2)
    np.matmul(Xd, Wc, out=out.transpose(1, 0, 2).reshape(n, K * h))
    return out


def xtmm(Xd: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Data transposed times a batch (K, n, h) -> (K, d, h).

    Shared data (n, d): one GEMM (no copy of ``D`` when it is laid out as (n, K, h));
    per-replica data (K, n, d): one batched matmul.
    """
    if Xd.ndim == 3:
        return np.matmul(Xd.transpose(0, 2, 1), D)
    K, n, h = D.shape
    if K == 1:
        return (Xd.T @ D[0])[None]
    Y = Xd.T @ D.transpose(1, 0, 2).reshape(n, K * h)
    return Y.reshape(Xd.shape[1], K, h).transpose(1, 0, 2)


def tr(A: np.ndarray) -> np.ndarray:
    """Transpose of the last two axes (a view)."""
    return np.swapaxes(A, -1, -2)


def mlp_outputs(theta: np.ndarray, sizes, activation: str, Xd: np.ndarray) -> np.ndarray:
    """Network outputs (n, m) of one flat parameter vector (used by the datasets module)."""
    layout = split_layout(sizes)
    Ws, bs = unflatten_batch(np.asarray(theta, dtype=np.float64)[None], sizes, layout)
    act = ACTIVATION_FUNCS[activation]
    A = np.asarray(Xd, dtype=np.float64)
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        Z = A @ W[0] + b[0]
        A = act(Z, 0)[0] if i < len(Ws) - 1 else Z
    return A


def _like(ws, name, like):
    """A new or scratch array with the shape and memory layout of ``like`` (K, n, m)."""
    if ws is not None:
        if like.flags.c_contiguous:
            return ws(name, like.shape)
        if like.transpose(1, 0, 2).flags.c_contiguous:
            return ws(name, like.shape, replica_major=False)
    return np.empty_like(like)


def loss_head(loss, out, T, with_grad=True, ws=None):
    """Per-replica mean loss (K,), dloss/dz (K, n, m) / n, and the softmax (CE).

    ``T`` holds shared targets ((n,) labels or (n, m)) or per-replica ones ((K, n) labels or
    (K, n, m)), the latter from a 2-D ``idx``. With a :class:`Scratch` ``ws`` the (K, n, m)
    results are scratch arrays (for kernels that use them within the call).
    """
    K, n = out.shape[:2]
    if loss == "cross_entropy":
        zmax = out.max(axis=2, keepdims=True)
        ez = np.subtract(out, zmax, out=_like(ws, "head_p", out))
        ez = np.exp(ez, out=ez)
        s = ez.sum(axis=2, keepdims=True)
        lse = np.log(s) + zmax
        Tk = np.broadcast_to(T if T.ndim == 2 else T[None], (K, n))
        zy = np.take_along_axis(out, Tk[:, :, None], axis=2)
        e = (lse - zy)[..., 0].mean(axis=1)
        if not with_grad:
            return e, None, None
        p = np.divide(ez, s, out=ez)
        D = _like(ws, "head_d", out)
        np.copyto(D, p)
        if T.ndim == 2:
            D[np.arange(K)[:, None], np.arange(n), Tk] -= 1.0
        else:
            D[:, np.arange(n), T] -= 1.0
        return e, np.divide(D, n, out=D), p
    r = np.subtract(out, T if T.ndim == 3 else T[None], out=_like(ws, "head_d", out))
    e = 0.5 * np.einsum("knm,knm->k", r, r) / n
    return e, (np.divide(r, n, out=r) if with_grad else None), None


def head_hvp(loss, RZ, p, n, ws=None):
    """(d^2 loss / dz^2) RZ / n for each sample (a scratch array with a :class:`Scratch`)."""
    R = _like(ws, "head_r", RZ)
    if loss == "cross_entropy":
        np.multiply(p, RZ, out=R)
        s = np.sum(R, axis=2, keepdims=True)
        np.subtract(RZ, s, out=R)
        np.multiply(p, R, out=R)
        return np.divide(R, n, out=R)
    return np.divide(RZ, n, out=R)
