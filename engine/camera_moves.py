"""Camera moves relative to the shot's own camera: the rig's channels, the move presets, the pivot.

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
