"""Target camera rig and move presets (bridge/camera_rig.py, operators) in bpy 5.0.1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from track2view.engine.camera_moves import MOVES
from track2view.engine.io.tracks import Tracks, save_tracks

pytestmark = pytest.mark.bpy

FRAMES = (1, 10)
PIVOT = np.array([0.5, 1.0, 0.3])


def _tracks_file(path) -> str:
    """A tracks file whose visible points have median PIVOT (an outlier does not move it)."""
    offsets = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, 0], [40, 40, 40]], float)
    xyz = np.broadcast_to(PIVOT + offsets, (3, 6, 3))
    vis = np.ones((3, 6), bool)
    vis[:, 2] = False                          # invisible points do not count
    tracks = Tracks(xyz=xyz, uv=np.zeros((3, 6, 2)), vis=vis, conf=np.ones((3, 6)), rgb=np.zeros((6, 3)),
                    K=np.tile(np.eye(3), (3, 1, 1)), w2c=np.tile(np.eye(4), (3, 1, 1)), size=(64, 48), fps=24)
    save_tracks(tracks, path)
    return str(path)


def _source_camera(bpy, *, parented=True):
    """An animated camera (moves, turns, zooms), parented to an animated 'dolly' empty."""
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = FRAMES
    data = bpy.data.cameras.new("recovered")
    cam = bpy.data.objects.new("recovered", data)
    scene.collection.objects.link(cam)
    if parented:
        dolly = bpy.data.objects.new("dolly", None)
        scene.collection.objects.link(dolly)
        cam.parent = dolly
        dolly.location = (0.0, 0.0, 0.2)
        dolly.keyframe_insert("location", frame=1)
        dolly.location = (0.4, 0.0, 0.2)
        dolly.keyframe_insert("location", frame=10)
    for frame in range(FRAMES[0], FRAMES[1] + 1, 3):
        i = frame - 1
        cam.location = (0.2 * i - 1.0, -6.0 + 0.1 * i, 1.5 + 0.05 * i)
        cam.rotation_euler = (math.radians(80 + i), 0.01 * i, math.radians(-10 + 3 * i))
        data.lens = 30.0 + i
        data.shift_x = 0.01 * i
        cam.keyframe_insert("location", frame=frame)
        cam.keyframe_insert("rotation_euler", frame=frame)
        data.keyframe_insert("lens", frame=frame)
        data.keyframe_insert("shift_x", frame=frame)
    scene.track2view.source_camera = cam
    return scene, cam


def _add_target(bpy, tmp_path, **kw):
    scene, src = _source_camera(bpy)
    scene.track2view.tracks_path = _tracks_file(tmp_path / "tracks.npz")
    assert bpy.ops.track2view.add_target_camera(**kw) == {"FINISHED"}
    tgt = scene.track2view.target_camera
    return scene, src, tgt, tgt["track2view_rig"]


def _world(obj) -> np.ndarray:
    return np.array(obj.matrix_world, dtype=np.float64)


def test_target_equals_source_at_zero_offset(addon, tmp_path):
    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    assert tgt is not None and tgt != src and tgt.type == "CAMERA"
    np.testing.assert_allclose(np.array(rig.matrix_world.translation), PIVOT, atol=1e-6)
    for frame in (1, 3, 6, 10):
        scene.frame_set(frame)
        np.testing.assert_allclose(_world(tgt), _world(src), atol=1e-5)
        assert tgt.data.lens == pytest.approx(src.data.lens, abs=1e-5)
        assert tgt.data.shift_x == pytest.approx(src.data.shift_x, abs=1e-6)
    # The start camera and its parent are untouched.
    assert src.parent.name == "dolly" and len(src.constraints) == 0
    assert len(src.animation_data.drivers) == 0


def _at(scene, frame, *objs):
    scene.frame_set(frame)
    return [_world(o) for o in objs]


def _azimuth_elevation_distance(position, pivot):
    d = position - pivot
    return (math.degrees(math.atan2(d[1], d[0])), math.degrees(math.atan2(d[2], math.hypot(d[0], d[1]))),
            float(np.linalg.norm(d)))


def _angle(a, b):
    return math.degrees(math.acos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


@pytest.mark.parametrize("move", MOVES, ids=lambda m: m.name)
def test_each_preset_moves_in_its_direction_by_its_amount(addon, tmp_path, move):
    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    assert bpy.ops.track2view.camera_move(move=move.name, ease="LINEAR") == {"FINISHED"}
    amount = move.default_amount
    # The move starts from the source camera ...
    s0, t0 = _at(scene, FRAMES[0], src, tgt)
    np.testing.assert_allclose(t0, s0, atol=1e-5)
    # ... and ends moved by the named amount.
    s, t = _at(scene, FRAMES[1], src, tgt)
    pivot = np.array(rig.matrix_world.translation)
    src_pos, tgt_pos = s[:3, 3], t[:3, 3]
    right, up, forward = s[:3, 0], s[:3, 1], -s[:3, 2]
    az_s, el_s, dist_s = _azimuth_elevation_distance(src_pos, pivot)
    az_t, el_t, dist_t = _azimuth_elevation_distance(tgt_pos, pivot)
    if move.channel == "orbit":
        assert az_t - az_s == pytest.approx(move.sign * amount, abs=1e-3)
        assert el_t == pytest.approx(el_s, abs=1e-3) and dist_t == pytest.approx(dist_s, abs=1e-5)
    elif move.channel == "arc":
        assert el_t - el_s == pytest.approx(move.sign * amount, abs=1e-3)
        assert az_t == pytest.approx(az_s, abs=1e-3) and dist_t == pytest.approx(dist_s, abs=1e-5)
    elif move.channel in ("dolly", "crane", "truck"):
        axis = {"dolly": forward, "crane": np.array([0.0, 0.0, 1.0]), "truck": right}[move.channel]
        np.testing.assert_allclose(tgt_pos - src_pos, move.sign * amount * axis, atol=1e-5)
        np.testing.assert_allclose(t[:3, :3], s[:3, :3], atol=1e-5)
    elif move.channel in ("pan", "tilt", "roll"):
        np.testing.assert_allclose(tgt_pos, src_pos, atol=1e-5)
        new_up, new_forward = t[:3, 1], -t[:3, 2]
        if move.channel == "roll":
            assert _angle(new_up, up) == pytest.approx(amount, abs=1e-3)
            np.testing.assert_allclose(new_forward, forward, atol=1e-5)
            assert np.sign(np.dot(new_up, -right)) == move.sign          # + = counter-clockwise
        else:
            assert _angle(new_forward, forward) == pytest.approx(amount, abs=1e-3)
            toward = -right if move.channel == "pan" else up               # + pan = left, + tilt = up
            assert np.sign(np.dot(new_forward, toward)) == move.sign
            axis = up if move.channel == "pan" else right                   # the axis it turns about
            assert np.dot(new_forward, axis) == pytest.approx(np.dot(forward, axis), abs=1e-6)
    elif move.channel == "zoom":
        np.testing.assert_allclose(t, s, atol=1e-5)
        assert tgt.data.lens == pytest.approx(src.data.lens * amount ** move.sign, rel=1e-6)


@pytest.mark.parametrize("ease,quarter", [("LINEAR", 0.25), ("EASE_IN", None), ("EASE_OUT", None),
                                          ("EASE_IN_OUT", None)])
def test_eases_shape_the_move(addon, tmp_path, ease, quarter):
    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=20.0, ease=ease)
    values = []
    for frame in (1, 3.25, 5.5, 7.75, 10):
        scene.frame_set(int(frame), subframe=frame % 1)
        values.append(rig["orbit"] / 20.0)
    assert values[0] == pytest.approx(0.0) and values[-1] == pytest.approx(1.0)
    if ease == "LINEAR":
        np.testing.assert_allclose(values, [0, 0.25, 0.5, 0.75, 1], atol=1e-4)
    elif ease == "EASE_IN":
        assert values[1] < 0.2 and values[2] < 0.5
    elif ease == "EASE_OUT":
        assert values[1] > 0.3 and values[2] > 0.5
    else:
        assert values[1] < 0.2 and values[2] == pytest.approx(0.5, abs=1e-4) and values[3] > 0.8


def test_keyframes_are_ordinary_and_editable_and_camera_keys_add_on_top(addon, tmp_path):
    from track2view.bridge.camera_rig import channel_fcurve

    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=15.0, ease="EASE_IN_OUT")
    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=15.0, ease="EASE_IN_OUT")   # adds up
    fcurve = channel_fcurve(rig, "orbit")
    assert [tuple(k.co) for k in fcurve.keyframe_points] == [(1.0, 0.0), (10.0, 30.0)]
    # The artist edits the last key: the camera follows.
    key = fcurve.keyframe_points[1]
    key.co[1] = key.handle_left[1] = key.handle_right[1] = -45.0
    fcurve.update()
    s, t = _at(scene, 10, src, tgt)
    pivot = np.array(rig.matrix_world.translation)
    az_s = _azimuth_elevation_distance(s[:3, 3], pivot)[0]
    az_t = _azimuth_elevation_distance(t[:3, 3], pivot)[0]
    assert az_t - az_s == pytest.approx(-45.0, abs=1e-3)
    # The artist keys the camera's own transform: it adds on top, in the rigged camera's frame.
    tgt.location = (0.0, 0.0, -1.0)
    tgt.keyframe_insert("location", frame=10)
    _, t2 = _at(scene, 10, src, tgt)
    np.testing.assert_allclose(t2[:3, 3] - t[:3, 3], -t[:3, 2], atol=1e-5)


def test_rig_evaluates_without_python_auto_run(addon, tmp_path):
    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    bpy.ops.track2view.camera_move(move="ARC_UP", amount=10.0, ease="LINEAR")
    bpy.ops.track2view.camera_move(move="ZOOM_IN", amount=2.0, ease="LINEAR")
    expected = _at(scene, 10, tgt)[0], tgt.data.lens
    path = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path, use_scripts=False)
    scene = bpy.context.scene
    tgt = scene.track2view.target_camera
    assert not bpy.context.preferences.filepaths.use_scripts_auto_execute
    got = _at(scene, 10, tgt)[0]
    np.testing.assert_allclose(got, expected[0], atol=1e-5)
    assert tgt.data.lens == pytest.approx(expected[1])
    assert all(fc.driver.is_simple_expression for fc in tgt.data.animation_data.drivers)


def test_bad_input_gives_clear_messages_and_touches_nothing(addon, tmp_path):
    bpy = addon
    scene = bpy.context.scene
    with pytest.raises(RuntimeError, match="reconstruct the shot first, or pick any camera"):
        bpy.ops.track2view.add_target_camera()
    with pytest.raises(RuntimeError, match="no target camera: use Add Target Camera"):
        bpy.ops.track2view.camera_move(move="ORBIT_LEFT")
    scene, src = _source_camera(bpy)
    with pytest.raises(RuntimeError, match="'nope' does not exist"):
        bpy.ops.track2view.add_target_camera(start_camera="nope")

    # A camera of the artist's that is parented / constrained is not taken over.
    data = bpy.data.cameras.new("mine")
    mine = bpy.data.objects.new("mine", data)
    scene.collection.objects.link(mine)
    mine.parent = src.parent
    scene.track2view.target_camera = mine
    names = sorted(o.name for o in bpy.data.objects)
    with pytest.raises(RuntimeError, match="parented to 'dolly'.*Clear its parent"):
        bpy.ops.track2view.add_target_camera(rig_existing=True)
    mine.parent = None
    mine.constraints.new("TRACK_TO")
    with pytest.raises(RuntimeError, match="has constraints"):
        bpy.ops.track2view.add_target_camera(rig_existing=True)
    assert sorted(o.name for o in bpy.data.objects) == names and len(mine.constraints) == 1
    mine.constraints.clear()
    other = bpy.data.objects.new("shares my lens", data)
    with pytest.raises(RuntimeError, match="shares its lens data"):
        bpy.ops.track2view.add_target_camera(rig_existing=True)
    bpy.data.objects.remove(other)
    mine.constraints.new("TRACK_TO")
    # A preset on a camera without a rig.
    with pytest.raises(RuntimeError, match="'mine' has no Track2View rig"):
        bpy.ops.track2view.camera_move(move="ORBIT_LEFT")

    # A clean camera can be rigged on request (any camera can be the start, too).
    mine.constraints.clear()
    assert bpy.ops.track2view.add_target_camera(rig_existing=True, start_camera="recovered") == {"FINISHED"}
    assert scene.track2view.target_camera == mine and mine["track2view_rig"] is not None
    np.testing.assert_allclose(*_at(scene, 4, mine, src), atol=1e-5)

    # A one-frame shot cannot hold a move.
    scene.frame_end = scene.frame_start
    with pytest.raises(RuntimeError, match="at least two frames"):
        bpy.ops.track2view.camera_move(move="ORBIT_LEFT")


def test_blender_rig_and_the_numpy_rig_give_the_same_camera_every_frame(addon, tmp_path):
    """The rig ``t2v camera`` uses (engine/camera_moves.py) is the one Blender's constraints and drivers
    build: every channel moved at once, each with its own ease, on an animated, parented start camera."""
    from track2view.bridge.camera import camera_track_from_blender
    from track2view.engine.camera_moves import MOVES_BY_NAME, channel_curve, moved_camera

    bpy = addon
    scene, src, tgt, rig = _add_target(bpy, tmp_path)
    moves = [("ORBIT_RIGHT", 12.0, "EASE_IN_OUT"), ("ARC_UP", 7.0, "EASE_IN"), ("CRANE_DOWN", 0.3, "EASE_OUT"),
             ("DOLLY_IN", 0.4, "LINEAR"), ("TRUCK_LEFT", 0.2, "EASE_IN"), ("PAN_RIGHT", 6.0, "EASE_OUT"),
             ("TILT_UP", 4.0, "LINEAR"), ("ROLL_LEFT", 3.0, "EASE_IN_OUT"), ("ZOOM_IN", 1.4, "EASE_IN")]
    T = FRAMES[1] - FRAMES[0] + 1
    channels = {}
    for name, amount, ease in moves:
        assert bpy.ops.track2view.camera_move(move=name, amount=amount, ease=ease) == {"FINISHED"}
        move = MOVES_BY_NAME[name]
        end = amount ** move.sign if move.scale else move.sign * amount
        channels[move.channel] = channel_curve(1.0 if move.scale else 0.0, end, ease, T, 0, T - 1)
    frames = range(FRAMES[0], FRAMES[1] + 1)
    source = camera_track_from_blender(scene, src, frames)
    blender = camera_track_from_blender(scene, tgt, frames)
    numpy = moved_camera(source, np.array(rig.matrix_world.translation), channels)
    np.testing.assert_allclose(numpy.w2c, blender.w2c, atol=1e-4)
    np.testing.assert_allclose(numpy.K, blender.K, atol=1e-3)
    assert np.abs(blender.w2c - source.w2c).max() > 0.1  # it did move
