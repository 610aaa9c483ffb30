"""Synthetic clip files: finishing a rendered clip (ground-truth tracks, visibility) and loading it.

The Blender worker (``bridge/synth_render.py``) leaves in the clip's partial folder the frames
``cam<k>/rgb/*.png``, depth ``cam<k>/depth.npy`` and ``raw/gt.npz`` (world xyz of every point
per frame, per-camera K/w2c read back from Blender, object ids, ray-cast visibility) plus
``raw/scene.json``. :func:`finish_clip` keeps the ray-cast visibility where the rendered depth
confirms it (:func:`depth_consistent`) and turns that into the documented layout (see the package
docstring) and :func:`load_clip` reads it back.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geometry.camera import CameraTrack, load_camera_json, project_points, save_camera_json
from ..io.atomic import atomic_file
from ..io.tracks import Tracks, load_tracks, save_tracks
from ..io.video import read_frames
from .contact_sheet import render_contact_sheet, write_contact_sheet
from .presets import SYNTH_VERSION, SynthSpec

CLIP_FORMAT = 1
DEPTH_REL_TOLERANCE = 0.02   # depth tests accept |z − rendered depth| ≤ this × z + DEPTH_ABS_TOLERANCE
DEPTH_ABS_TOLERANCE = 0.02   # metres
DYNAMIC_MIN_MOTION = 1e-4    # metres: a point that moves farther than this from frame 0 is dynamic
UNSEEN_RGB = (128, 128, 128)  # colour of points never visible in the source view


@dataclasses.dataclass
class SynthView:
    """One camera of a clip: ``frames`` (T, H, W, 3) uint8 RGB, ``depth`` (T, H, W) float32 camera z
    in metres (OpenCV; 1e10 where nothing was hit), ``camera`` K/w2c per frame, ``tracks`` the
    clip's points seen from this camera (``uv``/``vis`` of this view; ``xyz`` shared by all views)."""

    frames: np.ndarray
    depth: np.ndarray
    camera: CameraTrack
    tracks: Tracks


@dataclasses.dataclass
class SynthClip:
    """A synthetic clip: ``views[0]`` is the source camera, the rest are targets."""

    kind: str
    seed: int
    preset: str
    views: list[SynthView]
    meta: dict

    @property
    def source(self) -> SynthView:
        return self.views[0]

    @property
    def targets(self) -> list[SynthView]:
        return self.views[1:]


def camera_dir(folder: Path, k: int) -> Path:
    return Path(folder) / f"cam{k}"


def _neighbourhood_depths(uv: np.ndarray, z: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rendered depths (9, T, N) of the 3×3 pixels around the nearest pixel of ``uv`` (T, N, 2)
    in depth maps (T, H, W), and the mask (T, N) of points in front of the camera and in the image."""
    T, H, W = depth.shape
    col = np.rint(uv[..., 0]).astype(np.int64)
    row = np.rint(uv[..., 1]).astype(np.int64)
    inside = (z > 0) & (col >= 0) & (col < W) & (row >= 0) & (row < H)
    frame = np.broadcast_to(np.arange(T)[:, None], z.shape)
    near = np.stack([depth[frame, np.clip(row + dr, 0, H - 1), np.clip(col + dc, 0, W - 1)]
                     for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
    return near, inside


def _tolerance(z: np.ndarray) -> np.ndarray:
    return np.abs(z) * DEPTH_REL_TOLERANCE + DEPTH_ABS_TOLERANCE


def depth_consistent(uv: np.ndarray, z: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(T, N) bool: the point at pixels ``uv`` (T, N, 2) with camera z (T, N) metres is in the image
    and not behind the rendered depth (T, H, W) of all of its 3×3 pixel neighbourhood (Cycles
    samples the depth pass at a jittered sub-pixel position), within :func:`_tolerance`."""
    near, inside = _neighbourhood_depths(uv, z, depth)
    return inside & (z <= near.max(0) + _tolerance(z))


def on_rendered_surface(uv: np.ndarray, z: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(T, N) bool: the rendered depths of the 3×3 neighbourhood of ``uv`` bracket the point's depth
    z (within :func:`_tolerance`), so a rendered surface passes through the point there (on surfaces
    seen at a grazing angle one pixel spans a large depth range)."""
    near, inside = _neighbourhood_depths(uv, z, depth)
    tol = _tolerance(z)
    return inside & (near.min(0) - tol <= z) & (z <= near.max(0) + tol)


def _point_colours(frames: np.ndarray, uv: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """(N, 3) uint8: each point's source colour at the first frame it is visible."""
    rgb = np.tile(np.array(UNSEEN_RGB, np.uint8), (uv.shape[1], 1))
    seen = vis.any(0)
    first = vis.argmax(0)[seen]
    idx = np.nonzero(seen)[0]
    px = np.rint(uv[first, idx]).astype(np.int64)
    rgb[idx] = frames[first, px[:, 1], px[:, 0]]
    return rgb


def finish_clip(folder: Path, spec: SynthSpec, seconds: float) -> dict:
    """Turn the worker's raw output in ``folder`` into the final clip layout; return meta.json."""
    folder = Path(folder)
    with np.load(folder / "raw" / "gt.npz", allow_pickle=False) as raw:
        gt = {k: raw[k] for k in raw.files}
    scene_info = json.loads((folder / "raw" / "scene.json").read_text())
    xyz = gt["xyz"].astype(np.float32)
    moved = np.linalg.norm(xyz - xyz[:1], axis=-1).max(0)
    dynamic = moved > DYNAMIC_MIN_MOTION
    views, agreement, visible = [], [], []
    for k in range(spec.cameras):
        cam = CameraTrack(K=gt["K"][k], w2c=gt["w2c"][k], size=spec.size, fps=spec.fps)
        save_camera_json(cam, camera_dir(folder, k) / "CAM.json")
        cam = load_camera_json(camera_dir(folder, k) / "CAM.json")
        depth = np.load(camera_dir(folder, k) / "depth.npy")
        # Project with exactly the stored (float32) values, so re-projection reproduces uv.
        uv, z = project_points(xyz.astype(np.float64), cam.K.astype(np.float32).astype(np.float64),
                               cam.w2c.astype(np.float32).astype(np.float64))
        vis = gt["vis_raycast"][k] & depth_consistent(uv, z, depth)
        agreement.append(float(on_rendered_surface(uv, z, depth)[vis].mean()) if vis.any() else 1.0)
        visible.append(float(vis.mean()))
        views.append((cam, uv, vis))
    frames = [read_frames(camera_dir(folder, k) / "rgb").frames for k in range(spec.cameras)]
    rgb = _point_colours(frames[0], views[0][1], views[0][2])
    for k, (cam, uv, vis) in enumerate(views):
        tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=np.ones(vis.shape, np.float32), rgb=rgb,
                        K=cam.K, w2c=cam.w2c, size=cam.size, fps=cam.fps, dynamic=dynamic,
                        object_id=gt["object_id"])
        save_tracks(tracks, camera_dir(folder, k) / "tracks.npz")
    labels = [f"cam{k} {'source' if k == 0 else 'target'} {m}" for k, m in enumerate(scene_info["motions"])]
    sheet = render_contact_sheet(frames, [v[1] for v in views], [v[2] for v in views], labels)
    write_contact_sheet(sheet, folder / "contact_sheet.png")
    meta = {
        "format": CLIP_FORMAT, "synth_version": SYNTH_VERSION, **spec.to_json(),
        "motions": scene_info["motions"], "objects": scene_info["objects"], "lights": scene_info["lights"],
        "blender": scene_info["blender"],
        "visible_fraction": visible, "visible_on_rendered_surface": agreement,
        "dynamic_points": int(dynamic.sum()), "seconds": round(seconds, 2),
        "seconds_tracks": scene_info["seconds_tracks"], "seconds_render": scene_info["seconds_render"],
    }
    with atomic_file(folder / "meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=1))
    shutil.rmtree(folder / "raw")
    return meta


def load_clip(folder: str | os.PathLike) -> SynthClip:
    """Read a synthetic clip folder (layout in the package docstring) without Blender."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise UserError(f"{folder} is not a synthetic clip (no meta.json); make one with `t2v synth`")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{meta_path} is damaged ({exc}); render the clip again with `t2v synth`") from exc
    if meta.get("format") != CLIP_FORMAT:
        raise UserError(f"{meta_path}: clip format {meta.get('format')} is not supported (expected {CLIP_FORMAT})")
    views = []
    for k in range(int(meta["cameras"])):
        d = camera_dir(folder, k)
        tracks = load_tracks(d / "tracks.npz")
        try:
            depth = np.load(d / "depth.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{d / 'depth.npy'} is missing or damaged ({exc}); render the clip again") from exc
        views.append(SynthView(frames=read_frames(d / "rgb").frames, depth=depth,
                               camera=load_camera_json(d / "CAM.json"), tracks=tracks))
    return SynthClip(kind=meta["kind"], seed=int(meta["seed"]), preset=meta["preset"], views=views, meta=meta)
