"""Accuracy of curated correspondences against the ground truth of a synthetic clip (``t2v synth``).

The true 3D point of a curated track is where its source pixel at the shared frame 0 hits the
rendered source depth (``cam0/depth.npy``, nearest pixel), unprojected with the true source camera.
In a clip where no GT point moves, that point stays put. Otherwise its motion comes from the
nearest ground-truth point in 3D at frame 0 (within :data:`MATCH_RADIUS_PX` pixel footprints, else
the track is *unmatched* and not scored): that GT point's position at frame t plus the frame-0
offset rotated with the rigid motion of its object (Kabsch fit over the object's GT points) —
exact for rigid objects, approximate on deforming ones. The true target position at frame t is that point projected with the true
target camera; it is *visible* by the clip's depth test (:func:`..synth.clip.depth_consistent`).

- precision: share of curated pairs (track × target frame t ≥ 1 with ``vis_tgt``) whose target
  pixel is within 2 px / 4 px of the true one *and* whose true point is visible there;
- recall: share of GT points visible at the shared frame and in the target view at some t ≥ 1 that
  were recovered — a curated track lies within :data:`RECALL_RADIUS_PX` of the GT point at the
  shared frame and its scored target pixels have a median error ≤ :data:`RECOVERED_MAX_ERROR_PX`;
- the same precision for the source half (source frames t ≥ 1), as a check on the reversed part;
- depth: share of target pairs whose ``depth_tgt`` is within :data:`DEPTH_REL_TOLERANCE` of the
  true camera z times one scale per pair (the median ratio over the source half: the tracker's
  units are arbitrary, the trainer normalises depth by the median source depth anyway).

Counts are kept per point label ('static' / 'moving': the matched GT point's ``dynamic`` flag for
pairs and tracks, the GT point's own flag for recall) so clips can be pooled.
"""

from __future__ import annotations

import numpy as np

from ..errors import require_tool
from ..geometry.camera import project_points, unproject_points
from ..io.tracks import Tracks
from ..synth.clip import SynthClip, depth_consistent

MATCH_RADIUS_PX = 12.0
RECALL_RADIUS_PX = 2.0
RECOVERED_MAX_ERROR_PX = 4.0
THRESHOLDS_PX = (2.0, 4.0)
DEPTH_REL_TOLERANCE = 0.1
NO_HIT_DEPTH = 1e9  # rendered depth at or above this means the ray hit nothing
LABELS = ("static", "moving")
COUNT_KEYS = ("tracks", "unmatched", "pairs", "within2", "within4", "src_pairs", "src_within4",
              "gt_points", "recovered", "depth_within10")


def _kabsch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) best mapping centred points ``a`` (M, 3) onto ``b`` (M, 3)."""
    u, _, vt = np.linalg.svd((a - a.mean(0)).T @ (b - b.mean(0)))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def object_rotations(xyz: np.ndarray, object_id: np.ndarray) -> dict[int, np.ndarray]:
    """{object id: (T, 3, 3) rotation from frame 0 to each frame} of the GT points ``xyz`` (T, M, 3)."""
    out = {}
    for o in np.unique(object_id):
        pts = xyz[:, object_id == o]
        moves = np.abs(pts - pts[:1]).max() > 0
        if len(pts[0]) < 3 or not moves:
            out[int(o)] = np.broadcast_to(np.eye(3), (len(xyz), 3, 3))
        else:
            out[int(o)] = np.stack([_kabsch(pts[0], p) for p in pts])
    return out


def true_positions(tracks: Tracks, clip: SynthClip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World positions (T, N, 3) of the curated tracks' true points, matched (N,) bool, GT index (N,).

    See the module docstring; unmatched tracks get NaN positions.
    """
    cKDTree = require_tool("scipy.spatial", "scoring curated tracks against ground truth").cKDTree

    src = clip.source
    T, N = tracks.num_frames, tracks.num_points
    gt = src.tracks
    H, W = src.depth.shape[1:]
    u0 = tracks.uv[0].astype(np.float64)
    col = np.clip(np.rint(u0[:, 0]).astype(int), 0, W - 1)
    row = np.clip(np.rint(u0[:, 1]).astype(int), 0, H - 1)
    z0 = src.depth[0, row, col].astype(np.float64)
    hit = tracks.vis[0] & (z0 < NO_HIT_DEPTH)
    X0 = unproject_points(u0[None], z0[None], src.camera.K[:1], src.camera.w2c[:1])[0]

    seen = np.nonzero(gt.vis[0])[0]
    matched = np.zeros(N, bool)
    j = np.zeros(N, int)
    if len(seen) and hit.any():
        dist, nn = cKDTree(gt.xyz[0, seen]).query(X0[hit])
        footprint = z0[hit] / src.camera.K[0, 0, 0]
        matched[hit] = dist <= MATCH_RADIUS_PX * footprint
        j[hit] = seen[nn]
    if gt.dynamic is None or not gt.dynamic.any():
        matched = hit.copy()
    object_id = gt.object_id if gt.object_id is not None else np.zeros(gt.num_points, int)
    rotations = object_rotations(gt.xyz.astype(np.float64), object_id)
    X = np.full((T, N, 3), np.nan)
    for n in np.nonzero(matched)[0]:
        R = rotations[int(object_id[j[n]])][:T]
        X[:, n] = np.einsum("tij,j->ti", R, X0[n] - gt.xyz[0, j[n]]) + gt.xyz[:T, j[n]]
    return X, matched, j


def _errors(X: np.ndarray, uv: np.ndarray, view) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel error (T, N) of ``uv`` against ``X`` projected into ``view``'s true camera; true
    visibility (T, N); true camera z (T, N)."""
    T = len(X)
    true_uv, z = project_points(np.nan_to_num(X), view.camera.K[:T], view.camera.w2c[:T])
    visible = depth_consistent(true_uv, z, view.depth[:T]) & np.isfinite(X).all(-1)
    return np.linalg.norm(uv - true_uv, axis=-1), visible, z


def score_pair(tracks: Tracks, clip: SynthClip, target: int = 1) -> dict[str, dict[str, int]]:
    """Counts {label: {key: count}} (keys :data:`COUNT_KEYS`) of curated ``tracks`` (paired, source =
    camera 0 of ``clip``, target = camera ``target``) against the clip's ground truth."""
    X, matched, j = true_positions(tracks, clip)
    tgt_view = clip.views[target]
    T = tracks.num_frames
    gt_dynamic = clip.source.tracks.dynamic
    gt_dynamic = np.zeros(clip.source.tracks.num_points, bool) if gt_dynamic is None else gt_dynamic
    moving = gt_dynamic[j] & matched

    err_t, vis_t, z_t = _errors(X, tracks.uv_tgt, tgt_view)
    err_s, vis_s, z_s = _errors(X, tracks.uv, clip.source)
    pairs = tracks.vis_tgt & matched[None]
    pairs[0] = False
    src_pairs = tracks.vis & matched[None]
    src_pairs[0] = False
    ok = {thr: pairs & vis_t & (err_t <= thr) for thr in THRESHOLDS_PX}
    src_ok = src_pairs & vis_s & (err_s <= THRESHOLDS_PX[-1])
    src_seen = tracks.vis & matched[None] & (z_s > 0)
    scale = float(np.median(tracks.depth_src[src_seen] / z_s[src_seen])) if src_seen.any() else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        depth_ok = pairs & vis_t & (np.abs(tracks.depth_tgt / (scale * z_t) - 1) <= DEPTH_REL_TOLERANCE)

    # Recall over GT points seen at the shared frame and in the target view later.
    gt_src, gt_tgt = clip.source.tracks, tgt_view.tracks
    wanted = gt_src.vis[0] & gt_tgt.vis[1:T].any(0)
    track_err = np.where(pairs, np.where(vis_t, err_t, np.inf), np.nan)
    has_pairs = pairs.any(0)
    median_err = np.full(tracks.num_points, np.inf)
    median_err[has_pairs] = np.nanmedian(track_err[:, has_pairs], axis=0)
    good = has_pairs & (median_err <= RECOVERED_MAX_ERROR_PX)
    recovered = np.zeros(gt_src.num_points, bool)
    if good.any() and wanted.any():
        cKDTree = require_tool("scipy.spatial", "scoring curated tracks against ground truth").cKDTree

        near = cKDTree(tracks.uv[0, good]).query_ball_point(gt_src.uv[0, wanted], RECALL_RADIUS_PX)
        recovered[np.nonzero(wanted)[0]] = [len(x) > 0 for x in near]

    out = {}
    for label, is_moving in zip(LABELS, (False, True), strict=True):
        sel = moving == is_moving
        gsel = gt_dynamic == is_moving
        out[label] = {
            "tracks": int(sel.sum()), "unmatched": int((~matched & sel).sum()),
            "pairs": int(pairs[:, sel].sum()), "within2": int(ok[2.0][:, sel].sum()),
            "within4": int(ok[4.0][:, sel].sum()), "src_pairs": int(src_pairs[:, sel].sum()),
            "src_within4": int(src_ok[:, sel].sum()), "gt_points": int((wanted & gsel).sum()),
            "recovered": int((recovered & gsel).sum()), "depth_within10": int(depth_ok[:, sel].sum()),
        }
    return out


def add_counts(total: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
    """Sum of two count dicts (keys :data:`COUNT_KEYS`)."""
    return {k: total.get(k, 0) + counts.get(k, 0) for k in COUNT_KEYS}


def rates(counts: dict[str, int]) -> dict[str, float]:
    """Precision within 2/4 px (target), source-half precision within 4 px, recall, unmatched share."""
    def share(a: int, b: int) -> float:
        return a / b if b else float("nan")

    return {"precision_2px": share(counts["within2"], counts["pairs"]),
            "precision_4px": share(counts["within4"], counts["pairs"]),
            "source_precision_4px": share(counts["src_within4"], counts["src_pairs"]),
            "recall": share(counts["recovered"], counts["gt_points"]),
            "depth_within10": share(counts["depth_within10"], counts["pairs"]),
            "unmatched": share(counts["unmatched"], counts["tracks"])}
