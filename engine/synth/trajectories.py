"""Camera trajectories of synthetic clips: one source shot and K-1 target shots (bpy-free).

World frame: Blender's (metres, +Z up); the scene is centred on :data:`SCENE_CENTER`. A shot is
sampled at T frames as eye positions, look-at targets, roll angles and focal lengths (mm on a
:data:`SENSOR_MM` wide sensor) and turned into a :class:`CameraTrack` (OpenCV axes, square
pixels, principal point at the image centre).

Source motions (camera 0, typical footage): handheld drift, dolly, pan, slow orbit. Target
motions: orbit arc (30–90°), crane, dolly-zoom, pan/tilt, zoom (focal change), truck. Targets
start at the source's first pose when ``shared_first_frame`` is set, else at a pose rotated
15–90° around the scene.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..geometry.camera import CameraTrack

SCENE_CENTER = np.array([0.0, 0.0, 0.6])
SENSOR_MM = 36.0
UP = np.array([0.0, 0.0, 1.0])
MIN_FOCAL_MM, MAX_FOCAL_MM = 14.0, 120.0
MAX_ELEVATION = np.radians(70.0)   # keeps look-at away from the degenerate straight-down view
MIN_EYE_HEIGHT = 0.3               # metres above the ground plane

SOURCE_MOTIONS = ("handheld", "dolly", "pan", "orbit")
TARGET_MOTIONS = ("orbit_arc", "crane", "dolly_zoom", "pan_tilt", "zoom", "truck")


@dataclasses.dataclass
class Shot:
    """A camera path over T frames: ``eye``/``target`` (T, 3) world metres, ``roll`` (T,) radians,
    ``focal_mm`` (T,) focal length in mm on a :data:`SENSOR_MM` sensor; ``motion`` names the move."""

    eye: np.ndarray
    target: np.ndarray
    roll: np.ndarray
    focal_mm: np.ndarray
    motion: str

    def camera(self, size: tuple[int, int], fps: float) -> CameraTrack:
        """The shot as a :class:`CameraTrack` for images of ``size`` (W, H) pixels."""
        w, h = size
        f_px = np.clip(self.focal_mm, MIN_FOCAL_MM, MAX_FOCAL_MM) / SENSOR_MM * max(w, h)
        K = np.zeros((len(f_px), 3, 3))
        K[:, 0, 0] = K[:, 1, 1] = f_px
        K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = (w - 1) / 2, (h - 1) / 2, 1.0
        return CameraTrack(K=K, w2c=look_at_w2c(self.eye, self.target, self.roll), size=size, fps=fps)


def look_at_w2c(eye: np.ndarray, target: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """World-to-camera (T, 4, 4), OpenCV axes, for eyes (T, 3) looking at targets (T, 3), +Z up,
    rolled by ``roll`` (T,) radians about the viewing axis."""
    z = target - eye
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(z, UP)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
    x, y = c * x + s * y, -s * x + c * y
    R = np.stack([x, y, z], axis=1)  # rows: camera axes in world coordinates = world-to-camera rotation
    w2c = np.tile(np.eye(4), (len(eye), 1, 1))
    w2c[:, :3, :3] = R
    w2c[:, :3, 3] = -np.einsum("tij,tj->ti", R, eye)
    return w2c


def _spherical(center: np.ndarray, azimuth, elevation, distance) -> np.ndarray:
    azimuth, elevation, distance = np.broadcast_arrays(azimuth, elevation, distance)
    offset = np.stack([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
                       np.sin(elevation)], -1)
    return center + distance[..., None] * offset


def _to_spherical(eye: np.ndarray, center: np.ndarray) -> tuple[float, float, float]:
    d = eye - center
    dist = float(np.linalg.norm(d))
    return float(np.arctan2(d[1], d[0])), float(np.arcsin(d[2] / dist)), dist


def _ease(s: np.ndarray) -> np.ndarray:
    """Smoothstep: starts and ends at rest, like a camera operator's move."""
    return s * s * (3 - 2 * s)


def _sign(rng: np.random.Generator) -> float:
    return float(rng.choice([-1.0, 1.0]))


@dataclasses.dataclass
class _Pose:
    eye: np.ndarray
    target: np.ndarray
    focal_mm: float


def _hold(pose: _Pose, T: int, motion: str) -> Shot:
    return Shot(eye=np.tile(pose.eye, (T, 1)), target=np.tile(pose.target, (T, 1)), roll=np.zeros(T),
                focal_mm=np.full(T, pose.focal_mm), motion=motion)


def _smooth_noise(rng: np.random.Generator, T: int, dims: int, amplitude: float) -> np.ndarray:
    """(T, dims) low-frequency random drift starting at 0, peak about ``amplitude``."""
    knots = max(3, T // 8 + 2)
    values = rng.normal(0.0, amplitude, (knots, dims))
    values[0] = 0.0
    xs = np.linspace(0, 1, knots)
    s = np.linspace(0, 1, T)
    return np.stack([np.interp(s, xs, values[:, d]) for d in range(dims)], -1)


def _source_start(rng: np.random.Generator) -> _Pose:
    eye = _spherical(SCENE_CENTER, rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(8, 30)), rng.uniform(6.5, 9.0))
    target = SCENE_CENTER + rng.uniform(-0.4, 0.4, 3) * np.array([1, 1, 0.5])
    return _Pose(eye=eye, target=target, focal_mm=rng.uniform(28, 45))


def _other_start(rng: np.random.Generator, source: _Pose) -> _Pose:
    az, el, dist = _to_spherical(source.eye, SCENE_CENTER)
    az += _sign(rng) * np.radians(rng.uniform(15, 90))
    el = np.clip(el + np.radians(rng.uniform(-5, 15)), np.radians(5), MAX_ELEVATION)
    eye = _spherical(SCENE_CENTER, az, el, rng.uniform(6.0, 10.0))
    target = SCENE_CENTER + rng.uniform(-0.4, 0.4, 3) * np.array([1, 1, 0.5])
    return _Pose(eye=eye, target=target, focal_mm=rng.uniform(24, 50))


def _orbit(pose: _Pose, s: np.ndarray, angle: float, rise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    az, el, dist = _to_spherical(pose.eye, pose.target)
    el = np.clip(el + rise * s, -MAX_ELEVATION, MAX_ELEVATION)
    return _spherical(pose.target, az + angle * s, el, np.full_like(s, dist)), np.tile(pose.target, (len(s), 1))


def _shot(rng: np.random.Generator, pose: _Pose, T: int, motion: str) -> Shot:
    """Sample ``motion`` starting exactly at ``pose`` (frame 0 equals the pose)."""
    shot = _hold(pose, T, motion)
    s = _ease(np.linspace(0.0, 1.0, T))
    view = pose.target - pose.eye
    dist = np.linalg.norm(view)
    forward = view / dist
    side = np.cross(forward, UP)
    side /= np.linalg.norm(side)
    if motion == "handheld":
        shot.eye = shot.eye + _smooth_noise(rng, T, 3, 0.12)
        shot.target = shot.target + _smooth_noise(rng, T, 3, 0.08)
        shot.roll = _smooth_noise(rng, T, 1, np.radians(1.5))[:, 0]
    elif motion == "dolly":
        shot.eye = pose.eye + np.outer(s, forward) * _sign(rng) * rng.uniform(1.0, 2.5)
    elif motion == "pan":
        yaw = _sign(rng) * np.radians(rng.uniform(12, 30)) * s
        c, si = np.cos(yaw), np.sin(yaw)
        vx, vy = view[0], view[1]
        shot.target = pose.eye + np.stack([c * vx - si * vy, si * vx + c * vy, np.full(T, view[2])], -1)
    elif motion == "orbit":
        shot.eye, shot.target = _orbit(pose, s, _sign(rng) * np.radians(rng.uniform(10, 25)))
    elif motion == "orbit_arc":
        shot.eye, shot.target = _orbit(pose, s, _sign(rng) * np.radians(rng.uniform(30, 90)),
                                       rise=np.radians(rng.uniform(-5, 10)))
    elif motion == "crane":
        shot.eye = pose.eye + np.outer(s, UP) * rng.uniform(1.5, 3.0) + np.outer(s, forward) * rng.uniform(0, 1.5)
    elif motion == "dolly_zoom":
        factor = rng.uniform(0.6, 1.5)
        ratio = 1 + (factor - 1) * s
        shot.eye = pose.target - np.outer(ratio * dist, forward)
        shot.focal_mm = pose.focal_mm * ratio
    elif motion == "pan_tilt":
        yaw = _sign(rng) * np.radians(rng.uniform(20, 45)) * s
        tilt = np.radians(rng.uniform(-10, 10)) * s
        c, si = np.cos(yaw), np.sin(yaw)
        vx, vy = view[0], view[1]
        turned = np.stack([c * vx - si * vy, si * vx + c * vy, view[2] + np.tan(tilt) * dist], -1)
        shot.target = pose.eye + turned
    elif motion == "zoom":
        shot.focal_mm = pose.focal_mm * (1 + (rng.uniform(0.55, 1.8) - 1) * s)
        shot.eye = pose.eye + np.outer(s, side) * rng.uniform(-0.5, 0.5)
    elif motion == "truck":
        move = np.outer(s, side) * _sign(rng) * rng.uniform(1.5, 3.0)
        shot.eye = pose.eye + move
        shot.target = pose.target + 0.5 * move
    else:
        raise ValueError(f"unknown camera motion {motion!r}")
    shot.eye[:, 2] = np.maximum(shot.eye[:, 2], MIN_EYE_HEIGHT)
    return shot


def plan_shots(rng: np.random.Generator, cameras: int, frames: int, shared_first_frame: bool) -> list[Shot]:
    """``cameras`` shots of ``frames`` frames: [source, target 1, ...]; deterministic given ``rng``.

    Targets take distinct motions while there are unused ones (order drawn from ``rng``).
    """
    source_pose = _source_start(rng)
    shots = [_shot(rng, source_pose, frames, str(rng.choice(SOURCE_MOTIONS)))]
    motions = list(rng.permutation(TARGET_MOTIONS))
    for k in range(1, cameras):
        motion = str(motions[(k - 1) % len(motions)])
        start = source_pose if shared_first_frame else _other_start(rng, source_pose)
        shots.append(_shot(rng, start, frames, motion))
    return shots
