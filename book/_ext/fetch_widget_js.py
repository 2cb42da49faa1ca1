#!/usr/bin/env python3
"""Re-create the third-party JavaScript committed under book/_static/vendor/ from the npm registry.

    python book/_ext/fetch_widget_js.py          # fetch with `npm pack`, write the files
    python book/_ext/fetch_widget_js.py --check  # fetch, compare with the committed files only

The book build never runs this: the files are committed (see book/_static/vendor/README.md)
and book/_ext/offline_widgets.py checks their SHA-256. Run it to audit the vendored files or
after changing a version below (then update VENDORED in offline_widgets.py). Needs `npm`.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import offline_widgets  # noqa: E402

VENDOR = HERE.parent / "_static" / "vendor"

PACKAGES = {
    "html-manager": f"@jupyter-widgets/html-manager@{offline_widgets.HTML_MANAGER_VERSION}",
    "requirejs": f"requirejs@{offline_widgets.REQUIREJS_VERSION}",
    "mathjax": f"mathjax@{offline_widgets.MATHJAX_VERSION}",
    "fontawesome": "@fortawesome/fontawesome-free@5.15.4",
}

#: Font Awesome 5 fonts bundled with the embed manager (it asks for them by these names).
FONT_FILES = ("1551f4f60c37af51121f.woff2", "7a3337626410ca2f4071.woff2", "d878b0a6a1144760244f.woff2")


def npm_pack(spec: str, workdir: Path) -> Path:
    """Download one npm package tarball and unpack it; return its 'package' folder."""
    if shutil.which("npm") is None:
        sys.exit("fetch_widget_js: npm is not installed (apt-get install npm).")
    out = (
        subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)], check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()
    )
    tgz = workdir / out[-1]
    dest = workdir / tgz.name.removesuffix(".tgz")
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def plan(workdir: Path) -> list[tuple[Path, Path]]:
    """(source, destination) of every vendored file that comes from npm."""
    hm = npm_pack(PACKAGES["html-manager"], workdir)
    rq = npm_pack(PACKAGES["requirejs"], workdir)
    mj = npm_pack(PACKAGES["mathjax"], workdir)
    fa = npm_pack(PACKAGES["fontawesome"], workdir)
    jw = VENDOR / "jupyter-widgets"
    pairs = [
        (hm / "dist" / "embed-amd.js", jw / "embed-amd.js"),
        (hm / "dist" / "embed.js.LICENSE.txt", jw / "THIRD-PARTY-NOTICES.txt"),
        (rq / "require.js", jw / "require.js"),
        (fa / "LICENSE.txt", jw / "LICENSE-fontawesome.txt"),
        (mj / "es5" / "tex-mml-chtml.js", VENDOR / "mathjax" / "tex-mml-chtml.js"),
        (mj / "LICENSE", VENDOR / "mathjax" / "LICENSE.txt"),
    ]
    pairs += [(hm / "dist" / f, jw / f) for f in FONT_FILES]
    for sub in ("output/chtml/fonts/woff-v2", "input/tex/extensions"):
        for f in sorted((mj / "es5" / sub).iterdir()):
            pairs.append((f, VENDOR / "mathjax" / sub / f.name))
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = plan(Path(tmp))
        differ = []
        for src, dst in pairs:
            if args.check:
                if not dst.is_file() or not filecmp.cmp(src, dst, shallow=False):
                    differ.append(dst)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    if args.check:
        for d in differ:
            print(f"differs from npm: {d.relative_to(VENDOR.parent.parent.parent)}")
        print(f"{len(pairs) - len(differ)} of {len(pairs)} vendored files match the npm packages.")
        return 1 if differ else 0
    try:
        offline_widgets.check_vendored()
    except Exception as err:  # noqa: BLE001 - report and fail
        print(err)
        return 1
    print(f"wrote {len(pairs)} files under {VENDOR}; SHA-256 of the scripts match offline_widgets.VENDORED.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
