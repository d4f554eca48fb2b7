"""Mean-field networks on the spherical 3-spin target, beside the 3-spin's landscape."""

from __future__ import annotations

import math

import numpy as np

from analysis.meanfield_landscape import landscape_experiment, pspin_target_data


def test_pspin_target_data_is_the_pspin_energy():
    X, y, model = pspin_target_data(5, 50, seed=3)
    assert X.shape == (50, 5)
    assert np.allclose(np.linalg.norm(X, axis=1), math.sqrt(5))
    assert np.allclose(y, model.energy(X) / math.sqrt(5))
    # unit variance in the ABC normalization: E[y^2] = E[H^2]/d = 1 (50 points: loose)
    assert 0.4 < np.mean(y**2) < 2.0


def test_landscape_experiment_small():
    res = landscape_experiment(
        (8, 16, 32),
        8,
        seed=1,
        d=4,
        n_samples=60,
        T=2.0,
        eps=0.2,
        ref_factor=4,
        ref_seeds=2,
        hessian_max_width=16,
        pspin_sizes=(12, 24),
        pspin_seeds=4,
        pspin_steps=300,
        n_boot=100,
    )
    s = res.summary
    assert list(s["width"]) == [8, 16, 32]
    # losses decreased from the initial ~ 1/2 E[y^2]; spread over seeds shrinks with width
    assert (s["mean_loss"] < 0.5).all()
    assert s["spread"].iloc[-1] < s["spread"].iloc[0]
    # Hessian of N*L at the end point, dense, for the widths <= 16 only
    assert len(res.spectra["net 8"]) == 8 * 5 and np.isnan(s["hess_min"].iloc[-1])
    # p-spin: GD endpoints are minima (Hessian >= 0 up to tolerance) above the threshold
    ps = res.pspin
    assert (ps["mean_energy"] > -res.extra["e_inf"] - 0.05).all()
    assert (ps["hess_min"] > -1e-6).all()
    assert res.config["seed"]["entropy"] == 1
