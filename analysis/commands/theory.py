"""``landscapes theory``: the exact theory of the spherical p-spin glass, as tables and figures.

``landscapes theory --p 3 --N 12`` prints the landscape and thermodynamic constants (E_inf,
E_0, E_1..E_5, T_d, T_s, q_EA and energies at T_d and T_s) in the ABC and Crisanti–Sommers
conventions, and writes a run folder with the exact finite-N Kac–Rice table (mean number of
critical points per index, over all energies and below the threshold; optionally checked by
Monte Carlo), the complexity curves and the index-vs-energy law. ``--xi 3:0.5,4:0.5`` does the
same for a mixture, where the formulas extend (paramagnet, T_d, total counts via p_eff).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

__all__ = ["register", "run", "constants_table", "parse_xi"]

_N_LAYERS = 6  # E_0 .. E_5


def register(subparsers) -> None:
    """Add ``theory`` to the CLI."""
    q = subparsers.add_parser(
        "theory",
        help="exact p-spin theory: thresholds, complexities, Kac-Rice counts, temperatures",
        description=__doc__.split("\n\n")[1],
    )
    q.add_argument("--p", type=int, default=3, help="order of the pure model (default 3)")
    q.add_argument(
        "--xi",
        default=None,
        help="a mixture instead of --p, as 'p:a_p,...' (e.g. '3:0.5,4:0.5' for (q^3+q^4)/2)",
    )
    q.add_argument(
        "--N", type=int, default=12, help="number of spins of the exact Kac-Rice table (default 12)"
    )
    q.add_argument(
        "--mc-samples",
        type=int,
        default=0,
        help="also estimate the Kac-Rice table by Monte Carlo over this many GOE "
        "matrices (default 0: no Monte Carlo)",
    )
    q.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    q.add_argument("--out", default=None, help="run folder (default runs/theory-...)")
    q.add_argument("--resume", action="store_true", help="resume an existing run folder")
    q.set_defaults(func=run)


def parse_xi(text: str) -> dict[int, float]:
    """Parse ``'3:0.5,4:0.5'`` into ``{3: 0.5, 4: 0.5}`` (ValueError on malformed input)."""
    out: dict[int, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            p_str, a_str = part.split(":")
            p, a = int(p_str), float(a_str)
        except ValueError:
            raise ValueError(
                f"--xi must look like '3:0.5,4:0.5' (order:weight pairs); got {text!r}"
            ) from None
        if p in out:
            raise ValueError(f"--xi lists p={p} twice")
        out[p] = a
    if not out:
        raise ValueError(f"--xi is empty: {text!r}")
    return out


def _safe(fn, *a, **kw):
    """The value, or None where the theory does not extend (NotImplementedError)."""
    try:
        return fn(*a, **kw)
    except NotImplementedError:
        return None


def constants_table(model) -> list[dict]:
    """Rows ``quantity, symbol, abc, cs, note`` of the landscape and thermodynamic constants.

    ``model`` is what :mod:`pspin.theory` accepts (``p``, a mixture dict or a model).
    Quantities that do not extend to a mixture have ``None`` values.
    """
    from pspin import theory as th

    rows: list[dict] = []

    def add(quantity, symbol, fn, note="", convert=True):
        abc = _safe(fn, "abc")
        cs = _safe(fn, "cs") if convert else abc
        rows.append({"quantity": quantity, "symbol": symbol, "abc": abc, "cs": cs, "note": note})

    add(
        "threshold constant (threshold energy per spin is -E_inf)",
        "E_inf",
        lambda c: th.threshold_energy(model, c),
    )
    for k in range(_N_LAYERS):
        add(
            f"layer constant of index {k} (no index-{k} points below -E_{k})",
            f"E_{k}",
            lambda c, k=k: th.layer_energy(model, k, c),
            "ground state" if k == 0 else "",
        )
    add(
        "ground state by zero-temperature 1RSB (independent route)",
        "E_0(1RSB)",
        lambda c: th.ground_state_energy(model, c, method="1rsb"),
    )
    add(
        "annealed complexity of all critical points",
        "Sigma_tot",
        lambda c: th.total_complexity(model, c),
        "same in both conventions",
        convert=False,
    )
    add(
        "complexity of minima at the threshold",
        "Theta_0(-E_inf)",
        lambda c: float(th.complexity(-th.threshold_energy(model, c), model, k=0, convention=c)),
        "same in both conventions",
        convert=False,
    )
    add(
        "effective order 1 + xi''(1)/xi'(1)",
        "p_eff",
        lambda c: th.effective_p(model, c),
        convert=False,
    )
    add(
        "dynamical (mode-coupling) temperature",
        "T_d",
        lambda c: th.dynamical_transition(model, c).temperature,
    )
    add(
        "EA overlap (plateau) at T_d",
        "q_d",
        lambda c: th.dynamical_transition(model, c).overlap,
        convert=False,
    )
    add(
        "equilibrium energy per spin at T_d",
        "e(T_d)",
        lambda c: th.dynamical_transition(model, c).energy,
    )
    add(
        "static (Kauzmann, 1RSB) temperature",
        "T_s",
        lambda c: th.static_transition(model, c).temperature,
    )
    add("EA overlap at T_s", "q_s", lambda c: th.static_transition(model, c).overlap, convert=False)
    add(
        "equilibrium energy per spin at T_s",
        "e(T_s)",
        lambda c: th.static_transition(model, c).energy,
    )
    add(
        "paramagnetic energy per spin at T = 1 (ABC units)",
        "e_para(1)",
        lambda c: th.paramagnetic_energy(1.0 if c == "abc" else 1 / math.sqrt(2), model, c).item(),
        "-xi(1)/T",
    )
    return rows


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.6f}"


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "out", "resume", "command")}


def run(args: argparse.Namespace) -> int:
    """Run ``landscapes theory``."""
    from analysis.store import RunFolder, task_key
    from pspin import theory as th

    if args.xi is not None:
        model = parse_xi(args.xi)
    else:
        if args.p < 2:
            raise ValueError(f"--p must be >= 2; got {args.p}")
        model = args.p
    if args.N < 2:
        raise ValueError(f"--N must be >= 2; got {args.N}")
    if args.N > 40:
        raise ValueError(
            f"--N {args.N}: the exact per-index table costs ~N^5 (about 15 s at N = 40); "
            "use pspin.theory.kac_rice_mean(N, p, per_index=False) for the total at larger N"
        )
    if args.mc_samples < 0 or args.mc_samples == 1:
        raise ValueError(f"--mc-samples must be 0 or >= 2; got {args.mc_samples}")
    m = th._model(model)  # validates p / xi (ValueError on bad input)
    pure = m.pure

    rf = RunFolder(args.out, "theory", _config(args), resume=args.resume)
    rows = constants_table(model)
    rf.write_table("constants.csv", rows)

    # ------------------------------------------------------------------ Kac–Rice table
    N = args.N
    key = task_key({"task": "kac_rice", "model": m.coeffs, "N": N})
    if rf.has_task(key):
        meta, arr = rf.load_task(key)
    else:
        t0 = time.perf_counter()
        full = th.kac_rice_mean(N, model)
        arr = {"mean": full.by_index, "error": full.by_index_error}
        meta = {
            "total": full.total,
            "total_error": full.total_error,
            "p_eff": full.p,
            "diagnostics": full.diagnostics,
        }
        if pure:
            below = th.kac_rice_mean(
                N, model, energy_range=(-math.inf, -th.threshold_energy(model))
            )
            arr.update(below_mean=below.by_index, below_error=below.by_index_error)
            meta.update(below_total=below.total, below_total_error=below.total_error)
            u = np.linspace(
                -1.15 * th.threshold_energy(model), 1.15 * th.threshold_energy(model), 161
            )
            arr.update(density_u=u, density=th.kac_rice_density(N, model, u))
        meta["seconds"] = time.perf_counter() - t0
        rf.save_task(key, meta, **arr)
    table = {"index": np.arange(N), "mean": arr["mean"], "error": arr["error"]}
    if pure:
        table.update(
            mean_below_threshold=arr["below_mean"], error_below_threshold=arr["below_error"]
        )
    mc = None
    if args.mc_samples:
        mkey = task_key(
            {
                "task": "kac_rice_mc",
                "model": m.coeffs,
                "N": N,
                "n": args.mc_samples,
                "seed": args.seed,
            }
        )
        if rf.has_task(mkey):
            mc_meta, mc = rf.load_task(mkey)
        else:
            r = th.kac_rice_monte_carlo(N, model, n_samples=args.mc_samples, seed=args.seed)
            mc = {"mean": r.by_index, "stderr": r.by_index_error}
            mc_meta = {"total": r.total, "total_stderr": r.total_error, "seed": r.seed}
            rf.save_task(mkey, mc_meta, **mc)
        table.update(mc_mean=mc["mean"], mc_stderr=mc["stderr"])
        with np.errstate(divide="ignore", invalid="ignore"):
            table["z_score"] = np.where(
                mc["stderr"] > 0, (mc["mean"] - arr["mean"]) / mc["stderr"], np.nan
            )
    rf.write_table(f"kac_rice_N{N}.csv", table)

    # ------------------------------------------------------------------ curves and figures
    figures = []
    if pure:
        curves = _curves(th, model)
        rf.write_arrays("curves.npz", **curves)
        figures += _figures(rf, th, model, N, arr, mc, curves)
    else:
        figures.append(
            _kac_rice_figure(rf, N, arr, mc, f"mixture {args.xi} (p_eff = {meta['p_eff']:.4f})")
        )

    # ------------------------------------------------------------------ report
    text = _report(args, m, rows, N, arr, meta, mc, figures)
    rf.write_text("report.md", text)
    print(text)
    print(f"run folder: {rf.path}")
    return 0


def _curves(th, model) -> dict[str, np.ndarray]:
    e_inf = th.threshold_energy(model)
    e0 = th.ground_state_energy(model)
    u_low = np.linspace(-e0 - 0.35 * (e0 - e_inf) - 0.01, -e_inf + 0.35 * (e0 - e_inf) + 0.01, 400)
    u_all = np.linspace(-1.25 * e0, 1.25 * e0, 801)
    out = {"u_low": u_low, "u_all": u_all}
    for k in range(_N_LAYERS):
        out[f"theta_{k}"] = th.complexity(u_low, model, k=k)
    out["theta_total_low"] = th.complexity(u_low, model)
    out["theta_total"] = th.complexity(u_all, model)
    out["sigma_total"] = th.complexity(u_all, model, cumulative=False)
    out["index_fraction"] = th.index_fraction(u_all, model)
    return out


def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    return plt, sns


def _figures(rf, th, model, N, arr, mc, curves) -> list[str]:
    plt, sns = _style()
    e_inf = th.threshold_energy(model)
    layers = [th.layer_energy(model, k) for k in range(_N_LAYERS)]
    names = []
    pal = sns.color_palette("viridis", _N_LAYERS)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        # --- complexities
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
        u = curves["u_low"]
        for k in range(_N_LAYERS):
            a1.plot(
                u, curves[f"theta_{k}"], color=pal[k], label=rf"$\Theta_{{{k},p}}(u)$, index {k}"
            )
            a1.plot([-layers[k]], [0.0], "o", color=pal[k], ms=4)
        a1.plot(u, curves["theta_total_low"], "k--", lw=1.2, label=r"$\Theta_p(u)$, all indices")
        a1.axhline(0, color="0.3", lw=0.8)
        a1.axvline(-e_inf, color="C3", ls=":", label=rf"threshold $-E_\infty={-e_inf:.4f}$")
        a1.axvline(-layers[0], color="C0", ls=":", label=rf"ground state $-E_0={-layers[0]:.4f}$")
        a1.set_ylim(-0.03, None)
        a1.set_xlabel(r"energy per spin $u = H/N$ (ABC normalization)")
        a1.set_ylabel(r"$\lim\, N^{-1}\log \mathbb{E}\,\mathrm{Crt}_{N,k}((-\infty,u])$")
        a1.set_title("cumulative annealed complexity near the bottom (dots: $-E_k$)")
        a1.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
        ua = curves["u_all"]
        a2.plot(ua, curves["sigma_total"], "k", label=r"$\Sigma_{tot}(u)$: points at energy $u$")
        a2.plot(ua, curves["theta_total"], "C1--", label=r"$\Theta_p(u)$: points below $u$")
        a2.axhline(0, color="0.3", lw=0.8)
        for s in (-1, 1):
            a2.axvline(s * e_inf, color="C3", ls=":")
        a2.axvline(-layers[0], color="C0", ls=":")
        a2.set_ylim(-0.05, None)
        a2.set_xlabel(r"energy per spin $u = H/N$ (ABC normalization)")
        a2.set_ylabel(r"complexity (log count per spin)")
        a2.set_title(r"all indices (dotted: $\pm E_\infty$, $-E_0$)")
        a2.legend(fontsize=8, loc="lower center")
        fig.suptitle(f"Annealed complexity of the pure spherical {model}-spin glass (ABC)")
        fig.tight_layout()
        rf.save_figure("complexity.png", fig)
        names.append("complexity.png")

        # --- index vs energy
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        ax.plot(
            ua,
            curves["index_fraction"],
            "k",
            lw=1.6,
            label=r"$\alpha(u)$: semicircle law, $N\to\infty$",
        )
        if "density" in arr:
            d = np.asarray(arr["density"])
            du = np.asarray(arr["density_u"])
            tot = d.sum(axis=1)
            ok = tot > 1e-12 * tot.max()
            mean_k = (d @ np.arange(N))[ok] / tot[ok] / (N - 1)
            ax.plot(
                du[ok],
                mean_k,
                "o",
                ms=3,
                color="C0",
                label=f"exact mean index / (N-1) at energy u, N = {N} (Kac-Rice)",
            )
        ax.axvline(-e_inf, color="C3", ls=":", label=rf"$\pm E_\infty$ = {e_inf:.4f}")
        ax.axvline(e_inf, color="C3", ls=":")
        ax.axvline(-layers[0], color="C0", ls=":", label=rf"$-E_0$ = {-layers[0]:.4f}")
        ax.set_xlabel(r"energy per spin $u = H/N$ of the critical point (ABC normalization)")
        ax.set_ylabel("index fraction: negative Hessian eigenvalues / (N-1)")
        ax.set_title(f"Index vs energy of critical points, p = {model}")
        ax.set_xlim(ua[0], ua[-1])
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        rf.save_figure("index_vs_energy.png", fig)
        names.append("index_vs_energy.png")
    names.append(_kac_rice_figure(rf, N, arr, mc, f"pure p = {model}"))
    return names


def _kac_rice_figure(rf, N, arr, mc, what) -> str:
    plt, sns = _style()
    k = np.arange(N)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        ax.plot(k, arr["mean"], "o-", color="C0", label="exact, all energies")
        if "below_mean" in arr:
            b = np.asarray(arr["below_mean"])
            pos = b > 10 * np.asarray(arr["below_error"])  # above the numerical error only
            ax.plot(
                k[pos],
                b[pos],
                "s-",
                color="C3",
                ms=4,
                label=r"exact, below the threshold ($H/N \leq -E_\infty$)",
            )
        if mc is not None:
            ax.errorbar(
                k,
                mc["mean"],
                yerr=2 * np.asarray(mc["stderr"]),
                fmt="x",
                color="k",
                ms=7,
                capsize=3,
                label=r"Monte Carlo over GOE matrices, $\pm 2$ s.e.",
            )
        ax.set_yscale("log")
        ax.set_xlabel("index k (negative eigenvalues of the Riemannian Hessian)")
        ax.set_ylabel(r"mean number of critical points $\mathbb{E}\,\mathrm{Crt}_{N,k}$")
        ax.set_title(f"Kac-Rice counts at N = {N}, {what}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        rf.save_figure(f"kac_rice_N{N}.png", fig)
    return f"kac_rice_N{N}.png"


def _report(args, m, rows, N, arr, meta, mc, figures) -> str:
    lines = [
        f"# landscapes theory: {m.describe()}",
        "",
        "Constants (energies per spin; the ground state is -E_0, the threshold -E_inf).",
        "ABC: covariance N xi(q); CS: covariance (N/2) xi(q), energies and temperatures / sqrt2.",
        "",
        f"{'symbol':<16} {'ABC':>12} {'CS':>12}  quantity",
        "-" * 80,
    ]
    for r in rows:
        lines.append(f"{r['symbol']:<16} {_fmt(r['abc']):>12} {_fmt(r['cs']):>12}  {r['quantity']}")
    lines += [
        "",
        f"Exact Kac-Rice mean number of critical points, N = {N} "
        f"(total {meta['total']:.6f} +- {meta['total_error']:.1e}):",
        "",
    ]
    head = f"{'k':>3} {'all energies':>16} {'error':>9}"
    if "below_mean" in arr:
        head += f" {'below -E_inf':>14}"
    if mc is not None:
        head += f" {'Monte Carlo':>14} {'s.e.':>9}"
    lines.append(head)
    for k in range(N):
        s = f"{k:>3} {arr['mean'][k]:>16.6f} {arr['error'][k]:>9.1e}"
        if "below_mean" in arr:
            s += f" {arr['below_mean'][k]:>14.6g}"
        if mc is not None:
            s += f" {mc['mean'][k]:>14.6f} {mc['stderr'][k]:>9.1e}"
        lines.append(s)
    lines += [
        "",
        "Files: constants.csv, "
        + f"kac_rice_N{N}.csv, "
        + ("curves.npz, " if m.pure else "")
        + ", ".join(figures),
    ]
    if not m.pure:
        lines.append(
            "Mixture: thresholds, layers, T_s and energy-resolved counts need the "
            "energy-dependent Kac-Rice tilt and are not implemented (n/a)."
        )
    return "\n".join(lines) + "\n"
