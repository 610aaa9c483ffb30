"""t2v demo end to end on a very small shot: every promised output exists and the .blend holds the strips."""

import cv2
import pytest

from track2view.engine.cli import main
from track2view.engine.io.video import read_frames

from .conftest import run_python

pytestmark = pytest.mark.bpy


def test_demo_writes_blend_frames_mp4_and_side_by_side(tmp_path, capsys):
    args = ["demo", "--out", str(tmp_path), "--size", "96x64", "--frames", "6", "--samples", "1", "--preview"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "geometric-warp preview" in printed
    assert len(list((tmp_path / "track2view").glob("rgb-*.tracks.npz"))) == 1   # Reconstruct Tracks' cache
    render = tmp_path / "track2view_renders" / "demo" / "T2V_Target" / "preview_001"
    assert read_frames(render / "frames").frames.shape == (6, 64, 96, 3)
    assert (render / "render.mp4").stat().st_size > 0 and len(list((render / "holes").iterdir())) == 6
    assert cv2.imread(str(tmp_path / "demo_side_by_side.png")).shape == (64, 3 * 96, 3)
    out = run_python(f"""
        import bpy, track2view
        track2view.register()
        bpy.ops.wm.open_mainfile(filepath={str(tmp_path / "demo.blend")!r})
        scene = bpy.context.scene
        from track2view.bridge.vse import our_strips
        from track2view.bridge.compat import sequencer_strips
        print(sorted((s.name, s.channel, s.frame_final_start, s.frame_final_duration) for s in sequencer_strips(scene)))
        print(scene.track2view.target_camera.name, len(our_strips(scene)))
    """)
    # The synthetic shot's images are numbered from 0000: the shot keeps its frame numbers.
    assert "('Footage', 1, 0, 6)" in out and "('T2V T2V Target', 2, 0, 6)" in out
    assert out.strip().endswith("T2V Target 2")
    # Running it again keeps the earlier render and refuses to replace the .blend without --overwrite.
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
