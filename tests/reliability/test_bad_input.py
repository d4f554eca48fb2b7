"""Bad input named at the boundary (class 5 and the weak spots of issue 15): classes beyond
the data, a target index beyond the dimension, a point off the manifold, a finite but
exploded SGD loss, a census of one sample; and deterministic errors are never retried."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.critical import newton_search
from analysis.dynamics import sgd
from analysis.store import RunFolder
from analysis.studies.census import format_mean_se
from analysis.studies.spectrum import mlp_spec
from analysis.sweep import make_tasks, run_tasks
from landscapes.datasets import digits, gaussian_mixture
from landscapes.nn import MLPLoss
from pspin import SphericalPSpin


def test_classes_beyond_the_data_are_refused():
    with pytest.raises(ValueError, match=r"classes must lie in 2\.\.10 .* got 99"):
        digits(classes=99)
    # the spectrum study refuses before building anything, instead of training on 10
    # classes and recording 99 in the config, the report and the outlier groups
    with pytest.raises(ValueError, match=r"classes must lie in 2\.\.10"):
        mlp_spec("digits", 99, [8], "tanh", "cross_entropy", 0.0, 0)
    with pytest.raises(ValueError, match=r"classes must lie in 2\.\.64"):
        mlp_spec("mixture", 99, [8], "tanh", "cross_entropy", 0.0, 0)
    assert digits(classes=3).n_classes == 3


def test_target_index_beyond_the_dimension():
    m = SphericalPSpin(5, 3, seed=0)
    X0 = m.random_point(0, size=2)
    with pytest.raises(ValueError, match=r"target_index must lie in 0\.\.4"):
        newton_search(m, X0, target_index=7)
    with pytest.raises(ValueError, match="target_index"):
        newton_search(m, X0, target_index=[0, 1, 2])  # one per start, or one
    with pytest.raises(ValueError, match="gtol"):
        newton_search(m, X0, gtol=float("nan"))


def test_rhessian_off_the_manifold_names_the_distance():
    m = SphericalPSpin(5, 3, seed=0)
    with pytest.raises(ValueError, match=r"off the manifold .* distance 2\.24"):
        m.rhessian(np.zeros(5))  # was a silent NaN matrix
    assert np.all(np.isfinite(m.rhessian(m.random_point(0))))


def test_sgd_flags_a_finite_blow_up():
    data = gaussian_mixture(3, dim=4, n_samples=30, seed=0)
    net = MLPLoss(data, hidden=[4], activation="linear", loss="mse")
    x0 = net.random_point(0)
    with np.errstate(all="ignore"):
        r = sgd(net, x0, step=0.7, epochs=2, batch_size=10, seed=0, on_divergence="flag")
        assert r.diverged.all() and r.diverged_at[0] > 0  # a loss of 1e174 is not a result
        with pytest.raises(ValueError, match="sgd diverged"):
            sgd(net, x0, step=0.7, epochs=2, batch_size=10, seed=0)
        ok = sgd(net, x0, step=0.3, epochs=2, batch_size=10, seed=0, on_divergence="flag")
    assert not ok.diverged.any() and np.isfinite(ok.energies).all()


def test_one_sample_has_no_standard_error():
    assert "nan" not in format_mean_se(22.0, math.nan)
    assert format_mean_se(22.0, 1.5) == "22.00 ±  1.50"


def test_deterministic_errors_are_not_retried(tmp_path):
    folder = RunFolder(tmp_path / "run", "test-retries", {})
    tasks = make_tasks("tests.reliability._tasks:bad_input", [{"dir": str(tmp_path)}], 0)
    res = run_tasks(tasks, folder, retries=2, progress=False, on_failure="report")
    assert not res.ok and res.retried == 0 and res.failed[0].attempts == 1
    assert (tmp_path / "attempts").read_text() == "1"
    assert "ValueError: step must be finite" in res.failed[0].error
