"""Footage in and out: read a video file or an image-sequence folder, write PNG sequences and mp4.

Frames are always ``(T, H, W, 3) uint8`` RGB in memory. Inputs:

- a video file OpenCV can decode (``.mp4``, ``.mov``, ``.avi``, ``.mkv``, ...); its fps is the
  container's;
- a folder of images (``.png``, ``.jpg``/``.jpeg``, ``.exr``, ``.tif``/``.tiff``, ``.bmp``),
  sorted naturally (``frame2`` before ``frame10``), played at :data:`DEFAULT_SEQUENCE_FPS`.
  16-bit images are scaled to 8 bits; EXR (linear float) is clipped to [0, 1] and encoded with the
  sRGB transfer curve; alpha is dropped, grey is repeated to RGB.

Bad input (missing, unreadable, corrupt, zero frames, frames of different sizes) raises
:class:`UserError` naming the file. Writers are atomic (:mod:`.atomic`): a crash or cancel leaves
no half-written output. They do not refuse existing targets; callers check that first with
:func:`.atomic.check_writable_target`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import UserError
from .atomic import atomic_dir, atomic_file

DEFAULT_SEQUENCE_FPS = 24.0
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".exr", ".tif", ".tiff", ".bmp")


@dataclasses.dataclass
class Footage:
    """Decoded frames of a shot.

    ``frames`` (T, H, W, 3) uint8 RGB, possibly downscaled (see ``max_side`` of :func:`read_frames`);
    ``size`` (W, H) of the *original* frames in pixels, so ``size[0] / frames.shape[2]`` is the
    factor from frame pixels back to original pixels; ``fps`` frames per second; ``path`` the input;
    ``start`` the index (0-based) in the input of ``frames[0]``; ``notes`` what the user should know
    about the input (a file that decodes only partly, a variable frame rate), one sentence each;
    ``linear``: the frames are float32 scene-linear RGB (EXR, :func:`open_frames`), not uint8 display
    values; ``first_number``: the frame number in the name of an image sequence's first file.
    """

    frames: np.ndarray
    fps: float
    size: tuple[int, int]
    path: Path
    start: int = 0
    notes: tuple[str, ...] = ()
    linear: bool = False
    first_number: int | None = None

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def scale(self) -> float:
        """Original pixels per frame pixel (≥ 1 when downscaled)."""
        return self.size[0] / self.frames.shape[2]


def _cv2():
    """cv2 with the OpenEXR codec enabled (OpenCV reads the switch at the first EXR access)."""
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    import cv2

    return cv2


def natural_key(name: str) -> list:
    """Sort key that orders the numbers in names by value (``img_9`` before ``img_10``)."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def list_image_sequence(folder: str | os.PathLike) -> list[Path]:
    """Image files of ``folder`` (see :data:`IMAGE_SUFFIXES`), sorted naturally; hidden files skipped."""
    folder = Path(folder)
    files = [p for p in folder.iterdir()
             if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def frame_number(path: str | os.PathLike) -> int | None:
    """The frame number in an image file's name: its last run of digits (``shot.1001.exr`` → 1001,
    ``0007.png`` → 7, ``plate_v2_0042.jpg`` → 42); None when the name has no digits."""
    digits = re.findall(r"\d+", Path(path).stem)
    return int(digits[-1]) if digits else None


def linear_to_srgb8(linear: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """Scene-linear RGB (float, any shape) → display sRGB as ``dtype`` (uint8, or uint16 for 16-bit
    files), clipped to 0..1 first, NaN → 0."""
    linear = np.clip(np.nan_to_num(np.asarray(linear, np.float32)), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return np.round(srgb * np.iinfo(dtype).max).astype(dtype)


def srgb8_to_linear(image: np.ndarray) -> np.ndarray:
    """Display sRGB uint8 → scene-linear float32 (the inverse of :func:`linear_to_srgb8` on 0..1)."""
    srgb = np.asarray(image, np.float32) / np.float32(255)
    return np.where(srgb <= 0.04045, srgb / 12.92, np.power((srgb + 0.055) / 1.055, 2.4)).astype(np.float32)


def _to_rgb(image: np.ndarray, path: Path, linear: bool = False) -> np.ndarray:
    """Any decoded cv2 image (BGR/BGRA/grey; uint8, uint16 or float) → (H, W, 3) RGB: uint8 display
    values, or with ``linear`` (float images, i.e. EXR) the float32 scene-linear values as stored."""
    cv2 = _cv2()
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 4:
        image = image[..., :3]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    is_float = image.dtype in (np.float32, np.float64, np.float16)
    if linear and is_float:
        return cv2.cvtColor(np.ascontiguousarray(np.nan_to_num(image.astype(np.float32))), cv2.COLOR_BGR2RGB)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif is_float:
        image = linear_to_srgb8(image)
    elif image.dtype != np.uint8:
        raise UserError(f"{path}: unsupported pixel type {image.dtype}; save it as 8/16-bit PNG or EXR")
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)


def _resize(image: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = image.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return image
    cv2 = _cv2()
    s = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _selected(frames: slice | None, count: int | None) -> tuple[int, int | None, int]:
    """(start, stop, step) of ``frames``; negative bounds need the frame ``count``."""
    if frames is None:
        return 0, None, 1
    if frames.step is not None and frames.step <= 0:
        raise UserError(f"frame step must be positive, got {frames.step}")
    negative = any(v is not None and v < 0 for v in (frames.start, frames.stop))
    if negative:
        if count is None:
            raise UserError("negative frame bounds need a known frame count")
        return frames.indices(count)
    return frames.start or 0, frames.stop, frames.step or 1


def _iter_video(path: Path, frames: slice | None, timestamps: list[float] | None = None
                ) -> tuple[Iterator[tuple[int, np.ndarray, Path]], float, int | None]:
    """(frames, fps, the frame count the container claims or None); ``timestamps`` (if given) gets each
    yielded frame's presentation time in milliseconds."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise UserError(f"{path}: cannot open this video (unreadable or corrupt); "
                        "convert it to mp4 (H.264) or an image sequence")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    start, stop, step = _selected(frames, count)

    def generate():
        try:
            index = 0
            while stop is None or index < stop:
                if index < start or (index - start) % step:
                    ok = cap.grab()
                    if not ok:
                        return
                else:
                    ok, bgr = cap.read()
                    if not ok or bgr is None:
                        return
                    if timestamps is not None:
                        timestamps.append(float(cap.get(cv2.CAP_PROP_POS_MSEC)))
                    yield index, bgr, path
                index += 1
        finally:
            cap.release()

    return generate(), (fps if fps > 0 else DEFAULT_SEQUENCE_FPS), count


def _iter_sequence(folder: Path, frames: slice | None) -> tuple[Iterator[tuple[int, np.ndarray, Path]], float, int]:
    cv2 = _cv2()
    files = list_image_sequence(folder)
    if not files:
        raise UserError(f"{folder}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    start, stop, step = _selected(frames, len(files))
    indices = range(len(files))[slice(start, stop, step)]

    def generate():
        for index in indices:
            image = cv2.imread(str(files[index]), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise UserError(f"{files[index]}: cannot read this image (unreadable or corrupt)")
            yield index, image, files[index]

    return generate(), DEFAULT_SEQUENCE_FPS, len(files)


def read_frames(path: str | os.PathLike, frames: slice | None = None, max_side: int | None = None) -> Footage:
    """Decode a video file or image-sequence folder into a :class:`Footage`.

    ``frames`` selects input frames (0-based, Python slice semantics, positive step);
    ``max_side`` downscales (area filter) so the longer side is at most that many pixels —
    ``Footage.size`` stays the original size. Raises :class:`UserError` naming the file for a
    missing, unreadable or corrupt input, an empty selection, or frames of different sizes.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"footage not found: {path}")
    if path.is_dir():
        items, fps, count = _iter_sequence(path, frames)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        raise UserError(f"{path} is a single image; pass the folder of the image sequence instead")
    else:
        timestamps: list[float] = []
        items, fps, count = _iter_video(path, frames, timestamps)

    out: list[np.ndarray] = []
    size = None
    first_index = None
    for index, image, source in items:
        rgb = _to_rgb(image, source)
        h, w = rgb.shape[:2]
        if size is None:
            size, first_index = (w, h), index
        elif (w, h) != size:
            raise UserError(f"{source}: frame {index} is {w}x{h} but earlier frames are {size[0]}x{size[1]}; "
                            "all frames of a shot must have the same size")
        out.append(_resize(rgb, max_side))
    if not out:
        if frames is not None and count and len(range(count)[frames]) == 0:
            raise UserError(f"{path}: the frame range {_fmt(frames)} is empty or past the end: the footage "
                            f"has {count} frames (0-based, end excluded: 0:{count} is all of them)")
        what = "has no frames" if frames is None else f"has no frames in the selection {_fmt(frames)}"
        known = f" (it has {count})" if count else ""
        raise UserError(f"{path}: {what}{known}; the file may be empty or corrupt")
    notes = () if path.is_dir() else _movie_notes(path, frames, count, len(out), first_index, timestamps, fps)
    return Footage(frames=np.stack(out), fps=fps, size=size, path=path, start=int(first_index), notes=notes)


VARIABLE_RATE_SPREAD = 0.2
"""Frame intervals spreading more than this share of their median make a movie variable-frame-rate."""


def _movie_notes(path: Path, frames: slice | None, count: int | None, decoded: int, first: int,
                 timestamps: list[float], fps: float) -> tuple[str, ...]:
    """Notes on a movie (see :class:`Footage`): fewer frames decoded than its container claims for
    the selection, or frame intervals that vary (a phone's variable frame rate)."""
    notes = []
    wanted = len(range(count)[frames or slice(None)]) if count else 0
    if decoded < wanted:
        notes.append(f"{path}: only {decoded} of the {wanted} frames the file lists could be decoded (it stops at "
                     f"frame {first + decoded}); the file may be truncated or damaged: re-export it")
    steps = np.diff(timestamps) if (frames is None or (frames.step or 1) == 1) else np.empty(0)
    steps = steps[steps > 0]
    if len(steps) >= 3 and (steps.max() - steps.min()) > VARIABLE_RATE_SPREAD * np.median(steps):
        notes.append(f"{path}: variable frame rate (frames {steps.min():.1f}–{steps.max():.1f} ms apart); "
                     f"it is treated as {fps:.3g} fps throughout: convert it to a constant frame rate "
                     f"for exact timing")
    return tuple(notes)


class FrameWindow:
    """The frames ``start`` .. ``start + count - 1`` of a video file or image-sequence folder, decoded on demand.

    Behaves like a read-only (count, H, W, 3) uint8 RGB sequence (``len``, ``window[i]``, iteration)
    while holding only the frames within ``reach`` of the last one asked for, so a long shot at full
    resolution streams through bounded memory. Reading goes forward; asking for a frame before the
    ones held decodes again from there (a second pass over the shot).
    """

    def __init__(self, path: str | os.PathLike, start: int, count: int, size: tuple[int, int], reach: int = 32,
                 linear: bool = False) -> None:
        self.path, self.start, self.count, self.reach = Path(path), int(start), int(count), int(reach)
        self.linear = linear
        self.size = (int(size[0]), int(size[1]))
        self._held: dict[int, np.ndarray] = {}
        self._items: Iterator | None = None
        self._next = 0

    def __len__(self) -> int:
        return self.count

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.count, self.size[1], self.size[0], 3

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[i] for i in range(self.count))

    def _restart(self, i: int) -> None:
        selection = slice(self.start + i, self.start + self.count)
        if self.path.is_dir():
            self._items = _iter_sequence(self.path, selection)[0]
        else:
            self._items = _iter_video(self.path, selection)[0]
        self._next = i
        self._held.clear()

    def __getitem__(self, i: int) -> np.ndarray:
        if not 0 <= i < self.count:
            raise IndexError(f"frame {i} of {self.count}")
        if i in self._held:
            return self._held[i]
        if self._items is None or i < self._next:
            self._restart(i)
        while self._next <= i:
            item = next(self._items, None)
            if item is None:
                raise UserError(f"{self.path}: frame {self.start + self._next} cannot be read (the footage ends "
                                "early or is corrupt there)")
            _, image, source = item
            self._held[self._next] = _to_rgb(image, source, self.linear)
            self._next += 1
        for old in [k for k in self._held if k < i - self.reach]:
            del self._held[old]
        return self._held[i]


def open_frames(path: str | os.PathLike, frames: slice, reach: int = 32, linear: bool = False) -> Footage:
    """Like :func:`read_frames` for the whole range ``frames`` (start ≥ 0, step 1), but streaming:
    ``Footage.frames`` is a :class:`FrameWindow` that decodes on demand; with ``linear``, EXR frames come
    as float32 scene-linear RGB (``Footage.linear``). Raises :class:`UserError` naming the file when the
    range is empty or runs past the end."""
    info = probe(path)
    start, stop = frames.start or 0, info.frames if frames.stop is None else frames.stop
    if start >= info.frames or stop <= start:
        raise UserError(f"{path}: the frame range {start}:{stop} is empty or past the end: the footage has "
                        f"{info.frames} frames (0-based, end excluded: 0:{info.frames} is all of them)")
    if stop > info.frames:
        raise UserError(f"{path}: the range {start}:{stop} is longer than the footage ({info.frames} frames); "
                        "shorten the frame range")
    linear = linear and info.linear
    window = FrameWindow(path, start, stop - start, info.size, reach, linear)
    return Footage(frames=window, fps=info.fps, size=info.size, path=Path(path), start=start, linear=linear,
                   first_number=info.first_number)


def write_image(frame: np.ndarray, path: str | os.PathLike) -> Path:
    """Write one (H, W, 3) RGB image (format from the suffix): uint8, uint16 (16-bit PNG or TIFF), or
    float32 scene-linear as a half-float OpenEXR (``.exr`` only). UserError naming the file if that fails."""
    cv2 = _cv2()
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UserError(f"cannot write {path}: {path.suffix or 'no suffix'} is not an image type "
                        f"({', '.join(IMAGE_SUFFIXES)})")
    params = []
    if frame.dtype == np.uint16 and path.suffix.lower() not in (".png", ".tif", ".tiff"):
        raise UserError(f"cannot write {path}: 16-bit images are written as .png or .tif")
    if frame.dtype not in (np.uint8, np.uint16):
        if path.suffix.lower() != ".exr":
            raise UserError(f"cannot write {path}: float images are written as .exr")
        frame, params = frame.astype(np.float32), [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF]
    if not cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
        if shutil.disk_usage(path.parent).free < 2 * frame.nbytes:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        raise UserError(f"cannot write {path}: the folder is not writable or the disk failed")
    return path


def require_whole_range(footage: Footage, frames: slice | None) -> Footage:
    """``footage`` back if it holds every frame of ``frames`` (read with :func:`read_frames`, which
    cuts a range at the end of the input like a Python slice); else :class:`UserError` naming it."""
    if frames is None or frames.stop is None or frames.stop < 0 or (frames.start or 0) < 0:
        return footage
    start, step = frames.start or 0, frames.step or 1
    if footage.num_frames < len(range(start, frames.stop, step)):
        raise UserError(f"{footage.path}: the range {start}:{frames.stop} is longer than the footage "
                        f"({footage.start + footage.num_frames} frames); shorten the frame range")
    return footage


@dataclasses.dataclass
class FootageInfo:
    """What :func:`probe` learns without decoding every frame: ``frames`` count, ``fps``, ``size`` (W, H),
    ``first`` (the first image of a sequence, or the video file itself) and ``first_number``: the frame
    number of a sequence's first image (:func:`frame_number`; None for a video or unnumbered images);
    ``notes``: what the user should know (a numbered sequence with missing frames), one sentence each."""

    frames: int
    fps: float
    size: tuple[int, int]
    first: Path
    first_number: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def linear(self) -> bool:
        """Whether the footage holds scene-linear float images: an image sequence of OpenEXR files."""
        return self.first.suffix.lower() == ".exr"


def _gap_notes(folder: Path, files: list[Path]) -> tuple[str, ...]:
    """A note when a numbered sequence skips numbers: its images play one after the other, so every
    image after the gap lands on an earlier frame than its name says."""
    numbers = [frame_number(f) for f in files]
    if None in numbers:
        return ()
    gaps = [(a, b) for a, b in zip(numbers, numbers[1:], strict=False) if b != a + 1]
    if not gaps:
        return ()
    a, b = gaps[0]
    return (f"{folder}: the images skip from frame {a} to {b}" + (f" ({len(gaps)} gaps)" if len(gaps) > 1 else "")
            + "; they play one after the other, so later frames do not keep their numbers: fill the gaps "
              "(e.g. repeat the previous image) to keep them",)


def probe(path: str | os.PathLike) -> FootageInfo:
    """Frame count, fps and size of a video file or image-sequence folder (UserError naming it if unusable).

    A video's count is the container's (decoded when the container does not say).
    """
    cv2 = _cv2()
    path = Path(path)
    if not path.exists():
        raise UserError(f"footage not found: {path}")
    if path.is_dir():
        files = list_image_sequence(path)
        if not files:
            raise UserError(f"{path}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        image = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise UserError(f"{files[0]}: cannot read this image (unreadable or corrupt)")
        return FootageInfo(len(files), DEFAULT_SEQUENCE_FPS, (image.shape[1], image.shape[0]), files[0],
                           frame_number(files[0]), _gap_notes(path, files))
    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            raise UserError(f"{path}: cannot read this video (unreadable, corrupt or empty); "
                            "convert it to mp4 (H.264) or an image sequence")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or DEFAULT_SEQUENCE_FPS
    finally:
        cap.release()
    if count <= 0:
        count = read_frames(path, max_side=16).num_frames
    return FootageInfo(count, fps, (frame.shape[1], frame.shape[0]), path)


def _fmt(frames: slice) -> str:
    text = f"{'' if frames.start is None else frames.start}:{'' if frames.stop is None else frames.stop}"
    return text if frames.step in (None, 1) else f"{text}:{frames.step}"


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise UserError(f"frames must be a non-empty (T, H, W, 3) uint8 RGB array, got {frames.shape} {frames.dtype}")
    return frames


def write_frames(frames: np.ndarray, folder: str | os.PathLike, pattern: str = "{:04d}.png",
                 start: int = 1) -> Path:
    """Write ``frames`` (T, H, W, 3) uint8 RGB as images ``pattern.format(start + i)`` into ``folder``.

    Atomic: the folder is built beside the target and swapped in when complete (an existing
    folder is replaced — check it with :func:`.atomic.check_writable_target` first).
    """
    frames = _check_frames(frames)
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        for i, frame in enumerate(frames):
            write_image(frame, tmp / pattern.format(start + i))
    return folder


class Mp4Writer:
    """Write RGB frames one at a time as an mp4 (codec mp4v) at ``fps``; the file appears on a clean exit.

    Use as a context manager: ``with Mp4Writer(path, fps) as mp4: mp4.write(frame)``. On an exception
    nothing is left at ``path`` (:func:`.atomic.atomic_file`).
    """

    def __init__(self, path: str | os.PathLike, fps: float) -> None:
        if not fps > 0:
            raise UserError(f"fps must be positive, got {fps}")
        self.path, self.fps = Path(path), float(fps)
        self._writer = None

    def __enter__(self) -> Mp4Writer:
        self._atomic = atomic_file(self.path, suffix=".mp4")
        self._tmp = self._atomic.__enter__()
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append ``frame`` (H, W, 3) uint8 RGB, or float32 scene-linear shown as sRGB (every frame the
        size of the first)."""
        cv2 = _cv2()
        if frame.dtype != np.uint8:
            frame = linear_to_srgb8(frame)
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise UserError(f"{self.path}: cannot open an mp4 writer ({w}x{h} at {self.fps} fps)")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def __exit__(self, *exc) -> bool:
        if self._writer is not None:
            self._writer.release()
        return bool(self._atomic.__exit__(*exc))


def write_mp4(frames: np.ndarray, path: str | os.PathLike, fps: float) -> Path:
    """Write ``frames`` (T, H, W, 3) uint8 RGB as an mp4 (codec mp4v) at ``fps``, atomically."""
    frames = _check_frames(frames)
    with Mp4Writer(path, fps) as mp4:
        for frame in frames:
            mp4.write(frame)
    return Path(path)
