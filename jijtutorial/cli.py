"""Command line: ``jijtutorial <command> ...``.

Each command lives in its own module, which provides ``add_arguments(parser)`` and ``run(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command name -> (module, one-line help)
COMMANDS = {
    "generate-model-data": ("jijtutorial.model_data", "compute the package's own J_ij data set from Green functions"),
    "benchmark": ("jijtutorial.benchmark", "run the kernel ridge benchmark and write its table and plots"),
    "info": ("jijtutorial.cli", "show where the data sets are and whether they load"),
    "curie": ("jijtutorial.spins._cli", "Monte Carlo and mean-field Curie temperatures of (co-)doped Bi2Te3"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial info`` (none)."""


def run(args: argparse.Namespace) -> int:
    """``jijtutorial info``: report the data sets."""
    from . import __version__, datasets

    print(f"jijtutorial {__version__}")
    for name, loader in (("jukkr", datasets.load_jukkr), ("model", datasets.load_model)):
        try:
            df = loader()
            print(f"{name:6s} {len(df):5d} pairs  {df.attrs.get('path', '')}")
        except (FileNotFoundError, ValueError) as err:
            print(f"{name:6s} not available: {err}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jijtutorial", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except (FileNotFoundError, ValueError) as err:
        print(f"jijtutorial {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
