"""Import Footage + Reconstruct Tracks in bpy 5.0.1: scene set-up, source camera, animated track object, cache."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

_SCRIPT = """
import hashlib, json, time, numpy as np, bpy, track2view
from pathlib import Path
from tests.tracking_scene import render_clip
from track2view.engine.io.video import write_frames
from track2view.engine.io.tracks import load_tracks
from track2view.bridge.camera import camera_track_from_blender

root = Path(ROOT)
frames, *_ = render_clip(T=8, size=(160, 120))
write_frames(frames, root / "shot")

bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
scene = bpy.context.scene
try:
    bpy.ops.track2view.import_footage(filepath=str(root / "missing.mp4"))
    raise SystemExit("missing footage was accepted")
except RuntimeError as exc:
    assert "missing.mp4" in str(exc), exc
bpy.ops.wm.save_as_mainfile(filepath=str(root / "shot.blend"))
bpy.ops.track2view.import_footage(filepath=str(root / "shot" / "0003.png"))
settings = scene.track2view
assert Path(settings.footage_path) == root / "shot"
assert (scene.frame_start, scene.frame_end) == (1, 8)
assert (scene.render.resolution_x, scene.render.resolution_y, scene.render.fps) == (160, 120, 24)
cam = settings.source_camera
assert cam is not None and scene.camera == cam
assert cam.data.show_background_images and cam.data.background_images[0].clip is not None

bpy.ops.track2view.reconstruct_tracks(max_points=1500)
cache = root / "track2view" / f"shot-{hashlib.sha1(str((root / 'shot').resolve()).encode()).hexdigest()[:8]}.tracks.npz"
assert cache.is_file() and bpy.path.abspath(settings.tracks_path) == str(cache), settings.tracks_path
tracks = load_tracks(cache)

# The source camera gives back the tracks' K and w2c.
cam_track = camera_track_from_blender(scene, cam)
np.testing.assert_allclose(cam_track.K, tracks.K, rtol=1e-4, atol=1e-3)
np.testing.assert_allclose(cam_track.w2c, tracks.w2c, atol=1e-4)

# The track object plays the tracks back (Geometry Nodes, no frame handlers).
track_name = "Tracks " + cache.name.removesuffix(".tracks.npz")
obj = bpy.data.objects[track_name]
assert not bpy.app.handlers.frame_change_pre and not bpy.app.handlers.frame_change_post
for frame in (1, 6):
    scene.frame_set(frame)
    # The points are the modifier's point-cloud output: an instance of the object (4.2 to 5.0 alike).
    cloud = next(i.object.data for i in bpy.context.evaluated_depsgraph_get().object_instances
                 if i.object.type == "POINTCLOUD" and i.object.name == track_name)
    pos = np.zeros(len(cloud.points) * 3, np.float32)
    cloud.attributes["position"].data.foreach_get("vector", pos)
    np.testing.assert_allclose(pos.reshape(-1, 3), tracks.xyz[frame - 1], atol=1e-5)
    rgb = np.zeros(len(cloud.points) * 4, np.float32)
    cloud.attributes["rgb"].data.foreach_get("color", rgb)
    np.testing.assert_allclose(rgb.reshape(-1, 4)[:, :3], (tracks.rgb / 255.0) ** 2.2, atol=1e-4)

# Reopening the .blend needs no recompute; running again reuses the cache.
bpy.ops.wm.save_mainfile()
stamp = cache.stat().st_mtime_ns
bpy.ops.wm.open_mainfile(filepath=str(root / "shot.blend"))
assert track_name in bpy.data.objects and bpy.context.scene.track2view.source_camera is not None
start = time.perf_counter()
bpy.ops.track2view.reconstruct_tracks(max_points=1500)
assert cache.stat().st_mtime_ns == stamp and time.perf_counter() - start < 5
sidecar = json.loads((cache.parent / (cache.name + ".settings.json")).read_text())
assert sidecar["max_points"] == 1500 and sidecar["focal_px"] is None and sidecar["frames"] == [0, 8], sidecar

# A corrupt cache is an error report, not a traceback.
good = cache.read_bytes()
cache.write_bytes(b"not an npz")
try:
    bpy.ops.track2view.reconstruct_tracks(max_points=1500)
    raise SystemExit("a corrupt cache was accepted")
except RuntimeError as exc:
    assert "not a readable tracks file" in str(exc) and "Recompute" in str(exc), exc
cache.write_bytes(good)

# Other settings (here the camera lens, as focal in pixels from bridge/camera.py) → tracked again.
bpy.context.scene.track2view.source_camera.data.lens = 30.0
bpy.context.scene.render.resolution_x *= 2  # the focal handed over stays in footage pixels
bpy.context.scene.render.resolution_y *= 2
bpy.ops.track2view.reconstruct_tracks(max_points=1500, use_camera_lens=True)
assert cache.stat().st_mtime_ns != stamp
sidecar = json.loads((cache.parent / (cache.name + ".settings.json")).read_text())
expected = 30.0 / bpy.context.scene.track2view.source_camera.data.sensor_width * 160
assert abs(sidecar["focal_px"] - expected) < 1e-3, sidecar
# The same shot again: the artist's resolution (of the footage's aspect) is kept, the lens fits it.
scene = bpy.context.scene
assert (scene.render.resolution_x, scene.render.resolution_y) == (320, 240)
again = load_tracks(cache)
K = camera_track_from_blender(scene, scene.track2view.source_camera).K
np.testing.assert_allclose(K[:, [0, 1], [0, 1]], again.K[:, [0, 1], [0, 1]] * 2, rtol=1e-4)
np.testing.assert_allclose(K[:, :2, 2], (again.K[:, :2, 2] + 0.5) * 2 - 0.5, atol=2e-3)  # pixel centres
print("OK")
"""


def test_import_footage_and_reconstruct_tracks(tmp_path, blender_user):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SCRIPT, env=blender_user)
    assert out.strip().endswith("OK")
    assert "not reusing" in out and "focal_px changed" in out, out
