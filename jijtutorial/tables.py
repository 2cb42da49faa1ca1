"""Tables for the chapters: a DataFrame shown the way a reader expects it.

:func:`present` turns a :class:`pandas.DataFrame` into a :class:`Table` that a notebook displays
as HTML (in JupyterLab and in the built book) and as aligned text elsewhere (a console, papermill):

- numbers with a fixed number of significant digits (or fixed decimals) per column, never in the
  ``6.432e-03`` notation: tiny and huge values read ``1.2 × 10⁻¹⁵``;
- units in the header, ``MAE (meV)``;
- no 0 … n−1 row index: a meaningful index (named, or holding labels) becomes the first
  column(s), row numbers are dropped;
- the key columns first;
- long labels wrap, numbers never; a table still too wide scrolls sideways inside the page instead
  of being cut off at its right edge.

The HTML is a pandas :class:`~pandas.io.formats.style.Styler` (which needs ``jinja2``, installed
with the ``[book]`` extra) inside a ``<div>`` with ``overflow-x: auto``.

>>> import pandas as pd
>>> t = present(pd.DataFrame({"model": ["a", "b"], "MAE": [0.006432, 2.5]}), units={"MAE": "meV"})
>>> print(t)
model  MAE (meV)
    a    0.00643
    b       2.50
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Table", "format_number", "present"]

#: Values with magnitude outside [SCI_LOW, SCI_HIGH) are written as a × 10ⁿ.
SCI_LOW, SCI_HIGH = 1e-4, 1e7
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: What a missing value looks like in a table.
MISSING = "–"


def format_number(value, digits: int = 3, decimals: int | None = None) -> str:
    """One number as a table shows it.

    Parameters
    ----------
    value : float, int, bool or None
        The number. NaN and None give an en dash, booleans "yes"/"no", integers all their digits.
    digits : int
        Significant digits of a float (trailing zeros are kept: 2.50 has three).
    decimals : int, optional
        Fixed digits after the decimal point instead of significant digits (e.g. the published
        figures of a study, printed with two decimals).

    Returns
    -------
    str
        Positional notation for magnitudes in [1e-4, 1e7), else ``a × 10ⁿ`` (e.g. ``1.2 × 10⁻¹⁵``).
    """
    if digits < 1:
        raise ValueError(f"digits must be at least 1, not {digits}.")
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return _minus(str(int(value)))
    x = float(value)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if decimals is not None:
        text = f"{x:.{decimals}f}"
        return _minus(text.lstrip("-") if float(text) == 0 else text)  # no "−0.000"
    if x == 0:
        return "0"
    if SCI_LOW <= abs(x) < SCI_HIGH:
        exponent = math.floor(math.log10(abs(x)))
        places = digits - 1 - exponent
        rounded = round(x, places)
        if rounded != 0 and math.floor(math.log10(abs(rounded))) > exponent:  # 99.96 -> 100: one place less
            places -= 1
            rounded = round(x, places)
        return _minus(f"{rounded:.{max(places, 0)}f}")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return _minus(f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}")


def _minus(text: str) -> str:
    """A typographic minus sign for a leading '-'."""
    return "−" + text[1:] if text.startswith("-") else text


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _whole(series: pd.Series) -> bool:
    """True if every finite value of a numeric column is a whole number below 10⁷ (counts, N_d)."""
    v = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    return bool(len(v)) and bool(np.all(v == np.round(v))) and bool(np.all(np.abs(v) < SCI_HIGH))


class Table:
    """A DataFrame prepared for a page: formatted cells, headers with units, no row index.

    Made by :func:`present`; a notebook shows it as HTML (``_repr_html_``), a console as text.

    Attributes
    ----------
    data : pandas.DataFrame
        The numbers, with the index turned into columns where it carried information and the
        columns in display order (headers without units).
    formatted : pandas.DataFrame
        The same cells as the strings the page shows, with the display headers (units included).
    caption : str or None
        A caption shown above the table.
    """

    def __init__(self, data: pd.DataFrame, formatted: pd.DataFrame, numeric: Sequence, caption: str | None = None):
        self.data = data
        self.formatted = formatted
        self.caption = caption
        self._numeric = list(numeric)  # display headers of the numeric columns (right-aligned)

    @property
    def columns(self) -> list:
        """Display headers, units included."""
        return list(self.formatted.columns)

    def styler(self):
        """The :class:`pandas.io.formats.style.Styler` of the table (needs jinja2)."""
        try:
            import jinja2  # noqa: F401  (pandas' Styler needs it; say so plainly if it is missing)
        except ImportError as err:  # pragma: no cover - jinja2 comes with the [book] extra
            raise ImportError(
                "Showing a table as HTML needs jinja2: install it (pip install jinja2) or the package's "
                "[book] extra; print(table) shows it as text meanwhile."
            ) from err
        styler = self.formatted.style.hide(axis="index").format(escape="html")
        styles = [
            {"selector": "", "props": "border-collapse: collapse; font-size: 0.9em; margin: 0;"},
            {
                "selector": "th",
                "props": "text-align: left; padding: 0.25em 0.7em; vertical-align: bottom; border-bottom: 1px solid #888;",
            },
            {"selector": "td", "props": "padding: 0.2em 0.7em; text-align: left;"},
            {"selector": "tbody tr:nth-child(even)", "props": "background-color: rgba(127, 127, 127, 0.08);"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; padding: 0.3em 0;"},
        ]
        last = self.formatted.columns.nlevels - 1
        styles += [
            {"selector": f"th.col_heading.level{last}.col{k}", "props": "text-align: right;"}
            for k, c in enumerate(self.formatted.columns)
            if c in self._numeric
        ]
        styler = styler.set_table_styles(styles)
        if self._numeric:
            styler = styler.set_properties(
                subset=self._numeric, **{"text-align": "right", "white-space": "nowrap", "font-variant-numeric": "tabular-nums"}
            )
        if self.caption:
            styler = styler.set_caption(html.escape(self.caption))
        return styler

    def to_html(self) -> str:
        """The table as an HTML fragment: the styled table inside a horizontally scrolling ``<div>``.

        The cell styles that matter for reading (numbers right-aligned and never broken across lines;
        labels and headers may wrap, so that a table with long labels fits the text column) are also
        written into each cell's ``style`` attribute: JupyterLab drops the ``<style>`` block of an
        output it does not trust (a notebook opened with outputs it did not compute).
        """
        numeric = {k for k, c in enumerate(self.formatted.columns) if c in self._numeric}
        last = self.formatted.columns.nlevels - 1
        # a long label may wrap, but into about two lines, not a narrow column of single words
        longest = {
            k: int(self.formatted.iloc[:, k].astype(str).str.len().max()) if len(self.formatted) else 0
            for k in range(self.formatted.shape[1])
            if k not in numeric
        }
        min_width = {k: f" min-width: {min(9, n // 2)}em;" for k, n in longest.items() if n > 16}

        def inline(match: re.Match) -> str:
            tag, attrs = match.group(1), match.group(2)
            col = re.search(r"\bcol(\d+)\b", attrs)
            if col is None or (tag == "th" and f"level{last}" not in attrs):
                return match.group(0)
            align = "right" if int(col.group(1)) in numeric else "left"
            wrap = ""  # headers and labels may wrap, numbers not
            if tag == "td":
                k = int(col.group(1))
                wrap = " white-space: nowrap;" if k in numeric else " white-space: normal;" + min_width.get(k, "")
            return f'<{tag}{attrs} style="text-align: {align};{wrap}">'

        table = re.sub(r'<(td|th)((?: [a-z_-]+="[^"]*")*) ?>', inline, self.styler().to_html())
        return '<div class="jijtutorial-table" style="overflow-x: auto; max-width: 100%; margin-bottom: 1em;">' + table + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        text = self.formatted.to_string(index=False)
        return f"{self.caption}\n{text}" if self.caption else text

    def __len__(self) -> int:
        return len(self.formatted)


def _header(column, rename: Mapping, units: Mapping):
    """Display header of one column (a tuple for MultiIndex columns: the unit goes on the first level)."""
    if isinstance(column, tuple):
        first, rest = column[0], tuple(rename.get(c, c) for c in column[1:])
        unit = units.get(column, units.get(first))
        name = rename.get(first, first)
        return (f"{name} ({unit})" if unit else name, *rest)
    unit = units.get(column)
    name = str(rename.get(column, column))
    return f"{name} ({unit})" if unit else name


def present(
    frame: pd.DataFrame | pd.Series,
    *,
    digits: int | Mapping = 3,
    decimals: int | Mapping | None = None,
    units: Mapping | None = None,
    rename: Mapping | None = None,
    key: Sequence = (),
    index: bool | None = None,
    caption: str | None = None,
) -> Table:
    """Prepare a DataFrame for a page: significant digits, units in the header, no index, key columns first.

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        The table. A Series becomes a one-column frame.
    digits : int or mapping, default 3
        Significant digits of the float columns; a mapping gives them per column (by the original
        column name) with 3 for the others.
    decimals : int or mapping, optional
        Fixed decimals instead of significant digits: for every float column (an int), or for some
        columns (a mapping, e.g. ``{"study_MAE": 2}``). Values that round to zero show as 0.00.
    units : mapping, optional
        Unit of each column that has one, e.g. ``{"MAE": "meV", "t_train": "s"}``; shown as
        ``MAE (meV)``. For MultiIndex columns the unit of the first level is used.
    rename : mapping, optional
        Readable headers, e.g. ``{"R2": "R²"}`` (applied to every level of MultiIndex columns).
    key : sequence, optional
        Columns to put first, in this order (after the index columns, if any).
    index : bool, optional
        Show the index as leading column(s)? By default it is shown when it carries information (it
        has a name, or holds labels rather than integers) and dropped when it only numbers the rows
        (0 … n−1, or a shuffled range after a sort).
    caption : str, optional
        A caption above the table.

    Returns
    -------
    Table
        Displays as HTML in a notebook (a scrolling ``<div>`` around a pandas Styler) and as text
        with ``print``.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame or Series.
    KeyError
        If a name in ``key``, ``units``, ``digits`` or ``decimals`` is not a column of the table.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name if frame.name is not None else "value")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"present() takes a pandas DataFrame or Series, not {type(frame).__name__}.")
    units, rename = dict(units or {}), dict(rename or {})
    all_decimals = decimals if isinstance(decimals, int) else None
    decimals = dict(decimals) if isinstance(decimals, Mapping) else {}
    per_column_digits = dict(digits) if isinstance(digits, Mapping) else {}
    default_digits = 3 if isinstance(digits, Mapping) else int(digits)

    data = frame.copy()
    if index is None:  # an unnamed integer index (0 … n−1, or shuffled by a sort) is a row number, not information
        index = any(n is not None for n in data.index.names) or not pd.api.types.is_integer_dtype(data.index)
    if index:
        names = [n if n is not None else "" for n in data.index.names]
        if isinstance(data.columns, pd.MultiIndex):
            names = [(n,) + ("",) * (data.columns.nlevels - 1) for n in names]
        data.index = data.index.set_names(names)
        data = data.reset_index()
    else:
        data = data.reset_index(drop=True)

    def resolve(name, what):
        """The column of ``data`` a user-given name refers to (a first-level name works for MultiIndex columns)."""
        if name in data.columns:
            return [name]
        if isinstance(data.columns, pd.MultiIndex):
            hits = [c for c in data.columns if c[0] == name]
            if hits:
                return hits
        raise KeyError(f"{what} names {name!r}, which is not a column of the table; columns: {list(data.columns)}.")

    for name, what in (
        [(k, "key") for k in key]
        + [(k, "units") for k in units]
        + [(k, "digits") for k in per_column_digits]
        + [(k, "decimals") for k in decimals]
    ):
        resolve(name, what)
    first = [c for k in key for c in resolve(k, "key")]
    lead = list(data.columns[: frame.index.nlevels]) if index else []
    order = lead + [c for c in first if c not in lead]
    data = data[order + [c for c in data.columns if c not in order]]

    def lookup(mapping, column):
        if column in mapping:
            return mapping[column]
        if isinstance(column, tuple) and column[0] in mapping:
            return mapping[column[0]]
        return None

    cells, numeric = {}, []
    for column in data.columns:
        series = data[column]
        header = _header(column, rename, units)
        if _is_number(series):
            numeric.append(header)
            fixed = lookup(decimals, column)
            fixed = all_decimals if fixed is None else fixed
            sig = lookup(per_column_digits, column) or default_digits
            whole = fixed is None and _whole(series)
            cells[header] = [format_number(int(v) if whole and pd.notna(v) and np.isfinite(v) else v, sig, fixed) for v in series]
        else:
            cells[header] = [
                MISSING
                if v is None or (isinstance(v, float) and math.isnan(v))
                else format_number(v)
                if isinstance(v, (bool, np.bool_, float, np.floating))
                else str(v)
                for v in series
            ]
    headers = list(cells)
    formatted = pd.DataFrame(dict(enumerate(cells.values())), index=range(len(data)))
    formatted.columns = pd.MultiIndex.from_tuples(headers) if isinstance(data.columns, pd.MultiIndex) else headers
    return Table(data, formatted, numeric, caption)
