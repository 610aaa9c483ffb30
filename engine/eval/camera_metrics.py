"""Camera accuracy, CamI2V / ReCamMaster protocol.

Both trajectories are made relative to their frame 0 (camera-to-world ``c2w_0⁻¹ c2w_t``), the
translations of each are divided by its own largest one (so scale and world frame do not matter),
then ``RotErr = Σ_t angle(R_est_tᵀ R_gt_t)`` in degrees and ``TransErr = Σ_t ‖t_est_t − t_gt_t‖``
(unitless), summed over frames. Inputs are world-to-camera matrices (T, 4, 4), OpenCV axes.
"""

from __future__ import annotations

import numpy as np

STATIC_CAMERA_EPS = 1e-9  # largest translation below this: the camera does not move, no normalisation


def relative_c2w(w2c: np.ndarray) -> np.ndarray:
    """(T, 4, 4) camera-to-world relative to frame 0, translations normalised by the largest."""
    c2w = np.linalg.inv(np.asarray(w2c, np.float64))
    rel = np.linalg.inv(c2w[0]) @ c2w
    largest = np.linalg.norm(rel[:, :3, 3], axis=1).max()
    if largest > STATIC_CAMERA_EPS:
        rel[:, :3, 3] /= largest
    return rel


def camera_errors(w2c_est: np.ndarray, w2c_gt: np.ndarray) -> dict[str, float]:
    """``rot_err_deg`` and ``trans_err`` summed over frames, plus ``rot_err_max_deg`` of one frame."""
    est, gt = relative_c2w(w2c_est), relative_c2w(w2c_gt)
    if len(est) != len(gt):
        raise ValueError(f"camera tracks differ in length: {len(est)} vs {len(gt)} frames")
    cos = (np.einsum("tij,tij->t", est[:, :3, :3], gt[:, :3, :3]) - 1) / 2  # trace(R_estᵀ R_gt)
    angles = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    trans = np.linalg.norm(est[:, :3, 3] - gt[:, :3, 3], axis=1)
    return {"rot_err_deg": float(angles.sum()), "trans_err": float(trans.sum()),
            "rot_err_max_deg": float(angles.max())}
