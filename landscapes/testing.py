"""The Energy contract as a function: run every check on any energy, yours included.

:func:`check_energy` evaluates an energy at a few seeded random points of its manifold and
checks the contract of :class:`landscapes.energy.Energy`: derivatives against finite
differences, batches against loops, tangency, symmetry, determinism, untouched arguments,
clear errors on bad input, and the minibatch rules of a
:class:`~landscapes.energy.FiniteSumEnergy`. It returns an :class:`EnergyReport` and, when a
property is broken, raises :class:`ContractError` (an ``AssertionError``) whose message
names each broken property with its measured error and tolerance::

    from landscapes.testing import check_energy
    check_energy(MyEnergy(...), seed=0)

The checks (names for ``checks=`` and ``rtol=``) are listed in :data:`CHECKS`. Keep the
energy small (dim of a few dozen to a few hundred): the Hessian checks build dense matrices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from landscapes.energy import Energy, FiniteSumEnergy
from landscapes.random import as_generator, as_seed_sequence, child

__all__ = ["check_energy", "EnergyReport", "Measurement", "ContractError", "CHECKS", "TOLERANCES"]

#: Default tolerance of each check (relative errors; see each check's description).
TOLERANCES: dict[str, float] = {
    "gradient": 1e-6,
    "hvp": 1e-6,
    "hessian": 1e-10,
    "energy_and_gradient": 1e-12,
    "batch": 1e-11,
    "rgrad_tangent": 1e-12,
    "tangent_basis": 1e-12,
    "rhessian": 1e-6,
    "determinism": 0.0,
    "no_mutation": 0.0,
    "bad_input": 0.0,
    "minibatch": 1e-6,
}


class ContractError(AssertionError):
    """An energy broke its contract; ``report`` is the :class:`EnergyReport`."""

    def __init__(self, report: EnergyReport):
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class Measurement:
    """One measured property: ``check`` name, what was measured, error and tolerance.

    ``error`` is None for a property that is pass/fail (an exception raised or not);
    ``detail`` then says what went wrong.
    """

    check: str
    what: str
    passed: bool
    error: float | None = None
    tol: float | None = None
    detail: str = ""

    def line(self) -> str:
        """One line of the report."""
        status = "ok  " if self.passed else "FAIL"
        if self.error is None:
            msg = f"{status} {self.check}: {self.what}"
        else:
            cmp = "<=" if self.passed else ">"
            msg = f"{status} {self.check}: {self.what}: error {self.error:.3g} {cmp} tolerance {self.tol:.3g}"
        return msg + (f" ({self.detail})" if self.detail else "")


@dataclass
class EnergyReport:
    """What :func:`check_energy` measured: one :class:`Measurement` per property."""

    energy: str
    measurements: list[Measurement] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> list[Measurement]:
        """The broken properties."""
        return [m for m in self.measurements if not m.passed]

    @property
    def ok(self) -> bool:
        """Whether every property held."""
        return not self.failures

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks with at least one broken property (in check order)."""
        return list(dict.fromkeys(m.check for m in self.failures))

    def __str__(self) -> str:
        head = (
            f"{self.energy}: contract holds ({len(self.measurements)} properties)"
            if self.ok
            else f"{self.energy}: {len(self.failures)} of {len(self.measurements)} properties "
            f"broken, in checks {', '.join(self.failed_checks)}"
        )
        lines = [head] + ["  " + m.line() for m in self.failures]
        lines += [f"  skipped {k}: {v}" for k, v in self.skipped.items()]
        return "\n".join(lines)


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1.0))


def _close(a, b) -> float:
    """max |a - b| / (1 + |b|): ``<= t`` is ``np.allclose(a, b, rtol=t, atol=t)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))


def _fd_step(x: np.ndarray) -> float:
    return 1e-5 * max(1.0, float(np.linalg.norm(x)) / np.sqrt(x.size))


class _Run:
    """State of one :func:`check_energy` call: the energy, points, tolerances, report."""

    def __init__(self, energy: Energy, X: np.ndarray, tol: dict[str, float], report, twins):
        self.energy = energy
        self.X = X
        self.tol = tol
        self.report = report
        self.twins = twins
        self.check = ""

    def x(self, k: int) -> np.ndarray:
        return self.X[k % self.X.shape[0]]

    def measure(self, what: str, error, tol_factor: float = 1.0, detail: str = "") -> None:
        tol = self.tol[self.check] * tol_factor
        err = float(error)
        passed = bool(err <= tol)  # NaN fails
        self.report.measurements.append(Measurement(self.check, what, passed, err, tol, detail))

    def holds(self, what: str, ok: bool, detail: str = "") -> None:
        self.report.measurements.append(Measurement(self.check, what, bool(ok), detail=detail))

    def raises(self, what: str, fn: Callable, match: str) -> None:
        """Record whether ``fn()`` raises a ValueError whose message contains ``match``."""
        try:
            fn()
        except ValueError as exc:
            ok = match.lower() in str(exc).lower()
            self.holds(what, ok, "" if ok else f"ValueError without {match!r}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - any other exception breaks the contract
            self.holds(what, False, f"raised {type(exc).__name__} instead of ValueError: {exc}")
            return
        self.holds(what, False, "no ValueError raised")


# ----------------------------------------------------------------------------- the checks
def _check_gradient(run: _Run, rng) -> None:
    """Directional derivatives = central differences of the energy (3 directions)."""
    e, x = run.energy, run.x(0)
    h = _fd_step(x)
    for i in range(3):
        v = rng.standard_normal(e.dim)
        fd = (e.energy(x + h * v) - e.energy(x - h * v)) / (2 * h)
        run.measure(f"grad . v vs central differences, direction {i}", _rel(fd, e.gradient(x) @ v))


def _check_hvp(run: _Run, rng) -> None:
    """Hessian-vector product = central differences of the gradient."""
    e, x = run.energy, run.x(1)
    h = _fd_step(x)
    v = rng.standard_normal(e.dim)
    fd = (e.gradient(x + h * v) - e.gradient(x - h * v)) / (2 * h)
    run.measure("hvp(x, v) vs gradient differences", _rel(e.hvp(x, v), fd))


def _check_hessian(run: _Run, rng) -> None:
    """Dense Hessian: right shape, symmetric, its columns equal to HVPs."""
    e, x = run.energy, run.x(0)
    H = e.hessian(x)
    run.holds("hessian shape (dim, dim)", H.shape == (e.dim, e.dim), f"got {H.shape}")
    run.measure("hessian symmetry |H - H^T|", _rel(H, H.T), 1e-2)
    V = rng.standard_normal((4, e.dim))
    run.measure("V H vs hvp(x, V) for a block V", _rel(V @ H, e.hvp(x, V)))
    j = min(2, e.dim - 1)
    run.measure(f"column {j} vs hvp(x, e_{j})", _rel(H[:, j], e.hvp(x, np.eye(e.dim)[j])))


def _check_energy_and_gradient(run: _Run, rng) -> None:
    """energy_and_gradient agrees with energy and gradient; one point gives a float."""
    e, X = run.energy, run.X
    en, g = e.energy_and_gradient(X)
    run.measure("energy_and_gradient vs energy", _close(en, e.energy(X)))
    run.measure("energy_and_gradient vs gradient", _close(g, e.gradient(X)))
    e0, g0 = e.energy_and_gradient(X[0])
    run.holds(
        "one point gives (float, (dim,))",
        isinstance(e0, float) and np.shape(g0) == (e.dim,),
        f"got {type(e0).__name__} and shape {np.shape(g0)}",
    )


def _check_batch(run: _Run, rng) -> None:
    """A batch of K points gives row by row what K single calls give."""
    e, X = run.energy, run.X
    V = rng.standard_normal(X.shape)
    en, g = e.energy_and_gradient(X)
    hv, rg, rhv = e.hvp(X, V), e.rgrad(X), e.rhvp(X, V)
    err = {k: 0.0 for k in ("energy", "gradient", "hvp", "rgrad", "rhvp")}
    for k in range(X.shape[0]):
        err["energy"] = max(err["energy"], _close(en[k], e.energy(X[k])))
        err["gradient"] = max(err["gradient"], _rel(g[k], e.gradient(X[k])))
        err["hvp"] = max(err["hvp"], _rel(hv[k], e.hvp(X[k], V[k])))
        err["rgrad"] = max(err["rgrad"], _rel(rg[k], e.rgrad(X[k])))
        err["rhvp"] = max(err["rhvp"], _rel(rhv[k], e.rhvp(X[k], V[k])))
    for name, value in err.items():
        run.measure(f"batched {name} vs one point at a time", value)


def _check_rgrad_tangent(run: _Run, rng) -> None:
    """The Riemannian gradient is tangent: proj leaves it unchanged, no normal part."""
    e, X = run.energy, run.X
    man = e.manifold
    rg = e.rgrad(X)
    run.measure("proj(x, rgrad) vs rgrad", _rel(man.proj(X, rg), rg))
    normal = rg - man.from_tangent_coords(X, man.tangent_coords(X, rg))
    scale = (1 + np.abs(rg).max()) * np.sqrt(e.dim)
    run.measure("normal component of rgrad", np.abs(normal).max() / scale, 1e3)


def _check_tangent_basis(run: _Run, rng) -> None:
    """tangent_basis: (dim, d) orthonormal tangent columns, deterministic; coordinates agree."""
    e, x = run.energy, run.x(0)
    man = e.manifold
    B = man.tangent_basis(x)
    d = man.intrinsic_dim
    run.holds("basis shape (dim, intrinsic_dim)", B.shape == (e.dim, d), f"got {B.shape}")
    run.measure("B^T B vs identity", np.abs(B.T @ B - np.eye(d)).max())
    run.measure("proj(x, B^T) vs B^T", np.abs(man.proj(x, B.T) - B.T).max())
    run.holds("same basis for a copy of x", np.array_equal(B, man.tangent_basis(x.copy())))
    V = rng.standard_normal((3, e.dim))
    run.measure("tangent_coords(x, V) vs V B", np.abs(man.tangent_coords(x, V) - V @ B).max(), 10)
    C = rng.standard_normal((3, d))
    run.measure(
        "from_tangent_coords(x, C) vs C B^T",
        np.abs(man.from_tangent_coords(x, C) - C @ B.T).max(),
        10,
    )


def _check_rhessian(run: _Run, rng) -> None:
    """rhessian = second differences of f along geodesics (exp chart); rhvp = B R B^T."""
    e, x = run.energy, run.x(2)
    man = e.manifold
    R = e.rhessian(x)
    d = man.intrinsic_dim
    run.holds("rhessian shape (d, d)", R.shape == (d, d), f"got {R.shape}")
    run.measure("rhessian symmetry", _rel(R, R.T), 1e-6)
    B = man.tangent_basis(x)
    f = e.energy

    def mixed(v, w, h):
        # second mixed derivative of f(exp_x(s v + t w)) at 0: exp_x is a normal chart, so it
        # equals Hess f(x)[v, w]; central differences have error O(h^2)
        return (
            f(man.exp(x, h * (v + w)))
            - f(man.exp(x, h * (v - w)))
            - f(man.exp(x, h * (w - v)))
            + f(man.exp(x, -h * (v + w)))
        ) / (4 * h * h)

    for i in range(3):
        a, b = rng.standard_normal(d), rng.standard_normal(d)
        a /= np.linalg.norm(a)
        b /= np.linalg.norm(b)
        v, w = B @ a, B @ b
        h = 2e-3 * max(1.0, float(np.linalg.norm(x)) / np.sqrt(x.size))
        fd = (4 * mixed(v, w, h / 2) - mixed(v, w, h)) / 3  # Richardson: error O(h^4)
        exact = a @ R @ b
        err = abs(fd - exact) / ((1 + abs(exact)) * (1 + np.abs(R).max()))
        run.measure(f"a.R.b vs geodesic second differences, pair {i}", err)
    v = B @ rng.standard_normal(d)
    run.measure("rhvp(x, v) vs B R B^T v", _rel(e.rhvp(x, v), B @ (R @ (B.T @ v))), 1e-4)


def _check_determinism(run: _Run, rng) -> None:
    """Same input, same output; seeded random points; rebuilt instances agree."""
    e, X = run.energy, run.X
    run.holds("energy twice gives the same numbers", np.array_equal(e.energy(X), e.energy(X)))
    p1 = e.random_point(np.random.default_rng(5), size=2)
    p2 = e.random_point(np.random.default_rng(5), size=2)
    run.holds("random_point with the same seed", np.array_equal(p1, p2))
    dist = float(np.max(e.manifold.distance_to(p1)))
    run.holds(
        "random_point lies on the manifold",
        dist < 1e-9 * max(1.0, float(np.linalg.norm(p1[0]))),
        f"distance {dist:.3g}",
    )
    run.holds("fingerprint is stable", e.fingerprint == e.fingerprint)
    if run.twins is not None:
        same, other = run.twins
        run.holds("same seed, same fingerprint", same.fingerprint == e.fingerprint)
        run.holds("same seed, same energies", np.array_equal(same.energy(X), e.energy(X)))
        run.holds("other seed, other fingerprint", other.fingerprint != e.fingerprint)
        run.holds("other seed, other energies", not np.allclose(other.energy(X), e.energy(X)))
        return
    from landscapes import spec

    try:
        s = spec.spec_of(e)
    except ValueError:
        run.report.skipped["determinism (rebuild)"] = "no spec and no twins given"
        return
    rebuilt = spec.build(s, cache=False)
    run.holds("rebuilt from spec_of: same fingerprint", rebuilt.fingerprint == e.fingerprint)
    run.holds("rebuilt from spec_of: same energies", np.array_equal(rebuilt.energy(X), e.energy(X)))


def _check_no_mutation(run: _Run, rng) -> None:
    """No method writes to its arguments."""
    e, X = run.energy, run.X.copy()
    X0 = X.copy()
    V = rng.standard_normal(X.shape)
    V0 = V.copy()
    man = e.manifold
    calls = [
        ("energy", lambda: e.energy(X)),
        ("gradient", lambda: e.gradient(X)),
        ("energy_and_gradient", lambda: e.energy_and_gradient(X)),
        ("hvp (batch)", lambda: e.hvp(X, V)),
        ("hvp (block)", lambda: e.hvp(X[0], V)),
        ("rgrad", lambda: e.rgrad(X)),
        ("rhvp", lambda: e.rhvp(X, V)),
        ("rhessian", lambda: e.rhessian(X[0])),
        ("hessian", lambda: e.hessian(X[1 % len(X)])),
        ("manifold.proj", lambda: man.proj(X, V)),
        ("manifold.retract", lambda: man.retract(X, V)),
        ("manifold.exp", lambda: man.exp(X, V)),
        ("manifold.tangent_coords", lambda: man.tangent_coords(X, V)),
    ]
    for name, call in calls:
        call()
        ok = np.array_equal(X, X0) and np.array_equal(V, V0)
        run.holds(f"{name} leaves its arguments unchanged", ok)
        if not ok:
            X[...] = X0
            V[...] = V0


def _check_bad_input(run: _Run, rng) -> None:
    """Wrong shapes and NaN raise a ValueError saying what is wrong."""
    e, X = run.energy, run.X
    run.raises(
        "energy of a point of the wrong length", lambda: e.energy(np.zeros(e.dim + 1)), "shape"
    )
    run.raises("gradient of a 3-D array", lambda: e.gradient(np.zeros((2, 2, e.dim))), "shape")
    bad = X.copy()
    bad[1 % len(X), 0] = np.nan
    run.raises("energy of points with NaN", lambda: e.energy(bad), "NaN")
    run.raises(
        "hvp with fewer vectors than points", lambda: e.hvp(X, X[:-1]), "one vector per point"
    )


def _check_minibatch(run: _Run, rng) -> None:
    """FiniteSumEnergy: idx over all samples, minibatch derivatives, per-replica 2-D idx."""
    e, X = run.energy, run.X
    n, K = e.n_samples, X.shape[0]
    x = X[0]
    allidx = np.arange(n)
    a, b = e.energy(x, idx=allidx), e.energy(x)
    unit = 1.0 / TOLERANCES["minibatch"]  # tolerance factors relative to the default
    # np.isclose(a, b, rtol=1e-12): |a - b| <= 1e-8 + 1e-12 |b|
    err = abs(a - b) / (1e-8 + 1e-12 * abs(b))
    run.measure("energy over idx = all samples vs idx=None", err, unit)
    idx = rng.choice(n, size=max(1, n // 3), replace=False)
    h = _fd_step(x)
    v = rng.standard_normal(e.dim)
    fd = (e.energy(x + h * v, idx=idx) - e.energy(x - h * v, idx=idx)) / (2 * h)
    run.measure("minibatch grad . v vs central differences", _rel(fd, e.gradient(x, idx=idx) @ v))
    fdg = (e.gradient(x + h * v, idx=idx) - e.gradient(x - h * v, idx=idx)) / (2 * h)
    run.measure("minibatch hvp vs gradient differences", _rel(e.hvp(x, v, idx=idx), fdg))
    run.raises("idx out of range", lambda: e.energy(x, idx=np.array([n])), "idx")
    # a 2-D idx (K, b) gives each point its own minibatch: row k equals the 1-D call on idx[k]
    idx2 = np.stack([rng.permutation(n)[: max(2, n // 4)] for _ in range(K)])
    V = rng.standard_normal(X.shape)
    en, g = e.energy_and_gradient(X, idx=idx2)
    tight = 1e-12 * unit
    run.measure("2-D idx: energy vs energy_and_gradient", _close(e.energy(X, idx=idx2), en), tight)
    run.measure("2-D idx: gradient vs energy_and_gradient", _rel(e.gradient(X, idx=idx2), g), tight)
    hv = e.hvp(X, V, idx=idx2)
    errs = [0.0, 0.0, 0.0]
    for k in range(K):
        errs[0] = max(errs[0], abs(en[k] - e.energy(X[k], idx=idx2[k])) / (1 + abs(en[k])))
        errs[1] = max(errs[1], _rel(g[k], e.gradient(X[k], idx=idx2[k])))
        errs[2] = max(errs[2], _rel(hv[k], e.hvp(X[k], V[k], idx=idx2[k])))
    for what, err in zip(("energy", "gradient", "hvp"), errs, strict=True):
        run.measure(f"2-D idx: row k of {what} vs the call on idx[k]", err, tight)
    e0 = e.energy(X[0], idx=idx2[:1])
    run.measure("one point with a one-row 2-D idx", abs(e0 - en[0]) / (1 + abs(en[0])), tight)
    bad = {
        "K - 1 rows for K points": idx2[:-1] if K > 1 else idx2[:, :0],
        "out of range": np.where(idx2 == idx2[0, 0], n, idx2),
        "negative": -1 - idx2,
        "float": idx2.astype(float),
        "3-D": idx2[:, :, None],
        "empty minibatches": np.zeros((K, 0), dtype=int),
    }
    for what, b in bad.items():
        run.raises(f"energy with 2-D idx {what}", lambda b=b: e.energy(X, idx=b), "idx")
        run.raises(
            f"energy_and_gradient with 2-D idx {what}",
            lambda b=b: e.energy_and_gradient(X, idx=b),
            "idx",
        )
        run.raises(f"hvp with 2-D idx {what}", lambda b=b: e.hvp(X, V, idx=b), "idx")
    if K > 1:
        run.raises(
            "gradient of one point with K rows of idx", lambda: e.gradient(X[0], idx=idx2), "idx"
        )
        run.raises("hvp block of one point with 2-D idx", lambda: e.hvp(X[0], V, idx=idx2), "idx")


#: The checks in order (their index keys each one's random stream: ``child(seed, i + 1)``).
CHECKS: dict[str, Callable[[_Run, np.random.Generator], None]] = {
    "gradient": _check_gradient,
    "hvp": _check_hvp,
    "hessian": _check_hessian,
    "energy_and_gradient": _check_energy_and_gradient,
    "batch": _check_batch,
    "rgrad_tangent": _check_rgrad_tangent,
    "tangent_basis": _check_tangent_basis,
    "rhessian": _check_rhessian,
    "determinism": _check_determinism,
    "no_mutation": _check_no_mutation,
    "bad_input": _check_bad_input,
    "minibatch": _check_minibatch,
}


def _tolerances(rtol) -> dict[str, float]:
    tol = dict(TOLERANCES)
    if rtol is None:
        return tol
    if isinstance(rtol, Mapping):
        unknown = set(rtol) - set(tol)
        if unknown:
            raise ValueError(f"rtol names unknown checks {sorted(unknown)}; known: {list(CHECKS)}")
        tol.update({k: float(v) for k, v in rtol.items()})
        return tol
    factor = float(rtol)
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(
            f"rtol must be a positive factor or a mapping check -> tolerance; got {rtol!r}"
        )
    return {k: v * factor for k, v in tol.items()}


def check_energy(
    energy: Energy,
    seed: int = 0,
    *,
    rtol: float | Mapping[str, float] | None = None,
    points: int = 3,
    checks: Iterable[str] | None = None,
    twins: tuple[Energy, Energy] | None = None,
    raise_on_failure: bool = True,
) -> EnergyReport:
    """Run the Energy contract checks on ``energy`` and report every broken property.

    Parameters
    ----------
    energy : Energy
        Any energy (keep it small: dense Hessians are built).
    seed : int
        Seed of the test points and directions (each check has its own child stream, so a
        subset of ``checks`` sees the same numbers as the full battery).
    rtol : float or mapping, optional
        A float multiplies every default tolerance (:data:`TOLERANCES`); a mapping
        ``{check: tolerance}`` replaces the named checks' tolerances.
    points : int
        Number of random points K (>= 2) at which the batch checks run.
    checks : iterable of str, optional
        Names from :data:`CHECKS` to run (default: all; ``minibatch`` only runs on a
        :class:`~landscapes.energy.FiniteSumEnergy`).
    twins : (Energy, Energy), optional
        The same energy rebuilt from the same seed, and one from another seed, for the
        determinism check. Without them an energy with a spec is rebuilt with
        :func:`landscapes.spec.build`.
    raise_on_failure : bool
        Raise :class:`ContractError` when a property is broken (default); else only return
        the report.

    Returns
    -------
    EnergyReport
        Every measurement with its error and tolerance.

    Raises
    ------
    ContractError
        (An ``AssertionError``.) Its message names each broken property, the measured
        error and the tolerance.
    ValueError
        Unknown check names, ``points < 2`` or a bad ``rtol``.
    """
    if not isinstance(energy, Energy):
        raise ValueError(f"energy must be a landscapes Energy; got {type(energy).__name__}")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise ValueError(f"points must be an integer >= 2; got {points!r}")
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [c for c in names if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; choose from {list(CHECKS)}")
    tol = _tolerances(rtol)
    root = as_seed_sequence(seed)
    rng = as_generator(child(root, 0))
    X = energy.random_point(rng, size=int(points))
    # move off special initializations (e.g. zero biases) to generic points on the manifold
    man = energy.manifold
    X = man.retract(X, man.proj(X, 0.1 * rng.standard_normal(X.shape)))
    report = EnergyReport(repr(energy) if len(repr(energy)) < 200 else type(energy).__name__)
    run = _Run(energy, np.ascontiguousarray(X), tol, report, twins)
    for i, (name, fn) in enumerate(CHECKS.items()):
        if name not in names:
            continue
        if name == "minibatch" and not isinstance(energy, FiniteSumEnergy):
            report.skipped[name] = "not a FiniteSumEnergy"
            continue
        run.check = name
        try:
            fn(run, as_generator(child(root, i + 1)))
        except Exception as exc:  # noqa: BLE001 - an exception is a broken property
            run.holds("ran without an exception", False, f"{type(exc).__name__}: {exc}")
    if raise_on_failure and not report.ok:
        raise ContractError(report)
    return report
