"""Warp-preview speed and fidelity: seconds per frame at 854×480 with 20k tracks (goal ≤ 0.2 s),
dense depth from the tracks included.

Uses the analytic two-plane shot of the tests (exact frames for any camera): an identity target
(must reproduce the footage) and a 15° orbit (compared with the ray-cast ground truth).
Wall time depends on what else runs on the machine; the CPU time of this process is printed too.
Run: ``.venv/bin/python -m bench.bench_warp [--frames 8] [--size 854x480] [--tracks 20000]``.
"""

from __future__ import annotations

import argparse
import os
import time

from tests.tiny_shot import make_tracks, orbit_camera, psnr, render, source_camera
from track2view.engine.warp import warp_video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", default="854x480")
    parser.add_argument("--tracks", type=int, default=20000)
    args = parser.parse_args()
    size = tuple(int(s) for s in args.size.split("x"))
    cam = source_camera(size, args.frames)
    frames, _ = render(cam)
    tracks = make_tracks(cam, args.tracks)
    print(f"warp preview: {size[0]}x{size[1]}, {args.tracks} tracks, {args.frames} frames, "
          f"{os.cpu_count()} CPUs")
    for name, target in (("identity", cam), ("orbit 15deg", orbit_camera(cam, 15.0))):
        start, cpu = time.perf_counter(), time.process_time()
        out, holes = warp_video(frames, tracks, target)
        per_frame = (time.perf_counter() - start) / args.frames
        cpu_per_frame = (time.process_time() - cpu) / args.frames
        truth = frames if target is cam else render(target)[0]
        print(f"  {name:12s} {per_frame:.3f} s/frame (CPU time {cpu_per_frame:.3f} s)  PSNR(visible) {psnr(out, truth, ~holes):6.2f} dB  "
              f"holes {holes.mean():.1%}")


if __name__ == "__main__":
    main()
