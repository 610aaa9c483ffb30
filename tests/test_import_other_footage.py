"""Import Footage of another shot unlinks the old shot's tracks (renders must not warp the new footage
along them); importing the same shot again keeps them."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

_SCRIPT = """
import bpy, track2view
from pathlib import Path
from tests.tiny_shot import make_tracks, render, source_camera
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import write_frames

root = Path(ROOT)
cam = source_camera((48, 32), 3)
frames, _ = render(cam)
write_frames(frames, root / "shot_a")
write_frames(frames[:, ::-1].copy(), root / "shot_b")   # another shot of the same size and length
save_tracks(make_tracks(cam, 200), root / "shot_a.npz")

bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
bpy.ops.wm.save_as_mainfile(filepath=str(root / "shot.blend"))
settings = bpy.context.scene.track2view
bpy.ops.track2view.import_footage(filepath=str(root / "shot_a" / "0001.png"))
settings.tracks_path = str(root / "shot_a.npz")
bpy.ops.track2view.import_footage(filepath=str(root / "shot_a" / "0002.png"))   # the same shot again
assert settings.tracks_path == str(root / "shot_a.npz"), settings.tracks_path

bpy.ops.track2view.import_footage(filepath=str(root / "shot_b" / "0001.png"))
assert settings.tracks_path == "", settings.tracks_path
bpy.ops.track2view.add_target_camera()
try:
    bpy.ops.track2view.preview_view()
    raise SystemExit("shot_b was rendered along shot_a's tracks")
except RuntimeError as exc:
    assert "no tracks yet" in str(exc), exc
assert not (root / "track2view_renders").exists()
print("OK")
"""


def test_importing_another_shot_unlinks_the_old_tracks(tmp_path, blender_user):
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SCRIPT, env=blender_user)
    assert out.strip().endswith("OK")
    assert "tracks of the previous footage (shot_a.npz) are no longer used" in out, out


@pytest.mark.bpy
def test_the_file_browser_offers_every_type_the_engine_reads(bpy_factory):
    from track2view.engine.io.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES
    from track2view.operators.import_footage import TRACK2VIEW_OT_import_footage

    bpy = bpy_factory
    bpy.utils.register_class(TRACK2VIEW_OT_import_footage)
    try:
        rna = bpy.ops.track2view.import_footage.get_rna_type().properties["filter_glob"]
        offered = rna.default.split(";")
    finally:
        bpy.utils.unregister_class(TRACK2VIEW_OT_import_footage)
    assert sorted(offered) == sorted(f"*{s}" for s in VIDEO_SUFFIXES + IMAGE_SUFFIXES)
    assert {"*.mpg", "*.mpeg", "*.bmp"} <= set(offered)
