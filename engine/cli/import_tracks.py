"""Import an external tracker's result (TAPVid-3D, CoTracker or SpatialTrackerV2 .npz) as a tracks file.

tapvid3d: tracks_XYZ (T,N,3) camera coords + visibility + fx_fy_cx_cy; fixed camera.
cotracker: tracks (T,N,2) pixels + visibility; 2D only, lifted with --depth, else at depth 1.
spatracker: coords (T,N,3) world + extrinsics (w2c) + intrinsics + visibs (+ video).
--video gives colours, fps and image size. The result uses the same world frame as `t2v track`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="the external tracker's .npz")
    parser.add_argument("--out", type=Path, required=True, help="tracks file to write (.npz)")
    parser.add_argument("--format", choices=("tapvid3d", "cotracker", "spatracker"),
                        help="layout of INPUT (default: detected from its keys)")
    parser.add_argument("--video", type=Path, help="the footage (video file or image folder): colours, fps, size")
    parser.add_argument("--fps", type=float, help="frames per second (default: the video's, else 24)")
    parser.add_argument("--size", help="image size WxH in pixels (default: the video's or the file's)")
    parser.add_argument("--focal-px", type=float, help="2D tracks: focal length in pixels (default 50 mm on 36 mm)")
    parser.add_argument("--depth", type=Path, help="2D tracks: folder of per-frame depth maps")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def run(args: argparse.Namespace) -> int:
    import json

    from ..errors import UserError
    from ..io.atomic import check_writable_target
    from ..io.tracks import save_tracks
    from ..tracking.import_tracks import import_tracks

    out = check_writable_target(args.out, args.overwrite, inputs=(args.input, args.video, args.depth))
    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
            size = (w, h)
        except ValueError:
            raise UserError(f"--size must look like 1920x1080, got {args.size!r}") from None
    tracks, report = import_tracks(args.input, args.format, video=args.video, fps=args.fps, size=size,
                                   focal_px=args.focal_px, depth=args.depth)
    save_tracks(tracks, out)
    print(json.dumps(report))
    print(f"wrote {out} ({tracks.num_frames} frames, {tracks.num_points} tracks)")
    return 0
