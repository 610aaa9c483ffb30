"""A user depth sequence (``--depth DIR``): one camera-space depth map per frame.

Files (sorted naturally, one per input frame): ``.npy`` float (H, W) depth in scene units,
``.exr`` (first channel, scene units) or 16-bit ``.png`` in millimetres (→ metres). Depth is
camera-space z (distance along the optical axis), not distance along the ray; 0, negative or
non-finite values mean "unknown". Maps may have any resolution; they are sampled at the same
relative image position.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.video import _cv2, natural_key

DEPTH_SUFFIXES = (".npy", ".exr", ".png")
PNG_DEPTH_SCALE = 1e-3  # 16-bit PNG depth is in millimetres


ASPECT_TOLERANCE = 0.02
"""Relative difference between a depth map's and the footage's width/height still taken as the same shape."""


def _read_depth(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        try:
            depth = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: not a readable .npy depth map ({exc})") from exc
    else:
        depth = _cv2().imread(str(path), -1)  # IMREAD_UNCHANGED
        if depth is None:
            raise UserError(f"{path}: cannot read this depth map (unreadable or corrupt)")
        if path.suffix.lower() == ".png":
            if depth.dtype != np.uint16:
                raise UserError(f"{path}: PNG depth must be 16-bit (millimetres), got {depth.dtype}")
            depth = depth.astype(np.float32) * PNG_DEPTH_SCALE
    depth = np.asarray(depth, np.float32)
    if depth.ndim == 3:
        depth = depth[..., 0] if path.suffix.lower() == ".npy" else depth[..., -1]  # cv2 is BGR: -1 = R
    if depth.ndim != 2:
        raise UserError(f"{path}: depth map must be a 2-D array, got shape {depth.shape}")
    return np.where(np.isfinite(depth) & (depth > 0), depth, np.nan)


def load_depth_sequence(folder: str | os.PathLike, total: int, selection: slice | None,
                        size: tuple[int, int]) -> np.ndarray:
    """Depth maps (T, h, w) float32 (NaN = unknown) for the selected frames, resized to ``size`` (w, h).

    The folder must hold one map per input frame (``total``), or exactly one per selected frame.
    """
    cv2 = _cv2()
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"depth folder not found: {folder}")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in DEPTH_SUFFIXES and not p.name.startswith(".")),
                   key=lambda p: natural_key(p.name))
    chosen = files[selection] if selection is not None and len(files) == total else files
    count = len(range(total)[selection]) if selection is not None else total
    if len(chosen) != count:
        raise UserError(f"{folder}: holds {len(files)} depth maps but the footage has {total} frames "
                        f"({count} selected); give one map per frame")
    maps = []
    for path in chosen:
        depth = _read_depth(path)
        h, w = depth.shape
        if abs(w / h - size[0] / size[1]) > ASPECT_TOLERANCE * size[0] / size[1]:
            raise UserError(f"{path}: depth map is {w}x{h}, not the footage's shape ({size[0]}:{size[1]}); "
                            "give maps of the footage's size")
        if not np.isfinite(depth).any():
            raise UserError(f"{path}: depth map holds no positive finite depth (all NaN, inf, 0 or negative)")
        maps.append(cv2.resize(depth, size, interpolation=cv2.INTER_NEAREST))
    return np.stack(maps)


def sample_depth(depth: np.ndarray, uv: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """Depth (T, N) at pixels ``uv`` (T, N, 2) of maps (T, h, w) (nearest pixel); NaN where unseen/unknown."""
    T, h, w = depth.shape
    x = np.clip(np.round(uv[..., 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(uv[..., 1]).astype(int), 0, h - 1)
    z = depth[np.arange(T)[:, None], y, x]
    return np.where(vis, z, np.nan)
