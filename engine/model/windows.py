"""Clips of any length from a model with a fixed frame window: overlapping windows, cross-faded.

The Wan VAE encodes ``4k + 1`` frames (temporal factor 4) into ``k + 1`` latent frames. A clip
of T frames is padded (last frame repeated) to the length the windows cover and cut back after
generation. Window starts are multiples of the temporal factor, so every window's latent frames
sit on one clip-wide latent grid and the initial noise is drawn once for that grid: overlapping
windows start from the same noise where they overlap. Decoded windows are blended with weights
that ramp linearly over each overlap (a cross-fade), so the seams carry no jump.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class WindowPlan:
    """Where the windows of a clip lie (video frame units).

    Attributes:
        num_frames: T, the clip's length.
        padded_frames: the length the windows cover (≥ T, ``4k + 1``).
        window_frames: frames per window (``4k + 1``).
        starts: first frame of each window (multiples of the temporal factor).
        overlap: frames shared by consecutive windows (0 for a single window).
        temporal_factor: video frames per latent frame (4 for the Wan VAE).
    """

    num_frames: int
    padded_frames: int
    window_frames: int
    starts: tuple[int, ...]
    overlap: int
    temporal_factor: int

    @property
    def latent_frames(self) -> int:
        """Latent frames of one window."""
        return (self.window_frames - 1) // self.temporal_factor + 1

    @property
    def padded_latent_frames(self) -> int:
        """Latent frames of the whole padded clip (the noise grid)."""
        return (self.padded_frames - 1) // self.temporal_factor + 1


def _round_up_to_window(frames: int, factor: int) -> int:
    return ((max(frames, 1) - 1 + factor - 1) // factor) * factor + 1


def plan_windows(num_frames: int, window_frames: int, overlap_frames: int, temporal_factor: int = 4) -> WindowPlan:
    """Cover ``num_frames`` with windows of at most ``window_frames`` frames.

    A clip that fits in one window gets one window of the smallest valid length (``4k + 1`` ≥ T).
    Otherwise windows advance by the largest multiple of ``temporal_factor`` that keeps at least
    ``overlap_frames`` + 1 shared frames.

    Raises:
        ValueError: a window length that is not ``4k + 1`` or an overlap that leaves no stride.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}: a clip needs at least one frame")
    if window_frames < 1 or (window_frames - 1) % temporal_factor:
        raise ValueError(f"window_frames={window_frames} must be {temporal_factor}k + 1")
    if num_frames <= window_frames:
        length = _round_up_to_window(num_frames, temporal_factor)
        return WindowPlan(num_frames, length, length, (0,), 0, temporal_factor)
    stride = ((window_frames - 1 - overlap_frames) // temporal_factor) * temporal_factor
    if stride < temporal_factor or overlap_frames < 0:
        raise ValueError(f"overlap_frames={overlap_frames} leaves no stride in a {window_frames}-frame window; "
                         f"use 0 … {window_frames - 1 - temporal_factor}")
    count = -(-(num_frames - window_frames) // stride) + 1
    starts = tuple(k * stride for k in range(count))
    return WindowPlan(num_frames, starts[-1] + window_frames, window_frames, starts,
                      window_frames - stride, temporal_factor)


def window_weights(plan: WindowPlan, index: int) -> np.ndarray:
    """(window_frames,) blend weights of window ``index``: 1 inside, linear ramps over overlaps.

    The ramp into window k+1 is ``(i + 1) / (overlap + 1)`` and the ramp out of window k its
    complement, so the weights of overlapping windows sum to 1 on every frame.
    """
    weights = np.ones(plan.window_frames, np.float32)
    ramp = (np.arange(plan.overlap, dtype=np.float32) + 1) / (plan.overlap + 1)
    if index > 0:
        weights[:plan.overlap] = ramp
    if index < len(plan.starts) - 1:
        weights[plan.window_frames - plan.overlap:] = 1.0 - ramp
    return weights


class WindowBlender:
    """Accumulates decoded windows into the clip with :func:`window_weights` (a linear cross-fade).

    ``add(index, frames)`` takes window ``index``'s (window_frames, H, W, 3) float frames;
    ``result()`` returns the (num_frames, H, W, 3) clip (padding cut off). Memory: one clip.
    """

    def __init__(self, plan: WindowPlan, height: int, width: int):
        self.plan = plan
        self.total = np.zeros((plan.padded_frames, height, width, 3), np.float32)
        self.weight_sum = np.zeros(plan.padded_frames, np.float32)

    def add(self, index: int, frames: np.ndarray) -> None:
        start = self.plan.starts[index]
        weights = window_weights(self.plan, index)
        self.total[start:start + self.plan.window_frames] += frames * weights[:, None, None, None]
        self.weight_sum[start:start + self.plan.window_frames] += weights

    def result(self) -> np.ndarray:
        if not (self.weight_sum > 0).all():
            raise ValueError("not every window was added")
        return (self.total / self.weight_sum[:, None, None, None])[:self.plan.num_frames]


def pad_frames(array: np.ndarray, length: int) -> np.ndarray:
    """``array`` along axis 0 extended to ``length`` by repeating its last entry (no copy if long enough)."""
    if len(array) >= length:
        return array
    pad = np.repeat(array[-1:], length - len(array), axis=0)
    return np.concatenate([array, pad], axis=0)
