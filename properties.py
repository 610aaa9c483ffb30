"""Per-scene settings and state (``scene.track2view``)."""

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from .bridge.compat import blend_relative_path_options

BLEND_RELATIVE = blend_relative_path_options()  # the paths below may be "//…" (relative to the .blend)


def _is_camera(_self, obj) -> bool:
    return obj.type == "CAMERA"


class Track2ViewSceneSettings(bpy.types.PropertyGroup):
    footage_path: StringProperty(
        name="Footage",
        description="Movie file or image-sequence folder of the shot",
        subtype="FILE_PATH",
        options=BLEND_RELATIVE,
    )
    tracks_path: StringProperty(
        name="Tracks",
        description="Tracks file (.npz) reconstructed from the footage",
        subtype="FILE_PATH",
        options=BLEND_RELATIVE,
    )
    footage_frame_start: IntProperty(
        name="Footage Frame Start",
        description="Scene frame where footage (and tracks) frame 0 plays; set by Import Footage. Renders and "
                    "coverage of the scene's frame range use the footage frames under it",
        default=1,
    )
    source_camera: PointerProperty(
        name="Source Camera",
        description="The camera recovered from the footage",
        type=bpy.types.Object,
        poll=_is_camera,
    )
    target_camera: PointerProperty(
        name="Target Camera",
        description="The camera to re-render the shot from (any camera, keyframed or static)",
        type=bpy.types.Object,
        poll=_is_camera,
    )
    output_dir: StringProperty(
        name="Output",
        description="Folder for rendered frames. Empty: track2view_renders/<blend name> beside the .blend",
        subtype="DIR_PATH",
        options=BLEND_RELATIVE,
    )
    output_format: EnumProperty(
        name="Format",
        description="Files the new view is written as",
        items=[
            ("AUTO", "Auto", "OpenEXR for OpenEXR footage, else PNG"),
            ("PNG", "PNG", "8-bit PNG, display sRGB"),
            ("PNG16", "PNG 16-bit", "16-bit PNG, display sRGB"),
            ("EXR", "OpenEXR", "Half-float OpenEXR, scene-linear (the footage's values for OpenEXR footage)"),
        ],
        default="AUTO",
    )
    show_coverage_overlay: BoolProperty(
        name="Coverage Overlay",
        description="In camera view through the target camera, draw the tracks it sees: green if the "
                    "footage shows them, red if the model must invent them (after Coverage Preview)",
        default=True,
    )
    status: StringProperty(name="Status", description="What the engine is doing")
    progress: FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")

    def footage_range(self, scene: bpy.types.Scene, available: int | None = None) -> tuple[int, int]:
        """Footage/tracks frames [A, B) (0-based) under the scene's frame range.

        Footage frame 0 plays at scene frame ``footage_frame_start``. ``available``: the footage's
        frame count when known. Raises UserError when the range starts before the footage or (with
        ``available``) ends after it.
        """
        from .engine.errors import UserError

        first = scene.frame_start - self.footage_frame_start
        stop = first + scene.frame_end - scene.frame_start + 1
        if first < 0:
            raise UserError(f"Frame Start {scene.frame_start} is before the footage, which starts at scene frame "
                            f"{self.footage_frame_start} (Footage Frame Start): set Frame Start to at least "
                            f"{self.footage_frame_start}")
        if available is not None and stop > available:
            raise UserError(f"the scene's frames {scene.frame_start}-{scene.frame_end} run past the footage's "
                            f"{available} frames (scene frames {self.footage_frame_start}-"
                            f"{self.footage_frame_start + available - 1}): shorten the frame range")
        return first, stop


def register():
    bpy.utils.register_class(Track2ViewSceneSettings)
    bpy.types.Scene.track2view = PointerProperty(type=Track2ViewSceneSettings)


def unregister():
    del bpy.types.Scene.track2view
    bpy.utils.unregister_class(Track2ViewSceneSettings)
