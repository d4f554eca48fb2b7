"""Figures (seaborn / matplotlib), one module per instrument; one consistent style.

Library code never selects a matplotlib backend at import; commands call :func:`use_agg`
before drawing so that figures render without a display. Every public function that draws
one panel takes ``ax=`` (a matplotlib Axes to draw into; a new figure when omitted).
Figures of several panels use :func:`panel_grid`: at most two panels per row, so that a
figure stays readable at the width of a report, and a fixed layout (margins in inches, no
``tight_layout`` pass), which keeps drawing cheap; :func:`png_bytes` renders one figure.
"""

from __future__ import annotations

__all__ = ["use_agg", "style", "new_figure", "panel_grid", "panel_axes", "png_bytes", "PALETTE"]

PALETTE = "colorblind"

_STYLED = [False]


def use_agg() -> None:
    """Select the non-interactive Agg backend (for commands and tests)."""
    import matplotlib

    matplotlib.use("Agg", force=True)


def style() -> None:
    """Apply the package's one seaborn style (white grid, colorblind palette), once per process."""
    if _STYLED[0]:
        return
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    import matplotlib

    # a fixed title height: matplotlib otherwise measures every tick label of every axes at
    # each draw to lift titles over top ticks (a third of the drawing time; no figure here
    # has ticks on top)
    matplotlib.rcParams["axes.titley"] = 1.0
    _STYLED[0] = True


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8, **kw):
    """A styled figure with a grid of axes (returns ``fig, axes``)."""
    import matplotlib.pyplot as plt

    style()
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw
    )
    return fig, axes


def panel_axes(ax=None, width: float = 6.0, height: float = 4.2):
    """``(fig, ax)``: the figure of ``ax``, or a new one-panel figure when ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(width=width, height=height)
    fixed_layout(fig)
    return fig, axes[0, 0]


def fixed_layout(
    fig,
    *,
    left: float = 1.05,
    right: float = 0.25,
    bottom: float = 0.7,
    top: float = 0.55,
    wspace: float = 1.0,
    hspace: float = 1.05,
) -> None:
    """Place the axes with fixed margins given in inches (no layout engine pass)."""
    w, h = fig.get_size_inches()
    axes = [a for a in fig.axes if a.get_subplotspec() is not None]
    if not axes:
        return
    gs = axes[0].get_subplotspec().get_gridspec()
    nrows, ncols = gs.get_geometry()
    inner_w = max(w - left - right, 0.5)
    inner_h = max(h - top - bottom, 0.5)
    fig.subplots_adjust(
        left=left / w,
        right=1 - right / w,
        bottom=bottom / h,
        top=1 - top / h,
        wspace=wspace * ncols / max(inner_w - wspace * (ncols - 1), 0.5),
        hspace=hspace * nrows / max(inner_h - hspace * (nrows - 1), 0.5),
    )


def panel_grid(
    n: int,
    *,
    width: float = 12.0,
    row_height: float = 4.4,
    wide_first: bool = True,
    **margins,
):
    """A figure of ``n`` panels, two per row (one row per panel when ``n == 1``).

    With an odd ``n > 1`` and ``wide_first`` the first panel spans the first row. Returns
    ``(fig, axes)`` with ``axes`` a list of ``n`` Axes in reading order. The layout is fixed
    (:func:`fixed_layout`; keyword margins in inches are passed on).
    """
    import matplotlib.pyplot as plt

    style()
    n = max(int(n), 1)
    ncols = 1 if n == 1 else 2
    nrows = (n + 1) // 2 if n > 1 else 1
    fig = plt.figure(figsize=(width if n > 1 else width / 2 + 0.6, row_height * nrows))
    gs = fig.add_gridspec(nrows, ncols)
    axes = []
    if n == 1:
        axes.append(fig.add_subplot(gs[0, 0]))
    else:
        cells = []
        if n % 2 == 1 and wide_first:
            axes.append(fig.add_subplot(gs[0, :]))
            cells = [(r, c) for r in range(1, nrows) for c in range(2)]
        else:
            cells = [(r, c) for r in range(nrows) for c in range(2)]
        for r, c in cells[: n - len(axes)]:
            axes.append(fig.add_subplot(gs[r, c]))
    fixed_layout(fig, **margins)
    return fig, axes


def png_bytes(fig, dpi: int = 110) -> bytes:
    """The figure rendered as PNG bytes (one draw, its own layout kept), then closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
