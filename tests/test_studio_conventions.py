"""Studio conventions: shot frame numbers (1001…), OpenEXR plates in and out, a render tree per .blend."""

import json

import cv2
import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.geometry.camera import save_camera_json
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import linear_to_srgb8, srgb8_to_linear, write_image

from .conftest import run_python
from .tiny_shot import make_tracks, render, source_camera

EXR_FRAMES = 24

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


@pytest.mark.bpy
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


@pytest.mark.bpy
def test_a_movie_starts_at_the_preferred_start_frame(tmp_path):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SHOT + """
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate.mp4")) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1001, 1004, 1001)
settings.tracks_path = str(root / "tracks.npz")
camera = bpy.data.objects.new("CamA", bpy.data.cameras.new("CamA"))
scene.collection.objects.link(camera)
keyframe_camera_from_track(scene, camera, cam, 1001)
bpy.ops.wm.save_as_mainfile(filepath=str(root / "movie.blend"))
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
files = sorted(p.name for p in (root / "track2view_renders" / "movie" / "CamA" / "preview_001" / "frames").iterdir())
assert files == ["1001.png", "1002.png", "1003.png", "1004.png"], files  # numbered by scene frame
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate.mp4"), start_frame=1) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end, settings.footage_frame_start) == (1, 4, 1)
print("ok")
""")
    assert out.strip().endswith("ok")


def _exr_plate(root, frames: int = EXR_FRAMES):
    """An OpenEXR plate shot.1001.exr … with scene-linear values up to 1.5, its exact tracks and camera."""
    camera = source_camera((96, 64), frames)
    linear = srgb8_to_linear(render(camera)[0]) * 1.5
    (root / "plate").mkdir()
    for i, frame in enumerate(linear):
        write_image(frame, root / "plate" / f"shot.{1001 + i}.exr")
    save_tracks(make_tracks(camera, 2000), root / "tracks.npz")
    save_camera_json(camera, root / "CAM.json")
    return linear


def _read_exr(path) -> np.ndarray:
    from track2view.engine.io.video import _cv2

    return cv2.cvtColor(_cv2().imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)


def test_an_exr_plate_comes_back_as_exr_with_its_numbers_and_values(tmp_path):
    linear = _exr_plate(tmp_path)
    assert main(["render", "--footage", str(tmp_path / "plate"), "--tracks", str(tmp_path / "tracks.npz"),
                 "--camera", str(tmp_path / "CAM.json"), "--preview", "--out", str(tmp_path / "render")]) == 0
    names = sorted(p.name for p in (tmp_path / "render" / "frames").iterdir())
    assert names == [f"{n}.exr" for n in range(1001, 1001 + EXR_FRAMES)]
    summary = json.loads((tmp_path / "render" / "render.json").read_text())
    assert summary["first_number"] == 1001 and summary["values"] == "scene-linear"
    for i in (0, EXR_FRAMES - 1):
        made = _read_exr(tmp_path / "render" / "frames" / f"{1001 + i}.exr")
        holes = cv2.imread(str(tmp_path / "render" / "holes" / f"{1001 + i}.png"))[..., 0] > 127
        assert made.dtype == np.float32 and made.max() > 1.0  # the range above 1 is kept
        half = linear[i].astype(np.float16).astype(np.float32)  # the plate as stored
        assert holes.mean() < 0.01
        np.testing.assert_allclose(made[~holes], half[~holes], rtol=2e-3, atol=2e-3)


@pytest.mark.bpy
def test_in_blender_the_exr_render_is_a_strip_in_the_plates_colour_space(tmp_path):
    _exr_plate(tmp_path, frames=4)
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + """
import bpy, track2view
from pathlib import Path
from track2view.engine.geometry.camera import load_camera_json
from track2view.bridge.camera import keyframe_camera_from_track
from track2view.bridge.vse import our_strips

root = Path(ROOT)
bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
scene = bpy.context.scene
settings = scene.track2view
assert bpy.ops.track2view.import_footage(filepath=str(root / "plate" / "shot.1001.exr")) == {"FINISHED"}
assert (scene.frame_start, scene.frame_end) == (1001, 1004)
plate = next(iter(bpy.data.movieclips)).colorspace_settings.name
settings.tracks_path = str(root / "tracks.npz")
camera = bpy.data.objects.new("CamA", bpy.data.cameras.new("CamA"))
scene.collection.objects.link(camera)
keyframe_camera_from_track(scene, camera, load_camera_json(root / "CAM.json"), 1001)
bpy.ops.wm.save_as_mainfile(filepath=str(root / "shot.blend"))
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
frames = next(s for s in our_strips(scene) if not s.mute)
assert frames.frame_final_start == 1001 and frames.elements[0].filename == "1001.exr", frames.elements[0].filename
assert frames.colorspace_settings.name == plate, (frames.colorspace_settings.name, plate)
settings.output_format = "PNG16"  # the panel's Format
assert bpy.ops.track2view.preview_view(camera="CamA") == {"FINISHED"}
frames = next(s for s in our_strips(scene) if not s.mute)
assert frames.elements[0].filename == "1001.png" and "preview_002" in frames.directory
assert frames.colorspace_settings.name != plate  # display values: Blender's default for PNG
print("ok", plate)
""")
    assert "ok" in out and "Linear" in out, out


@pytest.mark.parametrize("file_format,dtype,suffix", [("png", np.uint8, ".png"), ("png16", np.uint16, ".png")])
def test_an_exr_plate_can_come_back_as_png(tmp_path, file_format, dtype, suffix):
    linear = _exr_plate(tmp_path, frames=2)
    assert main(["render", "--footage", str(tmp_path / "plate"), "--tracks", str(tmp_path / "tracks.npz"),
                 "--camera", str(tmp_path / "CAM.json"), "--preview", "--format", file_format,
                 "--out", str(tmp_path / "render")]) == 0
    made = cv2.imread(str(tmp_path / "render" / "frames" / f"1001{suffix}"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert made.dtype == dtype
    expected = linear_to_srgb8(linear[0].astype(np.float16), dtype)  # display sRGB of the plate, clipped
    assert np.abs(made.astype(float) - expected).max() <= np.iinfo(dtype).max * 0.01
    assert json.loads((tmp_path / "render" / "render.json").read_text())["values"] == "display (sRGB)"


def test_file_formats_store_what_they_say():
    from track2view.engine.render import encoded

    display = np.array([[[0, 128, 255]]], np.uint8)
    np.testing.assert_allclose(encoded(display, "exr"), srgb8_to_linear(display))
    assert encoded(display, "png16").tolist() == [[[0, 128 * 257, 65535]]]
    linear = np.array([[[0.0, 0.5, 2.0]]], np.float32)
    assert encoded(linear, "exr") is linear and encoded(linear, "png")[0, 0, 2] == 255
