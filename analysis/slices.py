"""Landscape slices: 1D/2D cuts through a point, paths between minima, PCA planes.

Networks follow Li, Xu, Taylor, Studer & Goldstein (NeurIPS 2018): a random Gaussian direction
``d`` is *filter-normalized*, ``d_ij <- d_ij |theta_ij| / |d_ij|`` for every neuron ``j`` of
every layer ``i`` (the weights feeding one output unit), and bias directions are zeroed, so the
picture does not change when a ReLU layer is rescaled by ``c`` and the next one by ``1/c``.
The layer structure is read from the energy: ``energy.unflatten(x)`` (walked as nested
lists/tuples/dicts of arrays; 2-D arrays are weights, 1-D arrays biases) or passed explicitly
as ``groups`` (one integer per parameter: its neuron, ``-1`` for parameters the direction
ignores).

On the sphere the slices follow geodesics in the tangent plane: for orthonormal tangent
directions ``u, v`` at ``x`` and coordinates ``(a, b)`` (radians),
``y = cos(t) x + sin(t) r w`` with ``t = |(a, b)|`` and ``w = (a u + b v) / t``. The path
between two minima is the straight segment for networks and the great-circle arc on the
sphere. All energies are intensive (``energy.intensive``) and every grid is evaluated as
batches of replicas (one pass over the model per chunk of points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from landscapes._validation import check_int
from landscapes.energy import Energy
from landscapes.random import SeedLike, as_generator

__all__ = [
    "Slice1D",
    "Slice2D",
    "PathResult",
    "PCAPlane",
    "ParameterGroups",
    "parameter_groups",
    "filter_normalize",
    "random_directions",
    "slice_1d",
    "slice_2d",
    "path_between",
    "pca_plane",
]

NORMALIZATIONS = ("auto", "filter", "layer", "model", "none")
_CHUNK = 256


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Slice1D:
    """A 1D slice ``alpha -> E(x + alpha d) / scale`` (or along a geodesic on the sphere).

    Attributes
    ----------
    alphas : ndarray (n,)
        Coordinates along the direction (radians on the sphere).
    energies : ndarray (n,)
        Intensive energies along the slice.
    center_energy : float
        Intensive energy at the centre point.
    direction : ndarray (dim,)
        The (normalized) direction; a unit tangent vector on the sphere.
    normalization : str
        How the direction was normalized ("filter", "layer", "model", "none", "geodesic").
    coordinate : str
        Axis label of ``alphas``.
    intensive_name : str
        What the energies are (e.g. "H/N", "mean loss").
    """

    alphas: np.ndarray
    energies: np.ndarray
    center_energy: float
    direction: np.ndarray
    normalization: str
    coordinate: str
    intensive_name: str


@dataclass(frozen=True)
class Slice2D:
    """A 2D slice ``(a, b) -> E(x + a d1 + b d2) / scale`` (geodesic plane on the sphere).

    ``energies[i, j]`` is at ``(alphas[i], betas[j])``.
    """

    alphas: np.ndarray
    betas: np.ndarray
    energies: np.ndarray
    center_energy: float
    directions: np.ndarray
    normalization: str
    coordinate: str
    intensive_name: str


@dataclass(frozen=True)
class PathResult:
    """Energies along the path between two points (straight, or geodesic on the sphere).

    Attributes
    ----------
    t : ndarray (n,)
        Path parameter from 0 (``x``) to 1 (``y``).
    energies : ndarray (n,)
        Intensive energies along the path.
    barrier : float
        ``max(energies) - max(energies[0], energies[-1])`` (>= 0): the height of the bump
        above the higher endpoint.
    length : float
        Distance between the endpoints (Euclidean, or geodesic on the sphere).
    kind : str
        "straight" or "geodesic".
    intensive_name : str
        What the energies are.
    """

    t: np.ndarray
    energies: np.ndarray
    barrier: float
    length: float
    kind: str
    intensive_name: str


@dataclass(frozen=True)
class PCAPlane:
    """Descent trajectories projected on the plane of their two main principal components.

    Attributes
    ----------
    origin : ndarray (dim,)
        Point the plane passes through (the final point of the first trajectory, as in
        Li et al., unless given).
    components : ndarray (2, dim)
        Orthonormal principal directions.
    explained_variance_ratio : ndarray (2,)
        Fraction of the variance of the centred trajectory points along each direction.
    coords : tuple of ndarray (T_i, 2)
        Each trajectory in plane coordinates.
    """

    origin: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    coords: tuple


# --------------------------------------------------------------------------- helpers
def _point(energy: Energy, x, name: str = "x") -> np.ndarray:
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be an Energy; got {type(energy).__name__}")
    a = np.array(x, dtype=np.float64, copy=True)
    if a.shape != (energy.dim,):
        raise ValueError(f"{name} must have shape ({energy.dim},); got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    energy.manifold.check_on(a, tol=1e-6, name=name)
    return a


def _grid(span, n_points: int, name: str) -> np.ndarray:
    try:
        lo, hi = (float(s) for s in span)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high); got {span!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must satisfy low < high (finite); got {span!r}")
    n = int(n_points)
    if n != n_points or n < 2:
        raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}")
    return np.linspace(lo, hi, n)


def _evaluate(energy: Energy, P: np.ndarray) -> np.ndarray:
    """Intensive energies of a batch of points, in chunks of replicas."""
    out = np.empty(P.shape[0])
    for s in range(0, P.shape[0], _CHUNK):
        out[s : s + _CHUNK] = np.asarray(energy.energy(P[s : s + _CHUNK]), dtype=float)
    out = np.asarray(energy.intensive(out), dtype=float)
    return out


def _intensive_name(energy: Energy) -> str:
    return getattr(energy, "intensive_name", "energy")


def _walk(obj, out: list) -> None:
    if isinstance(obj, np.ndarray):
        out.append(obj)
    elif isinstance(obj, Mapping):
        for v in obj.values():
            _walk(v, out)
    elif isinstance(obj, Sequence) and not isinstance(obj, str | bytes):
        for v in obj:
            _walk(v, out)
    else:
        raise ValueError(
            f"energy.unflatten returned a {type(obj).__name__}; expected nested lists, tuples "
            "or dicts of arrays"
        )


@dataclass(frozen=True)
class ParameterGroups:
    """Filters of a network: a group label per parameter and which parameters are biases.

    Attributes
    ----------
    labels : ndarray of int (dim,)
        Group (neuron, or layer) of each parameter; each bias vector is one group. ``-1`` marks parameters every direction ignores (zeroed).
    is_bias : ndarray of bool (dim,)
        Bias parameters (zeroed when ``ignore_bias``, Li et al.'s "biasbn" choice).
    """

    labels: np.ndarray
    is_bias: np.ndarray


def parameter_groups(
    energy: Energy, *, by: str = "filter", neuron_axis: int | None = None
) -> ParameterGroups:
    """Li et al.'s filters of a network: one group per neuron (or per layer with ``by="layer"``).

    Reads the layer structure from ``energy.unflatten`` applied to ``arange(dim)``: every
    array with two or more axes is a weight tensor whose slices along the *neuron axis* are
    the filters (a unit's incoming weights); every 1-D array is a bias vector and forms one
    group of its own (so a bias direction, when kept, has the norm of the layer's bias and
    the normalization stays invariant under rescaling a layer's weights and bias together).
    A weight tensor ``(L, w_in, w_out)`` followed by biases ``(L, w)`` (the stacked layers of
    residual networks) is ``L`` layers, and those biases are ``L`` bias vectors (zeroed with
    ``ignore_bias``). The neuron axis is ``neuron_axis`` if given, else the energy's
    ``neuron_axis`` attribute (``TorchLoss``: 0, PyTorch's ``(out, in, ...)``), else the axis
    whose length equals that of the following bias (the last axis when ambiguous: the
    ``Z = A W + b`` convention).

    Raises
    ------
    ValueError
        When the energy has no ``unflatten`` or its arrays do not cover every parameter once.
    """
    unflatten = getattr(energy, "unflatten", None)
    if unflatten is None:
        raise ValueError(
            f"{type(energy).__name__} has no unflatten(); pass groups= (one neuron label per "
            "parameter, -1 for ignored ones) or use normalization='model'"
        )
    if by not in ("filter", "layer"):
        raise ValueError(f"by must be 'filter' or 'layer'; got {by!r}")
    if neuron_axis is not None:
        neuron_axis = check_int(neuron_axis, "neuron_axis")
    arrays: list[np.ndarray] = []
    _walk(unflatten(np.arange(energy.dim, dtype=np.float64)), arrays)
    axis_attr = neuron_axis if neuron_axis is not None else getattr(energy, "neuron_axis", None)
    labels = np.full(energy.dim, -2, dtype=np.int64)
    is_bias = np.zeros(energy.dim, dtype=bool)
    next_label = 0
    stacked_bias: set[int] = set()
    for i, a in enumerate(arrays):
        idx = np.rint(a).astype(np.int64)
        nxt = arrays[i + 1] if i + 1 < len(arrays) else None
        if i in stacked_bias:
            # the biases of a stack of layers: one bias vector (one group) per layer
            rows = idx.reshape(-1, a.shape[-1])
            labels[rows] = (next_label + np.arange(rows.shape[0]))[:, None]
            is_bias[rows] = True
            next_label += rows.shape[0]
            continue
        if a.ndim <= 1:
            flat = idx.reshape(-1)
            is_bias[flat] = True
            labels[flat] = next_label  # one group per bias vector (invariant under layer scaling)
            next_label += 1
            continue
        if _is_stack(a, nxt):
            # a stack of layers (depth, w_in, w_out) with its stacked biases (depth, w_out):
            # every layer is a layer of its own, and the biases are biases
            stacked_bias.add(i + 1)
            layers = idx.reshape(-1, *a.shape[-2:])
            if axis_attr is not None:
                ax = int(axis_attr) % 2
            else:
                ax = 1 if a.shape[-1] == nxt.shape[-1] else 0
            for layer in layers:
                if by == "layer":
                    labels[layer.reshape(-1)] = next_label
                    next_label += 1
                    continue
                moved = np.moveaxis(layer, ax, 0).reshape(layer.shape[ax], -1)
                labels[moved] = (next_label + np.arange(layer.shape[ax]))[:, None]
                next_label += layer.shape[ax]
            continue
        if by == "layer":
            labels[idx.reshape(-1)] = next_label
            next_label += 1
            continue
        if axis_attr is not None:
            ax = int(axis_attr) % a.ndim
        else:
            ax = a.ndim - 1
            if nxt is not None and nxt.ndim == 1:
                matches = [k for k in range(a.ndim) if a.shape[k] == nxt.shape[0]]
                if matches and (a.ndim - 1) not in matches:
                    ax = matches[0]
        moved = np.moveaxis(idx, ax, 0).reshape(a.shape[ax], -1)
        neuron = next_label + np.arange(a.shape[ax])
        labels[moved] = neuron[:, None]
        next_label += a.shape[ax]
    if np.any(labels == -2):
        raise ValueError(
            "energy.unflatten does not cover every parameter exactly once; pass groups= instead"
        )
    return ParameterGroups(labels, is_bias)


def _is_stack(a: np.ndarray, nxt: np.ndarray | None) -> bool:
    """Whether ``a`` (L..., w_in, w_out) is a stack of layers whose stacked biases follow it.

    The biases (L..., w) of a stack have one axis fewer than its weights, the same leading
    (layer) axes and a last axis matching one of the weights' last two: the layout of
    residual networks' ``K`` (depth, w, w) and ``b`` (depth, w).
    """
    return (
        nxt is not None
        and a.ndim >= 3
        and nxt.ndim == a.ndim - 1
        and nxt.shape[:-1] == a.shape[:-2]
        and nxt.shape[-1] in a.shape[-2:]
    )


def _check_groups(groups, dim: int) -> ParameterGroups:
    if isinstance(groups, ParameterGroups):
        g, b = np.asarray(groups.labels), np.asarray(groups.is_bias, dtype=bool)
    else:
        g, b = np.asarray(groups), np.zeros(dim, dtype=bool)
    if g.shape != (dim,) or not np.issubdtype(g.dtype, np.integer) or b.shape != (dim,):
        raise ValueError(
            f"groups must be an integer array of shape ({dim},); got {g.dtype} {g.shape}"
        )
    if np.any(g < -1):
        raise ValueError("groups must be >= -1 (-1 marks parameters the direction ignores)")
    return ParameterGroups(g.astype(np.int64), b)


def filter_normalize(
    x: np.ndarray, d: np.ndarray, groups, *, ignore_bias: bool = True
) -> np.ndarray:
    """Li et al.'s filter normalization of a direction ``d`` at parameters ``x``.

    Within every group ``j >= 0`` the direction is rescaled to the norm of the parameters:
    ``d_j <- d_j |x_j| / |d_j|``. ``groups`` is a :class:`ParameterGroups` or an integer
    array of labels; parameters labelled ``-1`` are zeroed, and so are biases when
    ``ignore_bias`` (Li et al.'s "biasbn" choice); otherwise a bias vector is normalized as one
    group. Returns a new array; neither input is modified.
    """
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    pg = _check_groups(groups, x.shape[0])
    if d.shape != x.shape:
        raise ValueError(f"d must have shape {x.shape}; got {d.shape}")
    labels = pg.labels
    mask = labels >= 0
    if ignore_bias:
        mask &= ~pg.is_bias
    out = np.zeros_like(d)
    if not mask.any():
        return out
    n = int(labels[mask].max()) + 1
    xs = np.bincount(labels[mask], weights=x[mask] ** 2, minlength=n)
    ds = np.bincount(labels[mask], weights=d[mask] ** 2, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(ds > 0, np.sqrt(xs) / np.sqrt(ds), 0.0)
    out[mask] = d[mask] * factor[labels[mask]]
    return out


def _orthonormal_tangent(energy: Energy, x: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Gram–Schmidt of the tangent projections of the rows of ``D`` (unit Euclidean norm)."""
    T = energy.manifold.proj(x, D)
    Q, R = np.linalg.qr(T.T)
    if np.any(np.abs(np.diag(R)) < 1e-12 * max(1.0, np.abs(R).max())):
        raise ValueError("directions are linearly dependent in the tangent plane")
    return (Q * np.sign(np.diag(R))).T


def random_directions(
    energy: Energy,
    x,
    n: int = 1,
    *,
    normalization: str = "auto",
    groups=None,
    ignore_bias: bool = True,
    seed: SeedLike = None,
) -> tuple[np.ndarray, str]:
    """``n`` random Gaussian directions at ``x``, normalized for slicing.

    Parameters
    ----------
    normalization : {"auto", "filter", "layer", "model", "none"}
        "filter": Li et al. per neuron (needs ``groups`` or ``energy.unflatten``); "layer":
        per weight tensor; "model": the whole direction scaled to
        ``|x|``; "none": raw Gaussian. On the sphere directions are always orthonormal unit
        tangent vectors (the coordinate is the geodesic angle) and only "auto" is accepted.
        "auto": geodesic on the sphere, "filter" when the layer structure is known, else
        "model".

    Returns
    -------
    directions : ndarray (n, dim)
    normalization : str
        The normalization applied ("geodesic" on the sphere).
    """
    x = _point(energy, x)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {normalization!r}; choose one of {NORMALIZATIONS}")
    n = check_int(n, "n", minimum=1)
    rng = as_generator(seed)
    D = rng.standard_normal((n, energy.dim))
    if not energy.manifold.is_flat:
        if normalization != "auto":
            raise ValueError(
                "on a curved manifold (the sphere) slices follow geodesics along orthonormal "
                f"tangent directions; normalization={normalization!r} does not apply (use 'auto')"
            )
        d = energy.manifold.intrinsic_dim
        if n > d:
            raise ValueError(f"at most {d} tangent directions on {energy.manifold!r}; got {n}")
        return _orthonormal_tangent(energy, x, D), "geodesic"
    if normalization == "auto":
        if groups is not None or hasattr(energy, "unflatten"):
            normalization = "filter"
        else:
            normalization = "model"
    if normalization in ("filter", "layer"):
        g = (
            _check_groups(groups, energy.dim)
            if groups is not None
            else parameter_groups(energy, by=normalization)
        )
        D = np.stack([filter_normalize(x, d, g, ignore_bias=ignore_bias) for d in D])
    elif normalization == "model":
        nx = np.linalg.norm(x)
        scale = nx if nx > 0 else 1.0
        D = D / np.linalg.norm(D, axis=1, keepdims=True) * scale
    return D, normalization


def _geodesic_grid(man, x: np.ndarray, U: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Points ``exp_x(L * coords @ U)`` (L the manifold's length scale): ``coords`` are angles."""
    return man.exp(x[None, :], man.length_scale * (coords @ U))


def _prepare_directions(energy, x, directions, n, normalization, groups, ignore_bias, seed):
    if directions is None:
        return random_directions(
            energy,
            x,
            n,
            normalization=normalization,
            groups=groups,
            ignore_bias=ignore_bias,
            seed=seed,
        )
    D = np.array(directions, dtype=np.float64, copy=True).reshape(-1, energy.dim)
    if D.shape[0] != n:
        raise ValueError(
            f"need {n} direction(s) of length {energy.dim}; got shape {np.shape(directions)}"
        )
    if not np.all(np.isfinite(D)):
        raise ValueError("directions contain NaN or infinite values")
    if not energy.manifold.is_flat:
        return _orthonormal_tangent(energy, x, D), "geodesic"
    if normalization in ("filter", "layer"):
        g = (
            _check_groups(groups, energy.dim)
            if groups is not None
            else parameter_groups(energy, by=normalization)
        )
        D = np.stack([filter_normalize(x, d, g, ignore_bias=ignore_bias) for d in D])
        return D, normalization
    return D, "none"


def _coordinate_label(norm: str) -> str:
    if norm == "geodesic":
        return "geodesic angle (rad)"
    return f"step along direction ({norm}-normalized)" if norm != "none" else "step along direction"


def slice_1d(
    energy: Energy,
    x,
    *,
    direction=None,
    span=(-1.0, 1.0),
    n_points: int = 51,
    normalization: str = "auto",
    groups=None,
    ignore_bias: bool = True,
    seed: SeedLike = None,
) -> Slice1D:
    """Intensive energy along a line through ``x`` (a geodesic on the sphere).

    ``direction`` defaults to a random normalized direction (see :func:`random_directions`);
    a given direction is projected on the tangent space and made unit on the sphere, and
    filter-normalized when ``normalization`` is "filter", else used as is.
    """
    x = _point(energy, x)
    alphas = _grid(span, n_points, "span")
    D, norm = _prepare_directions(energy, x, direction, 1, normalization, groups, ignore_bias, seed)
    d = D[0]
    if not energy.manifold.is_flat:
        P = _geodesic_grid(energy.manifold, x, D, alphas[:, None])
    else:
        P = x[None, :] + alphas[:, None] * d[None, :]
    E = _evaluate(energy, P)
    e0 = float(_evaluate(energy, x[None])[0])
    return Slice1D(alphas, E, e0, d, norm, _coordinate_label(norm), _intensive_name(energy))


def slice_2d(
    energy: Energy,
    x,
    *,
    directions=None,
    span=(-1.0, 1.0),
    n_points: int = 21,
    normalization: str = "auto",
    groups=None,
    ignore_bias: bool = True,
    seed: SeedLike = None,
) -> Slice2D:
    """Intensive energy on a plane through ``x`` (the geodesic surface on the sphere).

    Same options as :func:`slice_1d`; ``directions`` is ``(2, dim)`` and the grid is
    ``n_points x n_points`` over ``span`` in both coordinates.
    """
    x = _point(energy, x)
    a = _grid(span, n_points, "span")
    D, norm = _prepare_directions(
        energy, x, directions, 2, normalization, groups, ignore_bias, seed
    )
    A, B = np.meshgrid(a, a, indexing="ij")
    C = np.stack([A.ravel(), B.ravel()], axis=1)
    if not energy.manifold.is_flat:
        P = _geodesic_grid(energy.manifold, x, D, C)
    else:
        P = x[None, :] + C @ D
    E = _evaluate(energy, P).reshape(A.shape)
    e0 = float(_evaluate(energy, x[None])[0])
    return Slice2D(a, a.copy(), E, e0, D, norm, _coordinate_label(norm), _intensive_name(energy))


def path_between(energy: Energy, x, y, *, n_points: int = 51) -> PathResult:
    """Intensive energy along the path from ``x`` to ``y``.

    Straight segment ``(1-t) x + t y`` in Euclidean space; great-circle arc (spherical linear
    interpolation) on the sphere. Antipodal points on the sphere have no unique geodesic and
    are refused.
    """
    x = _point(energy, x, "x")
    y = _point(energy, y, "y")
    t = _grid((0.0, 1.0), n_points, "path")
    man = energy.manifold
    P = man.geodesic(x, y, t)  # ValueError for antipodal points on the sphere
    kind = "straight" if man.is_flat else "geodesic"
    length = float(man.dist(x, y))
    E = _evaluate(energy, P)
    barrier = float(max(E.max() - max(E[0], E[-1]), 0.0))
    return PathResult(t, E, barrier, float(length), kind, _intensive_name(energy))


def pca_plane(trajectories, *, origin=None) -> PCAPlane:
    """Project descent trajectories on the plane of their two main principal components.

    Following Li et al., the points are taken relative to ``origin`` (by default the last
    point of the first trajectory, the minimum the descent reached) and scikit-learn's PCA
    finds the two directions of largest variance of all trajectory points together.

    Parameters
    ----------
    trajectories : array (T, dim), array (K, T, dim) or sequence of arrays (T_i, dim)
        Recorded points of one or several descents.
    origin : array (dim,), optional
        Point the plane passes through.
    """
    from sklearn.decomposition import PCA

    if isinstance(trajectories, np.ndarray):
        arr = np.asarray(trajectories, dtype=np.float64)
        trajs = [arr] if arr.ndim == 2 else list(arr) if arr.ndim == 3 else None
        if trajs is None:
            raise ValueError(f"trajectories must be (T, dim) or (K, T, dim); got shape {arr.shape}")
    else:
        trajs = [np.asarray(t, dtype=np.float64) for t in trajectories]
    if not trajs or any(t.ndim != 2 for t in trajs):
        raise ValueError("trajectories must be a non-empty sequence of (T, dim) arrays")
    dim = trajs[0].shape[1]
    if any(t.shape[1] != dim for t in trajs):
        raise ValueError("all trajectories must have the same dimension")
    allpts = np.concatenate(trajs, axis=0)
    if allpts.shape[0] < 3:
        raise ValueError(
            f"need at least 3 trajectory points for a PCA plane; got {allpts.shape[0]}"
        )
    if not np.all(np.isfinite(allpts)):
        raise ValueError("trajectories contain NaN or infinite values")
    o = trajs[0][-1].copy() if origin is None else np.array(origin, dtype=np.float64, copy=True)
    if o.shape != (dim,):
        raise ValueError(f"origin must have shape ({dim},); got {o.shape}")
    pca = PCA(n_components=2, svd_solver="full")
    pca.fit(allpts - o)
    comps = pca.components_.copy()
    coords = tuple((t - o) @ comps.T for t in trajs)
    return PCAPlane(o, comps, pca.explained_variance_ratio_.copy(), coords)
