"""The Blender half of ``t2v demo``: a scene for the shot, a keyframed new camera, its view in the sequencer.

Run by the engine (``engine/cli/demo.py``) as ``python -m <package>.bridge.demo_scene SPEC.json`` with
the bpy module. SPEC (JSON): ``footage`` (image-sequence folder), ``lens_mm`` / ``sensor_mm`` (the
shot's lens, as an artist knows it), ``blend`` (the .blend to write), ``orbit_deg`` (orbit of the new camera around the track centre over the shot),
``dolly_fraction`` (dolly in, as a fraction of the source camera's distance to the track centre),
``preview`` (bool: warp preview instead of the model), ``model`` (model folder, when not ``preview``).

Like an artist would: the .blend is saved first (tracks and renders are kept beside it), then
"Import Footage" and "Reconstruct Tracks" (with the lens) make the shot and its source camera, the
footage also goes on sequencer channel 1, "Add Target Camera" rigs a new camera on the source
camera, the Orbit Right and Dolly In presets keyframe the move, Preview/Render New View adds the
new view's strips, and the .blend is saved again. The last stdout line is ``RESULT_PREFIX`` + JSON:
``blend``, ``render`` (render folder), ``camera``, ``tracks``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import bpy
import numpy as np

from .. import register, unregister
from ..engine.camera_moves import track_pivot
from ..engine.geometry.camera import CameraTrack
from ..engine.io.tracks import load_tracks
from .vse import ROLE_KEY, image_sequence_strip, our_strips

RESULT_PREFIX = "T2V_DEMO_RESULT "


def build_demo(spec: dict) -> dict:
    """Build, render and save the demo scene described by ``spec`` (see the module docstring)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    bpy.ops.wm.save_as_mainfile(filepath=spec["blend"])     # tracks and renders are kept beside it
    footage = Path(spec["footage"])
    _check(bpy.ops.track2view.import_footage(filepath=str(min(footage.glob("*.png")))))
    scene = bpy.context.scene
    settings = scene.track2view
    lens = settings.source_camera.data
    lens.sensor_fit, lens.sensor_width, lens.lens = "AUTO", spec["sensor_mm"], spec["lens_mm"]
    _check(bpy.ops.track2view.reconstruct_tracks(use_camera_lens=True))
    image_sequence_strip(scene, "Footage", footage, 1, scene.frame_start)

    _check(bpy.ops.track2view.add_target_camera())
    target = settings.target_camera
    _check(bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=spec["orbit_deg"]))
    tracks = load_tracks(bpy.path.abspath(settings.tracks_path))
    distance = float(np.linalg.norm(CameraTrack(tracks.K, tracks.w2c, tracks.size).centers[0]
                                    - track_pivot(tracks)))
    _check(bpy.ops.track2view.camera_move(move="DOLLY_IN", amount=spec["dolly_fraction"] * distance))
    if spec["preview"]:
        _check(bpy.ops.track2view.preview_view(camera=target.name))
    else:
        _check(bpy.ops.track2view.render_view(camera=target.name, model_dir=spec["model"]))
    bpy.ops.wm.save_mainfile()
    frames_strip = next(s for s in our_strips(scene, target.name) if s[ROLE_KEY] == "frames")
    render = Path(bpy.path.abspath(frames_strip.directory)).parent
    return {"blend": spec["blend"], "render": str(render), "camera": target.name,
            "tracks": bpy.path.abspath(settings.tracks_path)}


def _check(result: set) -> None:
    if result != {"FINISHED"}:
        raise RuntimeError(f"operator returned {result}")


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    result = build_demo(spec)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    unregister()
    # bpy 4.2/4.5 as a module crash in interpreter finalisation once the add-on's PropertyGroup was
    # registered (even after unregistering it): everything is written and flushed, so leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
