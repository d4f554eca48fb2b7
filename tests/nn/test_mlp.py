"""MLPLoss: exact derivatives, Gauss-Newton part, layout, initialization, symmetries, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from landscapes import datasets
from landscapes.nn import ACTIVATIONS, LOSSES, MLPLoss


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-300))


@pytest.fixture(scope="module")
def mixture():
    return datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=24, seed=3, n_test=12)


def _generic(E, seed=0, size=None):
    rng = np.random.default_rng(seed)
    x = E.random_point(rng, size=size)
    return x + 0.3 * rng.standard_normal(x.shape)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_hessian_equals_finite_difference_jacobian_of_gradient(mixture, activation, loss):
    E = MLPLoss(mixture, hidden=(3, 2), activation=activation, loss=loss, weight_decay=0.05)
    x = _generic(E, 1)
    H = E.hessian(x)
    h = 1e-5
    eye = np.eye(E.dim)
    G = E.gradient(x[None] + h * eye) - E.gradient(x[None] - h * eye)
    assert _rel(H, G / (2 * h)) < 1e-6
    # the raw R-operator block is symmetric to rounding (before Energy.hessian symmetrizes)
    raw = E.hvp(x, eye)
    assert _rel(raw, raw.T) < 1e-12


def test_cross_entropy_value_matches_direct_formula(mixture):
    E = MLPLoss(mixture, hidden=(), loss="cross_entropy", weight_decay=0.3)
    x = _generic(E, 2)
    (W, b) = E.unflatten(x)[0]
    Z = mixture.X @ W + b
    expect = np.mean(logsumexp(Z, axis=1) - Z[np.arange(mixture.n_samples), mixture.y])
    assert np.isclose(E.energy(x), expect + 0.15 * x @ x, rtol=1e-13)


def test_mse_value_and_one_hot_targets(mixture):
    E = MLPLoss(mixture, hidden=(), loss="mse")
    x = _generic(E, 3)
    (W, b) = E.unflatten(x)[0]
    Z = mixture.X @ W + b
    T = np.eye(3)[mixture.y]
    assert np.isclose(E.energy(x), 0.5 * np.mean(np.sum((Z - T) ** 2, axis=1)), rtol=1e-13)


def test_teacher_point_is_an_exact_zero_where_hessian_equals_gauss_newton():
    data = datasets.teacher_student(60, dim=4, hidden=(3,), n_outputs=2, noise=0.0, seed=7)
    E = MLPLoss(data, hidden=(3,), activation="tanh", loss="mse")
    t = data.teacher
    e, g = E.energy_and_gradient(t)
    assert e == pytest.approx(0.0, abs=1e-28)
    assert np.max(np.abs(g)) < 1e-14
    V = np.random.default_rng(0).standard_normal((5, E.dim))
    # zero residuals: the second-derivative-of-network term vanishes
    assert _rel(E.hvp(t, V), E.gnvp(t, V)) < 1e-12
    # elsewhere it does not
    x = _generic(E, 4)
    assert _rel(E.hvp(x, V), E.gnvp(x, V)) > 1e-3


@pytest.mark.parametrize("loss", LOSSES)
def test_gauss_newton_is_jacobian_form_and_psd(mixture, loss):
    E = MLPLoss(mixture, hidden=(3,), activation="softplus", loss=loss, weight_decay=0.01)
    x = _generic(E, 5)
    Gm = E.gnvp(x, np.eye(E.dim))
    assert _rel(Gm, Gm.T) < 1e-12
    # J by central differences of the outputs; loss Hessian in z by formula
    h = 1e-6
    eye = np.eye(E.dim)
    J = (E.outputs(x[None] + h * eye) - E.outputs(x[None] - h * eye)) / (2 * h)  # (P, n, m)
    n = mixture.n_samples
    if loss == "mse":
        expect = np.einsum("pnm,qnm->pq", J, J) / n
    else:
        z = E.outputs(x)
        p = np.exp(z - logsumexp(z, axis=1, keepdims=True))
        Hz = np.einsum("nm,ml->nml", p, np.eye(p.shape[1])) - np.einsum("nm,nl->nml", p, p)
        expect = np.einsum("pnm,nml,qnl->pq", J, Hz, J) / n
    expect += 0.01 * eye
    assert _rel(Gm, expect) < 1e-7
    assert np.linalg.eigvalsh(0.5 * (Gm + Gm.T)).min() > 0.01 - 1e-10
    # batched over points, one vector each
    X = _generic(E, 6, size=3)
    V = np.random.default_rng(1).standard_normal(X.shape)
    loop = np.array([E.gnvp(X[k], V[k]) for k in range(3)])
    assert _rel(E.gnvp(X, V), loop) < 1e-12


def test_large_block_hvp_is_chunked_consistently(mixture):
    E = MLPLoss(mixture, hidden=(16,), activation="tanh")
    x = _generic(E, 7)
    V = np.random.default_rng(2).standard_normal((E.dim, E.dim))
    E._chunk = lambda n: 7  # force several chunks
    chunked = E.hvp(x, V)
    del E._chunk
    assert _rel(chunked, E.hvp(x, V)) < 1e-13


def test_minibatch_equals_the_loss_on_the_subset(mixture):
    E = MLPLoss(mixture, hidden=(4,), activation="gelu", weight_decay=0.02)
    idx = np.array([5, 1, 17, 17, 3])
    sub = datasets.from_arrays(mixture.X[idx], mixture.y[idx], n_classes=3)
    Es = MLPLoss(sub, hidden=(4,), activation="gelu", weight_decay=0.02)
    X = _generic(E, 8, size=2)
    V = np.random.default_rng(3).standard_normal(X.shape)
    assert _rel(E.energy(X, idx=idx), Es.energy(X)) < 1e-14
    assert _rel(E.gradient(X, idx=idx), Es.gradient(X)) < 1e-13
    assert _rel(E.hvp(X, V, idx=idx), Es.hvp(X, V)) < 1e-13
    assert _rel(E.gnvp(X, V, idx=idx), Es.gnvp(X, V)) < 1e-13


def test_per_replica_minibatches_one_pass_equals_row_by_row(mixture):
    # 2-D idx (K, b): the batched kernels against the base class's row-by-row evaluation
    class RowByRow(MLPLoss):
        batched_idx = False

    for loss in LOSSES:
        kw = dict(hidden=(4, 3), activation="softplus", loss=loss, weight_decay=0.02)
        E, R = MLPLoss(mixture, **kw), RowByRow(mixture, **kw)
        X = _generic(E, 9, size=4)
        V = np.random.default_rng(4).standard_normal(X.shape)
        idx = np.random.default_rng(5).integers(mixture.n_samples, size=(4, 6))
        e, g = E.energy_and_gradient(X, idx=idx)
        er, gr = R.energy_and_gradient(X, idx=idx)
        assert _rel(e, er) < 1e-13 and _rel(g, gr) < 1e-13
        assert _rel(E.energy(X, idx=idx), R.energy(X, idx=idx)) < 1e-13
        assert _rel(E.hvp(X, V, idx=idx), R.hvp(X, V, idx=idx)) < 1e-13
        gn = np.array([E.gnvp(X[k], V[k], idx=idx[k]) for k in range(4)])
        assert _rel(E.gnvp(X, V, idx=idx), gn) < 1e-13
        # row k is the loss on the subset idx[k] (the loss head reads per-replica targets)
        sub = datasets.from_arrays(mixture.X[idx[2]], mixture.y[idx[2]], n_classes=3)
        assert _rel(e[2], MLPLoss(sub, **kw).energy(X[2])) < 1e-14
    with pytest.raises(ValueError, match="idx"):
        E.gnvp(X, V, idx=idx[:3])


def test_weight_decay_adds_exact_ridge_term(mixture):
    E0 = MLPLoss(mixture, hidden=(3,), weight_decay=0.0)
    E1 = MLPLoss(mixture, hidden=(3,), weight_decay=0.25)
    X = _generic(E0, 9, size=2)
    V = np.random.default_rng(4).standard_normal(X.shape)
    assert np.allclose(E1.energy(X) - E0.energy(X), 0.125 * np.sum(X * X, axis=1), rtol=1e-12)
    assert np.allclose(E1.gradient(X) - E0.gradient(X), 0.25 * X, atol=1e-14)
    assert np.allclose(E1.hvp(X, V) - E0.hvp(X, V), 0.25 * V, atol=1e-14)


def test_accuracy_outputs_and_split_loss(mixture):
    E = MLPLoss(mixture, hidden=(3,))
    X = _generic(E, 10, size=2)
    for split, ys in [("train", mixture.y), ("test", mixture.y_test)]:
        out = E.outputs(X, split)
        assert out.shape == (2, ys.size, 3)
        manual = [(np.argmax(out[k], axis=1) == ys).mean() for k in range(2)]
        assert np.allclose(E.accuracy(X, split), manual)
        assert isinstance(E.accuracy(X[0], split), float)
    assert np.allclose(E.split_loss(X, "train"), E.energy(X), rtol=1e-14)
    reg = datasets.teacher_student(10, dim=2, seed=0)
    with pytest.raises(ValueError, match="classification"):
        MLPLoss(reg, loss="mse").accuracy(np.zeros(MLPLoss(reg, loss="mse").dim))
    with pytest.raises(ValueError, match="held-out"):
        MLPLoss(datasets.gaussian_mixture(2, 3, seed=0)).accuracy(np.zeros(13), "test")


def test_flatten_unflatten_layout(mixture):
    E = MLPLoss(mixture, hidden=(5, 2))
    assert E.sizes == (4, 5, 2, 3)
    assert E.dim == 4 * 5 + 5 + 5 * 2 + 2 + 2 * 3 + 3
    x = np.arange(E.dim, dtype=float)
    layers = E.unflatten(x)
    assert [w.shape for w, _ in layers] == [(4, 5), (5, 2), (2, 3)]
    assert layers[0][0][0, 1] == 1.0 and layers[0][1][0] == 20.0  # row-major W, then b
    assert np.array_equal(E.flatten(layers), x)
    X = np.stack([x, -x])
    assert np.array_equal(E.flatten(E.unflatten(X)), X)
    with pytest.raises(ValueError, match="layer 1"):
        E.flatten([layers[0], (np.zeros((2, 5)), np.zeros(2)), layers[2]])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_random_point_is_glorot_or_he(activation):
    data = datasets.digits(seed=0)
    E = MLPLoss(data, hidden=(128,), activation=activation)
    X = E.random_point(np.random.default_rng(11), size=4)
    for i, (W, b) in enumerate(E.unflatten(X)):
        fi, fo = E.sizes[i], E.sizes[i + 1]
        std = np.sqrt(2 / fi) if activation == "relu" else np.sqrt(2 / (fi + fo))
        n = W.size
        # sample sd has relative standard error 1/sqrt(2n); allow 5 of them
        assert abs(W.std() / std - 1) < 5 / np.sqrt(2 * n)
        assert abs(W.mean()) < 5 * std / np.sqrt(n)
        assert np.all(b == 0)
    assert E.random_point(3).shape == (E.dim,)


def test_symmetry_directions_are_exact(mixture):
    rng = np.random.default_rng(12)
    # cross-entropy logit shift: a linear symmetry, so H v = 0 at every point
    E = MLPLoss(mixture, hidden=(4,), activation="tanh")
    x = _generic(E, 13)
    S = E.symmetry_directions(x)
    assert S.shape == (5, E.dim)
    assert np.linalg.matrix_rank(S) == 5
    g = E.gradient(x)
    assert np.max(np.abs(S @ g)) < 1e-13
    assert np.max(np.abs(E.hvp(x, S))) < 1e-13
    for v in S:
        assert np.isclose(E.energy(x + 2.7 * v), E.energy(x), rtol=1e-13)
    # relu: unit rescaling orbits (finite transformations) + logit shifts
    Er = MLPLoss(mixture, hidden=(4, 3), activation="relu")
    xr = _generic(Er, 14)
    Sr = Er.symmetry_directions(xr)
    assert Sr.shape == (4 + 3 + 3 + 1, Er.dim)
    assert np.linalg.matrix_rank(Sr) == Sr.shape[0]
    assert np.max(np.abs(Sr @ Er.gradient(xr))) < 1e-12 * np.abs(Er.gradient(xr)).max() * 10
    layers = Er.unflatten(xr)
    a = 1.9
    layers[1][0][:, 2] *= a
    layers[1][1][2] *= a
    layers[2][0][2, :] /= a
    assert np.isclose(Er.energy(Er.flatten(layers)), Er.energy(xr), rtol=1e-13)
    # the tangent of that orbit is the declared direction for unit 2 of hidden layer 2
    eps = 1e-6
    lp = Er.unflatten(xr)
    lp[1][0][:, 2] *= 1 + eps
    lp[1][1][2] *= 1 + eps
    lp[2][0][2, :] /= 1 + eps
    tangent = (Er.flatten(lp) - xr) / eps
    assert np.min(np.linalg.norm(Sr - tangent, axis=1)) < 1e-5 * np.linalg.norm(tangent)
    # linear units: the GL(h) action (h^2) and the hidden-bias shifts (h) per hidden layer
    El = MLPLoss(mixture, hidden=(3,), activation="linear", loss="mse")
    xl = _generic(El, 15)
    Sl = El.symmetry_directions(xl)
    assert Sl.shape == (9 + 3, El.dim)
    assert np.linalg.matrix_rank(Sl) == 12
    assert np.max(np.abs(Sl @ El.gradient(xl))) < 1e-12
    for v in Sl[9:]:  # the bias shifts are exact (linear) symmetries: constant loss on the line
        assert np.isclose(El.energy(xl + 1.3 * v), El.energy(xl), rtol=1e-12)
    # weight decay breaks them all
    Ew = MLPLoss(mixture, hidden=(4,), activation="relu", weight_decay=1e-3)
    assert Ew.symmetry_directions(rng.standard_normal(Ew.dim)).shape == (0, Ew.dim)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
def test_canonical_form_is_invariant_under_permutations_and_sign_flips(mixture, activation):
    E = MLPLoss(mixture, hidden=(5, 4), activation=activation)
    x = _generic(E, 16)
    c = E.canonical_form(x)
    assert np.array_equal(E.canonical_form(c), c)
    assert np.allclose(E.outputs(c), E.outputs(x), rtol=1e-13, atol=1e-13)
    rng = np.random.default_rng(17)
    layers = E.unflatten(x)
    for li in range(2):
        W, b = layers[li]
        Wn = layers[li + 1][0]
        perm = rng.permutation(b.size)
        s = rng.choice([-1.0, 1.0], size=b.size) if activation == "tanh" else np.ones(b.size)
        layers[li] = (W[:, perm] * s, b[perm] * s)
        layers[li + 1] = (Wn[perm, :] * s[:, None], layers[li + 1][1])
    y = E.flatten(layers)
    assert not np.allclose(y, x)
    assert np.isclose(E.energy(y), E.energy(x), rtol=1e-13)
    assert np.allclose(E.canonical_form(y), c, rtol=0, atol=1e-15)
    assert np.allclose(E.canonical_form(np.stack([x, y])), np.stack([c, c]), atol=1e-15)


def test_bad_input_raises_naming_the_problem(mixture):
    with pytest.raises(ValueError, match="activation"):
        MLPLoss(mixture, activation="sigmoidal")
    with pytest.raises(ValueError, match="loss"):
        MLPLoss(mixture, loss="hinge")
    with pytest.raises(ValueError, match="Dataset"):
        MLPLoss((mixture.X, mixture.y))
    with pytest.raises(ValueError, match="hidden"):
        MLPLoss(mixture, hidden=(3, 0))
    with pytest.raises(ValueError, match="weight_decay"):
        MLPLoss(mixture, weight_decay=-1.0)
    reg = datasets.teacher_student(10, dim=2, seed=0)
    with pytest.raises(ValueError, match="cross_entropy"):
        MLPLoss(reg, loss="cross_entropy")
    E = MLPLoss(mixture, hidden=(3,))
    with pytest.raises(ValueError, match=f"P = {E.dim}"):
        E.energy(np.zeros(E.dim - 1))
    with pytest.raises(ValueError, match=f"P = {E.dim}"):
        E.hvp(np.zeros(E.dim + 2), np.zeros(E.dim + 2))
    with pytest.raises(ValueError, match="NaN"):
        E.gradient(np.full(E.dim, np.nan))
    with pytest.raises(ValueError, match="one vector per point"):
        E.gnvp(np.zeros((3, E.dim)), np.zeros((2, E.dim)))
    with pytest.raises(ValueError, match="idx"):
        E.gnvp(np.zeros(E.dim), np.zeros(E.dim), idx=np.array([100]))
