"""``blender -c track2view ...``: batch commands inside Blender (registered with register_cli_command).

``blender -c track2view render SHOT.blend [--camera CamB] [--preview] [--output DIR] [--model DIR]
[--save-as OUT.blend [--overwrite]]``
opens SHOT.blend, runs Render New View (or Preview New View) on the camera (default: the shot's
Target Camera), prints progress lines and returns exit code 0 on success, 1 on any failure. The
.blend is saved only with ``--save-as``; an existing file there (SHOT.blend itself included) is
refused before rendering unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bpy

COMMAND = "track2view"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"blender -c {COMMAND}", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render = sub.add_parser("render", help="render a shot's new view into its sequencer")
    render.add_argument("blend", type=Path, help="the .blend with footage, tracks and the target camera")
    render.add_argument("--camera", default="", help="target camera object (default: the panel's Target Camera)")
    render.add_argument("--preview", action="store_true", help="geometric warp only (fast, no model)")
    render.add_argument("--output", default="", help="folder for renders (default: beside the .blend)")
    render.add_argument("--model", default="", help="Track2View model folder (default: the add-on preference)")
    render.add_argument("--save-as", type=Path, help="save the .blend with the new strips here")
    render.add_argument("--overwrite", action="store_true",
                        help="let --save-as replace an existing .blend (the input one included)")
    return parser


def main(argv: list[str]) -> int:
    """Run one command; returns the process exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:          # --help or bad arguments
        return int(exc.code or 0)
    if not args.blend.is_file():
        print(f"{COMMAND} render: error: {args.blend} not found", file=sys.stderr)
        return 1
    if args.save_as and args.save_as.exists() and not args.overwrite:
        print(f"{COMMAND} render: error: {args.save_as} exists; pass --overwrite to replace it "
              f"or choose another --save-as path", file=sys.stderr)
        return 1
    try:
        bpy.ops.wm.open_mainfile(filepath=str(args.blend.resolve()))
        operator = bpy.ops.track2view.preview_view if args.preview else bpy.ops.track2view.render_view
        # ERROR reports come back as RuntimeError.
        paths = {key: str(Path(value).resolve()) for key, value in
                 (("output_dir", args.output), ("model_dir", args.model)) if value}
        result = operator(camera=args.camera, **paths)
    except RuntimeError as exc:
        print(f"{COMMAND} render: {exc}".rstrip(), file=sys.stderr)
        return 1
    if result != {"FINISHED"}:
        print(f"{COMMAND} render: {', '.join(sorted(result)).lower()}", file=sys.stderr)
        return 1
    if args.save_as:
        try:
            bpy.ops.wm.save_as_mainfile(filepath=str(args.save_as.resolve()))
        except RuntimeError as exc:
            message = " ".join(str(exc).split())
            print(f"{COMMAND} render: error: cannot save {args.save_as}: {message}", file=sys.stderr)
            return 1
        print(f"saved {args.save_as}")
    return 0


_handle = None


def register() -> None:
    global _handle
    _handle = bpy.utils.register_cli_command(COMMAND, main)


def unregister() -> None:
    global _handle
    if _handle is not None:
        bpy.utils.unregister_cli_command(_handle)
        _handle = None
