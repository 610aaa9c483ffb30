"""Build the installable Blender extension zip.

Without --with-wheels the zip holds only our code: in a Blender without the engine's dependencies
the add-on refuses to enable, naming them. With --with-wheels, the pinned runtime wheels for the
chosen platform and Python 3.11 are downloaded into wheels/<platform>/ (git-ignored), resolved
against Blender's numpy 1.26.4 (left out: Blender ships it); on the machine's own platform each
bundled package is imported in a clean Python with bpy and that numpy before the zip is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..packaging import PLATFORM_TAGS

    parser.add_argument("--platform", choices=sorted(PLATFORM_TAGS), help="target platform of the wheels")
    parser.add_argument("--with-wheels", action="store_true", help="download and bundle the runtime wheels")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2],
                        help="extension root (default: this checkout)")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: ./dist)")


def run(args: argparse.Namespace) -> int:
    from ..packaging import build_extension

    path = build_extension(args.source, args.out, platform=args.platform, with_wheels=args.with_wheels)
    print(path)
    return 0
