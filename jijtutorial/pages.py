"""Numbers and sentences a chapter's text quotes from its own computation.

A chapter computes a value and calls :func:`glue` with a name; its Markdown shows the value with
the role ``{eval}`name```. That one role works in both places a chapter is read:

* **JupyterLab** (jupyterlab-myst) evaluates ``name`` in the running kernel: :func:`glue` sets a
  variable of that name in the notebook's namespace, holding the formatted text (or, for a
  sentence with math or emphasis, a ``Markdown`` object).
* **The book** (Jupyter Book, notebooks executed by myst-nb) has no kernel while it reads the
  page, so ``book/_ext/page_text.py`` resolves ``{eval}`name``` from the value :func:`glue` stored
  with ``myst_nb.glue`` under the same name (always as Markdown).

So the book never quotes a number that its own tables and figures do not show, whichever data set
it was built with, and a workshop participant sees the same text in JupyterLab. Numbers are stored
already formatted with significant digits (:func:`jijtutorial.tables.format_number`) or a format
specification (``fmt``), so a coupling of 0.0063 meV (model data) reads as well as one of 2.4 meV
(JuKKR). The glued output is the one ``myst_nb.glue`` writes, produced without importing myst-nb,
so a chapter also runs where only the package is installed (e.g. on Colab).

:func:`progress_bars` says whether a long cell should show a progress bar: yes for a person
running the chapter, no when the book build, ``tasks.py prepare`` or the tests execute it (the
bar would end up on the published page).
"""

from __future__ import annotations

import builtins
import keyword
import numbers
import os
import re

from .tables import format_number

__all__ = ["glue", "glued_text", "progress_bars", "PROGRESS_VARIABLE"]

#: Environment variable that switches the chapters' progress bars off ("0") or on ("1").
PROGRESS_VARIABLE = "JIJTUTORIAL_PROGRESS"


def progress_bars() -> bool:
    """Show progress bars in long cells? True unless ``$JIJTUTORIAL_PROGRESS`` is ``0``.

    ``python3 tasks.py book``, ``prepare`` and ``test`` set it to ``0``: their executed notebooks
    become pages or test records, where a bar is clutter. In JupyterLab the bars are widgets.
    """
    value = os.environ.get(PROGRESS_VARIABLE, "1").strip().lower()
    if value not in ("0", "1", "false", "true", "no", "yes", ""):
        raise ValueError(f"${PROGRESS_VARIABLE} must be 0 or 1, not {value!r}.")
    return value not in ("0", "false", "no")


#: What a glue name may contain (it must also be a Python identifier: JupyterLab evaluates it).
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Prefix myst-nb gives the MIME types of a glued value that is not displayed.
GLUE_PREFIX = "application/papermill.record/"


def _text(value, digits: int, fmt: str | None) -> str:
    if fmt is not None:
        return format(value, fmt)
    if isinstance(value, str):
        return value
    try:
        return format_number(value, digits)
    except (TypeError, ValueError):
        return str(value)


def glued_text(value, digits: int = 2, fmt: str | None = None) -> str:
    """The text :func:`glue` stores for ``value`` (formatted as described there)."""
    return _text(value, digits, fmt)


def glue(name: str, value, digits: int = 2, markdown: bool = False, fmt: str | None = None) -> None:
    """Store ``value`` under ``name`` for the chapter's text (``{eval}`name```), without showing it.

    Parameters
    ----------
    name : str
        Identifier used in the Markdown, e.g. ``twin_median`` for ``{eval}`twin_median```.
    value : str, int, float or bool
        Text is stored as is; numbers are formatted with ``digits`` significant digits
        (``1.2 × 10⁻⁵`` for tiny ones), integers in full, NaN as an en dash.
    digits : int, default 2
        Significant digits of a float.
    markdown : bool, default False
        The text is Markdown (a sentence with math or emphasis): JupyterLab renders it as such.
    fmt : str, optional
        A format specification (``'.3f'``) used instead of ``digits``.

    Returns
    -------
    None
        Nothing, so that a ``glue`` call at the end of a cell shows no output in JupyterLab
        (:func:`glued_text` gives the text).

    Raises
    ------
    ValueError
        If ``name`` is not an identifier (letters, digits, underscores, not starting with a digit),
        is a Python keyword or builtin (``len``, ``print``, ``sum``, ...: the notebook would lose it),
        if ``digits`` is not a positive integer, or if the notebook already has a variable of that name that glue did not set (the
        ``{eval}`` value lives in the kernel's namespace and would overwrite it).
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(
            f"glue name {name!r} must be an identifier (letters, digits, underscores), "
            "because the Markdown refers to it as {eval}`name`."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or hasattr(builtins, name):
        kind = "a Python keyword" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else "a Python builtin"
        raise ValueError(
            f"glue name {name!r} is {kind}: glue sets a variable of that name in the notebook, which "
            f"would break every later use of {name!r} there. Choose another name (e.g. {name + '_text'!r})."
        )
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"glue digits must be a positive whole number of significant digits, not {digits!r}.")
    text = _text(value, digits, fmt)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown
    except ImportError:  # not in a notebook kernel: there is no page to glue to
        return None
    shell = get_ipython()
    if shell is not None:  # what jupyterlab-myst's {eval} reads
        glued = shell.user_ns.setdefault("_jijtutorial_glued", set())
        if name in shell.user_ns and name not in glued:
            raise ValueError(
                f"glue name {name!r} is also a variable of this notebook: the text's {{eval}}`{name}` is "
                f"evaluated in the kernel, so glue would overwrite it. Rename the glued value "
                f"(e.g. {name + '_text'!r})."
            )
        glued.add(name)
        shell.user_ns[name] = Markdown(text) if markdown else text
    # What the book's {eval} reads: the output myst_nb.glue(name, Markdown(text), display=False) writes
    # (a display_data with 'scrapbook' metadata), written here because importing myst-nb (Sphinx)
    # would cost every chapter a second, and so that a chapter runs where myst-nb is not installed.
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(Markdown(text))
    metadata = dict(metadata or {}, scrapbook={"name": name, "mime_prefix": GLUE_PREFIX})
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    return None
