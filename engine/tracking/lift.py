"""Lift 2D tracks to 3D with a solved camera: static points triangulated, moving points lifted per frame.

Every track is triangulated from all its views; a track whose reprojection error (80th
percentile over its frames; the epipolar error for tracks that do not triangulate in front of the
cameras) exceeds :func:`.geometry.outlier_threshold` moves in the world (``dynamic``).
Static tracks with a wide enough ray angle keep their triangulated position in every frame.
Moving tracks, and static ones too close to the camera path's line of sight to triangulate, are
lifted frame by frame along their pixel ray at a depth taken from (in order of preference) the
user depth sequence; for moving points, the static points just below their object in that frame (the
ground it stands on, :func:`_contact_depth`); else the static points around them (median of the k
nearest; for moving points a low quantile, since moving things are usually in front of what is
behind them) — so their depth is in the same scale as the static scene. Rotation-only cameras have no triangulation: depth comes from
the user depth or, without it, every point sits at :data:`NOMINAL_DEPTH` (said in the report).

Scale: with user depth the scene is scaled to it (median ratio over static points); without,
the median static depth becomes :data:`NOMINAL_DEPTH` scene units.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ..geometry.camera import unproject_points
from ..geometry.sampling import nearest_neighbours
from .depth_input import sample_depth
from .flow_tracks import fill_invisible
from .geometry import (
    column_percentile,
    epipolar_errors,
    outlier_threshold,
    ray_angles,
    refine_points,
    reprojection_errors,
    triangulate,
)

DYNAMIC_PERCENTILE = 80  # a track's reprojection error: this percentile over its frames
MIN_STATIC_ANGLE_DEG = 1.0  # triangulation angle a static point needs to keep its triangulated depth
NOMINAL_DEPTH = 5.0  # scene units: median static depth without user depth (and the depth of rotation-only shots)
NEIGHBOURS = 12  # static neighbours a lifted point takes its depth from
NEIGHBOUR_DEPTH_QUANTILE = 0.3  # moving points without a contact below them: near side of their neighbours
CLUSTER_CELL_PX = 8  # grid that groups moving points into objects
CONTACT_BAND = 0.05  # height of the band below an object searched for its ground, share of image height
DEPTH_SMOOTH_FRAMES = 5  # temporal median window for per-frame lifted depth


@dataclasses.dataclass
class Lifted:
    """``xyz`` (T, N, 3) world, ``dynamic`` (N,) bool, ``w2c`` (T, 4, 4) rescaled poses, ``report``."""

    xyz: np.ndarray
    dynamic: np.ndarray
    w2c: np.ndarray
    report: dict


def _contact_depth(uv, vis, ref_uv, ref_z, ref_vis, height: float) -> np.ndarray:
    """(T, N) depth of moving points from where their object meets the static scene below it.

    In each frame the visible moving points are grouped into blobs (:data:`CLUSTER_CELL_PX` grid,
    8-connected); a blob takes the median depth of the static points in the band just below its
    lowest point and within its width (:data:`CONTACT_BAND`) — the ground it stands on. NaN where
    no static point lies there.
    """
    out = np.full(vis.shape, np.nan)
    band = CONTACT_BAND * height
    for t in range(len(uv)):
        q = np.nonzero(vis[t])[0]
        r = np.nonzero(ref_vis[t])[0]
        if len(q) == 0 or len(r) == 0:
            continue
        cells = np.floor(uv[t, q] / CLUSTER_CELL_PX).astype(int)
        cells -= cells.min(0)
        grid = np.zeros(cells.max(0)[::-1] + 1, np.uint8)
        grid[cells[:, 1], cells[:, 0]] = 1
        count, labels = cv2.connectedComponents(grid, connectivity=8)  # label 0: the background
        blob = labels[cells[:, 1], cells[:, 0]]
        ru, rv, rz = ref_uv[t, r, 0], ref_uv[t, r, 1], ref_z[t, r]
        for b in range(1, count):
            members = q[blob == b]
            u, v = uv[t, members, 0], uv[t, members, 1]
            bottom = v.max()
            below = (ru >= u.min()) & (ru <= u.max()) & (rv >= bottom) & (rv <= bottom + band)
            if below.any():
                out[t, members] = np.median(rz[below])
    return out


def _neighbour_depth(uv, vis, ref_uv, ref_z, ref_vis, fallback: float, quantile: float) -> np.ndarray:
    """(T, N) depth of each visible query: a ``quantile`` of the k nearest static points' depths in that frame."""
    out = np.full(vis.shape, np.nan)
    for t in range(len(uv)):
        q = np.nonzero(vis[t])[0]
        r = np.nonzero(ref_vis[t])[0]
        if len(q) == 0:
            continue
        if len(r) == 0:
            out[t, q] = fallback
            continue
        nn = nearest_neighbours(uv[t, q], ref_uv[t, r], min(NEIGHBOURS, len(r)))
        out[t, q] = np.quantile(ref_z[t, r][nn], quantile, axis=1)
    return out


def _smooth_in_time(z: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """Median of each track's depth over a window of its visible frames."""
    filled = fill_invisible(np.nan_to_num(z)[..., None], vis)[..., 0]
    half = DEPTH_SMOOTH_FRAMES // 2
    padded = np.pad(filled, ((half, DEPTH_SMOOTH_FRAMES - 1 - half), (0, 0)), mode="edge")
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(padded, DEPTH_SMOOTH_FRAMES, axis=0), axis=-1)
    return np.where(vis, smooth, np.nan)


def _hold(xyz: np.ndarray, vis: np.ndarray) -> np.ndarray:
    return fill_invisible(xyz, vis)


def lift_tracks(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, w2c: np.ndarray, mode: str,
                depth: np.ndarray | None = None) -> Lifted:
    """3D tracks of ``uv`` (T, N, 2) / ``vis`` (T, N) seen by ``K`` (3, 3), ``w2c`` (T, 4, 4).

    ``mode`` is the camera solve's ('parallax' | 'rotation'); ``depth`` (T, h, w) optional user
    depth maps in the same pixel grid as ``uv``.
    """
    w2c = w2c.copy()
    user_z = sample_depth(depth, uv, vis) if depth is not None else None
    report: dict = {"depth_source": "user depth sequence" if depth is not None else "triangulation"}
    if mode == "parallax":
        X = refine_points(triangulate(uv, vis, K, w2c), uv, vis, K, w2c)
        err = reprojection_errors(np.nan_to_num(X), uv, vis, K, w2c)
        # A point that triangulates behind a camera, or not at all (one view), says nothing about
        # motion: judge those tracks by their epipolar error instead (on the bench, 28 % of the
        # query tracks of static scenes were such and were all taken for moving).
        in_front = np.isfinite(X).all(1) & ~np.isinf(err).any(0)
        p_err = np.where(in_front, column_percentile(np.where(np.isinf(err), 1e6, err), DYNAMIC_PERCENTILE),
                         np.nan_to_num(column_percentile(epipolar_errors(uv, vis, K, w2c), DYNAMIC_PERCENTILE)))
        threshold = outlier_threshold(p_err)
        dynamic = ~(p_err < threshold)
        angle = ray_angles(np.nan_to_num(X), vis, w2c)
        static = ~dynamic & np.isfinite(X).all(1) & (angle >= MIN_STATIC_ANGLE_DEG)
        z_static = np.where(vis[:, static], (np.einsum("tij,nj->tni", w2c[:, :3, :3], X[static])
                                             + w2c[:, None, :3, 3])[..., 2], np.nan)
        ratio = (user_z[:, static] / z_static) if user_z is not None else None
        if ratio is not None and np.isfinite(ratio).any():
            scale = float(np.nanmedian(ratio))
        elif np.isfinite(z_static).any():
            scale = NOMINAL_DEPTH / float(np.nanmedian(z_static))
            report["depth_source"] = f"triangulation, scaled to a median static depth of {NOMINAL_DEPTH:g} units"
        else:
            scale = 1.0
        X *= scale
        w2c[:, :3, 3] *= scale
        z_static = z_static * scale
        ref_uv, ref_vis = uv[:, static], vis[:, static]
    else:
        static = np.zeros(uv.shape[1], bool)
        z_static = ref_uv = ref_vis = None
        report["depth_source"] = ("user depth sequence (rotation-only camera)" if depth is not None else
                                  f"none: rotation-only camera, every point at depth {NOMINAL_DEPTH:g} units")

    # Per-frame depth of the points that are not triangulated static points.
    lifted = ~static
    z = np.full(vis.shape, np.nan)
    if user_z is not None:
        z[:, lifted] = user_z[:, lifted]
    if ref_uv is not None:
        fallback = float(np.nanmedian(z_static)) if np.isfinite(z_static).any() else NOMINAL_DEPTH
        moving = vis & np.isnan(z) & dynamic[None]
        z = np.where(moving, _contact_depth(uv, moving, ref_uv, z_static, ref_vis, 2 * K[1, 2] + 1), z)
        for group, quantile in ((dynamic, NEIGHBOUR_DEPTH_QUANTILE), (~dynamic, 0.5)):
            need = vis & np.isnan(z) & lifted[None] & group[None]
            z = np.where(need, _neighbour_depth(uv, need, ref_uv, z_static, ref_vis, fallback, quantile), z)
    z = np.where(vis & np.isnan(z), NOMINAL_DEPTH if user_z is None else np.nanmedian(user_z), z)
    z = _smooth_in_time(z, vis)
    per_frame = unproject_points(uv, np.nan_to_num(z, nan=NOMINAL_DEPTH), np.broadcast_to(K, (len(w2c), 3, 3)), w2c)

    if mode != "parallax":
        dirs = per_frame / (np.linalg.norm(per_frame - np.linalg.inv(w2c)[:, None, :3, 3], axis=-1,
                                           keepdims=True) + 1e-12)
        mean = np.nanmean(np.where(vis[..., None], dirs, np.nan), axis=0)
        mean /= np.linalg.norm(mean, axis=-1, keepdims=True) + 1e-12
        ang = np.arccos(np.clip(np.einsum("tni,ni->tn", dirs, mean), -1, 1))
        p_err = column_percentile(np.where(vis, ang * K[0, 0], np.nan), DYNAMIC_PERCENTILE)
        threshold = outlier_threshold(p_err)
        dynamic = p_err >= threshold

    xyz = _hold(per_frame, vis)
    steady = ~dynamic & lifted  # static points without a reliable triangulation: one position
    if steady.any():
        med = np.nanmedian(np.where(vis[:, steady, None], per_frame[:, steady], np.nan), axis=0)
        xyz[:, steady] = med[None]
    if static.any():
        xyz[:, static] = X[static][None]
    report.update({"dynamic_threshold_px": round(float(threshold), 3), "static_triangulated": int(static.sum()), "static_lifted": int(steady.sum()),
                   "dynamic": int(dynamic.sum())})
    return Lifted(xyz=xyz.astype(np.float32), dynamic=dynamic, w2c=w2c, report=report)
