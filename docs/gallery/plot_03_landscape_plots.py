"""
Landscape plots: slices, filter normalization, paths
====================================================

A picture of a landscape is a low-dimensional cut through it. :mod:`analysis.slices` makes
the standard ones for any :class:`~landscapes.energy.Energy`:

* :func:`~analysis.slices.slice_1d` and :func:`~analysis.slices.slice_2d`: the intensive
  energy along one or two random directions through a point;
* :func:`~analysis.slices.path_between`: along the segment between two points (a great-circle
  arc on the sphere), with the barrier height.

For networks the random directions are *filter-normalized* (Li, Xu, Taylor, Studer &
Goldstein, NeurIPS 2018): each neuron's slice of the direction is scaled to the norm of that
neuron's incoming weights, so that the picture does not change under the rescalings that leave
a ReLU network's function unchanged. On the sphere the slices follow geodesics and the
coordinate is an angle. Figures use the package's style (:func:`analysis.plots.new_figure`).
"""

# %%
# A network and two minima
# ------------------------
import numpy as np

from analysis.dynamics import gradient_descent
from analysis.plots import new_figure
from analysis.slices import path_between, slice_1d, slice_2d
from landscapes.datasets import teacher_student
from landscapes.nn import MLPLoss
from landscapes.threads import set_threads
from pspin import SphericalPSpin

set_threads(1)
data = teacher_student(n_samples=200, dim=10, hidden=(8,), seed=0)
net = MLPLoss(data, hidden=(16, 16), activation="relu", loss="mse")
run = gradient_descent(
    net,
    net.random_point(seed=1, size=2),
    step=1.0,
    schedule="armijo",
    max_steps=400,
    gtol=1e-5,
    progress=False,
)
x, y = run.x
print(f"{net.dim} parameters; final losses {run.intensive}")

# %%
# Filter normalization makes slices scale-invariant
# -------------------------------------------------
# Multiply the first layer (weights and biases) by c and divide the next layer's weights by c:
# a ReLU network computes the same function, so the loss at the point is unchanged. A raw
# Gaussian direction ("none") sees a different landscape at the two points; the same
# direction filter-normalized ("filter") gives the same slice.
c = 4.0
(w0, w1, b1), (v0, v1, _) = net.layout[0], net.layout[1]
x_scaled = x.copy()
x_scaled[w0:b1] *= c  # layer 1: weights and biases
x_scaled[v0:v1] /= c  # layer 2: weights
print(f"loss at x {net.energy(x):.6f}, at the rescaled x {net.energy(x_scaled):.6f}")

fig, axes = new_figure(ncols=2, width=5.0, height=3.6)
for ax, normalization in zip(axes[0], ["none", "filter"], strict=True):
    for point, label, ls in [
        (x, "x", "-"),
        (x_scaled, f"x rescaled (c = {c:g})", "--"),
    ]:
        s = slice_1d(
            net, point, normalization=normalization, span=(-1, 1), n_points=41, seed=3
        )
        ax.plot(s.alphas, s.energies, ls=ls, lw=1.8, label=label)
    ax.set_xlabel(s.coordinate)
    ax.set_ylabel(f"{s.intensive_name}")
    ax.set_title(f'normalization = "{normalization}"')
    ax.legend(fontsize=8)
fig.tight_layout()

# %%
# A 2-D slice and the path between the two minima
# -----------------------------------------------
# ``slice_2d`` evaluates the grid as batches of replicas (one pass over the data per chunk of
# points). ``path_between`` walks the straight segment from one GD endpoint to the other.
s2 = slice_2d(net, x, span=(-1, 1), n_points=25, seed=4)
path = path_between(net, x, y, n_points=41)
print(
    f"barrier on the segment: {path.barrier:.4f} ({path.intensive_name}), length {path.length:.2f}"
)

fig, axes = new_figure(ncols=2, width=5.0, height=3.8)
ax = axes[0][0]
A, B = np.meshgrid(s2.alphas, s2.betas, indexing="ij")
cs = ax.contourf(A, B, np.log10(s2.energies), levels=25, cmap="viridis")
ax.contour(A, B, np.log10(s2.energies), levels=10, colors="k", linewidths=0.4)
ax.plot([0], [0], "w*", ms=12, mec="k")
fig.colorbar(cs, ax=ax, label=f"log10 {s2.intensive_name}")
ax.set_xlabel("direction 1 (filter-normalized)")
ax.set_ylabel("direction 2")
ax.set_title("2-D slice through a GD endpoint")
ax = axes[0][1]
ax.plot(path.t, path.energies, color="C3", lw=1.8)
ax.set_xlabel("t (0: first endpoint, 1: second)")
ax.set_ylabel(path.intensive_name)
ax.set_title(f"straight path, barrier {path.barrier:.3g}")
fig.tight_layout()

# %%
# The same on the spin glass
# --------------------------
# On the sphere the slice directions are orthonormal tangent vectors and the slices are
# geodesics: the coordinate is the angle (radians) from the point. For the path we descend
# from 8 random starts and join the two *distinct* minima (overlap ``q = x.y / N`` below
# 0.99; two starts may well reach the same minimum) that are closest to each other.
model = SphericalPSpin(N=60, p=3, seed=0)
gd = gradient_descent(
    model,
    model.random_point(seed=1, size=8),
    step=0.2,
    max_steps=2000,
    gtol=1e-4,
    progress=False,
)
q = gd.x @ gd.x.T / model.N
i, j = np.unravel_index(np.argmax(np.where(q < 0.99, q, -np.inf)), q.shape)
m0, m1 = gd.x[i], gd.x[j]
print(
    f"minima at H/N {gd.intensive[i]:.4f} and {gd.intensive[j]:.4f}, overlap {q[i, j]:.3f}"
)
s1 = slice_1d(model, m0, span=(-0.6, 0.6), n_points=61, seed=5)
s2 = slice_2d(model, m0, span=(-0.6, 0.6), n_points=31, seed=5)
arc = path_between(model, m0, m1, n_points=61)

fig, axes = new_figure(ncols=3, width=4.3, height=3.6)
axes[0][0].plot(s1.alphas, s1.energies, lw=1.8)
axes[0][0].set_xlabel(s1.coordinate)
axes[0][0].set_ylabel("H/N")
axes[0][0].set_title("1-D geodesic slice")
A, B = np.meshgrid(s2.alphas, s2.betas, indexing="ij")
cs = axes[0][1].contourf(A, B, s2.energies, levels=25, cmap="viridis")
fig.colorbar(cs, ax=axes[0][1], label="H/N")
axes[0][1].plot([0], [0], "w*", ms=12, mec="k")
axes[0][1].set_xlabel("angle 1 (rad)")
axes[0][1].set_ylabel("angle 2 (rad)")
axes[0][1].set_title("2-D geodesic slice")
axes[0][2].plot(arc.t, arc.energies, color="C3", lw=1.8)
axes[0][2].set_xlabel("t along the great circle")
axes[0][2].set_ylabel("H/N")
axes[0][2].set_title(
    f"between two minima (q = {q[i, j]:.2f}), barrier {arc.barrier:.3f}"
)
fig.tight_layout()
