#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 tasks.py book    # build the Jupyter Book, every notebook executed -> _build/html
    python3 tasks.py test    # run the test suite

On first use each command creates a virtual environment in ``.venv`` and installs the package
with everything it needs; later runs reuse it (and reinstall when pyproject.toml changes).
Set ``JIJTUTORIAL_DATA_DIR`` to the folder holding the JuKKR table to use the real data.
"""

from __future__ import annotations

import hashlib
import json
import os
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


def ensure_env() -> None:
    """Create .venv and install the package with its test extra, once per pyproject.toml."""
    if sys.version_info < (3, 10):
        sys.exit(f"jijtutorial needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == want:
        return
    t0 = time.perf_counter()
    if not PYTHON.exists():
        _say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[test]"])
    STAMP.write_text(want)
    _say(f"environment ready in {time.perf_counter() - t0:.0f} s")


def book(args: list[str]) -> int:
    """Build the book with every notebook executed; fail on any notebook error or warning."""
    ensure_env()
    out = ROOT / "_build"
    if out.exists() and "--keep" not in args:
        shutil.rmtree(out)
    args = [a for a in args if a != "--keep"]
    t0 = time.perf_counter()
    env = {**os.environ, "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    _run([BIN / "jupyter-book", "build", ".", "--path-output", ".", "-W", "-n", "--keep-going", *args], env=env)
    _say(f"book built in {time.perf_counter() - t0:.0f} s -> {out / 'html' / 'index.html'}")
    _report_execution_times(out)
    return 0


def _report_execution_times(out: Path) -> None:
    """Print how long each notebook took to execute (from myst-nb's execution reports)."""
    times = []
    for meta in sorted((out / "jupyter_execute").rglob("*.ipynb")):
        try:
            nb = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        cells = nb.get("cells", [])
        start = [c.get("metadata", {}).get("execution", {}).get("iopub.execute_input") for c in cells]
        end = [c.get("metadata", {}).get("execution", {}).get("shell.execute_reply") for c in cells]
        start = [s for s in start if s]
        end = [e for e in end if e]
        if start and end:
            from datetime import datetime

            t = (datetime.fromisoformat(max(end).replace("Z", "+00:00"))
                 - datetime.fromisoformat(min(start).replace("Z", "+00:00"))).total_seconds()
            times.append((meta.relative_to(out / "jupyter_execute"), t))
    if times:
        _say("notebook execution times:")
        for name, t in times:
            print(f"    {t:7.1f} s  {name}")


def test(args: list[str]) -> int:
    """Run the test suite (pytest); extra arguments go to pytest."""
    ensure_env()
    env = {**os.environ, "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    return subprocess.run([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, env=env).returncode


COMMANDS = {"book": book, "test": test, "env": lambda args: ensure_env() or 0}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
