"""Studio conventions in bpy: shot frame numbers (1001…) and a render tree per .blend."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

# A 96x64, 4-frame analytic shot written as the plate shot.1001.png … shot.1004.png, and as a movie.
_SHOT = """
import bpy, track2view
from pathlib import Path
from tests.tiny_shot import make_tracks, psnr, render, source_camera
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import read_frames, write_frames, write_mp4
from track2view.bridge.camera import keyframe_camera_from_track
from track2view.bridge.vse import our_strips

root = Path(ROOT)
cam = source_camera((96, 64), 4)
frames, _ = render(cam)
write_frames(frames, root / "plate", "shot.{:04d}.png", start=1001)
write_mp4(frames, root / "plate.mp4", 24.0)
save_tracks(make_tracks(cam, 2000), root / "tracks.npz")
bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
scene = bpy.context.scene
settings = scene.track2view
"""


def test_a_numbered_plate_keeps_its_frames_and_each_blend_renders_into_its_own_tree(tmp_path):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SHOT + """
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate" / "shot.1001.png")) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1001, 1004, 1001)
settings.tracks_path = str(root / "tracks.npz")
camera = bpy.data.objects.new("CamA", bpy.data.cameras.new("CamA"))
scene.collection.objects.link(camera)
keyframe_camera_from_track(scene, camera, cam, 1001)
renders = root / "track2view_renders"
for blend in ("shot_a", "shot_b"):
    bpy.ops.wm.save_as_mainfile(filepath=str(root / f"{blend}.blend"))
    assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
    strips = sorted((s.name, s.frame_final_start, s.frame_final_duration) for s in our_strips(scene))
    assert strips[-2:] == [("T2V CamA", 1001, 4), ("T2V CamA holes", 1001, 4)], strips
    made = read_frames(renders / blend / "CamA" / "preview_001" / "frames").frames
    holes = read_frames(renders / blend / "CamA" / "preview_001" / "holes").frames[..., 0] > 127
    assert psnr(made, frames, ~holes) >= 30.0  # frame 1001 of the render is frame 1001 of the plate
assert sorted(p.name for p in renders.iterdir()) == ["shot_a", "shot_b"]
assert [p.name for p in (renders / "shot_a" / "CamA").iterdir()] == ["preview_001"]
print("ok")
""")
    assert out.strip().endswith("ok")


def test_a_movie_starts_at_the_preferred_start_frame(tmp_path):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SHOT + """
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate.mp4")) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1001, 1004, 1001)
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate.mp4"), start_frame=1) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1, 4, 1)
print("ok")
""")
    assert out.strip().endswith("ok")
