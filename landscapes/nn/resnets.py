"""Ruthotto & Haber's PDE-motivated residual networks (dense layers) as exact energies.

Rows are samples: a state ``Y`` has shape (n, w). Every residual update has the form
``T <- T + c * s(S K + b) K^T`` (``s`` the activation, ``K`` (w, w), ``b`` (w,)), applied to
the state slots ``T`` (target) and ``S`` (source):

* parabolic (:class:`ParabolicResNet`): ``Y <- Y - h s(Y K_j + b_j) K_j^T``, a forward-Euler
  step of the gradient flow of the convex ``sum Phi(Y K + b)`` (``Phi' = s`` monotone);
* Hamiltonian (:class:`HamiltonianResNet`), Verlet with two channel groups:
  ``Z <- Z + h s(Y K1_j + b1_j) K1_j^T`` then ``Y <- Y - h s(Z K2_j + b2_j) K2_j^T``;
  reversible exactly (:func:`hamiltonian_inverse`);
* second-order (:class:`SecondOrderResNet`), leapfrog:
  ``Y_{j+1} = 2 Y_j - Y_{j-1} - h^2 s(Y_j K_j + b_j) K_j^T`` with ``Y_{-1} = Y_0``
  (zero initial velocity).

The network is ``X -> Y_0 = X W_in + b_in`` (an affine opening layer to the width ``w``;
``Z_0 = 0``), ``depth`` residual layers with their own weights, and a linear classifier
head on ``Y_depth`` (on ``[Y, Z]`` for the Hamiltonian net). Gradients by backpropagation
through the recursion; Hessian-vector products by the R-operator (forward tangents through
the recursion, then the tangent of the backward pass), exact to rounding.

All three take ``idx`` of one minibatch per replica (2-D, (K, b); see
:class:`~landscapes.energy.FiniteSumEnergy`) in one batched pass: the inputs are gathered
to (K, b, d) and every product is a batched matmul over the replicas.
"""

from __future__ import annotations

import numpy as np

from landscapes import threads
from landscapes._validation import as_points, check_int, check_positive
from landscapes.datasets import Dataset, data_seed_record, dataset_spec
from landscapes.datasets import from_spec as datasets_from_spec
from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Euclidean
from landscapes.nn.layers import (
    ACTIVATION_FUNCS,
    LOSSES,
    Scratch,
    activate,
    head_hvp,
    loss_head,
    tr,
    xmm,
    xtmm,
)
from landscapes.random import SeedLike, as_generator
from landscapes.spec import register

_SCRATCH = Scratch()

__all__ = [
    "ParabolicResNet",
    "HamiltonianResNet",
    "SecondOrderResNet",
    "parabolic_forward",
    "hamiltonian_forward",
    "hamiltonian_inverse",
    "leapfrog_forward",
]


# ----------------------------------------------------------------------------- forward maps
def _act0(activation):
    if activation not in ACTIVATION_FUNCS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {list(ACTIVATION_FUNCS)}"
        )
    f = ACTIVATION_FUNCS[activation]
    return lambda z: f(z, 0)[0]


def parabolic_forward(Y, Ks, bs, h: float, activation: str = "tanh") -> np.ndarray:
    """Parabolic body: ``Y <- Y - h s(Y K_j + b_j) K_j^T`` for each layer j.

    ``Y`` (n, w); ``Ks`` (depth, w, w); ``bs`` (depth, w). Returns the final state.
    """
    s = _act0(activation)
    Y = np.asarray(Y, dtype=np.float64)
    for K, b in zip(Ks, bs, strict=True):
        Y = Y - h * s(Y @ K + b) @ K.T
    return Y


def hamiltonian_forward(Y, Z, K1s, b1s, K2s, b2s, h: float, activation: str = "tanh"):
    """Hamiltonian (Verlet) body: ``Z += h s(Y K1 + b1) K1^T``; ``Y -= h s(Z K2 + b2) K2^T``."""
    s = _act0(activation)
    Y = np.asarray(Y, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    for K1, b1, K2, b2 in zip(K1s, b1s, K2s, b2s, strict=True):
        Z = Z + h * s(Y @ K1 + b1) @ K1.T
        Y = Y - h * s(Z @ K2 + b2) @ K2.T
    return Y, Z


def hamiltonian_inverse(Y, Z, K1s, b1s, K2s, b2s, h: float, activation: str = "tanh"):
    """Exact inverse of :func:`hamiltonian_forward` (layers undone in reverse order)."""
    s = _act0(activation)
    Y = np.asarray(Y, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    for K1, b1, K2, b2 in zip(K1s[::-1], b1s[::-1], K2s[::-1], b2s[::-1], strict=True):
        Y = Y + h * s(Z @ K2 + b2) @ K2.T
        Z = Z - h * s(Y @ K1 + b1) @ K1.T
    return Y, Z


def leapfrog_forward(Y, Ks, bs, h: float, activation: str = "tanh", return_path: bool = False):
    """Second-order body: ``Y_{j+1} = 2 Y_j - Y_{j-1} - h^2 s(Y_j K_j + b_j) K_j^T``, ``Y_{-1} = Y_0``.

    Returns the final state, or with ``return_path`` the list of all states.
    """
    s = _act0(activation)
    Y = np.asarray(Y, dtype=np.float64)
    P = Y
    path = [Y]
    for K, b in zip(Ks, bs, strict=True):
        Y, P = 2 * Y - P - h * h * s(Y @ K + b) @ K.T, Y
        if return_path:
            path.append(Y)
    return path if return_path else Y


# ----------------------------------------------------------------------------- energies
class _ResidualNetLoss(FiniteSumEnergy):
    """Shared machinery: a program of residual units over state slots (abstract)."""

    kind = ""
    n_slots = 1
    head_slots: tuple[int, ...] = (0,)
    intensive_name = "mean loss"
    scale = 1.0
    batched_idx = True  # 2-D idx: per-replica inputs (K, b, d), batched matmuls throughout

    def __init__(
        self,
        data: Dataset,
        width: int = 8,
        depth: int = 4,
        h: float = 0.1,
        activation: str = "tanh",
        loss: str = "cross_entropy",
        weight_decay: float = 0.0,
    ):
        if not isinstance(data, Dataset):
            raise ValueError(
                f"data must be a landscapes.datasets.Dataset; got {type(data).__name__}"
            )
        if activation not in ACTIVATION_FUNCS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {list(ACTIVATION_FUNCS)}"
            )
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
        if loss == "cross_entropy" and data.task != "classification":
            raise ValueError(
                "the cross_entropy loss needs a classification dataset; use loss='mse'"
            )
        self.data = data
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=1)
        self.h = check_positive(h, "h")
        self.activation = activation
        self.loss = loss
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self._act = ACTIVATION_FUNCS[activation]
        w, d, m = self.width, data.n_features, data.n_outputs
        blocks = [("W_in", (d, w)), ("b_in", (w,))]
        for name in self._layer_blocks():
            shape = (self.depth, w, w) if name.startswith("K") else (self.depth, w)
            blocks.append((name, shape))
        blocks += [("W_out", (len(self.head_slots) * w, m)), ("b_out", (m,))]
        self._blocks = []
        pos = 0
        for name, shape in blocks:
            size = int(np.prod(shape))
            self._blocks.append((name, shape, pos, pos + size))
            pos += size
        self.n_params = pos
        self.manifold = Euclidean(pos)
        self.n_samples = data.n_samples
        self._X = data.X
        self._T = data.targets(loss)

    # subclass hooks -------------------------------------------------------------
    def _layer_blocks(self) -> list[str]:
        return ["K", "b"]

    def _program(self):
        """List of ops: ("unit", target, source, K name, b name, layer, c) or ("mix",)."""
        raise NotImplementedError

    def _init_slots(self, Y0):
        return [Y0]

    def _init_slots_adjoint(self, adj):
        return adj[0]

    # identity ---------------------------------------------------------------------
    def params(self) -> dict:
        return {
            "model": f"ruthotto_haber_{self.kind}",
            "dataset": self.data.params(),
            "width": self.width,
            "depth": self.depth,
            "h": self.h,
            "activation": self.activation,
            "loss": self.loss,
            "weight_decay": self.weight_decay,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the data seed is recorded apart)."""
        d = dataset_spec(self.data)
        return {
            "data": {"name": d["name"], "params": d["params"]},
            "width": self.width,
            "depth": self.depth,
            "h": self.h,
            "activation": self.activation,
            "loss": self.loss,
            "weight_decay": self.weight_decay,
        }

    @property
    def seed_record(self) -> dict | None:
        """Seed record of the data (None for data given as arrays)."""
        return data_seed_record(self.data)

    @classmethod
    def from_spec(cls, params: dict, seed: np.random.SeedSequence | None):
        """The loss of :meth:`spec_params` with the data drawn from ``seed``."""
        kw = dict(params)
        data = datasets_from_spec(kw.pop("data"), seed=seed)
        return cls(data, **kw)

    def _fingerprint_payload(self):
        return self.data.fingerprint_payload()

    def _points(self, x, name: str = "x"):
        arr = np.asarray(x)
        if arr.ndim in (1, 2) and arr.shape[-1] != self.n_params:
            raise ValueError(
                f"{name} has length {arr.shape[-1]} but this network has P = {self.n_params} "
                f"parameters; expected shape ({self.n_params},) or (K, {self.n_params})"
            )
        return as_points(arr, self.n_params, name=name)

    def unflatten(self, x) -> dict[str, np.ndarray]:
        """Named parameter blocks (copies) of a flat ``(P,)`` vector (``(K, P)``: leading K)."""
        X, single = self._points(x)
        out = self._unflatten(X)
        return {k: (v[0] if single else v).copy() for k, v in out.items()}

    def flatten(self, blocks: dict) -> np.ndarray:
        """Inverse of :meth:`unflatten`."""
        first = np.asarray(blocks[self._blocks[0][0]])
        batch = first.ndim == len(self._blocks[0][1]) + 1
        K = first.shape[0] if batch else 1
        out = np.empty((K, self.n_params))
        for name, shape, a, b in self._blocks:
            arr = np.asarray(blocks[name], dtype=np.float64)
            want = (K, *shape) if batch else shape
            if arr.shape != want:
                raise ValueError(f"block {name!r} must have shape {want}; got {arr.shape}")
            out[:, a:b] = arr.reshape(K, b - a)
        return out if batch else out[0]

    def _unflatten(self, X):
        K = X.shape[0]
        return {name: X[:, a:b].reshape(K, *shape) for name, shape, a, b in self._blocks}

    def _flatten(self, G, K):
        out = np.empty((K, self.n_params))
        for name, _, a, b in self._blocks:
            out[:, a:b] = np.broadcast_to(G[name], (K, *G[name].shape[1:])).reshape(K, b - a)
        return out

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """Glorot-normal weights (``K`` blocks N(0, 1/w)), zero biases; ``(P,)`` or ``(size, P)``."""
        rng = as_generator(seed)
        K = 1 if size is None else check_int(size, "size", minimum=1)
        X = np.zeros((K, self.n_params))
        for name, shape, a, b in self._blocks:
            if name.startswith("b"):
                continue
            fi, fo = shape[-2], shape[-1]
            X[:, a:b] = np.sqrt(2.0 / (fi + fo)) * rng.standard_normal((K, b - a))
        return X[0] if size is None else X

    # kernels ----------------------------------------------------------------------
    def _data(self, idx):
        if idx is None:
            return self._X, self._T
        return self._X[idx], self._T[idx]

    def _flops(self, K: int, Xd: np.ndarray) -> float:
        """Flops of the largest single product of a kernel on K replicas (thread policy).

        The opening layer on shared data is one GEMM for all K replicas; the residual units'
        (n, w) @ (w, w) products and the head are one replica's each.
        """
        n, w = Xd.shape[-2], self.width
        first = 2.0 * n * self.data.n_features * w * (K if Xd.ndim == 2 else 1)
        head = 2.0 * n * len(self.head_slots) * w * self.data.n_outputs
        return max(first, 2.0 * n * w * w, head)

    def _run(self, X, idx, V=None, order=1, need_grad=True):
        """Energy, gradient and (when V is given) the R-operator H V, all batched.

        A 2-D ``idx`` (K, b) gathers per-replica inputs (K, b, d); X (and V) have K rows.
        Every (K, n, width) array is a :class:`~landscapes.nn.layers.Scratch` one, and the
        operations are those of the plain formulas in the same order (equal bit for bit).
        """
        Xd, T = self._data(idx)
        n = Xd.shape[-2]
        Kx = X.shape[0]
        Kb = max(Kx, 1 if V is None else V.shape[0])
        tang = V is not None
        with threads.kernel(self._flops(Kb, Xd)):
            return self._run_kernel(X, V, Xd, T, n, Kx, Kb, order, need_grad, tang)

    def _run_kernel(self, X, V, Xd, T, n, Kx, Kb, order, need_grad, tang):
        ws = _SCRATCH
        w = self.width
        sx, sb = (Kx, n, w), (Kb, n, w)
        W = self._unflatten(X)
        dW = self._unflatten(V) if tang else None
        # ---- forward (with tangents)
        Y0 = xmm(Xd, W["W_in"], out=ws("y0", sx, Xd.ndim == 3 or Kx == 1))
        np.add(Y0, W["b_in"][:, None, :], out=Y0)
        slots = self._init_slots(Y0)
        if tang:
            dY0 = xmm(Xd, dW["W_in"], out=ws("dy0", sb, Xd.ndim == 3 or Kb == 1))
            np.add(dY0, dW["b_in"][:, None, :], out=dY0)
            dslots = self._init_slots(dY0)
        prog = self._program()
        cache = []
        for q, op in enumerate(prog):
            if op[0] == "mix":
                new = np.multiply(slots[0], 2, out=ws(f"s{q}", sx))
                slots = [np.subtract(new, slots[1], out=new), slots[0]]
                if tang:
                    new = np.multiply(dslots[0], 2, out=ws(f"ds{q}", sb))
                    dslots = [np.subtract(new, dslots[1], out=new), dslots[0]]
                cache.append(None)
                continue
            _, t, s, kn, bn, j, c = op
            Kj, bj = W[kn][:, j], W[bn][:, j]
            src = slots[s]
            Z = np.matmul(src, Kj, out=ws(f"z{q}", sx))
            np.add(Z, bj[:, None, :], out=Z)
            dA = ws(f"da{q}", sx) if order >= 1 else None
            d2A = ws(f"d2a{q}", sx) if order >= 2 else None
            A, dA, d2A = activate(self.activation, Z, order, dA, d2A)
            ent = {"src": src, "A": A, "dA": dA, "d2A": d2A, "K": Kj}
            new_t = np.matmul(A, tr(Kj), out=ws(f"s{q}", sx))
            np.multiply(new_t, c, out=new_t)
            np.add(slots[t], new_t, out=new_t)
            if tang:
                dK, db = dW[kn][:, j], dW[bn][:, j]
                dsrc = dslots[s]
                tmp = ws("tmp", sb)
                dZ = np.matmul(dsrc, Kj, out=ws(f"dz{q}", sb))
                dZ += np.matmul(src, dK, out=tmp)
                dZ += db[:, None, :]
                dAct = np.multiply(dA, dZ, out=ws(f"dact{q}", sb))
                ent.update(dsrc=dsrc, dZ=dZ, dAct=dAct, dK=dK)
                U = np.matmul(dAct, tr(Kj), out=ws(f"ds{q}", sb))
                U += np.matmul(A, tr(dK), out=tmp)
                np.multiply(U, c, out=U)
                dslots[t] = np.add(dslots[t], U, out=U)
            slots[t] = new_t
            cache.append(ent)
        Hin = np.concatenate([slots[i] for i in self.head_slots], axis=2)
        Wo, bo = W["W_out"], W["b_out"]
        out = np.matmul(Hin, Wo) + bo[:, None, :]
        e, D, p = loss_head(self.loss, out, T, with_grad=need_grad or tang, ws=ws)
        if self.weight_decay:
            e = e + 0.5 * self.weight_decay * np.einsum("kp,kp->k", X, X)
        if not need_grad and not tang:
            return e, None
        G = {}
        if tang:
            dHin = np.concatenate([dslots[i] for i in self.head_slots], axis=2)
            dWo, dbo = dW["W_out"], dW["b_out"]
            dout = np.matmul(dHin, Wo) + np.matmul(Hin, dWo) + dbo[:, None, :]
            RD = head_hvp(self.loss, dout, p, n, ws=ws)
            G["W_out"] = np.matmul(tr(Hin), RD) + np.matmul(tr(dHin), D)
            G["b_out"] = RD.sum(axis=1)
            Hbar = np.matmul(D, tr(Wo))
            RHbar = np.matmul(RD, tr(Wo)) + np.matmul(D, tr(dWo))
        else:
            G["W_out"] = np.matmul(tr(Hin), D)
            G["b_out"] = D.sum(axis=1)
            Hbar = np.matmul(D, tr(Wo))

        def zeros(name):
            z = ws(name, sb)
            z.fill(0.0)
            return z

        adj = [zeros(f"adj{i}") for i in range(self.n_slots)]
        radj = [zeros(f"radj{i}") for i in range(self.n_slots)] if tang else None
        for k, i in enumerate(self.head_slots):
            adj[i] += Hbar[:, :, k * w : (k + 1) * w]
            if tang:
                radj[i] += RHbar[:, :, k * w : (k + 1) * w]
        for name in self._layer_blocks():
            G[name] = np.zeros((Kb, *dict((b[0], b[1]) for b in self._blocks)[name]))
        tmp = ws("tmp", sb)
        for q in range(len(prog) - 1, -1, -1):
            op, ent = prog[q], cache[q]
            if op[0] == "mix":
                # (adj0, adj1) -> (2 adj0 + adj1, -adj0)
                new = np.multiply(adj[0], 2, out=ws(f"am{q}", sb))
                adj = [np.add(new, adj[1], out=new), np.negative(adj[0], out=ws(f"an{q}", sb))]
                if tang:
                    new = np.multiply(radj[0], 2, out=ws(f"rm{q}", sb))
                    radj = [
                        np.add(new, radj[1], out=new),
                        np.negative(radj[0], out=ws(f"rn{q}", sb)),
                    ]
                continue
            _, t, s, kn, bn, j, c = op
            Kj, A, dA, src = ent["K"], ent["A"], ent["dA"], ent["src"]
            Gt = adj[t]
            Abar = np.matmul(Gt, Kj, out=ws("abar", sb))
            np.multiply(Abar, c, out=Abar)
            Zbar = np.multiply(Abar, dA, out=ws("zbar", sb))
            if not tang:
                G[kn][:, j] += c * np.matmul(tr(Gt), A) + np.matmul(tr(src), Zbar)
                G[bn][:, j] += Zbar.sum(axis=1)
                adj[s] += np.matmul(Zbar, tr(Kj), out=tmp)
                continue
            RGt = radj[t]
            dK, dsrc, dZ, dAct = ent["dK"], ent["dsrc"], ent["dZ"], ent["dAct"]
            R = np.matmul(RGt, Kj, out=ws("rabar", sb))
            R += np.matmul(Gt, dK, out=tmp)
            np.multiply(R, c, out=R)  # RAbar
            np.multiply(R, dA, out=R)
            np.multiply(Abar, ent["d2A"], out=tmp)
            tmp *= dZ
            RZbar = np.add(R, tmp, out=R)  # RAbar dA + (Abar d2A) dZ
            G[kn][:, j] += (
                c * (np.matmul(tr(RGt), A) + np.matmul(tr(Gt), dAct))
                + np.matmul(tr(dsrc), Zbar)
                + np.matmul(tr(src), RZbar)
            )
            G[bn][:, j] += RZbar.sum(axis=1)
            adj[s] += np.matmul(Zbar, tr(Kj), out=tmp)
            radj[s] += np.matmul(RZbar, tr(Kj), out=tmp)
            radj[s] += np.matmul(Zbar, tr(dK), out=tmp)
        src_adj = radj if tang else adj
        Y0bar = self._init_slots_adjoint(src_adj)
        G["W_in"] = xtmm(Xd, Y0bar)
        G["b_in"] = Y0bar.sum(axis=1)
        out = self._flatten(G, Kb)
        if self.weight_decay:
            out += self.weight_decay * (V if tang else X)
        return e, out

    def _energy(self, X, idx=None):
        return self._run(X, idx, need_grad=False, order=0)[0]

    def _energy_and_gradient(self, X, idx=None):
        return self._run(X, idx)

    def _hvp(self, X, V, idx=None):
        return self._run(X, V=V, idx=idx, order=2)[1]

    def _hvp_block(self, x, V, idx=None):
        n = self.n_samples if idx is None else len(idx)
        c = max(1, int(4_000_000 // max(1, n * self.width * self.depth * self.n_slots)))
        return np.concatenate(
            [
                self._run(x[None], V=V[s : s + c], idx=idx, order=2)[1]
                for s in range(0, V.shape[0], c)
            ]
        )

    def hvp(self, x, V, idx=None) -> np.ndarray:
        """Exact Hessian-vector product (R-operator through the recursion) over ``idx``.

        ``x`` (P,) with ``V`` (P,) or a block (m, P); or ``x`` (K, P) with ``V`` (K, P), one
        vector per point. The result has the shape of ``V``. ``idx`` as in
        :class:`~landscapes.energy.FiniteSumEnergy` (2-D: one minibatch per point).
        """
        return self._hvp_dispatch(x, V, idx, self._hvp_block, self._hvp)

    def features(self, x, split: str = "train"):
        """Head inputs (the final states), ``(n, width * len(head_slots))`` (batch: leading K)."""
        X, single = self._points(x)
        Xd = self.data.arrays(split)[0]
        W = self._unflatten(X)
        Y0 = xmm(Xd, W["W_in"]) + W["b_in"][:, None, :]
        slots = self._init_slots(Y0)
        s = self._act
        for op in self._program():
            if op[0] == "mix":
                slots = [2 * slots[0] - slots[1], slots[0]]
                continue
            _, t, src, kn, bn, j, c = op
            Kj, bj = W[kn][:, j], W[bn][:, j]
            A = s(np.matmul(slots[src], Kj) + bj[:, None, :], 0)[0]
            slots[t] = slots[t] + c * np.matmul(A, tr(Kj))
        H = np.concatenate([slots[i] for i in self.head_slots], axis=2)
        return H[0] if single else H

    def outputs(self, x, split: str = "train"):
        """Network outputs (logits): (n, m), or (K, n, m) for a batch."""
        X, single = self._points(x)
        H = self.features(X, split)
        W = self._unflatten(X)
        out = np.matmul(H, W["W_out"]) + W["b_out"][:, None, :]
        return out[0] if single else out

    def accuracy(self, x, split: str = "train"):
        """Fraction of samples whose largest output is the true class (classification only)."""
        if self.data.task != "classification":
            raise ValueError("accuracy needs a classification dataset")
        _, single = self._points(x)
        y = self.data.arrays(split)[1]
        acc = (np.argmax(self.outputs(x, split), axis=-1) == y).mean(axis=-1)
        return float(acc) if single else acc


class ParabolicResNet(_ResidualNetLoss):
    """Ruthotto-Haber parabolic network: ``Y <- Y - h s(Y K_j + b_j) K_j^T``.

    Parameters
    ----------
    data : Dataset
    width : int
        Channels w of the residual state.
    depth : int
        Number of residual layers (each with its own ``K_j``, ``b_j``).
    h : float
        Step size.
    activation, loss, weight_decay
        As in :class:`landscapes.nn.MLPLoss`.

    Notes
    -----
    For a monotone activation each layer is non-expansive when ``h |K_j|^2 max s' <= 2``
    (a gradient step on a convex function with that Lipschitz gradient).
    """

    kind = "parabolic"

    def _program(self):
        return [("unit", 0, 0, "K", "b", j, -self.h) for j in range(self.depth)]


class HamiltonianResNet(_ResidualNetLoss):
    """Ruthotto-Haber Hamiltonian network (Verlet) with two channel groups ``Y``, ``Z``.

    ``Z <- Z + h s(Y K1_j + b1_j) K1_j^T``; ``Y <- Y - h s(Z K2_j + b2_j) K2_j^T``;
    ``Y_0 = X W_in + b_in``, ``Z_0 = 0``; the head reads ``[Y, Z]``. Each layer is exactly
    invertible (:func:`hamiltonian_inverse`). Parameters as :class:`ParabolicResNet`.
    """

    kind = "hamiltonian"
    n_slots = 2
    head_slots = (0, 1)

    def _layer_blocks(self):
        return ["K1", "b1", "K2", "b2"]

    def _program(self):
        prog = []
        for j in range(self.depth):
            prog.append(("unit", 1, 0, "K1", "b1", j, self.h))
            prog.append(("unit", 0, 1, "K2", "b2", j, -self.h))
        return prog

    def _init_slots(self, Y0):
        return [Y0, np.zeros_like(Y0)]

    def _init_slots_adjoint(self, adj):
        return adj[0]


class SecondOrderResNet(_ResidualNetLoss):
    """Ruthotto-Haber second-order (leapfrog) network.

    ``Y_{j+1} = 2 Y_j - Y_{j-1} - h^2 s(Y_j K_j + b_j) K_j^T`` with ``Y_{-1} = Y_0`` (zero
    initial velocity); the head reads ``Y_depth``. In the linear case the recursion is stable
    for ``h |K| < 2`` and grows without bound beyond. Parameters as :class:`ParabolicResNet`.
    """

    kind = "second_order"
    n_slots = 2
    head_slots = (0,)

    def _program(self):
        # slots (Y_j, Y_{j-1}); "mix" makes (2 Y_j - Y_{j-1}, Y_j), the unit adds the force
        prog = []
        for j in range(self.depth):
            prog.append(("mix",))
            prog.append(("unit", 0, 1, "K", "b", j, -self.h * self.h))
        return prog

    def _init_slots(self, Y0):
        return [Y0, Y0]

    def _init_slots_adjoint(self, adj):
        return adj[0] + adj[1]


register("ParabolicResNet", ParabolicResNet)
register("HamiltonianResNet", HamiltonianResNet)
register("SecondOrderResNet", SecondOrderResNet)
