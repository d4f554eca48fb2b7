"""Network energies for the contract battery: one line each, ``name: factory(seed) -> Energy``.

These join every check of :func:`landscapes.testing.check_energy` through
tests/energy_cases.py and tests/test_contract.py.
"""

from __future__ import annotations

from landscapes import datasets
from landscapes.nn import HamiltonianResNet, MLPLoss, ParabolicResNet, SecondOrderResNet

NN_CASES = {
    "mlp-digits-tanh-ce": lambda seed: MLPLoss(
        datasets.digits(n_train=40, seed=seed), hidden=(4,), activation="tanh"
    ),
    "mlp-digits-gelu-ce-wd": lambda seed: MLPLoss(
        datasets.digits(n_train=30, seed=seed), hidden=(3,), activation="gelu", weight_decay=1e-2
    ),
    "mlp-digits-softplus-mse": lambda seed: MLPLoss(
        datasets.digits(scaling="standard", n_train=30, classes=4, seed=seed),
        hidden=(3, 3),
        activation="softplus",
        loss="mse",
    ),
    "mlp-teacher-tanh-mse": lambda seed: MLPLoss(
        datasets.teacher_student(40, dim=5, hidden=(3,), n_outputs=2, noise=0.1, seed=seed),
        hidden=(4, 3),
        loss="mse",
    ),
    "mlp-mixture-relu-ce": lambda seed: MLPLoss(
        datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=30, seed=seed),
        hidden=(5,),
        activation="relu",
    ),
    "mlp-mixture-linear-mse-wd": lambda seed: MLPLoss(
        datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=30, seed=seed),
        hidden=(3, 2),
        activation="linear",
        loss="mse",
        weight_decay=0.1,
    ),
    "rh-parabolic-digits-ce": lambda seed: ParabolicResNet(
        datasets.digits(n_train=30, classes=3, seed=seed), width=3, depth=3, h=0.5
    ),
    "rh-hamiltonian-mixture-ce-wd": lambda seed: HamiltonianResNet(
        datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=30, seed=seed),
        width=3,
        depth=3,
        h=0.5,
        activation="softplus",
        weight_decay=1e-2,
    ),
    "rh-second-order-teacher-mse": lambda seed: SecondOrderResNet(
        datasets.teacher_student(30, dim=4, hidden=(3,), noise=0.1, seed=seed),
        width=4,
        depth=4,
        h=0.5,
        loss="mse",
    ),
}


def _torch_twin(seed):
    from landscapes.torch import torch_mlp

    data = datasets.gaussian_mixture(3, dim=4, separation=3.0, n_samples=30, seed=seed)
    mlp = MLPLoss(data, hidden=(4,), activation="tanh")
    return torch_mlp(mlp)[0]


try:  # PyTorch models join the contract suite when the optional extra is installed
    import torch  # noqa: F401

    NN_CASES["torch-mlp-mixture-tanh-ce"] = _torch_twin
except ImportError:  # pragma: no cover - depends on the environment
    pass
