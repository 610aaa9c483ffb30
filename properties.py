"""Per-scene settings and state (``scene.track2view``)."""

import bpy
from bpy.props import BoolProperty, FloatProperty, PointerProperty, StringProperty


def _is_camera(_self, obj) -> bool:
    return obj.type == "CAMERA"


class Track2ViewSceneSettings(bpy.types.PropertyGroup):
    footage_path: StringProperty(
        name="Footage",
        description="Movie file or image-sequence folder of the shot",
        subtype="FILE_PATH",
    )
    tracks_path: StringProperty(
        name="Tracks",
        description="Tracks file (.npz) reconstructed from the footage",
        subtype="FILE_PATH",
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
        description="Folder for rendered frames. Empty: a folder beside the .blend",
        subtype="DIR_PATH",
    )
    show_coverage_overlay: BoolProperty(
        name="Coverage Overlay",
        description="In camera view through the target camera, draw the tracks it sees: green if the "
                    "footage shows them, red if the model must invent them (after Coverage Preview)",
        default=True,
    )
    status: StringProperty(name="Status", description="What the engine is doing")
    progress: FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")


def register():
    bpy.utils.register_class(Track2ViewSceneSettings)
    bpy.types.Scene.track2view = PointerProperty(type=Track2ViewSceneSettings)


def unregister():
    del bpy.types.Scene.track2view
    bpy.utils.unregister_class(Track2ViewSceneSettings)
