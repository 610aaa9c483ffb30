"""Camera moves relative to the shot's own camera: the rig's channels, the move presets, the pivot,
and the rig itself in numpy (:func:`rig_matrices`, :func:`moved_camera`; ``t2v camera`` uses them).

A target camera follows the source camera S(t) (a Blender ``matrix_world``: camera looks down −Z,
+Y up) through an offset rig around a pivot point p (world metres). With the channels below its
world matrix is::

    M(t) = Crane · Orbit_p · Arc_p · S(t) · Offset · L(t)

- ``orbit`` (degrees): rotation about the vertical (world +Z) axis through p; + = counter-clockwise
  seen from above, i.e. the camera travels to its right around the pivot. Changes the camera's
  azimuth around p by exactly that angle.
- ``arc`` (degrees): rotation about the horizontal axis through p that is perpendicular to the
  pivot→camera direction; + = up. Changes the camera's elevation seen from p by that angle.
- ``crane`` (metres): translation along world +Z.
- ``dolly`` (metres): along the source camera's view axis; + = forward (in).
- ``truck`` (metres): along the source camera's right axis; + = right.
- ``pan`` / ``tilt`` / ``roll`` (degrees): rotations about the camera's own up (+ = left), right
  (+ = up) and view (+ = counter-clockwise) axes, applied pan, then tilt, then roll.
- ``zoom`` (factor): the focal length is the source camera's times ``zoom``.

``Offset`` holds dolly, truck, pan, tilt and roll (camera-local); ``L(t)`` is the target camera's
own transform, which the artist may keyframe freely on top. All channels at their defaults give
M = S: the target camera is the source camera.

Move presets key one channel from its value at the first frame of the shot to that value plus the
preset's signed amount (zoom: times the amount) at the last frame, with an ease.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import UserError
from .geometry.camera import CameraTrack
from .io.tracks import Tracks


@dataclasses.dataclass(frozen=True)
class Channel:
    """One keyframable rig channel: ``name``, its neutral ``default``, ``unit`` and what it does."""

    name: str
    default: float
    unit: str
    description: str


CHANNELS: tuple[Channel, ...] = (
    Channel("orbit", 0.0, "°", "Azimuth around the pivot's vertical axis (degrees, + = camera travels right)"),
    Channel("arc", 0.0, "°", "Elevation around the pivot (degrees, + = up)"),
    Channel("dolly", 0.0, "m", "Along the view axis (metres, + = forward)"),
    Channel("crane", 0.0, "m", "Along world up (metres, + = up)"),
    Channel("truck", 0.0, "m", "Along the camera's right axis (metres, + = right)"),
    Channel("pan", 0.0, "°", "Turn about the camera's up axis (degrees, + = left)"),
    Channel("tilt", 0.0, "°", "Turn about the camera's right axis (degrees, + = up)"),
    Channel("roll", 0.0, "°", "Turn about the view axis (degrees, + = counter-clockwise)"),
    Channel("zoom", 1.0, "×", "Focal length factor (1 = the source camera's lens)"),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)


@dataclasses.dataclass(frozen=True)
class Move:
    """A preset: key ``channel`` by ``sign`` × amount (``scale``: multiply by amount ** sign)."""

    name: str
    label: str
    channel: str
    sign: int
    default_amount: float
    scale: bool = False


MOVES: tuple[Move, ...] = (
    Move("ORBIT_LEFT", "Orbit Left", "orbit", -1, 15.0),
    Move("ORBIT_RIGHT", "Orbit Right", "orbit", 1, 15.0),
    Move("ARC_UP", "Arc Up", "arc", 1, 10.0),
    Move("ARC_DOWN", "Arc Down", "arc", -1, 10.0),
    Move("DOLLY_IN", "Dolly In", "dolly", 1, 0.5),
    Move("DOLLY_OUT", "Dolly Out", "dolly", -1, 0.5),
    Move("CRANE_UP", "Crane Up", "crane", 1, 0.5),
    Move("CRANE_DOWN", "Crane Down", "crane", -1, 0.5),
    Move("TRUCK_LEFT", "Truck Left", "truck", -1, 0.5),
    Move("TRUCK_RIGHT", "Truck Right", "truck", 1, 0.5),
    Move("PAN_LEFT", "Pan Left", "pan", 1, 10.0),
    Move("PAN_RIGHT", "Pan Right", "pan", -1, 10.0),
    Move("TILT_UP", "Tilt Up", "tilt", 1, 5.0),
    Move("TILT_DOWN", "Tilt Down", "tilt", -1, 5.0),
    Move("ROLL_LEFT", "Roll Left", "roll", 1, 5.0),
    Move("ROLL_RIGHT", "Roll Right", "roll", -1, 5.0),
    Move("ZOOM_IN", "Zoom In", "zoom", 1, 1.5, scale=True),
    Move("ZOOM_OUT", "Zoom Out", "zoom", -1, 1.5, scale=True),
)
MOVES_BY_NAME = {m.name: m for m in MOVES}

EASES = (
    ("LINEAR", "Linear", "Constant speed"),
    ("EASE_IN", "Ease In", "Start slowly, end at full speed"),
    ("EASE_OUT", "Ease Out", "Start at full speed, end slowly"),
    ("EASE_IN_OUT", "Ease In-Out", "Start and end slowly"),
)


def move_end_value(move: Move, start_value: float, amount: float) -> float:
    """Channel value at the end of ``move`` applied with ``amount`` on top of ``start_value``."""
    if move.scale:
        if amount <= 0:
            raise UserError(f"{move.label}: the zoom factor must be > 0, got {amount}")
        return start_value * amount ** move.sign
    return start_value + move.sign * amount


def move_frame_range(frame_start: int, frame_end: int) -> tuple[int, int]:
    """Check a shot's frame range for a move (≥ 2 frames); return it."""
    if frame_end <= frame_start:
        raise UserError(f"the shot is frames {frame_start}..{frame_end}: a camera move needs at least "
                        "two frames (set the scene's Frame Start/End)")
    return frame_start, frame_end


def track_pivot(tracks: Tracks) -> np.ndarray:
    """(3,) robust centre of the shot's tracks, world metres: the median of source-visible positions."""
    xyz = tracks.xyz[tracks.vis & np.isfinite(tracks.xyz).all(-1)]
    if len(xyz) == 0:
        raise UserError("the tracks file has no visible tracks to centre the rig on; re-run the reconstruction")
    return np.median(xyz, axis=0).astype(np.float64)


# ---------------------------------------------------------------------------------------- the rig in numpy
# The definition the Blender rig (bridge/camera_rig.py: constraints and drivers, so it stays live and
# keyframable) implements; `t2v camera` uses it directly, and a test checks the two frame by frame.

BLENDER_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
"""Blender camera axes (−Z view, +Y up) ↔ OpenCV camera axes: ``w2c_cv = BLENDER_TO_CV @ inv(matrix_world)``."""


def ease_fraction(ease: str, x: np.ndarray) -> np.ndarray:
    """Share (0..1) of a move done at ``x`` (0..1 of the way from its first key to its last).

    ``ease`` is a key of :data:`EASES`; the curves are Blender's keyframe interpolation for them
    (``LINEAR``, or ``SINE`` with ease in, out or both), so a move keyed in Blender and one made here agree.
    """
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    curves = {
        "LINEAR": lambda: x,
        "EASE_IN": lambda: 1.0 - np.cos(x * np.pi / 2),
        "EASE_OUT": lambda: np.sin(x * np.pi / 2),
        "EASE_IN_OUT": lambda: (1.0 - np.cos(np.pi * x)) / 2,
    }
    if ease not in curves:
        raise UserError(f"unknown ease '{ease}'; use one of {', '.join(curves)}")
    return curves[ease]()


def channel_curve(start_value: float, end_value: float, ease: str, num_frames: int, first: int,
                  last: int) -> np.ndarray:
    """(num_frames,) values of a channel keyed ``start_value`` at frame ``first`` and ``end_value`` at
    ``last`` (0-based frames, ``first < last``), held before and after as Blender holds them."""
    frames = np.arange(num_frames, dtype=np.float64)
    return start_value + (end_value - start_value) * ease_fraction(ease, (frames - first) / (last - first))


def axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """(T, 4, 4) right-handed rotations by ``degrees`` (T,) about x (0), y (1) or z (2)."""
    a = np.radians(np.asarray(degrees, np.float64))
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    out = np.tile(np.eye(4), (len(a), 1, 1))
    out[:, i, i], out[:, j, j] = c, c
    sign = -1.0 if axis == 1 else 1.0  # about y the sine's signs swap (z × x = y)
    out[:, i, j], out[:, j, i] = -sign * s, sign * s
    return out


def _translation(xyz: np.ndarray) -> np.ndarray:
    out = np.tile(np.eye(4), (len(xyz), 1, 1))
    out[:, :3, 3] = xyz
    return out


def rig_matrices(start: np.ndarray, pivot: np.ndarray, channels: dict[str, np.ndarray]) -> np.ndarray:
    """World matrices (T, 4, 4) of the target camera: ``M = Crane · Orbit_p · Arc_p · S · Offset``
    (the module docstring; Blender camera axes, world +Z up, metres and degrees).

    ``start`` (T, 4, 4) is the start camera's ``matrix_world`` S(t), ``pivot`` (3,) p; ``channels``
    maps channel names to (T,) values (missing ones stay at their defaults; ``zoom`` changes the lens,
    not the matrix). The rig's frame G(t) at p faces the start camera: its +Y is the horizontal
    direction from p to the camera, +Z world up, +X = Y × Z (the arc axis).
    """
    start = np.asarray(start, np.float64)
    T = len(start)
    unknown = set(channels) - set(CHANNEL_NAMES)
    if unknown:
        raise UserError(f"unknown rig channels {sorted(unknown)}; the channels are {', '.join(CHANNEL_NAMES)}")
    value = {c.name: np.broadcast_to(np.asarray(channels.get(c.name, c.default), np.float64), (T,))
             for c in CHANNELS}
    towards = start[:, :3, 3] - np.asarray(pivot, np.float64)
    towards[:, 2] = 0.0
    length = np.linalg.norm(towards, axis=1, keepdims=True)
    y = np.where(length > 1e-9, towards / np.maximum(length, 1e-12), [0.0, 1.0, 0.0])
    z = np.broadcast_to([0.0, 0.0, 1.0], y.shape)
    G = _translation(np.broadcast_to(pivot, (T, 3)))
    G[:, :3, :3] = np.stack([np.cross(y, z), y, z], axis=-1)
    zeros = np.zeros(T)
    orbit = (_translation(np.stack([zeros, zeros, value["crane"]], 1)) @ axis_rotation(2, value["orbit"])
             @ axis_rotation(0, value["arc"]))
    offset = (_translation(np.stack([value["truck"], zeros, -value["dolly"]], 1)) @ axis_rotation(1, value["pan"])
              @ axis_rotation(0, value["tilt"]) @ axis_rotation(2, value["roll"]))
    return G @ orbit @ np.linalg.inv(G) @ start @ offset


def moved_camera(source: CameraTrack, pivot: np.ndarray, channels: dict[str, np.ndarray]) -> CameraTrack:
    """``source`` (OpenCV axes, the tracks' world) moved by the rig's ``channels`` (:func:`rig_matrices`)
    about ``pivot``; ``zoom`` scales the focal lengths, the principal point stays."""
    start = np.linalg.inv(source.w2c) @ BLENDER_TO_CV
    moved = rig_matrices(start, pivot, channels)
    zoom = np.broadcast_to(np.asarray(channels.get("zoom", 1.0), np.float64), (source.num_frames,))
    if (zoom <= 0).any():
        raise UserError(f"zoom must be > 0, got {zoom.min():g}")
    K = source.K.copy()
    K[:, 0, 0] *= zoom
    K[:, 1, 1] *= zoom
    K[:, 0, 1] *= zoom
    return CameraTrack(K=K, w2c=BLENDER_TO_CV @ np.linalg.inv(moved), size=source.size, fps=source.fps)
