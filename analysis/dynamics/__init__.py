"""Descents, samplers and two-time observables over batches of replicas, on any Energy.

Every function takes an :class:`~landscapes.energy.Energy` and starting points ``x0`` of shape
``(K, dim)`` (or one point ``(dim,)``, treated as K = 1) on the energy's manifold, and advances
all replicas in one vectorized loop: one call of the energy's batched kernel per step for all
*active* replicas (converged or diverged replicas leave the batch), followed by the manifold's
retraction. Results are frozen dataclasses that always keep the replica axis.

Conventions
-----------
* **Temperature.** Boltzmann weight ``exp(-H / T)`` with the extensive energy H (the energy's
  own units); for the p-spin (ABC) the paramagnetic energy per spin is ``-xi(1)/T``.
* **Overdamped Langevin.** ``x <- R_x(-h grad H(x) + sqrt(2 h T) xi)`` with ``xi`` a standard
  Gaussian projected on the tangent space and ``R`` the retraction.
* **Gradient tolerance (intensive).** A descent stops when the RMS component of the
  Riemannian gradient, ``|rgrad H| / sqrt(dim)``, is at most ``gtol``. For the p-spin every
  component of the gradient is O(1), so this is N-independent (Sagun et al.'s code stops at
  the total norm 0.01, i.e. ``gtol = 0.01 / sqrt(N)``).
* **On the manifold.** ``x0`` must lie within ``ON_MANIFOLD_TOL`` (relative to the radius) of
  the manifold (:meth:`Manifold.check_on`).
* **Seeds.** ``seed`` is a root seed (int, SeedSequence, Generator or None) from which one
  stream per replica is spawned (``SeedSequence.spawn(K)``), or a sequence of K
  SeedSequences, one per replica. Replica ``k`` of a batched run equals a single-replica run
  given ``seed=[streams[k]]``; results record the root entropy and every spawn key. Each
  replica draws its random numbers from its own stream in blocks of ``RNG_BLOCK`` steps
  (normals ``(RNG_BLOCK, dim)`` then uniforms ``(RNG_BLOCK,)``), so the numbers a replica sees
  do not depend on the batch it runs in.
* **Divergence.** A non-finite energy, gradient or point is never returned silently:
  ``on_divergence="raise"`` (default) raises ValueError naming the replicas and the steps;
  ``"flag"`` stops those replicas at their last finite state and sets ``diverged`` /
  ``diverged_at``.

Modules
-------
:mod:`~analysis.dynamics.records` (result records, seeds, shared checks),
:mod:`~analysis.dynamics.descent` (gradient descent), :mod:`~analysis.dynamics.sgd`
(minibatch SGD), :mod:`~analysis.dynamics.samplers` (Langevin, MALA, Metropolis, parallel
tempering, equilibrium estimates) and :mod:`~analysis.dynamics.twotime` (correlation and
mean-square displacement C(t_w + t, t_w), Delta(t_w + t, t_w) from recorded trajectories).
"""

from analysis.dynamics.descent import gradient_descent
from analysis.dynamics.records import (
    DEFAULT_LADDER,
    ON_MANIFOLD_TOL,
    RNG_BLOCK,
    DescentResult,
    SampleResult,
    TemperingResult,
    replica_seeds,
)
from analysis.dynamics.samplers import equilibrium_energy, langevin, metropolis, parallel_tempering
from analysis.dynamics.sgd import sgd
from analysis.dynamics.twotime import TwoTimeResult, two_time, two_time_from_result

__all__ = [
    "ON_MANIFOLD_TOL",
    "RNG_BLOCK",
    "DEFAULT_LADDER",
    "DescentResult",
    "SampleResult",
    "TemperingResult",
    "replica_seeds",
    "gradient_descent",
    "sgd",
    "langevin",
    "metropolis",
    "parallel_tempering",
    "equilibrium_energy",
    "TwoTimeResult",
    "two_time",
    "two_time_from_result",
]
