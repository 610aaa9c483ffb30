"""Reconstruct 3D point tracks and the source camera from footage (video file or image folder).

Writes the tracks file (xyz, uv, vis, conf, rgb, K, w2c, size, fps, dynamic) and a JSON report
beside it (<out>.report.json: camera mode, focal source, errors, timings). World frame: frame 0's
camera at the origin looking along +Y, +Z up. Without --focal-px / --lens-mm the focal length is
estimated (camera with parallax) or a 50 mm lens on a 36 mm sensor is assumed (no parallax).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_frames(text: str | None) -> slice | None:
    """``A:B`` (0-based, B exclusive, either may be empty) → slice; None for None."""
    from ..errors import UserError

    if text is None:
        return None
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, stop = (int(p) if p.strip() else None for p in parts)
    except ValueError:
        raise UserError(f"--frames must look like A:B (e.g. 0:50), got {text!r}") from None
    return slice(start, stop)


def add_lens_arguments(parser: argparse.ArgumentParser) -> None:
    """``--focal-px`` | ``--lens-mm`` + ``--sensor-mm``: the lens, when known (else it is estimated)."""
    focal = parser.add_mutually_exclusive_group()
    focal.add_argument("--focal-px", type=float, help="focal length in pixels of the full-resolution footage")
    focal.add_argument("--lens-mm", type=float, help="focal length in mm (with --sensor-mm)")
    parser.add_argument("--sensor-mm", type=float, help="sensor width in mm along the image's longer side")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..tracking.pipeline import DEFAULT_MAX_POINTS

    parser.add_argument("input", type=Path, help="video file (mp4/mov/avi/mkv) or folder of images")
    parser.add_argument("--out", type=Path, required=True, help="tracks file to write (.npz)")
    parser.add_argument("--max-points", type=int, default=DEFAULT_MAX_POINTS,
                        help=f"most textured tracks per 50 frames (default {DEFAULT_MAX_POINTS}; a longer shot gets "
                             "more as it goes on, up to 4 times as many in all); plain surfaces get up to a quarter "
                             "as many more, to render them")
    parser.add_argument("--frames", help="frame range A:B of the input (0-based, B exclusive)")
    add_lens_arguments(parser)
    parser.add_argument("--depth", type=Path, help="folder of per-frame depth maps (.npy/.exr/16-bit .png mm)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from ..jobs import run_job
    from ..tracking.pipeline import report_path
    from ._progress import progress_bar

    frames = parse_frames(args.frames)
    params = {"input": str(args.input), "out": str(args.out), "max_points": args.max_points,
              "frames": None if frames is None else [frames.start, frames.stop], "focal_px": args.focal_px,
              "lens_mm": args.lens_mm, "sensor_mm": args.sensor_mm,
              "depth": None if args.depth is None else str(args.depth), "overwrite": args.overwrite}
    with progress_bar() as progress:
        result = run_job("track", params, progress)
    report = result["report"]
    summary = {k: report[k] for k in ("camera_mode", "focal_source", "focal_px", "points", "dynamic",
                                      "depth_source", "timings_s") if k in report}
    if "note" in report:
        summary["note"] = report["note"]
    print(json.dumps(summary))
    for warning in report.get("warnings", []):
        print(f"t2v track: warning: {warning}", file=sys.stderr)
    first, stop = report["frames"]
    print(f"wrote {result['tracks']} ({stop - first} frames, {report['points']} tracks) and "
          f"{report_path(result['tracks'])}")
    return 0
