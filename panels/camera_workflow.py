"""The sidebar's target-camera section: rig, move presets, coverage (UI only; reads, never computes)."""

from __future__ import annotations

from ..bridge.camera_rig import RIG_KEY
from ..engine.camera_moves import CHANNELS, MOVES
from ..operators.coverage_preview import COVERAGE_KEY

_MAX_RANGES_SHOWN = 6


def draw_camera_workflow(layout, context) -> None:
    """Add Target Camera, the rig's channels and presets, and the last coverage report."""
    scene = context.scene
    settings = scene.track2view
    col = layout.column(align=True)
    col.operator("track2view.add_target_camera", icon="OUTLINER_OB_CAMERA")
    active = context.active_object
    if (active is not None and active.type == "CAMERA" and active != settings.source_camera
            and active.get(RIG_KEY) is None):
        col.operator("track2view.add_target_camera", text=f"Start From '{active.name}'").start_camera = active.name

    camera = settings.target_camera
    rig = camera.get(RIG_KEY) if camera is not None else None
    if rig is not None:
        box = layout.box()
        box.label(text=f"Rig: {rig.name}", icon="EMPTY_AXIS")
        channels = box.column(align=True)
        for channel in CHANNELS:
            channels.prop(rig, f'["{channel.name}"]', text=f"{channel.name.title()} ({channel.unit})")
        grid = box.grid_flow(row_major=True, columns=2, even_columns=True, align=True)
        for move in MOVES:
            grid.operator("track2view.camera_move", text=move.label).move = move.name

    col = layout.column(align=True)
    col.operator("track2view.coverage_preview", icon="HIDE_OFF")
    col.prop(settings, "show_coverage_overlay")
    report = scene.get(COVERAGE_KEY)
    if report is not None:
        box = layout.box()
        poor = list(report.get("poor_text", []))
        box.label(text=f"Coverage ({report.get('camera', '?')}): {report.get('summary', '')}",
                  icon="ERROR" if poor else "CHECKMARK")
        for text in poor[:_MAX_RANGES_SHOWN]:
            box.label(text=f"Poor coverage: frames {text}", icon="DOT")
        if len(poor) > _MAX_RANGES_SHOWN:
            box.label(text=f"… and {len(poor) - _MAX_RANGES_SHOWN} more ranges")
