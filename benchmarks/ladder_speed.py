"""Time ``jijtutorial benchmark`` as a user runs it: the ladder (``--protocol all``) and the study table.

Each command runs in a fresh process (start-up and imports included), with featurisation from an
empty feature cache (``--cold``, the default) or a warm one, on the data set ``JIJTUTORIAL_DATA_DIR``
points to. Prints for each: wall time, CPU time (user + system of the process), the machine's load
average before and after (the machine may be shared), and the time of each rung as the command
reports it.

Usage::

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/ladder_speed.py [--protocols all,study]
        [--warm] [--jobs 2]

Targets (JuKKR data, 2 cores): ``--protocol all`` (7 models and the mean baseline, 4 rungs) within
120 s wall, ``--protocol study`` within 30 s wall. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time


def run_once(protocol: str, cache_dir: str, jobs, out: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "jijtutorial",
        "benchmark",
        "--protocol",
        protocol,
        "--out",
        out,
        "--no-plots",
        "--no-progress",
    ] + (["--jobs", str(jobs)] if jobs else [])
    env = dict(os.environ, JIJTUTORIAL_CACHE_DIR=cache_dir)
    load0 = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    rungs = re.findall(r"^Time of each rung.*$", proc.stdout, re.MULTILINE)
    single = re.findall(r"data, (\w+) protocol \(([0-9.]+) s\)", proc.stdout)
    return {
        "protocol": protocol,
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "load_before": load0,
        "load_after": os.getloadavg(),
        "rungs": rungs[0] if rungs else ", ".join(f"{p} {s} s" for p, s in single),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocols", default="all,study", help="comma-separated --protocol values to time")
    parser.add_argument("--warm", action="store_true", help="reuse one feature cache (run each command twice, time the second)")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; data: {os.environ.get('JIJTUTORIAL_DATA_DIR') or 'the package model data'}")
    for protocol in args.protocols.split(","):
        with tempfile.TemporaryDirectory(prefix="jij-speed-") as tmp:
            cache = os.path.join(tmp, "cache")
            out = os.path.join(tmp, "out")
            if args.warm:
                run_once(protocol, cache, args.jobs, out)
            r = run_once(protocol, cache, args.jobs, out)
        state = "warm" if args.warm else "cold"
        print(f"\njijtutorial benchmark --protocol {protocol} ({state} feature cache)")
        print(
            f"  wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s (user + system), load average "
            f"{r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after (1 min)"
        )
        print(f"  {r['rungs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
