"""Spherical p-spin model: normalization, exact facts, storage, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from pspin import COUPLING_ENSEMBLES, MixedPSpin, SphericalPSpin
from pspin import model as pspin_model


def test_energy_matches_naive_contraction_of_raw_couplings():
    rng = np.random.default_rng(0)
    for N, p in [(6, 2), (6, 3), (5, 4), (4, 5)]:
        J = rng.standard_normal((N,) * p)
        J0 = J.copy()
        m = SphericalPSpin.from_couplings(J)
        assert np.array_equal(J, J0), "from_couplings must not modify its argument"
        x = m.random_point(rng)
        letters = "abcdefgh"[:p]
        naive = np.einsum(f"{letters}," + ",".join(letters), J, *([x] * p)) / N ** ((p - 1) / 2)
        assert np.isclose(m.energy(x), naive, rtol=1e-12)
        # homogeneity off the sphere (Euler): E(c x) = c^p E(x), x.grad = p E
        assert np.isclose(m.energy(2.0 * x), 2.0**p * m.energy(x), rtol=1e-12)
        assert np.isclose(x @ m.gradient(x), p * m.energy(x), rtol=1e-12)


def test_blockwise_symmetrization_equals_full_average():
    rng = np.random.default_rng(1)
    import itertools

    T = rng.standard_normal((7, 7, 7))
    full = sum(np.transpose(T, perm) for perm in itertools.permutations(range(3))) / 6
    T2 = T.copy()
    pspin_model._symmetrize_inplace(T2, block=2)  # several blocks, uneven last block
    assert np.allclose(T2, full, atol=1e-14)
    T4 = rng.standard_normal((5,) * 4)
    full4 = sum(np.transpose(T4, perm) for perm in itertools.permutations(range(4))) / 24
    pspin_model._symmetrize_inplace(T4, block=2)
    assert np.allclose(T4, full4, atol=1e-14)


def test_p2_minimum_is_lowest_eigenvector():
    N = 30
    m = SphericalPSpin(N, 2, seed=3)
    S = np.array(m.tensor)
    w, V = np.linalg.eigh(S)
    x = np.sqrt(N) * V[:, 0]
    # H(s) = s.S s on |s|^2 = N: minimum N lambda_min (S holds the N^{-1/2} factor), which is
    # sqrt(N) times the lowest eigenvalue of the symmetrized raw coupling matrix J_sym = sqrt(N) S.
    lam_raw = np.sqrt(N) * w[0]
    assert np.isclose(m.energy(x), np.sqrt(N) * lam_raw, rtol=1e-12)
    assert np.isclose(m.energy(-x), m.energy(x), rtol=1e-12)
    assert np.linalg.norm(m.rgrad(x)) < 1e-10
    R = m.rhessian(x)
    assert np.linalg.eigvalsh(R).min() > 0  # a non-degenerate minimum
    # no random point is lower
    Y = m.random_point(4, size=2000)
    assert m.energy(Y).min() > m.energy(x)


def test_odd_p_is_odd_and_even_p_is_even():
    rng = np.random.default_rng(5)
    m3 = SphericalPSpin(10, 3, seed=1)
    m4 = SphericalPSpin(8, 4, seed=1)
    X3 = m3.random_point(rng, size=4)
    X4 = m4.random_point(rng, size=4)
    assert np.allclose(m3.energy(-X3), -m3.energy(X3), rtol=1e-13)
    assert np.allclose(m4.energy(-X4), m4.energy(X4), rtol=1e-13)


@pytest.mark.parametrize("p", [2, 3])
def test_covariance_over_coupling_draws(p):
    """E[H(s)^2] = N and E[H(s)H(s')] = N (s.s'/N)^p over coupling draws (4 s.e.)."""
    N, draws = 8, 1500
    rng = np.random.default_rng(7)
    s = np.sqrt(N) * np.eye(N)[0]
    t = rng.standard_normal(N)
    t -= (t @ s) / N * s
    t *= np.sqrt(N) / np.linalg.norm(t)
    q = 0.6
    s2 = q * s + np.sqrt(1 - q**2) * t  # overlap q with s, on the sphere
    seeds = np.random.SeedSequence(11).spawn(draws)
    H = np.array([SphericalPSpin(N, p, seed=ss).energy(np.stack([s, s2])) for ss in seeds])
    sq = H[:, 0] ** 2
    cross = H[:, 0] * H[:, 1]
    assert abs(sq.mean() - N) < 4 * sq.std(ddof=1) / np.sqrt(draws)
    assert abs(cross.mean() - N * q**p) < 4 * cross.std(ddof=1) / np.sqrt(draws)


@pytest.mark.parametrize("ensemble", COUPLING_ENSEMBLES)
def test_coupling_ensembles_are_centred_with_unit_variance(ensemble):
    N = 40
    m = SphericalPSpin(N, 2, seed=2, couplings=ensemble)
    # undo scaling; the symmetrized off-diagonal entries (J_ij + J_ji)/2 have variance 1/2
    S = np.array(m.tensor) * np.sqrt(N)
    off = S[np.triu_indices(N, 1)]
    n = off.size
    assert abs(off.mean()) < 4 * np.sqrt(0.5 / n)
    assert abs(off.var() - 0.5) < 0.1
    diag = np.diag(S)
    assert abs(diag.var() - 1.0) < 0.5


def test_mixed_model_covariance_and_weights():
    N = 7
    xi = {3: 0.5, 4: 0.5}
    m = MixedPSpin(N, xi, seed=3)
    x = m.random_point(0, size=3)
    expected = sum(np.sqrt(a) * c.energy(x) for a, c in zip(xi.values(), m.components, strict=True))
    assert np.allclose(m.energy(x), expected)
    seeds = np.random.SeedSequence(5).spawn(1200)
    s = m.random_point(1)
    H = np.array([MixedPSpin(N, xi, seed=ss).energy(s) for ss in seeds])
    assert abs((H**2).mean() - N * 1.0) < 4 * (H**2).std(ddof=1) / np.sqrt(H.size)


def test_save_load_roundtrip_and_fingerprint_check(tmp_path):
    m = SphericalPSpin(9, 3, seed=42, couplings="rademacher")
    path = m.save(tmp_path / "model.npz")
    m2 = SphericalPSpin.load(path)
    assert m2.fingerprint == m.fingerprint
    x = m.random_point(0, size=2)
    assert np.array_equal(m.energy(x), m2.energy(x))
    # tamper with the couplings: the fingerprint check must refuse the file
    meta, arrays = pspin_model.load_npz(path)
    arrays["S"][0, 1, 2] += 1e-3
    from landscapes.io import save_npz

    bad = save_npz(tmp_path / "bad.npz", meta, **arrays)
    with pytest.raises(ValueError, match="fingerprint"):
        SphericalPSpin.load(bad)
    mm = MixedPSpin(6, {2: 0.2, 3: 0.8}, seed=1)
    mm2 = MixedPSpin.load(mm.save(tmp_path / "mixed"))
    assert mm2.fingerprint == mm.fingerprint
    with pytest.raises(ValueError, match="SphericalPSpin"):
        SphericalPSpin.load(tmp_path / "mixed.npz")
    with pytest.raises(ValueError, match="no such file"):
        SphericalPSpin.load(tmp_path / "missing.npz")


def test_seeds_generators_and_float32():
    a = SphericalPSpin(6, 3, seed=np.random.SeedSequence(8))
    b = SphericalPSpin(6, 3, seed=8)
    assert a.fingerprint == b.fingerprint
    assert a.seed_record == {"entropy": 8, "spawn_key": []}
    c = SphericalPSpin(6, 3, seed=np.random.default_rng(8))
    assert c.fingerprint == a.fingerprint
    f32 = SphericalPSpin(40, 3, seed=8, dtype=np.float32)
    f64 = SphericalPSpin(40, 3, seed=8)
    x = f64.random_point(1, size=4)
    rel = np.abs(f32.energy(x) - f64.energy(x)) / np.abs(f64.energy(x)).max()
    assert f32.energy(x).dtype == np.float32
    assert rel.max() < 1e-5


def test_bad_input_is_a_clear_value_error(monkeypatch):
    with pytest.raises(ValueError, match="p must be >= 2"):
        SphericalPSpin(5, 1)
    with pytest.raises(ValueError, match="N must be >= 2"):
        SphericalPSpin(0, 3)
    with pytest.raises(ValueError, match="unknown coupling ensemble 'cauchy'"):
        SphericalPSpin(5, 3, couplings="cauchy")
    with pytest.raises(ValueError, match="dtype"):
        SphericalPSpin(5, 3, dtype=np.int64)
    with pytest.raises(ValueError, match="xi"):
        MixedPSpin(5, {})
    with pytest.raises(ValueError, match="a_3"):
        MixedPSpin(5, {3: -1.0})
    monkeypatch.setattr(pspin_model, "available_memory", lambda: 10**9)
    with pytest.raises(ValueError, match=r"need 8,000,000,000 bytes"):
        SphericalPSpin(1000, 3)
    m = SphericalPSpin(5, 3, seed=0)
    with pytest.raises(ValueError, match=r"shape \(5,\) or \(K, 5\)"):
        m.energy(np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        m.gradient(np.array([1.0, np.inf, 0, 0, 0]))
    with pytest.raises(ValueError, match="cubical"):
        SphericalPSpin.from_couplings(np.ones((3, 4)))
