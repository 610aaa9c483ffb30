"""The reversed-source + target clip, and splitting tracks of that clip back into the two views.

Both views have T frames and share frame 0 (same moment, same camera pose). The joined clip has
2T − 1 frames: source frames T−1 … 1, then the shared frame (source frame 0), then target frames
1 … T−1. Joined index of source frame t is ``T − 1 − t``, of target frame t it is ``T − 1 + t``;
the *junction* (the shared frame) is joined index ``T − 1``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import UserError
from ..geometry.camera import CameraTrack, project_points
from ..io.tracks import Tracks


def join_frames(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2T − 1, H, W, 3): ``source`` (T, H, W, 3) reversed, then ``target`` without its frame 0."""
    if source.shape != target.shape:
        raise UserError(f"views must have the same frame count and size to be joined, got {source.shape} "
                        f"and {target.shape}")
    return np.concatenate([source[::-1], target[1:]])


def source_index(T: int) -> np.ndarray:
    """(T,) joined-clip frame of source frames 0 … T−1."""
    return np.arange(T - 1, -1, -1)


def target_index(T: int) -> np.ndarray:
    """(T,) joined-clip frame of target frames 0 … T−1."""
    return np.arange(T - 1, 2 * T - 1)


@dataclasses.dataclass
class Halves:
    """Tracks of the joined clip split per view, each (T, N, ...) in that view's own frame order.

    ``uv_*`` pixels, ``vis_*`` bool, ``conf_*`` [0, 1], ``xyz_*`` world positions (the tracker's
    world) at each view's frames, ``depth_*`` camera-space z of those positions in the tracker's
    camera of that frame; ``dynamic`` (N,) the tracker's moving-point flag; ``camera_*`` the
    tracker's cameras of each view's frames; ``joined`` the tracks the split came from.
    """

    uv_src: np.ndarray
    uv_tgt: np.ndarray
    vis_src: np.ndarray
    vis_tgt: np.ndarray
    conf_src: np.ndarray
    conf_tgt: np.ndarray
    xyz_src: np.ndarray
    xyz_tgt: np.ndarray
    depth_src: np.ndarray
    depth_tgt: np.ndarray
    dynamic: np.ndarray
    camera_src: CameraTrack
    camera_tgt: CameraTrack
    joined: Tracks

    @property
    def num_frames(self) -> int:
        return int(self.uv_src.shape[0])


def split_tracks(joined: Tracks) -> Halves:
    """Split tracks of a (2T − 1)-frame joined clip into the source half (re-reversed) and the target half."""
    if joined.num_frames % 2 != 1 or joined.num_frames < 3:
        raise UserError(f"joined clip must have an odd number (2T − 1 ≥ 3) of frames, got {joined.num_frames}")
    T = (joined.num_frames + 1) // 2
    src, tgt = source_index(T), target_index(T)
    depth = project_points(joined.xyz, joined.K.astype(np.float64), joined.w2c.astype(np.float64))[1]
    dynamic = joined.dynamic if joined.dynamic is not None else np.zeros(joined.num_points, bool)

    def camera(index: np.ndarray) -> CameraTrack:
        return CameraTrack(K=joined.K[index], w2c=joined.w2c[index], size=joined.size, fps=joined.fps)

    return Halves(uv_src=joined.uv[src], uv_tgt=joined.uv[tgt], vis_src=joined.vis[src], vis_tgt=joined.vis[tgt],
                  conf_src=joined.conf[src], conf_tgt=joined.conf[tgt], xyz_src=joined.xyz[src],
                  xyz_tgt=joined.xyz[tgt], depth_src=depth[src].astype(np.float32),
                  depth_tgt=depth[tgt].astype(np.float32), dynamic=dynamic,
                  camera_src=camera(src), camera_tgt=camera(tgt), joined=joined)
