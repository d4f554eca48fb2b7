"""The split p-spin: full energy = ordinary p-spin with J, unbiased minibatches, 2-D idx."""

from __future__ import annotations

import math

import numpy as np
import pytest

from landscapes.random import child
from pspin import COUPLING_ENSEMBLES, SphericalPSpin
from pspin.split import SplitPSpin


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-300))


@pytest.mark.parametrize("p", [2, 3, 4])
def test_full_energy_is_the_pspin_with_summed_couplings(p):
    rng = np.random.default_rng(p)
    N, P = 6, 5
    X = rng.standard_normal((P,) + (N,) * p)
    X0 = X.copy()
    split = SplitPSpin.from_couplings(X)
    assert np.array_equal(X, X0), "from_couplings must not modify its argument"
    plain = SphericalPSpin.from_couplings(X.sum(axis=0) / math.sqrt(P))
    Y = plain.random_point(rng, size=4)
    V = rng.standard_normal(Y.shape)
    assert _rel(split.energy(Y), plain.energy(Y)) < 1e-12
    assert _rel(split.gradient(Y), plain.gradient(Y)) < 1e-12
    assert _rel(split.hvp(Y, V), plain.hvp(Y, V)) < 1e-12
    assert _rel(split.hessian(Y[0]), plain.hessian(Y[0])) < 1e-12
    # and by the naive contraction of the raw parts: H_J = sum_k H_{X_k} / sqrt(P)
    letters = "abcdefgh"[:p]
    naive = sum(
        np.einsum(f"{letters}," + ",".join(letters), X[k], *([Y[0]] * p)) for k in range(P)
    ) / (math.sqrt(P) * N ** ((p - 1) / 2))
    assert abs(split.energy(Y[0]) - naive) < 1e-12 * (1 + abs(naive))


def test_minibatch_mean_is_the_full_energy_and_single_parts_are_unbiased():
    split = SplitPSpin(8, 3, 6, seed=11)
    rng = np.random.default_rng(0)
    Y = split.random_point(rng, size=3)
    V = rng.standard_normal(Y.shape)
    allidx = np.arange(split.P)
    assert _rel(split.energy(Y, idx=allidx), split.energy(Y)) < 1e-12
    assert _rel(split.gradient(Y, idx=allidx), split.gradient(Y)) < 1e-12
    assert _rel(split.hvp(Y, V, idx=allidx), split.hvp(Y, V)) < 1e-12
    # the mean over k of the single-part energies and gradients is the full one (unbiased)
    e_parts = np.stack([split.energy(Y, idx=[k]) for k in range(split.P)])
    g_parts = np.stack([split.gradient(Y, idx=[k]) for k in range(split.P)])
    assert _rel(e_parts.mean(axis=0), split.energy(Y)) < 1e-12
    assert _rel(g_parts.mean(axis=0), split.gradient(Y)) < 1e-12
    # sample k is sqrt(P) H_{X_k}, the ordinary p-spin of part k
    for k in range(split.P):
        assert _rel(e_parts[k], math.sqrt(split.P) * split.parts[k].energy(Y)) < 1e-12


def test_two_dimensional_idx_equals_rows_and_repeats_weigh_twice():
    split = SplitPSpin(7, 3, 4, seed=3)
    rng = np.random.default_rng(1)
    Y = split.random_point(rng, size=5)
    V = rng.standard_normal(Y.shape)
    idx = np.array([[0], [3], [3], [1], [2]])  # one part per replica, as Sagun's SGD
    e, g = split.energy_and_gradient(Y, idx=idx)
    hv = split.hvp(Y, V, idx=idx)
    for k in range(5):
        assert e[k] == pytest.approx(split.energy(Y[k], idx=idx[k]), rel=1e-13)
        assert _rel(g[k], split.gradient(Y[k], idx=idx[k])) < 1e-13
        assert _rel(hv[k], split.hvp(Y[k], V[k], idx=idx[k])) < 1e-13
    # a repeated index weighs its part twice
    e2 = split.energy(Y[0], idx=[1, 1, 2])
    ref = (2 * split.energy(Y[0], idx=[1]) + split.energy(Y[0], idx=[2])) / 3
    assert e2 == pytest.approx(ref, rel=1e-12)
    # a block HVP over a minibatch equals the per-vector products
    W = rng.standard_normal((3, split.dim))
    blk = split.hvp(Y[0], W, idx=[0, 2])
    for j in range(3):
        assert _rel(blk[j], split.hvp(Y[0], W[j], idx=[0, 2])) < 1e-12


@pytest.mark.parametrize("ensemble", COUPLING_ENSEMBLES)
def test_parts_are_drawn_like_the_plain_model_from_child_streams(ensemble):
    root = np.random.SeedSequence(77)
    split = SplitPSpin(6, 3, 3, seed=root, couplings=ensemble)
    for k in range(3):
        plain = SphericalPSpin(6, 3, seed=child(root, k), couplings=ensemble)
        assert np.array_equal(split.parts[k].tensor, plain.tensor)
    # the full tensor is the scaled sum of the parts
    S = sum(np.asarray(m.tensor) for m in split.parts) / math.sqrt(3)
    assert np.allclose(split.full.tensor, S, atol=1e-14)
    assert split.seed_record == {"entropy": 77, "spawn_key": []}


def test_fingerprint_and_params():
    a = SplitPSpin(6, 3, 4, seed=5)
    b = SplitPSpin(6, 3, 4, seed=5)
    c = SplitPSpin(6, 3, 4, seed=6)
    d = SplitPSpin(6, 3, 5, seed=5)
    assert a.fingerprint == b.fingerprint
    assert len({a.fingerprint, c.fingerprint, d.fingerprint}) == 3
    assert a.params()["P"] == 4 and a.n_samples == 4 and a.scale == 6.0
    assert a.batched_idx


def test_float32_parts_are_the_float64_ones_rounded():
    a = SplitPSpin(6, 3, 2, seed=9)
    b = SplitPSpin(6, 3, 2, seed=9, dtype=np.float32)
    x = a.random_point(0)
    assert b.energy(x) == pytest.approx(a.energy(x), rel=1e-5)
    assert b.dtype == np.float32


def test_bad_input():
    with pytest.raises(ValueError, match="P"):
        SplitPSpin(6, 3, 0)
    with pytest.raises(ValueError, match="coupling ensemble"):
        SplitPSpin(6, 3, 2, couplings="cauchy")
    with pytest.raises(ValueError, match="shape"):
        SplitPSpin.from_couplings(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        SplitPSpin.from_couplings(np.full((2, 3, 3), np.nan))
    with pytest.raises(ValueError, match="bytes"):
        SplitPSpin(5000, 3, 10)
    split = SplitPSpin(6, 3, 2, seed=1)
    with pytest.raises(ValueError, match="idx"):
        split.energy(split.random_point(0), idx=[2])


def test_spec_round_trip():
    from landscapes.spec import build, spec_of

    split = SplitPSpin(6, 3, 3, seed=np.random.SeedSequence(4))
    spec = spec_of(split)
    assert spec["class"] == "SplitPSpin" and spec["params"]["P"] == 3
    again = build(spec)
    assert again.fingerprint == split.fingerprint
