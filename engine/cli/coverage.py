"""Coverage of a target camera: per frame, the share of its view that the footage can show.

Runs the preview warp's geometry for the target camera (CAM.json, aligned at the first frame) on the
dense depth cached beside the tracks (``t2v track`` writes it; else it is spread from the tracks, with
--footage along its image edges) and counts what it fills (definition: engine/coverage.py).
Prints one line per frame, flags poor frames (coverage below --threshold) and their ranges; --plot
writes a PNG of coverage over time and --json the numbers. Exit code 0 even when frames are poor (it is a report).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..coverage import POOR_COVERAGE

    parser.add_argument("--tracks", type=Path, required=True, help="tracks file (.npz)")
    parser.add_argument("--camera", type=Path, required=True, help="target camera (CAM.json)")
    parser.add_argument("--threshold", type=float, default=POOR_COVERAGE,
                        help=f"coverage below this is poor (default {POOR_COVERAGE})")
    parser.add_argument("--footage", type=Path, default=None,
                        help="the shot (movie or image folder), when the tracks have no dense-depth cache beside them")
    parser.add_argument("--frame-start", type=int, default=0, help="number of the first frame in the report")
    parser.add_argument("--plot", type=Path, help="write a PNG plot of coverage over time")
    parser.add_argument("--json", type=Path, help="write the per-frame numbers as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --plot/--json files")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..coverage import coverage_of_file
    from ..coverage_plot import save_coverage_plot
    from ..frame_ranges import format_frame_ranges
    from ..geometry.camera import load_camera_json
    from ..io.atomic import atomic_file, check_writable_target

    outputs = [p for p in (args.plot, args.json) if p is not None]
    for path in outputs:
        check_writable_target(path, args.overwrite, inputs=(args.tracks, args.camera, args.footage))
    report = coverage_of_file(args.tracks, load_camera_json(args.camera), footage=args.footage,
                              threshold=args.threshold)

    print(f"holes measured at {report.grid[0]}x{report.grid[1]} pixels, threshold {report.threshold:.2f}")
    print("frame  coverage  source  tracks")
    for i in range(report.num_frames):
        flag = "  POOR" if report.poor[i] else ""
        print(f"{args.frame_start + i:5d}  {report.coverage[i]:8.3f}  {report.reference[i]:6.3f}  "
              f"{report.tracks[i]:6d}{flag}")
    ranges = report.poor_ranges(args.frame_start)
    text = format_frame_ranges(ranges) or "none"
    print(f"mean {report.coverage.mean():.3f}, min {report.coverage.min():.3f}; poor frames: {text}")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json is not None:
        with atomic_file(args.json) as tmp:
            tmp.write_text(json.dumps(report.to_json(args.frame_start), indent=1))
        print(f"wrote {args.json}")
    if args.plot is not None:
        save_coverage_plot(report, args.plot, args.frame_start)
        print(f"wrote {args.plot}")
    return 0
