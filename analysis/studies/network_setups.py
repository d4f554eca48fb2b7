"""The network setups of the landscape study: small datasets and one-hidden-layer MLPs.

:func:`network_model` builds the networks that ``landscapes landscape mlp`` explores
(:mod:`analysis.studies.network_landscapes`, which re-exports these names): XOR-like blobs
(:func:`xor_data`), the k x k checkerboard (:func:`checkerboard_data`, XOR-like data with the
symmetries of the grid), random labels on random inputs (:func:`random_label_data`, no
symmetry) and a digits subset.
"""

from __future__ import annotations

import numpy as np

from landscapes.random import SeedLike, as_generator, as_seed_sequence, child

__all__ = ["DATASETS", "xor_data", "checkerboard_data", "random_label_data", "network_model"]

DATASETS = ("xor", "checkerboard", "digits", "random")


# ----------------------------------------------------------------------------- setups
def xor_data(n_per_corner: int = 10, noise: float = 0.3, seed: SeedLike = 0):
    """XOR-like data: Gaussian blobs (std ``noise``) at the corners (+-1, +-1), label = XOR.

    Returns a :class:`landscapes.datasets.Dataset` (classification, 2 classes, 2 features).
    """
    from landscapes.datasets import from_arrays

    if int(n_per_corner) < 1 or noise < 0:
        raise ValueError(f"n_per_corner must be >= 1 and noise >= 0; got {n_per_corner}, {noise}")
    rng = as_generator(seed)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    X = np.repeat(corners, int(n_per_corner), axis=0)
    X = X + noise * rng.standard_normal(X.shape)
    y = np.repeat([0, 1, 1, 0], int(n_per_corner))
    return from_arrays(X, y, name="xor")


def checkerboard_data(k: int = 4):
    """The k x k checkerboard on [-1, 1]^2 (labels alternate; ``k = 2`` is XOR), noise-free."""
    from landscapes.datasets import from_arrays

    if int(k) < 2:
        raise ValueError(f"k must be >= 2; got {k}")
    g = np.linspace(-1.0, 1.0, int(k))
    A, B = np.meshgrid(g, g)
    X = np.c_[A.ravel(), B.ravel()]
    y = ((np.arange(k)[:, None] + np.arange(k)[None, :]) % 2).ravel()
    return from_arrays(X, y, name=f"checkerboard{k}")


def random_label_data(n: int = 16, classes: int = 2, seed: SeedLike = 0):
    """Random labels on random inputs: ``n`` points of N(0, I_2), labels uniform in 0..C-1.

    Unlike :func:`checkerboard_data` the data have no symmetry (reflections, rotations,
    label swaps), so distinct minima of a network on them are not images of each other and
    their losses differ. The stream is ``child(seed, "model")``.
    Returns a :class:`landscapes.datasets.Dataset` (classification, ``classes`` classes).
    """
    from landscapes.datasets import from_arrays

    if int(n) < 2 or int(classes) < 2:
        raise ValueError(f"n must be >= 2 and classes >= 2; got {n}, {classes}")
    rng = as_generator(child(as_seed_sequence(seed), "model"))
    X = rng.standard_normal((int(n), 2))
    y = rng.integers(0, int(classes), size=int(n))
    return from_arrays(X, y, n_classes=int(classes), name=f"random{int(n)}")


def network_model(
    dataset: str = "xor",
    hidden: int = 4,
    weight_decay: float = 1e-3,
    *,
    activation: str = "tanh",
    loss: str = "mse",
    n_train: int = 30,
    classes: int = 3,
    k: int = 4,
    seed: SeedLike = 0,
):
    """A one-hidden-layer :class:`landscapes.nn.MLPLoss` on one of the study's datasets.

    ``"xor"``: :func:`xor_data` (``n_train // 4`` points per corner); ``"checkerboard"``:
    :func:`checkerboard_data` (``k``); ``"digits"``: a stratified subset of ``n_train``
    scikit-learn digits of the first ``classes`` classes (64 features, pixels / 16);
    ``"random"``: :func:`random_label_data` (``n_train`` points, ``classes`` classes).
    """
    from landscapes.datasets import digits
    from landscapes.nn import MLPLoss

    if dataset == "xor":
        data = xor_data(max(1, int(n_train) // 4), seed=seed)
    elif dataset == "checkerboard":
        data = checkerboard_data(k)
    elif dataset == "digits":
        data = digits(n_train=n_train, classes=classes, seed=seed)
    elif dataset == "random":
        data = random_label_data(n_train, classes, seed=seed)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}; got {dataset!r}")
    return MLPLoss(
        data, hidden=(int(hidden),), activation=activation, loss=loss, weight_decay=weight_decay
    )
