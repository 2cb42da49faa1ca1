"""Shared figure style: opaque white background so figures read on light and dark pages."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

#: rcParams applied by :func:`use_style` and by every figure made with :func:`figure`.
STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": True,
    "legend.framealpha": 1.0,
    "image.cmap": "viridis",
}

#: Diverging colour map for signed J (ferromagnetic red, antiferromagnetic blue).
J_CMAP = "RdBu_r"


def use_style() -> None:
    """Apply the project style to every later matplotlib figure of this session."""
    mpl.rcParams.update(STYLE)


def figure(*args, **kwargs):
    """``plt.subplots`` with the project style and an opaque white background.

    Applies :data:`STYLE` to the session (as :func:`use_style` does) rather than inside an
    ``rc_context``: leaving such a context while the inline backend starts switches interactive
    mode off, and later figures of the notebook would no longer be shown.
    """
    use_style()
    fig, ax = plt.subplots(*args, **kwargs)
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)
    return fig, ax


def log_ticks(ax, which: str = "y") -> list[float]:
    """Labelled ticks on a logarithmic axis of ``ax``, whatever range it spans; returns their values.

    Matplotlib labels only powers of ten on a log axis, so an axis that spans less than a decade
    (an error that falls from 0.9 to 0.3 meV) shows no numbers at all. Here the ticks are the
    powers of ten in view or, when fewer than three of those fall in view, the 1-2-5 steps of each
    decade (then 1-2-3-5, then every step 1…9), labelled as plain numbers (0.2, 0.5, 1, 2); the axis
    keeps its current limits.

    Parameters
    ----------
    ax : matplotlib Axes
        Drawn already, so that its limits cover the data.
    which : {"x", "y"}
        The logarithmic axis.
    """
    import math

    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', not {which!r}.")
    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = sorted(ax.get_ylim() if which == "y" else ax.get_xlim())
    if not lo > 0:
        raise ValueError(f"log_ticks: the {which} axis must be logarithmic with positive limits, not ({lo}, {hi}).")
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    ticks = []
    for steps in ((1,), (1, 2, 5), (1, 2, 3, 5), tuple(range(1, 10))):
        ticks = [m * 10.0**d for d in decades for m in steps if lo <= m * 10.0**d <= hi]
        if len(ticks) >= 3:
            break
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
    (ax.set_ylim if which == "y" else ax.set_xlim)(lo, hi)
    return ticks


def symlog_ticks(ax, linthresh: float) -> list[float]:
    """Ticks of a symlog J axis: 0 and ±1, 10, ... outside the linear part, labelled as plain numbers.

    Matplotlib's default also puts ±10ⁿ inside the linear part, where they crowd 0 and their labels
    overlap. Returns the tick values.

    Parameters
    ----------
    ax : matplotlib Axes
        Drawn already, with ``ax.set_yscale("symlog", linthresh=linthresh)``.
    linthresh : float
        The linear range of the y axis (in the axis's units, e.g. meV).
    """
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    lo, hi = ax.get_ylim()
    top = max(abs(lo), abs(hi))
    first = int(np.ceil(np.log10(2 * linthresh)))  # first decade well outside the linear part
    decades = [10.0**k for k in range(first, int(np.floor(np.log10(top))) + 1)] if top > 0 else []
    ticks = sorted([-d for d in decades if -d >= lo] + [0.0] + [d for d in decades if d <= hi])
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: "0" if v == 0 else f"{v:g}".replace("-", "−")))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(lo, hi)
    return ticks


__all__ = ["J_CMAP", "figure", "log_ticks", "symlog_ticks", "use_style"]
