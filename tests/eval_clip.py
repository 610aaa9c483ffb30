"""A synthetic clip folder (engine/synth layout) made without Blender, from the analytic two-plane shot.

Camera 0 trucks right (:func:`tiny_shot.source_camera`), camera 1 orbits the backdrop; frames,
depth and tracks are exact, so evaluation tests know the right answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from track2view.engine.geometry.camera import save_camera_json
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import write_frames

from .tiny_shot import make_tracks, orbit_camera, render, source_camera

NO_HIT = 1e10


def write_clip(folder: Path, size=(128, 96), frames: int = 10, orbit_degrees: float = 12.0,
               points: int = 800) -> Path:
    """Write a two-camera static clip into ``folder`` (created) and return it."""
    source = source_camera(size, frames)
    cameras = [source, orbit_camera(source, orbit_degrees)]
    for k, camera in enumerate(cameras):
        d = folder / f"cam{k}"
        d.mkdir(parents=True)
        rgb, depth = render(camera)
        write_frames(rgb, d / "rgb", "{:04d}.png", start=0)
        np.save(d / "depth.npy", np.where(depth > 0, depth, NO_HIT).astype(np.float32))
        save_camera_json(camera, d / "CAM.json")
        save_tracks(make_tracks(camera, points, seed=0), d / "tracks.npz")
    meta = {"format": 1, "seed": 0, "kind": "static", "preset": "test", "cameras": 2, "frames": frames,
            "size": list(size), "fps": 24.0}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder
