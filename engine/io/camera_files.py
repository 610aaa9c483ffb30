"""Cameras in other tools' files: Nuke/Houdini ``.chan`` and COLMAP text models ↔ :class:`CameraTrack`.

Our cameras: OpenCV axes (x right, y down, z forward), world +Z up (Blender's), metres, pixel (0, 0)
the centre of the top-left pixel (:mod:`..geometry.camera`).

**.chan** (Nuke's *export chan file*, Houdini's and Blender's chan importers): one line per frame,
``frame tx ty tz rx ry rz vfov``, whitespace-separated (``#`` comments and blank lines are skipped).

- World +Y up, as in Nuke, Houdini and Maya: a point (x, y, z) of ours is (x, z, −y) there.
- The camera looks down its −Z axis with +Y up (Blender's and Nuke's camera axes).
- Rotations in degrees, order ZXY (Nuke's default for cameras): R = Ry(ry) · Rx(rx) · Rz(rz), the
  camera turned about Z first. Houdini's and Maya's cameras default to XYZ: set their rotation order
  to ZXY before importing. Whole turns are unwrapped from frame to frame (a camera pointing
  straight up or down, rx = ±90°, has no continuous ZXY angles).
- ``vfov`` is the vertical field of view in degrees, 2·atan(H / 2 / fy). A .chan has no image size,
  film back or principal point: reading one needs the size (``--size``), and gives square pixels
  with the principal point at the image centre. In Nuke, the focal length is
  ``vertical aperture / 2 / tan(vfov / 2)``.

**COLMAP** (text model: ``cameras.txt``, ``images.txt``, ``points3D.txt``): COLMAP's world-to-camera
poses use OpenCV axes like ours; its pixel (0, 0) is the top-left *corner* of the image, so its
principal point is ours + 0.5. Written cameras are ``PINHOLE`` (one per distinct intrinsics); images
are named ``0001.png``… in frame order and read back in name order (numbers by value). Lens distortion of a model read
in (``SIMPLE_RADIAL``, ``OPENCV``, …) is dropped, with a note: undistort its images first
(``colmap image_undistorter``) for an exact match.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..camera_moves import BLENDER_TO_CV, axis_rotation
from ..errors import UserError
from ..geometry.camera import CameraTrack, image_size
from .atomic import atomic_dir, atomic_file
from .tracks import Tracks
from .video import natural_key

Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])
"""Our world (+Z up) → a +Y-up world (Nuke, Houdini, Maya): (x, y, z) → (x, z, −y)."""

COLMAP_FILES = ("cameras.txt", "images.txt", "points3D.txt")
COLMAP_MODELS = {  # model → parameter count (focal length(s), principal point, then distortion)
    "SIMPLE_PINHOLE": 3, "PINHOLE": 4, "SIMPLE_RADIAL": 4, "RADIAL": 5, "OPENCV": 8, "FULL_OPENCV": 12,
}
IMAGE_NAME = "{:04d}.png"


# ------------------------------------------------------------------------------------------- .chan
def write_chan(camera: CameraTrack, path: str | os.PathLike, first_frame: int = 1) -> Path:
    """Write ``camera`` as a .chan file (module docstring), frames numbered from ``first_frame``."""
    c2w = Y_UP @ np.linalg.inv(camera.w2c) @ BLENDER_TO_CV  # Blender camera axes in a Y-up world
    R = c2w[:, :3, :3]
    # R = Ry · Rx · Rz: R[1, 2] = −sin rx, R[1, 0] / R[1, 1] = tan rz, R[0, 2] / R[2, 2] = tan ry.
    rx = np.arcsin(np.clip(-R[:, 1, 2], -1.0, 1.0))
    rz = np.arctan2(R[:, 1, 0], R[:, 1, 1])
    ry = np.arctan2(R[:, 0, 2], R[:, 2, 2])
    angles = np.degrees(np.unwrap(np.stack([rx, ry, rz], 1), axis=0))
    vfov = np.degrees(2 * np.arctan(camera.size[1] / 2 / camera.K[:, 1, 1]))
    lines = [f"{first_frame + i} " + " ".join(f"{v:.9f}" for v in (*c2w[i, :3, 3], *angles[i], vfov[i]))
             for i in range(camera.num_frames)]
    path = Path(path)
    with atomic_file(path, suffix=".chan") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def _numbers(path: Path, number: int, line: str, count: tuple[int, ...]) -> list[float]:
    try:
        values = [float(v) for v in line.split()]
    except ValueError:
        raise UserError(f"{path}, line {number}: expected numbers, got {line.strip()[:80]!r}") from None
    if len(values) not in count or not np.isfinite(values).all():
        raise UserError(f"{path}, line {number}: expected {' or '.join(map(str, count))} finite numbers, "
                        f"got {line.strip()[:80]!r}")
    return values


def read_chan(path: str | os.PathLike, size: tuple[int, int] | None, fps: float = 24.0) -> CameraTrack:
    """Read a .chan file (module docstring) as a camera of image ``size`` (W, H), which a .chan lacks."""
    path = Path(path)
    if size is None:
        raise UserError(f"{path}: a .chan file has no image size; give it with --size WxH")
    W, H = image_size(size, "--size")
    rows = []
    for number, line in enumerate(_text(path).splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            values = _numbers(path, number, line, (8,))
            if not 0 < values[7] < 180:
                raise UserError(f"{path}, line {number}: vertical field of view {values[7]:g}° must be "
                                "between 0 and 180 (the 8th column)")
            rows.append((number, values))
    if not rows:
        raise UserError(f"{path}: no frames (expected lines 'frame tx ty tz rx ry rz vfov')")
    rows.sort(key=lambda row: row[1][0])
    for (_, a), (number, b) in zip(rows, rows[1:], strict=False):
        if b[0] != a[0] + 1:
            raise UserError(f"{path}, line {number}: frame {b[0]:g} follows frame {a[0]:g}; "
                            "the frames must be consecutive")
    values = np.array([v for _, v in rows])
    c2w = np.tile(np.eye(4), (len(values), 1, 1))
    c2w[:, :3, 3] = values[:, 1:4]
    c2w[:, :3, :3] = (axis_rotation(1, values[:, 5]) @ axis_rotation(0, values[:, 4])
                      @ axis_rotation(2, values[:, 6]))[:, :3, :3]
    w2c = BLENDER_TO_CV @ np.linalg.inv(np.linalg.inv(Y_UP) @ c2w)
    f = H / 2 / np.tan(np.radians(values[:, 7]) / 2)
    K = np.tile(np.eye(3), (len(values), 1, 1))
    K[:, 0, 0] = K[:, 1, 1] = f
    K[:, 0, 2], K[:, 1, 2] = (W - 1) / 2, (H - 1) / 2
    return _camera(path, K, w2c, (W, H), fps)


# ------------------------------------------------------------------------------------------- COLMAP
def _quaternion(m: np.ndarray) -> np.ndarray:
    """(w, x, y, z) unit quaternion of the rotation matrix ``m`` (3, 3), w ≥ 0 (Shepperd's method)."""
    trace = np.trace(m)
    if trace > 0:
        s = 2 * np.sqrt(trace + 1)
        q = [s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2 * np.sqrt(1 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0] * 4
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = s / 4
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    q = np.array(q)
    return q * (1 if q[0] >= 0 else -1) / np.linalg.norm(q)


def _rotation_of(q: np.ndarray) -> np.ndarray:
    """(3, 3) rotation of quaternion (w, x, y, z) (normalised here)."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def write_colmap(camera: CameraTrack, folder: str | os.PathLike, tracks: Tracks | None = None) -> Path:
    """Write ``camera`` as a COLMAP text model in ``folder`` (created atomically; module docstring).

    With ``tracks`` (of the same frames), their static points become ``points3D.txt`` (the median of a
    track's visible world positions, its colour) with their observations in ``images.txt``.
    """
    T = camera.num_frames
    intrinsics = np.round(camera.K[:, [0, 1, 0, 1], [0, 1, 2, 2]], 9)  # fx, fy, cx, cy
    unique, camera_of = np.unique(intrinsics, axis=0, return_inverse=True)
    camera_of = camera_of.reshape(-1)
    observations: list[list[str]] = [[] for _ in range(T)]
    points = []
    if tracks is not None:
        if tracks.num_frames != T:
            raise UserError(f"the tracks have {tracks.num_frames} frames but the camera {T}")
        static = ~tracks.dynamic if tracks.dynamic is not None else np.ones(tracks.num_points, bool)
        seen = tracks.vis & np.isfinite(tracks.xyz).all(-1) & static
        for n in np.flatnonzero(seen.sum(0) >= 2):
            frames = np.flatnonzero(seen[:, n])
            xyz = np.median(tracks.xyz[frames, n].astype(np.float64), axis=0)
            track = []
            for t in frames:
                track.append(f"{t + 1} {len(observations[t])}")
                u, v = tracks.uv[t, n].astype(np.float64) + 0.5
                observations[t].append(f"{u:.4f} {v:.4f} {len(points) + 1}")
            r, g, b = tracks.rgb[n]
            points.append(f"{len(points) + 1} {xyz[0]:.9f} {xyz[1]:.9f} {xyz[2]:.9f} {r} {g} {b} 0 " + " ".join(track))
    W, H = camera.size
    cameras = [f"{i + 1} PINHOLE {W} {H} {fx:.9f} {fy:.9f} {cx + 0.5:.9f} {cy + 0.5:.9f}"
               for i, (fx, fy, cx, cy) in enumerate(unique)]
    images = []
    for t in range(T):
        q = _quaternion(camera.w2c[t, :3, :3])
        tx, ty, tz = camera.w2c[t, :3, 3]
        images.append(f"{t + 1} {' '.join(f'{v:.12f}' for v in q)} {tx:.12f} {ty:.12f} {tz:.12f} "
                      f"{camera_of[t] + 1} {IMAGE_NAME.format(t + 1)}")
        images.append(" ".join(observations[t]))
    header = "# Track2View camera export (COLMAP text model). Pixel (0, 0) = the image's top-left corner.\n"
    with atomic_dir(Path(folder)) as tmp:
        for name, body in zip(COLMAP_FILES, (cameras, images, points), strict=True):
            (tmp / name).write_text(header + "\n".join(body) + "\n")
    return Path(folder)


def _text(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"camera file not found: {path}")
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as text ({exc})") from None


def _data_lines(path: Path) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(_text(path).splitlines(), 1) if not line.startswith("#")]


def read_colmap(folder: str | os.PathLike, fps: float = 24.0,
                note: Callable[[str], None] = lambda message: None) -> CameraTrack:
    """Read a COLMAP text model (``cameras.txt``, ``images.txt``) as a camera, frames in image-name order.

    ``note`` receives what was dropped (lens distortion). Every image must have the same size.
    """
    folder = Path(folder)
    cameras: dict[str, tuple[np.ndarray, tuple[int, int]]] = {}
    path = folder / "cameras.txt"
    for number, line in _data_lines(path):
        if not line.strip():
            continue
        fields = line.split()
        model = fields[1] if len(fields) > 1 else ""
        if model not in COLMAP_MODELS:
            raise UserError(f"{path}, line {number}: camera model {model!r} is not one of "
                            f"{', '.join(COLMAP_MODELS)}")
        values = _numbers(path, number, " ".join(fields[2:]), (2 + COLMAP_MODELS[model],))
        size, params = (int(values[0]), int(values[1])), values[2:]
        fx, fy, cx, cy = (params[0], params[1], params[2], params[3]) if model in (
            "PINHOLE", "OPENCV", "FULL_OPENCV") else (params[0], params[0], params[1], params[2])
        if model not in ("PINHOLE", "SIMPLE_PINHOLE") and any(params[4 if "OPENCV" in model else 3:]):
            note(f"{path}, line {number}: the {model} lens distortion is dropped (undistort the images first "
                 "for an exact match)")
        cameras[fields[0]] = np.array([[fx, 0, cx - 0.5], [0, fy, cy - 0.5], [0, 0, 1]]), image_size(
            size, f"{path}, line {number}: image size")
    path = folder / "images.txt"
    lines = _data_lines(path)
    images = []
    # Each image takes two lines: its pose, then its 2D points (which may be an empty line).
    for (number, line), _ in zip(lines[::2], lines[1::2] + [(0, "")], strict=False):
        fields = line.split()
        if len(fields) < 10:
            raise UserError(f"{path}, line {number}: expected 'IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME'")
        pose = _numbers(path, number, " ".join(fields[1:8]), (7,))
        if fields[8] not in cameras:
            raise UserError(f"{path}, line {number}: camera {fields[8]} is not in cameras.txt")
        w2c = np.eye(4)
        w2c[:3, :3], w2c[:3, 3] = _rotation_of(np.array(pose[:4])), pose[4:]
        images.append((" ".join(fields[9:]), w2c, *cameras[fields[8]]))
    if not images:
        raise UserError(f"{path}: no images")
    images.sort(key=lambda image: natural_key(image[0]))  # img_9 before img_10
    sizes = {image[3] for image in images}
    if len(sizes) > 1:
        raise UserError(f"{folder}: the images have different sizes {sorted(sizes)}; a camera has one")
    return _camera(folder, np.stack([i[2] for i in images]), np.stack([i[1] for i in images]), sizes.pop(), fps)


def _camera(source: Path, K: np.ndarray, w2c: np.ndarray, size: tuple[int, int], fps: float) -> CameraTrack:
    try:
        return CameraTrack(K=K, w2c=w2c, size=size, fps=fps)
    except UserError as exc:
        raise UserError(f"{source}: {exc}") from None
