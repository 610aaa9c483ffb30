"""A tiny exact two-camera shot for curation tests (no Blender): a textured plane seen by two cameras
that share frame 0 and then translate parallel to it, so the image content shifts by whole pixels.

World = camera 0 at frame 0 (OpenCV axes), the plane at z = :data:`PLANE_Z`. A camera moved by
(dx, dy, 0) shifts the image by −(fx·dx, fx·dy) / z pixels; the frames are crops of one texture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from track2view.engine.geometry.camera import CameraTrack, project_points, save_camera_json
from track2view.engine.io.tracks import Tracks
from track2view.engine.io.video import write_frames
from track2view.engine.synth.clip import SynthClip, SynthView

from .tracking_scene import noise_texture

PLANE_Z = 4.0
FOCAL = 60.0
MARGIN = 48  # texture pixels around the first crop


def planar_pair(T: int = 6, side: int = 64, step_src=(2, 1), step_tgt=(-1, 2), points: int = 400,
                seed: int = 0) -> SynthClip:
    """Source (camera 0) and target (camera 1) views of the plane, ``side``×``side`` pixels, T frames;
    image content of view k moves by −step_k pixels per frame. GT ``points`` random plane points."""
    tex = noise_texture(seed, side + 2 * MARGIN + 4 * T, scales=(2, 6, 24))
    K = np.array([[FOCAL, 0, (side - 1) / 2], [0, FOCAL, (side - 1) / 2], [0, 0, 1]])
    rng = np.random.default_rng(seed + 1)
    uv0 = rng.uniform(0, side - 1, (points, 2))
    xyz = np.concatenate([(uv0 - K[0, 2]) * PLANE_Z / FOCAL, np.full((points, 1), PLANE_Z)], 1)
    xyz = np.broadcast_to(xyz, (T, points, 3)).astype(np.float32)
    views = []
    for step in (step_src, step_tgt):
        shift = np.arange(T)[:, None] * np.asarray(step)[None]  # (T, 2) pixels
        frames = np.stack([tex[MARGIN + sy:MARGIN + sy + side, MARGIN + sx:MARGIN + sx + side] for sx, sy in shift])
        w2c = np.tile(np.eye(4), (T, 1, 1))
        w2c[:, :2, 3] = -shift * PLANE_Z / FOCAL
        camera = CameraTrack(K=K, w2c=w2c, size=(side, side), fps=24.0)
        uv, _ = project_points(xyz, camera.K, camera.w2c)
        vis = (uv >= 0).all(-1) & (uv <= side - 1).all(-1)
        tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=np.ones(vis.shape), rgb=np.zeros((points, 3)), K=camera.K,
                        w2c=camera.w2c, size=camera.size, fps=24.0, dynamic=np.zeros(points, bool),
                        object_id=np.zeros(points, int))
        views.append(SynthView(frames=frames, depth=np.full((T, side, side), PLANE_Z, np.float32),
                               camera=camera, tracks=tracks))
    return SynthClip(kind="static", seed=seed, preset="", views=views, meta={})


def write_camera_folders(clip: SynthClip, folder: Path) -> list[Path]:
    """Write each view as a synth camera folder ``folder/cam<k>/`` (rgb/ + CAM.json); returns them."""
    out = []
    for k, view in enumerate(clip.views):
        cam = folder / f"cam{k}"
        write_frames(view.frames, cam / "rgb", start=0)
        save_camera_json(view.camera, cam / "CAM.json")
        out.append(cam)
    return out
