"""
p-spin glass vs neural networks
===============================

A small version of the comparison of Sagun, Guney, Ben Arous & LeCun, "Explorations on high
dimensional landscapes" (arXiv:1412.6615): run gradient descent from many random starts on

* the p = 3 spherical spin glass :class:`pspin.SphericalPSpin` at two sizes N, and
* a one-hidden-layer network :class:`landscapes.nn.MLPLoss` on the digits data at two widths,

then look at where the descents stop. For the spin glass the endpoints lie above the
threshold energy ``-E_inf`` computed by :mod:`pspin.theory` and move towards it, with a spread
that shrinks, as N grows (the benchmark pages follow this to N = 400).
``landscapes compare`` runs the full study (more sizes, SGD, spectra, overlaps, slices) and
writes a report; this page shows the same measurements through the Python API at sizes that
run in seconds.
"""

# %%
# Gradient descent on the spin glass
# ----------------------------------
# All replicas of one model descend together (one pass over the couplings per step serves
# the whole batch). A replica stops when its RMS Riemannian gradient component
# ``|rgrad H| / sqrt(N)`` is at most ``gtol``; ``converged`` says which did.
import matplotlib.pyplot as plt
import numpy as np

from analysis.dynamics import gradient_descent
from landscapes.datasets import digits
from landscapes.nn import MLPLoss
from landscapes.threads import set_threads
from pspin import SphericalPSpin, theory

set_threads(1)  # small problems: one thread is fastest

e_inf = theory.threshold_energy(3)  # E_inf = 2 sqrt(2/3), ABC convention (per spin)
e_0 = theory.ground_state_energy(3)  # E_0, from the layer equation Theta_0(-E_0) = 0
print(f"threshold -E_inf = {-e_inf:.5f}, ground state -E_0 = {-e_0:.5f} (H/N)")

pspin_runs = {}
for N in (50, 100):
    model = SphericalPSpin(N=N, p=3, seed=0)
    X0 = model.random_point(seed=1, size=32)  # 32 replicas, uniform on |s|^2 = N
    pspin_runs[N] = gradient_descent(
        model, X0, step=0.2, max_steps=1500, gtol=1e-3, record_every=10, progress=False
    )
    r = pspin_runs[N]
    print(
        f"p-spin N = {N}: final H/N mean {r.intensive.mean():+.4f}, sd {r.intensive.std():.4f}, "
        f"{r.converged.mean():.0%} converged"
    )

# %%
# Gradient descent on networks
# ----------------------------
# The same function on a network loss: ``MLPLoss`` is a mean loss over the training samples
# (intensive already, ``scale = 1``), on the Euclidean parameter space. Networks use Armijo
# backtracking from a step of 1.
data = digits(n_train=200, seed=0)
net_runs = {}
for width in (8, 16):
    net = MLPLoss(data, hidden=(width,), activation="tanh", weight_decay=1e-3)
    X0 = net.random_point(seed=2, size=16)  # the standard initialization, 16 replicas
    net_runs[width] = gradient_descent(
        net,
        X0,
        step=1.0,
        schedule="armijo",
        max_steps=600,
        gtol=1e-4,
        record_every=10,
        progress=False,
    )
    r = net_runs[width]
    print(
        f"MLP width {width} ({net.dim} parameters): final loss mean {r.intensive.mean():.4f}, "
        f"sd {r.intensive.std():.4f}, {r.converged.mean():.0%} converged"
    )

# %%
# Where the descents stop
# -----------------------
# Left: final energies per spin of the spin glass, with the threshold and the ground state.
# Middle: final training losses of the networks (one point per replica). Right: learning
# curves (energy vs step), each replica a thin line.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
ax = axes[0]
bins = np.linspace(-1.66, -1.35, 32)
for i, (N, r) in enumerate(pspin_runs.items()):
    ax.hist(r.intensive, bins=bins, color=f"C{i}", alpha=0.6, label=f"N = {N}")
ax.axvline(-e_inf, color="k", ls="--", lw=1, label=r"$-E_\infty$ (threshold)")
ax.axvline(-e_0, color="k", ls=":", lw=1, label=r"$-E_0$ (ground state)")
ax.set_xlabel("final H/N")
ax.set_ylabel("replicas")
ax.set_title("spherical 3-spin: GD endpoints")
ax.legend(fontsize=8)

ax = axes[1]
for i, r in enumerate(net_runs.values()):
    jitter = np.random.default_rng(i).uniform(-0.15, 0.15, r.intensive.size)
    ax.plot(i + jitter, r.intensive, "o", color=f"C{i + 2}", ms=5, alpha=0.8)
ax.set_xticks(range(len(net_runs)), [f"width {w}" for w in net_runs])
ax.set_ylabel("final training loss (mean over samples)")
ax.set_title("MLP on digits: GD endpoints")

ax = axes[2]
for i, (N, r) in enumerate(pspin_runs.items()):
    ax.plot(r.trajectory_steps, r.trajectory_energies, color=f"C{i}", lw=0.5, alpha=0.5)
    ax.plot([], [], color=f"C{i}", label=f"p-spin N = {N}")
ax.axhline(-e_inf, color="k", ls="--", lw=1)
ax.set_xscale("log")
ax.set_xlabel("step")
ax.set_ylabel("H/N")
ax.set_title("learning curves")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Rescaled endpoints
# ------------------
# Sagun et al. compare the *shapes* of the final-value distributions: subtract the mean and
# divide by the standard deviation within each ensemble, then overlay them.
fig, ax = plt.subplots(figsize=(6, 3.8))
bins = np.linspace(-3.5, 3.5, 15)
for label, r in [(f"p-spin N = {N}", r) for N, r in pspin_runs.items()] + [
    (f"MLP width {w}", r) for w, r in net_runs.items()
]:
    z = (r.intensive - r.intensive.mean()) / r.intensive.std()
    ax.hist(z, bins=bins, histtype="step", lw=1.5, density=True, label=label)
ax.set_xlabel("(final value - mean) / sd")
ax.set_ylabel("density")
ax.set_title("final values, centred and scaled")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
