"""Import Footage: a movie file or an image sequence becomes the shot of the scene.

Sets the scene's fps, frame range and render resolution, shows the
footage as the background of the source camera (the panel's Source Camera, else the scene camera,
else a new camera "Source Camera", which then becomes the scene camera) and sets
``scene.track2view.footage_path``. Picking any image of a sequence imports its whole folder.

Frame numbers: an image sequence keeps its own (``shot.1001.exr`` … → scene frames 1001 …); a movie, or
images without numbers, starts at the operator's Start Frame (default: the preferences' Movie Start
Frame, 1001). Footage frame 0 sits at that scene frame, remembered as
``scene.track2view.footage_frame_start``; renders, coverage and the tracks follow it.
Importing other footage than the scene's unsets ``scene.track2view.tracks_path``: those tracks
belong to the old shot (renders would warp the new footage along them).
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import IntProperty, StringProperty

from .. import preferences
from ..engine.errors import UserError
from ..engine.io.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, probe
from ..preferences import DEFAULT_MOVIE_START_FRAME, MAX_FRAME

SOURCE_CAMERA = "Source Camera"


def footage_location(path: str) -> Path:
    """The footage a picked file means: a video file, or the folder of a picked image."""
    picked = Path(bpy.path.abspath(path))
    if picked.is_file() and picked.suffix.lower() in IMAGE_SUFFIXES:
        return picked.parent
    return picked


def source_camera(context) -> bpy.types.Object:
    """The shot's source camera: the panel's, else the scene camera, else a new one (made scene camera)."""
    scene = context.scene
    settings = scene.track2view
    camera = settings.source_camera or scene.camera
    if camera is None or camera.type != "CAMERA":
        camera = bpy.data.objects.new(SOURCE_CAMERA, bpy.data.cameras.new(SOURCE_CAMERA))
        scene.collection.objects.link(camera)
    if scene.camera is None:
        scene.camera = camera
    settings.source_camera = camera
    return camera


def show_as_background(camera: bpy.types.Object, clip: bpy.types.MovieClip) -> None:
    """Make ``clip`` the (only Track2View) background of ``camera``."""
    data = camera.data
    data.show_background_images = True
    background = next((b for b in data.background_images if b.source == "MOVIE_CLIP"), None)
    if background is None:
        background = data.background_images.new()
        background.source = "MOVIE_CLIP"
    background.clip = clip
    background.alpha = 1.0


def import_footage(context, path: str, start_frame: int = DEFAULT_MOVIE_START_FRAME
                   ) -> tuple[bpy.types.MovieClip, tuple[str, ...]]:
    """Do the import (see the module docstring); ``start_frame`` places a movie (or unnumbered images).
    Returns the movie clip and notes for the artist (missing frames). UserError for unusable footage."""
    location = footage_location(path)
    info = probe(location)
    start = info.first_number if info.first_number is not None else start_frame
    if not 0 <= start <= MAX_FRAME - info.frames + 1:
        fix = "renumber the images" if info.first_number is not None else "choose a lower Start Frame"
        raise UserError(f"{info.first.name}: frames {start}..{start + info.frames - 1} are outside Blender's "
                        f"0..{MAX_FRAME}; {fix}")
    scene = context.scene
    previous = scene.track2view.footage_path
    if previous and Path(bpy.path.abspath(previous)).resolve() != location.resolve():
        scene.track2view.tracks_path = ""
    render = scene.render
    fps = round(info.fps)
    render.fps, render.fps_base = max(1, fps), max(1, fps) / info.fps
    scene.frame_start, scene.frame_end = start, start + info.frames - 1
    render.resolution_x, render.resolution_y = info.size
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    clip = bpy.data.movieclips.load(str(info.first), check_existing=True)
    clip.frame_start = scene.frame_start
    show_as_background(source_camera(context), clip)
    scene.track2view.footage_path = str(location)
    scene.track2view.footage_frame_start = scene.frame_start
    return clip, info.notes


class TRACK2VIEW_OT_import_footage(bpy.types.Operator):
    """Import a movie or image sequence as the shot: scene fps, frame range and resolution, camera background"""

    bl_idname = "track2view.import_footage"
    bl_label = "Import Footage"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(name="Footage", subtype="FILE_PATH",
                             description="Movie file, or any image of an image sequence (its folder is imported)")
    filter_glob: StringProperty(default=";".join(f"*{s}" for s in VIDEO_SUFFIXES + IMAGE_SUFFIXES),
                                options={"HIDDEN"})  # every type the engine reads
    start_frame: IntProperty(name="Start Frame", default=-1, min=-1, max=MAX_FRAME,
                             description="Scene frame of a movie's first frame (image sequences keep their own "
                                         "numbers). -1: the preferences' Movie Start Frame")

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if not self.filepath:
            self.report({"ERROR"}, "Import Footage: no file chosen")
            return {"CANCELLED"}
        scene = context.scene
        old_tracks = scene.track2view.tracks_path
        try:
            clip, notes = import_footage(context, self.filepath, self._start_frame(context))
        except UserError as exc:
            self.report({"ERROR"}, f"Import Footage: {exc}")
            return {"CANCELLED"}
        unlinked = (f"; the tracks of the previous footage ({Path(old_tracks).name}) are no longer used: "
                    "Reconstruct Tracks" if old_tracks and not scene.track2view.tracks_path else "")
        self.report({"INFO"}, f"Imported {clip.name}: frames {scene.frame_start}-{scene.frame_end} at "
                              f"{scene.render.fps / scene.render.fps_base:g} fps, "
                              f"{scene.render.resolution_x}x{scene.render.resolution_y}{unlinked}")
        for note in notes:
            self.report({"WARNING"}, f"Import Footage: {note}")
        return {"FINISHED"}

    def _start_frame(self, context) -> int:
        if self.start_frame >= 0:
            return self.start_frame
        prefs = preferences.get(context)
        return prefs.movie_start_frame if prefs is not None else DEFAULT_MOVIE_START_FRAME


CLASSES = [TRACK2VIEW_OT_import_footage]
