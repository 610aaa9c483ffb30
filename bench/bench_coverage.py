"""Coverage Preview speed: the operator (a worker process, background mode) and its parts.

Usage: .venv/bin/python bench/bench_coverage.py [--frames 100] [--tracks 5000] [--size 960 540]

Builds a Blender scene (bpy) with an animated source camera, a rigged target camera orbiting 30°
and a synthetic tracks file (points on a wall and a box; no dense-depth cache, so it is spread from
the tracks), then prints the median time (ms) of: the whole Coverage Preview operator (reading the
rigged camera at every frame in Blender, the worker's start and the engine's coverage), its parts,
and one overlay update (one frame: projection + z-buffer, what a redraw pays after the camera or
frame changed; unchanged redraws reuse it).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--tracks", type=int, default=5000)
    parser.add_argument("--size", type=int, nargs=2, default=(960, 540))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import bpy

    import track2view
    from track2view.bridge import coverage_overlay
    from track2view.bridge.camera import camera_track_from_blender
    from track2view.engine.coverage import compute_coverage
    from track2view.engine.io.tracks import Tracks, save_tracks
    from track2view.operators import coverage_preview

    bpy.ops.wm.read_factory_settings(use_empty=True)
    track2view.register()
    scene = bpy.context.scene
    T, N = args.frames, args.tracks
    scene.frame_start, scene.frame_end = 1, T
    scene.render.resolution_x, scene.render.resolution_y = args.size
    src = bpy.data.objects.new("recovered", bpy.data.cameras.new("recovered"))
    scene.collection.objects.link(src)
    for frame in (1, T):
        src.location = (0.02 * (frame - 1), -6.0, 1.5)
        src.rotation_euler = (math.radians(85), 0.0, 0.0)
        src.keyframe_insert("location", frame=frame)
        src.keyframe_insert("rotation_euler", frame=frame)

    rng = np.random.default_rng(0)
    wall = np.column_stack([rng.uniform(-6, 6, N), np.full(N, 2.0), rng.uniform(-2, 5, N)])
    box = rng.uniform(-0.5, 0.5, (N // 4, 3)) + [0.0, 0.0, 1.0]
    pts = np.concatenate([wall, box])
    xyz = np.broadcast_to(pts, (T, len(pts), 3)).copy()
    src_cam = camera_track_from_blender(scene, src)
    uv, z = src_cam.project(xyz)
    vis = (z > 0) & (uv[..., 0] >= 0) & (uv[..., 0] < args.size[0]) & (uv[..., 1] >= 0) & (uv[..., 1] < args.size[1])
    tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=vis.astype(np.float32), rgb=np.zeros((len(pts), 3)),
                    K=src_cam.K, w2c=src_cam.w2c, size=tuple(args.size), fps=24)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tracks.npz"
        save_tracks(tracks, path)
        settings = scene.track2view
        settings.source_camera, settings.tracks_path = src, str(path)
        bpy.ops.track2view.add_target_camera()
        bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=30.0)
        target = settings.target_camera

        def cold():
            coverage_preview._loaded.clear()
            bpy.ops.track2view.coverage_preview()

        total = _median_ms(cold, args.repeats)
        warm = _median_ms(lambda: bpy.ops.track2view.coverage_preview(), args.repeats)
        read = _median_ms(lambda: camera_track_from_blender(scene, target), args.repeats)
        cam = camera_track_from_blender(scene, target)
        pair = _median_ms(lambda: compute_coverage(tracks, cam), args.repeats)
        scene.frame_set(T // 2)
        def overlay_update():
            coverage_overlay.set_overlay_tracks(scene, tracks)  # forget the memo: measure a real update
            coverage_overlay.overlay_points(scene, target)

        overlay = _median_ms(overlay_update, args.repeats * 5)
        report = compute_coverage(tracks, cam)
    print(f"{T} frames, {len(pts)} tracks, {args.size[0]}x{args.size[1]}, holes at {report.grid}, "
          f"coverage mean {report.coverage.mean():.3f}")
    print(f"coverage preview, first run (loads the tracks): {total:8.1f} ms")
    print(f"coverage preview, again (tracks file unchanged): {warm:8.1f} ms")
    print(f"  read rigged camera at every frame:            {read:8.1f} ms")
    print(f"  coverage (engine, in this process):           {pair:8.1f} ms")
    print(f"overlay update for one frame:                   {overlay:8.2f} ms")
    track2view.unregister()


if __name__ == "__main__":
    main()
