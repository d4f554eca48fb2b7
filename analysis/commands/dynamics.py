"""``landscapes dynamics``: measured descents beside the exact N = inf dynamics; aging in networks.

``landscapes dynamics pspin --p 3 --T 0 --N 50 100 200 --samples 2 --replicas 4 --seed 0``
runs gradient descent (``--T 0``) or Langevin dynamics from uniform starts on the p-spin and
overlays the measured energy per spin e(t) and the two-time correlation C(t_w + tau, t_w) on
the exact Cugliandolo–Kurchan curves (pspin.theory.dynamics), with the finite-N deviations
and their standard errors over disorder samples (tables/comparison.csv, energy.csv,
twotime.csv; figures/energy.png, correlation.png). ``--samples`` and ``--t-max`` take one
value or one per size; every sample is stored as it ends (``--resume RUN_DIR`` continues);
``--step-check N`` reruns size N at half the step (the discretization bias, subtracted before
the fit e_N - e_inf = a(t)/N of fit.csv); ``--hessian`` (T = 0) adds the smallest Riemannian
Hessian eigenvalue at the endpoints (endpoints.csv, figures/late.png: where and why finite N
parts from N = inf). ``landscapes dynamics mlp`` measures the same observables (cosine
correlation and mean-square displacement) for GD and SGD on a small network and draws them
beside the exact p-spin correlation (figures/network.png, loss.png). The study is
:mod:`analysis.studies.dynamics`.
"""

from __future__ import annotations

import argparse

from analysis.commands._options import (
    add_list,
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
    run_config,
)
from analysis.studies.dynamics_compare import COMPARISON_COLUMNS

__all__ = ["register", "run_pspin", "run_mlp"]


def _common(q, *, step: float, t_max: float, replicas: int, per_size: bool = False) -> None:
    q.add_argument("--replicas", type=int, default=replicas, help=f"replicas (default {replicas})")
    add_step_options(q, step=step, step_help="step size h")
    if per_size:
        add_list(
            q,
            "--t-max",
            item=float,
            default=[t_max],
            help=f"last time t = h x steps: one value or one per size (default {t_max})",
        )
    else:
        q.add_argument(
            "--t-max", type=float, default=t_max, help=f"last time t = h x steps (default {t_max})"
        )
    add_list(
        q,
        "--waiting-times",
        item=float,
        default=[1.0, 4.0, 16.0],
        help="waiting times t_w of C(t_w + tau, t_w) (default 1 4 16)",
    )
    add_run_options(q, seed=0)


def register(subparsers) -> None:
    """Add ``dynamics`` (``pspin`` and ``mlp``) to the CLI."""
    q = subparsers.add_parser(
        "dynamics",
        help="descents and Langevin beside the exact N = inf dynamics; aging in networks",
        description=__doc__.split("\n\n")[1],
    )
    sub = q.add_subparsers(dest="target", metavar="TARGET")
    a = sub.add_parser("pspin", help="finite-N p-spin dynamics vs the exact solution")
    a.add_argument("--p", type=int, default=3, help="order of the pure model (default 3)")
    a.add_argument("--T", type=float, default=0.0, help="temperature (default 0: gradient flow)")
    add_list(a, "--N", item=int, default=[50, 100, 200], help="sizes (default 50 100 200)")
    add_list(
        a,
        "--samples",
        item=int,
        default=[2],
        help="disorder samples: one value for every size or one per size (default 2)",
    )
    a.add_argument(
        "--step-check",
        type=int,
        default=None,
        metavar="N",
        help="run the samples of size N again with half the step: the time-discretization bias",
    )
    a.add_argument(
        "--hessian",
        action="store_true",
        help="at T = 0: smallest Riemannian Hessian eigenvalues at the endpoints (dense)",
    )
    a.add_argument(
        "--grid", type=int, default=256, help="times per grid of the exact solver (default 256)"
    )
    _common(a, step=0.02, t_max=50.0, replicas=4, per_size=True)
    a.set_defaults(func=run_pspin)
    b = sub.add_parser("mlp", help="two-time observables of GD and SGD on a small network")
    b.add_argument(
        "--dataset",
        choices=("teacher_student", "digits"),
        default="teacher_student",
        help="data (default teacher_student)",
    )
    add_list(b, "--hidden", item=int, default=[16], help="hidden widths (default 16)")
    b.add_argument(
        "--methods", nargs="+", choices=("gd", "sgd"), default=["gd", "sgd"], help="dynamics"
    )
    b.add_argument("--batch-size", type=int, default=16, help="SGD minibatch (default 16)")
    b.add_argument("--n-train", type=int, default=256, help="training samples (default 256)")
    _common(b, step=0.2, t_max=400.0, replicas=4)
    b.set_defaults(func=run_mlp)
    q.set_defaults(func=lambda args: q.print_help() or 0)


def _check(args) -> None:
    check_range(args.replicas, "--replicas", low=1, integer=True)
    check_range(args.step, "--step", low=0, low_open=True)
    t_maxes = args.t_max if isinstance(args.t_max, list) else [args.t_max]
    for t in t_maxes:
        check_range(t, "--t-max", low=args.step, low_open=True)
    for w in args.waiting_times:
        check_range(w, "--waiting-times", low=0)
        if w >= min(t_maxes):
            raise ValueError(f"--waiting-times must lie in [0, --t-max); got {args.waiting_times}")


def _write(rf, tables: dict, arrays: dict) -> None:
    for name, rows in tables.items():
        rf.write_table(name, rows)
    for name, arr in arrays.items():
        rf.write_arrays(name, **arr)


def _draw(rf, cmd: str, figures: dict) -> None:
    """Draw and save ``figures`` (name -> zero-argument function) under one progress phase."""
    from analysis.plots import use_agg
    from landscapes.progress import phase

    use_agg()
    with phase(f"{cmd}: figures", total=len(figures)) as bar:
        for name, draw in figures.items():
            rf.save_figure(name, draw())
            bar.update(1)


def run_pspin(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics pspin``."""
    from analysis.plots import dynamics as plots
    from analysis.report import write_run_report
    from analysis.studies import dynamics as study
    from pspin import theory

    _check(args)
    check_range(args.p, "--p", low=2, integer=True)
    check_range(args.T, "--T", low=0)
    for n in args.samples:
        check_range(n, "--samples", low=1, integer=True)
    if len(args.t_max) not in (1, len(args.N)):
        raise ValueError(f"--t-max takes one value or one per size (--N); got {args.t_max}")
    if len(args.samples) not in (1, len(args.N)):
        raise ValueError(f"--samples takes one value or one per size (--N); got {args.samples}")
    if args.step_check is not None and args.step_check not in args.N:
        raise ValueError(f"--step-check must be one of --N {args.N}; got {args.step_check}")
    check_range(args.grid, "--grid", low=2, integer=True)
    for n in args.N:
        check_range(n, "--N", low=2, integer=True)
    check_run_options(args)
    rf = open_run_folder(args, "dynamics", run_config(args), label="dynamics pspin")
    with command_context(args):
        res = study.pspin_study(
            p=args.p,
            temperature=args.T,
            sizes=args.N,
            samples=args.samples[0] if len(args.samples) == 1 else args.samples,
            replicas=args.replicas,
            seed=args.seed,
            step=args.step,
            t_max=args.t_max[0] if len(args.t_max) == 1 else args.t_max,
            waiting_times=args.waiting_times,
            grid=args.grid,
            hessian=args.hessian,
            step_check=args.step_check,
            store=rf,
        )
        tables, arrays = study.pspin_outputs(res)
        _write(rf, tables, arrays)
        lines = {"-E_inf (threshold)": -theory.threshold_energy(args.p)}
        if args.T > theory.dynamical_transition(args.p).temperature:
            lines = {"-1/T (paramagnet)": float(theory.paramagnetic_energy(args.T, args.p))}
        figures = {
            "energy.png": lambda: _energy_figure(res, lines, tables.get("comparison.csv", [])),
            "correlation.png": lambda: plots.correlation_vs_theory(res),
        }
        if args.T == 0:
            figures["late.png"] = lambda: _late_figure(res)
        _draw(rf, "dynamics pspin", figures)
        text = _report_markdown(res, tables)
        write_run_report(
            rf,
            title=f"dynamics pspin (p = {args.p}, T = {args.T:g})",
            text="Finite-N gradient descent / Langevin beside the exact N = inf "
            "(Cugliandolo-Kurchan) energy and two-time correlation. Error bars: the mean over "
            "a disorder sample's replicas, standard error over samples. The deviation "
            "e_N - e_inf, less the measured step bias, is fitted by a(t)/N across sizes "
            "(comparison.csv, fit.csv); late times and endpoints in endpoints.csv.",
            tables=list(tables),
            figures=[
                ("energy.png", "energy per spin, deviation, and N x deviation against time"),
                ("correlation.png", "C(t_w + tau, t_w) against tau"),
                *(
                    [("late.png", "gradient norm decay and endpoint Hessian")]
                    if args.T == 0
                    else []
                ),
            ],
            markdown=text
            + "\n![energy](figures/energy.png)\n\n![correlation](figures/correlation.png)\n"
            + ("\n![late](figures/late.png)\n" if args.T == 0 else ""),
        )
    md = ["# dynamics pspin", "", "finite N - exact (N = inf) energy per spin:", ""]
    md += [
        f"N = {r['N']:>5}  t = {r['t']:>7.2f}  e_N = {r['e_N']:+.5f} +- {r['se']:.5f}  "
        f"e_inf = {r['e_inf']:+.5f}  N x dev = {r['N_times_deviation']:+.3f}  "
        f"z after a/N = {r['z_after']:+.2f}"
        for r in tables.get("comparison.csv", [])
    ]
    print("\n".join(md) + "\n")
    print(f"run folder: {rf.path}")
    return 0


def _md_table(rows: list[dict], cols: list[str]) -> str:
    """Rows as a Markdown table of the columns ``cols`` (floats to 5 significant digits)."""

    def fmt(v):
        return f"{v:.5g}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def _report_markdown(res: dict, tables: dict) -> str:
    """report.md of ``dynamics pspin``: the comparison, the 1/N fit and the late-time reading."""
    prm = res["params"]
    comp, fit = tables.get("comparison.csv", []), tables.get("fit.csv", [])
    md = [f"# dynamics pspin (p = {prm['p']}, T = {prm['temperature']:g})", ""]
    md += [
        f"Sizes {prm['sizes']}, disorder samples {prm['samples']}, {prm['replicas']} replicas "
        f"each, step {prm['step']:g}, t_max {prm['t_max']}. Error bars: replica means per "
        "sample, standard error over samples. `step_bias` = 2 (e_h - e_h/2), measured paired "
        "(same couplings and starts) at one size; `sigma` = sqrt(se^2 + solver_error^2 + "
        "step_bias_se^2); the fit is deviation - step_bias = a(t)/N (weights 1/sigma^2); "
        "`z_after` is the residual in units of sigma.",
        "",
        "## Finite N against the exact N = inf energy",
        "",
        _md_table(comp, list(COMPARISON_COLUMNS)),
        "",
        "## The O(1/N) fit at each time",
        "",
        _md_table(fit, ["t", "a", "a_se", "chi2", "dof", "sizes"]),
        "",
    ]
    early = [f for f in fit if f["t"] <= 2.0 and f["dof"] > 0]
    mid = [f for f in fit if f["t"] > 2.0 and f["dof"] > 0]
    for name, part in (("early (t <= 2)", early), ("intermediate (t > 2)", mid)):
        if part:
            chi2, dof = sum(f["chi2"] for f in part), sum(f["dof"] for f in part)
            md.append(f"- {name}: chi^2 = {chi2:.2f} for {dof} degrees of freedom.")
    cor = tables.get("correlation_fit.csv") or []
    if cor:
        md += ["", "## C(t_w + tau, t_w): finite N against exact, with c/N", ""]
        md.append(_md_table(cor, ["N", "t_w", "lag", "C_N", "se", "C_inf", "deviation",
                                  "N_times_deviation", "c", "c_se", "chi2", "z_after"]))  # fmt: skip
    ends = tables.get("endpoints.csv") or []
    if ends and "grad" in ends[0]:
        md += ["", "## Late times: where and why finite N parts from N = inf", ""]
        cols = ["N", "t", "e_N", "se", "e_inf", "grad", "grad_rate", "grad_inf", "grad_rate_inf"]
        if "lambda_min" in ends[0]:
            cols += ["lambda_min", "lambda_min_se", "positive", "lambda_edge_inf"]
            cols += ["n_basin", "rate_over_lambda"]
        md.append(_md_table(ends, cols))
        md += ["", _late_reading(comp, ends)]
    return "\n".join(md) + "\n"


def _late_reading(comp: list[dict], ends: list[dict]) -> str:
    """A measured paragraph: the first time each N leaves a(t)/N by > 3 sigma, and why."""
    out = []
    for e in ends:
        bad = [r["t"] for r in comp if r["N"] == e["N"] and abs(r.get("z_after", 0.0)) > 3]
        where = f"first |z_after| > 3 at t = {min(bad):g}" if bad else "no |z_after| > 3"
        why = ""
        if "lambda_min" in e:
            why = (
                f"; endpoint lambda_min = {e['lambda_min']:.4f} +- {e['lambda_min_se']:.4f} "
                f"({100 * e['positive']:.0f}% of endpoints positive) against the N = inf "
                f"edge {e['lambda_edge_inf']:.4f} at the same t"
            )
            if e.get("n_basin"):
                why += (
                    f"; in a basin ({e['n_basin']} replicas) |grad| decays at "
                    f"{e['rate_over_lambda']:.4f} x their lambda_min"
                )
        out.append(
            f"- N = {e['N']}: {where}; at t = {e['t']:g} the gradient decays at rate "
            f"{e['grad_rate']:.3f} against {e['grad_rate_inf']:.3f} for N = inf{why}."
        )
    out.append(
        "\nHow to read it: along the N = inf flow |grad|^2 = -de/dt decays as a power law and the "
        "Hessian edge -p e_inf(t) - 2 sqrt(p(p-1)) stays negative (marginal only as t -> inf); a "
        "finite system whose endpoints have lambda_min > 0 sits in a basin, where |grad| decays "
        "exponentially at rate lambda_min (rate / lambda_min -> 1) and the energy freezes above "
        "the N = inf curve."
    )
    return "\n".join(out)


def _energy_figure(res: dict, lines: dict, comp: list[dict]):
    """``energy_vs_theory`` with a third panel: N x (e_N - e_inf - step bias) and a(t)."""
    import numpy as np
    from matplotlib.gridspec import GridSpec

    from analysis.plots import dynamics as plots
    from analysis.studies.dynamics import step_bias_at

    fig = plots.energy_vs_theory(res, lines=lines)
    w, h = fig.get_size_inches()
    fig.set_size_inches(w * 1.5, h)
    gs = GridSpec(1, 3, figure=fig)
    for j, ax in enumerate(fig.axes[:2]):
        ax.set_subplotspec(gs[0, j])
    ax3 = fig.add_subplot(gs[0, 2])
    sol, times = res["theory"], res["times"]
    pos = times > 0
    tt = times[pos]
    bias = np.array([step_bias_at(res, t)[0] for t in tt])
    for c, (N, r) in enumerate(res["runs"].items()):
        dev = r["energy"][pos] - sol.energy_at(np.minimum(tt, sol.t_max)) - bias
        ax3.plot(tt, N * dev, color=f"C{c}", lw=1.2, label=f"N = {N}")
        s = N * r["energy_err"][pos]
        ax3.fill_between(tt, N * dev - s, N * dev + s, color=f"C{c}", alpha=0.2, lw=0)
    seen = {row["t"]: (row["a"], row["a_se"]) for row in comp}
    if seen:
        t_fit = np.array(sorted(seen))
        ax3.errorbar(t_fit, [seen[t][0] for t in t_fit], yerr=[seen[t][1] for t in t_fit],
                     color="k", marker="o", ls="none", label="fit a(t)")  # fmt: skip
    ax3.axhline(0.0, color="k", lw=1)
    ax3.set_xscale("log")
    ax3.set_xlabel("time t = step x steps")
    ax3.set_ylabel("N x (e_N - e_inf - step bias)")
    ax3.set_title("O(1/N): curves coincide where the deviation is a(t)/N")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _late_figure(res: dict):
    """Gradient norm against time (finite N and N = inf) and the endpoint lambda_min vs N."""
    import numpy as np

    from analysis.plots import new_figure
    from analysis.studies.dynamics_compare import endpoint_table

    fig, axes = new_figure(ncols=2, width=5.6, height=4.0)
    ax, ax2 = axes[0]
    sol, times = res["theory"], res["times"]
    m = sol.t > 0.05
    g_inf = np.sqrt(np.maximum(-np.gradient(sol.energy, sol.t), 1e-300))
    ax.plot(sol.t[m], g_inf[m], color="k", lw=2, label="N = inf: sqrt(-de/dt)")
    for c, (N, r) in enumerate(res["runs"].items()):
        if "grad" in r:
            ok = (times > 0.05) & np.isfinite(r["grad"])
            ax.plot(times[ok], r["grad"][ok], color=f"C{c}", lw=1.2, label=f"N = {N}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time t")
    ax.set_ylabel("|grad H| / sqrt(N)")
    ax.set_title("gradient: power law at N = inf, exponential in a basin")
    ax.legend(fontsize=8)
    ends = [e for e in endpoint_table(res) if "lambda_min" in e]
    if ends:
        n = [e["N"] for e in ends]
        ax2.errorbar(n, [e["lambda_min"] for e in ends], yerr=[e["lambda_min_se"] for e in ends],
                     marker="o", color="C0", ls="none", label="finite N, endpoints")  # fmt: skip
        ax2.plot(n, [e["lambda_edge_inf"] for e in ends], marker="s", mfc="none", color="k",
                 ls="none", label="N = inf edge at the same t")  # fmt: skip
        for e in ends:
            ax2.annotate(f"t = {e['t']:g}", (e["N"], e["lambda_min"]), textcoords="offset points",
                         xytext=(6, 4), fontsize=8)  # fmt: skip
        ax2.axhline(0.0, color="k", lw=1)
        ax2.set_xscale("log")
        ax2.legend(fontsize=8)
    ax2.set_xlabel("N")
    ax2.set_ylabel("smallest Riemannian Hessian eigenvalue")
    ax2.set_title("endpoint lambda_min vs the N = inf spectral edge")
    fig.tight_layout()
    return fig


def run_mlp(args: argparse.Namespace) -> int:
    """Run ``landscapes dynamics mlp``."""
    from analysis.plots import dynamics as plots
    from analysis.report import write_run_report
    from analysis.studies import dynamics as study

    _check(args)
    check_range(args.n_train, "--n-train", low=1, integer=True)
    check_range(args.batch_size, "--batch-size", low=1, high=args.n_train, integer=True)
    for h in args.hidden:
        check_range(h, "--hidden", low=1, integer=True)
    check_run_options(args)
    rf = open_run_folder(args, "dynamics", run_config(args), label="dynamics mlp")
    with command_context(args):
        net = study.network_study(
            dataset=args.dataset,
            hidden=tuple(args.hidden),
            methods=tuple(args.methods),
            replicas=args.replicas,
            seed=args.seed,
            step=args.step,
            t_max=args.t_max,
            batch_size=args.batch_size,
            n_train=args.n_train,
            waiting_times=args.waiting_times,
        )
        ps = study.exact_pspin_ladder(waiting_times=args.waiting_times, max_lag=args.t_max)
        tables, arrays = study.network_outputs(net)
        _write(rf, tables, arrays)
        figures = {
            "network.png": lambda: plots.network_beside_pspin(net, ps),
            "loss.png": lambda: plots.loss_vs_time(net),
        }
        _draw(rf, "dynamics mlp", figures)
        write_run_report(
            rf,
            title=f"dynamics mlp ({args.dataset}, {' '.join(args.methods)})",
            text="Two-time observables (cosine correlation, mean-square displacement) of GD "
            "and SGD on a small network, beside the exact p-spin correlation.",
            tables=list(tables),
            figures=[
                ("network.png", "network C and MSD beside the p-spin"),
                ("loss.png", "loss against time"),
            ],
        )
    print(f"run folder: {rf.path}")
    return 0
