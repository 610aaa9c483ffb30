"""Camera move presets: keyframe one rig channel of the target camera over the shot's frame range."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, FloatProperty

from ..bridge.camera_rig import key_move, rig_of
from ..engine.camera_moves import EASES, MOVES, MOVES_BY_NAME, move_frame_range
from ..engine.errors import UserError


class TRACK2VIEW_OT_camera_move(bpy.types.Operator):
    """Keyframe a camera move on the target camera's rig over the scene's frame range (edit the keys freely
afterwards)"""

    bl_idname = "track2view.camera_move"
    bl_label = "Camera Move"
    bl_options = {"REGISTER", "UNDO"}

    move: EnumProperty(name="Move", items=[(m.name, m.label, f"{m.label}: keys the '{m.channel}' channel")
                                           for m in MOVES])
    amount: FloatProperty(
        name="Amount",
        description="Size of the move: degrees (orbit, arc, pan, tilt, roll), metres (dolly, crane, truck) "
                    "or focal-length factor (zoom). Default: the move's own",
        min=0.0, soft_max=90.0,
    )
    ease: EnumProperty(name="Ease", items=EASES, default="EASE_IN_OUT")

    @classmethod
    def description(cls, context, properties):
        move = MOVES_BY_NAME.get(properties.move)
        return f"{move.label} over the shot ({move.channel} channel)" if move else cls.__doc__

    def execute(self, context):
        scene = context.scene
        move = MOVES_BY_NAME[self.move]
        if not self.properties.is_property_set("amount"):
            self.amount = move.default_amount
        try:
            camera = scene.track2view.target_camera
            if camera is None:
                raise UserError("no target camera: use Add Target Camera first")
            rig = rig_of(camera)
            if rig is None:
                raise UserError(f"target camera '{camera.name}' has no Track2View rig; use Add Target Camera")
            first, last = move_frame_range(scene.frame_start, scene.frame_end)
            start, end = key_move(rig, move, self.amount, self.ease, first, last)
        except UserError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        scene.frame_set(scene.frame_current)
        self.report({"INFO"}, f"{move.label}: '{move.channel}' {start:g} → {end:g} over frames {first}-{last}")
        return {"FINISHED"}


CLASSES = [TRACK2VIEW_OT_camera_move]
