"""Blender camera ↔ engine :class:`~..engine.geometry.camera.CameraTrack`: the one conversion.

Intrinsics follow Blender's own camera model (the formulas BlenderProc's ``CameraUtility``
documents): the sensor fit picks which image side the sensor size spans (AUTO = the longer side
after pixel aspect), ``shift_x``/``shift_y`` move the principal point in units of that side, and the
pixel aspect ratio ``pa = pixel_aspect_y / pixel_aspect_x`` makes ``fy = fx / pa``. Pixel (0, 0) is
the centre of the top-left pixel (DESIGN.md), so the image centre is ``((W - 1) / 2, (H - 1) / 2)``.

Poses: Blender cameras look down −Z with +Y up; the engine uses OpenCV axes (x right, y down,
z forward), ``w2c_cv = diag(1, -1, -1, 1) @ inv(matrix_world)``. Only perspective cameras exist
for the engine; other types raise :class:`UserError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import bpy
import numpy as np
from mathutils import Matrix

from ..engine.errors import UserError
from ..engine.geometry.camera import MAX_IMAGE_SIDE, MIN_IMAGE_SIDE, CameraTrack, image_size

_BLENDER_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
_MAX_SKEW = 1e-6          # |K[0, 1]| above this cannot be expressed by a Blender camera (pixels)
_ASPECT_TOLERANCE = 1e-6  # relative change of fx/fy between frames still treated as constant


def render_size(scene: bpy.types.Scene) -> tuple[int, int]:
    """Rendered image size (W, H) in pixels, after ``resolution_percentage``; :class:`UserError` naming the
    setting when it is outside the image limits of the engine."""
    r = scene.render
    size = (int(r.resolution_x * r.resolution_percentage / 100),
            int(r.resolution_y * r.resolution_percentage / 100))
    try:
        return image_size(size)
    except UserError:
        raise UserError(f"scene resolution {size[0]}x{size[1]} (Output properties → Format, after the "
                        f"percentage) is out of range: width and height must be {MIN_IMAGE_SIDE}.."
                        f"{MAX_IMAGE_SIDE} pixels") from None


def _view_geometry(scene: bpy.types.Scene, cam_data) -> tuple[float, float, float]:
    """(view_fac_px, sensor_mm, pixel_aspect) of the current render settings and camera data.

    ``view_fac_px`` is the image extent in pixels that the sensor size spans; ``pixel_aspect`` is
    ``pixel_aspect_y / pixel_aspect_x``.
    """
    r = scene.render
    width, height = render_size(scene)
    pixel_aspect = r.pixel_aspect_y / r.pixel_aspect_x
    fit = cam_data.sensor_fit
    if fit == "AUTO":
        fit = "HORIZONTAL" if r.pixel_aspect_x * width >= r.pixel_aspect_y * height else "VERTICAL"
    sensor = cam_data.sensor_height if cam_data.sensor_fit == "VERTICAL" else cam_data.sensor_width
    view_fac = width if fit == "HORIZONTAL" else pixel_aspect * height
    return float(view_fac), float(sensor), float(pixel_aspect)


def intrinsics_from_blender(scene: bpy.types.Scene, cam_data) -> np.ndarray:
    """K (3, 3) in pixels of camera data ``cam_data`` under the scene's current render settings."""
    if cam_data.type != "PERSP":
        raise UserError(f"camera '{cam_data.name}' is {cam_data.type}; Track2View needs a perspective camera "
                        "(Camera properties → Lens → Type: Perspective)")
    width, height = render_size(scene)
    view_fac, sensor, pixel_aspect = _view_geometry(scene, cam_data)
    fx = cam_data.lens / sensor * view_fac
    return np.array([
        [fx, 0.0, (width - 1) / 2 - cam_data.shift_x * view_fac],
        [0.0, fx / pixel_aspect, (height - 1) / 2 + cam_data.shift_y * view_fac / pixel_aspect],
        [0.0, 0.0, 1.0],
    ])


def w2c_from_matrix_world(matrix_world, name: str = "camera") -> np.ndarray:
    """World-to-camera (4, 4) in OpenCV axes from a Blender camera's ``matrix_world``.

    The object's scale is divided out of the matrix, as Blender's own camera view does; a zero scale
    (no view) or a mirroring one (a negative scale, which Blender's view would not show either) is a
    :class:`UserError` naming the camera object ``name``.
    """
    m = np.array(matrix_world, dtype=np.float64)
    scale = np.linalg.norm(m[:3, :3], axis=0)
    if not np.isfinite(m).all() or scale.min() < 1e-8:
        raise UserError(f"camera '{name}' has a zero scale: set its scale to 1 (Object properties → Transform)")
    m[:3, :3] /= scale
    if np.linalg.det(m[:3, :3]) < 0:
        raise UserError(f"camera '{name}' has a negative (mirroring) scale: set its scale to 1 "
                        f"(Object properties → Transform)")
    return _BLENDER_TO_CV @ np.linalg.inv(m)


def matrix_world_from_w2c(w2c: np.ndarray) -> Matrix:
    """A Blender camera's ``matrix_world`` from an OpenCV world-to-camera (4, 4)."""
    return Matrix((np.linalg.inv(np.asarray(w2c, np.float64)) @ _BLENDER_TO_CV).tolist())


def camera_track_from_blender(scene: bpy.types.Scene, camera_obj: bpy.types.Object,
                              frames: Iterable[int] | None = None) -> CameraTrack:
    """Per-frame K and w2c of ``camera_obj`` with its animation evaluated at each frame.

    ``frames`` are scene frame numbers (default ``scene.frame_start .. scene.frame_end``); the
    scene's current frame is restored afterwards. Returns a :class:`CameraTrack` with K
    (T, 3, 3) pixels, w2c (T, 4, 4) OpenCV axes, size = the render size, fps from the scene.
    """
    return camera_tracks_from_blender(scene, [camera_obj], frames)[0]


def camera_tracks_from_blender(scene: bpy.types.Scene, camera_objs: Sequence[bpy.types.Object],
                               frames: Iterable[int] | None = None) -> list[CameraTrack]:
    """:func:`camera_track_from_blender` for several cameras, evaluating each frame only once."""
    for camera_obj in camera_objs:
        if camera_obj is None or camera_obj.type != "CAMERA":
            name = getattr(camera_obj, "name", None)
            raise UserError(f"'{name}' is not a camera object; pick a camera (Object properties → type Camera)")
    frames = list(range(scene.frame_start, scene.frame_end + 1) if frames is None else frames)
    if not frames:
        raise UserError("no frames to read the camera at: the frame range is empty")
    current = (scene.frame_current, scene.frame_subframe)
    Ks = [[] for _ in camera_objs]
    w2cs = [[] for _ in camera_objs]
    try:
        for frame in frames:
            scene.frame_set(int(frame))
            for i, camera_obj in enumerate(camera_objs):
                Ks[i].append(intrinsics_from_blender(scene, camera_obj.data))
                w2cs[i].append(w2c_from_matrix_world(camera_obj.matrix_world, camera_obj.name))
    finally:
        scene.frame_set(current[0], subframe=current[1])
    fps = scene.render.fps / scene.render.fps_base
    return [CameraTrack(K=np.stack(K), w2c=np.stack(w2c), size=render_size(scene), fps=fps)
            for K, w2c in zip(Ks, w2cs, strict=True)]


def _check_expressible(cam: CameraTrack) -> float:
    """Validate that ``cam`` fits Blender's camera model; return its pixel aspect fx/fy."""
    if np.abs(cam.K[:, 0, 1]).max() > _MAX_SKEW or np.abs(cam.K[:, 1, 0]).max() > _MAX_SKEW:
        raise UserError("camera intrinsics have skew, which a Blender camera cannot express; "
                        "re-estimate the camera with zero skew")
    aspect = cam.K[:, 0, 0] / cam.K[:, 1, 1]
    if np.abs(aspect / aspect[0] - 1).max() > _ASPECT_TOLERANCE:
        raise UserError("camera fx/fy changes between frames; a Blender scene has one pixel aspect ratio")
    return float(aspect[0])


def keyframe_camera_from_track(scene: bpy.types.Scene, camera_obj: bpy.types.Object, cam: CameraTrack,
                               frame_start: int, *, set_resolution: bool = False) -> None:
    """Keyframe ``camera_obj`` so that :func:`camera_track_from_blender` gives back ``cam``.

    Frame ``i`` of ``cam`` lands on scene frame ``frame_start + i``: ``matrix_world`` (location
    and rotation), ``lens`` and ``shift_x``/``shift_y`` are keyframed. The sensor fit and size are
    left as they are. With ``set_resolution`` the render size becomes ``cam.size`` (at 100 %) and the
    pixel aspect is set from fx/fy; otherwise the render size may be any of the same aspect (a
    proxy percentage, a bigger delivery size: the lens is the same) and the pixel aspect must match
    (else UserError). The scene's current frame is restored afterwards.
    """
    if camera_obj is None or camera_obj.type != "CAMERA":
        raise UserError(f"'{getattr(camera_obj, 'name', None)}' is not a camera object")
    aspect = _check_expressible(cam)
    r = scene.render
    if set_resolution:
        r.resolution_x, r.resolution_y = cam.size
        r.resolution_percentage = 100
        r.pixel_aspect_x, r.pixel_aspect_y = (1.0, aspect) if aspect >= 1 else (1.0 / aspect, 1.0)
    size = render_size(scene)
    scale = size[0] / cam.size[0]  # render pixels per camera pixel (1 with set_resolution)
    if abs(size[1] - cam.size[1] * scale) > 1.0:
        raise UserError(f"render size {size} has another aspect than the camera's {cam.size}; "
                        "set Output → Resolution to match")
    data = camera_obj.data
    data.type = "PERSP"
    current = (scene.frame_current, scene.frame_subframe)
    width, height = cam.size
    try:
        previous_euler = None
        for i in range(cam.num_frames):
            frame = frame_start + i
            scene.frame_set(frame)
            view_fac, sensor, pixel_aspect = _view_geometry(scene, data)
            view_fac /= scale  # in the camera's pixels
            if not set_resolution and abs(aspect * pixel_aspect - 1) > 1e-4:
                raise UserError(f"camera fx/fy = {aspect:.6f} but the scene's pixel aspect gives "
                                f"{1 / pixel_aspect:.6f}; set Output → Aspect X/Y to match")
            K = cam.K[i]
            data.lens = K[0, 0] * sensor / view_fac
            data.shift_x = ((width - 1) / 2 - K[0, 2]) / view_fac
            data.shift_y = (K[1, 2] - (height - 1) / 2) * pixel_aspect / view_fac
            for path in ("lens", "shift_x", "shift_y"):
                data.keyframe_insert(path, frame=frame)
            camera_obj.matrix_world = matrix_world_from_w2c(cam.w2c[i])
            _keyframe_transform(camera_obj, frame, previous_euler)
            if camera_obj.rotation_mode not in ("QUATERNION", "AXIS_ANGLE"):
                previous_euler = camera_obj.rotation_euler.copy()
    finally:
        scene.frame_set(current[0], subframe=current[1])


def _keyframe_transform(obj: bpy.types.Object, frame: int, previous_euler) -> None:
    """Keyframe location and rotation of ``obj`` (Euler kept continuous with ``previous_euler``)."""
    obj.keyframe_insert("location", frame=frame)
    mode = obj.rotation_mode
    if mode == "QUATERNION":
        obj.keyframe_insert("rotation_quaternion", frame=frame)
    elif mode == "AXIS_ANGLE":
        obj.keyframe_insert("rotation_axis_angle", frame=frame)
    else:
        if previous_euler is not None:
            obj.rotation_euler = obj.matrix_basis.to_euler(mode, previous_euler)
        obj.keyframe_insert("rotation_euler", frame=frame)
