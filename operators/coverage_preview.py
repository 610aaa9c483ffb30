"""Coverage Preview: how much of the target camera's view the footage explains, frame by frame.

Runs the engine's coverage (the preview warp's geometry at 320 px on the dense depth cached beside
the tracks: about 30 ms a frame, 2.8 s for 87 frames of 368×480 on 2 cores) in the worker process,
like the renders (Esc cancels). Stores the result on the scene (``scene["track2view_coverage"]``,
read by the panel) and feeds the viewport overlay (bridge/coverage_overlay.py).
"""

from __future__ import annotations

import os
import tempfile

import bpy

from ..bridge import coverage_overlay
from ..bridge.camera import camera_track_from_blender
from ..engine.errors import UserError
from ..engine.geometry.camera import save_camera_json
from ..engine.io.tracks import load_tracks
from .engine_job import EngineJobMixin

COVERAGE_KEY = "track2view_coverage"
"""Scene ID property: the last coverage report (engine CoverageReport.to_json + camera, summary)."""


_loaded: dict[str, tuple[tuple[int, int], object]] = {}  # path → ((mtime_ns, size), Tracks)


def _load_tracks_cached(path: str):
    """load_tracks, reusing the last result while the file is unchanged (re-runs are then instant)."""
    try:
        stat = os.stat(path)
    except OSError:
        return load_tracks(path)  # raises the UserError naming the file
    stamp = (stat.st_mtime_ns, stat.st_size)
    if path not in _loaded or _loaded[path][0] != stamp:
        _loaded.clear()
        _loaded[path] = (stamp, load_tracks(path))
    return _loaded[path][1]


class TRACK2VIEW_OT_coverage_preview(EngineJobMixin, bpy.types.Operator):
    """Measure, per frame, how much of the target camera's view the preview warp fills from the footage;
flag poor frames and show the tracks over the camera view (green: seen by the source, red: not)"""

    bl_idname = "track2view.coverage_preview"
    bl_label = "Coverage Preview"
    bl_options = {"REGISTER"}
    job = "coverage"

    _camera_file: str | None = None
    _camera_name = ""
    _tracks_path = ""

    def build_params(self, context) -> dict:
        """Tracks frame i is scene frame ``footage_frame_start + i``; the report covers the scene's frame
        range where the tracks have frames."""
        scene = context.scene
        settings = scene.track2view
        camera = settings.target_camera
        if camera is None:
            raise UserError("no target camera: pick one in New View → Target Camera, or use Add Target Camera")
        if not settings.tracks_path:
            raise UserError("no tracks yet: reconstruct the shot first (Shot → Tracks is empty)")
        self._tracks_path = bpy.path.abspath(settings.tracks_path)
        tracks = _load_tracks_cached(self._tracks_path)
        first, stop = settings.footage_range(scene)
        if first >= tracks.num_frames:
            raise UserError(f"the tracks end at scene frame {settings.footage_frame_start + tracks.num_frames - 1}, "
                            f"before Frame Start {scene.frame_start}: choose a frame range inside the shot")
        frames = min(tracks.num_frames, stop) - first
        target = camera_track_from_blender(scene, camera, range(scene.frame_start, scene.frame_start + frames))
        fd, self._camera_file = tempfile.mkstemp(prefix="track2view_camera_", suffix=".json")
        os.close(fd)
        save_camera_json(target, self._camera_file)
        self._camera_name = camera.name
        # The footage guides a depth spread when the tracks have no cache; a moved shot just goes without.
        footage = bpy.path.abspath(settings.footage_path) if settings.footage_path else None
        footage = footage if footage and os.path.exists(footage) else None
        return {"tracks": self._tracks_path, "camera": self._camera_file, "first": first,
                "footage": footage, "frame_start": scene.frame_start}

    def on_result(self, context, doc: dict) -> None:
        scene = context.scene
        doc["camera"] = self._camera_name
        scene[COVERAGE_KEY] = doc
        coverage_overlay.set_overlay_tracks(scene, _load_tracks_cached(self._tracks_path))
        self.report({"WARNING" if doc["poor_ranges"] else "INFO"},
                    f"Coverage of '{self._camera_name}': {doc['summary']}")
        for warning in doc["warnings"]:
            self.report({"WARNING"}, f"Coverage of '{self._camera_name}': {warning}")
        for area in context.screen.areas if context.screen else ():
            if area.type == "VIEW_3D":
                area.tag_redraw()

    def cleanup(self, context) -> None:
        if self._camera_file and os.path.exists(self._camera_file):
            os.remove(self._camera_file)
        self._camera_file = None


def register() -> None:
    coverage_overlay.register()


def unregister() -> None:
    coverage_overlay.unregister()
    _loaded.clear()


CLASSES = [TRACK2VIEW_OT_coverage_preview]
