"""Figures (seaborn / matplotlib), one module per instrument; one consistent style.

Library code never selects a matplotlib backend at import; commands call :func:`use_agg`
before drawing so that figures render without a display.
"""

from __future__ import annotations

__all__ = ["use_agg", "style", "new_figure", "PALETTE"]

PALETTE = "colorblind"


def use_agg() -> None:
    """Select the non-interactive Agg backend (for commands and tests)."""
    import matplotlib

    matplotlib.use("Agg", force=True)


def style() -> None:
    """Apply the package's one seaborn style (white grid, colorblind palette)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8, **kw):
    """A styled figure with a grid of axes (returns ``fig, axes``)."""
    import matplotlib.pyplot as plt

    style()
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw
    )
    return fig, axes
