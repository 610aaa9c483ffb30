"""Curate training pairs: one-to-one track correspondences between synchronized views sharing frame 0.

For each source → target pair: reverse the source clip, append the target clip (2T-1 frames, the
shared first frame once), track the joined clip once with the built-in 3D point tracker, split every
track into its source and target half (each ended where its appearance stops matching), and drop
unreliable pairs (lost at the junction, too short, low confidence, depth jump at the junction,
halves disagreeing), printing what was kept and why.

A view is a video file, a folder of images, or a `t2v synth` camera folder (clip/cam<k>). Its
camera file (optional) is --source-camera/--target-camera, else VIEW/CAM.json or VIEW.CAM.json.
Views must have the same frame count, size and fps (or pass --resample) and the same first frame.
The tracker's focal length is --focal-px or --lens-mm/--sensor-mm if given, else the views' cameras',
else the one `t2v track` finds on the source video (so both commands agree on a clip).

  t2v curate --source clip/cam0 --target clip/cam1 --target clip/cam2 --out data/curated
  t2v curate --synth-root data/synth/train --out data/curated      (every clip: cam0 -> cam1..)

Each pair becomes DIR/<source>__<target>/ (frames.npz, tracks.npz, CAM_target.json, meta.json;
layout: track2view.engine.curation.samples), plus DIR/index.json. Finished samples are skipped,
so an interrupted run resumes; --overwrite redoes them. A pair without any reliable
correspondence is written nowhere and makes the exit status 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._progress import progress_bar
from ._runner import add_ray_argument, runner_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..curation.pair import DEFAULT_MAX_POINTS
    from .track import add_lens_arguments

    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--source", type=Path, help="source view (video, image folder or synth camera folder)")
    inputs.add_argument("--synth-root", type=Path, help="folder of `t2v synth` clips: curate cam0 -> every other camera")
    parser.add_argument("--target", type=Path, action="append", default=[],
                        help="target view (repeat for several targets)")
    parser.add_argument("--source-camera", type=Path, help="camera file (CAM.json layout) of the source view")
    parser.add_argument("--target-camera", type=Path, action="append", default=[],
                        help="camera file of a target view (repeat: one per --target, same order)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder (created; existing samples kept)")
    parser.add_argument("--resample", action="store_true",
                        help="retime/resize each target to its source instead of refusing mismatched views")
    parser.add_argument("--max-points", type=int, default=DEFAULT_MAX_POINTS,
                        help=f"tracker budget per 50 frames of the joined clip (default {DEFAULT_MAX_POINTS})")
    parser.add_argument("--overwrite", action="store_true", help="redo samples that already exist in --out")
    add_ray_argument(parser, "pairs")
    add_lens_arguments(parser)


def _jobs(args: argparse.Namespace):
    from ..curation.run import explicit_jobs, synth_jobs
    from ..errors import UserError

    if args.synth_root is not None:
        if args.target or args.source_camera or args.target_camera:
            raise UserError("--synth-root takes no --target/--source-camera/--target-camera (clips carry their own)")
        jobs, unshared = synth_jobs(args.synth_root)
        for clip in unshared:
            print(f"skipping {clip}: rendered without --shared-first-frame")
        if not jobs:
            raise UserError(f"no clip under {args.synth_root} shares its first frame across cameras; "
                            "render them with `t2v synth --shared-first-frame` (the train preset does)")
        return jobs
    return explicit_jobs(args.source, args.target, args.source_camera, args.target_camera)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..curation.pair import CurateOptions
    from ..curation.run import curate_jobs
    from ..errors import UserError

    if args.max_points < 1:
        raise UserError(f"--max-points must be at least 1, got {args.max_points}")
    jobs = _jobs(args)
    options = CurateOptions(max_points=args.max_points, resample=args.resample, focal_px=args.focal_px,
                            lens_mm=args.lens_mm, sensor_mm=args.sensor_mm)
    with runner_from(args) as runner, progress_bar() as progress:
        summary = curate_jobs(jobs, args.out, options, overwrite=args.overwrite, runner=runner, progress=progress)
    for job_id in summary.skipped:
        print(f"{job_id}: already done, skipped")
    for job_id, counts in summary.counts.items():
        dropped = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("tracked", "kept"))
        print(f"{job_id}: kept {counts['kept']} of {counts['tracked']} tracks (dropped: {dropped})")
    for job_id, counts in summary.empty.items():
        print(f"{job_id}: no track kept ({counts})")
    index = summary.index if summary.index.is_file() else "none (the dataset holds no sample)"
    print(f"{len(summary.written)} written, {len(summary.skipped)} already done, {len(summary.empty)} empty; "
          f"index: {index}")
    if summary.empty:
        print(f"t2v curate: error: no reliable correspondences for {', '.join(summary.empty)}; "
              "nothing was written for them (check that the views share their first frame and are textured)",
              file=sys.stderr)
        return 1
    return 0
