"""Reconstruct Tracks: the engine's tracker (worker job) → source camera + animated track point cloud.

Footage frames 0 .. (scene.frame_end − footage_frame_start) are tracked (footage frame 0 plays at
``scene.track2view.footage_frame_start``, set by Import Footage), so track frame i is footage frame i. The result is cached beside the .blend as
``//track2view/<footage name>-<path hash>.tracks.npz`` (+ ``.report.json``, and ``.settings.json``:
the footage, frame count, max points, focal and the footage's size/mtime it was made with).
Running again with the same settings reuses it instead of recomputing, unless Recompute is on. On
result the source camera (panel's, else scene camera, else a new one) is keyframed with the
recovered poses and lens (``bridge/camera.py``) and the object "Tracks <cache name>" shows the
tracks (``bridge/tracks_object.py``); ``scene.track2view.tracks_path`` (relative to the .blend, so the
project folder can be moved or mounted elsewhere on a farm) and ``source_camera`` are set.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import bpy
from bpy.props import BoolProperty, IntProperty

from ..bridge.camera import intrinsics_from_blender, keyframe_camera_from_track, render_size
from ..bridge.tracks_object import build_tracks_object
from ..engine.errors import UserError
from ..engine.geometry.camera import CameraTrack
from ..engine.io.atomic import atomic_file
from ..engine.io.tracks import load_tracks
from ..engine.io.video import probe
from ..engine.tracking.pipeline import DEFAULT_MAX_POINTS
from .engine_job import EngineJobMixin
from .import_footage import source_camera

CACHE_DIR = "//track2view"
PATH_HASH_CHARS = 8
"""Hex digits of the footage path's SHA-1 in the cache name (shots with equally named folders differ)."""


def cache_path(footage: Path) -> Path:
    """Where the tracks of ``footage`` are cached: ``//track2view/<name>-<hash>.tracks.npz`` beside the .blend."""
    if not bpy.data.filepath:
        raise UserError("save the .blend first: reconstructed tracks are cached beside it")
    name = bpy.path.clean_name(footage.stem if footage.is_file() else footage.name)
    digest = hashlib.sha1(str(footage.resolve()).encode("utf-8")).hexdigest()[:PATH_HASH_CHARS]
    return Path(bpy.path.abspath(CACHE_DIR)) / f"{name}-{digest}.tracks.npz"


def settings_path(cache: Path) -> Path:
    """The sidecar recording the settings the tracks in ``cache`` were made with."""
    return cache.with_name(cache.name + ".settings.json")


def footage_stamp(footage: Path) -> list[int]:
    """[total bytes, newest mtime in ns] of a movie file or of the files of an image-sequence folder."""
    stats = [footage.stat()] if footage.is_file() else [p.stat() for p in footage.iterdir() if p.is_file()]
    return [sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)]


def cache_differences(cache: Path, settings: dict) -> list[str]:
    """Names of the settings that differ from the ones ``cache`` was made with ([] = reusable).

    A missing cache or sidecar gives ``["no cache"]``.
    """
    sidecar = settings_path(cache)
    if not (cache.is_file() and sidecar.is_file()):
        return ["no cache"]
    try:
        old = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return ["no cache"]
    return [key for key, value in settings.items() if old.get(key) != value]


def write_settings(cache: Path, settings: dict) -> None:
    """Record ``settings`` beside ``cache`` (atomically)."""
    with atomic_file(settings_path(cache)) as tmp:
        tmp.write_text(json.dumps(settings, indent=1))


def apply_tracks(context, path: Path) -> bpy.types.Object:
    """Keyframe the source camera from the tracks file ``path`` and build the track object."""
    scene = context.scene
    start = scene.track2view.footage_frame_start
    tracks = load_tracks(path)
    camera = source_camera(context)
    keyframe_camera_from_track(scene, camera, CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size,
                                                          fps=tracks.fps), start, set_resolution=True)
    name = path.name.removesuffix(".tracks.npz")
    obj = build_tracks_object(scene, tracks, f"Tracks {name}", start)
    scene.track2view.tracks_path = bpy.path.relpath(str(path))
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
        return footage, cache_path(footage), {"input": str(footage), "frames": [0, frames],
                                              "max_points": self.max_points, "focal_px": self._focal_px(context, footage),
                                              "footage_stamp": footage_stamp(footage)}

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
