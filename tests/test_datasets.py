"""landscapes.datasets: digits, Gaussian mixtures, teacher-student and user arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from landscapes import datasets


def test_digits_unit_split_is_stratified_seeded_and_read_only():
    d = datasets.digits(seed=0)
    assert d.task == "classification" and d.n_classes == 10 and d.n_features == 64
    assert d.n_samples + d.n_test == 1797
    assert d.n_test == round(0.25 * 1797)
    assert d.X.min() >= 0 and d.X.max() <= 1 and d.X.max() == 1
    # stratified: every class's test share within one sample of 25%
    for c in range(10):
        ntr, nte = np.sum(d.y == c), np.sum(d.y_test == c)
        assert abs(nte - 0.25 * (ntr + nte)) <= 1
    again = datasets.digits(seed=0)
    other = datasets.digits(seed=1)
    assert np.array_equal(again.X, d.X) and again.fingerprint == d.fingerprint
    assert not np.array_equal(other.y, d.y) and other.fingerprint != d.fingerprint
    assert not d.X.flags.writeable and not d.y.flags.writeable
    with pytest.raises(ValueError):
        d.X[0, 0] = 3.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.name = "other"


def test_digits_standard_scaling_uses_training_statistics():
    d = datasets.digits(scaling="standard", test_size=300, seed=2)
    assert d.n_test == 300
    sd = d.X.std(axis=0)
    varying = sd > 0
    assert np.allclose(d.X.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(sd[varying], 1, atol=1e-12)
    # the same affine map on both parts: recover it from the unit version
    u = datasets.digits(scaling="unit", test_size=300, seed=2)
    a = u.X[:, varying].std(axis=0)
    m = u.X[:, varying].mean(axis=0)
    assert np.allclose(d.X_test[:, varying], (u.X_test[:, varying] - m) / a, atol=1e-10)


def test_digits_subsets():
    d = datasets.digits(n_train=50, classes=4, seed=3)
    assert d.n_samples == 50 and d.n_classes == 4
    assert set(np.unique(d.y)) == {0, 1, 2, 3}
    assert np.bincount(d.y).min() >= 12
    assert d.y_test.max() == 3
    with pytest.raises(ValueError, match="classes"):
        datasets.digits(classes=11)
    with pytest.raises(ValueError, match="scaling"):
        datasets.digits(scaling="minmax")
    with pytest.raises(ValueError, match="n_train"):
        datasets.digits(n_train=5000)


def test_gaussian_mixture_geometry_and_balance():
    d = datasets.gaussian_mixture(4, dim=10, separation=5.0, n_samples=2000, seed=4, n_test=40)
    means = np.array(d.info["means"])
    dist = np.linalg.norm(means[:, None] - means[None], axis=2)
    assert np.allclose(dist[~np.eye(4, dtype=bool)], 5.0, rtol=1e-12)
    assert np.bincount(d.y).tolist() == [500] * 4
    assert d.n_test == 40
    # empirical class means: each coordinate has standard error 1/sqrt(500)
    for c in range(4):
        err = d.X[d.y == c].mean(axis=0) - means[c]
        assert np.max(np.abs(err)) < 5 / np.sqrt(500)
    resid = d.X - means[d.y]
    assert abs(resid.var() - 1) < 5 * np.sqrt(2 / resid.size)
    with pytest.raises(ValueError, match="dim"):
        datasets.gaussian_mixture(5, dim=3)


def test_teacher_student_targets_are_the_teacher_outputs():
    from landscapes.nn import MLPLoss

    d = datasets.teacher_student(30, dim=3, hidden=(4,), n_outputs=1, noise=0.0, seed=5, n_test=7)
    assert d.task == "regression" and d.y.shape == (30,) and d.y_test.shape == (7,)
    E = MLPLoss(d, hidden=(4,), loss="mse")
    assert E.energy(d.teacher) < 1e-30
    assert d.n_outputs == 1 and d.targets("mse").shape == (30, 1)
    noisy = datasets.teacher_student(4000, dim=3, hidden=(4,), noise=0.5, seed=5)
    En = MLPLoss(noisy, hidden=(4,), loss="mse")
    # mean of eps^2 / 2 with eps ~ N(0, 0.25): 0.125 with standard error 0.125 sqrt(2/n)
    assert abs(En.energy(noisy.teacher) - 0.125) < 5 * 0.125 * np.sqrt(2 / 4000)
    with pytest.raises(ValueError, match="activation"):
        datasets.teacher_student(activation="swish")


def test_from_arrays_validation_and_targets():
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 2, 1, 0, 2])
    d = datasets.from_arrays(X, y)
    assert d.n_classes == 3 and d.y.dtype == np.int64
    assert np.array_equal(d.targets("mse"), np.eye(3)[y])
    assert np.array_equal(d.targets("cross_entropy"), y)
    X[0, 0] = 99.0  # the dataset keeps its own copy
    assert d.X[0, 0] == 0.0
    with pytest.raises(ValueError, match=r"0\.\.1"):
        datasets.from_arrays(X, y, n_classes=2)
    with pytest.raises(ValueError, match=r"0\.\.2"):
        datasets.from_arrays(X, np.array([0, 1, 2, 1, 0, -1]), n_classes=3)
    with pytest.raises(ValueError, match="different lengths"):
        datasets.from_arrays(X, y[:5])
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        datasets.from_arrays(bad, y)
    with pytest.raises(ValueError, match="NaN"):
        datasets.from_arrays(X, np.array([0.0, 1, np.inf, 0, 1, 0]), task="regression")
    with pytest.raises(ValueError, match="empty"):
        datasets.from_arrays(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="integers"):
        datasets.from_arrays(X, y + 0.5)
    with pytest.raises(ValueError, match="task"):
        datasets.from_arrays(X, y, task="ranking")
    with pytest.raises(ValueError, match="X_test"):
        datasets.from_arrays(X, y, X_test=X)
    with pytest.raises(ValueError, match="features"):
        datasets.from_arrays(X, y, X_test=np.zeros((2, 3)), y_test=np.zeros(2, int))
    with pytest.raises(ValueError, match="2-D"):
        datasets.from_arrays(np.zeros(6), y)
    reg = datasets.from_arrays(X, np.ones((6, 2)), task="regression")
    assert reg.n_classes is None and reg.n_outputs == 2
    with pytest.raises(ValueError, match="cross_entropy"):
        reg.targets("cross_entropy")
