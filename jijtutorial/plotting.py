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


__all__ = [
    "J_CMAP", "figure", "use_style",
]
