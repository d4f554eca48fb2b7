"""Figure conventions: ``ax=`` on one-panel functions, readable layouts, honest axes, reports."""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.plots import panel_grid, use_agg

use_agg()

OWNED = (
    "analysis.plots.compare",
    "analysis.plots.compare_spectra",
    "analysis.plots.slices",
    "analysis.plots.critical",
    "analysis.plots.meanfield",
    "analysis.plots.theory",
    "analysis.plots.spectrum",
)
ONE_PANEL = {
    "analysis.plots.critical": (
        "plot_counts_by_index",
        "plot_saturation",
        "plot_index_energy",
        "plot_disconnectivity",
    ),
    "analysis.plots.meanfield": ("scaling_figure", "limit_figure", "normality_figure"),
    "analysis.plots.theory": ("plot_index_energy", "plot_kac_rice"),
    "analysis.plots.slices": ("plot_pca",),
}


def test_one_panel_functions_take_ax():
    """Every ``draw_*`` function and every listed one-panel figure function takes ``ax=``."""
    checked = 0
    for name in OWNED:
        mod = importlib.import_module(name)
        for fname in mod.__all__:
            f = getattr(mod, fname)
            if fname.startswith("draw_") or fname in ONE_PANEL.get(name, ()):
                assert "ax" in inspect.signature(f).parameters, f"{name}.{fname} has no ax="
                checked += 1
    assert checked >= 26


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_panel_grid_has_at_most_two_panels_per_row(n):
    import matplotlib.pyplot as plt

    fig, axes = panel_grid(n)
    assert len(axes) == n == len(fig.axes)
    rows = {}
    for ax in axes:
        ss = ax.get_subplotspec()
        rows.setdefault(ss.rowspan.start, []).append(ss.colspan)
    assert all(len(v) <= 2 for v in rows.values())
    if n % 2 == 1 and n > 1:  # the first panel spans the first row
        assert axes[0].get_subplotspec().colspan == range(0, 2)
    # fixed layout: the axes stay inside the figure and do not overlap
    boxes = [ax.get_position() for ax in axes]
    for b in boxes:
        assert 0 < b.x0 < b.x1 < 1 and 0 < b.y0 < b.y1 < 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0
    plt.close(fig)


def test_draw_ecdf_draws_into_the_given_axes_and_is_the_empirical_cdf():
    import matplotlib.pyplot as plt

    from analysis.plots.compare import draw_ecdf

    fig, (ax,) = panel_grid(1)
    v = np.array([3.0, 1.0, 2.0, np.nan, 2.0])
    assert draw_ecdf(v, ax=ax, label="x") is ax
    step, pts = ax.lines[0], ax.lines[1]
    np.testing.assert_array_equal(pts.get_xdata(), [1.0, 2.0, 2.0, 3.0])  # NaN left out
    np.testing.assert_allclose(pts.get_ydata(), [0.25, 0.5, 0.75, 1.0])
    assert step.get_ydata()[0] == 0.0 and step.get_ydata()[-1] == 1.0
    plt.close(fig)


def test_rescaled_values_collapse_to_zero_mean_unit_sd():
    import matplotlib.pyplot as plt

    from analysis.plots.compare import _zscores, draw_rescaled

    rng = np.random.default_rng(1)
    a, b = rng.normal(5, 2, 40), rng.normal(-1, 0.01, 12)
    for v in (a, b):
        z = _zscores(v)
        assert abs(z.mean()) < 1e-12 and z.std(ddof=1) == pytest.approx(1.0)
    assert _zscores([1.0, 1.0, 1.0]).size == 0 and _zscores([1.0, 2.0]).size == 0
    fig, (ax,) = panel_grid(1)
    draw_rescaled([("a", a, "C0", "-"), ("b", b, "C1", "--")], ax=ax, title="t")
    xs = np.concatenate([ln.get_xdata() for ln in ax.lines[:4:2]])
    assert np.abs(xs).max() < 4  # both ensembles on one O(1) axis
    plt.close(fig)


def test_bootstrap_slope_drops_non_positive_replicates_with_a_warning():
    from analysis.studies.meanfield.fits import bootstrap_slope

    ws = np.array([8.0, 16.0, 32.0, 64.0])
    rng = np.random.default_rng(0)
    boot = 2.0 * ws**-0.5 * np.exp(0.05 * rng.standard_normal((50, 4)))
    sl, se = bootstrap_slope(ws, 2.0 * ws**-0.5, boot)
    assert sl == pytest.approx(-0.5) and 0 < se < 0.1
    bad = boot.copy()
    bad[:5, 1] = 0.0  # resamples where the statistic vanished (no logarithm)
    with pytest.warns(RuntimeWarning, match="5 of 50 bootstrap replicates"):
        sl2, se2 = bootstrap_slope(ws, 2.0 * ws**-0.5, bad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, se_kept = bootstrap_slope(ws, 2.0 * ws**-0.5, boot[5:])
    assert sl2 == sl and se2 == pytest.approx(se_kept) and se2 < 0.1  # not 35
    stat = 2.0 * ws**-0.5
    stat[0] = -1e-3
    with pytest.warns(RuntimeWarning, match="1 of 4 widths"):
        sl3, _ = bootstrap_slope(ws, stat, boot)
    assert sl3 == pytest.approx(-0.5)


def test_scaling_figure_axis_follows_the_data_not_the_band():
    import matplotlib.pyplot as plt

    from analysis.plots.meanfield import scaling_figure

    ws = np.array([8, 16, 32, 64])
    s = 0.3 * ws**-0.5
    s[1] = 0.0
    summary = pd.DataFrame(
        {"observable": "loss", "width": ws, "stat": s, "stat_se": 0.1 * np.abs(s)}
    )
    fig, (ax,) = panel_grid(1)
    out = scaling_figure(summary, {"loss": (-0.5, 35.0)}, -0.5, "lln", ax=ax)
    assert out is fig
    lo, hi = ax.get_ylim()
    pos = s[s > 0]
    assert lo > pos.min() / 3 and hi < pos.max() * 3  # not 1e-20 .. 1e20
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("1 value(s) <= 0 not shown" in t for t in labels)
    plt.close(fig)


def _sections():
    from analysis.report import ReportFigure, ReportSection

    return [
        ReportSection(
            "S",
            (ReportFigure("figures/a.png", "A", " caption a"),),
            columns=1,
            table_md="| x |\n|---|\n| 1 |",
        )
    ]


def test_report_gathers_warnings_in_one_table_and_links_every_figure():
    from analysis.report import render_markdown, render_report

    warn = [("model A, N 8", "50% unconverged"), ("model B, width 4", "weight below 0: 3%")]
    html = render_report(title="T", sections=_sections(), warnings=warn)
    assert html.count("<table") == 1 and 'class="note"' not in html
    assert "Warnings (2)" in html and "50% unconverged" in html
    assert html.index("Warnings") < html.index("<h2>S</h2>")
    imgs = re.findall(r'<a href="([^"]+)"[^>]*><img src="([^"]+)"', html)
    assert imgs == [("figures/a.png", "figures/a.png")]
    assert 'class="grid one"' in html
    md = render_markdown(title="T", sections=_sections(), warnings=warn)
    assert md.startswith("# T\n") and "## Warnings (2)" in md
    assert "| model A, N 8 | 50% unconverged |" in md
    assert "[![A](figures/a.png)](figures/a.png)" in md and "| x |" in md


def test_help_text_is_plain():
    from analysis.cli import build_parser, plain_text

    assert plain_text("see :func:`analysis.critical.census` and ``--seed``") == (
        "see analysis.critical.census and --seed"
    )
    assert plain_text(":class:`~a.b.Census` of :mod:`pspin`") == "Census of pspin"
    assert plain_text(":func:`the census <analysis.critical.census>`") == "the census"
    assert plain_text(".. note::\nkept") == "kept"
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    texts = [parser.format_help()]
    for p in sub.choices.values():
        texts.append(p.format_help())
        inner = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        texts += [q.format_help() for a in inner for q in a.choices.values()]
    assert len(texts) > 12
    for t in texts:
        assert "``" not in t and not re.search(r":[a-z]+:`", t), t[:300]
