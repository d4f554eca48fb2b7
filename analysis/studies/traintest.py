"""Concentration of the test loss with width (Choromanska, Henaff, Mathieu, Ben Arous & LeCun 2015).

Choromanska et al. trained one-hidden-layer ReLU networks on (downsampled) MNIST from ~1,000
initializations per width and found that the test losses concentrate as the width grows
(narrower histograms, like the spin glass's), that the correlation between train and test loss
falls with width, and that simulated annealing reaches the same band as SGD.

Scaled-down protocol (``shared/reference/networks-and-meanfield.md`` §2): digits (1,000
train / 797 test, one fixed stratified split), network 64-h-10 with ReLU units and
cross-entropy, ``h`` in ``widths``; per width ``seeds`` initializations trained by SGD (batch
32, fixed step, ``epochs`` epochs), each replica with its own shuffling stream. Measured per
width: mean and sd of the final test loss (with the sd's standard error under normality,
``sd / sqrt(2 (n - 1))``), the Pearson correlation of train and test loss (with a 95% Fisher
interval), and, for ``anneal_widths``, simulated annealing (:func:`analysis.annealing.
simulated_annealing`, MALA proposals, geometric cooling) from the same initializations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.annealing import simulated_annealing
from analysis.dynamics import sgd
from analysis.store import stored
from landscapes.random import SeedLike, as_seed_sequence, child, seed_info

__all__ = ["TrainTestStudy", "train_test_concentration", "pearson_interval"]


def pearson_interval(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Fisher-z confidence interval of a Pearson correlation ``r`` from ``n`` pairs."""
    from scipy import stats

    if n < 4 or not np.isfinite(r):
        return (math.nan, math.nan)
    z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
    half = float(stats.norm.ppf(0.5 + level / 2)) / math.sqrt(n - 3)
    return (math.tanh(z - half), math.tanh(z + half))


@dataclass(frozen=True)
class TrainTestStudy:
    """Final train and test losses per width, for SGD and simulated annealing.

    Attributes
    ----------
    runs : list of dict
        One row per run: ``method`` ("sgd" / "sa"), ``width``, ``replica``, ``train``, ``test``
        (mean cross-entropy), ``test_accuracy``.
    summary : list of dict
        One row per (method, width): ``n``, ``train_mean``, ``train_sd``, ``test_mean``,
        ``test_sd``, ``test_sd_se``, ``r`` (train-test Pearson), ``r_lo``, ``r_hi``,
        ``r_pvalue``.
    params : dict
    seed : dict
    """

    runs: list[dict]
    summary: list[dict]
    params: dict = field(default_factory=dict)
    seed: dict = field(default_factory=dict)

    def values(self, method: str, key: str) -> dict[int, np.ndarray]:
        """``{width: array of key}`` over the runs of ``method``."""
        out: dict[int, list] = {}
        for r in self.runs:
            if r["method"] == method:
                out.setdefault(r["width"], []).append(r[key])
        return {w: np.asarray(v) for w, v in sorted(out.items())}


def _summary(runs: list[dict]) -> list[dict]:
    from scipy import stats

    groups: dict[tuple, list] = {}
    for r in runs:
        groups.setdefault((r["method"], r["width"]), []).append(r)
    rows = []
    for (method, width), rs in sorted(groups.items()):
        tr = np.array([r["train"] for r in rs])
        te = np.array([r["test"] for r in rs])
        n = tr.size
        if n >= 3 and tr.std() > 0 and te.std() > 0:
            pr = stats.pearsonr(tr, te)
            r, p = float(pr.statistic), float(pr.pvalue)
        else:
            r, p = math.nan, math.nan
        lo, hi = pearson_interval(r, n)
        sd = float(te.std(ddof=1)) if n > 1 else math.nan
        rows.append(
            {
                "method": method,
                "width": int(width),
                "n": int(n),
                "train_mean": float(tr.mean()),
                "train_sd": float(tr.std(ddof=1)) if n > 1 else math.nan,
                "test_mean": float(te.mean()),
                "test_sd": sd,
                "test_sd_se": sd / math.sqrt(2 * (n - 1)) if n > 1 else math.nan,
                "test_accuracy_mean": float(np.mean([r["test_accuracy"] for r in rs])),
                "r": r,
                "r_lo": lo,
                "r_hi": hi,
                "r_pvalue": p,
            }
        )
    return rows


def train_test_concentration(
    widths: Sequence[int] = (4, 8, 16, 32, 64, 128),
    *,
    seeds: int = 50,
    epochs: int = 100,
    step: float = 0.05,
    batch_size: int = 32,
    n_test: int = 797,
    anneal_widths: Sequence[int] = (8, 32, 128),
    anneal_seeds: int = 10,
    anneal_steps: int = 1000,
    anneal_t: tuple[float, float] = (1e-3, 1e-6),
    seed: SeedLike = 0,
    progress: bool | None = None,
    store=None,
) -> TrainTestStudy:
    """Spread of the test loss and train-test correlation against width; SA beside SGD.

    Streams: the digits split ``child(seed, "model")``; initializations of width ``h``
    ``child(seed, "starts", h)`` (the first ``anneal_seeds`` of them also start SA); SGD
    shuffles ``child(seed, 2, h)``; SA proposals ``child(seed, 3, h)``. With ``store`` (a
    RunFolder) each (method, width) is stored as it finishes and read back on a resumed run
    (:func:`analysis.store.stored`).
    """
    from landscapes.datasets import digits
    from landscapes.nn import MLPLoss

    widths = [int(w) for w in widths]
    anneal_widths = [int(w) for w in anneal_widths]
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be positive integers; got {widths}")
    if seeds < 2 or epochs < 1:
        raise ValueError(f"seeds must be >= 2 and epochs >= 1; got {seeds}, {epochs}")
    if anneal_widths and (anneal_seeds < 2 or anneal_steps < 1):
        raise ValueError("anneal_seeds must be >= 2 and anneal_steps >= 1")
    root = as_seed_sequence(seed)
    data = digits("unit", test_size=n_test, seed=child(root, "model"))
    runs: list[dict] = []

    def losses(loss, X) -> dict[str, np.ndarray]:
        return {
            "train": np.asarray(loss.energy(X)),
            "test": np.asarray(loss.split_loss(X, "test")),
            "acc": np.asarray(loss.accuracy(X, "test"), dtype=float),
        }

    def run_sgd(loss, x0, h):
        res = sgd(
            loss,
            x0[:seeds],
            batch_size=batch_size,
            step=step,
            epochs=epochs,
            seed=child(root, 2, h),
            progress=progress,
        )
        return losses(loss, res.x)

    def run_sa(loss, x0, h):
        sa = simulated_annealing(
            loss,
            x0[:anneal_seeds],
            n_steps=anneal_steps,
            t_start=anneal_t[0],
            t_end=anneal_t[1],
            proposal="mala",
            step=0.5 / loss.dim,
            seed=child(root, 3, h),
            progress=progress,
        )
        return losses(loss, sa.x)

    common = dict(seed=seed_info(root), n_test=n_test, data=data.fingerprint)
    for h in sorted(set(widths) | set(anneal_widths)):
        loss = MLPLoss(data, hidden=(h,), activation="relu", loss="cross_entropy")
        x0 = loss.random_point(child(root, "starts", h), size=max(seeds, anneal_seeds))
        todo = []
        if h in widths:
            key = dict(common, task="traintest_sgd", width=h, seeds=seeds, epochs=epochs)
            key.update(step=step, batch_size=batch_size)
            todo.append(("sgd", key, run_sgd))
        if h in anneal_widths:
            key = dict(common, task="traintest_sa", width=h, seeds=anneal_seeds)
            key.update(steps=anneal_steps, t=list(anneal_t))
            todo.append(("sa", key, run_sa))
        for method, key, fn in todo:
            a = stored(store, key, lambda fn=fn, loss=loss, x0=x0, h=h: fn(loss, x0, h))
            for k in range(a["train"].size):
                runs.append(
                    {
                        "method": method,
                        "width": h,
                        "replica": k,
                        "train": float(a["train"][k]),
                        "test": float(a["test"][k]),
                        "test_accuracy": float(a["acc"][k]),
                    }
                )
    params = dict(
        widths=widths,
        seeds=seeds,
        epochs=epochs,
        step=step,
        batch_size=batch_size,
        n_train=data.n_samples,
        n_test=n_test,
        network="64-h-10 relu, cross-entropy, digits (pixels / 16)",
        anneal_widths=anneal_widths,
        anneal_seeds=anneal_seeds,
        anneal_steps=anneal_steps,
        anneal_t=list(anneal_t),
        anneal_proposal="mala, geometric cooling, step 0.5/dim adapted to 57% acceptance",
    )
    return TrainTestStudy(runs=runs, summary=_summary(runs), params=params, seed=seed_info(root))
