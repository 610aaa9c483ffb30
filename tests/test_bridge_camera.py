"""Blender camera ↔ CameraTrack (bridge/camera.py) against bpy 5.0.1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from track2view.bridge import camera as bcam
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack

FRAMES = range(1, 6)


def _animated_camera(bpy, *, sensor_fit="AUTO", pixel_aspect=(1.0, 1.0), size=(64, 48), pct=100):
    scene = bpy.context.scene
    r = scene.render
    r.resolution_x, r.resolution_y = size
    r.resolution_percentage = pct
    r.pixel_aspect_x, r.pixel_aspect_y = pixel_aspect
    scene.frame_start, scene.frame_end = FRAMES[0], FRAMES[-1]
    data = bpy.data.cameras.new("cam")
    data.sensor_fit = sensor_fit
    data.sensor_width, data.sensor_height = 36.0, 20.0
    obj = bpy.data.objects.new("cam", data)
    scene.collection.objects.link(obj)
    for i, frame in enumerate(FRAMES):
        obj.location = (0.3 * i, -5.0 + 0.2 * i, 1.0 + 0.1 * i)
        obj.rotation_euler = (math.radians(80 + 2 * i), 0.05 * i, math.radians(10 * i))
        data.lens = 30.0 + 3.0 * i
        data.shift_x, data.shift_y = 0.02 * i, -0.03 * i
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_euler", frame=frame)
        for path in ("lens", "shift_x", "shift_y"):
            data.keyframe_insert(path, frame=frame)
    scene.frame_set(3)
    return scene, obj


def _blender_projection(bpy, scene, obj, points: np.ndarray) -> np.ndarray:
    """Pixels (N, 2) of world points via Blender's own world_to_camera_view (top-left centre = 0)."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    w, h = bcam.render_size(scene)
    out = []
    for p in points:
        ndc = world_to_camera_view(scene, obj, Vector(p))
        out.append((ndc.x * w - 0.5, (1.0 - ndc.y) * h - 0.5))
    return np.array(out)


@pytest.mark.bpy
@pytest.mark.parametrize("fit,aspect,size,pct", [
    ("AUTO", (1.0, 1.0), (64, 48), 100),
    ("VERTICAL", (1.0, 1.0), (64, 48), 100),
    ("HORIZONTAL", (1.0, 1.3), (40, 60), 50),
    ("AUTO", (1.5, 1.0), (48, 64), 100),
])
def test_intrinsics_and_pose_match_blender_projection(bpy_factory, fit, aspect, size, pct):
    bpy = bpy_factory
    scene, obj = _animated_camera(bpy, sensor_fit=fit, pixel_aspect=aspect, size=size, pct=pct)
    cam = bcam.camera_track_from_blender(scene, obj)
    assert cam.num_frames == len(FRAMES)
    assert cam.size == bcam.render_size(scene)
    assert scene.frame_current == 3
    rng = np.random.default_rng(0)
    points = rng.uniform(-2, 2, (20, 3)) + np.array([0.0, 3.0, 1.0])
    for i, frame in enumerate(FRAMES):
        scene.frame_set(frame)
        expected = _blender_projection(bpy, scene, obj, points)
        uv, z = cam.project(np.broadcast_to(points, (cam.num_frames, 20, 3)))
        assert (z[i] > 0).all()
        np.testing.assert_allclose(uv[i], expected, atol=1e-3)


@pytest.mark.bpy
@pytest.mark.parametrize("fit,aspect", [("AUTO", (1.0, 1.0)), ("VERTICAL", (1.0, 1.25)), ("HORIZONTAL", (1.4, 1.0))])
def test_keyframe_round_trip(bpy_factory, fit, aspect):
    bpy = bpy_factory
    scene, obj = _animated_camera(bpy, sensor_fit=fit, pixel_aspect=aspect)
    cam = bcam.camera_track_from_blender(scene, obj)

    data = bpy.data.cameras.new("copy")
    data.sensor_fit = fit
    copy = bpy.data.objects.new("copy", data)
    scene.collection.objects.link(copy)
    scene.render.resolution_x = 10  # set_resolution must restore size and pixel aspect from cam
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    bcam.keyframe_camera_from_track(scene, copy, cam, frame_start=FRAMES[0], set_resolution=True)
    back = bcam.camera_track_from_blender(scene, copy)
    np.testing.assert_allclose(back.K, cam.K, atol=1e-4, rtol=1e-6)
    np.testing.assert_allclose(back.w2c, cam.w2c, atol=1e-4)
    assert back.size == cam.size


@pytest.mark.bpy
def test_keyframe_refuses_what_blender_cannot_express(bpy_factory):
    bpy = bpy_factory
    scene, obj = _animated_camera(bpy)
    K = np.array([[50.0, 1.0, 32.0], [0.0, 50.0, 24.0], [0.0, 0.0, 1.0]])
    with pytest.raises(UserError, match="skew"):
        bcam.keyframe_camera_from_track(scene, obj, CameraTrack(K=K, w2c=np.eye(4), size=(64, 48)), 1)
    K[0, 1] = 0.0
    with pytest.raises(UserError, match="render size"):
        bcam.keyframe_camera_from_track(scene, obj, CameraTrack(K=K, w2c=np.eye(4), size=(32, 48)), 1)
    with pytest.raises(UserError, match="not a camera"):
        bcam.camera_track_from_blender(scene, None)


@pytest.mark.bpy
def test_object_scale_is_divided_out_as_blender_does_and_mirroring_or_zero_refused(bpy_factory):
    bpy = bpy_factory
    scene, obj = _animated_camera(bpy)
    plain = bcam.camera_track_from_blender(scene, obj)
    obj.scale = (2.0, 1.0, 0.5)
    scaled = bcam.camera_track_from_blender(scene, obj)
    np.testing.assert_allclose(scaled.w2c, plain.w2c, atol=1e-9)
    points = np.array([[0.2, 3.0, 1.0], [-1.0, 2.5, 0.4]])
    scene.frame_set(3)
    uv, _ = scaled.project(np.broadcast_to(points, (scaled.num_frames, 2, 3)))
    np.testing.assert_allclose(uv[2], _blender_projection(bpy, scene, obj, points), atol=1e-3)
    for bad, words in (((-1.0, 1.0, 1.0), "negative"), ((0.0, 1.0, 1.0), "zero scale")):
        obj.scale = bad
        with pytest.raises(UserError, match=f"camera 'cam' has a {words}"):
            bcam.camera_track_from_blender(scene, obj)


@pytest.mark.bpy
def test_a_scene_resolution_out_of_range_names_the_setting(bpy_factory):
    bpy = bpy_factory
    scene, obj = _animated_camera(bpy)
    scene.render.resolution_x = scene.render.resolution_y = 20000
    with pytest.raises(UserError, match=r"scene resolution 20000x20000 \(Output properties"):
        bcam.camera_track_from_blender(scene, obj)
