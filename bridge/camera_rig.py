"""The target-camera offset rig: a new camera that follows a start camera through keyframable offsets.

The channels and the matrix they produce are defined in ``engine/camera_moves.py``:
``M = Crane · Orbit_p · Arc_p · S · Offset · L`` (its ``rig_matrices`` computes it in numpy for
``t2v camera``; a test checks this rig against it frame by frame, eases included). Built from constraints, parenting and drivers whose
expressions are all *simple expressions* (Blender evaluates them without Python), so the rig works in
the viewport and in ``blender -b`` renders without frame handlers or "Auto Run Python Scripts".

Objects (all in a new collection "Track2View Target"):

- ``T2V Rig`` — empty at the pivot p (the shot's track centre). Holds the channels as custom
  properties (``rig["orbit"]``…) the artist and the presets keyframe. A Locked Track constraint
  (lock Z, +Y towards the start camera) turns it so that its X axis is the arc axis. Call its
  frame G(t) = T(p)·R(t).
- ``T2V Orbit`` — child of the rig; rotation X = arc, Z = orbit, location Z = crane (drivers).
- ``T2V Offset`` — empty whose Child Of constraint puts it at S(t)·Offset (dolly, truck, pan,
  tilt, roll drive its own transform, rotation mode ZXY = pan, then tilt, then roll).
- the target camera — child of the orbit empty; a Copy Transforms constraint (target: the offset
  empty expressed in the rig's space, owner: local space, mix "before original") makes its local
  matrix G⁻¹·S·Offset·L, so its world matrix is G·Orbit·G⁻¹·S·Offset·L = the formula above, and its
  own keyframed transform L still adds on top. Its lens is the start camera's times ``zoom``; shift
  and sensor size follow the start camera (drivers); other lens settings are copied once.

The start camera may be animated, parented or constrained: the rig only reads its final world
matrix and lens. Nothing the artist made is re-parented or deleted; an existing camera is rigged
only on request and only if nothing of its own would be overridden.
"""

from __future__ import annotations

import bpy
import numpy as np
from mathutils import Matrix, Vector

from ..engine.camera_moves import CHANNELS, Move, move_end_value
from ..engine.errors import UserError
from .compat import animation_fcurves

RIG_KEY = "track2view_rig"
"""Custom property of a target camera pointing at its rig empty."""

COLLECTION_NAME = "Track2View Target"
DEFAULT_PIVOT_DISTANCE = 5.0
"""Metres in front of the start camera where the pivot goes when the shot has no tracks yet."""

_HELPER_SIZE = 0.1  # display size of the helper empties (metres)

# Channel → (object role, data path, index, expression of the channel value v). Simple expressions only.
_DRIVEN = (
    ("orbit", "orbit", "rotation_euler", 2, "radians(v)"),
    ("arc", "orbit", "rotation_euler", 0, "radians(v)"),
    ("crane", "orbit", "location", 2, "v"),
    ("truck", "offset", "location", 0, "v"),
    ("dolly", "offset", "location", 2, "-v"),
    ("tilt", "offset", "rotation_euler", 0, "radians(v)"),
    ("pan", "offset", "rotation_euler", 1, "radians(v)"),
    ("roll", "offset", "rotation_euler", 2, "radians(v)"),
)
# Camera data followed from the start camera; lens is scaled by zoom.
_FOLLOWED_LENS = ("shift_x", "shift_y", "sensor_width", "sensor_height")
_COPIED_LENS = ("type", "sensor_fit", "lens_unit", "clip_start", "clip_end")

EASE_INTERPOLATION = {
    "LINEAR": ("LINEAR", "AUTO"),
    "EASE_IN": ("SINE", "EASE_IN"),
    "EASE_OUT": ("SINE", "EASE_OUT"),
    "EASE_IN_OUT": ("SINE", "EASE_IN_OUT"),
}
"""Ease name (engine/camera_moves.EASES) → (keyframe interpolation, easing) of the move's first key."""


def rig_of(camera_obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The rig empty driving ``camera_obj``, or None when it is not a Track2View target camera."""
    if camera_obj is None:
        return None
    rig = camera_obj.get(RIG_KEY)
    return rig if isinstance(rig, bpy.types.Object) and rig.name in bpy.data.objects else None


def check_start_camera(start: bpy.types.Object | None) -> bpy.types.Object:
    """Return ``start`` if it can be followed; UserError with the fix otherwise."""
    if start is None:
        raise UserError("no recovered source camera yet: reconstruct the shot first, or pick any camera "
                        "as the start camera")
    if start.type != "CAMERA":
        raise UserError(f"start camera '{start.name}' is not a camera object; pick a camera")
    if start.data.type != "PERSP":
        raise UserError(f"start camera '{start.name}' is {start.data.type}; Track2View needs a perspective "
                        "camera (Camera properties → Lens → Type: Perspective)")
    return start


def check_can_take_over(camera_obj: bpy.types.Object, start: bpy.types.Object) -> None:
    """UserError unless the rig can drive ``camera_obj`` without overriding anything of the artist's."""
    name = camera_obj.name
    if camera_obj.type != "CAMERA":
        raise UserError(f"'{name}' is not a camera; the rig can only drive a camera")
    if camera_obj == start or camera_obj.data == start.data:
        raise UserError(f"'{name}' is (or shares its lens data with) the start camera '{start.name}'; "
                        "add a new target camera instead")
    if camera_obj.data.users > 1:
        raise UserError(f"'{name}' shares its lens data '{camera_obj.data.name}' with other cameras; the rig "
                        "would drive them too. Make it single-user (Object Data → unlink) or add a new target camera")
    if rig_of(camera_obj) is not None:
        raise UserError(f"'{name}' already has a Track2View rig ('{rig_of(camera_obj).name}')")
    if camera_obj.parent is not None:
        raise UserError(f"'{name}' is parented to '{camera_obj.parent.name}'; the rig must parent it. "
                        "Clear its parent (Alt+P) or add a new target camera")
    if len(camera_obj.constraints):
        raise UserError(f"'{name}' has constraints ({', '.join(c.name for c in camera_obj.constraints)}) the "
                        "rig cannot take over; remove them or add a new target camera")
    for owner, what in ((camera_obj, "transform"), (camera_obj.data, "lens")):
        anim = owner.animation_data
        if anim is not None and (anim.action is not None or len(anim.drivers)):
            raise UserError(f"'{name}' has {what} animation or drivers the rig would override; "
                            "add a new target camera instead")


def _new_empty(name: str, collection, display: str, size: float) -> bpy.types.Object:
    obj = bpy.data.objects.new(name, None)
    obj.empty_display_type = display
    obj.empty_display_size = size
    collection.objects.link(obj)
    return obj


def _parent(child: bpy.types.Object, parent: bpy.types.Object) -> None:
    child.parent = parent
    child.matrix_parent_inverse = Matrix.Identity(4)


def _drive(owner, path: str, index: int, expression: str, variables: dict[str, tuple[bpy.types.Object, str]]):
    """Add a driver ``expression`` over object properties; refuse anything needing Python."""
    fcurve = owner.driver_add(path, index) if index >= 0 else owner.driver_add(path)
    driver = fcurve.driver
    driver.type = "SCRIPTED"
    for var_name, (obj, data_path) in variables.items():
        var = driver.variables.new()
        var.name = var_name
        var.type = "SINGLE_PROP"
        var.targets[0].id_type = "OBJECT"
        var.targets[0].id = obj
        var.targets[0].data_path = data_path
    driver.expression = expression
    if not driver.is_simple_expression:  # would need "Auto Run Python Scripts"
        raise RuntimeError(f"driver '{expression}' is not a simple expression")
    return fcurve


def _add_channels(rig: bpy.types.Object) -> None:
    for channel in CHANNELS:
        rig[channel.name] = channel.default
        ui = rig.id_properties_ui(channel.name)
        ui.update(default=channel.default, description=channel.description)
        if channel.name == "zoom":
            ui.update(min=0.01, soft_min=0.1, soft_max=10.0)


def build_target_rig(scene: bpy.types.Scene, start: bpy.types.Object, pivot, *,
                     camera_obj: bpy.types.Object | None = None,
                     name: str = "T2V Target") -> tuple[bpy.types.Object, bpy.types.Object]:
    """Build the rig around ``pivot`` (3,) world metres; return (target camera, rig empty).

    ``camera_obj`` None creates a new camera named ``name``; otherwise that camera is rigged (it must
    pass :func:`check_can_take_over`; it stays in its collections and its static transform becomes the
    identity offset). All channels start at their neutral values, so the target camera equals ``start``.
    """
    check_start_camera(start)
    if camera_obj is not None:
        check_can_take_over(camera_obj, start)
    collection = bpy.data.collections.new(COLLECTION_NAME)
    scene.collection.children.link(collection)

    rig = _new_empty("T2V Rig", collection, "SPHERE", 0.25)
    rig.location = Vector(np.asarray(pivot, float).tolist())
    _add_channels(rig)
    track = rig.constraints.new("LOCKED_TRACK")
    track.name = "T2V face start camera"
    track.target, track.track_axis, track.lock_axis = start, "TRACK_Y", "LOCK_Z"

    orbit = _new_empty("T2V Orbit", collection, "PLAIN_AXES", _HELPER_SIZE)
    _parent(orbit, rig)
    offset = _new_empty("T2V Offset", collection, "PLAIN_AXES", _HELPER_SIZE)
    offset.rotation_mode = "ZXY"  # R = Ry(pan) · Rx(tilt) · Rz(roll)
    follow = offset.constraints.new("CHILD_OF")
    follow.name = "T2V follow start camera"
    follow.target = start
    follow.inverse_matrix = Matrix.Identity(4)
    follow.set_inverse_pending = False
    for helper in (orbit, offset):
        helper.hide_select = True
    roles = {"orbit": orbit, "offset": offset}
    for channel, role, path, index, expression in _DRIVEN:
        _drive(roles[role], path, index, expression, {"v": (rig, f'["{channel}"]')})

    if camera_obj is None:
        camera_obj = bpy.data.objects.new(name, bpy.data.cameras.new(name))
        collection.objects.link(camera_obj)
    else:
        camera_obj.matrix_basis = Matrix.Identity(4)
    _parent(camera_obj, orbit)
    copy = camera_obj.constraints.new("COPY_TRANSFORMS")
    copy.name = "T2V follow rig"
    copy.target = offset
    copy.target_space, copy.space_object = "CUSTOM", rig
    copy.owner_space = "LOCAL"
    copy.mix_mode = "BEFORE_FULL"

    data = camera_obj.data
    for attr in _COPIED_LENS:
        setattr(data, attr, getattr(start.data, attr))
    _drive(data, "lens", -1, "lens * zoom", {"lens": (start, "data.lens"), "zoom": (rig, '["zoom"]')})
    for attr in _FOLLOWED_LENS:
        _drive(data, attr, -1, "v", {"v": (start, f"data.{attr}")})
    camera_obj[RIG_KEY] = rig
    return camera_obj, rig


def default_pivot(scene: bpy.types.Scene, start: bpy.types.Object) -> np.ndarray:
    """(3,) a point :data:`DEFAULT_PIVOT_DISTANCE` in front of ``start`` at the first frame of the shot."""
    current = (scene.frame_current, scene.frame_subframe)
    try:
        scene.frame_set(scene.frame_start)
        world = start.matrix_world.copy()
    finally:
        scene.frame_set(current[0], subframe=current[1])
    forward = world.to_3x3() @ Vector((0.0, 0.0, -1.0))
    return np.array(world.translation + forward.normalized() * DEFAULT_PIVOT_DISTANCE)


def channel_fcurve(rig: bpy.types.Object, channel: str):
    """The F-curve animating ``rig[channel]``, or None."""
    fcurves = animation_fcurves(rig)
    return None if fcurves is None else fcurves.find(f'["{channel}"]')


def channel_value(rig: bpy.types.Object, channel: str, frame: float) -> float:
    """Value of ``channel`` at ``frame``: its F-curve evaluated there, else the property's value."""
    fcurve = channel_fcurve(rig, channel)
    return float(fcurve.evaluate(frame)) if fcurve is not None else float(rig[channel])


def key_move(rig: bpy.types.Object, move: Move, amount: float, ease: str,
             frame_start: int, frame_end: int) -> tuple[float, float]:
    """Keyframe ``move`` on the rig from ``frame_start`` to ``frame_end``; return (start, end) values.

    The channel keeps its value at ``frame_start`` and reaches its value at ``frame_end`` plus the move
    (times it, for zoom); keys between the two are kept. ``ease`` is a key of
    :data:`EASE_INTERPOLATION`, set on the first key. Ordinary keyframes: edit them freely afterwards.
    """
    if ease not in EASE_INTERPOLATION:
        raise UserError(f"unknown ease '{ease}'; use one of {sorted(EASE_INTERPOLATION)}")
    channel = move.channel
    start_value = channel_value(rig, channel, frame_start)
    end_value = move_end_value(move, channel_value(rig, channel, frame_end), amount)
    path = f'["{channel}"]'
    for frame, value in ((frame_start, start_value), (frame_end, end_value)):
        rig[channel] = value
        rig.keyframe_insert(path, frame=frame, group="Track2View Rig")
    interpolation, easing = EASE_INTERPOLATION[ease]
    for key in channel_fcurve(rig, channel).keyframe_points:
        if key.co[0] == frame_start:
            key.interpolation = interpolation
            key.easing = easing
    return start_value, end_value
