"""`t2v camera`: rig moves without Blender, and cameras to and from .chan and COLMAP text models."""

from __future__ import annotations

import numpy as np
import pytest

from track2view.engine.camera_moves import channel_curve, ease_fraction, moved_camera, track_pivot
from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack, load_camera_json, save_camera_json
from track2view.engine.io.camera_files import read_chan, read_colmap, write_chan, write_colmap
from track2view.engine.io.video import read_frames

from .tiny_shot import psnr, render, write_shot

SIZE, FRAMES = (96, 64), 6


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """The analytic two-plane shot: footage, exact tracks and its camera (frames of any camera are exact)."""
    root = tmp_path_factory.mktemp("camera_shot")
    return root, *write_shot(root, SIZE, FRAMES, 400)


def _zoomed_turning_camera(camera: CameraTrack) -> CameraTrack:
    """``camera`` moved by most rig channels at once (a roll past 90°, a zoom)."""
    T = camera.num_frames
    channels = {name: channel_curve(0.0, end, "EASE_IN_OUT", T, 0, T - 1) for name, end in
                (("orbit", 40.0), ("arc", -25.0), ("roll", 170.0), ("pan", 30.0), ("dolly", 1.0))}
    channels["zoom"] = channel_curve(1.0, 1.7, "LINEAR", T, 0, T - 1)
    return moved_camera(camera, np.array([0.3, -0.2, 0.0]), channels)


def test_eases_are_blenders_sine_curves():
    x = np.linspace(0, 1, 5)
    np.testing.assert_allclose(ease_fraction("LINEAR", x), x)
    np.testing.assert_allclose(ease_fraction("EASE_IN_OUT", x), [0, 0.1464466, 0.5, 0.8535534, 1], atol=1e-6)
    assert ease_fraction("EASE_IN", 0.5) < 0.5 < ease_fraction("EASE_OUT", 0.5)
    # Held before the first key and after the last.
    np.testing.assert_allclose(channel_curve(0.0, 10.0, "LINEAR", 6, 1, 3), [0, 0, 5, 10, 10, 10])


def test_chan_round_trip(tmp_path, shot):
    camera = _zoomed_turning_camera(shot[1])
    write_chan(camera, tmp_path / "cam.chan")
    back = read_chan(tmp_path / "cam.chan", camera.size, camera.fps)
    np.testing.assert_allclose(back.w2c, camera.w2c, atol=1e-3)
    np.testing.assert_allclose(back.K, camera.K, atol=0.5)
    # The columns: frame, translate (a +Y-up world), rotate ZXY in degrees, vertical field of view.
    first = [float(v) for v in (tmp_path / "cam.chan").read_text().splitlines()[0].split()]
    assert first[0] == 1 and len(first) == 8
    centre = np.linalg.inv(camera.w2c[0])[:3, 3]
    np.testing.assert_allclose(first[1:4], [centre[0], centre[2], -centre[1]], atol=1e-6)
    assert first[7] == pytest.approx(np.degrees(2 * np.arctan(SIZE[1] / 2 / camera.K[0, 1, 1])), abs=1e-6)


def test_colmap_round_trip_with_the_static_points(tmp_path, shot):
    _, camera, tracks = shot
    zoomed = _zoomed_turning_camera(camera)
    write_colmap(zoomed, tmp_path / "moved")
    back = read_colmap(tmp_path / "moved", zoomed.fps)
    np.testing.assert_allclose(back.w2c, zoomed.w2c, atol=1e-3)
    np.testing.assert_allclose(back.K, zoomed.K, atol=0.5)
    assert len((tmp_path / "moved" / "cameras.txt").read_text().splitlines()) == 1 + FRAMES  # one per zoom

    write_colmap(camera, tmp_path / "model", tracks)
    lines = [line for line in (tmp_path / "model" / "points3D.txt").read_text().splitlines()
             if not line.startswith("#")]
    images = [line for line in (tmp_path / "model" / "images.txt").read_text().splitlines()
              if not line.startswith("#")]
    assert len(lines) == int((tracks.vis.sum(0) >= 2).sum())
    point = lines[0].split()
    np.testing.assert_allclose([float(v) for v in point[1:4]], tracks.xyz[0, 0], atol=1e-6)
    # Its observations are the track's pixels (COLMAP's pixel centres are ours + 0.5).
    image_id, index = int(point[8]), int(point[9])
    observed = images[2 * (image_id - 1) + 1].split()[3 * index: 3 * index + 3]
    np.testing.assert_allclose([float(v) for v in observed[:2]], tracks.uv[image_id - 1, 0] + 0.5, atol=1e-3)
    assert observed[2] == point[0]


def test_a_move_from_the_command_line_renders_as_the_true_view(tmp_path, shot):
    root, camera, tracks = shot
    out = tmp_path / "dolly.json"
    assert main(["camera", "--tracks", str(root / "tracks.npz"), "--orbit", "4", "--dolly", "0.5",
                 "--ease", "in-out", "--out", str(out)]) == 0
    moved = load_camera_json(out)
    expected = moved_camera(camera, track_pivot(tracks), {
        "orbit": channel_curve(0, 4, "EASE_IN_OUT", FRAMES, 0, FRAMES - 1),
        "dolly": channel_curve(0, 0.5, "EASE_IN_OUT", FRAMES, 0, FRAMES - 1)})
    np.testing.assert_allclose(moved.w2c, expected.w2c, atol=1e-6)
    np.testing.assert_allclose(moved.w2c[0], camera.w2c[0], atol=1e-6)  # it starts at the source camera
    assert main(["render", "--footage", str(root / "footage"), "--tracks", str(root / "tracks.npz"),
                 "--camera", str(out), "--preview", "--out", str(tmp_path / "render")]) == 0
    made = read_frames(tmp_path / "render" / "frames").frames
    holes = read_frames(tmp_path / "render" / "holes").frames[..., 0] > 127
    truth, _ = render(moved)
    assert psnr(made, truth, ~holes) >= 25.0 and holes.mean() < 0.1
    assert psnr(made, truth, ~holes) > psnr(render(camera)[0], truth, ~holes) + 3


def test_conversions_on_the_command_line(tmp_path, shot, capsys):
    root, camera, _ = shot
    save_camera_json(camera, tmp_path / "cam.json")
    assert main(["camera", "--from", str(tmp_path / "cam.json"), "--out", str(tmp_path / "cam.chan"),
                 "--first-frame", "1001"]) == 0
    assert (tmp_path / "cam.chan").read_text().split()[0] == "1001"
    assert main(["camera", "--from", str(tmp_path / "cam.chan"), "--size", "96x64",
                 "--out", str(tmp_path / "back.json")]) == 0
    np.testing.assert_allclose(load_camera_json(tmp_path / "back.json").w2c, camera.w2c, atol=1e-6)
    assert main(["camera", "--from", str(root / "tracks.npz"), "--out", str(tmp_path / "colmap")]) == 0
    assert (tmp_path / "colmap" / "points3D.txt").stat().st_size > 1000
    assert main(["camera", "--from", str(tmp_path / "colmap"), "--out", str(tmp_path / "colmap.json")]) == 0
    np.testing.assert_allclose(load_camera_json(tmp_path / "colmap.json").w2c, camera.w2c, atol=1e-6)
    # Nothing is overwritten silently; no move given is an error that lists the moves.
    assert main(["camera", "--from", str(tmp_path / "cam.json"), "--out", str(tmp_path / "cam.chan")]) == 1
    assert main(["camera", "--tracks", str(root / "tracks.npz"), "--out", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--orbit" in err


@pytest.mark.parametrize("text,message", [
    ("1 0 0 0 0 0 0 40\n2 0 0 zero 0 0 0 40\n", r"line 2: expected numbers"),
    ("1 0 0 0 0 0 0 40\n3 0 0 0 0 0 0 40\n", r"line 2: frame 3 follows frame 1"),
    ("1 0 0 0 0 0 0\n", r"line 1: expected 8 finite numbers"),
    ("1 0 0 0 0 0 0 190\n", r"line 1: vertical field of view 190"),
    ("# only a comment\n", r"no frames"),
])
def test_bad_chan_files_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.chan"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_chan(path, SIZE)


def test_bad_colmap_models_name_the_line_and_distortion_is_noted(tmp_path, shot):
    write_colmap(shot[1], tmp_path / "model")
    cameras = tmp_path / "model" / "cameras.txt"
    text = cameras.read_text()
    cameras.write_text(text.replace("PINHOLE 96 64", "OPENCV 96 64").rstrip() + " 0.1 0 0 0\n")
    notes = []
    read_colmap(tmp_path / "model", note=notes.append)
    assert "OPENCV lens distortion is dropped" in notes[0]
    cameras.write_text(text.replace("PINHOLE", "FISHEYE_X"))
    with pytest.raises(UserError, match=r"cameras.txt, line 2: camera model 'FISHEYE_X'"):
        read_colmap(tmp_path / "model")
    cameras.write_text(text.replace("1 PINHOLE", "7 PINHOLE"))
    with pytest.raises(UserError, match=r"images.txt, line 2: camera 1 is not in cameras.txt"):
        read_colmap(tmp_path / "model")
    with pytest.raises(UserError, match=r"has no image size; give it with --size"):
        read_chan(tmp_path / "x.chan", None)
