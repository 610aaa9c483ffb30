"""Add-on preferences: model folder, device, precision, cache folder and the movie start frame."""

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

DEFAULT_MOVIE_START_FRAME = 1001
"""Scene frame of a movie's first frame on import (the studio convention; image sequences keep theirs)."""
MAX_FRAME = 1048574
"""Blender's last frame number."""


class Track2ViewPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    model_dir: StringProperty(
        name="Model Folder",
        description="Folder with a Track2View model (diffusers layout). Empty: the built-in default model",
        subtype="DIR_PATH",
    )
    device: EnumProperty(
        name="Device",
        description="Where the engine runs the model",
        items=[
            ("AUTO", "Auto", "CUDA if available, else CPU"),
            ("CUDA", "CUDA", "NVIDIA GPU (needs CUDA torch and onnxruntime-gpu)"),
            ("CPU", "CPU", "Processor only; slow for large models"),
        ],
        default="AUTO",
    )
    precision: EnumProperty(
        name="Precision",
        description="Numeric precision of the model",
        items=[
            ("FP32", "Float 32", "Full precision (CPU default)"),
            ("FP16", "Float 16", "Half precision (GPU only)"),
            ("BF16", "BFloat 16", "Brain float (recent GPUs)"),
        ],
        default="FP32",
    )
    cache_dir: StringProperty(
        name="Cache Folder",
        description="Where exported ONNX files and other caches are kept. Empty: the extension's user folder",
        subtype="DIR_PATH",
    )

    movie_start_frame: IntProperty(
        name="Movie Start Frame",
        description="Scene frame of a movie's first frame when it is imported (image sequences keep their "
                    "own frame numbers, e.g. shot.1001.exr starts at 1001)",
        default=DEFAULT_MOVIE_START_FRAME, min=0, max=MAX_FRAME,
    )

    def resolved_cache_dir(self, create: bool = True) -> str | None:
        """The cache folder: the preference, else the extension's user directory (made if ``create``).

        None when the add-on is not installed as an extension (legacy add-on install): the engine then
        uses its default cache folder.
        """
        if self.cache_dir:
            return self.cache_dir
        try:
            return bpy.utils.extension_path_user(__package__, create=create)
        except ValueError:  # not an extension package
            return None

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "model_dir")
        row = layout.row()
        row.prop(self, "device")
        row.prop(self, "precision")
        layout.prop(self, "cache_dir")
        layout.prop(self, "movie_start_frame")
        if not self.cache_dir:
            cache = self.resolved_cache_dir(create=False)
            layout.label(text=f"Cache: {cache or 'the engine default cache folder'}", icon="INFO")


def get(context=None) -> "Track2ViewPreferences | None":
    """This add-on's preferences, or None when the add-on is not enabled (e.g. registered by a script)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


def register():
    bpy.utils.register_class(Track2ViewPreferences)


def unregister():
    bpy.utils.unregister_class(Track2ViewPreferences)
