#!/usr/bin/env python3
"""How long a participant waits: each chapter's "Run All" time, cold and warm, with its default parameters.

    .venv/bin/python .ci/chapter_times.py                       # as configured (JuKKR table if set)
    .venv/bin/python .ci/chapter_times.py --data both           # with and without the JuKKR table
    .venv/bin/python .ci/chapter_times.py --chapters 07 --top 5 # one chapter, its five slowest cells

Every chapter of ``_toc.yml`` that is a notebook runs through papermill (as JupyterLab's Run All
would: one kernel, all cells in order) with its default parameters:

* **cold**: with a new, empty cache folder (``JIJTUTORIAL_CACHE_DIR``) of its own, as for a
  participant who opens this chapter first;
* **warm**: again, with the cache the cold run left.

The time is the sum of the cells' execution times (kernel start-up excluded, as in JupyterLab).
Prints a table and the slowest cells of each chapter; ``--json`` also writes the figures to a
file. Targets of the hands-on session: every chapter at most 60 s cold and 15 s warm.
Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from _browser import toc_notebooks  # noqa: E402

COLD_TARGET, WARM_TARGET = 60.0, 15.0


#: First cell added to the notebook: records each cell's CPU seconds (all threads of the kernel) and
#: wall seconds with IPython's pre/post_run_cell events; the last added cell prints them.
_TIMER_CELL = """
import json as _jij_json, time as _jij_time
_jij_times, _jij_t0 = {}, None
def _jij_pre(info=None):
    global _jij_t0
    _jij_t0 = (_jij_time.process_time(), _jij_time.perf_counter())
def _jij_post(result):
    if _jij_t0 is None:  # this cell itself
        return
    _jij_times[result.execution_count] = (_jij_time.process_time() - _jij_t0[0], _jij_time.perf_counter() - _jij_t0[1])
get_ipython().events.register("pre_run_cell", _jij_pre)
get_ipython().events.register("post_run_cell", _jij_post)
"""
_REPORT_CELL = 'print("JIJ_TIMES" + _jij_json.dumps(_jij_times))'


def run_chapter(nb: Path, env: dict[str, str | None]) -> dict:
    """Execute one notebook with default parameters; return total and per-cell seconds."""
    import nbformat
    import papermill

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if v is not None})
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
    os.environ.pop("MPLBACKEND", None)  # inline figures, as in JupyterLab
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timed = nbformat.read(nb, as_version=4)
            timed.cells = [nbformat.v4.new_code_cell(_TIMER_CELL)] + timed.cells + [nbformat.v4.new_code_cell(_REPORT_CELL)]
            nbformat.write(timed, Path(tmp) / f"timed-{nb.name}")
            t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            out = papermill.execute_notebook(
                str(Path(tmp) / f"timed-{nb.name}"),
                str(Path(tmp) / nb.name),
                kernel_name="python3",
                cwd=str(nb.parent),
                progress_bar=False,
                log_output=False,
            )
            wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    report = "".join(o.get("text", "") for o in out.cells[-1].outputs)
    per_count = {int(k): v for k, v in json.loads(report.split("JIJ_TIMES", 1)[1]).items()}
    cells = []  # (index in the chapter, wall seconds, CPU seconds, source)
    for k, c in enumerate(out.cells[1:-1]):
        if c.cell_type == "code":
            cpu_k = per_count.get(c.execution_count, (float("nan"), 0.0))[0]
            cells.append((k, float(c.metadata.get("papermill", {}).get("duration") or 0.0), cpu_k, "".join(c.source)))
    # CPU seconds of the kernel (and the processes it waited for): a figure a busy machine does not inflate.
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"seconds": sum(c[1] for c in cells), "wall": wall, "cpu": cpu, "cells": sorted(cells, key=lambda c: -c[1])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        choices=("configured", "model", "both"),
        default="configured",
        help="JuKKR table as configured (JIJTUTORIAL_DATA_DIR), the package's own data, or both",
    )
    ap.add_argument("--chapters", nargs="*", default=None, help="chapter name prefixes, e.g. 03 07 (default: all)")
    ap.add_argument("--top", type=int, default=3, help="slowest cells shown per chapter")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)

    chapters = [
        nb for nb in toc_notebooks(ROOT / "_toc.yml") if not args.chapters or any(nb.name.startswith(p) for p in args.chapters)
    ]
    jukkr_dir = os.environ.get("JIJTUTORIAL_DATA_DIR")
    settings = {
        "configured": [("JuKKR" if jukkr_dir else "model", jukkr_dir)],
        "model": [("model", None)],
        "both": [("JuKKR", jukkr_dir), ("model", None)],
    }[args.data]
    if any(name == "JuKKR" and not folder for name, folder in settings):
        ap.error("--data both needs JIJTUTORIAL_DATA_DIR (the folder of the JuKKR table)")

    results = []
    for data_name, folder in settings:
        for nb in chapters:
            with tempfile.TemporaryDirectory(prefix="jij-cache-") as cache:
                env = {"JIJTUTORIAL_CACHE_DIR": cache, "JIJTUTORIAL_DATA_DIR": folder}
                cold = run_chapter(nb, env)
                warm = run_chapter(nb, env)
            results.append({"chapter": nb.stem, "data": data_name, "cold": cold, "warm": warm})
            print(
                f"[chapter_times] {nb.stem} ({data_name}): cold {cold['seconds']:.0f} s ({cold['cpu']:.0f} s CPU), "
                f"warm {warm['seconds']:.0f} s ({warm['cpu']:.0f} s CPU)",
                flush=True,
            )

    print(
        "\n| chapter | data | cold (s) | cold CPU (s) | warm (s) | warm CPU (s) | slowest cells, cold (s) |\n"
        "|---|---|---:|---:|---:|---:|---|"
    )
    for r in results:
        c, w = r["cold"], r["warm"]
        slow = "; ".join(f"[{k}] {d:.0f}" for k, d, _, _ in c["cells"][: args.top])
        flag = " ⚠" if c["seconds"] > COLD_TARGET or w["seconds"] > WARM_TARGET else ""
        print(
            f"| {r['chapter']} | {r['data']} | {c['seconds']:.0f} | {c['cpu']:.0f} | {w['seconds']:.0f} | "
            f"{w['cpu']:.0f}{flag} | {slow} |"
        )
    print(f"\nTargets: cold <= {COLD_TARGET:.0f} s, warm <= {WARM_TARGET:.0f} s (⚠: missed).")
    for r in results:
        print(f"\n{r['chapter']} ({r['data']}), slowest cells: cold wall (CPU) / warm wall (CPU), seconds")
        warm = {k: (d, cpu) for k, d, cpu, _ in r["warm"]["cells"]}
        for k, d, cpu, src in r["cold"]["cells"][: args.top]:
            first = next((line for line in src.splitlines() if line.strip() and not line.startswith("#")), "")
            wd, wc = warm.get(k, (float("nan"), float("nan")))
            print(f"  [{k:2d}] {d:6.1f} ({cpu:5.1f}) / {wd:6.1f} ({wc:5.1f})  {first[:80]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
