"""4D consistency: do the points of the generated video move where the paired tracks say they must?

Our 2D tracker (:func:`..tracking.flow_tracks.track_flow`) runs on the generated video with the
ground-truth target frame 0 prepended as an *anchor*: its tracks seeded in the anchor start on the
true target image, so a generated video that is shifted, misplaced or drifting shows up as motion
away from where the ground-truth tracks go. The anchor is repeated
:data:`..tracking.flow_tracks.MIN_TRACK_FRAMES` times, so that no seed is dropped as too short when
the tracker loses it on the first generated frame: the seeds depend on the anchor only, and every
method is measured on the same points.

Each ground-truth target track visible at frame 0 (in both views: the source has pixels for it)
is matched to the tracker's nearest anchor seed within :data:`MATCH_RADIUS_PX`. For every later
frame t where the ground-truth point is visible in the target, the error is

    ‖(p_t − p_anchor) − (g_t − g_0)‖   (pixels of the target image)

with p the tracker's track (generated frame t is video index t + MIN_TRACK_FRAMES) and g the ground truth;
comparing displacements cancels the sub-seed offset of the match. A tracker track that is lost
at t counts as a miss (not within the threshold, not in the median).
"""

from __future__ import annotations

import numpy as np

from ..errors import require_tool
from ..tracking.flow_tracks import MIN_TRACK_FRAMES, track_flow

MATCH_RADIUS_PX = 3.0  # largest distance between a ground-truth point and its tracker seed, pixels
WITHIN_PX = 4.0  # the "share within" threshold of the protocol, pixels
TRACK_POINTS = 8000  # tracker point budget (a seed every ~4 px at 256²)


def consistency_metrics(generated: np.ndarray, anchor: np.ndarray, uv_gt: np.ndarray, vis_gt: np.ndarray,
                        seen_in_source: np.ndarray | None = None) -> dict[str, float]:
    """4D consistency of ``generated`` (T, H, W, 3) uint8 against ground-truth target tracks.

    ``anchor`` (H, W, 3) the true target frame 0; ``uv_gt`` (T, N, 2) target pixels and ``vis_gt``
    (T, N) target visibility of the ground-truth points; ``seen_in_source`` (T, N) restricts the
    queries to points the source sees at frame 0. Returns ``median_px`` (median error over tracked
    frames; nan if none), ``within_4px`` (share of evaluated point-frames within :data:`WITHIN_PX`,
    lost counted as outside), ``lost_share`` and ``points`` (queries evaluated).
    """
    cKDTree = require_tool("scipy.spatial", "the evaluation's 4D consistency").cKDTree

    lead = MIN_TRACK_FRAMES
    video = np.concatenate([np.repeat(anchor[None], lead, 0), generated])
    flow = track_flow(video, TRACK_POINTS)
    query = vis_gt[0] if seen_in_source is None else vis_gt[0] & seen_in_source[0]
    q_idx = np.nonzero(query)[0]
    seeds = np.nonzero(flow.vis[0])[0]
    empty = {"median_px": float("nan"), "within_4px": float("nan"), "lost_share": float("nan"), "points": 0}
    if len(q_idx) == 0 or len(seeds) == 0:
        return empty
    dist, nearest = cKDTree(flow.uv[0, seeds]).query(uv_gt[0, q_idx], distance_upper_bound=MATCH_RADIUS_PX)
    ok = np.isfinite(dist)
    q_idx, k_idx = q_idx[ok], seeds[nearest[ok]]
    if len(q_idx) == 0:
        return empty
    gt_move = uv_gt[:, q_idx] - uv_gt[:1, q_idx]              # (T, M, 2)
    tr_move = flow.uv[lead:, k_idx] - flow.uv[:1, k_idx]       # (T, M, 2)
    error = np.linalg.norm(tr_move - gt_move, axis=-1)
    evaluated = vis_gt[:, q_idx]
    tracked = evaluated & flow.vis[lead:, k_idx]
    errors = error[tracked]
    total = int(evaluated.sum())
    return {
        "median_px": float(np.median(errors)) if len(errors) else float("nan"),
        "within_4px": float((errors <= WITHIN_PX).sum() / total) if total else float("nan"),
        "lost_share": float(1.0 - tracked.sum() / total) if total else float("nan"),
        "points": int(len(q_idx)),
    }
