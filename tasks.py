#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 tasks.py book    # build the Jupyter Book, every notebook executed -> _build/html
    python3 tasks.py test    # run the test suite
    python3 tasks.py prepare # before a hands-on session: run every chapter once, so JupyterLab finds its results cached

On first use each command creates a virtual environment in ``.venv`` and installs the package
with everything it needs; later runs reuse it (and reinstall when pyproject.toml changes).
Set ``JIJTUTORIAL_DATA_DIR`` to the folder holding the JuKKR table to use the real data.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("JIJTUTORIAL_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".jijtutorial-installed"


def _say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def _run(cmd: list, **kw) -> None:
    _say(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


#: What each command installs: the book needs the package and the book tools; the tests need
#: those and the test tools (pytest, selenium, ruff). ``test`` includes ``book``.
EXTRAS = {"book": ("book",), "test": ("book", "test"), "env": ("book", "test")}


def ensure_env(extras: tuple[str, ...] = ("book", "test")) -> None:
    """Create .venv and install the package with ``extras``, once per pyproject.toml."""
    if sys.version_info < (3, 10):
        sys.exit(f"jijtutorial needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if "book" in extras and sys.version_info >= (3, 14):
        sys.exit(f"The book and JupyterLab environment needs Python 3.10-3.13; this is {sys.version.split()[0]}. "
                 "Its 3D viewer (nglview 4.0, the release whose JupyterLab extension works) requires "
                 "numpy<2.3, which has no wheels for Python 3.14. Run this with an older Python, e.g. "
                 "`python3.13 tasks.py ...` (the package alone, `pip install .`, works on 3.14).")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    have = STAMP.read_text().split() if PYTHON.exists() and STAMP.exists() else []
    if have and have[0] == want and set(extras) <= set(have[1:]):
        return
    installed = set(have[1:]) if have and have[0] == want else set()
    extras = tuple(sorted(installed | set(extras)))
    t0 = time.perf_counter()
    if not PYTHON.exists():
        _say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{','.join(extras)}]"])
    STAMP.write_text(" ".join((want,) + extras))
    _say(f"environment ready in {time.perf_counter() - t0:.0f} s")


def book(args: list[str]) -> int:
    """Build the book with every notebook executed; fail on any notebook error or warning."""
    ensure_env(EXTRAS["book"])
    out = ROOT / "_build"
    if out.exists() and "--keep" not in args:
        shutil.rmtree(out)
    args = [a for a in args if a != "--keep"]
    t0 = time.perf_counter()
    # No MPLBACKEND here: the kernels must use the inline backend so that figures reach the pages.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["JIJTUTORIAL_PROGRESS"] = "0"  # no progress bars on the pages
    cmd = [str(BIN / "jupyter-book"), "build", ".", "--path-output", ".", "-W", "-n", "--keep-going", *args]
    _say(" ".join(cmd))
    executed = []  # (notebook, seconds) from myst-nb's "Executed notebook in N seconds" lines
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            m = re.search(r"(\S+\.ipynb): Executed notebook in ([0-9.]+) seconds", line)
            if m:
                executed.append((Path(m.group(1)).name, float(m.group(2))))
    _say(f"book build took {time.perf_counter() - t0:.0f} s -> {out / 'html' / 'index.html'}")
    for name, seconds in executed:
        print(f"    {seconds:7.1f} s  executing {name}")
    if proc.returncode:
        _say("the book build failed: see the messages above (a notebook error or a Sphinx warning).")
    return proc.returncode


def test(args: list[str]) -> int:
    """Run the test suite (pytest); extra arguments go to pytest."""
    ensure_env(EXTRAS["test"])
    # As for the book: no MPLBACKEND, so notebook kernels keep the inline backend (tests check figures).
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.setdefault("JIJTUTORIAL_PROGRESS", "0")  # executed chapters without bars (the JupyterLab test turns them on)
    return subprocess.run([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, env=env).returncode


def prepare(args: list[str]) -> int:
    """Run every chapter once with its default parameters (no book build), filling the results cache.

    The chapters keep their expensive results (benchmark runs, Monte Carlo sweeps, features) in
    ``~/.cache/jijtutorial`` (or ``$JIJTUTORIAL_CACHE_DIR``); after this, *Run All* in JupyterLab
    takes seconds per chapter. Building the book does the same. Extra arguments: chapter numbers
    to run (e.g. ``06 07 09``).
    """
    ensure_env(EXTRAS["book"])
    import tempfile

    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args:
        chapters = [c for c in chapters if c.name[:2] in args]
        if not chapters:
            _say(f"no chapter numbered {' '.join(args)} in notebooks/")
            return 2
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["JIJTUTORIAL_PROGRESS"] = "0"
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in chapters:
            t0 = time.perf_counter()
            _say(f"running {nb.name} ...")
            proc = subprocess.run([str(BIN / "papermill"), str(nb), str(Path(tmp) / nb.name), "--cwd", str(nb.parent),
                                   "--no-progress-bar", "--log-level", "WARNING"], cwd=ROOT, env=env)
            _say(f"{nb.name}: {'done' if proc.returncode == 0 else 'FAILED'} in {time.perf_counter() - t0:.0f} s")
            if proc.returncode:
                failed.append(nb.name)
    if failed:
        _say(f"these chapters failed: {', '.join(failed)} (see the messages above)")
        return 1
    _say("every chapter ran once; their results are cached for the session")
    return 0


COMMANDS = {"book": book, "test": test, "prepare": prepare, "env": lambda args: ensure_env(EXTRAS["env"]) or 0}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
