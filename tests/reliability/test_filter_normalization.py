"""Class 10 (silently different science): filter normalization per layer for the stacked
weights of residual networks, their stacked biases ignored, per-filter groups for a
TorchLoss by default, and the MLP's normalization equal to loss-landscape's."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.slices import filter_normalize, parameter_groups, random_directions
from landscapes.datasets import gaussian_mixture
from landscapes.nn import HamiltonianResNet, MLPLoss, ParabolicResNet


@pytest.fixture(scope="module")
def data():
    return gaussian_mixture(3, dim=4, n_samples=30, seed=0)


def _norm(a, axis=None):
    return np.sqrt(np.sum(a**2, axis=axis))


@pytest.mark.parametrize("cls", [ParabolicResNet, HamiltonianResNet])
def test_resnet_layers_are_normalized_one_by_one(data, cls):
    net = cls(data, width=5, depth=3)
    x = net.random_point(0)
    d = np.random.default_rng(1).standard_normal(net.dim)
    for by in ("filter", "layer"):
        D = net.unflatten(filter_normalize(x, d, parameter_groups(net, by=by), ignore_bias=True))
        X = net.unflatten(x)
        stacks = [k for k, v in X.items() if v.ndim == 3]
        assert stacks  # K (parabolic) or K1, K2 (Hamiltonian): (depth, w, w)
        for k in stacks:
            ratio = _norm(D[k], axis=(1, 2)) / _norm(X[k], axis=(1, 2))
            np.testing.assert_allclose(ratio, 1.0, rtol=1e-12)  # every layer, not the stack
            if by == "filter":  # every filter (a unit's incoming weights, Y K + b: a column)
                np.testing.assert_allclose(
                    _norm(D[k], axis=1) / _norm(X[k], axis=1), 1.0, rtol=1e-12
                )
            bias = "b" + k[1:]
            assert X[bias].shape == X[k].shape[:2]
            assert np.all(D[bias] == 0)  # stacked biases ignored with ignore_bias=True
    # kept biases: one bias vector per layer, each at the norm of that layer's bias
    D = net.unflatten(filter_normalize(x, d, parameter_groups(net), ignore_bias=False))
    X = net.unflatten(x)
    for k in (k for k, v in X.items() if v.ndim == 3):
        b = "b" + k[1:]
        np.testing.assert_allclose(_norm(D[b], axis=1), _norm(X[b], axis=1), rtol=1e-12)


def test_mlp_matches_loss_landscape(data):
    # loss-landscape (Li et al.), net_plotter.normalize_direction with norm='filter' on
    # PyTorch weights (out, in): d_i *= |w_i| / (|d_i| + 1e-10); biases zeroed ("biasbn")
    net = MLPLoss(data, hidden=[6, 5], activation="tanh")
    x = net.random_point(0)
    d = np.random.default_rng(2).standard_normal(net.dim)
    ours = net.unflatten(filter_normalize(x, d, parameter_groups(net), ignore_bias=True))
    for (W, _), (dW, _db), (oW, ob) in zip(net.unflatten(x), net.unflatten(d), ours, strict=True):
        w, dd = W.T, dW.T.copy()  # PyTorch's Linear layout
        nd = _norm(dd, axis=1)
        for i in range(dd.shape[0]):
            dd[i] *= _norm(w[i]) / (nd[i] + 1e-10)
        # the only difference is loss-landscape's 1e-10 guard: relative 1e-10 / |d_i|
        np.testing.assert_allclose(oW.T, dd * ((nd + 1e-10) / nd)[:, None], rtol=1e-13)
        assert np.max(np.abs(oW.T - dd) / np.abs(dd)) <= 1.01e-10 / nd.min()
        assert np.all(ob == 0)


def test_torch_loss_gets_per_filter_groups_by_default():
    torch = pytest.importorskip("torch")
    from landscapes.torch import TorchLoss

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    X = np.random.default_rng(0).standard_normal((12, 4))
    y = np.arange(12) % 3
    loss = TorchLoss(module, torch.nn.CrossEntropyLoss(), X, y)
    x = loss.random_point(0)
    D, how = random_directions(loss, x, 1, seed=3)
    assert how == "filter"
    P, Dp = loss.unflatten(x), loss.unflatten(D[0])
    for name, w in P.items():
        if w.ndim == 2:  # Linear weight (out, in): each row is a filter
            np.testing.assert_allclose(_norm(Dp[name], axis=1) / _norm(w, axis=1), 1.0, rtol=1e-12)
        else:
            assert np.all(Dp[name] == 0)
    with pytest.raises(ValueError, match=r"class labels in 0\.\.2 .* got labels in 0\.\.3"):
        TorchLoss(module, torch.nn.CrossEntropyLoss(), X, np.arange(12) % 4)
