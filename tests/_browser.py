"""Helpers shared by the browser tests (test_browser.py, test_jupyterlab.py): headless Chromium.

Chromium runs headless with no GPU but WebGL through SwiftShader (software rendering), with no
name resolution but for the loopback (so pages are tested offline even on a machine with
network), nothing that phones home, and a fresh profile per run. :func:`find_browser` skips the
calling test, saying why, when selenium, Chromium or chromedriver is missing
(``bash .ci/install_browser.sh`` installs them).
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pytest
import yaml

#: Chromium flags: see the module docstring.
CHROMIUM_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,1000",
)

#: Longest wait for a page load (scripts, formulas, widgets), in seconds.
PAGE_TIMEOUT = 90.0


def find_browser() -> tuple[str, str]:
    """Paths of Chromium and chromedriver; skips the test (with the reason) if either is missing."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]').")
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip(
            "headless Chromium or chromedriver not found: run `bash .ci/install_browser.sh` "
            "(Debian packages chromium, chromium-driver)."
        )
    return browser, driver


def make_driver(browser: str, driver_path: str, profile: Path, *, page_timeout: float = PAGE_TIMEOUT):
    """A headless Chromium WebDriver with :data:`CHROMIUM_FLAGS`, logging console and network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    drv.set_page_load_timeout(page_timeout)
    return drv


def canvas_drawn(drv, canvas, min_fraction: float = 0.02) -> tuple[bool, str]:
    """Is the canvas drawn? Its pixels on screen must not be (almost) all one colour.

    Returns ``(drawn, description)``; the description gives the size on screen, the fraction
    of pixels that differ from the most common colour and the number of distinct colours.
    """
    import numpy as np
    from PIL import Image

    drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    time.sleep(0.3)
    size = drv.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", canvas)
    if min(size) < 50:
        return False, f"canvas is only {size[0]:.0f}x{size[1]:.0f} px on screen"
    px = np.asarray(Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("RGB")).astype(int)
    h, w = px.shape[:2]
    if w < 50 or h < 50:
        return False, f"canvas is only {w}x{h} px on screen"
    flat = px.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    frac = float(np.mean(np.abs(flat - background).max(axis=1) > 24))
    return frac >= min_fraction and len(colours) > 20, f"{w}x{h} px, {frac:.1%} not background, {len(colours)} colours"


def toc_files(toc_file: Path) -> list[str]:
    """Files (as written, without suffix) of the root and every file entry of a _toc.yml, in order."""
    toc = yaml.safe_load(toc_file.read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))
            for part in e.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return [str(Path(f).with_suffix("")) for f in files]


def toc_pages(toc_file: Path) -> list[str]:
    """HTML paths (relative to the HTML root) of the root and every file entry of a _toc.yml."""
    pages = [f + ".html" for f in toc_files(toc_file)]
    return ["index.html"] + [p for p in pages if p != "index.html"]


def toc_notebooks(toc_file: Path) -> list[Path]:
    """The entries of a _toc.yml that are Jupyter notebooks (``<file>.ipynb`` exists), in order."""
    root = toc_file.parent
    return [root / (f + ".ipynb") for f in toc_files(toc_file) if (root / (f + ".ipynb")).is_file()]
