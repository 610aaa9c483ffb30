"""Make or convert a target camera without Blender: rig moves, Nuke/Houdini .chan, COLMAP.

A move: the source camera of --tracks moved by the rig's channels (the add-on's target-camera rig,
engine/camera_moves.py: orbit and arc about the shot's track centre, then crane; dolly, truck, pan,
tilt, roll in the camera's own axes; zoom scales the focal length). Each channel goes from its
neutral value at the first frame of --frames to the given amount at the last, with --ease, and is
held outside them.

A conversion: --from CAM.json, a .chan, a tracks file (its recovered source camera; to COLMAP with its
static points) or a COLMAP text-model folder, to --out. Formats follow the suffixes (.json, .chan, no
suffix = a COLMAP folder) unless --format says otherwise. Conventions (axes, rotation order, field of
view, pixel centres): engine/io/camera_files.py; a .chan has no image size, so reading one needs --size.

Examples:
  t2v camera --tracks shot.npz --orbit 10 --dolly 0.3 --ease in-out --out orbit.json
  t2v camera --from orbit.json --out orbit.chan
  t2v camera --from shot.npz --out colmap_model --format colmap
  t2v camera --from nuke_cam.chan --size 1920x1080 --out nuke_cam.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from .render import frame_range

FORMATS = ("json", "chan", "colmap")
EASES = {"linear": "LINEAR", "in": "EASE_IN", "out": "EASE_OUT", "in-out": "EASE_IN_OUT"}


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = text.lower().split("x")
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH (e.g. 1920x1080), got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..camera_moves import CHANNELS

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tracks", type=Path, help="tracks file (.npz): move its source camera")
    source.add_argument("--from", dest="source", type=Path,
                        help="convert this camera: CAM.json, .chan, tracks .npz or a COLMAP folder")
    parser.add_argument("--out", type=Path, required=True, help="output: CAM.json, .chan or a COLMAP folder")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from --out's suffix)")
    moves = parser.add_argument_group("moves (with --tracks)")
    for channel in CHANNELS:
        unit = "factor" if channel.name == "zoom" else ("DEG" if channel.unit == "°" else "M")
        moves.add_argument(f"--{channel.name}", type=float, metavar=unit, help=channel.description)
    moves.add_argument("--ease", choices=list(EASES), default="linear", help="speed along the move")
    moves.add_argument("--frames", type=frame_range, metavar="A:B",
                       help="the move runs from frame A to frame B-1 (0-based; default: the whole shot)")
    parser.add_argument("--size", type=_size, metavar="WxH", help="image size of a .chan input")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of a .chan or COLMAP input (default 24)")
    parser.add_argument("--first-frame", type=int, default=1,
                        help="number of the first frame in a .chan output (default 1; e.g. 1001)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def _format_of(path: Path, given: str | None) -> str:
    """``given``, else the format of ``path``'s suffix (none: a COLMAP folder)."""
    fmt = given or {".json": "json", ".chan": "chan", "": "colmap"}.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: cannot tell the format from the suffix {path.suffix!r}; use .json, .chan, a "
                        f"folder (COLMAP) or --format {'|'.join(FORMATS)}")
    return fmt


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from ..camera_moves import CHANNELS, channel_curve, moved_camera, track_pivot
    from ..geometry.camera import CameraTrack, load_camera_json, save_camera_json
    from ..io.atomic import check_writable_target
    from ..io.camera_files import read_chan, read_colmap, write_chan, write_colmap
    from ..io.tracks import load_tracks

    fmt = _format_of(args.out, args.format)
    tracks = None
    if args.tracks is not None:
        tracks = load_tracks(args.tracks)
        T = tracks.num_frames
        first, stop = args.frames or (0, None)
        last = (T if stop is None else min(stop, T)) - 1
        if not 0 <= first < last:
            raise UserError(f"--frames {first}:{last + 1}: a move needs two frames or more within the shot's {T}")
        channels = {c.name: channel_curve(c.default, c.default * value if c.name == "zoom" else value,
                                          EASES[args.ease], T, first, last)
                    for c in CHANNELS if (value := getattr(args, c.name)) is not None}
        if not channels:
            raise UserError("no move given: add one or more of "
                            + ", ".join(f"--{c.name}" for c in CHANNELS) + " (or use --from to convert)")
        source = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)
        camera = moved_camera(source, track_pivot(tracks), channels)
        inputs = (args.tracks,)
    else:
        path = args.source
        fps = args.fps or 24.0
        if path.is_dir():
            camera = read_colmap(path, fps, note=lambda message: print(f"note: {message}", file=sys.stderr))
        elif path.suffix.lower() == ".npz":
            tracks = load_tracks(path)
            camera = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)
        elif path.suffix.lower() == ".chan":
            camera = read_chan(path, args.size, fps)
        elif path.suffix.lower() == ".json":
            camera = load_camera_json(path)
        else:
            raise UserError(f"{path}: not a camera this reads (CAM.json, .chan, tracks .npz or a COLMAP folder)")
        inputs = (path,)
    out = check_writable_target(args.out, args.overwrite, inputs=inputs)
    if fmt == "json":
        save_camera_json(camera, out)
    elif fmt == "chan":
        write_chan(camera, out, args.first_frame)
    else:
        write_colmap(camera, out, tracks if args.tracks is None else None)
    shift = np.linalg.norm(np.linalg.inv(camera.w2c)[:, :3, 3] - np.linalg.inv(camera.w2c[:1])[:, :3, 3], axis=1)
    print(f"wrote {out} ({fmt}: {camera.num_frames} frames of {camera.size[0]}x{camera.size[1]}, "
          f"the camera travels {shift.max():.3g} m from its first position)")
    return 0
