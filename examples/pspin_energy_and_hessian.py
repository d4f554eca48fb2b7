"""Evaluate a p = 3 spherical spin glass on a batch of replicas and inspect one Hessian.

Run: ``python examples/pspin_energy_and_hessian.py``
"""

import numpy as np

from pspin import SphericalPSpin

model = SphericalPSpin(N=100, p=3, seed=0)
X = model.random_point(seed=1, size=32)  # 32 replicas, uniform on the sphere |s|^2 = N
e, g = model.energy_and_gradient(X)  # one pass over the couplings serves all replicas
print(
    f"H/N at random points: mean {np.mean(e / model.scale):+.4f} (theory 0), "
    f"std {np.std(e / model.scale):.4f} (theory 1/sqrt(N) = {1 / np.sqrt(model.N):.4f})"
)

R = model.rhessian(X[0])  # (N-1) x (N-1) Riemannian Hessian on the tangent space
lam = np.linalg.eigvalsh(R)
u = model.energy(X[0]) / model.N
# At any point the mean eigenvalue equals tr(P grad^2 H P)/(N-1) - p u; at random points the
# spectrum is close to a semicircle of radius 2 sqrt(p(p-1)) centred at -p u.
print(
    f"Riemannian Hessian: {lam.size} eigenvalues in [{lam.min():.3f}, {lam.max():.3f}], "
    f"mean {lam.mean():+.4f}, -p u = {-3 * u:+.4f}, radius 2 sqrt(6) = {2 * np.sqrt(6):.3f}"
)
print("fingerprint:", model.fingerprint[:16])
