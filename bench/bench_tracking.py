"""Tracker accuracy on synthetic clips (TAPVid-3D metrics, camera error) and speed on real footage.

Accuracy: every clip folder under --clips (default ``data/synth/bench``, made with
``t2v synth --preset bench --out data/synth``) is tracked from its source camera (cam0) with
``t2v track`` defaults (focal estimated), TAPVid "first" protocol: each ground-truth point is a
query at its first visible frame, tracked along with the tracker's own points (``queries`` of
:class:`TrackOptions`), and its reconstructed track is the prediction. TAPVid-3D APD3D / 3D-AJ / OA
(``engine/eval/tapvid3d.py``, median scale over the clip) in the source camera's coordinates,
static clips and dynamic clips separately (dynamic clips also on their moving points alone);
camera error CamI2V-style (``engine/eval/camera_metrics.py``: relative to frame 0, translations
normalised, RotErr degrees and TransErr summed over frames).
Speed: 50 frames of each /work/shared/footage/*.mp4, resized to 854×480, written to a temporary
mp4 and tracked end to end by ``t2v track`` in its own process (wall time includes start-up), with
the per-stage breakdown from its report (read, flow, poses, 3d, write).

With --toy, four ray-cast clips of ``tests/tracking_scene.py`` (exact ground truth) are scored too.

Run: ``.venv/bin/python -m bench.bench_tracking [--clips DIR] [--toy] [--footage GLOB] [--skip-speed]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from track2view.engine.eval.camera_metrics import camera_errors
from track2view.engine.eval.tapvid3d import tapvid3d_metrics
from track2view.engine.io.video import read_frames, write_frames, write_mp4
from track2view.engine.synth import load_clip
from track2view.engine.tracking.pipeline import TrackOptions, report_path, track_footage

GOALS = {"static apd3d": 70.0, "dynamic apd3d": 45.0, "oa": 85.0, "static rot_err_deg (25 frames)": 2.0}
KNOWN_FOCAL = False  # --known-focal: give the tracker the true focal length (isolates focal estimation)
SPEED_SIZE = (854, 480)
SPEED_FRAMES = 50
SPEED_GOAL_S = 30.0


def _camera_points(xyz: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    w2c = np.asarray(w2c, np.float64)
    return np.einsum("tij,tnj->tni", w2c[:, :3, :3], np.asarray(xyz, np.float64)) + w2c[:, None, :3, 3]


def query_points(gt_uv: np.ndarray, gt_vis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TAPVid "first" queries: (M, 3) [t, x, y] at each seen GT point's first visible frame, and their GT indices."""
    seen = np.nonzero(gt_vis.any(0))[0]
    first = gt_vis[:, seen].argmax(0)
    return np.c_[first, gt_uv[first, seen]], seen


def predictions(tracks, query_index: np.ndarray, M: int, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space points (T, M, 3) and visibility (T, M) of the query tracks (unseen GT points: far misses)."""
    T = tracks.num_frames
    pred = np.full((T, M, 3), 1e6)
    pred_vis = np.zeros((T, M), bool)
    pred[:, seen] = _camera_points(tracks.xyz[:, query_index], tracks.w2c)
    pred_vis[:, seen] = tracks.vis[:, query_index]
    return pred, pred_vis


def score(rgb: Path, name: str, kind: str, gt_xyz: np.ndarray, gt_vis: np.ndarray, gt_K: np.ndarray,
          gt_w2c: np.ndarray, gt_dynamic: np.ndarray, max_points: int) -> dict:
    """Track the frames in folder ``rgb`` and score them against ground-truth world points (T, N, 3)."""
    gt_cam = _camera_points(gt_xyz, gt_w2c)
    gt_uv = gt_cam[..., :2] / np.maximum(gt_cam[..., 2:], 1e-9) * gt_K[:, None, [0, 1], [0, 1]] + gt_K[:, None, :2, 2]
    queries, seen = query_points(gt_uv, gt_vis)
    start = time.perf_counter()
    focal_px = float(gt_K[0, 0, 0]) if KNOWN_FOCAL else None
    tracks, report, _ = track_footage(rgb, TrackOptions(max_points=max_points, queries=queries, focal_px=focal_px,
                                                                dense_depth=False))
    seconds = time.perf_counter() - start
    pred, pred_vis = predictions(tracks, np.asarray(report["query_index"]), gt_vis.shape[1], seen)
    focal = (gt_K[0, 0, 0], gt_K[0, 1, 1])
    seen = gt_vis.any(0)
    out = {"clip": name, "kind": kind, "seconds": seconds, "mode": report["camera_mode"],
           "focal_err": abs(report["focal_px"] / focal[0] - 1), **camera_errors(tracks.w2c, gt_w2c)}
    for part, mask in (("all", seen), ("moving", seen & gt_dynamic)):
        if mask.any():
            m = tapvid3d_metrics(gt_cam, gt_vis, pred, pred_vis, focal, point_mask=mask)
            out[part] = {k: 100 * m[k] for k in ("apd3d", "aj3d", "oa")}
    return out


def synth_cases(clips_root: Path):
    """(name, kind, scorer) of every synthetic clip folder under ``clips_root`` (source camera)."""
    folders = sorted({Path(p).parent for p in glob.glob(str(clips_root / "**" / "meta.json"), recursive=True)})
    for folder in folders:
        def run(max_points, folder=folder):
            clip = load_clip(folder)
            src = clip.source
            gt = src.tracks
            dynamic = gt.dynamic if gt.dynamic is not None else np.zeros(gt.num_points, bool)
            return score(folder / "cam0" / "rgb", folder.name, clip.kind, gt.xyz, gt.vis, src.camera.K,
                         src.camera.w2c, dynamic, max_points)
        yield folder.name, run


def toy_cases(tmp: Path):
    """Ray-cast clips of tests/tracking_scene.py (25 frames, 256×192): moving and panning cameras, a ball."""
    from tests.tracking_scene import ground_truth_tracks, render_clip

    specs = (("toy_static_move", "static", dict(ball=False, seed=11)),
             ("toy_static_pan", "static", dict(ball=False, rotate_only=True, seed=12)),
             ("toy_dynamic_a", "dynamic", dict(ball=True, seed=13)),
             ("toy_dynamic_b", "dynamic", dict(ball=True, seed=14, move=2.0)))
    for name, kind, kw in specs:
        def run(max_points, name=name, kind=kind, kw=kw):
            frames, depth, K, w2c, ball = render_clip(T=25, size=(256, 192), focal=220.0, **kw)
            write_frames(frames, tmp / name)
            xyz, vis, on_ball = ground_truth_tracks(depth, K, w2c, ball, 1024, seed=kw["seed"])
            return score(tmp / name, name, kind, xyz, vis, np.repeat(K[None], len(w2c), 0), w2c, on_ball, max_points)
        yield name, run


def accuracy(title: str, cases: list, max_points: int) -> None:
    if not cases:
        print(f"{title}: no clips")
        return
    focal = "true focal given" if KNOWN_FOCAL else "focal estimated"
    print(f"accuracy on {len(cases)} {title} (max {max_points} tracks, {focal})")
    print(f"  {'clip':24s} {'mode':8s} {'APD3D':>6s} {'3D-AJ':>6s} {'OA':>6s} {'movAPD':>6s} "
          f"{'RotErr°':>8s} {'TransErr':>8s} {'focal%':>6s} {'sec':>5s}")
    rows = []
    for _name, run in cases:
        r = run(max_points)
        rows.append(r)
        moving = f"{r['moving']['apd3d']:6.1f}" if "moving" in r else f"{'-':>6s}"
        print(f"  {r['clip']:24s} {r['mode']:8s} {r['all']['apd3d']:6.1f} {r['all']['aj3d']:6.1f} "
              f"{r['all']['oa']:6.1f} {moving} {r['rot_err_deg']:8.2f} {r['trans_err']:8.3f} "
              f"{100 * r['focal_err']:6.1f} {r['seconds']:5.1f}", flush=True)
    for kind in ("static", "dynamic"):
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        mean = {k: np.mean([r["all"][k] for r in sel]) for k in ("apd3d", "aj3d", "oa")}
        moving = [r["moving"]["apd3d"] for r in sel if "moving" in r]
        rot = np.mean([r["rot_err_deg"] for r in sel])
        trans = np.mean([r["trans_err"] for r in sel])
        text = f"  {kind:7s} clips ({len(sel)}): APD3D {mean['apd3d']:.1f}  3D-AJ {mean['aj3d']:.1f}  OA {mean['oa']:.1f}"
        if moving:
            text += f"  APD3D(moving points) {np.mean(moving):.1f}"
        print(text + f"  RotErr {rot:.2f}°  TransErr {trans:.3f} (per clip, summed over frames)")
    static = [r for r in rows if r["kind"] == "static"]
    dynamic = [r for r in rows if r["kind"] == "dynamic"]
    checks = []
    if static:
        checks.append(("static APD3D ≥ 70", np.mean([r["all"]["apd3d"] for r in static]) >= GOALS["static apd3d"]))
        over = sum(r["rot_err_deg"] > GOALS["static rot_err_deg (25 frames)"] for r in static)
        checks.append((f"static RotErr ≤ 2° on every clip ({over} of {len(static)} above)", over == 0))
    if dynamic:
        checks.append(("dynamic APD3D ≥ 45", np.mean([r["all"]["apd3d"] for r in dynamic]) >= GOALS["dynamic apd3d"]))
    checks.append(("OA ≥ 85", np.mean([r["all"]["oa"] for r in rows]) >= GOALS["oa"]))
    print("  goals: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


def speed(pattern: str, max_points: int) -> None:
    """Time ``t2v track`` (the command users run, in its own process) on 50 frames of each clip."""
    import cv2

    files = sorted(glob.glob(pattern))
    if not files:
        print(f"no footage matches {pattern}")
        return
    print(f"speed: {SPEED_FRAMES} frames resized to {SPEED_SIZE[0]}x{SPEED_SIZE[1]}, max {max_points} tracks, "
          f"{os.cpu_count()} CPUs, `t2v track` end to end (goal ≤ {SPEED_GOAL_S:.0f} s)")
    t2v = Path(sys.executable).with_name("t2v")
    for path in files:
        footage = read_frames(path, slice(0, SPEED_FRAMES))
        frames = np.stack([cv2.resize(f, SPEED_SIZE, interpolation=cv2.INTER_AREA) for f in footage.frames])
        with tempfile.TemporaryDirectory() as tmp:
            clip = write_mp4(frames, Path(tmp) / "clip.mp4", footage.fps)
            out = Path(tmp) / "tracks.npz"
            start = time.perf_counter()
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([str(t2v), "track", str(clip), "--out", str(out), "--max-points", str(max_points)],
                           check=True, capture_output=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
            report = json.loads(report_path(out).read_text())
        stages = "  ".join(f"{k} {v:.2f}" for k, v in report["timings_s"].items())
        print(f"  {Path(path).name:14s} {len(frames)} frames {wall:6.2f} s (CPU {cpu:.2f} s)  [{stages}]  "
              f"{report['points']} tracks, {report['camera_mode']}, focal {report['focal_px']:.0f} px "
              f"({report['focal_source']}), {report['dynamic']} moving  "
              f"{'ok' if wall <= SPEED_GOAL_S else 'OVER GOAL'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=Path("data/synth/bench"))
    parser.add_argument("--footage", default="/work/shared/footage/*.mp4")
    parser.add_argument("--max-points", type=int, default=TrackOptions().max_points)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--toy", action="store_true", help="also score the ray-cast clips of tests/tracking_scene.py")
    parser.add_argument("--known-focal", action="store_true", help="give the tracker the true focal length")
    args = parser.parse_args()
    global KNOWN_FOCAL
    KNOWN_FOCAL = args.known_focal
    if not args.skip_accuracy:
        cases = list(synth_cases(args.clips))
        if not cases:
            print(f"no synthetic clips under {args.clips}; make them with `t2v synth --preset bench --out data/synth`")
        accuracy(f"synthetic clips under {args.clips}", cases, args.max_points)
        if args.toy:
            with tempfile.TemporaryDirectory() as tmp:
                accuracy("ray-cast toy clips", list(toy_cases(Path(tmp))), args.max_points)
    if not args.skip_speed:
        speed(args.footage, args.max_points)


if __name__ == "__main__":
    main()
