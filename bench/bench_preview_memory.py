"""Preview render of long 1080p shots: wall time and peak memory against the shot's length.

A sample clip (default /work/shared/footage/apple.mp4) is played forward and backward to each
length in --frames and upscaled to 1920×1080 (cached under ``cache/bench_preview_memory/``), tracked
once with ``t2v track`` (its dense depth cached beside the tracks), and rendered with
``t2v render --preview`` through a 5° orbit about the shot's centre, each in its own process.
Peak RSS is that process's (``ru_maxrss``): it should not grow with the length (the footage is
streamed through a window of frames; the depth maps, 320 px float16 in the cache, are the only
per-frame state held whole).
Run: ``.venv/bin/python -m bench.bench_preview_memory [--frames 100,500] [--footage FILE]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from track2view.engine.camera_moves import track_pivot
from track2view.engine.geometry.camera import CameraTrack, save_camera_json
from track2view.engine.io.tracks import load_tracks
from track2view.engine.io.video import Mp4Writer, read_frames

from .bench_new_view import orbit

CACHE = Path("cache/bench_preview_memory")
SIZE = (1920, 1080)
T2V = str(Path(sys.executable).parent / "t2v")
MEASURE = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def long_clip(footage: str, count: int) -> Path:
    """``footage`` played forward and backward to ``count`` frames at :data:`SIZE` (cached)."""
    path = CACHE / f"{Path(footage).stem}_{count}.mp4"
    if not path.exists():
        video = read_frames(footage)
        order = np.r_[np.arange(video.num_frames), np.arange(video.num_frames - 2, 0, -1)]
        CACHE.mkdir(parents=True, exist_ok=True)
        with Mp4Writer(path, video.fps) as mp4:
            for i in range(count):
                mp4.write(cv2.resize(video.frames[order[i % len(order)]], SIZE, interpolation=cv2.INTER_CUBIC))
    return path


def measured(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``args`` run in a process of its own."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", default="100,500", help="comma-separated shot lengths")
    parser.add_argument("--footage", default="/work/shared/footage/apple.mp4")
    args = parser.parse_args()
    print(f"{'frames':>6s} {'track s':>8s} {'track GB':>8s} {'preview s':>9s} {'s/frame':>7s} {'preview GB':>10s}")
    for count in (int(n) for n in args.frames.split(",")):
        clip = long_clip(args.footage, count)
        tracks_path = clip.with_suffix(".npz")
        track_s = track_gb = float("nan")
        if not tracks_path.exists():
            track_s, track_gb = measured([T2V, "track", str(clip), "--out", str(tracks_path)])
        tracks = load_tracks(tracks_path)
        source = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)
        camera = save_camera_json(orbit(source, track_pivot(tracks), 5.0), CACHE / f"orbit_{count}.json")
        out = CACHE / f"preview_{count}"
        render_s, render_gb = measured([T2V, "render", "--footage", str(clip), "--tracks", str(tracks_path),
                                        "--camera", str(camera), "--out", str(out), "--preview", "--overwrite"])
        print(f"{count:6d} {track_s:8.1f} {track_gb:8.2f} {render_s:9.1f} {render_s / count:7.2f} {render_gb:10.2f}",
              flush=True)


if __name__ == "__main__":
    main()
