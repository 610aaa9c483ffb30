"""TAPVid-3D metrics: APD3D, 3D-AJ and occlusion accuracy (OA), following the reference
implementation (google-deepmind/tapnet, ``tapnet/tapvid3d/evaluation/metrics.py``, scaling="median").

Inputs are per clip, axis order (T, N): points in *camera* coordinates ``[x, y, z]`` (OpenCV
axes, any unit), visibility as booleans (True = visible; the reference uses occlusion flags).
Predictions are scaled globally by ``median |gt| / median |pred|`` over the point-frames visible in
both. A prediction is within threshold δ (pixels, :data:`PIXEL_THRESHOLDS`) when its 3D distance to
the ground truth is below ``δ · z_gt / sqrt(fx · fy)`` — the pixel threshold back-projected at the
ground-truth depth. All returned values are fractions in [0, 1] (the paper multiplies by 100).
"""

from __future__ import annotations

import numpy as np

PIXEL_THRESHOLDS = (1, 2, 4, 8, 16)


def median_scale(gt_xyz: np.ndarray, gt_vis: np.ndarray, pred_xyz: np.ndarray, pred_vis: np.ndarray) -> float:
    """``median |gt| / median |pred|`` over point-frames visible in both (1.0 if there are none)."""
    both = gt_vis & pred_vis
    if not both.any():
        return 1.0
    gt_norm = np.linalg.norm(gt_xyz[both], axis=-1)
    pred_norm = np.maximum(np.linalg.norm(pred_xyz[both], axis=-1), 1e-12)
    return float(np.median(gt_norm) / np.median(pred_norm))


def tapvid3d_metrics(gt_xyz: np.ndarray, gt_vis: np.ndarray, pred_xyz: np.ndarray, pred_vis: np.ndarray,
                     focal: tuple[float, float], point_mask: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of one clip.

    ``gt_xyz``/``pred_xyz`` (T, N, 3) camera coordinates; ``gt_vis``/``pred_vis`` (T, N) bool;
    ``focal`` (fx, fy) of the ground-truth camera in pixels. ``point_mask`` (N,) restricts the
    scores to some points (e.g. static or dynamic ones) *after* the global scale is fixed on all
    of them. Returns ``apd3d``, ``aj3d``, ``oa`` and ``pts_within_{δ}`` / ``jaccard_{δ}``.
    """
    gt_vis = np.asarray(gt_vis, bool)
    pred_vis = np.asarray(pred_vis, bool)
    pred_xyz = np.nan_to_num(np.asarray(pred_xyz, np.float64), nan=1e6, posinf=1e6, neginf=-1e6)
    gt_xyz = np.asarray(gt_xyz, np.float64)
    pred_xyz = pred_xyz * median_scale(gt_xyz, gt_vis, pred_xyz, pred_vis)
    if point_mask is not None:
        keep = np.asarray(point_mask, bool)
        gt_xyz, gt_vis, pred_xyz, pred_vis = gt_xyz[:, keep], gt_vis[:, keep], pred_xyz[:, keep], pred_vis[:, keep]
    out: dict[str, float] = {"oa": float(np.mean(gt_vis == pred_vis)) if gt_vis.size else float("nan")}
    dist = np.linalg.norm(pred_xyz - gt_xyz, axis=-1)
    per_px = gt_xyz[..., 2] / np.sqrt(focal[0] * focal[1])
    within_all, jaccard_all = [], []
    n_visible = gt_vis.sum()
    for delta in PIXEL_THRESHOLDS:
        within = dist < delta * per_px
        correct = within & gt_vis
        frac = correct.sum() / n_visible if n_visible else float("nan")
        true_pos = (correct & pred_vis).sum()
        false_pos = ((~gt_vis & pred_vis) | (~within & pred_vis)).sum()
        jac = true_pos / (n_visible + false_pos) if (n_visible + false_pos) else float("nan")
        out[f"pts_within_{delta}"] = float(frac)
        out[f"jaccard_{delta}"] = float(jac)
        within_all.append(frac)
        jaccard_all.append(jac)
    out["apd3d"] = float(np.mean(within_all))
    out["aj3d"] = float(np.mean(jaccard_all))
    return out
