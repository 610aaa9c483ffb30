"""Paired tracks: the shot's 3D tracks seen from the source camera and from a target camera.

:func:`pair_tracks` projects every track's world position (``Tracks.xyz``, metres) into a target
:class:`~.geometry.camera.CameraTrack` frame by frame and adds the paired fields of the tracks
format (``engine/io/tracks.py``): ``uv_tgt`` (T, N, 2) target pixels, ``depth_src`` / ``depth_tgt``
(T, N) camera-space z in metres (OpenCV axes, z forward) and ``vis_tgt`` (T, N).

A track is visible in the target view at frame t when all of these hold:

- it is visible in the source view at t (an untracked/invisible source point stays invisible:
  the engine has no pixels for it);
- it lies in front of the target camera (z > :data:`MIN_DEPTH`) and inside the target image
  (pixel centres run from 0 to W-1; the image covers [-0.5, W-0.5) × [-0.5, H-0.5));
- no other track hides it: a coarse depth buffer (cells of :func:`occlusion_cell_size` pixels,
  sized from the track density) keeps the nearest depth per cell, and a track farther than
  ``zmin * (1 + depth_tolerance)`` in its cell is occluded.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import UserError
from .geometry.camera import CameraTrack, project_points
from .io.tracks import Tracks

DEPTH_TOLERANCE = 0.05
"""Relative depth margin of the occlusion test: hidden if z > zmin * (1 + DEPTH_TOLERANCE)."""

MIN_DEPTH = 1e-3
"""Nearest camera-space depth (metres) a point may have to count as in front of a camera."""

OCCLUSION_CELL_SCALE = 1.5
"""Depth-buffer cell size in units of the mean track spacing sqrt(W * H / N_in_frame)."""

MIN_OCCLUSION_CELL = 2.0
"""Smallest depth-buffer cell (pixels), so dense tracks on one surface do not self-occlude."""


def occlusion_cell_size(size: tuple[int, int], num_points: int) -> float:
    """Depth-buffer cell size in pixels for ``num_points`` tracks spread over an image of ``size`` (W, H)."""
    spacing = np.sqrt(size[0] * size[1] / max(num_points, 1))
    return float(max(MIN_OCCLUSION_CELL, OCCLUSION_CELL_SCALE * spacing))


def _unoccluded(uv: np.ndarray, z: np.ndarray, candidate: np.ndarray, size: tuple[int, int],
                depth_tolerance: float) -> np.ndarray:
    """(T, N) bool: ``candidate`` tracks not hidden behind another candidate in a coarse depth buffer.

    ``uv`` (T, N, 2) pixels, ``z`` (T, N) depth > 0 where ``candidate``; all frames at once.
    """
    T, N = z.shape
    out = np.zeros((T, N), bool)
    counts = candidate.sum(1)
    if not counts.any():
        return out
    cell = occlusion_cell_size(size, int(np.median(counts[counts > 0])))
    gw = int(np.ceil(size[0] / cell)) + 1
    gh = int(np.ceil(size[1] / cell)) + 1
    t_idx, n_idx = np.nonzero(candidate)
    gx = np.clip(((uv[t_idx, n_idx, 0] + 0.5) / cell).astype(np.int64), 0, gw - 1)
    gy = np.clip(((uv[t_idx, n_idx, 1] + 0.5) / cell).astype(np.int64), 0, gh - 1)
    flat = (t_idx * gh + gy) * gw + gx
    zc = z[t_idx, n_idx]
    zmin = np.full(T * gh * gw, np.inf)
    np.minimum.at(zmin, flat, zc)
    out[t_idx, n_idx] = zc <= zmin[flat] * (1.0 + depth_tolerance)
    return out


def pair_tracks(tracks: Tracks, target: CameraTrack, depth_tolerance: float = DEPTH_TOLERANCE) -> Tracks:
    """Add the target view to ``tracks``: ``uv_tgt``, ``depth_src``, ``depth_tgt``, ``vis_tgt``.

    ``tracks`` (T1 frames) and ``target`` (T2 frames) are aligned at their first frame; the result
    has T = min(T1, T2) frames. ``depth_tolerance`` is relative (see :data:`DEPTH_TOLERANCE`).
    Non-finite positions give ``uv_tgt`` = 0 and depths = 0, invisible in both views. ``size``,
    ``K`` and ``w2c`` stay the source camera's; the target image size is ``target.size``.
    """
    if depth_tolerance < 0:
        raise UserError(f"depth tolerance must be >= 0, got {depth_tolerance}")
    T = min(tracks.num_frames, target.num_frames)
    if T == 0:
        raise UserError("cannot pair tracks: the tracks or the target camera have no frames")
    base = tracks.subset(frames=slice(0, T))
    finite = np.isfinite(base.xyz).all(-1)
    xyz = np.where(finite[..., None], base.xyz, 0.0)

    _, depth_src = project_points(xyz, base.K.astype(np.float64), base.w2c.astype(np.float64))
    uv_tgt, depth_tgt = project_points(xyz, target.K[:T], target.w2c[:T])
    uv_tgt = np.where(finite[..., None] & np.isfinite(uv_tgt), uv_tgt, 0.0)
    depth_src = np.where(finite, depth_src, 0.0)
    depth_tgt = np.where(finite, depth_tgt, 0.0)

    W, H = target.size
    in_frame = ((depth_tgt > MIN_DEPTH)
                & (uv_tgt[..., 0] >= -0.5) & (uv_tgt[..., 0] < W - 0.5)
                & (uv_tgt[..., 1] >= -0.5) & (uv_tgt[..., 1] < H - 0.5))
    # Every point with a position can hide another, whether or not the source sees it.
    occluders = finite & in_frame
    vis_tgt = base.vis & occluders & _unoccluded(uv_tgt, depth_tgt, occluders, target.size, depth_tolerance)
    return dataclasses.replace(base, uv_tgt=uv_tgt, depth_src=depth_src, depth_tgt=depth_tgt,
                               vis_tgt=vis_tgt)
