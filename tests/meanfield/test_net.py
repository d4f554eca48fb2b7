"""The mean-field network as an Energy: data, layout, scalings, teachers, its model spec."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest

from analysis.studies.meanfield import fit_loglog
from landscapes.meanfield import MeanFieldNet, isotropic_gaussians, one_neuron_teacher

DATA = one_neuron_teacher(60, 5, seed=0)


def test_data_forms_and_layout():
    X, y = DATA
    obj = types.SimpleNamespace(X=X, y=y[:, None], task="regression")
    a, b = MeanFieldNet(obj, 4), MeanFieldNet((X, y), 4)
    assert a.fingerprint == b.fingerprint and a.dim == 4 * 6
    th = b.random_point(3)
    c, W = b.unpack(th)
    assert c.shape == (4,) and W.shape == (4, 5)
    assert np.array_equal(b.pack(c, W), th)
    # g_N = (1/N) sum c_i tanh(w_i . x), checked against a plain loop
    g = np.array([np.mean([c[i] * np.tanh(W[i] @ x) for i in range(4)]) for x in X[:3]])
    assert np.allclose(b.predict(th, X[:3]), g, rtol=1e-13, atol=1e-15)
    assert np.isclose(b.energy(th), 0.5 * np.mean((b.predict(th) - y) ** 2), rtol=1e-13)
    assert not np.shares_memory(b.X, X)


def test_ntk_scaling_is_a_different_object():
    """Output variance at init: C/N in the mean-field scaling, O(1) under 1/sqrt(N) (NTK)."""
    X = DATA[0][:1]
    widths = [8, 32, 128, 512]
    rng = np.random.default_rng(11)
    var_mf, var_ntk = [], []
    for N in widths:
        mf = MeanFieldNet(DATA, N)
        ntk = MeanFieldNet(DATA, N, scaling="ntk")
        th = mf.random_point(rng, size=2000)
        var_mf.append(mf.predict(th, X)[:, 0].var())
        var_ntk.append(ntk.predict(th, X)[:, 0].var())
    # exact constant: Var = E[c^2] E[tanh(w.x)^2] = E tanh(|x| z / sqrt(d))^2, z ~ N(0, 1)
    z = np.random.default_rng(0).standard_normal(400_000)
    C = np.mean(np.tanh(np.linalg.norm(X[0]) / np.sqrt(5) * z) ** 2)
    # sample variance of 2000 draws: relative sd ~ sqrt(2/2000) * kurtosis factor <= 0.1
    assert np.allclose(np.array(var_mf) * widths, C, rtol=0.25)
    assert np.allclose(var_ntk, C, rtol=0.25)
    assert abs(fit_loglog(widths, var_mf)[0] + 1) < 0.1
    assert abs(fit_loglog(widths, var_ntk)[0]) < 0.1


def test_isotropic_gaussians_shape():
    X, y = isotropic_gaussians(400, 3, delta=0.5, seed=2)
    assert set(np.unique(y)) == {-1.0, 1.0}
    r = np.linalg.norm(X, axis=1) / np.sqrt(3)
    assert r[y > 0].mean() > 1.3 and r[y < 0].mean() < 0.7


def test_spec_round_trip_rebuilds_the_same_net():
    from landscapes.spec import build, spec_of

    src = {"name": "one_neuron_teacher", "n": 20, "d": 3}
    net = MeanFieldNet.from_source(src, 6, seed=0, activation="sigmoid", init="uniform")
    spec = spec_of(net)
    assert spec["class"] == "MeanFieldNet" and spec["params"]["data"] == src
    again = build(spec, cache=False)
    assert again.fingerprint == net.fingerprint
    assert again.activation == "sigmoid" and again.init == "uniform"
    # the same data given as arrays is the same energy
    plain = MeanFieldNet(one_neuron_teacher(20, 3, seed=0), 6, "sigmoid", init="uniform")
    assert plain.fingerprint == net.fingerprint
    # deterministic data: a hand-written spec without seed
    line = MeanFieldNet.spec({"name": "line_teacher"}, 4, init="uniform")
    assert build(line, cache=False).dim == 4 * 3
    with pytest.raises(ValueError, match="no spec"):
        spec_of(plain)
    with pytest.raises(ValueError, match="unknown data source"):
        build(MeanFieldNet.spec({"name": "nope"}, 4), cache=False)
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        build({**spec, "fingerprint": "0" * 64}, cache=False)


def test_model_layer_imports_no_study_pandas_or_pspin():
    code = (
        "import sys, landscapes.meanfield as m; m.MeanFieldNet; "
        "bad = [k for k in sys.modules if k.split('.')[0] in ('analysis', 'pandas', 'pspin')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    import landscapes.meanfield as m

    with pytest.raises(AttributeError, match="analysis.studies.meanfield"):
        m.lln_experiment  # noqa: B018
