"""The tracks file: the one reader and writer of 3D point tracks (``.npz``).

Layout (format version :data:`TRACKS_FORMAT`), T frames, N points:

==============  ==========  ================================================================
key             shape       meaning
==============  ==========  ================================================================
``xyz``         (T, N, 3)   float32 world positions, Blender units (metres)
``uv``          (T, N, 2)   float32 source-view pixels; (0, 0) is the centre of the top-left pixel
``vis``         (T, N)      bool, visible in the source view
``conf``        (T, N)      float32 confidence in [0, 1]
``rgb``         (N, 3)      uint8 colour
``K``           (T, 3, 3)   float32 source intrinsics, pixels
``w2c``         (T, 4, 4)   float32 source world-to-camera, OpenCV axes (x right, y down, z fwd)
``size``        (2,)        int32 (W, H) source image size in pixels
``fps``         ()          float32 frames per second
``dynamic``     (N,)        bool, optional: the point moves in the world
``object_id``   (N,)        int32, optional: object the point lies on (0 = background)
``frame_start`` ()          int32, optional (0): the footage frame (0-based) of tracks frame 0
==============  ==========  ================================================================

Paired tracks (source ↔ target view) add ``uv_tgt`` (T, N, 2), ``depth_src`` (T, N),
``depth_tgt`` (T, N) (camera-space z, metres) and ``vis_tgt`` (T, N).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geometry.camera import check_frame_rate, check_intrinsics, check_poses, image_size
from .atomic import atomic_file
from .npz import read_npz

TRACKS_FORMAT = 1

_PAIRED = ("uv_tgt", "depth_src", "depth_tgt", "vis_tgt")


@dataclasses.dataclass
class Tracks:
    """3D point tracks of one shot (see the module docstring for shapes and units)."""

    xyz: np.ndarray
    uv: np.ndarray
    vis: np.ndarray
    conf: np.ndarray
    rgb: np.ndarray
    K: np.ndarray
    w2c: np.ndarray
    size: tuple[int, int]
    fps: float
    dynamic: np.ndarray | None = None
    object_id: np.ndarray | None = None
    uv_tgt: np.ndarray | None = None
    depth_src: np.ndarray | None = None
    depth_tgt: np.ndarray | None = None
    vis_tgt: np.ndarray | None = None
    frame_start: int = 0

    def __post_init__(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # out-of-range values become inf: refused below
            self.xyz = np.asarray(self.xyz, np.float32)
            self.uv = np.asarray(self.uv, np.float32)
            self.conf = np.asarray(self.conf, np.float32)
            self.K = np.asarray(self.K, np.float32)
            self.w2c = np.asarray(self.w2c, np.float32)
        self.vis = np.asarray(self.vis, bool)
        rgb = np.asarray(self.rgb)
        if rgb.dtype.kind not in "iub" and not (np.isfinite(rgb).all() and 0 <= rgb.min(initial=0)
                                               and rgb.max(initial=0) <= 255):
            raise UserError("tracks: 'rgb' must be colours 0..255")
        self.rgb = rgb.astype(np.uint8)
        self.size = (int(self.size[0]), int(self.size[1]))
        self.fps = float(self.fps)
        self.frame_start = int(self.frame_start)
        if self.dynamic is not None:
            self.dynamic = np.asarray(self.dynamic, bool)
        if self.object_id is not None:
            self.object_id = np.asarray(self.object_id, np.int32)
        for name, dtype in (("uv_tgt", np.float32), ("depth_src", np.float32),
                            ("depth_tgt", np.float32), ("vis_tgt", bool)):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype))
        self.validate()

    @property
    def num_frames(self) -> int:
        return self.xyz.shape[0]

    @property
    def num_points(self) -> int:
        return self.xyz.shape[1]

    @property
    def is_paired(self) -> bool:
        return self.uv_tgt is not None

    def validate(self, source: str = "tracks") -> None:
        """Raise :class:`UserError` naming the first field whose shape is inconsistent."""
        if self.xyz.ndim != 3 or self.xyz.shape[2] != 3:
            raise UserError(f"{source}: 'xyz' must have shape (T, N, 3), got {self.xyz.shape}")
        T, N = self.xyz.shape[:2]
        expected = {
            "uv": (T, N, 2), "vis": (T, N), "conf": (T, N), "rgb": (N, 3),
            "K": (T, 3, 3), "w2c": (T, 4, 4),
            "dynamic": (N,), "object_id": (N,),
            "uv_tgt": (T, N, 2), "depth_src": (T, N), "depth_tgt": (T, N), "vis_tgt": (T, N),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if value is not None and value.shape != shape:
                raise UserError(f"{source}: '{name}' must have shape {shape} for T={T}, N={N}, got {value.shape}")
        present = [name for name in _PAIRED if getattr(self, name) is not None]
        if present and len(present) != len(_PAIRED):
            missing = sorted(set(_PAIRED) - set(present))
            raise UserError(f"{source}: paired tracks need all of {_PAIRED}; missing {missing}")
        self.size = image_size(self.size, f"{source}: 'size'")
        self.fps = check_frame_rate(self.fps, f"{source}: 'fps'")
        check_intrinsics(self.K.astype(np.float64), f"{source}: 'K'")
        check_poses(self.w2c.astype(np.float64), f"{source}: 'w2c'")
        if self.vis.any() and not np.isfinite(self.xyz[self.vis]).all(-1).any():
            raise UserError(f"{source}: no visible track has a finite 3D position ('xyz' is NaN or inf "
                            f"wherever 'vis' is true)")
        if self.frame_start < 0:
            raise UserError(f"{source}: 'frame_start' must be a footage frame (0 or more), got {self.frame_start}")

    def subset(self, frames: slice | np.ndarray | None = None, points: np.ndarray | None = None) -> Tracks:
        """A copy restricted to some frames (tracks frames; ``frame_start`` follows the first one) and/or points."""
        fr = slice(None) if frames is None else frames
        pt = slice(None) if points is None else points
        kw = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "frame_start":
                picked = np.arange(self.num_frames)[fr]
                kw[f.name] = v + (int(picked[0]) if len(picked) else 0)
            elif f.name in ("size", "fps") or v is None:
                kw[f.name] = v
            elif f.name in ("rgb", "dynamic", "object_id"):
                kw[f.name] = v[pt]
            elif f.name in ("K", "w2c"):
                kw[f.name] = v[fr]
            else:
                kw[f.name] = v[fr][:, pt]
        return Tracks(**kw)

    def for_footage_frames(self, start: int, count: int, source: str = "tracks") -> Tracks:
        """The tracks of footage frames ``start`` .. ``start + count - 1`` (tracks frame 0 is footage
        frame ``frame_start``); :class:`UserError` naming ``source`` unless they cover all of them."""
        first = start - self.frame_start
        if first < 0 or first + count > self.num_frames:
            raise UserError(f"{source}: the tracks cover footage frames {self.frame_start}.."
                            f"{self.frame_start + self.num_frames - 1} but frames {start}..{start + count - 1} "
                            "are wanted; reconstruct the tracks over those frames (t2v track --frames A:B)")
        return self.subset(frames=slice(first, first + count))


def save_tracks(tracks: Tracks, path: str | os.PathLike) -> Path:
    """Write ``tracks`` to ``path`` (``.npz``) atomically: never a half-written file."""
    tracks.validate(str(path))
    arrays = {"format": np.int32(TRACKS_FORMAT)}
    for f in dataclasses.fields(tracks):
        v = getattr(tracks, f.name)
        if v is None:
            continue
        if f.name == "size":
            v = np.asarray(v, np.int32)
        elif f.name == "fps":
            v = np.float32(v)
        elif f.name == "frame_start":
            v = np.int32(v)
        arrays[f.name] = v
    path = Path(path)
    with atomic_file(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


def load_tracks(path: str | os.PathLike) -> Tracks:
    """Read a tracks file; raise :class:`UserError` naming the file on any problem."""
    path = Path(path)
    arrays = read_npz(path, "tracks file")
    if "format" not in arrays:
        raise UserError(f"{path} is not a Track2View tracks file (no 'format' entry); bring another tracker's "
                        "result in with `t2v import-tracks`")
    version = arrays.pop("format")
    if version.shape != () or not np.issubdtype(version.dtype, np.integer) or int(version) != TRACKS_FORMAT:
        shown = version.item() if version.size == 1 else version.tolist()
        raise UserError(f"{path}: tracks format {shown} is not supported (expected {TRACKS_FORMAT})")
    names = {f.name for f in dataclasses.fields(Tracks)}
    required = {f.name for f in dataclasses.fields(Tracks) if f.default is dataclasses.MISSING}
    missing = sorted(required - set(arrays))
    if missing:
        raise UserError(f"{path}: tracks file lacks {missing}")
    kw = {k: v for k, v in arrays.items() if k in names}
    try:
        kw["size"] = image_size(kw["size"].tolist(), "'size'")
        kw["fps"] = check_frame_rate(kw["fps"].item() if kw["fps"].size == 1 else kw["fps"], "'fps'")
        start = kw.get("frame_start", np.int64(0))
        if start.shape != () or not np.issubdtype(start.dtype, np.integer):
            raise UserError(f"'frame_start' must be a whole frame number, got {start!r}")
        kw["frame_start"] = int(start)
        return Tracks(**kw)
    except (UserError, ValueError, TypeError, OverflowError) as exc:
        raise UserError(f"{path}: {str(exc)[:300]}") from None
