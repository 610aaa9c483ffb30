"""Dense depth and the warp on the synthetic bench, against ground-truth depth and cameras.

Every clip under --clips (default ``data/synth/bench``, made with ``t2v synth --preset bench --out
data/synth``): the source is camera 0, the targets cameras 1 and 2. The source video is tracked as
``t2v eval`` does (our tracker told the true focal, moved into the clip's world by the frame-0
similarity; cached under ``cache/bench_dense_depth``). Then, static and dynamic clips apart:

- depth: AbsRel and δ<1.25 of the source's dense depth against the true depth after per-frame
  median scale alignment, over pixels with a surface; ours (:func:`dense_depth`) and the depth
  interpolated linearly between the tracks (Delaunay, nearest outside their hull: the
  track-interpolation baseline);
- warp: of the target pixels that the source sees (ground truth), the share the warp fills and the
  PSNR there; ours (our tracks, cameras and depth) and the ceiling (the same warp on the true depth
  and source cameras);
- time shift (static clips, where the source's own frame t + 8 is the truth): the target camera of
  frame t is our source camera of frame t + 8 (:func:`bench.bench_new_view.time_shift`): PSNR on
  the covered pixels, of the warp and of source frame t alone (the geometry only).

Run: ``.venv/bin/python -m bench.bench_dense_depth [--clips DIR] [--limit N]``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from scipy.interpolate import griddata

from bench.bench_new_view import time_shift
from track2view.engine.dense_depth import DenseDepth, dense_depth, full_resolution
from track2view.engine.eval.fidelity import NO_HIT_DEPTH, psnr, source_visible_mask
from track2view.engine.eval.methods import source_tracks
from track2view.engine.synth import load_clip
from track2view.engine.warp import warp_video

CACHE = Path("cache/bench_dense_depth")
GOALS = {"warp fill of what the source sees": 0.95, "static warp PSNR there (dB)": 20.0}


def depth_errors(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """AbsRel and δ<1.25 of ``estimate`` vs ``truth`` (H, W) after median scale alignment, surface pixels."""
    hit = (truth > 0) & (truth < NO_HIT_DEPTH) & (estimate > 0)
    est = estimate[hit] * np.median(truth[hit] / estimate[hit])
    ratio = np.maximum(est / truth[hit], truth[hit] / est)
    return float(np.mean(np.abs(est - truth[hit]) / truth[hit])), float(np.mean(ratio < 1.25))


def interpolated_depth(tracks, t: int) -> np.ndarray:
    """Depth of frame ``t`` interpolated linearly between the visible tracks (nearest outside their hull)."""
    W, H = tracks.size
    vis = tracks.vis[t] & np.isfinite(tracks.xyz[t]).all(-1)
    z = tracks.xyz[t, vis] @ tracks.w2c[t, 2, :3] + tracks.w2c[t, 2, 3]
    grid = tuple(np.mgrid[0:H, 0:W][::-1])
    linear = griddata(tracks.uv[t, vis], z, grid, method="linear")
    nearest = griddata(tracks.uv[t, vis], z, grid, method="nearest")
    return np.where(np.isfinite(linear), linear, nearest)


def warp_scores(frames, tracks, depth, target, truth, seen) -> tuple[float, float]:
    """Share of ``seen`` target pixels the warp fills, and its PSNR there."""
    out, holes = warp_video(frames, tracks, target.camera, depth)
    filled = seen & ~holes
    return float(filled.sum() / max(seen.sum(), 1)), psnr(out, truth, filled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=Path("data/synth/bench"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of each kind")
    args = parser.parse_args()
    rows: dict[str, list[list[float]]] = {"static": [], "dynamic": []}
    for folder in sorted(p for p in args.clips.iterdir() if (p / "meta.json").is_file()):
        clip = load_clip(folder)
        if args.limit is not None and len(rows[clip.kind]) >= args.limit:
            continue
        source = clip.views[0]
        tracks, _ = source_tracks(folder, source, CACHE)
        ours = dense_depth(source.frames, tracks)
        truth_depth = DenseDepth(depth=source.depth.astype(np.float32), dynamic=np.zeros_like(source.depth),
                                 size=tracks.size)
        depth_ours, depth_base = [], []
        for t in range(0, tracks.num_frames, 4):
            depth_ours.append(depth_errors(full_resolution(ours.depth[t], tracks.size), source.depth[t]))
            depth_base.append(depth_errors(interpolated_depth(tracks, t), source.depth[t]))
        warps = []
        for target in clip.views[1:]:
            seen = source_visible_mask(target.depth, target.camera, source.depth, source.camera)
            warps.append(warp_scores(source.frames, tracks, ours, target, target.frames, seen)
                         + warp_scores(source.frames, source.tracks, truth_depth, target, target.frames, seen))
        row = [*np.mean(depth_ours, 0), *np.mean(depth_base, 0), *np.mean(warps, 0)]
        shift = ""
        if clip.kind == "static":
            row += time_shift(source.frames, tracks, ours)[:2]
            shift = f"  t+8 PSNR {row[8]:.1f} (frame t alone {row[9]:.1f})"
        rows[clip.kind].append(row)
        print(f"{folder.name:16s} AbsRel {row[0]:.3f} (tracks {row[2]:.3f})  δ<1.25 {row[1]:.2f} (tracks {row[3]:.2f})  "
              f"warp fill {row[4]:.1%} PSNR {row[5]:.1f}  ceiling fill {row[6]:.1%} PSNR {row[7]:.1f}{shift}", flush=True)
    print("\nkind     clips  AbsRel ours/tracks  δ<1.25 ours/tracks  warp fill / PSNR  ceiling fill / PSNR"
          "  t+8 PSNR / frame t alone")
    for kind, values in rows.items():
        if values:
            m = np.mean(values, 0)
            shift = f"  {m[8]:.1f} / {m[9]:.1f}" if len(m) > 8 else ""
            print(f"{kind:8s} {len(values):5d}  {m[0]:.3f} / {m[2]:.3f}       {m[1]:.2f} / {m[3]:.2f}         "
                  f"{m[4]:.1%} / {m[5]:.1f}     {m[6]:.1%} / {m[7]:.1f}{shift}")
    print("goals:", ", ".join(f"{k} ≥ {v}" for k, v in GOALS.items()))


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
