"""Small datasets for network losses: bundled digits, teacher-student and Gaussian mixtures.

Every constructor returns a frozen :class:`Dataset` (read-only arrays, a name, the task and
the held-out part). Every random choice takes ``seed`` (int | SeedSequence | Generator |
None), so a dataset is reproducible from its seed, and its ``fingerprint`` identifies it in
run folders.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.nn.layers import ACTIVATION_FUNCS, init_std, mlp_outputs, split_layout
from landscapes.random import SeedLike, as_generator, as_seed_sequence, seed_info

__all__ = [
    "DIGITS_CLASSES",
    "Dataset",
    "check_classes",
    "digits",
    "teacher_student",
    "gaussian_mixture",
    "from_arrays",
    "dataset_spec",
    "data_seed_record",
    "from_spec",
]

_TASKS = ("classification", "regression")

#: Number of classes in the bundled digits (0..9).
DIGITS_CLASSES = 10


def check_classes(dataset: str, classes, *, dim: int | None = None) -> int:
    """``classes`` validated against what ``dataset`` holds (ValueError naming the range).

    ``"digits"`` has :data:`DIGITS_CLASSES` classes, so 2..10 may be kept; a
    ``"gaussian_mixture"`` (``"mixture"``) of equidistant means needs 2..``dim`` classes.
    Call it before a model or a run folder is made, so a request for more classes than the
    data has is refused instead of silently training on fewer and recording the request.
    """
    if dataset == "digits":
        hi = DIGITS_CLASSES
    elif dataset in ("gaussian_mixture", "mixture"):
        hi = None if dim is None else check_int(dim, "dim", minimum=2)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose digits or gaussian_mixture")
    n = check_int(classes, "classes", minimum=2)
    if hi is not None and n > hi:
        what = "the digits have" if dataset == "digits" else f"dim = {hi} allows"
        raise ValueError(f"classes must lie in 2..{hi} ({what} {hi}); got {n}")
    return n


def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """A small supervised dataset: training arrays, held-out arrays, and what they mean.

    Attributes
    ----------
    X : ndarray (n, d)
        Training inputs (float64, read-only).
    y : ndarray
        Training targets: integer labels 0..n_classes-1 of shape (n,) for classification,
        real targets of shape (n,) or (n, m) for regression (read-only).
    task : {"classification", "regression"}
    n_classes : int or None
        Number of classes (None for regression).
    name : str
        Short name recorded in run folders.
    X_test, y_test : ndarray or None
        The held-out part (same conventions), or None.
    info : dict
        JSON-able description (constructor parameters, seed record, extras such as the
        teacher's architecture).
    teacher : ndarray or None
        Flat teacher parameters (:func:`teacher_student` only), in the layout of
        :class:`landscapes.nn.MLPLoss` with the architecture in ``info``.
    recipe : dict or None
        How to rebuild it: ``{"name": constructor, "params": keyword arguments, "seed":
        seed record}`` (see :func:`dataset_spec`); None for :func:`from_arrays` data. Not
        part of the fingerprint.
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    n_classes: int | None
    name: str
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    teacher: np.ndarray | None = None
    recipe: dict | None = None

    @property
    def n_samples(self) -> int:
        """Number of training samples."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Input dimension d."""
        return int(self.X.shape[1])

    @property
    def n_outputs(self) -> int:
        """Network output width: n_classes for classification, target width for regression."""
        if self.task == "classification":
            return int(self.n_classes)
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    @property
    def n_test(self) -> int:
        """Number of held-out samples (0 when there is no held-out part)."""
        return 0 if self.X_test is None else int(self.X_test.shape[0])

    def targets(self, loss: str, split: str = "train") -> np.ndarray:
        """Targets in the form a loss needs.

        ``"cross_entropy"``: integer labels (n,) (classification only); ``"mse"``: a real
        (n, m) array (one-hot rows for classification).
        """
        y = self._split(split)[1]
        if loss == "cross_entropy":
            if self.task != "classification":
                raise ValueError("the cross_entropy loss needs a classification dataset")
            return y
        if loss == "mse":
            if self.task == "classification":
                return np.eye(int(self.n_classes))[y]
            return y[:, None] if y.ndim == 1 else y
        raise ValueError(f"unknown loss {loss!r}; choose 'cross_entropy' or 'mse'")

    def arrays(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets ``(X, y)`` of the ``"train"`` or ``"test"`` part (read-only)."""
        return self._split(split)

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.X, self.y
        if split == "test":
            if self.X_test is None:
                raise ValueError(f"dataset {self.name!r} has no held-out (test) part")
            return self.X_test, self.y_test
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")

    def params(self) -> dict:
        """JSON-able description (name, task, sizes, constructor parameters)."""
        return {
            "name": self.name,
            "task": self.task,
            "n_classes": self.n_classes,
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "n_test": self.n_test,
            **self.info,
        }

    def fingerprint_payload(self) -> list[bytes]:
        """Byte strings of the arrays (for energy fingerprints)."""
        out = [self.X.tobytes(), self.y.tobytes()]
        if self.X_test is not None:
            out += [self.X_test.tobytes(), self.y_test.tobytes()]
        return out

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the description and the arrays."""
        h = hashlib.sha256(json.dumps(self.params(), sort_keys=True, default=str).encode())
        for chunk in self.fingerprint_payload():
            h.update(chunk)
        return h.hexdigest()

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, task={self.task!r}, n={self.n_samples}, "
            f"d={self.n_features}, n_classes={self.n_classes}, n_test={self.n_test})"
        )


# ----------------------------------------------------------------------------- validation
def _check_inputs(X, name: str) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_samples, n_features); got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_y(y, n: int, task: str, n_classes: int | None, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.shape[:1] != (n,):
        raise ValueError(
            f"X and {name} have different lengths: {n} samples in X, shape {arr.shape} for {name}"
        )
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == bool
    ):
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}")
    if task == "classification":
        if arr.ndim != 1:
            raise ValueError(f"classification labels {name} must have shape (n,); got {arr.shape}")
        f = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(f)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if not np.all(f == np.round(f)):
            raise ValueError(f"classification labels {name} must be integers 0..C-1")
        lab = f.astype(np.int64)
        if lab.min() < 0 or lab.max() >= n_classes:
            raise ValueError(
                f"labels {name} must lie in 0..{n_classes - 1} (n_classes={n_classes}); "
                f"got values in {lab.min()}..{lab.max()}"
            )
        return lab
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"regression targets {name} must have shape (n,) or (n, m); got {arr.shape}"
        )
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"regression targets {name} are empty (shape {arr.shape})")
    f = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return f


def from_arrays(
    X,
    y,
    task: str = "classification",
    *,
    X_test=None,
    y_test=None,
    n_classes: int | None = None,
    name: str = "arrays",
) -> Dataset:
    """A Dataset from user arrays, validated.

    Parameters
    ----------
    X : array (n, d)
        Inputs (finite reals).
    y : array
        Integer labels 0..C-1 (classification) or real targets (n,) / (n, m) (regression).
    task : {"classification", "regression"}
    X_test, y_test : arrays, optional
        Held-out part (both or neither).
    n_classes : int, optional
        Number of classes (default: 1 + the largest label in y and y_test).
    name : str
        Name recorded in run folders.

    Raises
    ------
    ValueError
        Empty data, NaN/inf, lengths that differ, labels outside 0..C-1, unknown task.
    """
    if task not in _TASKS:
        raise ValueError(f"unknown task {task!r}; choose 'classification' or 'regression'")
    Xa = _check_inputs(X, "X")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    Xt = None if X_test is None else _check_inputs(X_test, "X_test")
    if Xt is not None and Xt.shape[1] != Xa.shape[1]:
        raise ValueError(f"X_test has {Xt.shape[1]} features but X has {Xa.shape[1]}")
    if task == "classification":
        if n_classes is None:
            ys = [np.asarray(y)] + ([] if y_test is None else [np.asarray(y_test)])
            try:
                mx = max(int(np.max(v)) for v in ys if v.size)
            except (TypeError, ValueError):
                mx = 0
            n_classes = max(mx + 1, 1)
        n_classes = check_int(n_classes, "n_classes", minimum=1)
    else:
        if n_classes is not None:
            raise ValueError("n_classes is only meaningful for task='classification'")
    ya = _check_y(y, Xa.shape[0], task, n_classes, "y")
    yt = None if Xt is None else _check_y(y_test, Xt.shape[0], task, n_classes, "y_test")
    if yt is not None and task == "regression" and ya.shape[1:] != yt.shape[1:]:
        raise ValueError(f"y has target shape {ya.shape[1:]} but y_test has {yt.shape[1:]}")
    return Dataset(
        X=_readonly(Xa),
        y=_readonly(ya),
        task=task,
        n_classes=n_classes,
        name=str(name),
        X_test=_readonly(Xt),
        y_test=_readonly(yt),
        info={"source": "arrays"},
    )


# ----------------------------------------------------------------------------- splits
def _stratified_split(y: np.ndarray, test_size: float | int, rng: np.random.Generator):
    """Indices (train, test), stratified by label, each sorted; test_size fraction or count."""
    n = y.shape[0]
    if isinstance(test_size, int | np.integer) and not isinstance(test_size, bool):
        n_test = int(test_size)
        if not 0 <= n_test < n:
            raise ValueError(f"test_size must be in 0..{n - 1} samples; got {test_size}")
        frac = n_test / n
    else:
        frac = float(test_size)
        if not 0.0 <= frac < 1.0:
            raise ValueError(f"test_size must be a fraction in [0, 1) or a count; got {test_size}")
        n_test = int(round(frac * n))
    classes, counts = np.unique(y, return_counts=True)
    # per-class test counts by largest remainder, so the total is exactly n_test
    raw = counts * (n_test / n) if n else counts * 0.0
    take = np.floor(raw).astype(int)
    rest = n_test - take.sum()
    if rest > 0:
        order = np.argsort(-(raw - take), kind="stable")
        take[order[:rest]] += 1
    test = []
    for c, t in zip(classes, take, strict=True):
        members = np.flatnonzero(y == c)
        test.append(rng.permutation(members)[:t])
    test_idx = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=int)
    mask = np.ones(n, dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask), test_idx


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits (pixels 0..16, labels), loaded once per process, read-only."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    X = raw.data.astype(np.float64)
    y = raw.target.astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def digits(
    scaling: str = "unit",
    test_size: float | int = 0.25,
    seed: SeedLike = 0,
    *,
    n_train: int | None = None,
    classes: int | None = None,
) -> Dataset:
    """scikit-learn's bundled handwritten digits (1,797 8x8 images, 64 features, 10 classes).

    Parameters
    ----------
    scaling : {"unit", "standard"}
        ``"unit"``: pixels divided by 16 (into [0, 1]); ``"standard"``: each pixel centred
        and divided by its training-set standard deviation (constant pixels are only
        centred), the same map applied to the test part.
    test_size : float or int
        Held-out fraction (or count), drawn per class (stratified split).
    seed : seed-like
        Seed of the split and of the ``n_train`` subsample.
    n_train : int, optional
        Keep a stratified subsample of this many training samples (small problems).
    classes : int, optional
        Keep only the digits 0..classes-1 (2..10).
    """
    if scaling not in ("unit", "standard"):
        raise ValueError(f"unknown scaling {scaling!r}; choose 'unit' or 'standard'")
    ss = as_seed_sequence(seed)
    rng = as_generator(ss)
    X, y = _digits_arrays()
    n_cls = 10
    if classes is not None:
        n_cls = check_classes("digits", classes)
        keep = y < n_cls
        X, y = X[keep], y[keep]
    tr, te = _stratified_split(y, test_size, rng)
    if n_train is not None:
        n_train = check_int(n_train, "n_train", minimum=n_cls)
        if n_train > tr.size:
            raise ValueError(f"n_train must be <= {tr.size} (the training part); got {n_train}")
        sub, _ = _stratified_split(y[tr], tr.size - n_train, rng)
        tr = tr[sub]
    Xtr, Xte = X[tr], X[te]
    if scaling == "unit":
        Xtr, Xte = Xtr / 16.0, Xte / 16.0
    else:
        mu = Xtr.mean(axis=0)
        sd = Xtr.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    has_test = te.size > 0
    return Dataset(
        X=_readonly(Xtr),
        y=_readonly(y[tr]),
        task="classification",
        n_classes=n_cls,
        name="digits",
        X_test=_readonly(Xte) if has_test else None,
        y_test=_readonly(y[te]) if has_test else None,
        info={
            "source": "sklearn.load_digits",
            "scaling": scaling,
            "test_size": test_size,
            "n_train": n_train,
            "classes": n_cls,
            "seed": seed_info(ss),
        },
        recipe=_recipe(
            "digits",
            {"scaling": scaling, "test_size": test_size, "n_train": n_train, "classes": classes},
            ss,
        ),
    )


def gaussian_mixture(
    n_classes: int = 3,
    dim: int = 16,
    separation: float = 4.0,
    n_samples: int = 300,
    seed: SeedLike = 0,
    *,
    n_test: int = 0,
) -> Dataset:
    """C isotropic unit-variance Gaussian classes in d dimensions, means ``separation`` apart.

    The class means are ``separation / sqrt(2)`` times C orthonormal random directions, so
    every pair of means is exactly ``separation`` apart (in units of the noise standard
    deviation); needs ``n_classes <= dim``. Classes are balanced (sizes differ by at most
    one) and the samples are shuffled.
    """
    C = check_int(n_classes, "n_classes", minimum=2)
    d = check_int(dim, "dim", minimum=1)
    if C > d:
        raise ValueError(f"n_classes ({C}) must be <= dim ({d}) for equidistant class means")
    sep = check_positive(separation, "separation", allow_zero=True)
    n = check_int(n_samples, "n_samples", minimum=C)
    nt = check_int(n_test, "n_test", minimum=0)
    ss = as_seed_sequence(seed)
    rng = as_generator(ss)
    Q, _ = np.linalg.qr(rng.standard_normal((d, C)))
    means = (sep / np.sqrt(2.0)) * Q.T  # (C, d)

    def draw(m):
        y = np.arange(m) % C
        y = rng.permutation(y)
        return means[y] + rng.standard_normal((m, d)), y.astype(np.int64)

    X, y = draw(n)
    Xt, yt = draw(nt) if nt else (None, None)
    return Dataset(
        X=_readonly(X),
        y=_readonly(y),
        task="classification",
        n_classes=C,
        name="gaussian_mixture",
        X_test=_readonly(Xt),
        y_test=_readonly(yt),
        info={
            "source": "gaussian_mixture",
            "separation": sep,
            "means": means.tolist() if C * d <= 4096 else None,
            "seed": seed_info(ss),
        },
        recipe=_recipe(
            "gaussian_mixture",
            {"n_classes": C, "dim": d, "separation": sep, "n_samples": n, "n_test": nt},
            ss,
        ),
    )


def teacher_student(
    n_samples: int = 500,
    dim: int = 10,
    hidden: tuple[int, ...] = (8,),
    activation: str = "tanh",
    n_outputs: int = 1,
    noise: float = 0.0,
    seed: SeedLike = 0,
    *,
    n_test: int = 0,
) -> Dataset:
    """Gaussian inputs labelled by a random teacher network (a regression task).

    Inputs are iid N(0, I_d); the teacher is an MLP ``dim-hidden-n_outputs`` with the given
    activation and its standard random initialization (as
    :meth:`landscapes.nn.MLPLoss.random_point`, biases drawn N(0, 0.1^2) so they matter);
    targets are the teacher's outputs plus ``noise`` times iid N(0, 1). A student
    ``MLPLoss(data, hidden=hidden, activation=activation, loss="mse")`` has zero loss at
    ``data.teacher`` when ``noise == 0``.
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    d = check_int(dim, "dim", minimum=1)
    m = check_int(n_outputs, "n_outputs", minimum=1)
    nt = check_int(n_test, "n_test", minimum=0)
    hidden = tuple(check_int(h, "hidden width", minimum=1) for h in hidden)
    if activation not in ACTIVATION_FUNCS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {sorted(ACTIVATION_FUNCS)}"
        )
    sigma = check_positive(noise, "noise", allow_zero=True)
    ss = as_seed_sequence(seed)
    rng = as_generator(ss)
    sizes = (d, *hidden, m)
    layout = split_layout(sizes)
    theta = np.zeros(layout[-1][-1])
    for i, (w0, w1, b1) in enumerate(layout):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        std = init_std(activation, fan_in, fan_out)
        theta[w0:w1] = std * rng.standard_normal(w1 - w0)
        theta[w1:b1] = 0.1 * rng.standard_normal(b1 - w1)
    X = rng.standard_normal((n, d))
    Xt = rng.standard_normal((nt, d)) if nt else None

    def label(A):
        out = mlp_outputs(theta, sizes, activation, A)
        return out + sigma * rng.standard_normal(out.shape)

    y = label(X)
    yt = label(Xt) if nt else None
    if m == 1:
        y = y[:, 0]
        yt = None if yt is None else yt[:, 0]
    return Dataset(
        X=_readonly(X),
        y=_readonly(y),
        task="regression",
        n_classes=None,
        name="teacher_student",
        X_test=_readonly(Xt),
        y_test=_readonly(yt),
        info={
            "source": "teacher_student",
            "teacher_hidden": list(hidden),
            "teacher_activation": activation,
            "noise": sigma,
            "seed": seed_info(ss),
        },
        teacher=_readonly(theta),
        recipe=_recipe(
            "teacher_student",
            {
                "n_samples": n,
                "dim": d,
                "hidden": list(hidden),
                "activation": activation,
                "n_outputs": m,
                "noise": sigma,
                "n_test": nt,
            },
            ss,
        ),
    )


# ----------------------------------------------------------------------------- specs
_CONSTRUCTORS = {
    "digits": digits,
    "gaussian_mixture": gaussian_mixture,
    "teacher_student": teacher_student,
}


def _recipe(name: str, params: dict, ss: np.random.SeedSequence) -> dict:
    return {"name": name, "params": params, "seed": seed_info(ss)}


def data_seed_record(data: Dataset) -> dict | None:
    """Seed record of the data's random choices, or None for data given as arrays."""
    return None if data.recipe is None else json.loads(json.dumps(data.recipe["seed"]))


def dataset_spec(data: Dataset) -> dict:
    """JSON-able recipe of a dataset: constructor name, its keyword arguments, seed record.

    Raises a ValueError for data given as arrays (:func:`from_arrays`), which have none.
    """
    if data.recipe is None:
        raise ValueError(
            f"dataset {data.name!r} was given as arrays and has no spec; only the bundled "
            f"and synthetic datasets ({', '.join(_CONSTRUCTORS)}) can be rebuilt from one"
        )
    return json.loads(json.dumps(data.recipe))


def from_spec(spec: dict, seed: np.random.SeedSequence | None = None) -> Dataset:
    """Rebuild a dataset from :func:`dataset_spec` (same seed, same arrays).

    ``seed`` (a SeedSequence) replaces the spec's seed record when given (model specs keep
    the data seed at their top level).
    """
    from landscapes.random import seed_from_info

    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"a dataset spec must be a dict with a 'name' entry; got {spec!r}")
    ctor = _CONSTRUCTORS.get(spec["name"])
    if ctor is None:
        raise ValueError(
            f"unknown dataset {spec['name']!r} in spec; choose one of {', '.join(_CONSTRUCTORS)}"
        )
    params = dict(spec.get("params", {}))
    if "hidden" in params:
        params["hidden"] = tuple(params["hidden"])
    if seed is None:
        if spec.get("seed") is None:
            raise ValueError(f"the dataset spec of {spec['name']!r} needs its seed record 'seed'")
        seed = seed_from_info(spec["seed"])
    return ctor(**params, seed=seed)
