"""Numbers and sentences a chapter's text quotes from its own computation (myst-nb ``glue``).

A chapter computes a value and glues it under a name; its Markdown then shows the value with
``{glue:text}`name``` (plain text) or ``{glue:md}`name``` (Markdown: math, emphasis). The book
therefore never quotes a number that its own tables and figures do not show, whichever data set
it was built with.

:func:`glue` stores every value as text, numbers already formatted with significant digits
(:func:`jijtutorial.tables.format_number`), so that ``{glue:text}`name``` needs no format
specification and a coupling of 0.0063 meV (model data) reads as well as one of 2.4 meV (JuKKR).
It uses ``myst_nb.glue`` when myst-nb is installed (the book) and writes the same output itself
otherwise (e.g. on Colab, where only the package is installed), so a chapter runs anywhere.
"""

from __future__ import annotations

import re

from .tables import format_number

__all__ = ["glue"]

#: What a glue name may contain (the ``{glue:text}`name:format``` syntax splits at ':').
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Prefix myst-nb gives the MIME types of a glued value that is not displayed.
GLUE_PREFIX = "application/papermill.record/"


def _text(value, digits: int) -> str:
    if isinstance(value, str):
        return value
    try:
        return format_number(value, digits)
    except (TypeError, ValueError):
        return str(value)


def glue(name: str, value, digits: int = 2, markdown: bool = False) -> None:
    """Store ``value`` under ``name`` for the chapter's text, without showing it in the notebook.

    Parameters
    ----------
    name : str
        Identifier-like name used in the Markdown, e.g. ``twin_median`` for
        ``{glue:text}`twin_median```.
    value : str, int, float or bool
        Text is stored as is; numbers are formatted with ``digits`` significant digits
        (``1.2 × 10⁻⁵`` for tiny ones), integers in full, NaN as an en dash.
    digits : int, default 2
        Significant digits of a float.
    markdown : bool, default False
        Store the text as Markdown, for ``{glue:md}`name``` (a sentence with math or emphasis).

    Raises
    ------
    ValueError
        If ``name`` is not identifier-like (letters, digits, underscores).
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"glue name {name!r} must be identifier-like (letters, digits, underscores), "
                         "because the Markdown refers to it as {glue:text}`name`.")
    text = _text(value, digits)
    try:
        from IPython.display import Markdown
    except ImportError:  # not in a notebook kernel: there is no page to glue to
        return
    shown = Markdown(text) if markdown else text
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        myst_glue = None
    if myst_glue is not None:
        myst_glue(name, shown, display=False)
        return
    # The same output myst_nb.glue writes (a display_data with 'scrapbook' metadata), without myst-nb.
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(shown)
    metadata = dict(metadata or {}, scrapbook={"name": name, "mime_prefix": GLUE_PREFIX})
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
