"""landscapes: high-dimensional energy landscapes behind one Energy interface.

The things being explored (energies on manifolds, network losses, datasets) and the
contract they share. See ``pspin`` for the spherical spin glass and ``analysis`` for the
instruments.
"""

from landscapes.energy import Energy, FiniteSumEnergy
from landscapes.manifolds import Euclidean, Manifold, ProductManifold, Sphere
from landscapes.quadratic import Quadratic
from landscapes.random import as_generator, as_seed_sequence, spawn, spawn_generators

__version__ = "0.1.0"

__all__ = [
    "Energy",
    "FiniteSumEnergy",
    "Manifold",
    "Euclidean",
    "Sphere",
    "ProductManifold",
    "Quadratic",
    "as_generator",
    "as_seed_sequence",
    "spawn",
    "spawn_generators",
    "__version__",
]
