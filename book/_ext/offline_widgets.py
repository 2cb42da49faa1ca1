"""Sphinx extension: serve the book's JavaScript (widgets, nglview, MathJax) from the book itself.

myst-nb embeds the saved widget state of a notebook and, on pages that have some, loads
require.js and the ``@jupyter-widgets/html-manager`` embed bundle, by default from public CDNs;
the embed bundle then fetches every third-party widget module (here ``nglview-js-widgets``)
from a CDN as well. The book must work without network (and nglview 4.0.1 even asked for a
front-end version that no CDN carries, see tests/test_nglview_frontend.py), so this extension

* points myst-nb's ``nb_ipywidgets_js`` at copies in the book's ``_static/`` folder:
  ``vendor/jupyter-widgets/require.js`` (RequireJS), ``offline-widgets.js`` (configures
  RequireJS to load widget modules from ``_static/vendor/``) and
  ``vendor/jupyter-widgets/embed-amd.js`` (the html-manager embed bundle). These three are
  committed under ``book/_static/`` (see ``book/_static/vendor/README.md``; refresh them with
  ``python book/_ext/fetch_widget_js.py``), and their SHA-256 is checked at every build;
* copies nglview's widget module (the AMD bundle ``index.js`` of the *installed* nglview's
  notebook extension, so it always matches the Python package) into
  ``_static/vendor/nglview-js-widgets/`` of the built HTML;
* points ``mathjax_path`` at MathJax 3 in ``_static/vendor/mathjax/`` (committed likewise), so
  formulas render without network too;
* removes script tags that a page would load twice (sphinx-thebe registers its inline
  ``const THEBE_JS_URL = ...`` twice under jupyter-book 1 / Sphinx 7, a JavaScript error on
  every page) and sets the theme's ``default_mode`` (an ``html_context`` value) to ``auto`` if unset (pydata-sphinx-theme
  logs an error for the empty default), so the browser test can demand an error-free console;
* writes the book's favicon also as ``/favicon.ico`` of the HTML root;
* adds ``structure-views.css``: a cell tagged ``structure-views`` shows its outputs (the
  static picture and the 3D view of :func:`jijtutorial.viewer.show_structure`) side by side.

Nothing is downloaded at build time. Registered in ``_config.yml`` under
``sphinx: local_extensions``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "_static"
VENDOR = "vendor/jupyter-widgets"

#: Committed third-party files and their SHA-256 (see book/_static/vendor/README.md).
VENDORED = {
    f"{VENDOR}/require.js": "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2",
    f"{VENDOR}/embed-amd.js": "ca87dff57c70ffb2658794fde0eab0e27e5f5472a1f5df7ab2b08e1039fc4b72",
    "vendor/mathjax/tex-mml-chtml.js": "300480069078b5892d2363a2b65e2dfbbf30fe5c80f83edbfecf4610fd093862",
}

#: Versions of the vendored files (also in the README and fetch_widget_js.py).
HTML_MANAGER_VERSION = "1.0.15"
REQUIREJS_VERSION = "2.3.7"
MATHJAX_VERSION = "3.2.2"

#: mathjax_path (relative to _static/) of the vendored MathJax.
LOCAL_MATHJAX = "vendor/mathjax/tex-mml-chtml.js"

#: Where nglview's module lands in the built book, relative to the HTML output folder.
NGLVIEW_OUT = Path("_static") / "vendor" / "nglview-js-widgets"

#: What myst-nb loads on a page with widgets, in this order (paths relative to _static/, as
#: Sphinx's add_js_file takes them).
LOCAL_WIDGETS_JS = {
    f"{VENDOR}/require.js": {},
    "offline-widgets.js": {},
    # Widget modules that are not shipped resolve (and fail) under _static/vendor/, never on a
    # CDN: RequireJS resolves this relative URL against the book root (see offline-widgets.js).
    f"{VENDOR}/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/vendor/"},
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_vendored() -> None:
    """Raise if a committed widget file is missing or differs from the recorded version."""
    for rel, digest in VENDORED.items():
        path = STATIC_DIR / rel
        if not path.is_file():
            raise ExtensionError(
                f"offline_widgets: {path} is missing; restore it from git or run "
                f"`python book/_ext/fetch_widget_js.py` (needs npm)."
            )
        if _sha256(path) != digest:
            raise ExtensionError(
                f"offline_widgets: {path} does not match the recorded SHA-256 {digest}; it is not the "
                f"file of html-manager {HTML_MANAGER_VERSION} / requirejs {REQUIREJS_VERSION} / mathjax "
                f"{MATHJAX_VERSION}. Run "
                f"`python book/_ext/fetch_widget_js.py` and update VENDORED if the version changed."
            )


def nglview_nbextension_dir() -> Path:
    """Folder of the installed nglview's notebook extension (holding the AMD bundle index.js)."""
    candidates = []
    try:
        from jupyter_core.paths import jupyter_path

        candidates += [Path(p) / "nglview-js-widgets" for p in jupyter_path("nbextensions")]
    except ImportError:
        pass
    candidates.append(Path(sys.prefix) / "share" / "jupyter" / "nbextensions" / "nglview-js-widgets")
    for folder in candidates:
        if (folder / "index.js").is_file():
            return folder
    raise ExtensionError(
        "offline_widgets: nglview's widget JavaScript (nbextensions/nglview-js-widgets/index.js) was "
        "not found in " + ", ".join(str(c) for c in dict.fromkeys(candidates)) + ". Install nglview "
        "into this environment (pip install nglview) so the 3D structure views can render."
    )


def nglview_version() -> str:
    try:
        from importlib.metadata import version

        return version("nglview")
    except Exception:  # noqa: BLE001 - informative only
        return "unknown"


def copy_nglview(outdir: Path) -> Path:
    """Copy nglview's index.js (+ its licence notes and images) into ``outdir``; return the folder."""
    src = nglview_nbextension_dir()
    dst = Path(outdir) / NGLVIEW_OUT
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        # The 19 MB source map is left out; images are jQuery-UI icons referenced by the bundle.
        if f.is_file() and (f.name in ("index.js", "index.js.LICENSE.txt") or f.suffix == ".png"):
            shutil.copyfile(f, dst / f.name)
    lic = _nglview_licence()
    if lic is not None:
        shutil.copyfile(lic, dst / "LICENSE.txt")
    (dst / "VERSION.txt").write_text(
        f"nglview-js-widgets AMD bundle copied at build time from the installed Python package "
        f"nglview {nglview_version()} ({src}).\n"
    )
    return dst


def _nglview_licence() -> Path | None:
    try:
        from importlib.metadata import distribution

        for f in distribution("nglview").files or ():
            if f.name.upper().startswith("LICENSE"):
                return Path(f.locate())
    except Exception:  # noqa: BLE001
        return None
    return None


def _config_inited(app: Sphinx, config) -> None:
    check_vendored()
    if isinstance(config.html_context, dict) and not config.html_context.get("default_mode"):
        config.html_context["default_mode"] = "auto"
    static = str(STATIC_DIR)
    if static not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path.append(static)
    try:
        from myst_nb.core.config import ipywidgets_js_factory
    except ImportError as err:
        raise ExtensionError("offline_widgets needs myst-nb (part of jupyter-book).") from err
    if config.nb_ipywidgets_js == ipywidgets_js_factory():
        config.nb_ipywidgets_js = dict(LOCAL_WIDGETS_JS)
    elif config.nb_ipywidgets_js != LOCAL_WIDGETS_JS:
        logger.warning(
            "offline_widgets: nb_ipywidgets_js is set in the configuration; keeping it, so widget "
            "JavaScript may be loaded from elsewhere than the book's _static folder.",
            type="offline_widgets",
        )
    from sphinx.ext.mathjax import MATHJAX_URL

    if config.mathjax_path in (MATHJAX_URL, "", None):
        config.mathjax_path = LOCAL_MATHJAX
    elif config.mathjax_path != LOCAL_MATHJAX:
        logger.warning(
            f"offline_widgets: mathjax_path is set to {config.mathjax_path!r}; keeping it, so formulas "
            "may need network to render.",
            type="offline_widgets",
        )


def _dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Drop repeated <script> entries (same source, attributes and inline body) from a page."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    unique = []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        # An inline script has filename None or '' depending on how it was added.
        key = (getattr(js, "filename", str(js)) or "", tuple(sorted((k, str(v)) for k, v in attrs.items() if k != "priority")))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format == "html":
        # Fail early, before notebooks are executed, if nglview's JavaScript is missing.
        nglview_nbextension_dir()


def _build_finished(app: Sphinx, exception) -> None:
    if exception is None and app.builder is not None and app.builder.format == "html":
        dst = copy_nglview(Path(app.builder.outdir))
        logger.info(f"offline_widgets: nglview widget module copied to {dst}")
        write_root_favicon(app)


def write_root_favicon(app: Sphinx) -> None:
    """Put the book's favicon at /favicon.ico of the HTML root as well.

    Pages link their favicon, but a page without the link (jupyter-book's redirecting
    index.html) makes browsers ask for /favicon.ico, a 404 in the console otherwise.
    """
    src = app.config.html_favicon
    out = Path(app.builder.outdir) / "favicon.ico"
    if not src or "://" in str(src) or out.exists():
        return
    path = Path(app.confdir, src)
    if not path.is_file():
        return
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.convert("RGBA").save(out, format="ICO", sizes=[(32, 32), (64, 64)])
    except Exception as err:  # noqa: BLE001 - a missing root favicon is cosmetic
        logger.info(f"offline_widgets: no /favicon.ico written ({err})")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("builder-inited", _builder_inited)
    app.connect("build-finished", _build_finished)
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    app.add_css_file("structure-views.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
