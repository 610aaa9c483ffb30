"""Per-frame pinhole cameras in the OpenCV convention, and CAM.json.

Axes: x right, y down, z forward (camera space); world units are metres (Blender units).
``K`` (3, 3) maps camera space to pixels, pixel (0, 0) being the centre of the top-left pixel.
``w2c`` (4, 4) maps world points to camera space.

CAM.json (written/read only here)::

    {"format": 1, "size": [W, H], "fps": 24.0,
     "K":   [[[fx, 0, cx], [0, fy, cy], [0, 0, 1]], ...],      # one 3x3 per frame
     "w2c": [[[r00, r01, r02, tx], ..., [0, 0, 0, 1]], ...]}   # one 4x4 per frame

A single K or w2c (a static camera) is broadcast to every frame of the other.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.atomic import atomic_file

CAMERA_FORMAT = 1


@dataclasses.dataclass
class CameraTrack:
    """A camera over T frames: ``K`` (T, 3, 3), ``w2c`` (T, 4, 4), ``size`` (W, H) pixels."""

    K: np.ndarray
    w2c: np.ndarray
    size: tuple[int, int]
    fps: float = 24.0

    def __post_init__(self) -> None:
        K = np.asarray(self.K, np.float64)
        w2c = np.asarray(self.w2c, np.float64)
        if K.shape == (3, 3):
            K = K[None]
        if w2c.shape == (4, 4):
            w2c = w2c[None]
        if K.ndim != 3 or K.shape[1:] != (3, 3):
            raise UserError(f"camera 'K' must be (T, 3, 3) or (3, 3), got {K.shape}")
        if w2c.ndim != 3 or w2c.shape[1:] != (4, 4):
            raise UserError(f"camera 'w2c' must be (T, 4, 4) or (4, 4), got {w2c.shape}")
        T = max(len(K), len(w2c))
        if len(K) not in (1, T) or len(w2c) not in (1, T):
            raise UserError(f"camera has {len(K)} intrinsics but {len(w2c)} poses")
        self.K = np.broadcast_to(K, (T, 3, 3)).copy()
        self.w2c = np.broadcast_to(w2c, (T, 4, 4)).copy()
        if not (np.isfinite(self.K).all() and np.isfinite(self.w2c).all()):
            raise UserError("camera 'K'/'w2c' contain NaN or inf")
        self.size = (int(self.size[0]), int(self.size[1]))
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise UserError(f"camera 'size' must be positive (W, H), got {self.size}")

    @property
    def num_frames(self) -> int:
        return len(self.K)

    @property
    def c2w(self) -> np.ndarray:
        """(T, 4, 4) camera-to-world, OpenCV axes."""
        return np.linalg.inv(self.w2c)

    @property
    def centers(self) -> np.ndarray:
        """(T, 3) camera centres in world coordinates."""
        return self.c2w[:, :3, 3]

    def project(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points ``xyz`` (T, N, 3) → pixels (T, N, 2) and camera depth z (T, N).

        Points behind the camera get depth ≤ 0; their pixel coordinates are meaningless.
        """
        return project_points(xyz, self.K, self.w2c)


def project_points(xyz: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (T, N, 3) with K (T, 3, 3) and w2c (T, 4, 4): pixels (T, N, 2), depth (T, N)."""
    xyz = np.asarray(xyz, np.float64)
    # Batched matmul (x @ M^T), not einsum: ~10x faster for (T, N) in the thousands.
    cam = xyz @ np.ascontiguousarray(np.swapaxes(w2c[:, :3, :3], 1, 2)) + w2c[:, None, :3, 3]
    z = cam[..., 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    pix = (cam / safe[..., None]) @ np.ascontiguousarray(np.swapaxes(np.asarray(K, np.float64), 1, 2))
    return pix[..., :2], z


def unproject_points(uv: np.ndarray, depth: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    """Lift pixels (T, N, 2) at camera depth z (T, N) to world points (T, N, 3)."""
    uv = np.asarray(uv, np.float64)
    ones = np.ones(uv.shape[:-1] + (1,))
    rays = np.einsum("tij,tnj->tni", np.linalg.inv(K), np.concatenate([uv, ones], -1))
    cam = rays * np.asarray(depth, np.float64)[..., None]
    c2w = np.linalg.inv(w2c)
    return np.einsum("tij,tnj->tni", c2w[:, :3, :3], cam) + c2w[:, None, :3, 3]


def save_camera_json(camera: CameraTrack, path: str | os.PathLike) -> Path:
    """Write CAM.json atomically (see the module docstring for the layout)."""
    doc = {
        "format": CAMERA_FORMAT,
        "size": list(camera.size),
        "fps": float(camera.fps),
        "K": camera.K.tolist(),
        "w2c": camera.w2c.tolist(),
    }
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(doc))
    return path


def load_camera_json(path: str | os.PathLike) -> CameraTrack:
    """Read CAM.json; raise :class:`UserError` naming the file and the bad key."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"camera file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object with 'K', 'w2c' and 'size'")
    missing = [k for k in ("K", "w2c", "size") if k not in doc]
    if missing:
        raise UserError(f"{path}: camera file lacks {missing} (see `t2v render --help` for the layout)")
    if doc.get("format", CAMERA_FORMAT) != CAMERA_FORMAT:
        raise UserError(f"{path}: camera format {doc.get('format')} is not supported")
    try:
        return CameraTrack(K=np.asarray(doc["K"], float), w2c=np.asarray(doc["w2c"], float),
                           size=tuple(doc["size"]), fps=float(doc.get("fps", 24.0)))
    except (UserError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: {exc}") from exc
