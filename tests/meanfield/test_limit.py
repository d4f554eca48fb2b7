"""The exact N -> infinity limit of mean-field GD (the PDE solver)."""

from __future__ import annotations

import numpy as np

from landscapes.meanfield import line_teacher, meanfield_limit


def test_limit_solver_exact_at_init_and_converged():
    data = line_teacher()
    lim = meanfield_limit(data, eps=0.05, T=1.0, nodes=20, refine=4, test_X=data[0][:3])
    assert lim.quadrature_error < 1e-6
    # t = 0: <c> = 0 so g = 0, and the moments of the uniform initial law
    assert np.isclose(lim.loss[0], 0.5 * np.mean(data[1] ** 2), rtol=1e-12)
    assert np.allclose(lim.outputs[0], 0.0, atol=1e-13)
    assert np.isclose(lim.mean_c2[0], 1.0, rtol=1e-12) and np.isclose(lim.mean_w2[0], 1.0)
    assert lim.loss[-1] < 0.5 * lim.loss[0]
    g = meanfield_limit(data, eps=0.05, T=0.5, init="gaussian", nodes=16, refine=4)
    assert g.quadrature_error < 1e-3  # Gauss-Hermite: slower, but converging
