"""Coverage Preview operator, the viewport overlay data and the panel section in bpy 5.0.1."""

from __future__ import annotations

import numpy as np
import pytest

from track2view.engine.io.tracks import Tracks, save_tracks

from .layout_recorder import RecordingLayout
from .test_coverage import SIZE, _backdrop_shot

pytestmark = pytest.mark.bpy

# The synthetic shot's world has y down and looks along +z; Blender's world is Z up. Turn it so the
# backdrop is a wall and the camera looks horizontally (x -> X, y -> -Z, z -> Y).
_TO_BLENDER = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])


def _shot_in_blender(bpy, tmp_path, frames=6):
    from track2view.bridge.camera import keyframe_camera_from_track
    from track2view.engine.geometry.camera import CameraTrack

    cam, tracks = _backdrop_shot(frames=frames)
    xyz = tracks.xyz @ _TO_BLENDER[:3, :3].T
    w2c = cam.w2c @ np.linalg.inv(_TO_BLENDER)
    tracks = Tracks(xyz=xyz, uv=tracks.uv, vis=tracks.vis, conf=tracks.conf, rgb=tracks.rgb, K=tracks.K,
                    w2c=w2c, size=tracks.size, fps=tracks.fps)
    path = tmp_path / "tracks.npz"
    save_tracks(tracks, path)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, frames
    data = bpy.data.cameras.new("recovered")
    src = bpy.data.objects.new("recovered", data)
    scene.collection.objects.link(src)
    keyframe_camera_from_track(scene, src, CameraTrack(K=cam.K, w2c=w2c, size=SIZE), 1, set_resolution=True)
    settings = scene.track2view
    settings.source_camera, settings.tracks_path = src, str(path)
    return scene, src, tracks


def test_coverage_is_full_for_the_source_and_drops_for_a_90_degree_orbit(addon, tmp_path):
    from track2view.bridge import coverage_overlay

    bpy = addon
    scene, src, tracks = _shot_in_blender(bpy, tmp_path)
    assert bpy.ops.track2view.add_target_camera() == {"FINISHED"}
    assert bpy.ops.track2view.coverage_preview() == {"FINISHED"}
    own = scene["track2view_coverage"].to_dict()
    assert len(own["coverage"]) == 6 and own["frame_start"] == 1
    assert min(own["coverage"]) > 0.95, own["coverage"]
    assert own["poor_ranges"] == [] and "no poor frames" in own["summary"]

    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=90.0, ease="LINEAR")
    bpy.ops.track2view.coverage_preview()
    orbit = scene["track2view_coverage"].to_dict()
    assert (np.diff(orbit["coverage"]) < 0).all() and orbit["coverage"][-1] < 0.1, orbit["coverage"]
    assert orbit["poor_ranges"][-1][1] == 6 and "poor:" in orbit["summary"]

    # The overlay at frame 3 (orbit 36°): green = seen by the source, red = to invent.
    scene.frame_set(3)
    uv, seen = coverage_overlay.overlay_points(scene, scene.track2view.target_camera)
    assert seen.sum() == orbit["tracks"][2] and (~seen).sum() > 0
    W, H = SIZE
    assert (uv >= -0.5).all() and (uv[:, 0] < W - 0.5).all() and (uv[:, 1] < H - 0.5).all()
    scene.frame_set(40)                                          # past the tracks: nothing to draw
    assert coverage_overlay.overlay_points(scene, scene.track2view.target_camera) is None
    coverage_overlay.draw_coverage_overlay()                     # background mode: draws nothing


def test_overlay_handler_lives_with_the_add_on(bpy_factory):
    import track2view
    from track2view.bridge import coverage_overlay

    owned = not track2view._registered_modules
    track2view.register()
    assert coverage_overlay.is_registered()
    coverage_overlay.draw_coverage_overlay()                     # no tracks, background: no error
    if owned:
        track2view.unregister()
        assert not coverage_overlay.is_registered()


def test_coverage_preview_bad_input(addon, tmp_path):
    bpy = addon
    with pytest.raises(RuntimeError, match="no target camera"):
        bpy.ops.track2view.coverage_preview()
    scene, src, _ = _shot_in_blender(bpy, tmp_path)
    scene.track2view.target_camera = src
    scene.track2view.tracks_path = ""
    with pytest.raises(RuntimeError, match="reconstruct the shot first"):
        bpy.ops.track2view.coverage_preview()
    scene.track2view.tracks_path = str(tmp_path / "missing.npz")
    with pytest.raises(RuntimeError, match="tracks file not found"):
        bpy.ops.track2view.coverage_preview()


def test_panel_section_shows_rig_presets_and_poor_ranges(addon, tmp_path):
    from track2view.engine.camera_moves import CHANNELS, MOVES
    from track2view.panels.camera_workflow import draw_camera_workflow

    bpy = addon
    scene, src, _ = _shot_in_blender(bpy, tmp_path)
    bpy.ops.track2view.add_target_camera()
    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=90.0)
    bpy.ops.track2view.coverage_preview()
    log = []
    draw_camera_workflow(RecordingLayout(log), bpy.context)
    props = [args[1] for name, args, _ in log if name == "prop"]
    assert [f'["{c.name}"]' for c in CHANNELS] == props[:len(CHANNELS)]
    rig = scene.track2view.target_camera["track2view_rig"]
    assert all(rig.path_resolve(p) is not None for p in props[:len(CHANNELS)])
    assert sum(name == "operator" for name, _, _ in log) == len(MOVES) + 2
    labels = [kw.get("text", "") for name, _, kw in log if name == "label"]
    assert any(text.startswith("Poor coverage: frames") for text in labels), labels


def test_render_warns_before_poor_coverage(addon, tmp_path, capfd):
    from track2view.engine.io.video import write_frames

    from .tiny_shot import render, source_camera

    bpy = addon
    scene, src, _ = _shot_in_blender(bpy, tmp_path)
    frames, _ = render(source_camera(SIZE, 6))              # any 96x64 footage will do for the check
    write_frames(frames, tmp_path / "footage")
    settings = scene.track2view
    settings.footage_path, settings.output_dir = str(tmp_path / "footage"), str(tmp_path / "renders")
    bpy.ops.track2view.add_target_camera()
    bpy.ops.track2view.camera_move(move="ORBIT_RIGHT", amount=90.0, ease="LINEAR")
    capfd.readouterr()
    assert bpy.ops.track2view.preview_view() == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Warning: 'T2V Target': poor coverage" in out and "at frames 5-6" in out, out


def test_overlay_points_land_where_blender_projects_the_tracks(addon, tmp_path):
    """Target pixels → region via the camera frame agree with Blender's own view projection."""
    from types import SimpleNamespace

    from bpy_extras.view3d_utils import location_3d_to_region_2d
    from mathutils import Vector

    from track2view.bridge import coverage_overlay

    bpy = addon
    scene, src, tracks = _shot_in_blender(bpy, tmp_path)
    bpy.ops.track2view.add_target_camera()
    bpy.ops.track2view.camera_move(move="ORBIT_LEFT", amount=20.0)
    target = scene.track2view.target_camera
    target.data.shift_x, target.data.shift_y = 0.1, -0.05     # an off-centre image rectangle
    bpy.ops.track2view.coverage_preview()
    scene.frame_set(4)
    uv, seen = coverage_overlay.overlay_points(scene, target)
    W, H = SIZE
    region = SimpleNamespace(width=W, height=H)
    proj = target.calc_matrix_camera(bpy.context.evaluated_depsgraph_get(), x=W, y=H)
    rv3d = SimpleNamespace(perspective_matrix=proj @ target.matrix_world.inverted())
    xy = coverage_overlay.region_positions(scene, target, region, rv3d, uv)
    # The same points by world position: shown tracks of frame 4 (t = 3) in Blender's projection.
    from track2view.bridge.camera import camera_track_from_blender
    from track2view.engine.coverage import target_view_points

    cam = camera_track_from_blender(scene, target, [4])
    _, shown, _ = target_view_points(tracks.subset(frames=slice(3, 4)), cam)
    expected = np.array([location_3d_to_region_2d(region, rv3d, Vector(p)) for p in tracks.xyz[3, shown[0]]])
    assert len(xy) == len(expected) > 100
    np.testing.assert_allclose(xy, expected, atol=1e-3)
