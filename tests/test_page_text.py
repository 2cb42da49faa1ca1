"""Page text: browser-tab titles of pages whose heading holds math read as text, glued numbers are not bold."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("page_text", Path(__file__).parents[1] / "book/_ext/page_text.py")
page_text = importlib.util.module_from_spec(spec)
spec.loader.exec_module(page_text)


@pytest.mark.parametrize(
    "title, expected",
    [
        (r"\(J_{ij}\) from Green functions", "Jᵢⱼ from Green functions"),
        (r"Magnetic topological insulators and the \(J_{ij}\) data", "Magnetic topological insulators and the Jᵢⱼ data"),
        (r"The \(T_C\) of a dilute magnet", "The T_C of a dilute magnet"),  # no Unicode subscript C: keep it readable
        (r"\(\mathbf{D}_{ij}\) vectors", "Dᵢⱼ vectors"),
        ("Building the database", "Building the database"),
    ],
)
def test_plain_title(title, expected):
    assert page_text.plain_title(title) == expected


def test_the_page_context_title_is_rewritten():
    context = {"title": r"\(J_{ij}\) from Green functions", "body": r"<h1>\(J_{ij}\)</h1>"}
    page_text._page_context(None, "notebooks/03_jij_from_greens", "page.html", context, None)
    assert context == {"title": "Jᵢⱼ from Green functions", "body": r"<h1>\(J_{ij}\)</h1>"}


def test_glued_text_is_not_bold():
    css = (page_text.STATIC_DIR / "page-text.css").read_text()
    assert "span.pasted-text" in css and "font-weight: inherit" in css
