"""Camera poses of a (generated) video from our own 2D tracks, for the camera-accuracy metrics.

The second pose estimator of ``t2v eval`` (``--pose-estimator tracks``; the protocol's default is
:mod:`.colmap_poses`): dense optical-flow tracks (:func:`..tracking.flow_tracks.track_flow`, at most
:data:`TRACK_POINTS`) and our tracks-based camera solve (:func:`..tracking.camera_solve.solve_camera`:
two-view initialisation, PnP registration of every other frame, bundle adjustment; rotation-only
poses when the video shows no parallax) with the intrinsics *known*, like the pycolmap path.

Known intrinsics: the solve takes one focal length and puts the principal point at the image
centre, so the tracks are first moved to that reference camera — frame ``t``'s pixel ``p`` goes to
``c + f₀ · K_t⁻¹ p`` (``f₀`` frame 0's horizontal focal, ``c`` the image centre), which is exact for a
pinhole camera and also covers off-centre principal points, non-square pixels and zooms (per-frame K).

Frames the solve could not register (its report's ``fallback_frames``) keep a neighbouring frame's
pose and are marked ``registered`` False, as pycolmap's unregistered frames are. Fewer than
:data:`.colmap_poses.MIN_REGISTERED` registered frames → ``None`` (a pose failure).

Poses are world-to-camera (T, 4, 4) in OpenCV axes in the solve's world (frame 0's camera, arbitrary
scale); :mod:`.camera_metrics` makes them relative and scale-free.
"""

from __future__ import annotations

import time

import numpy as np

from ..tracking.camera_solve import intrinsics, solve_camera
from ..tracking.flow_tracks import track_flow
from .colmap_poses import MIN_REGISTERED, PoseEstimate

# Tracker seed budget over the whole clip: enough that re-seeding lasts to the last frame of a fast
# 25-frame 256² orbit (86°: with 4 000 or 8 000 the budget ran out mid-clip and the late frames drifted).
TRACK_POINTS = 40000


def to_reference_camera(uv: np.ndarray, K: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixels ``uv`` (T, N, 2) seen through per-frame intrinsics ``K`` (T, 3, 3) → the same rays' pixels
    in the reference camera ``intrinsics(K[0, 0, 0], size)`` (square pixels, centred principal point)."""
    ref = intrinsics(float(K[0, 0, 0]), size)
    rays = (uv - K[:, None, :2, 2]) / np.stack([K[:, 0, 0], K[:, 1, 1]], -1)[:, None, :]
    return rays * ref[0, 0] + ref[:2, 2]


def estimate_poses(frames: np.ndarray, K: np.ndarray) -> PoseEstimate | None:
    """Estimate per-frame poses of ``frames`` (T, H, W, 3) uint8 RGB with known intrinsics ``K``, (3, 3) or
    per frame (T, 3, 3) (pixels, (0, 0) = centre of the top-left pixel). ``models`` of the result is 1
    (one solve); ``rotation_only`` when the solve found too little parallax. Returns None when fewer than :data:`MIN_REGISTERED` frames register."""
    start = time.perf_counter()
    T, h, w = frames.shape[:3]
    K = np.broadcast_to(np.asarray(K, np.float64), (T, 3, 3))
    flow = track_flow(frames, TRACK_POINTS)
    uv = to_reference_camera(flow.uv.astype(np.float64), K, (w, h))
    solution = solve_camera(uv, flow.vis, (w, h), focal_px=float(K[0, 0, 0]))
    registered = np.ones(T, bool)
    registered[solution.report["fallback_frames"]] = False
    if registered.sum() < MIN_REGISTERED:
        return None
    return PoseEstimate(w2c=solution.w2c, registered=registered, models=1, seconds=time.perf_counter() - start,
                        rotation_only=solution.mode == "rotation")
