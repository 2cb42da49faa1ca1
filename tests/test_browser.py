"""The built book in a real browser (headless Chromium), with no network but the loopback.

For the index and every page of ``_toc.yml`` in ``_build/html`` (served by a local
``http.server`` on 127.0.0.1): no JavaScript error in the console (severity SEVERE, which
includes failed loads), no request to any other host (no CDN), every <img> loaded, and on pages
with nglview widgets every 3D viewer drawn (its canvas is not blank). A second test builds the
small book in ``tests/fixtures/widget_book`` (an Fe-Mn pair shown with
``jijtutorial.viewer.show_structure``) and checks the same there, so the offline widget
pipeline is tested even while no chapter shows a 3D view.

Every page is also read as a reader sees it (:data:`_TEXT_JS`), once MathJax has typeset it: no
raw TeX (``$``, ``\\(``, ``\\mathrm``, ``_{``) anywhere but in code — text, headings, page title,
navigation, tables and bibliography included —, no symbol typed with an underscore (``Δ_i``) in
the prose, and on a chapter page no element whose whole text is the name of a value its Markdown
quotes with ``{eval}`` (a value shown as its name).

Marked ``browser`` and ``slow``. Skips, with the reason, when Chromium/chromedriver or selenium are missing
(``bash .ci/install_browser.sh`` installs them) or when the book has not been built
(``python3 tasks.py book``).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _browser import PAGE_TIMEOUT, canvas_drawn, find_browser, make_driver, toc_pages

ROOT = Path(__file__).resolve().parent.parent
#: The built book; JIJTUTORIAL_BOOK_HTML points the test at a build elsewhere.
BUILT = Path(os.environ.get("JIJTUTORIAL_BOOK_HTML", ROOT / "_build" / "html"))
FIXTURE_BOOK = ROOT / "tests" / "fixtures" / "widget_book"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class LocalServer:
    """Serve a folder on 127.0.0.1 (an ephemeral port) in a background thread."""

    def __init__(self, folder: Path):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def chromium():
    browser, driver_path = find_browser()
    with tempfile.TemporaryDirectory(prefix="jij-chromium-") as profile:
        drv = make_driver(browser, driver_path, Path(profile))
        try:
            yield drv
        finally:
            drv.quit()


#: JavaScript: is the page done? Document loaded, MathJax (if any) typeset, every widget view
#: rendered by the embed manager and every nglview stage finished loading its structure.
_PAGE_STATE_JS = r"""
const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
const rendered = Array.from(views).filter(s => s.previousElementSibling &&
    s.previousElementSibling.classList.contains('widget-subarea') &&
    s.previousElementSibling.children.length > 0).length;
const state = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
let nglViews = 0;
if (state) {
  const models = JSON.parse(state.textContent).state;
  for (const s of views) {
    const m = models[JSON.parse(s.textContent).model_id];
    if (m && m.model_name === 'NGLModel') nglViews += 1;
  }
}
const mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
if (mathjax && !window.__jijMathDone) {
  window.__jijMathDone = 'pending';
  mathjax.then(() => { window.__jijMathDone = 'done'; });
}
return {ready: document.readyState, views: views.length, rendered: rendered, nglViews: nglViews,
        canvases: document.querySelectorAll('.widget-subarea canvas').length,
        math: window.MathJax ? (window.__jijMathDone || 'pending') : 'none',
        mathLoaded: !!(window.MathJax && window.MathJax.startup)};
"""


def _wait_for_page(drv) -> dict:
    start = time.monotonic()
    deadline = start + PAGE_TIMEOUT
    state = {}
    while time.monotonic() < deadline:
        state = drv.execute_script(_PAGE_STATE_JS)
        done = (
            state["ready"] == "complete"
            and state["math"] in ("done", "none")
            and state["rendered"] == state["views"]
            and state["canvases"] >= state["nglViews"]
        )
        if done:
            return state
        if (
            state["ready"] == "complete"
            and state["math"] == "pending"
            and not state["mathLoaded"]
            and time.monotonic() - start > 15
        ):
            return state  # MathJax is configured but its script never arrived: no use waiting
        time.sleep(0.5)
    return state


def _image_report(drv) -> list[str]:
    """<img> elements that did not load (scrolled into view first, in case any is lazy)."""
    return drv.execute_script(r"""
const bad = [];
for (const img of document.images) {
  img.scrollIntoView();
  if (!img.complete || img.naturalWidth === 0) bad.push(img.currentSrc || img.src || img.outerHTML.slice(0, 120));
}
window.scrollTo(0, 0);
return bad;
""")


#: JavaScript: what a reader sees as text that is not what it should be. arguments[0]: {name: allowed}
#: for the glue names of the page's source ({eval}`name`) and how often its Markdown shows the name as
#: code. Returns raw TeX (anywhere but code and typeset formulas: headings, navigation, tables and
#: the bibliography included), symbols typed with an underscore in prose (Δ_i, T_C), and elements
#: whose whole text is a glue name (a value shown as its name).
_TEXT_JS = r"""
const names = arguments[0] || {};
const skip = 'script, style, noscript, template, code, pre, .highlight, mjx-container, mjx-assistive-mml, .MathJax, ' +
             'math, annotation, svg, [aria-hidden="true"].katex-mathml';
const tex = /\$|\\[()[\]]|\\[A-Za-z]{2,}|[_^]\{/;
const underscore = /(^|[^\w])([A-Za-z\u0370-\u03ff][A-Za-z0-9\u0370-\u03ff]{0,2}_[A-Za-z0-9\u0370-\u03ff]{1,3})(?![\w])/;
const where = el => el.closest('.bd-sidebar-primary, nav') ? 'navigation' : el.closest('h1, h2, h3, h4, h5, h6') ?
    'heading' : el.closest('#bibliography, .citation, dl.citation, .bibliography') ? 'bibliography' :
    el.closest('.cell_output') ? 'output' : 'text';
const found = [];
const seen = new Set();
if (tex.test(document.title)) found.push({kind: 'tex', where: 'page title', text: document.title});
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let t = walker.nextNode(); t; t = walker.nextNode()) {
  const el = t.parentElement;
  if (!el || el.closest(skip) || seen.has(t.textContent)) continue;
  const w = where(el);
  const m = t.textContent.match(tex) || (w !== 'output' && t.textContent.match(underscore));
  if (m) {
    seen.add(t.textContent);
    found.push({kind: m[0].includes('_') && !/[{$\\]/.test(m[0]) ? 'underscore' : 'tex', where: w, match: m[0].trim(),
                text: t.textContent.trim().slice(0, 160)});
  }
}
const codeBlocks = 'script, style, noscript, template, pre, .highlight';  // inline <code> counts: a name drawn as code
for (const [name, allowed] of Object.entries(names)) {
  const els = Array.from(document.body.querySelectorAll('*')).filter(e => !e.closest(codeBlocks) &&
      e.textContent.trim() === name && !Array.from(e.children).some(c => c.textContent.trim() === name));
  if (els.length > allowed) found.push({kind: 'name', where: 'text', match: name, text: els.length + ' element(s)'});
}
return found;
"""


def glue_names(notebook: Path) -> dict[str, int]:
    """Glue names a notebook's Markdown refers to ({eval}`name`), each with how often the Markdown
    shows that same name as inline code (``name``), which the page may show as text."""
    from notebook_text import REFERENCE, markdown_text

    text = markdown_text(notebook)
    names = {name: 0 for _, name in REFERENCE.findall(text)}
    for m in re.finditer(r"`([^`\n]+)`", re.sub(r"\{[^}\s]+\}`[^`]*`", "", text)):  # code spans, roles removed
        if m.group(1).strip() in names:
            names[m.group(1).strip()] += 1
    return names


def text_problems(found: list[dict]) -> list[str]:
    """Problems of :data:`_TEXT_JS`'s findings, one line each."""
    what = {
        "tex": "formula not typeset",
        "underscore": "symbol typed with an underscore instead of as math",
        "name": "computed value shown as its glue name",
    }
    return [f"{what[f['kind']]} in the {f['where']}: {f.get('match', '')!r} in {f['text']!r}" for f in found]


def check_page(drv, origin: str, page: str, names: dict[str, int] | None = None) -> list[str]:
    """Open one page; return a list of problems found (empty if none)."""
    from selenium.webdriver.common.by import By

    drv.get_log("browser")  # drop what earlier pages left
    drv.get_log("performance")
    drv.get(f"{origin}/{page}")
    state = _wait_for_page(drv)
    problems = []
    if state.get("ready") != "complete" or state.get("math") not in ("done", "none"):
        problems.append(f"page did not finish loading (scripts, formulas, widgets): {state}")
    if state.get("rendered") != state.get("views"):
        problems.append(f"only {state.get('rendered')} of {state.get('views')} widget views rendered")
    problems += [f"image not loaded: {src}" for src in _image_report(drv)]

    # 3D views: one drawn canvas per nglview widget on the page.
    if state.get("nglViews"):
        canvases = drv.find_elements(By.CSS_SELECTOR, ".widget-subarea canvas")
        if len(canvases) < state["nglViews"]:
            problems.append(f"{state['nglViews']} nglview widgets but {len(canvases)} canvases")
        for k, canvas in enumerate(canvases):
            ok, why = canvas_drawn(drv, canvas)
            if not ok:
                # Software WebGL can be slow on a busy machine: one more look after a pause.
                time.sleep(5)
                ok, why = canvas_drawn(drv, canvas)
            if not ok:
                problems.append(f"3D view {k} is blank ({why})")

    problems += text_problems(drv.execute_script(_TEXT_JS, names or {}))

    for entry in drv.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"console error: {entry['message']}")
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") != "Network.requestWillBeSent":
            continue
        url = msg["params"]["request"]["url"]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and f"{parts.scheme}://{parts.netloc}" != origin:
            problems.append(f"request to another host (pages must work offline): {url}")
    return problems


def _assert_pages(drv, folder: Path, pages: list[str], source_root: Path):
    missing = [p for p in pages if not (folder / p).is_file()]
    assert not missing, f"pages listed in the toc but not built: {missing}"
    report = {}
    with LocalServer(folder) as server:
        for page in pages:
            source = (source_root / page).with_suffix(".ipynb")
            problems = check_page(drv, server.origin, page, glue_names(source) if source.is_file() else None)
            if problems:
                report[page] = problems
    assert not report, "problems in the browser:\n" + "\n".join(
        f"{page}:\n  " + "\n  ".join(p[:400] for p in probs) for page, probs in report.items()
    )


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_built_book_pages_work_offline(chromium):
    if not (BUILT / "index.html").is_file():
        pytest.skip(f"book not built ({BUILT / 'index.html'} missing): run `python3 tasks.py book` first.")
    _assert_pages(chromium, BUILT, toc_pages(ROOT / "_toc.yml"), ROOT)


@pytest.fixture(scope="module")
def widget_book(tmp_path_factory) -> Path:
    """Build tests/fixtures/widget_book (one notebook with an nglview widget) into a temp folder."""
    find_browser()  # skip before spending time on the build
    out = tmp_path_factory.mktemp("widget_book")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(FIXTURE_BOOK), "--path-output", str(out), "-W", "-n"]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"building the widget fixture book failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out / "_build" / "html"


@pytest.mark.browser
@pytest.mark.slow
def test_widget_book_renders_3d_view_offline(chromium, widget_book):
    html = (widget_book / "widget_smoke.html").read_text()
    # The page loads the widget code from the book itself, not from a CDN.
    assert "_static/vendor/jupyter-widgets/embed-amd.js" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com/@jupyter-widgets" not in html
    assert (widget_book / "_static" / "vendor" / "nglview-js-widgets" / "index.js").stat().st_size > 1_000_000
    assert '"model_name": "NGLModel"' in html
    _assert_pages(chromium, widget_book, toc_pages(FIXTURE_BOOK / "_toc.yml"), FIXTURE_BOOK)


_BAD_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>\(J_{ij}\) data</title></head><body>
<nav class="bd-sidebar-primary"><a>References \(T_\mathrm{C}\)</a></nav>
<h1>Magnetic topological insulators and the J_{ij} data</h1>
<p>The best mix is <code>best_pair</code>; mean field ranks <span>mf_rank</span>, and Δ_i is the splitting.</p>
<p>Allowed: the role <code>helps_text</code> is named in the text; code is not text: <code>$x_{1}$</code></p>
<pre>print("best_pair", mf_rank)</pre>
<div class="cell_output"><table><caption>T_C of Cr</caption><tr><td>Bi$_2$Te$_3$</td></tr></table></div>
</body></html>"""


@pytest.mark.browser
@pytest.mark.slow
def test_the_text_check_finds_what_a_reader_should_not_see(chromium, tmp_path):
    """The check of every page can fail: raw TeX in the title, navigation, a heading and a table; a symbol with an
    underscore in the prose; glue names shown instead of values (as code or text); not the names the text shows."""
    (tmp_path / "bad.html").write_text(_BAD_PAGE)
    with LocalServer(tmp_path) as server:
        drv = chromium
        drv.get(f"{server.origin}/bad.html")
        found = drv.execute_script(_TEXT_JS, {"best_pair": 0, "mf_rank": 0, "helps_text": 1})
    where = sorted((f["kind"], f["where"]) for f in found)
    assert ("tex", "page title") in where and ("tex", "navigation") in where and ("tex", "heading") in where
    assert ("tex", "output") in where  # Bi$_2$Te$_3$ in a table
    assert ("underscore", "text") in where  # Δ_i
    assert not any(f["where"] == "output" and f["kind"] == "underscore" for f in found)  # T_C in a caption: tables are data
    assert sorted(f["match"] for f in found if f["kind"] == "name") == ["best_pair", "mf_rank"]
    assert len(text_problems(found)) == len(found)


def test_glue_names_counts_the_names_the_text_shows_as_code(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("A {eval}`best_pair` and {eval}`helps_text`; the variable `helps_text` holds it.")]
    )
    nbformat.write(nb, tmp_path / "c.ipynb")
    assert glue_names(tmp_path / "c.ipynb") == {"best_pair": 0, "helps_text": 1}


def test_toc_pages_lists_root_and_chapters(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
        "      - file: notebooks/01_a\n        sections:\n          - file: notebooks/01b\n"
        "  - caption: B\n    chapters:\n      - file: book/bib\n"
    )
    assert toc_pages(toc) == ["index.html", "book/intro.html", "notebooks/01_a.html", "notebooks/01b.html", "book/bib.html"]
