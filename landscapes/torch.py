"""Optional adapter: any PyTorch model's loss as an Energy over its flattened parameters.

Needs the extra ``landscapes[torch]`` (``pip install 'landscapes[torch]'``; on a machine
without a GPU the CPU-only build is enough: the "CPU" choice of PyTorch's install
instructions; on this project's CI machines ``pip install torch==2.13.0``). torch is imported
only when a :class:`TorchLoss` is built, never when ``landscapes`` is imported.
"""

from __future__ import annotations

import hashlib

import numpy as np

from landscapes.energy import FiniteSumEnergy
from landscapes.manifolds import Euclidean

__all__ = ["TorchLoss", "require_torch", "torch_mlp"]

_INSTALL = (
    "landscapes.torch needs PyTorch: pip install 'landscapes[torch]' "
    "(for a machine without a GPU, install PyTorch's CPU-only build first, as PyTorch's "
    "install instructions describe; here: pip install torch==2.13.0)"
)


def require_torch():
    """Import and return torch, or raise ImportError saying how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(_INSTALL) from exc
    return torch


class TorchLoss(FiniteSumEnergy):
    """The loss of a PyTorch module on fixed data, as an Energy over its flat parameters.

    ``E(theta) = loss_fn(module_theta(inputs[idx]), targets[idx])`` with the module's
    parameters (``module.parameters()`` order, each flattened row-major) set to ``theta``.
    Computation is in float64 (the module is copied and converted; the caller's module is
    never modified). Gradients by autograd; Hessian-vector products by double
    backpropagation (exact); batches of K points are evaluated one replica at a time.
    Accordingly a 2-D ``idx`` (K, b), one minibatch per replica (see
    :class:`~landscapes.energy.FiniteSumEnergy`), is supported by that same loop: replica
    ``k`` is evaluated on ``idx[k]``. (Batching replicas through ``torch.func.vmap`` would
    be the way to remove that loop; it is not done here.)

    Parameters
    ----------
    module : torch.nn.Module
        The model (its parameters define the dimension P).
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``, a mean over the samples given (so
        minibatches are unbiased), e.g. ``torch.nn.CrossEntropyLoss()``.
    inputs, targets : array-like or tensors
        The data; the first axis indexes samples. Integer targets stay integer (class labels).
    name : str
        Recorded in ``params()``.
    weight_decay : float
        Adds ``weight_decay / 2 * |theta|^2`` (every parameter), as in ``MLPLoss``.
    """

    intensive_name = "mean loss"
    scale = 1.0
    batched_idx = True  # kernels take 2-D idx, looping over replicas like every batch
    #: Filters (Li et al.) are slices along axis 0 of PyTorch weights: ``(out, in, ...)``.
    neuron_axis = 0

    def __init__(
        self, module, loss_fn, inputs, targets, name: str = "torch", weight_decay: float = 0.0
    ):
        torch = require_torch()
        import copy

        if not isinstance(module, torch.nn.Module):
            raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
        if not callable(loss_fn):
            raise ValueError("loss_fn must be callable: loss_fn(outputs, targets) -> scalar")
        self._torch = torch
        self.module = copy.deepcopy(module).to(torch.float64)
        for p in self.module.parameters():
            p.requires_grad_(False)
        self._names = [n for n, _ in self.module.named_parameters()]
        self._shapes = [tuple(p.shape) for p in self.module.parameters()]
        self._sizes = [int(np.prod(s)) for s in self._shapes]
        P = int(sum(self._sizes))
        if P == 0:
            raise ValueError("module has no parameters")
        self.loss_fn = loss_fn
        Xt = torch.as_tensor(np.array(inputs, copy=True) if not torch.is_tensor(inputs) else inputs)
        Yt = torch.as_tensor(
            np.array(targets, copy=True) if not torch.is_tensor(targets) else targets
        )
        if Xt.shape[0] == 0:
            raise ValueError("inputs are empty")
        if Xt.shape[0] != Yt.shape[0]:
            raise ValueError(
                f"inputs and targets have different lengths: {Xt.shape[0]} and {Yt.shape[0]}"
            )
        Xt = Xt.to(torch.float64)
        if Yt.is_floating_point():
            Yt = Yt.to(torch.float64)
        if not bool(torch.isfinite(Xt).all()) or (
            Yt.is_floating_point() and not bool(torch.isfinite(Yt).all())
        ):
            raise ValueError("inputs or targets contain NaN or infinite values")
        self._inputs = Xt.detach()
        self._targets = Yt.detach()
        if not Yt.is_floating_point():
            self._check_labels(Yt)
        self.n_samples = int(Xt.shape[0])
        self.n_params = P
        self.manifold = Euclidean(P)
        self.name = str(name)
        from landscapes._validation import check_positive

        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def _check_labels(self, Yt) -> None:
        """Integer targets are class labels: each in 0..C-1 for a module with C outputs.

        Checked once here, with the module's output on one sample, rather than failing (or,
        for a label = C on some backends, reading out of bounds) at the first evaluation.
        ``loss_fn.ignore_index`` (PyTorch's -100 for ``CrossEntropyLoss``) is allowed.
        """
        torch = self._torch
        with torch.no_grad():
            out = self.module(self._inputs[:1])
        if out.ndim < 2:
            return
        C = int(out.shape[1])
        y = Yt.reshape(-1)
        ignore = getattr(self.loss_fn, "ignore_index", None)
        if ignore is not None:
            y = y[y != ignore]
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= C):
            raise ValueError(
                f"targets must be class labels in 0..{C - 1} (the module has {C} outputs); "
                f"got labels in {int(y.min())}..{int(y.max())}"
            )

    def unflatten(self, x) -> dict[str, np.ndarray]:
        """The module's parameters (``named_parameters`` order, PyTorch shapes) of a flat
        ``(P,)`` vector, as copies: the layer structure filter normalization reads."""
        X, single = self._points(x)
        out, pos = {}, 0
        for n_, shape, size in zip(self._names, self._shapes, self._sizes, strict=True):
            out[n_] = X[:, pos : pos + size].reshape(X.shape[0], *shape).copy()
            pos += size
        return {k: v[0] for k, v in out.items()} if single else out

    # ------------------------------------------------------------------ identity
    def params(self) -> dict:
        return {
            "model": "torch",
            "name": self.name,
            "module": type(self.module).__name__,
            "parameters": dict(zip(self._names, [list(s) for s in self._shapes], strict=True)),
            "n_samples": self.n_samples,
            "loss_fn": type(self.loss_fn).__name__,
            "weight_decay": self.weight_decay,
        }

    def _fingerprint_payload(self):
        h = hashlib.sha256(repr(self.module).encode())
        return [
            h.digest(),
            self._inputs.numpy().tobytes(),
            self._targets.numpy().tobytes(),
        ]

    def _points(self, x, name: str = "x"):
        arr = np.asarray(x)
        if arr.ndim in (1, 2) and arr.shape[-1] != self.n_params:
            raise ValueError(
                f"{name} has length {arr.shape[-1]} but the module has P = {self.n_params} "
                f"parameters; expected shape ({self.n_params},) or (K, {self.n_params})"
            )
        return super()._points(x, name)

    def get_flat(self) -> np.ndarray:
        """The module's current parameters as a flat float64 vector (P,)."""
        return np.concatenate([p.detach().numpy().ravel() for p in self.module.parameters()])

    def random_point(self, seed=None, size: int | None = None) -> np.ndarray:
        """The module's own initialization (``reset_parameters``), seeded through torch."""
        from landscapes.random import as_generator

        torch = self._torch
        rng = as_generator(seed)
        K = 1 if size is None else int(size)
        out = np.empty((K, self.n_params))
        import copy

        m = copy.deepcopy(self.module)
        for k in range(K):
            torch.manual_seed(int(rng.integers(2**62)))
            for sub in m.modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
            out[k] = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
        return out[0] if size is None else out

    # ------------------------------------------------------------------ kernels
    def _loss(self, theta, idx):
        torch = self._torch
        params = {}
        pos = 0
        for n_, shape, size in zip(self._names, self._shapes, self._sizes, strict=True):
            params[n_] = theta[pos : pos + size].view(shape)
            pos += size
        X, T = self._inputs, self._targets
        if idx is not None:
            ii = torch.as_tensor(idx)
            X, T = X[ii], T[ii]
        out = torch.func.functional_call(self.module, params, (X,))
        loss = self.loss_fn(out, T)
        if self.weight_decay:
            loss = loss + 0.5 * self.weight_decay * torch.dot(theta, theta)
        return loss

    @staticmethod
    def _row(idx, k):
        """Sample indices of replica k: the row of a 2-D idx, else idx itself."""
        return idx[k] if idx is not None and idx.ndim == 2 else idx

    def _energy(self, X, idx=None):
        torch = self._torch
        with torch.no_grad():
            return np.array(
                [
                    float(self._loss(torch.from_numpy(x.copy()), self._row(idx, k)))
                    for k, x in enumerate(X)
                ]
            )

    def _energy_and_gradient(self, X, idx=None):
        torch = self._torch
        es, gs = [], []
        for k, x in enumerate(X):
            t = torch.from_numpy(x.copy()).requires_grad_(True)
            e = self._loss(t, self._row(idx, k))
            (g,) = torch.autograd.grad(e, t)
            es.append(float(e.detach()))
            gs.append(g.numpy())
        return np.array(es), np.array(gs)

    def _hvp_one(self, x, V, idx):
        torch = self._torch
        t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
        e = self._loss(t, idx)
        (g,) = torch.autograd.grad(e, t, create_graph=True)
        out = []
        for k, v in enumerate(V):
            (hv,) = torch.autograd.grad(
                g,
                t,
                grad_outputs=torch.from_numpy(np.array(v, copy=True)),
                retain_graph=k < len(V) - 1,
            )
            out.append(hv.numpy())
        return np.array(out)

    def _hvp(self, X, V, idx=None):
        return np.concatenate(
            [self._hvp_one(X[k], V[k : k + 1], self._row(idx, k)) for k in range(X.shape[0])]
        )

    def _hvp_block(self, x, V, idx=None):
        return self._hvp_one(x, V, idx)

    def hvp(self, x, V, idx=None) -> np.ndarray:
        """Exact Hessian-vector product by double backpropagation; shapes as in Energy.hvp.

        ``idx`` as in :class:`~landscapes.energy.FiniteSumEnergy` (2-D: one row per point).
        """
        return self._hvp_dispatch(x, V, idx, self._hvp_block, self._hvp)


def torch_mlp(mlp):
    """The PyTorch twin of an :class:`~landscapes.nn.MLPLoss`: ``(TorchLoss, permutation)``.

    The twin is a ``torch.nn.Sequential`` of ``Linear`` layers and the same activation (exact
    GELU; torch's Softplus switches to the identity above 20, so agreement there is to
    ``exp(-20)``), with the same loss and weight decay on the same training data.
    ``theta_torch = x[permutation]`` maps an MLPLoss point to the twin's parameters
    (``Linear`` stores ``W`` transposed).
    """
    torch = require_torch()
    acts = {
        "tanh": torch.nn.Tanh,
        "relu": torch.nn.ReLU,
        "softplus": torch.nn.Softplus,
        "gelu": torch.nn.GELU,
        "linear": torch.nn.Identity,
    }
    layers = []
    perm = []
    for i, (w0, w1, b1) in enumerate(mlp.layout):
        fi, fo = mlp.sizes[i], mlp.sizes[i + 1]
        layers.append(torch.nn.Linear(fi, fo))
        if i < mlp.n_layers - 1:
            layers.append(acts[mlp.activation]())
        perm.append(w0 + np.arange(fi * fo).reshape(fi, fo).T.ravel())
        perm.append(np.arange(w1, b1))
    module = torch.nn.Sequential(*layers)
    if mlp.loss == "cross_entropy":
        loss_fn = torch.nn.CrossEntropyLoss()
    else:

        def loss_fn(out, target):
            return 0.5 * ((out - target) ** 2).sum(dim=1).mean()

    twin = TorchLoss(
        module,
        loss_fn,
        mlp.data.X,
        mlp.data.targets(mlp.loss),
        name=f"torch-twin-of-{mlp.data.name}",
        weight_decay=mlp.weight_decay,
    )
    return twin, np.concatenate(perm)
