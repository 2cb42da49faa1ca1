"""Figure helpers: labelled ticks on log axes of any range."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from jijtutorial.plotting import figure, log_ticks  # noqa: E402


@pytest.mark.parametrize(
    "lo, hi, expected",
    [
        (0.3, 0.9, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),  # less than a decade: every step, else no label at all
        (250, 1200, [300, 500, 1000]),
        (0.18, 1.1, [0.2, 0.5, 1.0]),
        (0.01, 30, [0.01, 0.1, 1, 10]),  # several decades: the powers of ten
    ],
)
def test_log_ticks_label_every_range(lo, hi, expected):
    fig, ax = figure()
    ax.plot([lo, hi], [lo, hi])
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    ticks = log_ticks(ax, "y")
    assert ticks == pytest.approx(expected)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels == [f"{v:g}" for v in expected]
    assert ax.get_ylim() == pytest.approx((lo, hi))


def test_log_ticks_needs_a_log_axis():
    fig, ax = figure()
    ax.plot([-1, 1], [0, 1])
    with pytest.raises(ValueError, match="x axis must be logarithmic"):
        log_ticks(ax, "x")
    with pytest.raises(ValueError, match="which must be"):
        log_ticks(ax, "z")
