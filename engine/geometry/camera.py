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
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 16, 8192
"""Image width/height limits (pixels) of every camera and tracks file: 8K DCI is the largest."""
ROTATION_TOLERANCE = 1e-3
"""Largest |R Rᵀ − I| entry of a pose's rotation: a scaled, sheared or zero matrix is refused."""
MAX_FPS = 1000.0


def image_size(value, what: str = "camera 'size'") -> tuple[int, int]:
    """(W, H) from ``value`` = [W, H], two whole numbers within the image limits; :class:`UserError`
    naming ``what`` otherwise (e.g. a string "384x216", one number, or 20000 pixels)."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise UserError(f"{what} must be [width, height] in pixels, got {value!r}")
    sides = []
    for side in value:
        if isinstance(side, (bool, np.bool_)) or not isinstance(side, (int, float, np.integer, np.floating)):
            raise UserError(f"{what} must be [width, height] in pixels (whole numbers), got {value!r}")
        if not (np.isfinite(side) and float(side).is_integer()):
            raise UserError(f"{what} must be whole numbers of pixels, got {value!r}")
        if not MIN_IMAGE_SIDE <= side <= MAX_IMAGE_SIDE:
            raise UserError(f"{what} {list(value)} is out of range: width and height must be "
                            f"{MIN_IMAGE_SIDE}..{MAX_IMAGE_SIDE} pixels")
        sides.append(int(side))
    return sides[0], sides[1]


def check_frame_rate(fps: float, what: str = "camera 'fps'") -> float:
    """``fps`` as a float in (0, :data:`MAX_FPS`]; :class:`UserError` naming ``what`` otherwise."""
    try:
        fps = float(fps)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{what} must be a number of frames per second, got {fps!r}") from None
    if not 0 < fps <= MAX_FPS:
        raise UserError(f"{what} must be in (0, {MAX_FPS:g}] frames per second, got {fps}")
    return fps


def check_intrinsics(K: np.ndarray, what: str = "camera 'K'") -> None:
    """Refuse intrinsics (T, 3, 3) that are not finite pinhole matrices with positive focal lengths
    (bottom row [0, 0, 1]), naming the first bad frame."""
    bad = ~np.isfinite(K).all((1, 2))
    bad |= (K[:, 0, 0] <= 0) | (K[:, 1, 1] <= 0)
    bad |= np.abs(K[:, 2] - [0.0, 0.0, 1.0]).max(1) > 1e-6
    bad |= np.abs(K[:, 1, 0]) > 1e-6
    if bad.any():
        t = int(np.argmax(bad))
        raise UserError(f"{what} of frame {t} is not a pinhole camera matrix with positive focal lengths "
                        f"([[fx, s, cx], [0, fy, cy], [0, 0, 1]], fx, fy > 0): {np.round(K[t], 4).tolist()}")


def check_poses(w2c: np.ndarray, what: str = "camera 'w2c'") -> None:
    """Refuse poses (T, 4, 4) that are not finite rigid transforms (rotation orthonormal within
    :data:`ROTATION_TOLERANCE`, determinant +1, bottom row [0, 0, 0, 1]), naming the first bad frame."""
    R = w2c[:, :3, :3]
    finite = np.isfinite(w2c).all((1, 2))
    R = np.where(finite[:, None, None], R, np.eye(3))
    off = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max((1, 2))
    bad = ~finite | (off > ROTATION_TOLERANCE) | (np.linalg.det(R) < 0)
    bad |= np.abs(np.where(finite[:, None], w2c[:, 3], 0) - [0.0, 0.0, 0.0, 1.0]).max(1) > 1e-6
    if bad.any():
        t = int(np.argmax(bad))
        raise UserError(f"{what} of frame {t} is not a rigid world-to-camera transform (a rotation without "
                        f"scale, shear or mirroring, and a translation; bottom row [0, 0, 0, 1]): "
                        f"{np.round(w2c[t], 4).tolist()}")


@dataclasses.dataclass
class CameraTrack:
    """A camera over T frames: ``K`` (T, 3, 3), ``w2c`` (T, 4, 4), ``size`` (W, H) pixels.

    Values are checked on construction (:func:`check_intrinsics`, :func:`check_poses`,
    :func:`image_size`, :func:`check_frame_rate`): every camera in the engine is a pinhole camera
    with a rigid pose and a size within the image limits.
    """

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
        check_intrinsics(self.K)
        check_poses(self.w2c)
        self.size = image_size(self.size)
        self.fps = check_frame_rate(self.fps)

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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise UserError(f"{path} is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object with 'K', 'w2c' and 'size'")
    missing = [k for k in ("K", "w2c", "size") if k not in doc]
    if missing:
        raise UserError(f"{path}: camera file lacks {missing} (see `t2v render --help` for the layout)")
    if doc.get("format", CAMERA_FORMAT) != CAMERA_FORMAT:
        raise UserError(f"{path}: camera format {doc.get('format')} is not supported")
    try:
        return CameraTrack(K=np.asarray(doc["K"], float), w2c=np.asarray(doc["w2c"], float),
                           size=image_size(doc["size"]), fps=check_frame_rate(doc.get("fps", 24.0)))
    except (UserError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise UserError(f"{path}: {str(exc)[:300]}") from None
