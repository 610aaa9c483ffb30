"""Which split tracks make reliable source ↔ target pairs, and why the others were dropped.

Each track gets the first reason of :data:`REASONS` that applies (frame counts are per view, the
shared frame 0 belongs to both views):

- ``no_shared_frame``: not tracked at the shared frame, so it links nothing across the views;
- ``breaks_at_junction``: tracked at the shared frame but lost before target frame 1;
- ``too_short``: visible in fewer than :data:`MIN_TRACK_FRAMES` frames in all (shared frame once),
  or in fewer than :data:`MIN_TARGET_FRAMES` target frames after the shared one;
- ``low_confidence``: mean tracker confidence over its visible frames below :data:`MIN_CONFIDENCE`;
- ``depth_jump``: camera depth changes by more than :data:`MAX_JUNCTION_DEPTH_STEP` (relative)
  from the shared frame to source frame 1 or target frame 1 — the track slid onto another surface
  where the clip turns around — or is not in front of the camera at the shared frame;
- ``halves_disagree``: the two halves place the point at different world positions at the same
  moment (views are synchronized): median distance over the frames both see it above
  :data:`MAX_HALF_MISMATCH` × its source depth.
"""

from __future__ import annotations

import numpy as np

from .junction import Halves

MIN_TRACK_FRAMES = 4
MIN_TARGET_FRAMES = 2
MIN_CONFIDENCE = 0.5
MAX_JUNCTION_DEPTH_STEP = 0.15
MAX_HALF_MISMATCH = 0.1
MIN_DEPTH = 1e-6  # camera-space z (tracker units) a point needs at the shared frame

REASONS = ("no_shared_frame", "breaks_at_junction", "too_short", "low_confidence", "depth_jump",
           "halves_disagree")


def _relative_step(depth: np.ndarray, vis: np.ndarray, d0: np.ndarray) -> np.ndarray:
    """|depth[1] − d0| / d0 where frame 1 is visible, else 0; (N,)."""
    if depth.shape[0] < 2:
        return np.zeros_like(d0)
    step = np.abs(depth[1] - d0) / np.maximum(d0, MIN_DEPTH)
    return np.where(vis[1], step, 0.0)


def _half_mismatch(h: Halves) -> np.ndarray:
    """(N,) median over frames seen in both halves of |xyz_src − xyz_tgt| / depth_src (0 if never both)."""
    both = h.vis_src & h.vis_tgt
    dist = np.linalg.norm(h.xyz_src - h.xyz_tgt, axis=-1) / np.maximum(np.abs(h.depth_src), MIN_DEPTH)
    out = np.zeros(both.shape[1])
    any_both = both.any(0)
    out[any_both] = np.nanmedian(np.where(both, dist, np.nan)[:, any_both], axis=0)
    return out


def reject_reasons(h: Halves) -> np.ndarray:
    """(N,) int: index into :data:`REASONS` of the first reason each track is dropped, −1 if kept."""
    N = h.uv_src.shape[1]
    reason = np.full(N, -1)

    def mark(name: str, bad: np.ndarray) -> None:
        reason[(reason < 0) & bad] = REASONS.index(name)

    mark("no_shared_frame", ~h.vis_src[0])
    crosses = h.vis_tgt[1] if h.num_frames > 1 else np.zeros(N, bool)
    mark("breaks_at_junction", ~crosses)
    total = h.vis_src.sum(0) + h.vis_tgt[1:].sum(0)
    mark("too_short", (total < MIN_TRACK_FRAMES) | (h.vis_tgt[1:].sum(0) < MIN_TARGET_FRAMES))
    seen = np.concatenate([h.vis_src, h.vis_tgt[1:]])
    conf = np.concatenate([h.conf_src, h.conf_tgt[1:]])
    mean_conf = (conf * seen).sum(0) / np.maximum(seen.sum(0), 1)
    mark("low_confidence", mean_conf < MIN_CONFIDENCE)
    d0 = h.depth_src[0]
    step = np.maximum(_relative_step(h.depth_src, h.vis_src, d0), _relative_step(h.depth_tgt, h.vis_tgt, d0))
    mark("depth_jump", ~(d0 > MIN_DEPTH) | ~(step <= MAX_JUNCTION_DEPTH_STEP))
    mark("halves_disagree", ~(_half_mismatch(h) <= MAX_HALF_MISMATCH))
    return reason


def count_reasons(reason: np.ndarray) -> dict[str, int]:
    """{'tracked': N, <each reason>: dropped for it, 'kept': kept} from :func:`reject_reasons`."""
    counts = {"tracked": int(len(reason))}
    counts.update({name: int((reason == i).sum()) for i, name in enumerate(REASONS)})
    counts["kept"] = int((reason < 0).sum())
    return counts


THRESHOLDS = {"MIN_TRACK_FRAMES": MIN_TRACK_FRAMES, "MIN_TARGET_FRAMES": MIN_TARGET_FRAMES,
              "MIN_CONFIDENCE": MIN_CONFIDENCE, "MAX_JUNCTION_DEPTH_STEP": MAX_JUNCTION_DEPTH_STEP,
              "MAX_HALF_MISMATCH": MAX_HALF_MISMATCH}
"""The thresholds above by name, recorded in every sample's meta.json."""
