"""Results of external point trackers → our tracks format (``t2v import-tracks``).

Accepted ``.npz`` layouts (read with ``allow_pickle=False``; object arrays such as TAPVid-3D's
``images_jpeg_bytes`` are skipped, so colours then come from ``--video`` or are grey):

``tapvid3d``     ``tracks_XYZ`` (T, N, 3) camera coordinates (OpenCV axes), ``visibility`` (T, N),
                 ``fx_fy_cx_cy`` (4,). The camera is taken as fixed (TAPVid-3D has no poses).
``cotracker``    ``tracks``/``pred_tracks`` (T, N, 2) pixels and ``visibility``/``pred_visibility``
                 (T, N) (a leading batch axis of 1 is dropped). 2D only: lifted with ``--depth``
                 maps when given, else every point lies at camera depth 1 (a flat layer; say so).
                 Fixed camera; focal ``--focal-px`` or the default (50 mm on 36 mm).
``spatracker``   SpatialTrackerV2's "tapip3d" file: ``coords`` (T, N, 3) world, ``extrinsics``
                 (T, 4, 4) world-to-camera, ``intrinsics`` (T, 3, 3), ``visibs`` (T, N[, 1]),
                 optional ``video`` (T, 3, H, W) floats in [0, 1] (size and colours).

The result is moved into :mod:`.world_frame`; ``dynamic`` marks points whose world position
moves more than :data:`DYNAMIC_MOTION` of their median depth.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geometry.camera import project_points
from ..io.npz import read_npz
from ..io.tracks import Tracks
from .camera_solve import default_focal, intrinsics
from .depth_input import load_depth_sequence, sample_depth
from .flow_tracks import fill_invisible
from .geometry import column_percentile
from .pipeline import track_colours
from .world_frame import to_blender_world

FORMATS = ("tapvid3d", "cotracker", "spatracker")
DEFAULT_FPS = 24.0
DYNAMIC_MOTION = 0.01  # share of a point's median depth it must move to count as dynamic
UNSEEN_GREY = 128


def detect_format(arrays: dict[str, np.ndarray], path: Path) -> str:
    """Which of :data:`FORMATS` the arrays look like; UserError naming the file if none."""
    if "tracks_XYZ" in arrays:
        return "tapvid3d"
    if "coords" in arrays and "extrinsics" in arrays:
        return "spatracker"
    if "tracks" in arrays or "pred_tracks" in arrays:
        return "cotracker"
    raise UserError(f"{path}: cannot tell the tracker format from its keys {sorted(arrays)}; "
                    f"pass --format ({'|'.join(FORMATS)})")


def _get(arrays, path, *names, ndim=None):
    for name in names:
        if name in arrays:
            value = np.asarray(arrays[name])
            if ndim is not None and value.ndim == ndim + 1 and value.shape[0] == 1:
                value = value[0]  # batch of one
            if ndim is not None and value.ndim != ndim:
                raise UserError(f"{path}: '{name}' must have {ndim} axes, got shape {value.shape}")
            return value
    raise UserError(f"{path}: missing '{names[0]}'")


def _visibility(arrays, path, shape, *names):
    vis = _get(arrays, path, *names)
    if vis.ndim == 3 and vis.shape[-1] == 1:
        vis = vis[..., 0]
    if vis.ndim == 3 and vis.shape[0] == 1:
        vis = vis[0]
    if vis.shape != shape:
        raise UserError(f"{path}: '{names[0]}' must have shape {shape}, got {vis.shape}")
    return vis > 0.5 if vis.dtype != bool else vis


def import_tracks(path: str | os.PathLike, fmt: str | None = None, video: str | os.PathLike | None = None,
                  fps: float | None = None, size: tuple[int, int] | None = None, focal_px: float | None = None,
                  depth: str | os.PathLike | None = None) -> tuple[Tracks, dict]:
    """Read an external tracker's ``.npz`` → (our :class:`Tracks`, a small JSON-able report).

    ``video`` (file or image folder) gives colours, fps and image size; ``size`` (W, H) and
    ``fps`` override; ``focal_px``/``depth`` only matter for 2D (cotracker) input.
    """
    from ..io.video import read_frames

    path = Path(path)
    arrays = read_npz(path, "tracks file")
    fmt = fmt or detect_format(arrays, path)
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {FORMATS}, got {fmt!r}")
    footage = read_frames(video) if video is not None else None
    report: dict = {"input": str(path), "format": fmt}

    if fmt == "spatracker":
        world = _get(arrays, path, "coords", ndim=3).astype(np.float64)
        T, N = world.shape[:2]
        w2c = _get(arrays, path, "extrinsics", ndim=3).astype(np.float64)
        K = _get(arrays, path, "intrinsics").astype(np.float64)
        K = np.broadcast_to(K, (T, 3, 3)) if K.shape == (3, 3) else K
        if w2c.shape != (T, 4, 4) or K.shape != (T, 3, 3):
            raise UserError(f"{path}: 'extrinsics' must be ({T}, 4, 4) and 'intrinsics' ({T}, 3, 3)")
        vis = _visibility(arrays, path, (T, N), "visibs", "visibility")
        cam = np.einsum("tij,tnj->tni", w2c[:, :3, :3], world) + w2c[:, None, :3, 3]
        if footage is None and "video" in arrays and arrays["video"].ndim == 4:
            frames = np.clip(np.round(np.moveaxis(arrays["video"], 1, -1) * 255), 0, 255).astype(np.uint8)
        else:
            frames = None
        report["camera"] = "from the file (extrinsics = world-to-camera)"
    else:
        w2c = None
        frames = None
        if fmt == "tapvid3d":
            cam = _get(arrays, path, "tracks_XYZ", ndim=3).astype(np.float64)
            T, N = cam.shape[:2]
            vis = _visibility(arrays, path, (T, N), "visibility")
            fx, fy, cx, cy = _get(arrays, path, "fx_fy_cx_cy").astype(np.float64).ravel()[:4]
            K = np.broadcast_to(np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]]), (T, 3, 3))
            size = size or (footage.size if footage else (round(2 * cx + 1), round(2 * cy + 1)))
        else:
            uv2 = _get(arrays, path, "tracks", "pred_tracks", ndim=3).astype(np.float64)
            T, N = uv2.shape[:2]
            vis = _visibility(arrays, path, (T, N), "visibility", "pred_visibility")
            size = size or (footage.size if footage else None)
            if size is None:
                raise UserError(f"{path}: 2D tracks need the image size: pass --video or --size WxH")
            K = np.broadcast_to(intrinsics(focal_px or default_focal(size), size), (T, 3, 3))
            if depth is not None:
                maps = load_depth_sequence(depth, T, None, size)
                z = sample_depth(maps, uv2, np.ones((T, N), bool))
                z = np.where(np.isfinite(z), z, np.nanmedian(z))
                report["depth"] = "user depth sequence"
            else:
                z = np.ones((T, N))
                report["depth"] = "none: 2D tracks placed at camera depth 1 (pass --depth for 3D)"
            rays = np.concatenate([(uv2 - K[:, None, :2, 2]) / K[:, None, [0, 1], [0, 1]], np.ones((T, N, 1))], -1)
            cam = rays * z[..., None]
        report["camera"] = "fixed (the file has no camera poses)"
        world, w2c = cam, np.tile(np.eye(4), (T, 1, 1))

    if footage is not None:
        if footage.num_frames != T:
            raise UserError(f"{video}: has {footage.num_frames} frames but {path} has {T}")
        frames = footage.frames
        size = size or footage.size
    if size is None:
        size = (frames.shape[2], frames.shape[1]) if frames is not None else (
            round(2 * K[0, 0, 2] + 1), round(2 * K[0, 1, 2] + 1))
    uv, _ = project_points(cam, K, np.broadcast_to(np.eye(4), (T, 4, 4)))  # cam is camera space already
    vis = vis & (cam[..., 2] > 0)
    scale = frames.shape[2] / size[0] if frames is not None else 1.0  # pixel centres: (u + 0.5) s - 0.5
    rgb = (track_colours(frames, (uv + 0.5) * scale - 0.5, vis) if frames is not None
           else np.full((N, 3), UNSEEN_GREY, np.uint8))
    xyz, w2c = to_blender_world(world, w2c)
    med_depth = np.nan_to_num(column_percentile(np.where(vis, cam[..., 2], np.nan), 50), nan=1.0)
    seen = vis[..., None] & np.isfinite(xyz)
    spread = np.where(seen, xyz, -np.inf).max(0) - np.where(seen, xyz, np.inf).min(0)
    dynamic = np.linalg.norm(np.where(np.isfinite(spread), spread, 0), axis=-1) > DYNAMIC_MOTION * med_depth
    fps = fps or (footage.fps if footage else DEFAULT_FPS)
    tracks = Tracks(xyz=_hold_invisible(xyz, vis), uv=uv, vis=vis, conf=vis.astype(np.float32), rgb=rgb,
                    K=K, w2c=w2c, size=size, fps=fps, dynamic=dynamic)
    report.update({"frames": T, "points": N, "dynamic": int(dynamic.sum())})
    return tracks, report


def _hold_invisible(xyz: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """Non-finite or unseen positions take the nearest seen one (tracks stay finite for Blender)."""
    ok = vis & np.isfinite(xyz).all(-1)
    ok[:, ~ok.any(0)] = True
    return np.nan_to_num(fill_invisible(xyz, ok))
