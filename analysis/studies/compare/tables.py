"""Tidy tables of a comparison run, rebuilt from its stored tasks without recomputing."""

from __future__ import annotations

import math

import numpy as np

from analysis.spectrum.measures import MORSE_RTOL, morse_index
from analysis.studies.compare.models import FAMILY_ID, census_key, model_tasks, slice_key
from analysis.studies.compare.tasks import comparison_tasks, load_model_result

__all__ = ["load_tables"]


def load_tables(run, config: dict | None = None) -> dict:
    """Tidy tables (pandas DataFrames) from the tasks stored in ``run``.

    Returns a dict with ``replicas`` (one row per replica and method: model, size, sample,
    replica, seed, method, final intensive energy, gradient norm, steps, converged),
    ``summary`` (per model, size and method: count, converged fraction, mean, std, CV,
    quantiles, median halting time), ``spectra`` (per measured endpoint: energy, index,
    method, spectral mean/min/max), ``overlaps`` (one row per pair: kind, q),
    ``endpoint_index`` (per measured endpoint: the Morse index raw and with the tolerance
    :data:`analysis.spectrum.MORSE_RTOL` relative to max|λ|, NaN where not measured, i.e.
    SLQ spectra), plus the raw ``tasks`` list of ``(meta, arrays)`` ordered as in the
    configuration.
    """
    import pandas as pd

    config = config if config is not None else run.config
    stored, slices = [], []
    models = model_tasks(config)
    for i, task in enumerate(comparison_tasks(config)):
        got = load_model_result(run, task)
        if got is not None:
            stored.append((i, *got))
    for fam in dict.fromkeys(t.family for t in models):
        k = slice_key(config, fam)
        if run.has_task(k):
            slices.append(run.load_task(k))
    census_res = None
    if config["pspin"].get("census_size", 0) and run.has_task(census_key(config)):
        census_res = run.load_task(census_key(config))
    rows, specs, qs, morse = [], [], [], []
    for _, meta, a in stored:
        base = {"model": meta["family"], "size": int(meta["size"])}
        K = a["gd_final"].size
        for i in range(K):
            row = dict(
                base,
                sample=int(a["sample"][i]),
                replica=i,
                seed_entropy=meta["seed"]["entropy"],
                seed_spawn_key="-".join(map(str, meta["seed"]["spawn_key"])),
            )
            rows.append(
                dict(
                    row,
                    method="gd",
                    final_energy=float(a["gd_final"][i]),
                    grad_norm=float(a["gd_grad"][i]),
                    steps=int(a["gd_steps"][i]),
                    converged=bool(a["gd_converged"][i]),
                )
            )
            if "sgd_final" in a:
                rows.append(
                    dict(
                        row,
                        method="sgd",
                        final_energy=float(a["sgd_final"][i]),
                        grad_norm=float(a["sgd_grad"][i]),
                        steps=-1,
                        converged=False,
                    )
                )
        for j in range(a["spec_endpoint"].size):
            w = a["spec_nodes"][j]
            wt = a["spec_weights"][j]
            ok = np.isfinite(w)
            specs.append(
                dict(
                    base,
                    endpoint=int(a["spec_endpoint"][j]),
                    energy=float(a["spec_energy"][j]),
                    index=int(a["spec_index"][j]),
                    method=meta.get("spectrum_method", ""),
                    converged=bool(a["gd_converged"][int(a["spec_endpoint"][j])]),
                    negative_weight=float(np.sum(wt[ok][w[ok] < 0]) / np.sum(wt[ok])),
                    mean_eigenvalue=float(np.sum(w[ok] * wt[ok]) / np.sum(wt[ok])),
                    min_eigenvalue=float(np.min(w[ok])),
                    max_eigenvalue=float(np.max(w[ok])),
                )
            )
        morse += _morse_rows(base, meta, a)
        for kind in ("q_param", "q_func"):
            if kind in a:
                qs += [dict(base, kind=kind, q=float(q)) for q in a[kind]]
    replicas = pd.DataFrame(rows)
    summary = _summary(replicas) if len(replicas) else pd.DataFrame()
    return {
        "replicas": replicas,
        "summary": summary,
        "spectra": pd.DataFrame(specs),
        "overlaps": pd.DataFrame(qs),
        "endpoint_index": pd.DataFrame(morse),
        "tasks": [(m, a) for _, m, a in stored],
        "slices": sorted(slices, key=lambda t: FAMILY_ID[t[0]["family"]]),
        "census": census_res,
    }


def _morse_rows(base: dict, meta: dict, a: dict) -> list[dict]:
    """Morse index of each measured endpoint, raw and tolerant (NaN when not measured)."""
    out = []
    dense = meta.get("spectrum_method") == "dense"
    for j in range(a["spec_endpoint"].size):
        w = a["spec_nodes"][j]
        w = w[np.isfinite(w)]
        wt = a["spec_weights"][j]
        wt = wt[np.isfinite(wt)]
        mi = morse_index(w, rtol=MORSE_RTOL) if dense else None
        k = int(a["spec_endpoint"][j])
        out.append(
            dict(
                base,
                endpoint=k,
                energy=float(a["spec_energy"][j]),
                converged=bool(a["gd_converged"][k]),
                method=meta.get("spectrum_method", ""),
                index_raw=float(mi.raw) if mi else float("nan"),
                index_tolerant=float(mi.tolerant) if mi else float("nan"),
                rtol=MORSE_RTOL,
                negative_weight=float(np.sum(wt[w < 0]) / np.sum(wt)),
                lambda_min=float(np.min(w)),
                lambda_max=float(np.max(w)),
            )
        )
    return out


def _summary(df):
    import pandas as pd

    out = []
    for (model, size, method), g in df.groupby(["model", "size", "method"], sort=False):
        e = g["final_energy"].to_numpy()
        conv = g["converged"].to_numpy()
        mean = float(np.mean(e))
        std = float(np.std(e, ddof=1)) if e.size > 1 else float("nan")
        steps = g.loc[g["converged"], "steps"].to_numpy()
        out.append(
            {
                "model": model,
                "size": int(size),
                "method": method,
                "replicas": int(e.size),
                "converged_fraction": float(np.mean(conv)) if method == "gd" else float("nan"),
                "mean": mean,
                "std": std,
                "stderr": std / math.sqrt(e.size) if e.size > 1 else float("nan"),
                "cv": std / abs(mean) if mean != 0 else float("nan"),
                "min": float(np.min(e)),
                "median": float(np.median(e)),
                "max": float(np.max(e)),
                "median_halting_steps": float(np.median(steps)) if steps.size else float("nan"),
            }
        )
    return pd.DataFrame(out)
