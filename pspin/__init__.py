"""pspin: the spherical p-spin glass, its models and its exact theory."""

from pspin.bipartite import Bipartite3Spin
from pspin.model import COUPLING_ENSEMBLES, MixedPSpin, SphericalPSpin
from pspin.split import SplitPSpin

__all__ = [
    "SphericalPSpin",
    "MixedPSpin",
    "SplitPSpin",
    "Bipartite3Spin",
    "COUPLING_ENSEMBLES",
    "theory",
]


def __getattr__(name):
    if name == "theory":
        import importlib

        return importlib.import_module("pspin.theory")
    raise AttributeError(f"module 'pspin' has no attribute {name!r}")
