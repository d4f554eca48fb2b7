"""
A first look: the p-spin energy and its Hessian
===============================================

Evaluate a p = 3 spherical spin glass on a batch of replicas and inspect one Riemannian
Hessian. The normalization is Auffinger–Ben Arous–Černý's (see :doc:`/theory`):
``H(s) = N^{-(p-1)/2} sum J s...s`` on the sphere ``|s|^2 = N``, energies reported per spin.
"""

import matplotlib.pyplot as plt
import numpy as np

from pspin import SphericalPSpin, theory

model = SphericalPSpin(N=100, p=3, seed=0)
X = model.random_point(seed=1, size=32)  # 32 replicas, uniform on the sphere |s|^2 = N
e, g = model.energy_and_gradient(X)  # one pass over the couplings serves all replicas
print(
    f"H/N at random points: mean {np.mean(e / model.scale):+.4f} (theory 0), "
    f"std {np.std(e / model.scale):.4f} (theory 1/sqrt(N) = {1 / np.sqrt(model.N):.4f})"
)

# %%
# The Riemannian Hessian at one point is an (N-1) x (N-1) matrix on the tangent space, in
# a deterministic orthonormal basis. At any point its mean eigenvalue equals
# ``tr(P grad^2 H P)/(N-1) - p u``; at random points the spectrum is close to a semicircle of
# radius ``2 sqrt(p(p-1))`` centred at ``-p u`` (u = H/N).
R = model.rhessian(X[0])
lam = np.linalg.eigvalsh(R)
u = model.energy(X[0]) / model.N
print(
    f"Riemannian Hessian: {lam.size} eigenvalues in [{lam.min():.3f}, {lam.max():.3f}], "
    f"mean {lam.mean():+.4f}, -p u = {-3 * u:+.4f}, radius 2 sqrt(6) = {2 * np.sqrt(6):.3f}"
)
print("fingerprint:", model.fingerprint[:16])

radius = 2 * np.sqrt(3 * 2)
grid = np.linspace(-3 * u - 1.2 * radius, -3 * u + 1.2 * radius, 400)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.hist(lam, bins=30, density=True, color="0.75", label=f"eigenvalues (N = {model.N})")
ax.plot(
    grid,
    theory.semicircle_density(grid, center=-3 * u, radius=radius),
    "k",
    lw=1.5,
    label=r"semicircle, centre $-pu$, radius $2\sqrt{p(p-1)}$",
)
ax.set_xlabel("Riemannian Hessian eigenvalue")
ax.set_ylabel("density")
ax.set_title("Hessian at a random point of the 3-spin sphere")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
