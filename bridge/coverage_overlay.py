"""Viewport overlay: the shot's tracks where the target camera sees them, at the current frame.

Drawn over the 3D View in camera view through the scene's target camera (POST_PIXEL): green
points were visible in the source view (the footage shows them), red points were not (the model
must invent them). Projection, visibility and occlusion come from the engine
(:func:`..engine.coverage.target_view_points`) for the current frame only, so the overlay follows
the camera live while the artist edits it. Tracks frame i is scene frame
``scene.track2view.footage_frame_start + i`` (set by Import Footage).

The tracks come from :func:`set_overlay_tracks` (called by the Coverage Preview operator). The draw
callback draws nothing — and does not fail — in background mode, without tracks, outside camera
view or when the overlay is switched off (``scene.track2view.show_coverage_overlay``).
"""

from __future__ import annotations

import bpy
import numpy as np

from ..engine.coverage import target_view_points
from ..engine.errors import UserError
from ..engine.geometry.camera import CameraTrack
from ..engine.io.tracks import Tracks
from .camera import intrinsics_from_blender, render_size, w2c_from_matrix_world
from .compat import point_shader

POINT_SIZE = 5.0  # pixels
SEEN_COLOUR = (0.15, 0.9, 0.2, 0.9)
UNSEEN_COLOUR = (0.95, 0.15, 0.1, 0.9)

_tracks: dict[tuple[str, str, str], Tracks] = {}  # _overlay_key(scene) → tracks shown by the overlay
_handle = None
_last: list = [None, None]  # [key, points] of the last overlay_points computation


def _overlay_key(scene: bpy.types.Scene) -> tuple[str, str, str]:
    """(.blend path, scene name, Tracks setting): another file's same-named scene, or other tracks, show nothing."""
    return bpy.data.filepath, scene.name, scene.track2view.tracks_path


def set_overlay_tracks(scene: bpy.types.Scene, tracks: Tracks | None) -> None:
    """Show ``tracks`` in the overlay of ``scene`` (None: show nothing) while its file and Tracks setting stay."""
    if tracks is None:
        _tracks.pop(_overlay_key(scene), None)
    else:
        _tracks[_overlay_key(scene)] = tracks
    _last[:] = [None, None]


def overlay_points(scene: bpy.types.Scene, camera_obj: bpy.types.Object) -> tuple[np.ndarray, np.ndarray] | None:
    """(uv (M, 2) target pixels, seen (M,) bool) of the tracks ``camera_obj`` shows now, or None.

    None when the scene has no overlay tracks or the current frame lies outside them.
    """
    tracks = _tracks.get(_overlay_key(scene))
    t = scene.frame_current - scene.track2view.footage_frame_start
    if tracks is None or camera_obj is None or camera_obj.type != "CAMERA" or not 0 <= t < tracks.num_frames:
        return None
    if camera_obj.data.type != "PERSP":
        return None
    K = intrinsics_from_blender(scene, camera_obj.data)
    w2c = w2c_from_matrix_world(camera_obj.matrix_world, camera_obj.name)
    key = (_overlay_key(scene), id(tracks), t, K.tobytes(), w2c.tobytes())
    if _last[0] != key:  # redraws without a change (hover, UI) reuse the last frame's points
        cam = CameraTrack(K=K, w2c=w2c, size=render_size(scene))
        uv, shown, seen = target_view_points(tracks.subset(frames=slice(t, t + 1)), cam)
        _last[:] = [key, (uv[0, shown[0]], seen[0, shown[0]])]
    return _last[1]


def region_positions(scene, camera_obj, region, rv3d, uv: np.ndarray) -> np.ndarray | None:
    """Region pixels (M, 2) (x right, y up) of target-image pixels ``uv`` (M, 2) in camera view.

    The camera's image rectangle (``view_frame``, shift included) is projected into the region and
    pixel centres are placed inside it: (0, 0) is the centre of the top-left pixel. None when the
    rectangle is not in front of the view.
    """
    from bpy_extras.view3d_utils import location_3d_to_region_2d

    tr, _br, bl, tl = (camera_obj.matrix_world @ v for v in camera_obj.data.view_frame(scene=scene))
    corners = [location_3d_to_region_2d(region, rv3d, p) for p in (tl, tr, bl)]
    if any(c is None for c in corners):
        return None
    tl, tr, bl = (np.array(c, dtype=np.float64) for c in corners)
    W, H = render_size(scene)
    a = (uv[:, :1] + 0.5) / W
    b = (uv[:, 1:] + 0.5) / H
    return tl + a * (tr - tl) + b * (bl - tl)


def draw_coverage_overlay() -> None:
    """SpaceView3D POST_PIXEL callback (see the module docstring for when it draws)."""
    if bpy.app.background:
        return
    context = bpy.context
    scene, region, rv3d = context.scene, context.region, context.region_data
    settings = getattr(scene, "track2view", None)
    if settings is None or not settings.show_coverage_overlay or rv3d is None or region is None:
        return
    camera_obj = settings.target_camera
    if rv3d.view_perspective != "CAMERA" or camera_obj is None or scene.camera != camera_obj:
        return
    try:
        points = overlay_points(scene, camera_obj)
    except UserError:  # a camera scale or resolution the engine refuses: renders report it, the overlay is off
        return
    if points is None or not len(points[0]):
        return
    uv, seen = points
    xy = region_positions(scene, camera_obj, region, rv3d, uv)
    if xy is None:
        return
    import gpu
    from gpu_extras.batch import batch_for_shader

    colours = np.where(seen[:, None], SEEN_COLOUR, UNSEEN_COLOUR)
    shader, has_size = point_shader()
    batch = batch_for_shader(shader, "POINTS", {"pos": xy.astype(np.float32).tolist(),
                                                "color": colours.astype(np.float32).tolist()})
    gpu.state.blend_set("ALPHA")
    gpu.state.point_size_set(POINT_SIZE)
    shader.bind()
    if has_size:
        shader.uniform_float("size", POINT_SIZE)
    batch.draw(shader)
    gpu.state.blend_set("NONE")


def register() -> None:
    """Add the draw handler (once)."""
    global _handle
    if _handle is None:
        _handle = bpy.types.SpaceView3D.draw_handler_add(draw_coverage_overlay, (), "WINDOW", "POST_PIXEL")


def unregister() -> None:
    """Remove the draw handler and forget the tracks."""
    global _handle
    if _handle is not None:
        bpy.types.SpaceView3D.draw_handler_remove(_handle, "WINDOW")
        _handle = None
    _tracks.clear()
    _last[:] = [None, None]


def is_registered() -> bool:
    return _handle is not None
