"""The Track2View sidebar panel: footage, tracks, cameras, model and the action buttons."""

import bpy

from .. import preferences
from .camera_workflow import draw_camera_workflow


def _draw_render_buttons(layout, context) -> None:
    """Model state and the Preview / Render New View buttons."""
    prefs = preferences.get(context)
    model = prefs.model_dir if prefs is not None else ""
    col = layout.column(align=True)  # no filesystem access in draw: an empty setting means the engine's default
    col.label(text=f"Model: {model}" if model else "Model: Built-in default", icon="NODE_COMPOSITING")
    row = col.row(align=True)
    row.operator("track2view.preview_view", icon="IMAGE_PLANE")
    row.operator("track2view.render_view", icon="RENDER_ANIMATION")


class _Track2ViewPanel:
    bl_label = "Track2View"
    bl_region_type = "UI"
    bl_category = "Track2View"

    def draw(self, context):
        settings = context.scene.track2view
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False

        col = layout.column(heading="Shot")
        col.prop(settings, "footage_path")
        col.prop(settings, "tracks_path")
        col.prop(settings, "source_camera")
        row = layout.row(align=True)
        row.operator("track2view.import_footage", icon="FILE_MOVIE")
        row.operator("track2view.reconstruct_tracks", icon="TRACKING")

        col = layout.column(heading="New View")
        col.prop(settings, "target_camera")
        col.prop(settings, "output_dir")
        col.prop(settings, "output_format")
        draw_camera_workflow(layout, context)

        _draw_render_buttons(layout, context)

        if settings.status:
            box = layout.box()
            box.label(text=settings.status, icon="INFO")
            if 0.0 < settings.progress < 1.0:
                box.progress(factor=settings.progress, text=f"{settings.progress:.0%}")


class VIEW3D_PT_track2view(_Track2ViewPanel, bpy.types.Panel):
    bl_space_type = "VIEW_3D"


class SEQUENCER_PT_track2view(_Track2ViewPanel, bpy.types.Panel):
    bl_space_type = "SEQUENCE_EDITOR"


CLASSES = [VIEW3D_PT_track2view, SEQUENCER_PT_track2view]
