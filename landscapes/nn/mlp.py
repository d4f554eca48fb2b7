"""Multilayer perceptron losses with exact gradients and Hessian-vector products.

The loss of an MLP ``d - h_1 - ... - h_L - m`` on a :class:`~landscapes.datasets.Dataset` is
a :class:`~landscapes.energy.FiniteSumEnergy` over the flat parameter vector. Gradients come
from backpropagation, Hessian-vector products from Pearlmutter's R-operator (forward-mode
perturbation of the forward and backward passes), and both run on K parameter replicas at
once with batched matrix products: the data are read once per call for every replica.

Parameter layout (``flatten`` / ``unflatten``): for each layer in order, the weight matrix
``W`` of shape (fan_in, fan_out) in row-major order, then the bias ``b`` (fan_out,). A layer
computes ``Z = A W + b`` with ``A`` the (n, fan_in) activations of the previous layer.
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
    ACTIVATIONS,
    LOSSES,
    Scratch,
    activate,
    flatten_grads,
    head_hvp,
    init_std,
    loss_head,
    split_layout,
    tr,
    unflatten_batch,
    xmm,
    xtmm,
)
from landscapes.random import SeedLike, as_generator
from landscapes.spec import register

__all__ = ["MLPLoss", "ACTIVATIONS", "LOSSES"]

_SCRATCH = Scratch()


# ----------------------------------------------------------------------------- the loss
class MLPLoss(FiniteSumEnergy):
    """The training loss of a fully connected network, an Energy over its flat parameters.

    ``L(theta) = (1/n) sum_i loss(f_theta(x_i), y_i) + (weight_decay / 2) |theta|^2``, with
    ``loss`` the softmax cross-entropy ``logsumexp(z) - z_y`` or the squared error
    ``|z - t|^2 / 2`` (one-hot ``t`` for a classification dataset). The weight decay acts on
    every parameter, biases included. The loss is intensive (a mean over samples):
    ``scale = 1``.

    Parameters
    ----------
    data : Dataset
        Training data (:mod:`landscapes.datasets`); the held-out part serves ``accuracy``.
    hidden : tuple of int
        Hidden widths (may be empty: a linear / logistic model).
    activation : {"tanh", "relu", "softplus", "gelu", "linear"}
        Hidden-unit nonlinearity (GELU is the exact erf form). The output layer is linear.
    loss : {"cross_entropy", "mse"}
    weight_decay : float
        Coefficient of ``|theta|^2 / 2``.

    Notes
    -----
    Gradient: backpropagation. Hessian-vector product: the R-operator (Pearlmutter 1994),
    exact to rounding, about 2-3 gradients in cost; ``gnvp`` is the Gauss-Newton part
    ``J^T (d^2 loss / dz^2) J / n + weight_decay * I``, so ``hvp - gnvp`` is the residual term
    carrying the second derivatives of the network. ReLU is not differentiable where a
    pre-activation is exactly 0; there the (one-sided) derivative 0 is used.

    Minibatches: ``idx`` may be 2-D (K, b), one minibatch per replica (see
    :class:`~landscapes.energy.FiniteSumEnergy`); the inputs are then gathered to
    (K, b, d) and every layer is one batched matmul over the replicas (``energy``,
    ``gradient``, ``hvp`` and ``gnvp`` alike).
    """

    intensive_name = "mean loss"
    scale = 1.0
    batched_idx = True

    def __init__(
        self,
        data: Dataset,
        hidden: tuple[int, ...] | list[int] = (32,),
        activation: str = "tanh",
        loss: str = "cross_entropy",
        weight_decay: float = 0.0,
    ):
        if not isinstance(data, Dataset):
            raise ValueError(
                f"data must be a landscapes.datasets.Dataset (see datasets.from_arrays); "
                f"got {type(data).__name__}"
            )
        if activation not in ACTIVATION_FUNCS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}"
            )
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
        if loss == "cross_entropy" and data.task != "classification":
            raise ValueError(
                "the cross_entropy loss needs a classification dataset; use loss='mse'"
            )
        if isinstance(hidden, int | np.integer):
            hidden = (int(hidden),)
        try:
            hidden = tuple(check_int(h, "hidden width", minimum=1) for h in hidden)
        except TypeError:
            raise ValueError(f"hidden must be a tuple of positive ints; got {hidden!r}") from None
        self.data = data
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.sizes = (data.n_features, *hidden, data.n_outputs)
        self._layout = split_layout(self.sizes)
        self.n_params = self._layout[-1][-1]
        self.manifold = Euclidean(self.n_params)
        self.n_samples = data.n_samples
        self._X = data.X
        self._T = data.targets(loss)
        self._act = ACTIVATION_FUNCS[activation]

    # ------------------------------------------------------------------ identity
    def params(self) -> dict:
        return {
            "model": "mlp",
            "dataset": self.data.params(),
            "sizes": list(self.sizes),
            "activation": self.activation,
            "loss": self.loss,
            "weight_decay": self.weight_decay,
        }

    def spec_params(self) -> dict:
        """Constructor parameters for :mod:`landscapes.spec` (the data seed is recorded apart)."""
        d = dataset_spec(self.data)
        return {
            "data": {"name": d["name"], "params": d["params"]},
            "hidden": list(self.hidden),
            "activation": self.activation,
            "loss": self.loss,
            "weight_decay": self.weight_decay,
        }

    @property
    def seed_record(self) -> dict | None:
        """Seed record of the data (None for data given as arrays)."""
        return data_seed_record(self.data)

    @classmethod
    def from_spec(cls, params: dict, seed: np.random.SeedSequence | None) -> MLPLoss:
        """The loss of :meth:`spec_params` with the data drawn from ``seed``."""
        kw = dict(params)
        data = datasets_from_spec(kw.pop("data"), seed=seed)
        return cls(data, **kw)

    def _fingerprint_payload(self):
        return self.data.fingerprint_payload()

    @property
    def layout(self) -> list[tuple[int, int, int]]:
        """Per layer: (weight start, weight end = bias start, bias end) in the flat vector."""
        return list(self._layout)

    @property
    def n_layers(self) -> int:
        """Number of affine layers (hidden layers + 1)."""
        return len(self._layout)

    # ------------------------------------------------------------------ layout
    def _check_theta(self, x, name="x"):
        arr = np.asarray(x)
        if arr.ndim in (1, 2) and arr.shape[-1] != self.n_params:
            raise ValueError(
                f"{name} has length {arr.shape[-1]} but this network has P = {self.n_params} "
                f"parameters (sizes {self.sizes}); expected shape ({self.n_params},) or "
                f"(K, {self.n_params})"
            )
        return as_points(arr, self.n_params, name=name)

    def _points(self, x, name: str = "x"):
        return self._check_theta(x, name)

    def unflatten(self, x) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-layer ``(W, b)`` copies of a flat vector ``(P,)`` (or ``(K, P)``: leading K axis)."""
        X, single = self._check_theta(x)
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        if single:
            return [(W[0].copy(), b[0].copy()) for W, b in zip(Ws, bs, strict=True)]
        return [(W.copy(), b.copy()) for W, b in zip(Ws, bs, strict=True)]

    def flatten(self, layers) -> np.ndarray:
        """Inverse of :meth:`unflatten`: a list of ``(W, b)`` to a flat ``(P,)`` (or ``(K, P)``)."""
        layers = list(layers)
        if len(layers) != self.n_layers:
            raise ValueError(f"expected {self.n_layers} (W, b) pairs; got {len(layers)}")
        W0 = np.asarray(layers[0][0])
        batch = W0.ndim == 3
        K = W0.shape[0] if batch else 1
        Ws, bs = [], []
        for i, (W, b) in enumerate(layers):
            W = np.asarray(W, dtype=np.float64)
            b = np.asarray(b, dtype=np.float64)
            wshape = (self.sizes[i], self.sizes[i + 1])
            if W.shape != ((K, *wshape) if batch else wshape) or b.shape != (
                (K, wshape[1]) if batch else (wshape[1],)
            ):
                raise ValueError(
                    f"layer {i}: expected W of shape {wshape} and b of shape ({wshape[1]},)"
                    f"{' with a leading batch axis' if batch else ''}; got {W.shape} and {b.shape}"
                )
            Ws.append(W.reshape(K, *wshape))
            bs.append(b.reshape(K, wshape[1]))
        out = flatten_grads(Ws, bs, self.n_params)
        return out if batch else out[0]

    def random_point(self, seed: SeedLike = None, size: int | None = None) -> np.ndarray:
        """Standard initialization: Glorot normal (He normal for relu/gelu), zero biases.

        Weights of a layer are iid N(0, 2 / (fan_in + fan_out)) (Glorot) or N(0, 2 / fan_in)
        (He); biases are 0. Returns ``(P,)`` or ``(size, P)``.
        """
        rng = as_generator(seed)
        K = 1 if size is None else check_int(size, "size", minimum=1)
        X = np.zeros((K, self.n_params))
        for i, (w0, w1, _) in enumerate(self._layout):
            fi, fo = self.sizes[i], self.sizes[i + 1]
            std = init_std(self.activation, fi, fo)
            X[:, w0:w1] = std * rng.standard_normal((K, w1 - w0))
        return X[0] if size is None else X

    # ------------------------------------------------------------------ kernels
    def _data(self, idx):
        if idx is None:
            return self._X, self._T
        return self._X[idx], self._T[idx]

    def _forward(self, Ws, bs, Xd, order):
        """Pre-activations Z, activations A (A[0] = data), derivatives; returns logits too."""
        Zs, As, dAs, d2As = [], [Xd], [], []
        L = len(Ws)
        for i in range(L):
            Z = xmm(Xd, Ws[0]) if i == 0 else np.matmul(As[-1], Ws[i])
            Z = Z + bs[i][:, None, :]
            Zs.append(Z)
            if i < L - 1:
                a, da, d2a = self._act(Z, order)
                As.append(a)
                dAs.append(da)
                d2As.append(d2a)
        return Zs, As, dAs, d2As

    def _flops(self, K: int, Xd: np.ndarray) -> float:
        """Flops of the largest single product of a kernel on K replicas (thread policy).

        Threads pay per product, not per kernel: the first layer on shared data is one GEMM
        for all K replicas, every other product is one replica's.
        """
        n = Xd.shape[-2]
        first = 2.0 * n * self.sizes[0] * self.sizes[1] * (K if Xd.ndim == 2 else 1)
        return max(
            first,
            *(2.0 * n * a * b for a, b in zip(self.sizes[1:-1], self.sizes[2:], strict=True)),
            0.0,
        )

    def _forward_ws(self, Ws, bs, Xd, order, K):
        """:meth:`_forward` into scratch arrays: logits, activations, derivatives.

        The same operations in the same order as :meth:`_forward` (results equal bit for
        bit), with every (K, n, width) array a :class:`~landscapes.nn.layers.Scratch` one.
        """
        n = Xd.shape[-2]
        rm = Xd.ndim == 3 or K == 1
        As, dAs, d2As = [Xd], [], []
        L = len(Ws)
        for i in range(L):
            shape = (K, n, self.sizes[i + 1])
            rm = rm or i > 0  # (n, K, w) layout only where one GEMM serves all replicas
            Z = _SCRATCH(f"z{i}", shape, rm)
            if i == 0:
                xmm(Xd, Ws[0], out=Z)
            else:
                np.matmul(As[-1], Ws[i], out=Z)
            np.add(Z, bs[i][:, None, :], out=Z)
            if i < L - 1:
                da = _SCRATCH(f"da{i}", shape, rm) if order else None
                d2a = _SCRATCH(f"d2a{i}", shape, rm) if order == 2 else None
                a, da, d2a = activate(self.activation, Z, order, da, d2a)
                As.append(a)
                dAs.append(da)
                d2As.append(d2a)
        return Z, As, dAs, d2As

    def _loss_head(self, out, T, with_grad=True, ws=None):
        return loss_head(self.loss, out, T, with_grad, ws)

    def _head_hvp(self, RZ, p, n, ws=None):
        return head_hvp(self.loss, RZ, p, n, ws)

    def _decay(self, e, X):
        return e + 0.5 * self.weight_decay * np.einsum("kp,kp->k", X, X)

    def _energy(self, X, idx=None):
        Xd, T = self._data(idx)
        K = X.shape[0]
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        with threads.kernel(self._flops(K, Xd)):
            out = self._forward_ws(Ws, bs, Xd, 0, K)[0]
            e = self._loss_head(out, T, with_grad=False, ws=_SCRATCH)[0]
        return self._decay(e, X) if self.weight_decay else e

    def _energy_and_gradient(self, X, idx=None):
        Xd, T = self._data(idx)
        K = X.shape[0]
        rm = Xd.ndim == 3 or K == 1
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        L = len(Ws)
        gWs, gbs = [None] * L, [None] * L
        with threads.kernel(self._flops(K, Xd)):
            out, As, dAs, _ = self._forward_ws(Ws, bs, Xd, 1, K)
            e, D, _ = self._loss_head(out, T, ws=_SCRATCH)
            for i in range(L - 1, -1, -1):
                gWs[i] = xtmm(Xd, D) if i == 0 else np.matmul(tr(As[i]), D)
                gbs[i] = D.sum(axis=1)
                if i > 0:
                    B = _SCRATCH(f"bd{i}", dAs[i - 1].shape, rm)
                    np.matmul(D, tr(Ws[i]), out=B)
                    D = np.multiply(B, dAs[i - 1], out=B)
            g = flatten_grads(gWs, gbs, self.n_params)
        if self.weight_decay:
            e = self._decay(e, X)
            g += self.weight_decay * X
        return e, g

    def _rop(self, X, V, idx, gauss_newton: bool):
        """R-operator: H(X[k]) V[k] (or G V) with X of K or 1 rows and V of K rows.

        A 2-D ``idx`` (K, b) needs X and V of K rows each.
        """
        Xd, T = self._data(idx)
        n = Xd.shape[-2]
        Kx, Kv = X.shape[0], V.shape[0]
        rmx, rmv = Xd.ndim == 3 or Kx == 1, Xd.ndim == 3 or Kv == 1
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        dWs, dbs = unflatten_batch(V, self.sizes, self._layout)
        L = len(Ws)
        gWs, gbs = [None] * L, [None] * L
        with threads.kernel(self._flops(max(Kx, Kv), Xd)):
            out, As, dAs, d2As = self._forward_ws(Ws, bs, Xd, 1 if gauss_newton else 2, Kx)
            # forward R pass: RZ_i, RA_i
            RZs, RAs = [], [None]
            for i in range(L):
                shape = (Kv, n, self.sizes[i + 1])
                lay = rmv or i > 0
                RZ = _SCRATCH(f"rz{i}", shape, lay)
                if i == 0:
                    xmm(Xd, dWs[0], out=RZ)
                else:
                    np.matmul(As[i], dWs[i], out=RZ)
                    tmp = _SCRATCH(f"rt{i}", shape, lay)
                    np.add(RZ, np.matmul(RAs[i], Ws[i], out=tmp), out=RZ)
                np.add(RZ, dbs[i][:, None, :], out=RZ)
                RZs.append(RZ)
                if i < L - 1:
                    RAs.append(np.multiply(dAs[i], RZ, out=_SCRATCH(f"ra{i}", shape, lay)))
            _, D, p = self._loss_head(out, T, ws=_SCRATCH)
            RD = self._head_hvp(RZs[-1], p, n, ws=_SCRATCH)
            for i in range(L - 1, -1, -1):
                if i == 0:
                    gWs[i] = xtmm(Xd, RD)
                else:
                    gWs[i] = np.matmul(tr(As[i]), RD)
                    if not gauss_newton:
                        gWs[i] = gWs[i] + np.matmul(tr(RAs[i]), D)
                gbs[i] = RD.sum(axis=1)
                if i == 0:
                    break
                shape = (Kv, n, self.sizes[i])
                RG = np.matmul(RD, tr(Ws[i]), out=_SCRATCH(f"rg{i}", shape, rmv))
                if gauss_newton:
                    RD = np.multiply(RG, dAs[i - 1], out=RG)
                    continue
                # RD = (RG + D dW^T) dA + (G d2A) RZ; D = G dA, with G = D W^T
                G = np.matmul(D, tr(Ws[i]), out=_SCRATCH(f"g{i}", (Kx, n, self.sizes[i]), rmx))
                tmp = np.matmul(D, tr(dWs[i]), out=_SCRATCH(f"bt{i}", shape, rmv))
                np.add(RG, tmp, out=RG)
                np.multiply(RG, dAs[i - 1], out=RG)
                np.multiply(G, d2As[i - 1], out=tmp)
                np.multiply(tmp, RZs[i - 1], out=tmp)
                RD = np.add(RG, tmp, out=RG)
                D = np.multiply(G, dAs[i - 1], out=G)
            res = flatten_grads(gWs, gbs, self.n_params)
        if self.weight_decay:
            res += self.weight_decay * V
        return res

    def _chunk(self, n):
        width = max(self.sizes)
        return max(1, int(8_000_000 // max(1, n * width)))

    def _rop_block(self, x, V, idx, gauss_newton):
        n = self.n_samples if idx is None else len(idx)
        c = self._chunk(n)
        if V.shape[0] <= c:
            return self._rop(x[None], V, idx, gauss_newton)
        return np.concatenate(
            [self._rop(x[None], V[s : s + c], idx, gauss_newton) for s in range(0, V.shape[0], c)]
        )

    def _hvp(self, X, V, idx=None):
        return self._rop(X, V, idx, False)

    def _hvp_block(self, x, V, idx=None):
        return self._rop_block(x, V, idx, False)

    # ------------------------------------------------------------------ extras
    def _apply(self, x, V, idx, gauss_newton: bool) -> np.ndarray:
        return self._hvp_dispatch(
            x,
            V,
            idx,
            lambda x0, Vb, i: self._rop_block(x0, Vb, i, gauss_newton),
            lambda Xb, Vb, i: self._rop(Xb, Vb, i, gauss_newton),
        )

    def hvp(self, x, V, idx=None) -> np.ndarray:
        """Exact Hessian-vector product (R-operator) of the mean loss over ``idx``.

        ``x`` (P,) with ``V`` (P,) or a block (m, P); or ``x`` (K, P) with ``V`` (K, P), one
        vector per point. The result has the shape of ``V``. ``idx`` as in
        :class:`~landscapes.energy.FiniteSumEnergy` (2-D: one minibatch per point).
        """
        return self._apply(x, V, idx, False)

    def gnvp(self, x, V, idx=None) -> np.ndarray:
        """Gauss-Newton vector product ``G V``, ``G = J^T (d^2 loss/dz^2) J / n + weight_decay I``.

        Same shapes as :meth:`hvp` (one point with one vector or a block; or K points with
        one vector each). ``G`` is positive semi-definite (positive definite with weight
        decay) and equals the Hessian where the residual term vanishes.
        """
        return self._apply(x, V, idx, True)

    def outputs(self, x, split: str = "train") -> np.ndarray:
        """Network outputs (logits for classification): (n, m), or (K, n, m) for a batch."""
        X, single = self._check_theta(x)
        Xd = self.data.arrays(split)[0]
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        out = self._forward(Ws, bs, Xd, 0)[0][-1]
        return out[0] if single else out

    def accuracy(self, x, split: str = "train"):
        """Fraction of samples whose largest output is the true class (classification only)."""
        if self.data.task != "classification":
            raise ValueError("accuracy needs a classification dataset")
        y = self.data.arrays(split)[1]
        _, single = self._check_theta(x)
        out = self.outputs(x, split)
        acc = (np.argmax(out, axis=-1) == y).mean(axis=-1)
        return float(acc) if single else acc

    def split_loss(self, x, split: str = "test"):
        """Mean loss (without weight decay) on the train or held-out part."""
        Xsplit = self.data.arrays(split)
        T = self.data.targets(self.loss, split)
        X, single = self._check_theta(x)
        Ws, bs = unflatten_batch(X, self.sizes, self._layout)
        out = self._forward(Ws, bs, Xsplit[0], 0)[0][-1]
        e = self._loss_head(out, T, with_grad=False)[0]
        return float(e[0]) if single else e

    # ------------------------------------------------------------------ symmetries
    def symmetry_directions(self, x) -> np.ndarray:
        """Exact continuous symmetries at ``x``: tangent directions of the orbits, rows (r, P).

        The loss is constant along each orbit, so every direction is orthogonal to the
        gradient and, at a critical point, in the kernel of the Hessian. Declared:

        * cross-entropy (no weight decay): adding the same constant to every output logit,
          i.e. to every entry of a row of the last weight matrix or to the whole last bias
          (``h_L + 1`` directions, independent of ``x``);
        * relu / linear units (no weight decay): rescaling a hidden unit's incoming weights
          and bias by ``a > 0`` and its outgoing weights by ``1/a`` (one direction per hidden
          unit, ``d/da`` at ``a = 1``); for linear units the whole ``GL(h)`` action
          (``h^2`` directions per hidden layer) and the hidden-bias shifts
          ``b_l -> b_l + t e_j``, ``b_{l+1} -> b_{l+1} - t W_{l+1}[j]`` (``h`` more).

        Weight decay breaks all of these; then the result has no rows. The directions are
        not orthonormalized (use ``numpy.linalg.qr`` on the transpose for a basis).
        """
        X, single = self._check_theta(x)
        if not single:
            raise ValueError("symmetry_directions takes one point (P,)")
        if self.weight_decay:
            return np.zeros((0, self.n_params))
        x0 = X[0]
        dirs = []
        Wb = [
            (x0[w0:w1].reshape(self.sizes[i], self.sizes[i + 1]), x0[w1:b1])
            for i, (w0, w1, b1) in enumerate(self._layout)
        ]
        if self.loss == "cross_entropy":
            w0, w1, b1 = self._layout[-1]
            h = self.sizes[-2]
            m = self.sizes[-1]
            for r in range(h):
                v = np.zeros(self.n_params)
                v[w0 + r * m : w0 + (r + 1) * m] = 1.0
                dirs.append(v)
            v = np.zeros(self.n_params)
            v[w1:b1] = 1.0
            dirs.append(v)
        if self.activation in ("relu", "linear"):
            for li in range(len(self.hidden)):
                h = self.sizes[li + 1]
                W, b = Wb[li]
                Wn = Wb[li + 1][0]
                w0, w1, b1 = self._layout[li]
                n0, n1, _ = self._layout[li + 1]
                gens = (
                    [(j, j) for j in range(h)]
                    if self.activation == "relu"
                    else [(i, j) for i in range(h) for j in range(h)]
                )
                for i, j in gens:
                    # unit transform A -> A M with M = I + t E_ij: W -> W M, b -> b M, W' -> M^-1 W'
                    v = np.zeros(self.n_params)
                    dW = np.zeros_like(W)
                    dW[:, j] = W[:, i]
                    db = np.zeros_like(b)
                    db[j] = b[i]
                    dWn = np.zeros_like(Wn)
                    dWn[i, :] = -Wn[j, :]
                    v[w0:w1] = dW.ravel()
                    v[w1:b1] = db
                    v[n0:n1] = dWn.ravel()
                    dirs.append(v)
                if self.activation == "linear":
                    # hidden-bias shifts: b -> b + t e_j, b' -> b' - t W'[j] (h directions)
                    _, nb1, nb2 = self._layout[li + 1]
                    for j in range(h):
                        v = np.zeros(self.n_params)
                        v[w1 + j] = 1.0
                        v[nb1:nb2] = -Wn[j, :]
                        dirs.append(v)
        return np.array(dirs).reshape(-1, self.n_params)

    def canonical_form(self, x) -> np.ndarray:
        """Representative of ``x`` under the discrete symmetries (same loss, same function).

        Layer by layer from the input: for odd activations (tanh, linear) each hidden unit's
        sign is fixed so that its bias is >= 0 (ties broken by the first nonzero incoming
        weight), flipping its incoming weights, bias and outgoing weights together; then the
        units are sorted by (bias, incoming weights) lexicographically, permuting the outgoing
        weights with them. Accepts ``(P,)`` or ``(K, P)``.
        """
        X, single = self._check_theta(x)
        out = np.array(X, copy=True)
        for k in range(out.shape[0]):
            out[k] = self._canonical_one(out[k])
        return out[0] if single else out

    def _canonical_one(self, x0):
        layers = [
            [x0[w0:w1].reshape(self.sizes[i], self.sizes[i + 1]).copy(), x0[w1:b1].copy()]
            for i, (w0, w1, b1) in enumerate(self._layout)
        ]
        odd = self.activation in ("tanh", "linear")
        for li in range(len(self.hidden)):
            W, b = layers[li]
            Wn = layers[li + 1][0]
            if odd:
                key = np.vstack([b[None, :], W])  # (1 + fan_in, h)
                nz = key != 0
                first = np.where(
                    nz.any(axis=0), key[np.argmax(nz, axis=0), np.arange(key.shape[1])], 1.0
                )
                s = np.where(first < 0, -1.0, 1.0)
                W *= s[None, :]
                b *= s
                Wn *= s[:, None]
            keys = np.vstack([W[::-1], b[None, :]])  # lexsort: last row is the primary key
            order = np.lexsort(keys)
            layers[li][0] = W[:, order]
            layers[li][1] = b[order]
            layers[li + 1][0] = Wn[order, :]
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in layers])


register("MLPLoss", MLPLoss)
