"""The coverage overlay's tracks belong to one file, scene and Tracks setting (bpy 5.0.1)."""

from __future__ import annotations

import pytest

from .test_coverage_preview import _shot_in_blender

pytestmark = pytest.mark.bpy


def test_overlay_forgets_tracks_of_another_file_or_tracks_setting(addon, tmp_path):
    from track2view.bridge import coverage_overlay

    bpy = addon
    scene, _, tracks = _shot_in_blender(bpy, tmp_path)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "a.blend"))
    scene = bpy.context.scene
    bpy.ops.track2view.add_target_camera()
    target = scene.track2view.target_camera
    bpy.ops.track2view.coverage_preview()
    scene.frame_set(2)
    assert coverage_overlay.overlay_points(scene, target) is not None

    scene.track2view.footage_frame_start = 3  # the tracks now start at scene frame 3
    assert coverage_overlay.overlay_points(scene, target) is None
    scene.frame_set(3)
    assert coverage_overlay.overlay_points(scene, target) is not None

    tracks_setting = scene.track2view.tracks_path
    scene.track2view.tracks_path = str(tmp_path / "other.npz")
    assert coverage_overlay.overlay_points(scene, target) is None
    scene.track2view.tracks_path = tracks_setting

    # Another .blend whose scene has the same name and Tracks setting draws nothing until its own preview.
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "b.blend"))
    scene = bpy.context.scene
    assert scene.name in {s.name for s in bpy.data.scenes}
    assert coverage_overlay.overlay_points(scene, scene.track2view.target_camera) is None
