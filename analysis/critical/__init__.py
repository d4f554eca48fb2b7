"""Critical points of any Energy: batched Newton-type search, verification, census by index.

The search runs many random starts at once. Each iteration forms the dense Riemannian
Hessians of all active starts as one stack ``(K, d, d)`` (d = tangent dimension, N - 1 on the
sphere), diagonalizes the stack with one ``numpy.linalg.eigh`` call and takes, per start, a
step in the Hessian eigenbasis:

* ``"index"`` mode (eigenvector following with a target index k, a partitioned Newton step):
  h_i = -s_i g_i / max(|lambda_i|, delta) with s_i = -1 on the k lowest modes (uphill) and +1
  on the others (downhill); near a critical point of index k it is Newton's step, far from one
  it walks towards points of index k (k = 0 is a Newton-accelerated descent to minima, k = 1 a
  min-mode saddle search);
* ``"lm"`` mode (Levenberg–Marquardt on ||rgrad||^2): h_i = -lambda_i g_i / (lambda_i^2 + mu),
  attracted to critical points of any index (and to gradient-flat points, reported apart).

Steps are capped by a trust radius and retracted onto the manifold. A candidate counts only if
it passes :func:`verify`: Riemannian gradient norm below ``gtol * scale`` (default 1e-10
relative to the energy scale), Hessian non-degenerate apart from the energy's declared
symmetry directions (``energy.symmetry_directions(x)``, if it has them), index = number of
negative eigenvalues. Points where the iteration stalled with a small gradient lying in an
approximate kernel of the Hessian are *gradient-flat* (Frye et al. 2020) and are reported
apart, never counted.

:func:`census` runs batches of starts until the set of distinct points saturates and its
certificate holds; :func:`census_ensemble` averages censuses over disorder samples beside a
theory curve (e.g. ``pspin.theory.kac_rice_mean``).

Modules: :mod:`~analysis.critical.hessians` (dense Riemannian Hessians, stacked ``eigh``),
:mod:`~analysis.critical.search` (Newton / LM batch search), :mod:`~analysis.critical.verify`
(verification, symmetries, deduplication), :mod:`~analysis.critical.census` (census and its
certificate) and :mod:`~analysis.critical.ensemble` (disorder ensembles). Every public name is
importable from ``analysis.critical``.
"""

from analysis.critical.census import Census, Certificate, census
from analysis.critical.ensemble import CensusEnsemble, census_ensemble
from analysis.critical.hessians import eigh_stack, riemannian_hessians
from analysis.critical.search import newton_search, partner_batch, search_batch
from analysis.critical.verify import (
    Verified,
    canonical_forms,
    deduplicate,
    detect_symmetry,
    symmetric_images,
    verify,
)

__all__ = [
    "riemannian_hessians",
    "eigh_stack",
    "newton_search",
    "partner_batch",
    "search_batch",
    "verify",
    "Verified",
    "canonical_forms",
    "detect_symmetry",
    "symmetric_images",
    "deduplicate",
    "Certificate",
    "Census",
    "census",
    "CensusEnsemble",
    "census_ensemble",
    "BasinHopping",
    "LocalMinima",
    "MinimaRegistry",
    "basin_hopping",
    "lbfgs_minimize",
    "store_minima",
    "structure_keys",
    "verified_minima",
    "NewtonMR",
    "newton_mr",
    "null_fraction",
    "TransitionNetwork",
    "TransitionState",
    "connect_saddles",
    "climb_index",
    "SaddleDescents",
    "descend_from_saddles",
    "push_off",
    "explore_saddles",
    "hybrid_eigenvector_following",
    "lowest_modes",
    "neb_transition_state",
    "symmetry_basis",
]

# Global and saddle searches (issue 19); imported last: they build on the modules above.
from analysis.critical.basinhopping import (  # noqa: E402
    BasinHopping,
    LocalMinima,
    MinimaRegistry,
    basin_hopping,
    lbfgs_minimize,
    store_minima,
    structure_keys,
    verified_minima,
)
from analysis.critical.newton_mr import NewtonMR, newton_mr, null_fraction  # noqa: E402
from analysis.critical.saddle_descent import (  # noqa: E402
    SaddleDescents,
    descend_from_saddles,
    push_off,
)
from analysis.critical.transition import (  # noqa: E402
    TransitionNetwork,
    TransitionState,
    climb_index,
    connect_saddles,
    explore_saddles,
    hybrid_eigenvector_following,
    lowest_modes,
    neb_transition_state,
    symmetry_basis,
)
