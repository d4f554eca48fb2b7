"""
Write your own Energy
=====================

Every instrument of :mod:`analysis` works on any subclass of
:class:`landscapes.energy.Energy`. A subclass declares its manifold and implements two
*batched* kernels on validated arrays ``X`` of shape ``(K, dim)`` (K replicas):

* ``_energy_and_gradient(X)`` -> energies ``(K,)`` and Euclidean gradients ``(K, dim)``;
* ``_hvp(X, V)`` -> Hessian-vector products, row k is ``H(X[k]) V[k]``;

plus ``params()`` (JSON-able parameters that, with the seed, define the instance). The base
class provides the rest: shape handling, ``energy``/``gradient``/``hvp`` on one point or a
batch, the Riemannian views ``rgrad``, ``rhvp``, ``rhessian`` on the manifold, dense Hessians,
``random_point`` and the ``fingerprint``. :func:`landscapes.testing.check_energy` then checks
the contract (derivatives against finite differences, batches against loops, tangency,
symmetry, untouched arguments, errors on bad input) and names every broken property.

As an example, a random quartic energy on the sphere ``|s|^2 = N``:

.. math::

    H(s) = \\frac{1}{4N} \\sum_i a_i s_i^4 + \\frac{1}{2} s^\\top J s ,

with ``a_i`` standard normal and ``J`` a GOE matrix with entries of variance ``1/N``.
"""

# %%
# The energy
# ----------
import numpy as np

from analysis.dynamics import gradient_descent
from analysis.spectrum import hessian_eigenvalues
from landscapes.energy import Energy
from landscapes.manifolds import Sphere
from landscapes.random import as_generator
from landscapes.testing import ContractError, check_energy


class RandomQuartic(Energy):
    """A random quartic plus GOE quadratic energy on the sphere of radius sqrt(N)."""

    intensive_name = "H/N"

    def __init__(self, N: int, seed=None):
        rng = as_generator(seed)
        self.N = int(N)
        self.manifold = Sphere(self.N)  # radius sqrt(N) by default
        self.scale = float(self.N)  # H is extensive: report H/N
        self.a = rng.standard_normal(self.N)
        G = rng.standard_normal((self.N, self.N))
        self.J = (G + G.T) / np.sqrt(2 * self.N)

    def params(self) -> dict:
        return {"model": "random_quartic", "N": self.N}

    def _fingerprint_payload(self) -> list[bytes]:
        return [self.a.tobytes(), self.J.tobytes()]

    def _energy_and_gradient(self, X):
        JX = X @ self.J  # one matrix product serves all K replicas
        e = (X**4 @ self.a) / (4 * self.N) + 0.5 * np.einsum("ki,ki->k", X, JX)
        g = self.a * X**3 / self.N + JX
        return e, g

    def _hvp(self, X, V):
        return 3 * self.a * X**2 * V / self.N + V @ self.J


model = RandomQuartic(N=40, seed=0)
X = model.random_point(seed=1, size=5)  # 5 points, uniform on the sphere
print("H/N at 5 random points:", np.round(model.energy(X) / model.scale, 4))

# %%
# Check the contract
# ------------------
# ``check_energy`` raises :class:`~landscapes.testing.ContractError` when a property is broken
# and otherwise returns a report of every measurement with its error and tolerance. The
# determinism check rebuilds the energy: from its spec (:mod:`landscapes.spec`) when it is
# registered there, or, as here, from ``twins=``: the same energy built again from the same
# seed, and one from another seed.
report = check_energy(
    model, seed=0, twins=(RandomQuartic(40, seed=0), RandomQuartic(40, seed=1))
)
print(report)

# %%
# A bug, caught
# -------------
# Forget the factor 3 in the Hessian-vector product: the report names the broken property,
# the measured error and the tolerance.


class BuggyQuartic(RandomQuartic):
    def _hvp(self, X, V):
        return self.a * X**2 * V / self.N + V @ self.J  # wrong: d/ds (s^3) = 3 s^2


try:
    check_energy(
        BuggyQuartic(N=40, seed=0), seed=0, checks=["gradient", "hvp", "hessian"]
    )
except ContractError as err:
    print(err)

# %%
# Use the instruments
# -------------------
# Gradient descent from 16 random starts, then the Riemannian Hessian spectrum at the lowest
# endpoint: at a minimum on the sphere all ``N - 1`` eigenvalues are >= 0.
X0 = model.random_point(seed=2, size=16)
run = gradient_descent(model, X0, step=0.1, max_steps=3000, gtol=1e-6, progress=False)
best = int(np.argmin(run.intensive))
print(
    f"{run.converged.sum()} of {len(X0)} converged; lowest H/N {run.intensive[best]:.5f}"
)
spec = hessian_eigenvalues(model, run.x[best])  # dense: all N - 1 tangent eigenvalues
print(
    f"{spec.dim} eigenvalues, smallest {spec.eigenvalues[0]:.4f}, "
    f"largest {spec.eigenvalues[-1]:.4f}"
)
