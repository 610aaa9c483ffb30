"""Paired tracks (pixels, metres) → the track conditioner's inputs (normalised torch tensors).

Conventions of the conditioner (see :mod:`.conditioner`): positions in (x, y) normalised to
[−1, 1] with ``align_corners=False`` (−1 = the left/top *edge*; the tracks file's pixel (0, 0) is
the centre of the top-left pixel, so ``x = (u + 0.5) / W · 2 − 1``), depth divided by one
clip-wide scale (the median visible source depth), visibility as 0/1 floats.

The model sees one track sample per *latent* frame: the Wan VAE maps video frame 0 to latent 0
and frames ``4i − 3 … 4i`` to latent ``i`` (temporal factor 4), so latent ``i`` of a window
starting at frame ``s`` is represented by the track positions at frame ``s + 4i``
(:func:`latent_frame_indices`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import UserError
from ..io.tracks import Tracks


def normalize_uv(uv: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixels (…, 2) of an image of ``size`` (W, H) → normalised (x, y), ``align_corners=False``."""
    wh = np.asarray(size, np.float32)
    return (np.asarray(uv, np.float32) + 0.5) / wh * 2.0 - 1.0


def median_source_depth(tracks: Tracks) -> float:
    """The clip's depth scale: median camera-space z (metres) of the visible source track samples.

    Raises:
        UserError: no track is visible in front of the source camera.
    """
    if not tracks.is_paired:
        raise UserError("tracks are not paired with a target camera (no depth_src); pair them first")
    depth = tracks.depth_src[tracks.vis & (tracks.depth_src > 0)]
    if depth.size == 0:
        raise UserError("no track is visible in front of the source camera; re-run tracking on this shot")
    return float(np.median(depth))


def latent_frame_indices(start: int, num_latent_frames: int, temporal_factor: int) -> np.ndarray:
    """Video frame representing each latent frame of a window starting at frame ``start``."""
    return start + temporal_factor * np.arange(num_latent_frames)


def conditioner_track_inputs(
    tracks: Tracks,
    frames: np.ndarray,
    target_size: tuple[int, int],
    depth_scale: float,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, ...]:
    """The six track inputs of the conditioner at the given video ``frames``.

    Args:
        tracks: paired tracks (``uv`` in source pixels of ``tracks.size``, ``uv_tgt`` in target pixels).
        frames: (F,) indices into the tracks' frames (one per latent frame).
        target_size: (W, H) of the target camera's image, the pixels ``uv_tgt`` refers to.
        depth_scale: metres that map to depth 1 (:func:`median_source_depth`).
        device: where the tensors go.

    Returns:
        ``(uv_src, uv_tgt, depth_src, depth_tgt, vis_src, vis_tgt)``: (1, F, N, 2) ×2 and
        (1, F, N) ×4 float32 tensors, in the order of :meth:`TrackConditioner.forward`.
    """
    uv_src, uv_tgt = tracks.uv[frames], tracks.uv_tgt[frames]
    depth_src, depth_tgt = tracks.depth_src[frames], tracks.depth_tgt[frames]
    # Samples with non-finite values (e.g. NaN for untracked frames) count as unobserved.
    vis_src = tracks.vis[frames] & np.isfinite(uv_src).all(-1) & np.isfinite(depth_src)
    vis_tgt = tracks.vis_tgt[frames] & np.isfinite(uv_tgt).all(-1) & np.isfinite(depth_tgt)
    arrays = (
        np.nan_to_num(normalize_uv(uv_src, tracks.size), nan=0.0, posinf=0.0, neginf=0.0),
        np.nan_to_num(normalize_uv(uv_tgt, target_size), nan=0.0, posinf=0.0, neginf=0.0),
        np.nan_to_num(depth_src / depth_scale, nan=1.0, posinf=1.0, neginf=1.0),
        np.nan_to_num(depth_tgt / depth_scale, nan=1.0, posinf=1.0, neginf=1.0),
        vis_src,
        vis_tgt,
    )
    return tuple(torch.from_numpy(np.ascontiguousarray(a, np.float32))[None].to(device) for a in arrays)
