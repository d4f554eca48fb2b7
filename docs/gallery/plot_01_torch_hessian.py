"""
Hessian spectra of your own PyTorch model
=========================================

Any ``torch.nn.Module`` with a loss on fixed data becomes an
:class:`~landscapes.energy.Energy` through :class:`landscapes.torch.TorchLoss`: its flat
parameter vector is the point, gradients come from autograd and Hessian-vector products from
double backpropagation (exact). Every instrument of :mod:`analysis` then works on it. Here we
train a small classifier for a few hundred steps and compare three views of its Hessian:

* the full spectrum by dense ``eigh`` (small models only),
* the top eigenvalues by Lanczos (a few dozen Hessian-vector products),
* the spectral density by stochastic Lanczos quadrature (SLQ), which scales to large models.

This tutorial needs PyTorch (``pip install 'landscapes[torch]'``; see :doc:`/installation`
for the CPU-only build).
"""

# %%
# The model and the data
# ----------------------
import importlib.util

if importlib.util.find_spec("torch") is None:
    raise SystemExit(
        "This tutorial needs PyTorch: pip install 'landscapes[torch]' "
        "(on a machine without a GPU install PyTorch's CPU-only build first)."
    )

import matplotlib.pyplot as plt
import numpy as np
import torch

from analysis.dynamics import gradient_descent
from analysis.spectrum import hessian_eigenvalues, outliers, spectral_density
from landscapes.datasets import gaussian_mixture
from landscapes.threads import set_threads
from landscapes.torch import TorchLoss

# Small models run fastest on one thread (and never fight other processes for cores): the
# package's one thread policy sets BLAS and PyTorch pools together (what ``--threads 1`` does).
set_threads(1)
torch.manual_seed(0)
data = gaussian_mixture(n_classes=3, dim=8, n_samples=300, seed=0)  # 3 Gaussian blobs
model = torch.nn.Sequential(
    torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
)
loss = TorchLoss(model, torch.nn.CrossEntropyLoss(), data.X, data.y, name="blobs")
print(f"{loss.n_params} parameters, {loss.n_samples} samples, manifold {loss.manifold}")

# %%
# Train it with the package's gradient descent
# ---------------------------------------------
# ``random_point`` uses the module's own initialization; any other trainer works too: pass
# ``loss.get_flat()``-style flat parameter vectors to the instruments.
x0 = loss.random_point(seed=1)
run = gradient_descent(loss, x0, step=0.5, max_steps=300, gtol=1e-4, progress=False)
x = run.x[0]
print(
    f"loss {loss.energy(x0):.3f} -> {run.intensive[0]:.4f} after {run.steps[0]} steps"
)

# %%
# Dense spectrum, Lanczos extremes, SLQ density
# ---------------------------------------------
# ``hessian_eigenvalues`` with ``k=None`` diagonalizes the dense Hessian (assembled from
# block Hessian-vector products); ``method="lanczos"`` runs Lanczos (scipy's ``eigsh``) on the
# same operator (the default ``method="auto"`` picks dense for small dimensions). Each result
# reports how many Hessian-vector products it used.
dense = hessian_eigenvalues(loss, x)  # all eigenvalues
top = hessian_eigenvalues(
    loss, x, k=4, which="LA", method="lanczos", seed=0
)  # the 4 largest
print(f"dense: {dense.eigenvalues.size} eigenvalues, {dense.n_hvp} HVPs")
print(f"Lanczos top 4: {np.round(top.eigenvalues, 5)} ({top.n_hvp} HVPs)")
print(f"dense top 4:   {np.round(dense.eigenvalues[-4:], 5)}")
assert np.allclose(top.eigenvalues, dense.eigenvalues[-4:], rtol=1e-6, atol=1e-8)

# A few eigenvalues stand apart from the bulk (for cross-entropy with C classes, typically
# about C - 1 of them; see the spectrum benchmark page). ``outliers`` finds them by the
# largest relative gap among the top eigenvalues.
out = outliers(dense.eigenvalues, n_top=10)
print(
    f"{out.count} outliers above the bulk edge {out.edge:.3g}: {np.round(out.values, 4)}"
)

# %%
# The same spectrum as a density. SLQ uses ``n_probes`` random probes and
# ``lanczos_steps`` Lanczos steps each; its standard error across probes comes with it.
exact = spectral_density(loss, x, method="exact", bandwidth=0.01)
slq = spectral_density(
    loss,
    x,
    method="slq",
    n_probes=10,
    lanczos_steps=40,
    bandwidth=0.01,
    grid=exact.grid,
    seed=0,
)
print(f"SLQ: {slq.n_hvp} HVPs for {slq.dim} dimensions")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
ax.plot(exact.grid, exact.density, color="k", lw=1.5, label="dense eigh (smoothed)")
ax.plot(slq.grid, slq.density, color="C1", lw=1.2, label="SLQ, 10 probes")
ax.fill_between(
    slq.grid,
    slq.density - 2 * slq.density_stderr,
    slq.density + 2 * slq.density_stderr,
    color="C1",
    alpha=0.3,
    label="SLQ ± 2 s.e.",
)
ax.set_yscale("log")
ax.set_ylim(1e-3, None)
ax.set_xlabel("Hessian eigenvalue")
ax.set_ylabel("density")
ax.set_title("spectral density at the trained point")
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(np.arange(1, 21), dense.eigenvalues[::-1][:20], "o", color="k", label="dense")
ax.plot(
    np.arange(1, 5), top.eigenvalues[::-1], "x", color="C3", ms=10, label="Lanczos k=4"
)
ax.axhline(out.edge, color="gray", ls=":", label="bulk edge")
ax.set_yscale("symlog", linthresh=1e-3)
ax.set_xlabel("rank")
ax.set_ylabel("eigenvalue")
ax.set_title("largest 20 eigenvalues")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Bigger models
# -------------
# For models too large for a dense Hessian, use only ``hessian_eigenvalues(..., k=...)``
# and ``spectral_density(..., method="slq")``: their cost is ``k``-ish or
# ``n_probes * lanczos_steps`` Hessian-vector products, each about twice a gradient.
# ``landscapes spectrum mlp`` runs the same measurements from the command line.
