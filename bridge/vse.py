"""Rendered views in the Video Sequencer: an image strip for the frames and a muted one for the holes.

Strips we create carry the custom properties :data:`CAMERA_KEY` (the target camera's name) and
:data:`ROLE_KEY` (``"frames"`` or ``"holes"``). A new render of the same camera replaces only
strips carrying those marks; every other strip (the user's, other cameras' renders) is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy

from ..engine.errors import UserError
from ..engine.io.video import natural_key
from .compat import sequencer_strips

CAMERA_KEY = "track2view_camera"
ROLE_KEY = "track2view_role"
MAX_CHANNEL = 128


def our_strips(scene: bpy.types.Scene, camera_name: str | None = None) -> list:
    """Top-level strips Track2View created in ``scene`` (for ``camera_name`` only, if given)."""
    return [s for s in sequencer_strips(scene)
            if ROLE_KEY in s and (camera_name is None or s.get(CAMERA_KEY) == camera_name)]


def first_free_channel(scene: bpy.types.Scene, frame_start: int, frame_end: int, above: int = 0) -> int:
    """The lowest channel > ``above`` with no top-level strip overlapping frames [frame_start, frame_end)."""
    busy = {s.channel for s in sequencer_strips(scene)
            if s.frame_final_start < frame_end and s.frame_final_end > frame_start}
    for channel in range(above + 1, MAX_CHANNEL + 1):
        if channel not in busy:
            return channel
    raise UserError(f"every Video Sequencer channel (1-{MAX_CHANNEL}) is in use over frames "
                    f"{frame_start}-{frame_end - 1}: delete or move some strips, or set the scene's "
                    f"start frame elsewhere, and render again")


RENDER_SUFFIXES = (".png", ".exr")
"""Image types a render folder holds (engine/render.py: OpenEXR from OpenEXR footage, else PNG)."""


def _frame_files(folder: Path) -> list[str]:
    return sorted((p.name for p in folder.iterdir() if p.suffix.lower() in RENDER_SUFFIXES), key=natural_key)


def image_sequence_strip(scene: bpy.types.Scene, name: str, folder: Path, channel: int, frame_start: int,
                         colorspace: str = ""):
    """An image strip of the frames in ``folder`` (PNG or OpenEXR, sorted by name) at
    ``channel``/``frame_start``, read in ``colorspace`` (a name of Blender's colour management; empty:
    Blender's default for the file type).

    The folder is stored relative to the .blend when it is saved (Blender's default).
    """
    files = _frame_files(folder)
    if not files:
        raise UserError(f"{folder} holds no frames: the render folder was emptied or moved; "
                        f"render the view again")
    directory = str(folder) + os.sep
    if bpy.data.filepath:
        try:
            directory = bpy.path.relpath(directory)
        except ValueError:       # another drive (Windows): keep it absolute
            pass
    strip = sequencer_strips(scene).new_image(name=name, filepath=str(folder / files[0]),
                                              channel=channel, frame_start=frame_start)
    for file in files[1:]:
        strip.elements.append(file)
    strip.directory = directory
    if colorspace:
        strip.colorspace_settings.name = colorspace
    return strip


def add_render_strips(scene: bpy.types.Scene, frames_dir: str, holes_dir: str, camera_name: str,
                      frame_start: int | None = None, colorspace: str = "") -> tuple:
    """Show a render: replace our earlier strips of ``camera_name``, add the frames and the muted holes.

    Both strips start at ``frame_start`` (default ``scene.frame_start``), each on the first free
    channel (the holes above the frames); the frames are read in ``colorspace`` (the footage's).
    Returns (frames strip, holes strip).
    """
    frame_start = scene.frame_start if frame_start is None else frame_start
    strips = sequencer_strips(scene)
    for old in our_strips(scene, camera_name):
        strips.remove(old)
    count = len(_frame_files(Path(frames_dir)))
    channel = first_free_channel(scene, frame_start, frame_start + count)
    frames = image_sequence_strip(scene, f"T2V {camera_name}", Path(frames_dir), channel, frame_start, colorspace)
    hole_channel = first_free_channel(scene, frame_start, frame_start + count, above=channel)
    holes = image_sequence_strip(scene, f"T2V {camera_name} holes", Path(holes_dir), hole_channel, frame_start)
    holes.mute = True
    for strip, role in ((frames, "frames"), (holes, "holes")):
        strip[CAMERA_KEY] = camera_name
        strip[ROLE_KEY] = role
    return frames, holes
