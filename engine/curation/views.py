"""Views of a multi-camera shot: footage + optional camera, and the checks that make two views a pair.

A *view* is a video file, a folder of images, or a synthetic camera folder (``cam<k>/`` of a
``t2v synth`` clip, holding ``rgb/`` and ``CAM.json``). Its camera file, if any, is (first match):
the one given explicitly, ``<view>/CAM.json`` for a folder, or ``<stem>.CAM.json`` beside the
video/folder (``shot.mp4`` → ``shot.CAM.json``). A frame folder has no frame rate of its own: it
plays at its camera's fps, else at :data:`..io.video.DEFAULT_SEQUENCE_FPS`.

Two views pair up when they have the same number of frames, frame size and fps, and their first
frames are the same image (the same moment seen from the same camera pose; checked by
:func:`check_shared_frame`). :func:`match_views` refuses anything else with a :class:`UserError`,
or with ``resample`` retimes and resizes the target to the source.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geometry.camera import CameraTrack, load_camera_json
from ..io.video import read_frames

CAMERA_FILE = "CAM.json"
SYNTH_FRAMES_DIR = "rgb"
FPS_TOLERANCE = 1e-3  # relative fps difference still counted as the same rate
SHARED_FRAME_MAX_DIFF = 12.0  # mean |grey difference| (0-255, after a 5x5 blur) of two "identical" first frames


@dataclasses.dataclass
class View:
    """One camera's footage: ``frames`` (T, H, W, 3) uint8 RGB at ``fps``; ``camera`` (T frames, pixels
    of ``frames``) or None; ``path`` the input, ``name`` a short label for sample ids."""

    frames: np.ndarray
    fps: float
    camera: CameraTrack | None
    path: Path
    name: str

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(W, H) pixels."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])


def find_camera_file(path: Path) -> Path | None:
    """The camera file that goes with view ``path`` by the naming rules above, or None."""
    candidates = [path / CAMERA_FILE] if path.is_dir() else []
    candidates.append(path.with_name(f"{path.stem if path.is_file() else path.name}.{CAMERA_FILE}"))
    return next((c for c in candidates if c.is_file()), None)


def view_name(path: Path) -> str:
    """``clip/cam1`` for a synthetic camera folder, else the file/folder stem."""
    if path.is_dir() and (path / SYNTH_FRAMES_DIR).is_dir():
        return f"{path.parent.name}_{path.name}"
    return path.stem if path.is_file() else path.name


def load_view(path: str | os.PathLike, camera: str | os.PathLike | None = None) -> View:
    """Read one view (see the module docstring); ``camera`` overrides the camera-file lookup."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"view not found: {path}")
    frames_path = path / SYNTH_FRAMES_DIR if path.is_dir() and (path / SYNTH_FRAMES_DIR).is_dir() else path
    footage = read_frames(frames_path)
    camera_path = Path(camera) if camera is not None else find_camera_file(path)
    cam = load_camera_json(camera_path) if camera_path is not None else None
    fps = footage.fps
    if cam is not None:
        if cam.size != footage.size:
            raise UserError(f"{camera_path}: camera is for {cam.size[0]}x{cam.size[1]} images but {path} "
                            f"is {footage.size[0]}x{footage.size[1]}; give the matching camera file")
        if cam.num_frames not in (1, footage.num_frames):
            raise UserError(f"{camera_path}: camera has {cam.num_frames} frames but {path} has "
                            f"{footage.num_frames}; give the matching camera file")
        cam = CameraTrack(K=np.broadcast_to(cam.K, (footage.num_frames, 3, 3)),
                          w2c=np.broadcast_to(cam.w2c, (footage.num_frames, 4, 4)), size=cam.size, fps=cam.fps)
        if path.is_dir():
            fps = cam.fps
    return View(frames=footage.frames, fps=float(fps), camera=cam, path=path, name=view_name(path))


def _same_fps(a: float, b: float) -> bool:
    return abs(a - b) <= FPS_TOLERANCE * max(a, b)


def match_views(source: View, target: View, resample: bool = False) -> tuple[View, View]:
    """Return (source, target) with equal frame count, size and fps, or raise :class:`UserError`.

    With ``resample`` the target is retimed to the source's fps (nearest frame in time), resized to
    the source's size (its camera's intrinsics scaled along), and both are cut to the frames they
    share; without it any mismatch is an error that names both files.
    """
    problems = []
    if source.num_frames != target.num_frames:
        problems.append(f"{source.num_frames} vs {target.num_frames} frames")
    if source.size != target.size:
        problems.append(f"{source.size[0]}x{source.size[1]} vs {target.size[0]}x{target.size[1]} pixels")
    if not _same_fps(source.fps, target.fps):
        problems.append(f"{source.fps:g} vs {target.fps:g} fps")
    if not problems:
        check_shared_frame(source, target)
        return source, target
    if not resample:
        raise UserError(f"views {source.path} and {target.path} differ ({'; '.join(problems)}); curation needs "
                        "synchronized views of the same length, size and fps — fix the footage or pass "
                        "--resample to retime/resize the target to the source")
    source, target = _resample(source, target)
    check_shared_frame(source, target)
    return source, target


def check_shared_frame(source: View, target: View) -> None:
    """Raise :class:`UserError` unless frame 0 of both views (same size) shows the same image."""
    import cv2

    grey = [cv2.GaussianBlur(cv2.cvtColor(v.frames[0], cv2.COLOR_RGB2GRAY).astype(np.float32), (5, 5), 0)
            for v in (source, target)]
    diff = float(np.abs(grey[0] - grey[1]).mean())
    if diff > SHARED_FRAME_MAX_DIFF:
        raise UserError(f"views {source.path} and {target.path} do not start with the same frame (mean grey "
                        f"difference {diff:.1f} > {SHARED_FRAME_MAX_DIFF}); curation needs cameras that share "
                        "their first frame (render synthetic clips with --shared-first-frame)")


def _resample(source: View, target: View) -> tuple[View, View]:
    import cv2

    # Time of source frame i is i / fps_src; the target frame nearest in time is round(i * fps_tgt / fps_src).
    index = np.rint(np.arange(source.num_frames) * target.fps / source.fps).astype(int)
    count = int((index < target.num_frames).sum())
    if count < 2:
        raise UserError(f"views {source.path} and {target.path} overlap in fewer than 2 frames after retiming")
    index = index[:count]
    W, H = source.size
    sx, sy = W / target.size[0], H / target.size[1]
    frames = np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR)
                       for f in target.frames[index]])
    camera = None
    if target.camera is not None:
        scale = np.diag([sx, sy, 1.0])
        # Pixel centres: x' + 0.5 = (x + 0.5) * sx, so the principal point shifts by (sx - 1) / 2.
        shift = np.array([[0, 0, (sx - 1) / 2], [0, 0, (sy - 1) / 2], [0, 0, 0]])
        K = scale @ target.camera.K[index] + shift @ target.camera.K[index]
        camera = CameraTrack(K=K, w2c=target.camera.w2c[index], size=(W, H), fps=source.fps)
    src = dataclasses.replace(source, frames=source.frames[:count],
                              camera=None if source.camera is None else CameraTrack(
                                  K=source.camera.K[:count], w2c=source.camera.w2c[:count],
                                  size=source.camera.size, fps=source.camera.fps))
    return src, dataclasses.replace(target, frames=frames, fps=source.fps, camera=camera)
