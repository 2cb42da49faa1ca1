"""How the text of a page reads: math in page titles, numbers glued in from the computation.

* A chapter heading such as ``# $J_{ij}$ from Green functions`` is typeset by MathJax in the page
  and in the side bar, but the HTML ``<title>`` (the browser tab, bookmarks) gets the raw LaTeX,
  ``\\(J_{ij}\\) from Green functions``. The title is written there as text with Unicode
  subscripts instead: ``Jᵢⱼ from Green functions``.
* The chapters quote their computed numbers with the role ``{eval}`name``` (see
  :mod:`jijtutorial.pages`): JupyterLab evaluates ``name`` in the kernel; here, where myst-nb
  executes the notebook before the page is read and no kernel is left, ``{eval}`name``` pastes the
  value the chapter glued under that name (myst-nb's ``{glue:md}``). myst-nb's own ``eval`` role
  works only in its ``inline`` execution mode, which this book does not use.
* myst-nb sets every pasted value in bold; the chapters quote numbers in running text, where they
  should read like the words around them (``page-text.css``).
"""

from __future__ import annotations

import re
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "_static"

#: Letters and digits that have a Unicode subscript form.
_SUBSCRIPTABLE = "aehijklmnoprstuvx0123456789+-=()"
_SUBSCRIPTS = "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎"
_TO_SUBSCRIPT = str.maketrans(_SUBSCRIPTABLE, _SUBSCRIPTS)
_INLINE_MATH = re.compile(r"\\\((.+?)\\\)")
_SUBSCRIPT = re.compile(r"_(?:\{([^{}]*)\}|(\w))")


def _subscript(match: re.Match) -> str:
    text = match.group(1) if match.group(1) is not None else match.group(2)
    return text.translate(_TO_SUBSCRIPT) if all(c in _SUBSCRIPTABLE for c in text) else "_" + text


def plain_title(title: str) -> str:
    """``title`` with every ``\\(...\\)`` replaced by readable text (subscripts in Unicode, no backslashes)."""
    def math(match: re.Match) -> str:
        tex = _SUBSCRIPT.sub(_subscript, match.group(1))
        tex = re.sub(r"\\(mathrm|mathbf|mathcal|text)\{([^{}]*)\}", r"\2", tex)
        return re.sub(r"\\([A-Za-z]+)", r"\1", tex).replace("{", "").replace("}", "")
    return _INLINE_MATH.sub(math, title)


def _page_context(app, pagename, templatename, context, doctree) -> None:
    if isinstance(context.get("title"), str):
        context["title"] = plain_title(context["title"])


def _config_inited(app, config) -> None:
    static = str(STATIC_DIR)
    if static not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path.append(static)


def _eval_from_glue(app) -> None:
    """``{eval}`name``` pastes the Markdown glued under ``name`` (replaces myst-nb's inline-mode role)."""
    from myst_nb.ext.glue.roles import PasteMarkdownRole

    app.add_role("eval", PasteMarkdownRole(), override=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _eval_from_glue)
    app.connect("html-page-context", _page_context)
    app.add_css_file("page-text.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
