"""The new view from geometry alone, judged on real footage without ground truth.

For every clip (default /work/shared/footage/*.mp4; any movie or image-sequence folder works) the
clip is tracked once with ``t2v track`` defaults (cached under ``cache/bench_new_view/``), then:

- identity: the target camera is the source camera (frames 0:25): full-frame PSNR against the
  footage and the share of hole pixels (goals ≥ 35 dB, ≤ 0.2 %);
- orbit: the source camera orbited 5° about the median track point (world +Z, the rig's
  ``orbit``), held over the whole clip: the share of holes that do not touch the frame border
  ("tears", goal ≤ 2 %) and of all holes (goal ≤ 12 %);
- time shift (static shots, ``--static``; default apple, whose scene is still, and backpack, whose
  stairs are still while the person and the bag move): the target camera of frame t is the source
  camera of frame t + 8; PSNR against footage frame t + 8 on covered pixels (goal ≥ 25 dB and ≥ 3 dB
  above the unwarped frame t), also for source frame t alone (the geometry only, no nearest view),
  and holes (goal ≤ 5 %). A moving thing stays where it is at time t, so it counts against the goal.

Also: how far the dense maps are from the tracks' own depths at their pixels (median, relative) and
the timings: the dense depth of the clip, the identity and the orbit warp per frame (wall seconds here;
the orbit's includes the temporal fill).
Run: ``.venv/bin/python -m bench.bench_new_view [--footage GLOB] [--static NAMES] [--size WxH]``.
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from track2view.engine.camera_moves import track_pivot
from track2view.engine.dense_depth import dense_depth
from track2view.engine.eval.fidelity import interior_holes, psnr
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.io.tracks import load_tracks
from track2view.engine.io.video import read_frames, write_mp4
from track2view.engine.warp import warp_video

CACHE = Path("cache/bench_new_view")
SHIFT = 8
ORBIT_DEG = 5.0
IDENTITY_FRAMES = 25


def track_agreement(depth, tracks) -> float:
    """Median relative difference between the tracks' depths and the dense maps at their pixels."""
    errors = []
    for t in range(0, tracks.num_frames, 5):
        full, _ = depth.frame(t)
        vis = tracks.vis[t] & np.isfinite(tracks.xyz[t]).all(-1)
        z = tracks.xyz[t, vis] @ tracks.w2c[t, 2, :3] + tracks.w2c[t, 2, 3]
        u = np.clip(np.round(tracks.uv[t, vis, 0]).astype(int), 0, tracks.size[0] - 1)
        v = np.clip(np.round(tracks.uv[t, vis, 1]).astype(int), 0, tracks.size[1] - 1)
        errors.append(np.abs(full[v, u] / z - 1))
    return float(np.median(np.concatenate(errors)))


def orbit(camera: CameraTrack, pivot: np.ndarray, degrees: float) -> CameraTrack:
    """``camera`` turned by ``degrees`` about the world +Z axis through ``pivot`` (every frame)."""
    a = np.radians(degrees)
    turn = np.eye(4)
    turn[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    move = np.eye(4)
    move[:3, 3] = pivot
    back = np.eye(4)
    back[:3, 3] = -pivot
    c2w_change = move @ turn @ back
    return CameraTrack(K=camera.K, w2c=camera.w2c @ np.linalg.inv(c2w_change), size=camera.size, fps=camera.fps)


def tracked(footage: str, size: tuple[int, int] | None) -> tuple[str, str]:
    """(footage path, tracks path), resized to ``size`` and tracked once (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = Path(footage).stem + ("" if size is None else f"_{size[0]}x{size[1]}")
    if size is not None:
        resized = CACHE / f"{stem}.mp4"
        if not resized.exists():
            video = read_frames(footage)
            frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in video.frames])
            write_mp4(frames, resized, video.fps)
        footage = str(resized)
    tracks = CACHE / f"{stem}.npz"
    if not tracks.exists():
        subprocess.run([str(Path(sys.executable).parent / "t2v"), "track", footage, "--out", str(tracks)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return footage, str(tracks)


def tracked_frames(footage: str, size: tuple[int, int] | None):
    """(tracks, frames (T, H, W, 3) uint8) of ``footage``, tracked once (:func:`tracked`)."""
    path, tracks_path = tracked(footage, size)
    tracks = load_tracks(tracks_path)
    frames = read_frames(path, frames=slice(tracks.frame_start, tracks.frame_start + tracks.num_frames)).frames
    return tracks, frames


def time_shift(frames: np.ndarray, tracks, depth) -> tuple[float, float, float, float]:
    """Target frame t = the source camera of frame t + :data:`SHIFT`, against footage frame t + SHIFT.

    Returns the warp's PSNR on the pixels it covers, the same for source frame t alone (the geometry
    without the nearest view or the fill: ``fill_offsets=()``) on the pixels that one covers, the
    unwarped frame t's (the floor) on the warp's, and the warp's share of holes.
    """
    T = tracks.num_frames - SHIFT
    later = CameraTrack(K=tracks.K[SHIFT:], w2c=tracks.w2c[SHIFT:], size=tracks.size, fps=tracks.fps)
    shift_tracks, shift_depth, truth = tracks.subset(frames=slice(0, T)), depth.subset(slice(0, T)), frames[SHIFT:]
    out, holes = warp_video(frames[:T], shift_tracks, later, depth=shift_depth)
    alone, alone_holes = warp_video(frames[:T], shift_tracks, later, depth=shift_depth, fill_offsets=())
    return (psnr(out, truth, ~holes), psnr(alone, truth, ~alone_holes), psnr(frames[:T], truth, ~holes),
            float(holes.mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", default="/work/shared/footage/*.mp4")
    parser.add_argument("--static", default="apple,backpack", help="comma-separated clip names with a static scene")
    parser.add_argument("--size", default=None, help="resize the footage to WxH first (e.g. 854x480)")
    args = parser.parse_args()
    size = tuple(int(s) for s in args.size.split("x")) if args.size else None
    static = set(args.static.split(","))
    print(f"{'clip':10s} {'frames':>6s} {'depth s':>7s} {'agree':>6s} {'id s/f':>6s} {'orbit s/f':>9s} | {'id PSNR':>7s} {'id holes':>8s} | "
          f"{'orbit tears':>11s} {'orbit holes':>11s} | {'shift PSNR':>10s} {'alone':>6s} {'floor':>6s} {'holes':>6s}")
    for path in sorted(glob.glob(args.footage)):
        name = Path(path).stem
        tracks, frames = tracked_frames(path, size)
        start = time.perf_counter()
        depth = dense_depth(frames, tracks)
        depth_s = time.perf_counter() - start
        agree = track_agreement(depth, tracks)
        source = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)

        n = min(IDENTITY_FRAMES, tracks.num_frames)
        ident_tracks = tracks.subset(frames=slice(0, n))
        ident_depth = depth.subset(slice(0, n))
        start = time.perf_counter()
        out, holes = warp_video(frames[:n], ident_tracks, source, depth=ident_depth)
        warp_s = (time.perf_counter() - start) / n
        id_psnr, id_holes = psnr(out, frames[:n]), holes.mean()

        turned = orbit(source, track_pivot(tracks), ORBIT_DEG)
        start = time.perf_counter()
        _, holes = warp_video(frames, tracks, turned, depth=depth)
        orbit_s = (time.perf_counter() - start) / tracks.num_frames
        tears, orbit_holes = interior_holes(holes).mean(), holes.mean()

        shift = ""
        if name in static:
            covered, alone, floor, shift_holes = time_shift(frames, tracks, depth)
            shift = f"{covered:10.2f} {alone:6.2f} {floor:6.2f} {shift_holes:6.1%}"
        print(f"{name:10s} {tracks.num_frames:6d} {depth_s:7.1f} {agree:6.1%} {warp_s:6.3f} {orbit_s:9.3f} | {id_psnr:7.2f} {id_holes:8.2%} | "
              f"{tears:11.2%} {orbit_holes:11.2%} | {shift}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
