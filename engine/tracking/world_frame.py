"""The Blender-friendly world frame of reconstructed tracks.

Frame 0's camera sits at the origin looking along world +Y, with world +Z = that camera's "up"
(image −y), so a level first frame gives a horizontal ground and Blender's default view reads it
the right way up. In OpenCV camera axes (x right, y down, z forward) → world: x → x, z → y, −y → z.
"""

from __future__ import annotations

import numpy as np

CV_TO_WORLD = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1.0]])  # camera 0 → world


def to_blender_world(xyz: np.ndarray, w2c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move points ``xyz`` (T, N, 3) and cameras ``w2c`` (T, 4, 4) of any world into the frame above."""
    A = CV_TO_WORLD @ np.asarray(w2c[0], np.float64)
    moved = np.einsum("ij,tnj->tni", A[:3, :3], np.asarray(xyz, np.float64)) + A[:3, 3]
    return moved, np.asarray(w2c, np.float64) @ np.linalg.inv(A)
