"""Critical points of network losses: a deep linear network known exactly (Baldi & Hornik
1989), deduplication after canonical form, and zero modes from declared symmetries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.critical import census, newton_search, verify
from landscapes import datasets
from landscapes.nn import MLPLoss


def baldi_hornik(X, T, h):
    """Predicted critical values of the two-layer linear network with biases and the loss
    L = (1/2n) sum_i |z_i - t_i|^2 on centred data (X, T), Sigma_xx invertible.

    With Sigma = Sigma_tx Sigma_xx^-1 Sigma_xt (eigenvalues lambda_1 > ... > lambda_m,
    m <= d outputs), every critical point projects the least-squares map onto the span of a
    subset I of Sigma's eigenvectors, |I| <= h, and has

        loss  = (1/2) (tr Sigma_tt - sum_{i in I} lambda_i)
              = (1/2) sum_{i not in I} lambda_i   when T is exactly linear in X,
        index = #{(i, j) : i not in I, j in I, lambda_i > lambda_j} + (h - |I|) (m - |I|).

    (Whiten X, so that L = |UV - C|^2 / 2 + const with C^T C = Sigma; each pair of an omitted
    direction i and a used slot j gives a 2x2 block [[s_j, -s_i], [-s_i, s_j]] of the
    Hessian (s = sqrt(lambda)), negative when lambda_i > lambda_j, and each unused slot with
    an omitted direction a block [[0, -s_i], [-s_i, 0]]; biases add |db1 W2 + db2|^2 >= 0.)
    Returns {I: (loss, index)}.
    """
    n = X.shape[0]
    Sxx, Sxt, Stt = X.T @ X / n, X.T @ T / n, T.T @ T / n
    lam = np.sort(np.linalg.eigvalsh(Sxt.T @ np.linalg.solve(Sxx, Sxt)))[::-1]
    m = lam.size
    out = {}
    for r in range(h + 1):
        for I in itertools.combinations(range(m), r):
            loss = 0.5 * (np.trace(Stt) - lam[list(I)].sum())
            pairs = sum(1 for i in range(m) if i not in I for j in I if lam[i] > lam[j])
            out[I] = (loss, pairs + (h - r) * (m - r))
    return out


def _linear_data(n=40, d=3, m=3, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
    X -= X.mean(axis=0)
    T = X @ rng.standard_normal((d, m)) + noise * rng.standard_normal((n, m))
    T -= T.mean(axis=0)
    return X, T


def test_deep_linear_network_recovers_baldi_hornik():
    h = 2
    X, T = _linear_data()
    net = MLPLoss(
        datasets.from_arrays(X, T, task="regression"), hidden=(h,), activation="linear", loss="mse"
    )
    pred = baldi_hornik(X, T, h)
    assert len(pred) == 1 + 3 + 3
    X0 = net.random_point(1, size=80)
    Y, _, _ = newton_search(net, X0[:60], mode="index", target_index=np.arange(60) % 4)
    Z, _, _ = newton_search(net, X0[60:], mode="lm")
    v = verify(net, np.vstack([Y, Z]))
    crit = v.kind == "critical"
    assert crit.sum() >= 60
    found = set()
    for loss, k, nz in zip(v.energies[crit], v.indices[crit], v.n_zero_modes[crit], strict=True):
        match = [I for I, (pl, pk) in pred.items() if abs(loss - pl) < 1e-9 * (1 + pl)]
        assert len(match) == 1, f"loss {loss} is not a predicted critical value"
        assert k == pred[match[0]][1], f"index {k} at loss {loss}, predicted {pred[match[0]][1]}"
        if len(match[0]) == h:  # full rank: GL(h) (h^2) and bias shifts (h) taken out
            assert nz == h * h + h
        found.add(match[0])
    assert found == set(pred)  # every family of critical points is reached


def test_linear_net_zero_modes_must_all_be_declared():
    # a critical point counts only when every zero mode is a declared symmetry: MLPLoss
    # declares GL(h) and the hidden-bias shifts for linear units (h^2 + h = 6 here); with the
    # shifts left out, the same point must come out degenerate
    X, T = _linear_data()
    net = MLPLoss(
        datasets.from_arrays(X, T, task="regression"), hidden=(2,), activation="linear", loss="mse"
    )
    Y, _, _ = newton_search(net, net.random_point(2, size=6), mode="index", target_index=0)
    good = verify(net, Y)
    ok = (good.kind == "critical") & (good.indices == 0)
    assert ok.any() and np.all(good.n_zero_modes[ok] == 6)
    assert np.linalg.matrix_rank(net.symmetry_directions(Y[ok][0])) == 6

    class _GLOnly(MLPLoss):
        def symmetry_directions(self, x):
            return super().symmetry_directions(x)[:4]  # GL(2) only, no bias shifts

    partial = _GLOnly(net.data, hidden=(2,), activation="linear", loss="mse")
    assert np.all(verify(partial, Y[ok]).kind == "degenerate")


def test_network_census_deduplicates_symmetric_copies():
    # tanh units with weight decay: no continuous symmetry, discrete ones (permutations and
    # sign flips of hidden units) removed by the canonical form before deduplication
    data = datasets.teacher_student(n_samples=30, dim=2, hidden=(3,), noise=0.5, seed=1)
    net = MLPLoss(data, hidden=(3,), activation="tanh", loss="mse", weight_decay=1e-2)
    c = census(net, seed=0, batch_size=24, max_starts=48, symmetry=None, progress=False)
    assert c.n_points >= 2 and c.n_zero_modes == 0
    np.testing.assert_allclose(net.canonical_form(c.points), c.points)
    # a symmetric copy of each point maps back onto it, so it cannot be counted twice
    for x in c.points:
        (W1, b1), (W2, b2) = net.unflatten(x)
        s = np.array([-1.0, 1.0, -1.0])
        perm = [2, 0, 1]
        y = net.flatten([((W1 * s)[:, perm], (b1 * s)[perm]), ((W2 * s[:, None])[perm], b2)])
        assert net.energy(y) == pytest.approx(net.energy(x), rel=1e-12)
        assert np.linalg.norm(net.canonical_form(y) - x) < 1e-12
    # distinct points: pairwise distances above the deduplication tolerance
    D = np.linalg.norm(c.points[:, None] - c.points[None], axis=-1)
    assert np.all(D[np.triu_indices(c.n_points, 1)] > 1e-6 * np.sqrt(net.dim))
