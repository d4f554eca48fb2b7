"""
Critical points: a census against Kac–Rice
==========================================

How many critical points does a random energy have, of which index, at which energy? For the
spherical p-spin glass the mean number is known exactly at every N (Auffinger, Ben Arous &
Černý 2013, a Kac–Rice identity; :func:`pspin.theory.kac_rice_mean` evaluates it by
deterministic quadrature). :func:`analysis.critical.census` finds the critical points of one
energy instance by batched Newton-type searches from random starts, verifies each one
(gradient below tolerance, non-degenerate Hessian, index = number of negative eigenvalues),
removes duplicates and stops when a completeness certificate holds (the Morse sum
``sum_k (-1)^k n_k`` equals the Euler characteristic of the sphere, counts symmetric in k for
odd p, and no new point in the last half of the starts).

:func:`analysis.critical.census_ensemble` repeats the census over disorder samples and sets the
mean counts, with standard errors, beside a theory curve. Here: p = 3, N = 6, ten disorder
samples (the benchmark page "Critical points" uses 20 samples at N = 8 and 10). The counts
fluctuate strongly from sample to sample (a standard deviation of about a fifth of the mean),
so a handful of samples gives rough error bars: read the z-scores below with that in mind.
"""

# %%
# The exact mean counts
# ---------------------
import matplotlib.pyplot as plt
import numpy as np

from analysis.critical import census_ensemble
from landscapes.threads import set_threads
from pspin import SphericalPSpin, theory

set_threads(1)
N, p = 6, 3
kr = theory.kac_rice_mean(N, p)  # all indices at once, exact quadrature
print(
    f"E[number of critical points], N = {N}, p = {p}: {kr.mean:.4f} (+- {kr.error:.1e})"
)
print("by index k = 0..N-1:", np.round(kr.by_index, 3))

# %%
# Census over disorder samples
# ----------------------------
# ``make_energy(seed)`` builds one disorder sample; each sample's search gets its own stream
# spawned from ``census_seed``, so the whole ensemble is reproducible from two seeds.
ens = census_ensemble(
    lambda seed: SphericalPSpin(N=N, p=p, seed=seed),
    seeds=range(10),
    theory=kr.by_index,
    census_seed=0,
    progress=False,
)
print("complete (certificate held) in every sample:", bool(np.all(ens.complete)))
for k in range(len(ens.mean)):
    print(
        f"index {k}: census {ens.mean[k]:6.2f} +- {ens.stderr[k]:4.2f}   "
        f"Kac-Rice {ens.theory[k]:7.3f}   z = {ens.z[k]:+.2f}"
    )
print(
    f"total:   census {ens.total_mean:.1f} +- {ens.total_stderr:.1f}, "
    f"Kac-Rice {ens.theory_total:.2f}"
)

# %%
# Counts by index, and where the points lie in energy
# ---------------------------------------------------
# The energies of critical points are layered by index (Auffinger–Ben Arous–Černý): with
# high probability no point of index k lies below ``-E_k`` per spin as N grows. At N = 6 the
# layers are blurred, but the ordering shows: minima lowest, then index 1, and so on.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
ax = axes[0]
k = np.arange(len(ens.mean))
ax.bar(k, kr.by_index, color="0.85", edgecolor="0.5", label="Kac–Rice (exact mean)")
ax.errorbar(
    k,
    ens.mean,
    yerr=2 * ens.stderr,
    fmt="o",
    color="C3",
    capsize=3,
    label=f"census, mean ± 2 s.e. ({len(ens.counts)} samples)",
)
ax.set_xlabel("index k")
ax.set_ylabel("number of critical points")
ax.set_title(f"spherical {p}-spin, N = {N}")
ax.legend(fontsize=8, loc="upper left")

ax = axes[1]
lo, hi = ens.energy_bins[:-1], ens.energy_bins[1:]
centres = 0.5 * (lo + hi)
per_index = ens.counts_by_index_energy.mean(axis=0)  # (index, energy bin)
for kk in range(3):
    ax.plot(centres, per_index[kk], "o-", ms=3, label=f"index {kk}")
ax.axvline(-theory.threshold_energy(p), color="k", ls="--", lw=1, label=r"$-E_\infty$")
ax.axvline(-theory.ground_state_energy(p), color="k", ls=":", lw=1, label=r"$-E_0$")
ax.set_xlabel("H/N")
ax.set_ylabel("mean count per energy bin")
ax.set_title("low-index critical points by energy")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
