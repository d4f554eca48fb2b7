"""The Energy contract, checked for every energy in tests/energy_cases.py.

Every check lives in :func:`landscapes.testing.check_energy` (gradient and HVP against finite
differences, dense Hessian, batch = loop, tangency, tangent basis, Riemannian Hessian along
geodesics, determinism, no mutation, bad input, minibatch rules); this module runs it on
each case and checks that it catches a broken energy.
"""

from __future__ import annotations

import numpy as np
import pytest

from landscapes import Quadratic
from landscapes.testing import CHECKS, ContractError, check_energy
from tests.energy_cases import ENERGY_CASES

NAMES = sorted(ENERGY_CASES)
SEED = 1234


@pytest.mark.parametrize("name", NAMES)
def test_energy_contract(name):
    factory = ENERGY_CASES[name]
    energy = factory(seed=SEED)
    report = check_energy(energy, seed=99, twins=(factory(seed=SEED), factory(seed=4321)))
    assert report.ok
    ran = {m.check for m in report.measurements}
    assert ran == set(CHECKS) - set(report.skipped)


class _DoubledGradient(Quadratic):
    """A quadratic whose gradient is off by a factor 2 (the HVP is right)."""

    def _energy_and_gradient(self, X):
        e, g = super()._energy_and_gradient(X)
        return e, 2.0 * g


class _MutatingQuadratic(Quadratic):
    """A quadratic that writes into its argument."""

    def energy(self, x):
        out = super().energy(x)
        np.asarray(x)[..., 0] += 0.0 if np.ndim(x) == 1 else 1.0
        return out


def test_doubled_gradient_fails_naming_the_gradient_check():
    energy = _DoubledGradient(dim=6, manifold="euclidean", seed=3)
    with pytest.raises(ContractError, match="gradient") as err:
        check_energy(energy, seed=0)
    report = err.value.report
    assert "gradient" in report.failed_checks
    msg = str(err.value)
    assert "FAIL gradient: grad . v vs central differences" in msg
    assert "tolerance 1e-06" in msg
    assert isinstance(err.value, AssertionError)
    # the same energy passes the checks that do not involve its gradient
    assert check_energy(energy, checks=["hessian", "tangent_basis", "bad_input"]).ok


def test_mutation_is_reported():
    energy = _MutatingQuadratic(dim=5, manifold="sphere", seed=1)
    report = check_energy(energy, checks=["no_mutation"], raise_on_failure=False)
    assert report.failed_checks == ["no_mutation"]
    assert "energy leaves its arguments unchanged" in str(report)


def test_check_energy_options():
    energy = Quadratic(dim=5, manifold="sphere", seed=2)
    r = check_energy(energy, checks=["gradient"], rtol=1e-30, raise_on_failure=False)
    assert not r.ok and r.failed_checks == ["gradient"]
    assert check_energy(energy, checks=["gradient"], rtol={"gradient": 1e-3}).ok
    a = check_energy(energy, seed=7, checks=["hvp"]).measurements
    b = check_energy(energy, seed=7).measurements
    assert [m for m in b if m.check == "hvp"] == a  # each check has its own stream
    with pytest.raises(ValueError, match="unknown checks"):
        check_energy(energy, checks=["gradient", "speed"])
    with pytest.raises(ValueError, match="points"):
        check_energy(energy, points=1)
    with pytest.raises(ValueError, match="rtol"):
        check_energy(energy, rtol={"nope": 1.0})
    with pytest.raises(ValueError, match="Energy"):
        check_energy(object())
