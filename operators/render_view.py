"""Render New View / Preview New View: target camera → engine worker → image strips in the sequencer.

Frame mapping: footage frame 0 is scene frame ``scene.track2view.footage_frame_start`` (set by
Import Footage); the scene's frame range is rendered from the footage frames under it, which must
exist (a later Frame Start renders part of the shot). The target camera (any camera; keyframed or
static; lens, sensor and shift animation included) is read per frame by ``bridge/camera.py``.

Output: a new numbered folder per render, ``<Output>/<camera>/<preview|render>_NNN``, so earlier
renders are kept. Output defaults to ``//track2view_renders/<blend>`` beside the .blend (``<blend>``
its file name without ``.blend``), so the shots of one folder keep separate trees; the panel's Output
(or the operator's ``output_dir``) replaces it. The .blend is never saved by this operator.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import bpy
from bpy.props import StringProperty

from .. import preferences
from ..bridge.camera import camera_track_from_blender
from ..bridge.vse import add_render_strips
from ..engine.coverage import poor_coverage_warning
from ..engine.errors import UserError
from ..engine.geometry.camera import save_camera_json
from ..properties import BLEND_RELATIVE
from .engine_job import EngineJobMixin

DEFAULT_OUTPUT = "//track2view_renders"
MAX_RENDER_FOLDERS = 999


def _existing_file(path_setting: str, what: str, fix: str) -> str:
    if not path_setting:
        raise UserError(f"no {what} yet: {fix}")
    path = bpy.path.abspath(path_setting)
    if not os.path.exists(path):
        raise UserError(f"{what} not found: {path}; {fix}")
    return path


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def next_render_folder(base: Path, camera_name: str, kind: str) -> Path:
    """``base/<camera>/<kind>_NNN`` with the lowest number not used yet."""
    folder = base / bpy.path.clean_name(camera_name)
    for n in range(1, MAX_RENDER_FOLDERS + 1):
        candidate = folder / f"{kind}_{n:03d}"
        if not candidate.exists():
            return candidate
    raise UserError(f"{folder} already holds {MAX_RENDER_FOLDERS} renders; delete old ones or choose "
                    "another Output folder")


def output_base(settings, override: str) -> Path:
    """The folder renders go under: the operator's ``output_dir``, the panel's Output, or
    ``//track2view_renders/<blend>`` beside the .blend."""
    setting = override or settings.output_dir
    if not setting and bpy.data.filepath:
        setting = f"{DEFAULT_OUTPUT}/{bpy.path.clean_name(Path(bpy.data.filepath).stem)}"
    setting = setting or DEFAULT_OUTPUT
    if setting.startswith("//") and not bpy.data.filepath:
        raise UserError("the .blend is not saved, so renders have no default folder: save it first, or set "
                        "an Output folder in the Track2View panel")
    base = Path(bpy.path.abspath(setting))
    try:                                  # probe: os.access says yes to root even where writes fail
        with tempfile.TemporaryFile(dir=_existing_ancestor(base)):
            pass
    except OSError as exc:
        raise UserError(f"cannot write into the output folder {base} ({exc.strerror}): choose another "
                        "Output folder") from None
    return base


def footage_colorspace(scene: bpy.types.Scene) -> str:
    """The colour space Blender reads the shot's footage in (its movie clip's, set at import from the file
    type or by the artist), or "" when the footage has no clip in this .blend."""
    footage = scene.track2view.footage_path
    if not footage:
        return ""
    folder = Path(bpy.path.abspath(footage)).resolve()
    for clip in bpy.data.movieclips:
        path = Path(bpy.path.abspath(clip.filepath)).resolve()
        if path == folder or path.parent == folder:
            return clip.colorspace_settings.name
    return ""


class _RenderNewView(EngineJobMixin):
    bl_options = {"REGISTER", "UNDO"}
    job = "render"
    preview = False

    camera: StringProperty(name="Camera", description="Target camera object. Empty: the panel's Target Camera")
    output_dir: StringProperty(name="Output", subtype="DIR_PATH", options=BLEND_RELATIVE,
                               description="Folder for renders. Empty: the panel's Output (or beside the .blend)")
    model_dir: StringProperty(name="Model", subtype="DIR_PATH",
                              description="Track2View model folder. Empty: the add-on's Model Folder preference")

    _camera_file: str | None = None
    _frame_start = 1

    def build_params(self, context) -> dict:
        scene = context.scene
        settings = scene.track2view
        footage = _existing_file(settings.footage_path, "footage",
                                 "import a shot or set Footage in the Track2View panel")
        tracks = _existing_file(settings.tracks_path, "tracks",
                                "reconstruct the tracks first or set Tracks in the Track2View panel")
        frames = settings.footage_range(scene)  # the engine refuses a range past the footage's end
        camera = bpy.data.objects.get(self.camera) if self.camera else settings.target_camera
        if camera is None:
            raise UserError(f"no camera named '{self.camera}'" if self.camera else
                            "no target camera chosen: set Target Camera in the Track2View panel")
        if camera.type != "CAMERA":
            raise UserError(f"'{camera.name}' is a {camera.type.lower()} object, not a camera")
        self._camera_name = camera.name
        out = next_render_folder(output_base(settings, self.output_dir), camera.name,
                                 "preview" if self.preview else "render")
        cam = camera_track_from_blender(scene, camera)
        self._frame_start = scene.frame_start
        fd, self._camera_file = tempfile.mkstemp(prefix="track2view_camera_", suffix=".json")
        os.close(fd)
        save_camera_json(cam, self._camera_file)
        prefs = preferences.get(context)
        model_setting = self.model_dir or (prefs.model_dir if prefs is not None else "")
        model = bpy.path.abspath(model_setting) if model_setting else None
        return {"footage": footage, "tracks": tracks, "camera": self._camera_file, "out": str(out),
                "preview": self.preview, "model": model, "frames": list(frames),
                "device": prefs.device.lower() if prefs is not None else "auto",
                "precision": prefs.precision.lower() if prefs is not None else "fp32",
                "cache_dir": prefs.resolved_cache_dir() if prefs is not None else None,
                "file_format": None if settings.output_format == "AUTO" else settings.output_format.lower(),
                "first_number": scene.frame_start}

    def on_result(self, context, result: dict) -> None:
        # The footage's colour space where the files hold its kind of values (OpenEXR from OpenEXR, PNG
        # from the rest); otherwise Blender's default for the file type (linear EXR, sRGB PNG).
        same_kind = result["values"] == result["footage_values"]
        frames, _ = add_render_strips(context.scene, result["frames_dir"], result["holes_dir"], self._camera_name,
                                      colorspace=footage_colorspace(context.scene) if same_kind else "")
        what = "geometric-warp preview" if result["mode"] == "preview" else "render"
        self.report({"INFO"}, f"{self.bl_label}: {result['num_frames']} frames ({what}) in {result['out']}; "
                              f"strip '{frames.name}' on channel {frames.channel}")
        warning = poor_coverage_warning(result["coverage"], self._frame_start)
        for text in ([warning] if warning else []) + result["warnings"]:
            self.report({"WARNING"}, f"'{self._camera_name}': {text}")

    def cleanup(self, context) -> None:
        if self._camera_file and os.path.exists(self._camera_file):
            os.remove(self._camera_file)
        self._camera_file = None


class TRACK2VIEW_OT_render_view(_RenderNewView, bpy.types.Operator):
    """Re-render the shot from the target camera with the Track2View model into the sequencer"""

    bl_idname = "track2view.render_view"
    bl_label = "Render New View"


class TRACK2VIEW_OT_preview_view(_RenderNewView, bpy.types.Operator):
    """Move every pixel of the footage through its dense depth into the target camera (fast preview, no model) into the sequencer"""

    bl_idname = "track2view.preview_view"
    bl_label = "Preview New View"
    preview = True


CLASSES = [TRACK2VIEW_OT_render_view, TRACK2VIEW_OT_preview_view]
