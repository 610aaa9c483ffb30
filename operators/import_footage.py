"""Import Footage: a movie file or an image sequence becomes the shot of the scene.

Sets the scene's fps, frame range (footage frame 0 at scene frame 1, remembered as
``scene.track2view.footage_frame_start``) and render resolution, shows the
footage as the background of the source camera (the panel's Source Camera, else the scene camera,
else a new camera "Source Camera", which then becomes the scene camera) and sets
``scene.track2view.footage_path``. Picking any image of a sequence imports its whole folder.
Importing other footage than the scene's unsets ``scene.track2view.tracks_path``: those tracks
belong to the old shot (renders would warp the new footage along them).
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty

from ..engine.errors import UserError
from ..engine.io.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, probe

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


def import_footage(context, path: str) -> bpy.types.MovieClip:
    """Do the import (see the module docstring); returns the movie clip. UserError for unusable footage."""
    location = footage_location(path)
    info = probe(location)
    scene = context.scene
    previous = scene.track2view.footage_path
    if previous and Path(bpy.path.abspath(previous)).resolve() != location.resolve():
        scene.track2view.tracks_path = ""
    render = scene.render
    fps = round(info.fps)
    render.fps, render.fps_base = max(1, fps), max(1, fps) / info.fps
    scene.frame_start, scene.frame_end = 1, info.frames
    render.resolution_x, render.resolution_y = info.size
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    clip = bpy.data.movieclips.load(str(info.first), check_existing=True)
    clip.frame_start = scene.frame_start
    show_as_background(source_camera(context), clip)
    scene.track2view.footage_path = str(location)
    scene.track2view.footage_frame_start = scene.frame_start
    return clip


class TRACK2VIEW_OT_import_footage(bpy.types.Operator):
    """Import a movie or image sequence as the shot: scene fps, frame range and resolution, camera background"""

    bl_idname = "track2view.import_footage"
    bl_label = "Import Footage"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(name="Footage", subtype="FILE_PATH",
                             description="Movie file, or any image of an image sequence (its folder is imported)")
    filter_glob: StringProperty(default=";".join(f"*{s}" for s in VIDEO_SUFFIXES + IMAGE_SUFFIXES),
                                options={"HIDDEN"})  # every type the engine reads

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
            clip = import_footage(context, self.filepath)
        except UserError as exc:
            self.report({"ERROR"}, f"Import Footage: {exc}")
            return {"CANCELLED"}
        unlinked = (f"; the tracks of the previous footage ({Path(old_tracks).name}) are no longer used: "
                    "Reconstruct Tracks" if old_tracks and not scene.track2view.tracks_path else "")
        self.report({"INFO"}, f"Imported {clip.name}: {scene.frame_end} frames at "
                              f"{scene.render.fps / scene.render.fps_base:g} fps, "
                              f"{scene.render.resolution_x}x{scene.render.resolution_y}{unlinked}")
        return {"FINISHED"}


CLASSES = [TRACK2VIEW_OT_import_footage]
