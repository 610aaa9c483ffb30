"""Render/Preview New View end to end in bpy 5.0.1 on a tiny shot: strips, re-render, fidelity, bad input."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

# A 96x64, 4-frame analytic shot; CamA is keyframed to the source camera (identity target),
# CamStatic has no animation. A user strip sits on channel 1; the .blend is saved in tmp.
_SETUP = """
import os, numpy as np, bpy, track2view
from pathlib import Path
from tests.tiny_shot import make_tracks, psnr, render, source_camera
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import read_frames, write_frames
from track2view.bridge.camera import keyframe_camera_from_track
from track2view.bridge.compat import add_color_strip, sequencer_strips
from track2view.bridge.vse import our_strips

root = Path(ROOT)
cam = source_camera((96, 64), 4)
frames, _ = render(cam)
write_frames(frames, root / "footage")
save_tracks(make_tracks(cam, 3000), root / "tracks.npz")

bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
scene = bpy.context.scene
scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 96, 64, 100
scene.frame_start, scene.frame_end = 1, 4
for name in ("CamA", "CamStatic"):
    obj = bpy.data.objects.new(name, bpy.data.cameras.new(name))
    scene.collection.objects.link(obj)
keyframe_camera_from_track(scene, bpy.data.objects["CamA"], cam, 1)
bpy.data.objects["CamStatic"].location = (0.0, 0.0, -5.0)
bpy.data.objects["CamStatic"].rotation_euler = (3.14159265, 0.0, 0.0)
settings = scene.track2view
settings.footage_path = str(root / "footage")
settings.tracks_path = str(root / "tracks.npz")
user = add_color_strip(scene, "user color", channel=1, frame_start=1, length=4)
blend = root / "shot.blend"
bpy.ops.wm.save_as_mainfile(filepath=str(blend))
saved = blend.stat().st_mtime_ns
scene = bpy.context.scene
settings = scene.track2view

def ours():
    return sorted((s.name, s.channel, s.frame_final_start, s.frame_final_duration, s.mute) for s in our_strips(scene))
"""


def test_preview_strips_rerender_and_identity_fidelity(tmp_path):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SETUP + """
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
assert ours() == [("T2V CamA", 2, 1, 4, False), ("T2V CamA holes", 3, 1, 4, True)], ours()
first = root / "track2view_renders" / "shot" / "CamA" / "preview_001"
rendered = read_frames(first / "frames").frames
holes = read_frames(first / "holes").frames[..., 0] > 127
print("identity PSNR", round(psnr(rendered, frames, ~holes), 2), "holes", round(float(holes.mean()), 4))
assert psnr(rendered, frames, ~holes) >= 30.0 and holes.mean() < 0.1
strip = [s for s in our_strips(scene) if s.name == "T2V CamA"][0]
assert bpy.path.abspath(strip.directory).rstrip("/") == str(first / "frames")
assert [e.filename for e in strip.elements] == ["0001.png", "0002.png", "0003.png", "0004.png"]

# Re-render: a new folder (the first kept), our strips replaced, the user's strip kept.
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
assert first.is_dir() and (first.parent / "preview_002" / "frames").is_dir()
assert ours() == [("T2V CamA", 2, 1, 4, False), ("T2V CamA holes", 3, 1, 4, True)], ours()
assert [s.name for s in sequencer_strips(scene) if s.name == "user color"] == ["user color"]

# Another camera (static, no animation) gets its own strips beside CamA's.
settings.target_camera = bpy.data.objects["CamStatic"]
assert bpy.ops.track2view.preview_view() == {"FINISHED"}
assert [s[0] for s in ours()] == ["T2V CamA", "T2V CamA holes", "T2V CamStatic", "T2V CamStatic holes"]
assert blend.stat().st_mtime_ns == saved, "the .blend was saved over"
print("ok")
""")
    assert out.strip().endswith("ok")
    print(out)


def test_bad_input_is_reported_and_changes_nothing(tmp_path):
    run_python(f"ROOT = {str(tmp_path)!r}\n" + _SETUP + """
def error_of(**kw):
    op = kw.pop("op", bpy.ops.track2view.preview_view)
    try:
        op(**kw)
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError(f"no error for {kw}")

os.environ["TRACK2VIEW_DEFAULT_MODEL"] = ""  # as if no default model were installed (the worker inherits it)
assert "no trained Track2View model" in error_of(op=bpy.ops.track2view.render_view, camera="CamA")
assert "no camera named 'Nope'" in error_of(camera="Nope")
assert "no target camera chosen" in error_of()
scene.frame_end = 9
assert "longer than the footage" in error_of(camera="CamA")
scene.frame_end = 4
assert "cannot write into the output folder" in error_of(camera="CamA", output_dir="/proc/track2view")
settings.tracks_path = str(root / "missing.npz")
assert "tracks not found" in error_of(camera="CamA")
settings.footage_path = ""
assert "no footage yet" in error_of(camera="CamA")
assert ours() == [] and not (root / "track2view_renders").exists()
assert settings.status.startswith("Failed: no footage yet")
print("ok")
""")


def test_blender_cli_command_renders_and_returns_exit_codes(tmp_path):
    run_python(f"ROOT = {str(tmp_path)!r}\n" + _SETUP + """
from track2view.bridge import blender_cli
assert blender_cli.main(["render", str(blend), "--camera", "CamA", "--preview",
                         "--save-as", str(root / "out.blend")]) == 0
assert blend.stat().st_mtime_ns == saved
bpy.ops.wm.open_mainfile(filepath=str(root / "out.blend"))
assert [s.name for s in our_strips(bpy.context.scene)] == ["T2V CamA", "T2V CamA holes"]
# The full render with a model folder (a tiny random model here).
from tests.test_dit_pipeline import make_pipeline
make_pipeline().save_pretrained(root / "model")
os.environ["TRACK2VIEW_CACHE"] = str(root / "cache")
assert blender_cli.main(["render", str(blend), "--camera", "CamA", "--model", str(root / "model"),
                         "--output", str(root / "renders")]) == 0
assert len(os.listdir(root / "renders" / "CamA" / "render_001" / "frames")) == 4
assert blender_cli.main(["render", str(blend), "--camera", "Nope", "--preview"]) == 1
os.environ["TRACK2VIEW_DEFAULT_MODEL"] = ""  # as if no default model were installed: the full render fails
assert blender_cli.main(["render", str(blend), "--camera", "CamA"]) == 1
assert blender_cli.main(["render", str(root / "missing.blend")]) == 1
# --save-as never replaces a .blend silently (the input included); save errors are one line, exit 1.
out_saved = (root / "out.blend").stat().st_mtime_ns
for target in (root / "out.blend", blend):
    assert blender_cli.main(["render", str(blend), "--camera", "CamA", "--preview",
                             "--save-as", str(target)]) == 1
assert (root / "out.blend").stat().st_mtime_ns == out_saved and blend.stat().st_mtime_ns == saved
assert blender_cli.main(["render", str(blend), "--camera", "CamA", "--preview",
                         "--save-as", str(root / "out.blend"), "--overwrite"]) == 0
assert (root / "out.blend").stat().st_mtime_ns != out_saved
assert blender_cli.main(["render", str(blend), "--camera", "CamA", "--preview",
                         "--save-as", "/proc/track2view/out.blend"]) == 1
print("ok")
""")


def test_vse_problems_are_user_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    out = run_python(f"""
import bpy
from pathlib import Path
from track2view.bridge.compat import add_color_strip, sequencer_strips
from track2view.bridge.vse import MAX_CHANNEL, first_free_channel, image_sequence_strip
from track2view.engine.errors import UserError
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.sequence_editor_create()
try:
    image_sequence_strip(scene, "x", Path({str(tmp_path / "empty")!r}), 1, 1)
    raise AssertionError("no error for an empty folder")
except UserError as exc:
    assert "holds no frames" in str(exc) and "render the view again" in str(exc), exc
for channel in range(1, MAX_CHANNEL + 1):
    add_color_strip(scene, f"c{{channel}}", channel=channel, frame_start=1, length=10)
try:
    first_free_channel(scene, 1, 5)
    raise AssertionError("no error with every channel busy")
except UserError as exc:
    assert "every Video Sequencer channel" in str(exc) and "frames 1-4" in str(exc), exc
assert first_free_channel(scene, 20, 30) == 1
print("ok")
""")
    assert out.strip().endswith("ok")


def test_later_frame_start_renders_the_footage_frames_under_it(tmp_path):
    run_python(f"ROOT = {str(tmp_path)!r}\n" + _SETUP + """
picked = sorted((root / "footage").iterdir())[0]
assert bpy.ops.track2view.import_footage(filepath=str(picked)) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1, 4, 1)
scene.frame_start = 3  # render part of the shot: scene frames 3-4 are footage frames 2-3
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
assert ours() == [("T2V CamA", 2, 3, 2, False), ("T2V CamA holes", 3, 3, 2, True)], ours()
out = root / "track2view_renders" / "shot" / "CamA" / "preview_001"
rendered = read_frames(out / "frames").frames
holes = read_frames(out / "holes").frames[..., 0] > 127
assert len(rendered) == 2 and psnr(rendered, frames[2:4], ~holes) >= 30.0, psnr(rendered, frames[2:4], ~holes)
assert psnr(rendered[:1], frames[:1], ~holes[:1]) < psnr(rendered[:1], frames[2:3], ~holes[:1])
scene.frame_start = 0
try:
    bpy.ops.track2view.preview_view(camera="CamA")
    raise AssertionError("no error for a Frame Start before the footage")
except RuntimeError as exc:
    assert "before the footage" in str(exc), exc
print("ok")
""")
