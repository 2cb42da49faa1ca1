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
  The glued Markdown is parsed with the book's own MyST configuration (myst-nb's ``myst`` format,
  not its default ``commonmark``), so a glued sentence with ``$T_\\mathrm{C}$`` is typeset as a
  formula, as it is in JupyterLab, instead of showing its dollars.
* myst-nb sets every pasted value in bold; the chapters quote numbers in running text, where they
  should read like the words around them (``page-text.css``).
* MathJax is loaded on every page, not only on pages with formulas of their own: the navigation
  of every page holds chapter titles with math (``$J_{ij}$``), which stay raw LaTeX,
  ``\\(J_{ij}\\)``, where MathJax is missing (the References page).
* Tables on dark pages (``page-text.css``): a table output keeps its own light background, with
  dark text and a readable caption, in either theme.
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


#: Format in which ``{eval}`name``` parses the glued Markdown: the page's MyST, with its extensions
#: (dollar math). myst-nb's paste role defaults to plain CommonMark, which leaves ``$...$`` as text.
EVAL_FORMAT = "myst"


def eval_role():
    """The ``{eval}`` role of the book: myst-nb's ``{glue:md}`` paste, parsing the value as MyST."""
    from myst_nb.ext.glue.roles import PasteMarkdownRole

    class EvalRole(PasteMarkdownRole):
        def run(self):
            if ":" not in self.text:  # a glue name is an identifier; "name:format" names its own format
                self.text = f"{self.text}:{EVAL_FORMAT}"
            return super().run()

    return EvalRole()


def _eval_from_glue(app) -> None:
    """``{eval}`name``` pastes the Markdown glued under ``name`` (replaces myst-nb's inline-mode role)."""
    app.add_role("eval", eval_role(), override=True)
    app.set_html_assets_policy("always")  # MathJax on every page: the navigation holds math


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _eval_from_glue)
    app.connect("html-page-context", _page_context)
    app.add_css_file("page-text.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
