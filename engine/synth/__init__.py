"""Synthetic multi-camera clips with ground-truth 3D tracks: file layout, presets, loader (bpy-free).

Visibility: a depth test against the rendered depth alone disagrees with the exact geometry for
2–7 % of points (self-occlusion within the depth tolerance, sub-pixel silhouettes; measured at
256² and 64²), so ``vis`` is the exact ray-cast visibility confirmed by the depth test, and
``meta.json`` reports the share of visible points the render shows at their depth
(``visible_on_rendered_surface``, ≥ 0.99 expected).

Blender renders the clips (``bridge/synth_scene.py``, ``bridge/synth_render.py``) in a worker
subprocess started by :mod:`.generate`; everything here reads and writes plain files.

Clip folder (``t2v synth``; a preset run writes ``OUT/<preset>/<kind>_<seed:07d>/``)::

    meta.json            format, seed, kind, preset, cameras K, frames T, size [W, H], fps, samples,
                         points N, shared_first_frame, denoise, camera motions, objects, lights, Blender version,
                         visible_fraction and visible_on_rendered_surface per camera, dynamic_points, seconds
    contact_sheet.png    cameras side by side (source first), first/middle/last frame, GT tracks drawn
    cam<k>/              k = 0 is the source camera, 1..K-1 the targets; all synchronized
      rgb/0000.png ...   T RGB frames, 8-bit PNG (frame t → {t:04d}.png)
      depth.npy          (T, H, W) float32 camera-space z in metres (OpenCV; 1e10 = nothing hit)
      CAM.json           per-frame K and w2c (:func:`..geometry.camera.save_camera_json`)
      tracks.npz         the N GT points in this camera (:mod:`..io.tracks`): xyz (T, N, 3) world
                         metres (same in every camera), uv (T, N, 2) = projection of xyz with this
                         camera's K/w2c, vis (T, N) = in the image, no surface between camera
                         and point (exact ray cast in Blender) and not behind depth.npy
                         (:func:`.clip.depth_consistent`), conf = 1, rgb (N, 3) colour in the
                         source view, K, w2c, size, fps, dynamic (N,), object_id (N,) (0 = ground
                         and backdrop, 1.. = objects)

:func:`load_clip` returns a :class:`SynthClip`.
"""

from .clip import SynthClip, SynthView, load_clip

__all__ = ["SynthClip", "SynthView", "load_clip"]
