"""Visibility of static points between and after their observed stretches, by reprojection.

Optical-flow tracks end at the first occlusion and never resume. A static point with a known 3D
position can be seen again: in each frame it is projected into the image, and counts as visible
when it lands inside the image, in front of the camera, and not behind the observed points around
it — a z-test against a coarse depth buffer (:data:`CELL_PX` cells) holding the nearest depth
observed in each cell; a cell with no observed point holds no occluder, so the point counts as seen.
Pixels: those of the tracked frames; depths: camera z.
"""

from __future__ import annotations

import numpy as np

CELL_PX = 8  # depth-buffer cell size, pixels
DEPTH_TOLERANCE = 0.15  # a point may be this share deeper than the nearest observed depth of its cell
                        # (tracked depths are noisy: at 0.05 the bench's static OA was 2.5 points lower)
REPROJECTED_CONFIDENCE = 0.5  # confidence of a point-frame seen by reprojection, not by the tracker


def reproject_static(uv: np.ndarray, vis: np.ndarray, conf: np.ndarray, xyz: np.ndarray, static: np.ndarray,
                     K: np.ndarray, w2c: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill the gaps of static tracks: returns new (uv (T, N, 2), vis (T, N), conf (T, N)).

    ``xyz`` (T, N, 3) world points (constant over time for ``static`` (N,) tracks), ``K`` (3, 3),
    ``w2c`` (T, 4, 4), ``size`` (W, H) of the tracked frames. Observed entries are kept as they are.
    """
    T, N = vis.shape
    w, h = size
    cam = np.einsum("tij,tnj->tni", w2c[:, :3, :3], xyz) + w2c[:, None, :3, 3]
    z = cam[..., 2]
    safe = np.where(z > 1e-9, z, 1e-9)
    proj = cam[..., :2] / safe[..., None] * np.array([K[0, 0], K[1, 1]]) + K[:2, 2]
    gw, gh = -(-w // CELL_PX), -(-h // CELL_PX)
    inside = (z > 0) & (proj[..., 0] >= 0) & (proj[..., 0] <= w - 1) & (proj[..., 1] >= 0) & (proj[..., 1] <= h - 1)
    candidate = static[None] & ~vis & inside
    seen = np.zeros_like(vis)
    for t in range(T):
        buffer = np.full(gh * gw, np.inf)
        obs = np.nonzero(vis[t] & (z[t] > 0))[0]
        cells = _cells(uv[t, obs], gw, gh)
        np.minimum.at(buffer, cells, z[t, obs])
        cand = np.nonzero(candidate[t])[0]
        nearest = buffer[_cells(proj[t, cand], gw, gh)]
        seen[t, cand] = z[t, cand] <= nearest * (1 + DEPTH_TOLERANCE)  # an empty cell (inf) hides nothing
    new_uv = np.where(seen[..., None], proj, uv).astype(np.float32)
    new_conf = np.where(seen, REPROJECTED_CONFIDENCE, conf).astype(np.float32)
    return new_uv, vis | seen, new_conf


def _cells(p: np.ndarray, gw: int, gh: int) -> np.ndarray:
    cx = np.clip((p[:, 0] / CELL_PX).astype(int), 0, gw - 1)
    cy = np.clip((p[:, 1] / CELL_PX).astype(int), 0, gh - 1)
    return cy * gw + cx
