"""Render the new view: footage + tracks + target camera → frames, hole masks and an mp4.

Output folder (written atomically: it appears complete or not at all; an existing one is refused
unless ``overwrite``)::

    OUT/frames/0001.png ...   the new view, RGB, the target camera's size, as ``file_format``:
                              png (8-bit), png16 (16-bit) or exr (OpenEXR half float,
                              scene-linear); by default exr from OpenEXR footage, else png
    OUT/holes/0001.png ...    hole mask: white where the source footage has nothing to show
                              (disocclusions, outside the tracked area), black elsewhere
    OUT/render.mp4            the frames as a video (mp4v) at the footage's fps
    OUT/camera.json           the target camera (CAM.json, ``engine/geometry/camera.py``)
    OUT/render.json           what was rendered: mode, inputs, frame range, size, fps

Modes: ``preview`` is the geometric warp (``engine/warp.py``, seconds: every source pixel moves
through its dense depth, ``engine/dense_depth.py``, cached beside the tracks); otherwise the
Track2View model (a local model folder, diffusers layout) generates the frames
(``engine/generate.py``) and the warp still supplies the hole mask.

Frames: ``frames`` = (A, B) selects footage frames A..B-1 (0-based, B None = to the end; default:
the frames the tracks were made on, see ``Tracks.frame_start``); camera frame 0 is footage frame A. A single-frame (static) camera holds for every frame.
Files are numbered as the footage's own frames: an image sequence starting at ``shot.1001.exr``
renders footage frame A as ``1001 + A``, a movie as ``1 + A`` (the add-on numbers by scene frame).

Values: the preview of OpenEXR footage warps its scene-linear values (above 1 included); other
footage is warped as its 8-bit display values. The model works on display values (sRGB 8-bit).
Each file format stores what it holds (:func:`encoded`): exr scene-linear (display values decoded,
8-bit precision), png/png16 display sRGB (linear values encoded, clipped to 0..1). The mp4 shows
display values.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .coverage import flat_depth_warning, tracked_depth_source
from .dense_depth import dense_depth_for
from .errors import UserError
from .geometry.camera import CameraTrack, load_camera_json, save_camera_json
from .io.atomic import atomic_dir, check_writable_target
from .io.tracks import load_tracks
from .io.video import linear_to_srgb8, probe, srgb8_to_linear
from .jobs import Progress, job
from .pairing import pair_tracks
from .warp import FRAME_REACH, iter_warp, warp_video

FRAMES_DIR, HOLES_DIR, MP4_NAME = "frames", "holes", "render.mp4"
WRITES_IN_FLIGHT = 2
"""Frames made but not yet written that :func:`write_views` lets wait (each a frame and its hole mask)."""
FRAME_NAME = "{:04d}"
"""Output file name (without suffix) of frame number N."""
FILE_FORMATS = {"png": ".png", "png16": ".png", "exr": ".exr"}
"""Output file formats and their suffixes."""


def encoded(view: np.ndarray, file_format: str) -> np.ndarray:
    """A view — uint8 display values, or float32 scene-linear — as ``file_format`` stores it: float32
    scene-linear for exr, uint16 display sRGB for png16, uint8 display sRGB for png."""
    if file_format == "exr":
        return view if view.dtype != np.uint8 else srgb8_to_linear(view)
    if file_format == "png16":
        return view.astype(np.uint16) * 257 if view.dtype == np.uint8 else linear_to_srgb8(view, np.uint16)
    return view if view.dtype == np.uint8 else linear_to_srgb8(view)


def camera_for_frames(camera: CameraTrack, count: int) -> CameraTrack:
    """``camera`` over exactly ``count`` frames: a static camera is repeated, a longer one is cut.

    Raises:
        UserError: an animated camera with fewer than ``count`` frames.
    """
    if camera.num_frames == 1:
        return CameraTrack(K=camera.K[0], w2c=np.broadcast_to(camera.w2c[0], (count, 4, 4)),
                           size=camera.size, fps=camera.fps)
    if camera.num_frames < count:
        raise UserError(f"the target camera has {camera.num_frames} frames but {count} frames are to be "
                        "rendered; animate the camera over the whole range, or choose fewer frames")
    return CameraTrack(K=camera.K[:count], w2c=camera.w2c[:count], size=camera.size, fps=camera.fps)


def load_footage_and_tracks(footage: str, tracks_path: str, frames: tuple[int, int | None] | None = None,
                            stream: bool = False):
    """Footage frames ``[start, stop)`` (default: the frames the tracks were made on) and the
    matching frames of its tracks, checked against each other.

    Returns ``(Footage, Tracks)``; with ``stream`` the footage's frames are decoded on demand
    (:func:`.io.video.open_frames`; OpenEXR as scene-linear float32) instead of all at once. Raises :class:`UserError` naming the file
    when the range is empty, longer than the footage or the tracks, or when the tracks were made on
    footage of another size.
    """
    from .io.video import open_frames, read_frames, require_whole_range

    tracks = load_tracks(tracks_path)
    start, stop = frames if frames is not None else (tracks.frame_start, tracks.frame_start + tracks.num_frames)
    if start < 0 or (stop is not None and stop <= start):
        raise UserError(f"frame range {start}:{'' if stop is None else stop} is empty or negative")
    if stream:
        video = open_frames(footage, slice(start, stop), reach=FRAME_REACH, linear=True)
    else:
        video = require_whole_range(read_frames(footage, frames=slice(start, stop)), slice(start, stop))
    if tuple(video.size) != tracks.size:
        raise UserError(f"{tracks_path}: tracks were made on {tracks.size[0]}x{tracks.size[1]} footage but "
                        f"{footage} is {video.size[0]}x{video.size[1]}; reconstruct the tracks of this footage")
    return video, tracks.for_footage_frames(start, video.num_frames, str(tracks_path))


def _check_model(model: str | None) -> None:
    """Raise :class:`UserError` unless ``model`` names a model folder."""
    if not model:
        raise UserError("no trained Track2View model is available yet: set a model folder (--model DIR, or "
                        "the add-on's Model Folder preference), or render the geometric warp with --preview "
                        "(Blender: Preview New View)")
    if not Path(model).is_dir():
        raise UserError(f"model folder not found: {model}")


def render_new_view(footage: str | os.PathLike, tracks: str | os.PathLike, camera: str | os.PathLike,
                    out: str | os.PathLike, *, preview: bool = False, model: str | None = None,
                    overwrite: bool = False, frames: tuple[int, int | None] | None = None,
                    device: str = "auto", precision: str = "fp32", steps: int | None = None,
                    cache_dir: str | None = None, file_format: str | None = None,
                    first_number: int | None = None, progress: Progress | None = None) -> dict:
    """Render the target ``camera`` (CAM.json) view of ``footage`` along ``tracks`` into ``out``.

    Returns a JSON-able summary: ``out``, ``frames_dir``, ``holes_dir``, ``mp4``, ``num_frames``,
    ``size`` (W, H), ``fps``, ``mode`` ("preview" or "model"), ``hole_fraction`` and per frame
    ``coverage`` (1 − its hole share; :func:`.coverage.poor_coverage_warning` words it). See the module docstring for the
    layout. ``precision`` (fp32/fp16/bf16, see :func:`.generate.generate_new_view`) applies to the
    model only; ``file_format`` is a key of :data:`FILE_FORMATS` (None: exr from OpenEXR footage, else
    png); ``first_number`` numbers the first file (None: the footage's own number of frame A, see the
    module docstring). Raises :class:`UserError` for bad input, before anything is written.
    """
    progress = Progress.of(progress)
    if file_format is not None and file_format not in FILE_FORMATS:
        raise UserError(f"file format {file_format!r}: choose one of {', '.join(FILE_FORMATS)}")
    target = load_camera_json(camera)
    if not preview:
        from .generate import check_precision
        from .model.model_folder import default_model_folder

        check_precision(precision)
        if steps is not None and steps < 1:
            raise UserError(f"--steps (denoising steps) must be at least 1, got {steps}")

        model = model or (str(default_model_folder()) if default_model_folder() else None)
        _check_model(model)
    progress(0.0, "reading footage")
    # The preview streams the footage through a window of frames; the model needs it all at once.
    video, source_tracks = load_footage_and_tracks(str(footage), str(tracks), frames, stream=preview)
    info = probe(footage)
    file_format = file_format or ("exr" if info.linear else "png")
    if first_number is None:
        first_number = (1 if info.first_number is None else info.first_number) + video.start
    out = check_writable_target(out, overwrite, inputs=(footage, tracks, camera, model))
    target = camera_for_frames(target, video.num_frames)
    progress(0.05, "dense depth")
    depth = dense_depth_for(tracks, video.frames, source_tracks, progress.span(0.05, 0.15, "dense depth: "))
    if preview:
        views = iter_warp(video.frames, source_tracks, target, depth)
    else:
        from .generate import DEFAULT_STEPS, generate_new_view

        generated = generate_new_view(video.frames, pair_tracks(source_tracks, target), target, model,
                                      steps=DEFAULT_STEPS if steps is None else steps, device=device,
                                      precision=precision, cache_dir=cache_dir, progress=progress.span(0.15, 0.9),
                                      depth=depth)
        # A model anchored on the footage warped it already; the hole masks of any other come from the warp.
        holes = generated.holes if generated.holes is not None else warp_video(None, source_tracks, target, depth)[1]
        views = zip(generated.frames, holes, strict=True)
    first, span = (0.15, 0.85) if preview else (0.9, 0.1)
    with atomic_dir(out) as tmp:
        hole_shares = write_views(views, tmp, video.fps, video.num_frames, progress.span(first, first + span),
                                  first_number, file_format)
        save_camera_json(target, tmp / "camera.json")
        summary = {
            "mode": "preview" if preview else "model", "model": model, "footage": str(footage),
            "tracks": str(tracks), "first_frame": video.start, "num_frames": video.num_frames,
            "first_number": first_number, "file_format": file_format,
            "values": "scene-linear" if file_format == "exr" else "display (sRGB)",
            "footage_values": "scene-linear" if info.linear else "display (sRGB)",
            "size": list(target.size), "fps": video.fps, "hole_fraction": float(np.mean(hole_shares)),
            "coverage": [round(1.0 - h, 6) for h in hole_shares],
            "warnings": [w for w in (flat_depth_warning(source_tracks, target, tracked_depth_source(tracks)),) if w],
        }
        (tmp / "render.json").write_text(json.dumps(summary, indent=1))
    progress(1.0, f"wrote {video.num_frames} frames")
    return {**summary, "out": str(out), "frames_dir": str(out / FRAMES_DIR), "holes_dir": str(out / HOLES_DIR),
            "mp4": str(out / MP4_NAME), "frame_pattern": FRAME_NAME + FILE_FORMATS[file_format]}


def write_views(views: Iterable[tuple[np.ndarray, np.ndarray]], folder: Path, fps: float, count: int,
                progress: Progress, first_number: int = 1,
                file_format: str = "png") -> list[float]:
    """Write (view, hole mask) pairs as they come: ``folder``/frames (as ``file_format``,
    :func:`encoded`), holes and the mp4 (layout in the module docstring), numbered from
    ``first_number``. Returns each frame's share of hole pixels.

    The encoding runs on one background thread (OpenCV releases the GIL), so the next view is made
    while a frame is written; at most :data:`WRITES_IN_FLIGHT` frames wait, in order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .io.video import Mp4Writer, write_image

    (folder / FRAMES_DIR).mkdir()
    (folder / HOLES_DIR).mkdir()
    holes: list[float] = []
    with Mp4Writer(folder / MP4_NAME, fps) as mp4, ThreadPoolExecutor(1) as writer:
        def write(name: str, image: np.ndarray, hole: np.ndarray) -> None:
            write_image(encoded(image, file_format), folder / FRAMES_DIR / f"{name}{FILE_FORMATS[file_format]}")
            write_image(np.repeat(hole[..., None].astype(np.uint8) * 255, 3, -1), folder / HOLES_DIR / f"{name}.png")
            mp4.write(image)

        pending = []
        for i, (image, hole) in enumerate(views):
            pending.append(writer.submit(write, FRAME_NAME.format(first_number + i), image, hole))
            holes.append(float(hole.mean()))
            while len(pending) > WRITES_IN_FLIGHT:
                pending.pop(0).result()  # raises what the write raised
                done = len(holes) - len(pending)
                progress.count(done, count, f"frame {done}/{count}")
        while pending:
            pending.pop(0).result()
            done = len(holes) - len(pending)
            progress.count(done, count, f"frame {done}/{count}")
    return holes


@dataclasses.dataclass(frozen=True)
class RenderParams:
    """The ``render`` job: :func:`render_new_view`'s arguments. ``camera`` is a CAM.json path,
    ``frames`` [A, B|null], ``model`` a folder (null: the default), ``cache_dir`` the ONNX cache,
    ``file_format`` a key of :data:`FILE_FORMATS` (null: by the footage), ``first_number`` the
    number of the first file (null: the footage's)."""

    footage: str
    tracks: str
    camera: str
    out: str
    preview: bool = False
    model: str | None = None
    overwrite: bool = False
    frames: list[int | None] | None = None
    device: str = "auto"
    precision: str = "fp32"
    steps: int | None = None
    cache_dir: str | None = None
    file_format: str | None = None
    first_number: int | None = None


@job("render", RenderParams)
def render_job(params: RenderParams, progress: Progress) -> dict:
    """:func:`render_new_view` of ``params``."""
    missing = [k for k in ("footage", "tracks", "camera", "out") if not getattr(params, k)]
    if missing:
        raise UserError(f"render: missing {missing}")
    frames = params.frames
    return render_new_view(
        Path(params.footage), Path(params.tracks), Path(params.camera), Path(params.out),
        preview=params.preview, model=params.model or None, overwrite=params.overwrite,
        frames=(frames[0], frames[1]) if frames else None, device=params.device, precision=params.precision,
        steps=params.steps, cache_dir=params.cache_dir or None, file_format=params.file_format or None,
        first_number=params.first_number, progress=progress)
