"""Reconstruct Tracks: the engine's tracker (worker job) → source camera + animated track point cloud.

Footage frames 0 .. (scene.frame_end − footage_frame_start) are tracked (footage frame 0 plays at
``scene.track2view.footage_frame_start``, set by Import Footage), so track frame i is footage frame i. The result is cached beside the .blend as
``//track2view/<footage name>-<path hash>.tracks.npz`` (+ ``.report.json``, and ``.settings.json``:
the footage, frame count, max points, focal and the footage's size/mtime it was made with;
``engine/tracking/cache.py``).
Running again with the same settings reuses it instead of recomputing, unless Recompute is on. On
result the source camera (panel's, else scene camera, else a new one) is keyframed with the
recovered poses and lens (``bridge/camera.py``) and the object "Tracks <cache name>" shows the
tracks (``bridge/tracks_object.py``); ``scene.track2view.tracks_path`` (relative to the .blend, so the
project folder can be moved or mounted elsewhere on a farm) and ``source_camera`` are set.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import BoolProperty, IntProperty

from ..bridge.camera import intrinsics_from_blender, keyframe_camera_from_track, render_size
from ..bridge.tracks_object import build_tracks_object
from ..engine.errors import UserError
from ..engine.geometry.camera import CameraTrack
from ..engine.io.tracks import load_tracks
from ..engine.io.video import probe
from ..engine.tracking.cache import cache_differences, cache_path, tracking_settings, write_settings
from ..engine.tracking.pipeline import DEFAULT_MAX_POINTS
from .engine_job import EngineJobMixin
from .import_footage import source_camera

CACHE_DIR = "//track2view"


def apply_tracks(context, path: Path) -> bpy.types.Object:
    """Keyframe the source camera from the tracks file ``path`` and build the track object.

    The scene's resolution is set to the footage's only for a new shot (other tracks, or none, were in
    use): re-running on the same shot keeps the artist's resolution (of the same aspect).
    """
    scene = context.scene
    start = scene.track2view.footage_frame_start
    tracks = load_tracks(path)
    camera = source_camera(context)
    current = scene.track2view.tracks_path
    new_shot = not current or Path(bpy.path.abspath(current)).resolve() != path.resolve()
    keyframe_camera_from_track(scene, camera, CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size,
                                                          fps=tracks.fps), start, set_resolution=new_shot)
    name = path.name.removesuffix(".tracks.npz")
    obj = build_tracks_object(scene, tracks, f"Tracks {name}", start)
    scene.track2view.tracks_path = bpy.path.relpath(str(path))
    return obj


class TRACK2VIEW_OT_reconstruct_tracks(EngineJobMixin, bpy.types.Operator):
    """Reconstruct 3D point tracks and the source camera from the footage (cached beside the .blend)"""

    bl_idname = "track2view.reconstruct_tracks"
    bl_label = "Reconstruct Tracks"
    bl_options = {"REGISTER", "UNDO"}
    job = "track"

    max_points: IntProperty(name="Max Points", default=DEFAULT_MAX_POINTS, min=100, max=200000,
                            description="Most tracks per 50 frames of the shot (a longer shot gets more as it "
                                        "goes on, up to 4 times as many in all)")
    use_camera_lens: BoolProperty(name="Use Camera Lens", default=False,
                                  description="Take the focal length from the source camera's lens and sensor "
                                              "instead of estimating it")
    recompute: BoolProperty(name="Recompute", default=False,
                            description="Track again even if tracks of this footage are cached")

    _out: Path | None = None
    _settings: dict | None = None

    @classmethod
    def poll(cls, context):
        if not context.scene.track2view.footage_path:
            cls.poll_message_set("Import footage first")
            return False
        return True

    def _inputs(self, context) -> tuple[Path, Path, dict]:
        """(footage, cache path, the tracking settings: the job's and the cache sidecar's)."""
        settings = context.scene.track2view
        footage = Path(bpy.path.abspath(settings.footage_path))
        if not footage.exists():
            raise UserError(f"footage not found: {footage}; import it again")
        frames = context.scene.frame_end - settings.footage_frame_start + 1
        if frames < 2:
            raise UserError("the scene ends less than 2 frames after the footage starts "
                            f"(frame {settings.footage_frame_start}); tracking needs at least 2 frames")
        if not bpy.data.filepath:
            raise UserError("save the .blend first: reconstructed tracks are cached beside it")
        return footage, cache_path(footage, Path(bpy.path.abspath(CACHE_DIR))), tracking_settings(
            footage, [0, frames], self.max_points, self._focal_px(context, footage))

    def _focal_px(self, context, footage: Path) -> float | None:
        """The source camera's focal in pixels of the footage (whatever the scene's resolution), or
        None to estimate it."""
        if not self.use_camera_lens:
            return None
        scene = context.scene
        K = intrinsics_from_blender(scene, source_camera(context).data)
        return float(K[0, 0]) * probe(footage).size[0] / render_size(scene)[0]

    def execute(self, context):
        try:
            footage, out, settings = self._inputs(context)
        except UserError as exc:
            return self._fail(context, str(exc))
        changed = cache_differences(out, settings)
        if not self.recompute and not changed:
            try:
                apply_tracks(context, out)
            except UserError as exc:
                return self._fail(context, f"{exc} (or turn on Recompute to track again)")
            self.report({"INFO"}, f"Reconstruct Tracks: reused {out.name} (turn on Recompute to track again)")
            return {"FINISHED"}
        if not self.recompute and changed != ["no cache"]:
            self.report({"INFO"}, f"Reconstruct Tracks: not reusing {out.name}: {', '.join(changed)} "
                                  f"changed since it was made; tracking again")
        return super().execute(context)

    def build_params(self, context) -> dict:
        footage, out, settings = self._inputs(context)
        self._out, self._settings = out, settings
        params = {"input": str(footage), "out": str(out), "frames": settings["frames"],
                  "max_points": self.max_points, "overwrite": True}
        if settings["focal_px"] is not None:
            params["focal_px"] = settings["focal_px"]
        return params

    def on_result(self, context, result: dict) -> None:
        report = result["report"]
        write_settings(self._out, self._settings)
        obj = apply_tracks(context, Path(result["tracks"]))
        note = f" — {report['note']}" if "note" in report else ""
        self.report({"INFO"}, f"Reconstruct Tracks: {report['points']} tracks ({report['dynamic']} moving), "
                              f"{report['camera_mode']} camera, focal {report['focal_px']:.0f} px "
                              f"({report['focal_source']}) → '{obj.name}'{note}")
        for warning in report.get("warnings", []):
            self.report({"WARNING"}, f"Reconstruct Tracks: {warning}")


CLASSES = [TRACK2VIEW_OT_reconstruct_tracks]
