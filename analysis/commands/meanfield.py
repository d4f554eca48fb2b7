"""``landscapes meanfield``: the law of large numbers, the CLT and the limit of mean-field networks.

``landscapes meanfield lln|clt|limit|landscape [--widths ...] [--seeds S] [--seed K] [--out DIR]``
runs one experiment of :mod:`landscapes.meanfield` (or
:func:`analysis.meanfield_landscape.landscape_experiment`) and writes a run folder: the tidy
table (``table.csv``), the per-width summary (``summary.csv``), the fitted slopes with their
bootstrap standard errors (``result.json``), a short ``report.md`` and log-log figures with the
fit, its band and the theoretical slope. Each experiment (for ``clt``: each dynamics) is one
stored task, so ``--resume DIR`` redoes nothing already finished.
"""

from __future__ import annotations

import argparse

import numpy as np

__all__ = ["register", "run"]

_DEFAULT_WIDTHS = {
    "lln": [25, 50, 100, 200, 400],
    "clt": [50, 100, 200, 400, 800],
    "limit": [16, 32, 64, 128, 256, 512],
    "landscape": [16, 32, 64, 128],
}


def register(subparsers) -> None:
    """Add ``meanfield lln|clt|limit|landscape`` to the CLI."""
    p = subparsers.add_parser(
        "meanfield",
        help="mean-field networks: LLN (N^-1/2), CLT (Var ~ 1/N), exact limit, p-spin target",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    sub.required = True
    helps = {
        "lln": "rms distance of observables to the limit ~ N^-1/2 (reference 16x wider)",
        "clt": "variance over seeds of the trained output ~ 1/N, GD and online SGD; normality",
        "limit": "particles approach the exactly solved mean-field PDE (1-D teacher + bias)",
        "landscape": "learning the spherical 3-spin energy: excess loss ~ 1/N, beside the p-spin",
    }
    for name, h in helps.items():
        q = sub.add_parser(name, help=h, description=h)
        q.add_argument(
            "--widths",
            type=int,
            nargs="+",
            default=None,
            help=f"widths N (default {' '.join(map(str, _DEFAULT_WIDTHS[name]))})",
        )
        q.add_argument("--seeds", type=int, default=40, help="seeds per width (default 40)")
        q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
        q.add_argument("--T", type=float, default=None, help="training time (mean-field units)")
        q.add_argument("--eps", type=float, default=None, help="GD step (time per step)")
        q.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples (default 500)")
        if name == "clt":
            q.add_argument(
                "--dynamics",
                nargs="+",
                choices=("gd", "online_sgd"),
                default=["gd", "online_sgd"],
                help="dynamics (default both)",
            )
            q.add_argument("--alpha", type=float, default=1.0, help="online SGD step alpha")
        if name in ("lln", "clt"):
            q.add_argument("--n-samples", type=int, default=200, help="data points (default 200)")
            q.add_argument("--d", type=int, default=5, help="input dimension (default 5)")
        q.add_argument("--out", default=None, help="run folder (default runs/meanfield-...)")
        q.add_argument(
            "--resume",
            default=None,
            metavar="DIR",
            help="resume the run folder DIR (finished experiments are not redone)",
        )
        q.set_defaults(func=run)


def _scalar_extra(extra: dict) -> dict:
    out = {}
    for k, v in extra.items():
        if isinstance(v, int | float | str | np.floating | np.integer):
            out[k] = v
        elif isinstance(v, np.ndarray) and v.ndim == 1 and v.size < 64:
            out[k] = v
    return out


def run(args: argparse.Namespace) -> int:
    """Run one mean-field experiment and write its run folder."""
    from analysis.plots import use_agg
    from analysis.store import RunFolder, task_key
    from landscapes import meanfield as mf

    exp = args.experiment
    widths = args.widths or _DEFAULT_WIDTHS[exp]
    if args.seeds < 3:
        raise ValueError(f"--seeds must be >= 3; got {args.seeds}")
    config = {
        "experiment": exp,
        "widths": widths,
        "seeds": args.seeds,
        "seed": args.seed,
        "T": args.T,
        "eps": args.eps,
        "n_boot": args.n_boot,
    }
    for k in ("dynamics", "alpha", "n_samples", "d"):
        if hasattr(args, k):
            config[k] = getattr(args, k)
    out = args.resume or args.out
    folder = RunFolder(out, f"meanfield-{exp}", config, resume=args.resume is not None)
    use_agg()
    kw = {"n_boot": args.n_boot}
    if args.T is not None:
        kw["T"] = args.T
    if args.eps is not None:
        kw["eps"] = args.eps
    lines = [f"# meanfield {exp}", "", f"widths {widths}, {args.seeds} seeds, seed {args.seed}", ""]
    if exp == "landscape":
        return _run_landscape(folder, widths, args, kw, lines)
    runs = (
        [(d, {"dynamics": d, "alpha": args.alpha}) for d in args.dynamics]
        if exp == "clt"
        else [(exp, {})]
    )
    for tag, extra_kw in runs:
        key = task_key({"tag": tag, **config})
        if not folder.has_task(key):
            if exp in ("lln", "clt"):
                extra_kw = {
                    **extra_kw,
                    "data": mf.one_neuron_teacher(args.n_samples, args.d, seed=0),
                }
            fn = {"lln": mf.lln_experiment, "clt": mf.clt_experiment, "limit": mf.limit_experiment}[
                exp
            ]
            res = fn(widths, args.seeds, args.seed, **kw, **extra_kw)
            folder.write_table(f"{tag}/table.csv", res.table)
            folder.write_table(f"{tag}/summary.csv", res.summary)
            arrays = {}
            if exp == "clt":
                arrays["fluctuations"] = res.extra["fluctuations"]
            if exp == "limit":
                lim = res.extra["limit"]
                arrays.update(times=lim.times, limit_loss=lim.loss, limit_outputs=lim.outputs)
            meta = {
                "slope": res.slope,
                "slope_se": res.slope_se,
                "theory_slope": res.theory_slope,
                "z_score": res.z_score,
                "slopes": res.slopes,
                "config": res.config,
                "extra": _scalar_extra(res.extra),
            }
            folder.write_json(f"{tag}/result.json", meta)
            folder.save_task(key, meta, **arrays)
        meta, arrays = folder.load_task(key)
        summary = folder.read_table(f"{tag}/summary.csv")
        _figures(folder, exp, tag, meta, summary, arrays)
        lines += _report_lines(tag, meta, summary)
    folder.write_text("report.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"run folder: {folder.path}")
    return 0


def _report_lines(tag, meta, summary):
    z = meta["z_score"]
    lines = [
        f"## {tag}",
        "",
        f"slope {meta['slope']:.4f} ± {meta['slope_se']:.4f} (bootstrap s.e.), theory "
        f"{meta['theory_slope']:g}, z = {z:.2f}",
        "",
    ]
    for name, (s, se) in meta["slopes"].items():
        lines.append(f"- {name}: slope {s:.4f} ± {se:.4f}")
    ex = meta.get("extra", {})
    for k in ("normality_pvalue", "quadrature_error", "bias_slope", "bias_slope_se"):
        if k in ex:
            v = ex[k]
            lines.append(f"- {k}: {v:.4g}" if isinstance(v, int | float) else f"- {k}: {v}")
    lines += ["", summary.to_string(index=False), ""]
    return lines


def _figures(folder, exp, tag, meta, summary, arrays):
    from analysis.plots.meanfield import limit_figure, normality_figure, scaling_figure

    slopes = {k: tuple(v) for k, v in meta["slopes"].items()}
    fig = scaling_figure(
        summary,
        slopes,
        meta["theory_slope"],
        "clt" if exp == "clt" else exp,
        title=f"meanfield {exp} ({tag})" if exp == "clt" else "",
    )
    folder.save_figure(f"{tag}/scaling.png", fig)
    if exp == "clt" and "fluctuations" in arrays:
        fig = normality_figure(
            arrays["fluctuations"],
            int(summary["width"].max()),
            meta["extra"]["normality_pvalue"],
            label=tag,
        )
        folder.save_figure(f"{tag}/normality.png", fig)
    if exp == "limit":
        table = folder.read_table(f"{tag}/table.csv")
        lc = table[table["observable"] == "loss_curve"]
        curves = {
            int(N): g.groupby("component")["value"].mean().to_numpy()
            for N, g in lc.groupby("width")
        }
        fig = limit_figure(arrays["times"], arrays["limit_loss"], curves)
        folder.save_figure(f"{tag}/limit.png", fig)


def _run_landscape(folder, widths, args, kw, lines):
    from analysis.meanfield_landscape import landscape_experiment
    from analysis.plots.meanfield import scaling_figure
    from analysis.store import task_key

    key = task_key({"tag": "landscape", **folder.config})
    if not folder.has_task(key):
        res = landscape_experiment(widths, args.seeds, args.seed, **kw)
        folder.write_table("table.csv", res.table)
        folder.write_table("summary.csv", res.summary)
        folder.write_table("pspin.csv", res.pspin)
        meta = {
            "slope": res.slope,
            "slope_se": res.slope_se,
            "theory_slope": -1.0,
            "spread_slope": res.spread_slope,
            "spread_slope_se": res.spread_slope_se,
            "config": res.config,
            "extra": res.extra,
        }
        folder.write_json("result.json", meta)
        folder.save_task(key, meta, **{k.replace(" ", "_"): v for k, v in res.spectra.items()})
    meta, spectra = folder.load_task(key)
    summary = folder.read_table("summary.csv")
    pspin = folder.read_table("pspin.csv")
    ok = summary[summary["stat"] > 0]
    fig = scaling_figure(
        ok,
        {"excess_loss": (meta["slope"], meta["slope_se"])},
        -1.0,
        "excess",
        title="3-spin target: excess loss over the wide reference",
    )
    folder.save_figure("excess_loss.png", fig)
    sp = summary.assign(
        observable="loss_spread", stat=summary["spread"], stat_se=summary["spread_se"]
    )
    fig = scaling_figure(
        sp,
        {"loss_spread": (meta["spread_slope"], meta["spread_slope_se"])},
        -0.5,
        "spread",
        title="3-spin target: spread of final losses over seeds",
    )
    folder.save_figure("loss_spread.png", fig)
    lines += [
        f"excess loss slope {meta['slope']:.4f} ± {meta['slope_se']:.4f} (theory -1)",
        f"spread slope {meta['spread_slope']:.4f} ± {meta['spread_slope_se']:.4f}",
        "",
        summary.to_string(index=False),
        "",
        "p-spin gradient-descent endpoints:",
        "",
        pspin.to_string(index=False),
        "",
    ]
    folder.write_text("report.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"run folder: {folder.path}")
    return 0
