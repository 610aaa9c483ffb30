"""The Blender half of ``t2v demo``: a scene for the shot, a keyframed new camera, its view in the sequencer.

The ``demo-scene`` job, run by ``t2v demo`` (``engine/cli/demo.py``) in a worker subprocess with the
bpy module. Its settings (:class:`DemoSceneParams`): ``footage`` (image-sequence folder), ``lens_mm`` / ``sensor_mm`` (the
shot's lens, as an artist knows it), ``blend`` (the .blend to write), ``orbit_deg`` (orbit of the new camera around the track centre over the shot),
``dolly_fraction`` (dolly in, as a fraction of the source camera's distance to the track centre),
``preview`` (bool: warp preview instead of the model), ``model`` (model folder, when not ``preview``).

Like an artist would: the .blend is saved first (tracks and renders are kept beside it), then
"Import Footage" and "Reconstruct Tracks" (with the lens) make the shot and its source camera, the
footage also goes on sequencer channel 1, "Add Target Camera" rigs a new camera on the source
camera, the Orbit Right and Dolly In presets keyframe the move, Preview/Render New View adds the
new view's strips, and the .blend is saved again. The job's result: ``blend``, ``render`` (render
folder), ``camera``, ``tracks``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import bpy
import numpy as np

from .. import register, unregister
from ..engine.camera_moves import track_pivot
from ..engine.geometry.camera import CameraTrack
from ..engine.io.tracks import load_tracks
from ..engine.jobs import Progress, job
from .vse import ROLE_KEY, image_sequence_strip, our_strips


@dataclasses.dataclass(frozen=True)
class DemoSceneParams:
    """The ``demo-scene`` job (see the module docstring); ``model`` is used unless ``preview``."""

    footage: str
    blend: str
    lens_mm: float
    sensor_mm: float
    orbit_deg: float
    dolly_fraction: float
    preview: bool = False
    model: str | None = None


@job("demo-scene", DemoSceneParams)
def demo_scene_job(params: DemoSceneParams, progress: Progress) -> dict:
    """Build, render and save the demo scene (see the module docstring) in this Blender."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    try:
        return build_demo(params, progress)
    finally:
        unregister()


def build_demo(spec: DemoSceneParams, progress: Progress) -> dict:
    """Build, render and save the demo scene described by ``spec``, the add-on registered."""
    bpy.ops.wm.save_as_mainfile(filepath=spec.blend)     # tracks and renders are kept beside it
    footage = Path(spec.footage)
    progress(0.0, "Import Footage, Reconstruct Tracks")
    _check(bpy.ops.track2view.import_footage(filepath=str(min(footage.glob("*.png")))))
    scene = bpy.context.scene
    settings = scene.track2view
    lens = settings.source_camera.data
    lens.sensor_fit, lens.sensor_width, lens.lens = "AUTO", spec.sensor_mm, spec.lens_mm
    _check(bpy.ops.track2view.reconstruct_tracks(use_camera_lens=True))
    image_sequence_strip(scene, "Footage", footage, 1, scene.frame_start)

    progress(0.4, "Add Target Camera, Orbit Right, Dolly In")
    _check(bpy.ops.track2view.add_target_camera())
    target = settings.target_camera
    _check(bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=spec.orbit_deg))
    tracks = load_tracks(bpy.path.abspath(settings.tracks_path))
    distance = float(np.linalg.norm(CameraTrack(tracks.K, tracks.w2c, tracks.size).centers[0]
                                    - track_pivot(tracks)))
    _check(bpy.ops.track2view.camera_move(move="DOLLY_IN", amount=spec.dolly_fraction * distance))
    progress(0.5, "Preview New View" if spec.preview else "Render New View")
    if spec.preview:
        _check(bpy.ops.track2view.preview_view(camera=target.name))
    else:
        _check(bpy.ops.track2view.render_view(camera=target.name, model_dir=spec.model))
    bpy.ops.wm.save_mainfile()
    frames_strip = next(s for s in our_strips(scene, target.name) if s[ROLE_KEY] == "frames")
    render = Path(bpy.path.abspath(frames_strip.directory)).parent
    progress(1.0, "saved")
    return {"blend": spec.blend, "render": str(render), "camera": target.name,
            "tracks": bpy.path.abspath(settings.tracks_path)}


def _check(result: set) -> None:
    if result != {"FINISHED"}:
        raise RuntimeError(f"operator returned {result}")
