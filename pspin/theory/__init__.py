"""Exact and asymptotic theory of the spherical p-spin glass (a package; public names re-exported).

Every quantity is computed from its formula (closed forms, root finding, quadrature, exact
random-matrix identities); nothing is read from a table of results.

Conventions
-----------
The default is the normalization of Auffinger, Ben Arous & Černý (2013), "ABC":
``H(s) = N^{-(p-1)/2} sum J_{i1..ip} s_i1...s_ip`` with iid standard Gaussian J on the sphere
``|s|^2 = N``, so that ``E[H(s)H(s')] = N xi(s.s'/N)`` with ``xi(q) = q^p``. Energies are per
spin, ``u = H/N``; the ground state is ``-E_0`` and the threshold ``-E_inf`` (the functions below
return the positive constants ``E_0``, ``E_inf``, as ABC do).

Every function that takes ``p`` also accepts a mixture ``{p: a_p}`` (``xi(q) = sum_p a_p q^p``,
the dict :class:`pspin.MixedPSpin` takes) or any object with an attribute ``xi`` (a model
instance). A dict with one entry ``{p: a}`` is the pure model with energies, temperatures and
Hessian eigenvalues scaled by ``sqrt(a)``. Where a formula does not extend to mixtures a
:class:`NotImplementedError` says so.

Crisanti–Sommers (CS) convention: ``H_CS = -sum_{i1<...<ip} J s_i1...s_ip`` with
``E J^2 = p!/(2 N^{p-1})``, i.e. covariance ``(N/2) q^p``, so ``H_ABC = sqrt(2) H_CS`` in law.
Passing ``convention="cs"`` means the covariance is ``(N/2) xi(q)``; inputs and outputs are then in
CS units:

=====================================  ===================  ===================
quantity                               ABC                  CS
=====================================  ===================  ===================
energy per spin, temperature,          ``x``                ``x / sqrt(2)``
Hessian eigenvalues
complexities, overlaps, counts         unchanged            unchanged
=====================================  ===================  ===================

:func:`abc_to_cs` and :func:`cs_to_abc` convert energies, temperatures and Hessian eigenvalues.

References
----------
A. Auffinger, G. Ben Arous, J. Černý, Random matrices and complexity of spin glasses, CPAM 66
(2013), arXiv:1003.1129. A. Crisanti, H.-J. Sommers, Z. Phys. B 87 (1992) 341. L. Cugliandolo,
J. Kurchan, PRL 71 (1993) 173. W.-K. Chen, A. Sen, arXiv:1512.08492. N. G. de Bruijn, J. Indian
Math. Soc. 19 (1955) 133 (Pfaffian integration). A. Auffinger, G. Ben Arous, Ann. Probab. 41
(2013), arXiv:1110.5872 (mixed models).

Modules
-------
:mod:`~pspin.theory.conventions` (units, the covariance ``xi``), :mod:`~pspin.theory.complexity`
(threshold, layers, ground state, complexities), :mod:`~pspin.theory.goe` (semicircle, exact GOE
densities), :mod:`~pspin.theory.kac_rice` (finite-N counts), :mod:`~pspin.theory.hessian`
(Hessian law at critical points), :mod:`~pspin.theory.thermo` (transitions, equilibrium) and
:mod:`~pspin.theory.dynamics` (the exact N -> infinity Langevin dynamics). The attribute
``pspin.theory.dynamics`` is the solver function; its module is imported with
``from pspin.theory.dynamics import ...``.
"""

from pspin.theory.complexity import (
    complexity,
    effective_p,
    ground_state_energy,
    layer_energy,
    threshold_energy,
    total_complexity,
)
from pspin.theory.conventions import Convention, abc_to_cs, cs_to_abc, model_of
from pspin.theory.dynamics import DynamicsSolution, dynamics, p2_zero_temperature
from pspin.theory.goe import (
    goe_density,
    goe_ordered_eigenvalue_density,
    semicircle_cdf,
    semicircle_density,
)
from pspin.theory.hessian import HessianSpectrum, hessian_spectrum, index_fraction
from pspin.theory.kac_rice import (
    KacRiceResult,
    kac_rice_density,
    kac_rice_mean,
    kac_rice_monte_carlo,
)
from pspin.theory.thermo import (
    EquilibriumState,
    Transition,
    dynamical_transition,
    equilibrium,
    equilibrium_energy,
    paramagnetic_energy,
    static_transition,
)

__all__ = [
    "Convention",
    "abc_to_cs",
    "cs_to_abc",
    "model_of",
    "effective_p",
    "total_complexity",
    "threshold_energy",
    "layer_energy",
    "ground_state_energy",
    "complexity",
    "semicircle_density",
    "semicircle_cdf",
    "goe_density",
    "goe_ordered_eigenvalue_density",
    "KacRiceResult",
    "kac_rice_mean",
    "kac_rice_monte_carlo",
    "kac_rice_density",
    "HessianSpectrum",
    "hessian_spectrum",
    "index_fraction",
    "Transition",
    "EquilibriumState",
    "paramagnetic_energy",
    "dynamical_transition",
    "static_transition",
    "equilibrium",
    "equilibrium_energy",
    "DynamicsSolution",
    "dynamics",
    "p2_zero_temperature",
]
