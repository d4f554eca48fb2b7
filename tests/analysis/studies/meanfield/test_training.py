"""Mean-field GD and online SGD: the time scale, the updates, batching, divergence."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.studies.meanfield import gd, online_sgd
from landscapes.meanfield import DivergenceError, MeanFieldNet, one_neuron_teacher

DATA = one_neuron_teacher(60, 5, seed=0)


def test_diverging_step_is_detected_and_reported():
    net = MeanFieldNet(DATA, 20)
    th = net.random_point(0, size=3)
    with pytest.raises(DivergenceError, match="eps=.*too large"):
        gd(net, th, eps=200.0, T=2000.0)
    with pytest.raises(DivergenceError, match="alpha=.*too large"):
        online_sgd(net, th, alpha=500.0, T=20.0, seed=1)
    assert issubclass(DivergenceError, ValueError)


# ------------------------------------------------------------------ the time scale
def test_gd_step_is_eps_times_n_times_gradient():
    net = MeanFieldNet(DATA, 30)
    th = net.random_point(1, size=2)
    tr = gd(net, th, eps=0.1, T=0.1, n_records=2)
    assert tr.steps == 1 and np.allclose(tr.times, [0.0, 0.1])
    assert np.allclose(tr.theta, th - 0.1 * 30 * net.gradient(th), rtol=1e-12, atol=1e-14)
    # the number of steps depends on T/eps only, not on N
    assert (
        gd(MeanFieldNet(DATA, 300), MeanFieldNet(DATA, 300).random_point(0), eps=0.1, T=0.5).steps
        == 5
    )


def test_online_sgd_is_sirignano_spiliopoulos_update():
    X, y = DATA
    net = MeanFieldNet(DATA, 7)
    th = net.random_point(2)
    tr = online_sgd(net, th, alpha=0.7, T=1 / 7, seed=5, n_records=2)
    k = int(np.random.default_rng(5).integers(60, size=(1, 1))[0, 0])
    c, W = net.unpack(th)
    s = np.tanh(W @ X[k])
    gk = np.mean(c * s)
    c2 = c + (0.7 / 7) * (y[k] - gk) * s
    W2 = W + (0.7 / 7) * (y[k] - gk) * (c * (1 - s**2))[:, None] * X[k]
    assert tr.steps == 7 * 1 / 7 and np.allclose(tr.times, [0, 1 / 7])
    assert np.allclose(tr.theta[0], net.pack(c2, W2), rtol=1e-12, atol=1e-14)


def test_batched_replicas_equal_single_runs():
    net = MeanFieldNet(DATA, 12)
    th = net.random_point(4, size=3)
    Xt = DATA[0][:2]
    tr = gd(net, th, eps=0.2, T=1.0, test_X=Xt)
    seeds = [np.random.SeedSequence(9).spawn(3)[k] for k in range(3)]
    sg = online_sgd(net, th, alpha=1.0, T=1.0, seed=list(np.random.SeedSequence(9).spawn(3)))
    for k in range(3):
        one = gd(net, th[k], eps=0.2, T=1.0, test_X=Xt)
        assert np.allclose(one.theta[0], tr.theta[k], rtol=1e-12, atol=1e-13)
        assert np.allclose(one.outputs[:, 0], tr.outputs[:, k], rtol=1e-12, atol=1e-13)
        s1 = online_sgd(net, th[k], alpha=1.0, T=1.0, seed=[seeds[k]])
        assert np.allclose(s1.theta[0], sg.theta[k], rtol=1e-12, atol=1e-13)
    assert np.array_equal(th, net.random_point(4, size=3))  # argument not mutated


def test_gd_is_the_generic_gradient_descent_with_step_eps_n():
    """The study's GD is analysis.dynamics.gradient_descent at step eps * N, to rounding."""
    from analysis.dynamics import gradient_descent

    net = MeanFieldNet(DATA, 16)
    th = net.random_point(3, size=4)
    tr = gd(net, th, eps=0.1, T=2.0, n_records=3)
    ref = gradient_descent(net, th, step=0.1 * 16, max_steps=tr.steps, gtol=0.0, progress=False)
    assert np.all(ref.steps == tr.steps)
    np.testing.assert_allclose(ref.x, tr.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ref.energies, tr.loss[-1], rtol=1e-10)
