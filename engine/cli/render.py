"""Render footage from a new camera: PNG frames, hole masks and an mp4.

Inputs: the footage (video file or image-sequence folder), its tracks (.npz, `t2v track` or the
add-on) and the target camera as CAM.json (per-frame K and w2c in OpenCV axes and the image size;
layout in engine/geometry/camera.py; the add-on writes one into every render folder). Output
folder layout: engine/render.py. --preview renders the geometric warp (seconds); without it the
Track2View model in --model DIR generates the frames.

Example:
  t2v render --footage shot.mp4 --tracks shot.npz --camera cam.json --out renders/cam_b --preview
"""

from __future__ import annotations

import argparse
from pathlib import Path


def frame_range(text: str) -> tuple[int, int | None]:
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(start or 0), (int(stop) if stop else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A:B (0-based, B exclusive, e.g. 0:48), got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--footage", type=Path, required=True, help="video file or image-sequence folder")
    parser.add_argument("--tracks", type=Path, required=True, help="tracks file (.npz) of the footage")
    parser.add_argument("--camera", type=Path, required=True, help="target camera, CAM.json")
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist)")
    parser.add_argument("--preview", action="store_true", help="geometric warp only (fast, no model)")
    parser.add_argument("--model", type=Path,
                        help="Track2View model folder (diffusers layout; default: the built-in models/default)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.add_argument("--frames", type=frame_range, metavar="A:B",
                        help="footage frames A..B-1 (0-based; default: the frames the tracks were made on); "
                             "camera frame 0 is footage frame A")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto",
                        help="where the model runs (default: CUDA if available)")
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32",
                        help="model precision on CUDA (the CPU always runs fp32)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps per window (model only)")
    parser.add_argument("--format", dest="file_format", choices=["png", "png16", "exr"],
                        help="frame files: 8- or 16-bit PNG (display sRGB) or OpenEXR half float (scene-linear); "
                             "default: exr for OpenEXR footage, else png")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..coverage import poor_coverage_warning
    from ..jobs import run_job
    from ._progress import progress_bar

    params = {"footage": str(args.footage), "tracks": str(args.tracks), "camera": str(args.camera),
              "out": str(args.out), "preview": args.preview, "model": str(args.model) if args.model else None,
              "overwrite": args.overwrite, "frames": None if args.frames is None else list(args.frames),
              "device": args.device, "precision": args.precision, "steps": args.steps,
              "file_format": args.file_format}
    with progress_bar() as progress:
        result = run_job("render", params, progress)
    print(f"{result['num_frames']} frames ({result['mode']}) in {result['frames_dir']}; "
          f"holes in {result['holes_dir']}; video {result['mp4']}")
    warning = poor_coverage_warning(result["coverage"], result["first_frame"])
    if warning:
        print(f"warning: {warning} (frames numbered from 0 in the footage)", file=sys.stderr)
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
