"""Tests of landscapes.spec: specs round-trip every seeded energy, fingerprints are checked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from landscapes import Quadratic, datasets, spec
from landscapes.random import child, seed_info
from pspin import MixedPSpin, SphericalPSpin
from tests.energy_cases import ENERGY_CASES


def _spec_or_none(energy):
    try:
        return spec.spec_of(energy)
    except ValueError:
        return None


@pytest.mark.parametrize("case", sorted(ENERGY_CASES))
def test_round_trip_every_case_with_a_spec(case):
    energy = ENERGY_CASES[case](3)
    s = _spec_or_none(energy)
    if s is None:
        pytest.skip(f"{type(energy).__name__} has no spec")
    text = json.dumps(s)  # JSON-able
    rebuilt = spec.build(json.loads(text), cache=False)
    assert type(rebuilt) is type(energy)
    assert rebuilt.fingerprint == energy.fingerprint == s["fingerprint"]
    assert rebuilt.params() == energy.params()
    x = energy.random_point(5, size=2)
    np.testing.assert_array_equal(rebuilt.energy(x), energy.energy(x))
    np.testing.assert_array_equal(rebuilt.gradient(x), energy.gradient(x))
    assert spec.spec_of(rebuilt) == s


def test_most_cases_have_specs():
    names = [c for c in ENERGY_CASES if _spec_or_none(ENERGY_CASES[c](0)) is not None]
    for must in ("pspin-p3", "mixed-3+4", "quadratic-sphere", "mlp-digits-tanh-ce"):
        assert must in names
    assert any(c.startswith("rh-") for c in names)


def test_spec_layout():
    s = spec.spec_of(SphericalPSpin(6, 3, seed=11))
    assert set(s) == {"class", "params", "seed", "fingerprint"}
    assert s["class"] == "SphericalPSpin"
    assert s["params"] == {"N": 6, "p": 3, "couplings": "gaussian", "dtype": "float64"}
    assert s["seed"] == seed_info(np.random.SeedSequence(11))


def test_same_couplings_as_direct_construction_from_seed_record():
    root = child(123, 4, 0)
    direct = SphericalPSpin(7, 3, seed=child(123, 4, 0))
    hand = {"class": "SphericalPSpin", "params": {"N": 7, "p": 3}, "seed": seed_info(root)}
    built = spec.build(hand, cache=False)
    np.testing.assert_array_equal(built.tensor, direct.tensor)
    mixed = MixedPSpin(6, {2: 0.5, 3: 1.0}, seed=9, couplings="rademacher")
    rebuilt = spec.build(spec.spec_of(mixed), cache=False)
    for a, b in zip(rebuilt.components, mixed.components, strict=True):
        np.testing.assert_array_equal(a.tensor, b.tensor)


def test_mlp_spec_rebuilds_the_same_data():
    from landscapes.nn import MLPLoss

    data = datasets.teacher_student(
        25, dim=3, hidden=(2,), noise=0.1, seed=np.random.SeedSequence(8)
    )
    e = MLPLoss(data, hidden=(3,), loss="mse", weight_decay=0.01)
    s = spec.spec_of(e)
    assert s["class"] == "MLPLoss" and s["params"]["data"]["name"] == "teacher_student"
    r = spec.build(s, cache=False)
    np.testing.assert_array_equal(r.data.X, data.X)
    np.testing.assert_array_equal(r.data.y, data.y)
    np.testing.assert_array_equal(r.data.teacher, data.teacher)
    d2 = datasets.from_spec(datasets.dataset_spec(data))
    assert d2.fingerprint == data.fingerprint


def test_arrays_have_no_spec():
    data = datasets.from_arrays(np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="given as arrays"):
        datasets.dataset_spec(data)
    with pytest.raises(ValueError, match="no seed"):
        spec.spec_of(Quadratic(np.eye(3)))
    with pytest.raises(ValueError, match="not registered"):
        spec.spec_of(object())


def test_fingerprint_mismatch_names_both_hashes():
    s = spec.spec_of(SphericalPSpin(5, 3, seed=1))
    good = s["fingerprint"]
    bad = dict(s, fingerprint="0" * 64)
    with pytest.raises(ValueError, match="fingerprint mismatch") as err:
        spec.build(bad)
    assert "0" * 64 in str(err.value) and good in str(err.value)
    other = dict(s, seed=seed_info(np.random.SeedSequence(2)))
    with pytest.raises(ValueError, match=good):
        spec.build(other, cache=False)


def test_unknown_class_and_keys():
    with pytest.raises(ValueError, match="unknown energy class 'NoSuchEnergy'"):
        spec.build({"class": "NoSuchEnergy", "params": {}})
    with pytest.raises(ValueError, match="unknown model spec keys"):
        spec.build({"class": "SphericalPSpin", "params": {}, "colour": 1})
    with pytest.raises(ValueError, match="'class'"):
        spec.build({"params": {}})
    with pytest.raises(ValueError, match="must be a dict"):
        spec.build("SphericalPSpin")


def test_build_caches_per_process():
    s = spec.spec_of(SphericalPSpin(5, 2, seed=4))
    a = spec.build(s)
    b = spec.build(json.loads(json.dumps(s, indent=2)))  # key order and spacing do not matter
    assert a is b
    spec.clear_cache()
    assert spec.build(s) is not a
    assert spec.build(s, cache=False) is not spec.build(s)


def test_file_spec(tmp_path):
    m = MixedPSpin(5, {2: 1.0, 3: 0.5}, seed=6)
    loaded = MixedPSpin.load(m.save(tmp_path / "m.npz"))
    with pytest.raises(ValueError, match="file_spec"):
        spec.spec_of(loaded)
    fs = spec.file_spec(tmp_path / "m.npz")
    assert fs["class"] == "MixedPSpin" and fs["fingerprint"] == m.fingerprint
    assert spec.build(fs, cache=False).fingerprint == m.fingerprint
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        spec.build(dict(fs, fingerprint="f" * 64), cache=False)


def test_legacy_task_specs():
    m = SphericalPSpin(5, 3, seed=2, couplings="uniform")
    legacy = {
        "model": "pspin",
        "N": 5,
        "p": 3,
        "couplings": "uniform",
        "dtype": "float64",
        "seed": m.seed_record,
        "fingerprint": m.fingerprint,
    }
    assert spec.build(legacy, cache=False).fingerprint == m.fingerprint
    mixed = MixedPSpin(5, {3: 1.0, 4: 0.5}, seed=3)
    lm = {"model": "mixed_pspin", "N": 5, "xi": {"3": 1.0, "4": 0.5}, "seed": mixed.seed_record}
    assert spec.build(lm, cache=False).fingerprint == mixed.fingerprint
    with pytest.raises(ValueError, match="seed record"):
        spec.build({"model": "pspin", "N": 5, "p": 3})


def test_register_builder_function():
    def make(params, seed):
        return Quadratic(dim=params["n"], manifold="sphere", seed=seed)

    spec.register("TestSphereQuadratic", make)
    e = spec.build(
        {
            "class": "TestSphereQuadratic",
            "params": {"n": 4},
            "seed": seed_info(np.random.SeedSequence(1)),
        }
    )
    assert e.fingerprint == Quadratic(dim=4, manifold="sphere", seed=1).fingerprint
    assert "TestSphereQuadratic" in spec.registered()
    with pytest.raises(ValueError, match="name"):
        spec.register("", make)


def test_landscapes_imports_no_model_package():
    code = (
        "import sys, landscapes, landscapes.spec, landscapes.datasets; "
        "bad = [m for m in sys.modules if m == 'pspin' or m.startswith(('pspin.', 'landscapes.nn.mlp', "
        "'landscapes.nn.resnets'))]; print(bad); assert not bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_deterministic_energy_round_trips_without_a_seed():
    from landscapes.clusters import LennardJones

    energy = LennardJones(7, sigma=1.1)
    s = spec.spec_of(energy)
    assert s["class"] == "LennardJones" and s["seed"] is None
    assert s["fingerprint"] == energy.fingerprint
    rebuilt = spec.build(json.loads(json.dumps(s)), cache=False)
    assert rebuilt.fingerprint == energy.fingerprint and rebuilt.params() == energy.params()
    x = energy.random_point(3, size=2)
    np.testing.assert_array_equal(rebuilt.energy(x), energy.energy(x))
    assert spec.spec_of(rebuilt) == s
    # the fingerprint is still checked: other parameters under this fingerprint are refused
    other = dict(s, params=dict(s["params"], sigma=1.0))
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        spec.build(other, cache=False)
    # without the declaration, an energy with no seed record (arrays given) is still refused
    q = Quadratic(np.eye(3))
    assert getattr(q, "deterministic", False) is False
    with pytest.raises(ValueError, match="no seed"):
        spec.spec_of(q)
