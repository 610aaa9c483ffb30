"""Model choice of the camera solve (engine/tracking/camera_solve.py) on exact synthetic tracks."""

from __future__ import annotations

import numpy as np
import pytest

from track2view.engine.eval.camera_metrics import camera_errors
from track2view.engine.tracking.camera_solve import (
    WEAK_SUPPORT_SHARE,
    measure_parallax,
    solve_camera,
    support_shares,
    weak_frames_warning,
)
from track2view.engine.tracking.geometry import project

from .tracking_scene import look_at

SIZE = (320, 240)
K = np.array([[260.0, 0, 159.5], [0, 260, 119.5], [0, 0, 1]])


def _panning_shot_with_a_moving_crowd(T: int = 20, seed: int = 0):
    """A camera turning 20° about its centre; 3 of 4 points are a static backdrop 4–30 units
    away, 1 in 4 walk 1.5 units sideways about 5 units in front. Tracks (T, N, 2) with 0.2 px noise."""
    rng = np.random.default_rng(seed)
    w2c = np.stack([look_at([0, 0, 1.5], [np.sin(a) * 10, np.cos(a) * 10, 1.5])
                    for a in np.radians(np.linspace(-10, 10, T))])
    direction = rng.normal(size=(450, 3)) * [0.5, 0, 0.3] + [0, 1, 0]
    backdrop = [0, 0, 1.5] + direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(4, 30, (450, 1))
    crowd = rng.uniform([-1.5, 4.5, 0.5], [0.5, 5.5, 2.0], (150, 3))
    X = np.concatenate([np.broadcast_to(backdrop, (T, 450, 3)),
                        crowd + np.linspace(0, 1.5, T)[:, None, None] * [1, 0, 0]], axis=1)
    uv = np.stack([project(X[t], K, w2c[t:t + 1])[0][0] for t in range(T)]) + rng.normal(0, 0.2, (T, 600, 2))
    vis = (uv[..., 0] > 0) & (uv[..., 0] < SIZE[0] - 1) & (uv[..., 1] > 0) & (uv[..., 1] < SIZE[1] - 1)
    return uv, vis, w2c


def test_a_turning_camera_among_moving_things_gets_rotation_only_poses():
    uv, vis, w2c = _panning_shot_with_a_moving_crowd()
    # The walkers leave the homography by far more than a frame with parallax needs ...
    assert measure_parallax(uv, vis).max() > 6.0
    sol = solve_camera(uv, vis, SIZE, K[0, 0])
    # ... but most tracks fit a rotation, which the solve prefers to a two-view start on the crowd.
    assert sol.mode == "rotation", sol.report
    assert 0.7 <= sol.report["rotation_fit_share"] < 0.8
    assert "turning camera" in sol.report["note"]
    # Measured 0.40° summed over the frames; the parallax solve it replaces is 3.8° off.
    assert camera_errors(sol.w2c, w2c)["rot_err_deg"] < 1.0


def test_support_share_is_the_image_area_the_points_span():
    rng = np.random.default_rng(0)
    spread = rng.uniform([0, 0], SIZE, (400, 2))
    patch = rng.uniform([100, 100], [116, 112], (400, 2))  # 16 × 12 px of 320 × 240
    uv = np.stack([spread, patch, patch])
    vis = np.ones((3, 400), bool)
    vis[2, 5:] = False  # too few points to say anything: 0
    shares = support_shares(uv, vis, SIZE)
    assert shares[0] == pytest.approx(0.81, abs=0.05)  # the 5-95 % box of uniform points
    assert shares[1] == pytest.approx(0.9 ** 2 * 16 * 12 / (320 * 240), rel=0.1) and shares[2] == 0


def test_frames_resting_on_a_small_patch_are_reported_weak():
    """A sideways dolly past scattered points; in the last 4 frames only a 40 × 30 px patch stays tracked."""
    rng = np.random.default_rng(1)
    T = 16
    w2c = np.stack([look_at([x, 0, 1.5], [x, 10, 1.5]) for x in np.linspace(0, 1.5, T)])
    X = rng.uniform([-4, 6, -1.5], [5.5, 14, 4.5], (800, 3))
    uv = np.stack([project(X, K, w2c[t:t + 1])[0][0] for t in range(T)]) + rng.normal(0, 0.2, (T, 800, 2))
    vis = (uv[..., 0] > 0) & (uv[..., 0] < SIZE[0] - 1) & (uv[..., 1] > 0) & (uv[..., 1] < SIZE[1] - 1)
    in_patch = (np.abs(uv[..., 0] - 160) < 20) & (np.abs(uv[..., 1] - 120) < 15)
    vis[-4:] &= in_patch[-4:]
    sol = solve_camera(uv, vis, SIZE, K[0, 0])
    assert sol.mode == "parallax"
    assert sol.report["weak_frames"] == [12, 13, 14, 15], sol.report
    assert sol.report["min_support_share"] < WEAK_SUPPORT_SHARE
    text = weak_frames_warning(sol.report["weak_frames"], frame_start=1001)
    assert text.startswith("frames 1013-1016: the camera there rests on tracked points in under 5% of the image")
    assert weak_frames_warning([]) is None
