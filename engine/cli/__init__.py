"""``t2v``: the command-line interface for all headless work.

Each sub-command is one module in this package (``build_extension.py`` → ``t2v build-extension``)
that defines ``add_arguments(parser)`` and ``run(args) -> int``; its docstring's first line is the
command's help. Command modules keep heavy imports (torch, cv2, bpy) inside ``run``, so that
``t2v --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import Cancelled, UserError, cancel_on_sigterm, disk_error_message
from ..runtime import limit_blas_threads
from ..worker import WorkerError


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="t2v",
        description="Track2View: re-render footage from a new camera, headless.",
    )
    parser.add_argument("--version", action="version", version=f"t2v {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        name = module.__name__.rsplit(".", 1)[1].replace("_", "-")
        doc = (module.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        cmd = sub.add_parser(name, help=summary, description=doc,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``t2v``; returns the process exit code."""
    limit_blas_threads()  # before the commands import numpy
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    cancel_on_sigterm()
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"t2v {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        message = disk_error_message(exc)
        if message is None:
            raise
        print(f"t2v {args.command}: error: {message}", file=sys.stderr)
        return 1
    except (Cancelled, KeyboardInterrupt):
        print(f"t2v {args.command}: cancelled; no partial output was kept", file=sys.stderr)
        return 130
    except WorkerError as exc:  # an engine bug in a worker process: its traceback, then the message
        print(exc.details, file=sys.stderr)
        print(f"t2v {args.command}: error in a worker process: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
