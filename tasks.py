#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 tasks.py book    # build the Jupyter Book, every notebook executed -> _build/html
    python3 tasks.py test    # run the test suite
    python3 tasks.py prepare # before a hands-on session: run every chapter once, so JupyterLab finds its results cached
    python3 tasks.py lab     # JupyterLab on copies of the chapters (in my-notebooks/), for a participant

On first use each command creates a virtual environment in ``.venv`` and installs the package
with everything it needs; later runs reuse it (and reinstall when pyproject.toml changes).
Set ``JIJTUTORIAL_DATA_DIR`` to the folder holding the JuKKR table to use the real data.
"""

from __future__ import annotations

import hashlib
import json
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
#: JupyterLab defaults of the session (windowing off, no news pop-up): see jupyterlab-settings/README.md.
LAB_OVERRIDES = ROOT / "jupyterlab-settings" / "overrides.json"
#: Where the environment's JupyterLab reads default overrides: <application directory>/settings, the
#: application directory being {sys.prefix}/share/jupyter/lab (jupyterlab.commands.get_app_dir).
LAB_SETTINGS_DIR = VENV / "share" / "jupyter" / "lab" / "settings"


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
        sys.exit(
            f"The book and JupyterLab environment needs Python 3.10-3.13; this is {sys.version.split()[0]}. "
            "Its 3D viewer (nglview 4.0, the release whose JupyterLab extension works) requires "
            "numpy<2.3, which has no wheels for Python 3.14. Run this with an older Python, e.g. "
            "`python3.13 tasks.py ...` (the package alone, `pip install .`, works on 3.14)."
        )
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    have = STAMP.read_text().split() if PYTHON.exists() and STAMP.exists() else []
    if have and have[0] == want and set(extras) <= set(have[1:]):
        if "book" in have[1:]:
            install_lab_settings()
        return
    installed = set(have[1:]) if have and have[0] == want else set()
    extras = tuple(sorted(installed | set(extras)))
    t0 = time.perf_counter()
    if not PYTHON.exists():
        _say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{','.join(extras)}]"])
    tmp = STAMP.with_name(STAMP.name + f".{os.getpid()}.tmp")  # a stamp cut short must not claim a finished install
    tmp.write_text(" ".join((want,) + extras))
    os.replace(tmp, STAMP)
    if "book" in extras:  # JupyterLab comes with the book tools
        install_lab_settings()
    _say(f"environment ready in {time.perf_counter() - t0:.0f} s")


def _merged(current: dict, ours: dict) -> dict:
    """``current`` with every setting of ``ours`` put in, plugin by plugin (other settings kept)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in current.items()}
    for plugin, settings in ours.items():
        out[plugin] = {**(out.get(plugin) if isinstance(out.get(plugin), dict) else {}), **settings}
    return out


def install_lab_settings(settings_dir: Path = LAB_SETTINGS_DIR, overrides: Path = LAB_OVERRIDES) -> bool:
    """Merge ``jupyterlab-settings/overrides.json`` into the environment's JupyterLab overrides.

    Idempotent: writes (to a temporary file, then renamed) only when a setting differs, so an
    edit of the repository's file reaches the environment on the next ``tasks.py`` command, and
    overrides of other plugins already in the file stay. Returns whether the file was written.
    """
    ours = json.loads(overrides.read_text())
    target = settings_dir / "overrides.json"
    current = {}
    if target.exists():
        try:
            current = json.loads(target.read_text() or "{}")
        except json.JSONDecodeError as err:
            sys.exit(
                f"{target}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}). JupyterLab "
                f"ignores it too; fix or delete it, then run this command again (it writes {overrides.name} there)."
            )
        if not isinstance(current, dict):
            sys.exit(f"{target}: expected a JSON object of plugin settings; fix or delete it and run this command again.")
    merged = _merged(current, ours)
    if merged == current:
        return False
    settings_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(merged, indent=2) + "\n")
    os.replace(tmp, target)
    _say(f"JupyterLab settings of the session written to {target}")
    return True


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
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
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


def chapter_notebooks(numbers=()) -> list[Path]:
    """The chapters in ``notebooks/`` (``07b_...`` too), in order; only those numbered ``numbers`` if given
    (``07`` names chapters 7 and 7b, ``07b`` chapter 7b alone)."""
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    if numbers:
        chapters = [c for c in chapters if c.name[:2] in numbers or c.name.split("_", 1)[0] in numbers]
    return chapters


def prepare(args: list[str]) -> int:
    """Run every chapter once with its default parameters (no book build), filling the results cache.

    The chapters keep their expensive results (benchmark runs, Monte Carlo sweeps, features) in
    ``~/.cache/jijtutorial`` (or ``$JIJTUTORIAL_CACHE_DIR``); after this, *Run All* in JupyterLab
    takes seconds per chapter. Building the book does the same. Extra arguments: chapter numbers
    to run (e.g. ``06 07 09``).
    """
    ensure_env(EXTRAS["book"])
    import tempfile

    chapters = chapter_notebooks(args)
    if args:
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
            proc = subprocess.run(
                [
                    str(BIN / "papermill"),
                    str(nb),
                    str(Path(tmp) / nb.name),
                    "--cwd",
                    str(nb.parent),
                    "--no-progress-bar",
                    "--log-level",
                    "WARNING",
                ],
                cwd=ROOT,
                env=env,
            )
            _say(f"{nb.name}: {'done' if proc.returncode == 0 else 'FAILED'} in {time.perf_counter() - t0:.0f} s")
            if proc.returncode:
                failed.append(nb.name)
    if failed:
        _say(f"these chapters failed: {', '.join(failed)} (see the messages above)")
        return 1
    _say("every chapter ran once; their results are cached for the session")
    return 0


def lab(args: list[str]) -> int:
    """Start JupyterLab on copies of the chapters, so that a participant's runs leave the repository clean.

    The chapters are copied from ``notebooks/`` into ``my-notebooks/`` (``--dir FOLDER`` for another
    folder); a copy that is already there is kept, with the participant's edits and outputs
    (delete it to get the original back). Other arguments go to ``jupyter lab`` (e.g. ``--port 8890``,
    ``--ip 0.0.0.0 --no-browser`` in a container); ``--allow-root`` is added when running as root.
    """
    ensure_env(EXTRAS["book"])
    folder = ROOT / "my-notebooks"
    if "--dir" in args:
        k = args.index("--dir")
        if k + 1 >= len(args):
            _say("--dir needs a folder, e.g. `python3 tasks.py lab --dir ~/jij-notebooks`")
            return 2
        folder = Path(args[k + 1]).expanduser().resolve()
        args = args[:k] + args[k + 2 :]
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for nb in chapter_notebooks():
        if (folder / nb.name).exists():
            kept.append(nb.name)
        else:
            shutil.copy2(nb, folder / nb.name)
            copied.append(nb.name)
    if copied:
        _say(f"copied {len(copied)} chapters to {folder}")
    if kept:
        _say(f"kept your copies in {folder} of: {', '.join(kept)} (delete one to start it afresh)")
    cmd = [str(BIN / "jupyter"), "lab", f"--ServerApp.root_dir={folder}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        cmd.append("--allow-root")  # containers often run as root; JupyterLab refuses to without this
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTERLAB_DIR")}  # inline figures; the
    # environment's own JupyterLab application directory, where tasks.py put the session's settings
    _say(
        "starting JupyterLab: open the URL it prints below (http://localhost:8888/lab?token=..., or the port it "
        "chose) in your browser; stop it with Ctrl+C"
    )
    _say(" ".join(cmd))
    try:
        return subprocess.run(cmd, cwd=folder, env=env).returncode
    except KeyboardInterrupt:
        return 0


COMMANDS = {"book": book, "test": test, "prepare": prepare, "lab": lab, "env": lambda args: ensure_env(EXTRAS["env"]) or 0}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
