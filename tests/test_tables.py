"""Tables as a page shows them: digits, units in the header, no row index, key columns first, scrolling."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from jijtutorial.tables import format_number, present


@pytest.mark.parametrize(
    "value, digits, expected",
    [
        (0.006432, 3, "0.00643"),  # the raw pandas output was 6.432e-03
        (2.5, 3, "2.50"),  # trailing zeros are significant
        (1234.5, 3, "1230"),
        (99.96, 3, "100"),
        (-0.5, 2, "−0.50"),  # typographic minus
        (0.0, 3, "0"),
        (1e-15, 2, "1.0 × 10⁻¹⁵"),  # round-off level: scientific, readable
        (3.2e9, 2, "3.2 × 10⁹"),
        (float("nan"), 3, "–"),
        (None, 3, "–"),
        (True, 3, "yes"),
        (np.int64(1728), 3, "1728"),  # integers keep all their digits
        (-1, 3, "−1"),
    ],
)
def test_format_number(value, digits, expected):
    assert format_number(value, digits) == expected


def test_format_number_fixed_decimals_and_bad_digits():
    assert format_number(0.5, decimals=2) == "0.50"
    assert format_number(-2.14, decimals=2) == "−2.14"
    assert format_number(-6.7e-5, decimals=3) == "0.000"  # not "−0.000"
    with pytest.raises(ValueError, match="digits must be at least 1"):
        format_number(1.0, 0)


class _Cells(HTMLParser):
    """Header and body cells of the first table in an HTML fragment."""

    def __init__(self):
        super().__init__()
        self.head, self.rows, self._tag, self._in_head, self.divs = [], [], None, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "div":
            self.divs.append(dict(attrs).get("style", ""))
        if tag == "thead":
            self._in_head = True
        if tag == "tr" and not self._in_head:
            self.rows.append([])
        if tag in ("th", "td"):
            self._tag = tag
            (self.head if self._in_head else self.rows[-1]).append("")

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        if tag in ("th", "td"):
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            (self.head if self._in_head else self.rows[-1])[-1] += data.strip()


def _parse(table):
    p = _Cells()
    p.feed(table.to_html())
    return p


def test_present_drops_a_plain_index_and_puts_units_and_key_columns_first():
    frame = pd.DataFrame({"MAE": [0.006432, 2.5], "model": ["SymPair-KRR", "Mean-baseline"], "n": [3, 4]})
    t = present(frame, units={"MAE": "meV"}, key=["model"])
    assert t.columns == ["model", "MAE (meV)", "n"]
    cells = _parse(t)
    assert cells.head == ["model", "MAE (meV)", "n"]  # no index column
    assert cells.rows == [["SymPair-KRR", "0.00643", "3"], ["Mean-baseline", "2.50", "4"]]
    assert "overflow-x: auto" in cells.divs[0]  # wide tables scroll inside the page
    # Alignment and wrapping also inline, for JupyterLab, which drops the <style> block of untrusted outputs: numbers
    # never break across lines, labels may (a table with long labels then fits the text column instead of scrolling).
    assert re.search(r'<td [^>]*class="data row0 col1"[^>]*style="text-align: right; white-space: nowrap;"', t.to_html())
    assert re.search(r'<td [^>]*class="data row0 col0"[^>]*style="text-align: left; white-space: normal;"', t.to_html())
    assert "e-03" not in t.to_html() and "e-03" not in repr(t)
    long = present(pd.DataFrame({"held out": ["other Bi layer, same QL, 11.76 Å", "Fe"], "MAE": [0.1, 0.2]}))
    assert re.search(
        r'class="data row0 col0"[^>]*style="text-align: left; white-space: normal; min-width: 9em;"', long.to_html()
    )  # a long label wraps into a few lines, not into a column of single words
    assert repr(t).splitlines()[0].split() == ["model", "MAE", "(meV)", "n"]


def test_row_numbers_shuffled_by_a_sort_are_not_shown():
    layers = pd.DataFrame({"site": ["Te1", "Bi", "Te2"], "z": [3.8, 2.0, 0.0]}).sort_values("z")
    cells = _parse(present(layers, units={"z": "Å"}, decimals={"z": 2}))
    assert cells.head == ["site", "z (Å)"]
    assert cells.rows[0] == ["Te2", "0.00"]


def test_a_named_index_becomes_the_first_column():
    frame = pd.DataFrame(
        {"FM (J > 0)": [256, 121]}, index=pd.Index(["same Bi layer, 4.38 Å", "across the vdW gap, 6.10 Å"], name="geometry")
    )
    cells = _parse(present(frame))
    assert cells.head == ["geometry", "FM (J > 0)"]
    assert cells.rows[1] == ["across the vdW gap, 6.10 Å", "121"]


def test_transposed_table_keeps_its_row_labels():
    moments = pd.Series([0.0, 3.8], index=pd.Index(["Sc", "Cr"], name="element")).to_frame("moment (μB)").T
    cells = _parse(present(moments))
    assert cells.head == ["", "Sc", "Cr"]
    assert cells.rows == [["moment (μB)", "0", "3.80"]]


def test_whole_numbers_in_a_float_column_are_shown_as_integers():
    t = present(pd.DataFrame({"N_d": [1.0, 10.0], "moment": [0.5, 4.41], "level": [-np.inf, 2.0]}))
    assert t.formatted["N_d"].tolist() == ["1", "10"]
    assert t.formatted["level"].tolist() == ["−∞", "2"]  # an empty d level sits at −∞
    assert t.formatted["moment"].tolist() == ["0.500", "4.41"]


def test_digits_and_decimals_per_column():
    frame = pd.DataFrame({"MAE": [0.53712], "study_MAE": [0.5], "R2": [0.91234]})
    t = present(frame, digits={"MAE": 2}, decimals={"study_MAE": 2}, rename={"R2": "R²"})
    assert t.formatted.iloc[0].tolist() == ["0.54", "0.50", "0.912"]
    assert t.columns == ["MAE", "study_MAE", "R²"]


def test_decimals_for_every_column():
    moments = pd.DataFrame({"Sc": [-2.78e-11], "Cr": [3.8021]}, index=pd.Index(["moment (μB)"]))
    assert present(moments, decimals=2).formatted.iloc[0].tolist() == ["moment (μB)", "0.00", "3.80"]


def test_multiindex_columns_take_the_unit_of_their_first_level():
    wide = pd.DataFrame(
        [[0.54, 1.35, 0.91]],
        index=pd.Index(["CM-KRR-lap-rcut-4.0"], name="model"),
        columns=pd.MultiIndex.from_tuples([("MAE", "study"), ("MAE", "grouped"), ("R2", "study")]),
    )
    t = present(wide, units={"MAE": "meV"}, rename={"R2": "R²"})
    assert t.columns == [("model", ""), ("MAE (meV)", "study"), ("MAE (meV)", "grouped"), ("R²", "study")]
    html = t.to_html()
    assert "MAE (meV)" in html and "grouped" in html and "CM-KRR-lap-rcut-4.0" in html


def test_caption_and_series():
    t = present(pd.Series([1.5, 2.25], name="J"), units={"J": "meV"}, caption="Two couplings")
    assert t.columns == ["J (meV)"]
    assert repr(t).startswith("Two couplings\n")
    assert "Two couplings" in t.to_html()


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="DataFrame or Series, not list"):
        present([1, 2])
    frame = pd.DataFrame({"MAE": [1.0]})
    with pytest.raises(KeyError, match="key names 'model'"):
        present(frame, key=["model"])
    with pytest.raises(KeyError, match="units names 'R2'"):
        present(frame, units={"R2": "1"})
