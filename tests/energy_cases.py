"""Every Energy the contract suite checks: one line each, ``name: factory(seed) -> Energy``.

A new energy joins the whole contract suite (tests/test_contract.py) by adding one line here.
Keep the instances small: the suite builds dense Hessians by finite differences.
"""

from __future__ import annotations

from landscapes import Euclidean, ProductManifold, Quadratic, Sphere
from landscapes.clusters import LennardJones
from landscapes.meanfield import MeanFieldNet, isotropic_gaussians, one_neuron_teacher
from pspin import MixedPSpin, SphericalPSpin
from pspin.bipartite import Bipartite3Spin
from pspin.split import SplitPSpin
from tests.nn.cases import NN_CASES

ENERGY_CASES = {
    "quadratic-euclidean": lambda seed: Quadratic(dim=7, manifold="euclidean", seed=seed),
    "quadratic-sphere": lambda seed: Quadratic(dim=7, manifold="sphere", seed=seed),
    "quadratic-sphere-x-euclidean": lambda seed: Quadratic(
        dim=7, manifold=ProductManifold([Sphere(4), Euclidean(3)]), seed=seed
    ),
    "pspin-p2": lambda seed: SphericalPSpin(9, 2, seed=seed),
    "pspin-p3": lambda seed: SphericalPSpin(9, 3, seed=seed),
    "pspin-p4": lambda seed: SphericalPSpin(7, 4, seed=seed),
    "pspin-p3-rademacher": lambda seed: SphericalPSpin(8, 3, seed=seed, couplings="rademacher"),
    "mixed-3+4": lambda seed: MixedPSpin(7, {3: 0.5, 4: 0.5}, seed=seed),
    "mixed-2+3": lambda seed: MixedPSpin(8, {2: 0.3, 3: 1.0}, seed=seed, couplings="exponential"),
    "split-pspin-p3": lambda seed: SplitPSpin(7, 3, 8, seed=seed),
    "bipartite-3spin": lambda seed: Bipartite3Spin(5, seed=seed),
    "lennard-jones-5": lambda seed: LennardJones(5, sigma=1.0 + (seed % 89) / 100),
    "meanfield-tanh": lambda seed: MeanFieldNet(one_neuron_teacher(12, 3, seed=seed), 5),
    "meanfield-sigmoid-ntk": lambda seed: MeanFieldNet(
        isotropic_gaussians(10, 2, seed=seed), 4, "sigmoid", scaling="ntk"
    ),
}

# network losses (landscapes.nn): see tests/nn/cases.py
ENERGY_CASES.update(NN_CASES)
