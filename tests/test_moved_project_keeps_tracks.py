"""A project folder moved (or mounted elsewhere on a render farm) still renders along its own cached
tracks: Reconstruct Tracks stores the cache beside the .blend as a relative path."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

_SCRIPT = """
import shutil, bpy, track2view
from pathlib import Path
from tests.tiny_shot import make_tracks, render, source_camera
from track2view.engine.io.tracks import save_tracks
from track2view.engine.io.video import write_frames
from track2view.operators.reconstruct_tracks import apply_tracks

root = Path(ROOT)
cam = source_camera((48, 32), 3)
frames, _ = render(cam)
write_frames(frames, root / "footage")
bpy.ops.wm.read_factory_settings(use_empty=True)
track2view.register()
bpy.ops.wm.save_as_mainfile(filepath=str(root / "job_a" / "shot.blend"))
bpy.ops.track2view.import_footage(filepath=str(root / "footage"))
cache = root / "job_a" / "track2view" / "shot.tracks.npz"
save_tracks(make_tracks(cam, 200), cache)
apply_tracks(bpy.context, cache)
assert bpy.context.scene.track2view.tracks_path == "//track2view/shot.tracks.npz", bpy.context.scene.track2view.tracks_path
bpy.ops.track2view.add_target_camera()
bpy.ops.wm.save_mainfile()

shutil.move(root / "job_a", root / "job_b")
bpy.ops.wm.open_mainfile(filepath=str(root / "job_b" / "shot.blend"))
assert bpy.ops.track2view.preview_view() == {"FINISHED"}
assert len(list((root / "job_b" / "track2view_renders").rglob("frames/*.png"))) == 3
print("OK")
"""


def test_moved_project_renders_along_its_own_cached_tracks(tmp_path, blender_user):
    (tmp_path / "job_a").mkdir()
    out = run_python(f"ROOT = {str(tmp_path)!r}\n" + _SCRIPT, env=blender_user)
    assert out.strip().endswith("OK")
