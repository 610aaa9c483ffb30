"""Reconstruct Tracks: the engine's tracker (worker job) → source camera + animated track point cloud.

Footage frames 0 .. (scene.frame_end − scene.frame_start) are tracked (footage frame 0 plays at
scene.frame_start, as Import Footage sets it up). The result is cached beside the .blend as
``//track2view/<footage name>.tracks.npz`` (+ ``.report.json``): running again with the same
footage and frame count reuses it instead of recomputing, unless Recompute is on. On result the
source camera (panel's, else scene camera, else a new one) is keyframed with the recovered poses
and lens (``bridge/camera.py``) and the object "Tracks <footage name>" shows the tracks
(``bridge/tracks_object.py``); ``scene.track2view.tracks_path`` and ``source_camera`` are set.
"""

from __future__ import annotations

import json
from pathlib import Path

import bpy
from bpy.props import BoolProperty, IntProperty

from ..bridge.camera import keyframe_camera_from_track
from ..bridge.tracks_object import build_tracks_object
from ..engine.errors import UserError
from ..engine.geometry.camera import CameraTrack
from ..engine.io.tracks import load_tracks
from ..engine.tracking.pipeline import DEFAULT_MAX_POINTS, report_path
from .engine_job import EngineJobMixin
from .import_footage import source_camera

CACHE_DIR = "//track2view"


def cache_path(footage: Path) -> Path:
    """Where the tracks of ``footage`` are cached: ``//track2view/<name>.tracks.npz`` beside the .blend."""
    if not bpy.data.filepath:
        raise UserError("save the .blend first: reconstructed tracks are cached beside it")
    name = bpy.path.clean_name(footage.stem if footage.is_file() else footage.name)
    return Path(bpy.path.abspath(CACHE_DIR)) / f"{name}.tracks.npz"


def cached_matches(path: Path, footage: Path, frames: int) -> bool:
    """True if ``path`` holds tracks of ``footage`` over ``frames`` frames (per its report)."""
    report = report_path(path)
    if not (path.is_file() and report.is_file()):
        return False
    try:
        doc = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return Path(doc.get("input", "")) == footage and doc.get("frames") == [0, frames]


def apply_tracks(context, path: Path) -> bpy.types.Object:
    """Keyframe the source camera from the tracks file ``path`` and build the track object."""
    scene = context.scene
    tracks = load_tracks(path)
    camera = source_camera(context)
    keyframe_camera_from_track(scene, camera, CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size,
                                                          fps=tracks.fps), scene.frame_start, set_resolution=True)
    name = path.name.removesuffix(".tracks.npz")
    obj = build_tracks_object(scene, tracks, f"Tracks {name}", scene.frame_start)
    scene.track2view.tracks_path = str(path)
    return obj


class TRACK2VIEW_OT_reconstruct_tracks(EngineJobMixin, bpy.types.Operator):
    """Reconstruct 3D point tracks and the source camera from the footage (cached beside the .blend)"""

    bl_idname = "track2view.reconstruct_tracks"
    bl_label = "Reconstruct Tracks"
    bl_options = {"REGISTER", "UNDO"}
    job = "track2view.engine.tracking.pipeline:track_job"

    max_points: IntProperty(name="Max Points", default=DEFAULT_MAX_POINTS, min=100, max=200000,
                            description="Most tracks in all")
    use_camera_lens: BoolProperty(name="Use Camera Lens", default=False,
                                  description="Take the focal length from the source camera's lens and sensor "
                                              "instead of estimating it")
    recompute: BoolProperty(name="Recompute", default=False,
                            description="Track again even if tracks of this footage are cached")

    _out: Path | None = None

    @classmethod
    def poll(cls, context):
        if not context.scene.track2view.footage_path:
            cls.poll_message_set("Import footage first")
            return False
        return True

    def _inputs(self, context) -> tuple[Path, int, Path]:
        settings = context.scene.track2view
        footage = Path(bpy.path.abspath(settings.footage_path))
        if not footage.exists():
            raise UserError(f"footage not found: {footage}; import it again")
        frames = context.scene.frame_end - context.scene.frame_start + 1
        if frames < 2:
            raise UserError("the scene's frame range has fewer than 2 frames; tracking needs at least 2")
        return footage, frames, cache_path(footage)

    def execute(self, context):
        try:
            footage, frames, out = self._inputs(context)
        except UserError as exc:
            return self._fail(context, str(exc))
        if not self.recompute and cached_matches(out, footage, frames):
            apply_tracks(context, out)
            self.report({"INFO"}, f"Reconstruct Tracks: reused {out.name} (turn on Recompute to track again)")
            return {"FINISHED"}
        return super().execute(context)

    def build_params(self, context) -> dict:
        footage, frames, out = self._inputs(context)
        params = {"input": str(footage), "out": str(out), "frames": [0, frames], "max_points": self.max_points,
                  "overwrite": True}
        if self.use_camera_lens:
            data = source_camera(context).data
            params.update(lens_mm=data.lens, sensor_mm=data.sensor_width)
        return params

    def on_result(self, context, result: dict) -> None:
        report = result["report"]
        obj = apply_tracks(context, Path(result["tracks"]))
        note = f" — {report['note']}" if "note" in report else ""
        self.report({"INFO"}, f"Reconstruct Tracks: {report['points']} tracks ({report['dynamic']} moving), "
                              f"{report['camera_mode']} camera, focal {report['focal_px']:.0f} px "
                              f"({report['focal_source']}) → '{obj.name}'{note}")


CLASSES = [TRACK2VIEW_OT_reconstruct_tracks]
