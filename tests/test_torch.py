"""landscapes.torch: TorchLoss as an Energy, and agreement with MLPLoss to 1e-10."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from landscapes import datasets
from landscapes.nn import MLPLoss

torch = pytest.importorskip(
    "torch",
    reason="PyTorch is not installed: pip install 'landscapes[torch]' (CPU build: "
    "pip install torch==2.13.0)",
)

from landscapes.torch import TorchLoss, torch_mlp  # noqa: E402


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def digits_small():
    return datasets.digits(n_train=40, seed=0)


@pytest.mark.parametrize(
    "activation,loss,wd",
    [
        ("tanh", "cross_entropy", 0.0),
        ("gelu", "mse", 0.01),
        ("softplus", "cross_entropy", 0.0),
        ("relu", "mse", 0.0),
    ],
)
def test_mlp_and_torch_agree_to_1e10(digits_small, activation, loss, wd):
    mlp = MLPLoss(digits_small, hidden=(8, 5), activation=activation, loss=loss, weight_decay=wd)
    twin, perm = torch_mlp(mlp)
    assert twin.dim == mlp.dim
    rng = np.random.default_rng(1)
    X = mlp.random_point(rng, size=2) + 0.1 * rng.standard_normal((2, mlp.dim))
    V = rng.standard_normal((2, mlp.dim))
    e, g = mlp.energy_and_gradient(X)
    et, gt = twin.energy_and_gradient(X[:, perm])
    assert _rel(et, e) < 1e-10
    assert _rel(gt, g[:, perm]) < 1e-10
    assert _rel(twin.hvp(X[:, perm], V[:, perm]), mlp.hvp(X, V)[:, perm]) < 1e-10
    idx = np.array([3, 30, 5, 5])
    assert (
        _rel(twin.hvp(X[0, perm], V[:, perm], idx=idx), mlp.hvp(X[0], V, idx=idx)[:, perm]) < 1e-10
    )


def test_torch_loss_contract_basics():
    data = datasets.gaussian_mixture(3, dim=4, n_samples=20, seed=2)
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    before = [p.detach().clone() for p in module.parameters()]
    E = TorchLoss(module, torch.nn.CrossEntropyLoss(), data.X, data.y)
    assert E.dim == 4 * 5 + 5 + 5 * 3 + 3
    for p, q in zip(module.parameters(), before, strict=True):  # the caller's module is untouched
        assert p.dtype == torch.float32 and torch.equal(p, q)
    x = E.random_point(np.random.default_rng(3))
    assert np.array_equal(x, E.random_point(np.random.default_rng(3)))
    rng = np.random.default_rng(4)
    v = rng.standard_normal(E.dim)
    h = 1e-5
    fd = (E.energy(x + h * v) - E.energy(x - h * v)) / (2 * h)
    assert abs(fd - E.gradient(x) @ v) < 1e-8 * (1 + abs(fd))
    fdg = (E.gradient(x + h * v) - E.gradient(x - h * v)) / (2 * h)
    assert _rel(E.hvp(x, v), fdg) < 1e-6
    H = E.hessian(x)
    assert np.allclose(H, H.T, atol=1e-12)
    X = np.stack([x, x + 0.1])
    Vb = rng.standard_normal(X.shape)
    assert _rel(E.hvp(X, Vb), np.array([E.hvp(X[k], Vb[k]) for k in range(2)])) < 1e-13
    assert np.isclose(E.energy(x, idx=np.arange(20)), E.energy(x), rtol=1e-14)
    assert len(E.fingerprint) == 64


def test_torch_loss_bad_input():
    module = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="different lengths"):
        TorchLoss(module, torch.nn.CrossEntropyLoss(), np.zeros((4, 3)), np.zeros(3, int))
    with pytest.raises(ValueError, match="NaN"):
        TorchLoss(module, torch.nn.MSELoss(), np.full((4, 3), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Module"):
        TorchLoss(lambda x: x, torch.nn.MSELoss(), np.zeros((4, 3)), np.zeros((4, 2)))
    E = TorchLoss(module, torch.nn.MSELoss(), np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="P = 8"):
        E.energy(np.zeros(7))


def test_core_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, landscapes, landscapes.nn, landscapes.datasets; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert importlib.util.find_spec("landscapes.torch") is not None
