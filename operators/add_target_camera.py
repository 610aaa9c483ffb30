"""Add Target Camera: a new camera that follows the recovered (or any) camera through an offset rig."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, StringProperty

from ..bridge.camera_rig import build_target_rig, check_start_camera, default_pivot
from ..engine.camera_moves import track_pivot
from ..engine.errors import UserError
from ..engine.io.tracks import load_tracks


def _is_camera(obj) -> bool:
    return obj is not None and obj.type == "CAMERA"


class TRACK2VIEW_OT_add_target_camera(bpy.types.Operator):
    """Add a camera that follows the source camera through an orbit/arc/dolly/crane/pan/tilt/roll/zoom rig
around the shot's track centre (all offsets zero: it is the source camera)"""

    bl_idname = "track2view.add_target_camera"
    bl_label = "Add Target Camera"
    bl_options = {"REGISTER", "UNDO"}

    start_camera: StringProperty(
        name="Start Camera",
        description="Camera to start from (empty: the shot's recovered source camera)",
    )
    rig_existing: BoolProperty(
        name="Rig Current Target",
        description="Drive the scene's current target camera instead of adding a new one (only if it has "
                    "no parent, constraints or animation of its own; its transform is reset)",
        default=False,
    )

    def draw(self, context):
        layout = self.layout
        layout.prop_search(self, "start_camera", bpy.data, "objects")
        layout.prop(self, "rig_existing")

    def _start(self, context) -> bpy.types.Object:
        if self.start_camera:
            obj = bpy.data.objects.get(self.start_camera)
            if obj is None:
                raise UserError(f"start camera '{self.start_camera}' does not exist; pick a camera")
            return check_start_camera(obj)
        return check_start_camera(context.scene.track2view.source_camera)

    def execute(self, context):
        scene = context.scene
        settings = scene.track2view
        try:
            start = self._start(context)
            existing = None
            if self.rig_existing:
                existing = settings.target_camera
                if existing is None:
                    raise UserError("the scene has no target camera to rig; untick Rig Current Target")
            if settings.tracks_path:
                pivot = track_pivot(load_tracks(bpy.path.abspath(settings.tracks_path)))
                where = "the track centre"
            else:
                pivot = default_pivot(scene, start)
                where = "5 m in front of the start camera (no tracks yet): move 'T2V Rig' onto the subject"
            camera, rig = build_target_rig(scene, start, pivot, camera_obj=existing)
        except UserError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        settings.target_camera = camera
        self.report({"INFO"}, f"'{camera.name}' follows '{start.name}'; rig pivot '{rig.name}' at {where}")
        return {"FINISHED"}


CLASSES = [TRACK2VIEW_OT_add_target_camera]
