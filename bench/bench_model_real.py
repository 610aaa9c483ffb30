"""The model's new view on real footage, judged without ground truth, beside the warp it is anchored on.

For every clip (default /work/shared/footage/*.mp4; any movie or image-sequence folder works), tracked
once and cached like :mod:`bench.bench_new_view` (``--size`` resizes first), the model (default: the
built-in one) renders:

- identity: the source camera as the target, frames 0:25: full-frame PSNR against the footage (goal
  ≥ 30 dB) and sharpness (mean Laplacian energy) ÷ the footage's (goal ≥ 0.8);
- time shift (static shots, ``--static``): the target camera of frame t is the source camera of frame
  t + 8; PSNR against footage frame t + 8 on the pixels the warp covers (goal ≥ 25 dB) and full frame;
- speed: a 5° orbit over the first ``--frames`` frames (49): seconds per frame of the whole render
  (dense depth, the transformer, the refiner; goal 49 frames of 854×480 in ≤ 5 min) and the process's
  peak RSS.

The warp's numbers (``warp_video``, the preview) are printed beside the model's.
Run: ``.venv/bin/python -m bench.bench_model_real [--footage GLOB] [--static NAMES] [--size WxH] [--model DIR]``.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import time
from pathlib import Path

import numpy as np

from bench.bench_new_view import ORBIT_DEG, SHIFT, orbit, tracked_frames
from track2view.engine.camera_moves import track_pivot
from track2view.engine.dense_depth import dense_depth
from track2view.engine.eval.fidelity import psnr, sharpness
from track2view.engine.generate import generate_new_view
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.model.model_folder import default_model_folder
from track2view.engine.warp import warp_video

IDENTITY_FRAMES = 25


def frames_of(camera: CameraTrack, part: slice) -> CameraTrack:
    """``camera`` over the frames ``part``."""
    return CameraTrack(K=camera.K[part], w2c=camera.w2c[part], size=camera.size, fps=camera.fps)


def render(frames: np.ndarray, tracks, depth, count: int, camera: CameraTrack, model: str, steps: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's and the warp's view of the first ``count`` frames from ``camera``, and the warp's holes."""
    part = slice(0, count)
    sub, sub_depth = tracks.subset(frames=part), depth.subset(part)
    out = generate_new_view(frames[part], sub, camera, model, steps=steps, depth=sub_depth).frames
    warped, holes = warp_video(frames[part], sub, camera, depth=sub_depth)
    return out, warped, holes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", default="/work/shared/footage/*.mp4")
    parser.add_argument("--static", default="apple,backpack", help="comma-separated clip names with a static scene")
    parser.add_argument("--size", default=None, help="resize the footage to WxH first (e.g. 854x480)")
    parser.add_argument("--model", default=None, help="model folder (default: the built-in model)")
    parser.add_argument("--frames", type=int, default=49, help="frames of the timed orbit render")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps")
    args = parser.parse_args()
    size = tuple(int(s) for s in args.size.split("x")) if args.size else None
    model = args.model or str(default_model_folder())
    static = set(args.static.split(","))
    print(f"model {model}")
    print(f"{'clip':20s} {'size':>9s} | {'id PSNR':>7s} {'warp':>6s} {'sharp':>5s} {'warp':>5s} | "
          f"{'shift cov':>9s} {'warp':>6s} {'full':>6s} {'warp':>6s} | {'s/frame':>7s} {'frames':>6s} {'RSS GB':>6s}")
    for path in sorted(glob.glob(args.footage)):
        name = Path(path).stem
        tracks, frames = tracked_frames(path, size)
        depth = dense_depth(frames, tracks)
        source = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)

        n = min(IDENTITY_FRAMES, tracks.num_frames)
        out, warped, _ = render(frames, tracks, depth, n, frames_of(source, slice(0, n)), model, args.steps)
        truth_sharp = sharpness(frames[:n])
        identity = (f"{psnr(out, frames[:n]):7.2f} {psnr(warped, frames[:n]):6.2f} "
                    f"{sharpness(out) / truth_sharp:5.2f} {sharpness(warped) / truth_sharp:5.2f}")

        shift = f"{'':9s} {'':6s} {'':6s} {'':6s}"
        if name in static:
            T = min(tracks.num_frames - SHIFT, IDENTITY_FRAMES)
            later = frames_of(source, slice(SHIFT, SHIFT + T))
            out, warped, holes = render(frames, tracks, depth, T, later, model, args.steps)
            truth = frames[SHIFT:SHIFT + T]
            shift = (f"{psnr(out, truth, ~holes):9.2f} {psnr(warped, truth, ~holes):6.2f} "
                     f"{psnr(out, truth):6.2f} {psnr(warped, truth):6.2f}")

        count = min(args.frames, tracks.num_frames)
        turned = frames_of(orbit(source, track_pivot(tracks), ORBIT_DEG), slice(0, count))
        start = time.perf_counter()
        generate_new_view(frames[:count], tracks.subset(frames=slice(0, count)), turned, model, steps=args.steps)
        per_frame = (time.perf_counter() - start) / count
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"{name:20s} {tracks.size[0]:4d}x{tracks.size[1]:<4d} | {identity} | {shift} | "
              f"{per_frame:7.2f} {count:6d} {rss:6.2f}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
