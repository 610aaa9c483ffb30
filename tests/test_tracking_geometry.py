"""Multi-view helpers of the tracker (engine/tracking/geometry.py) on exact synthetic views."""

from __future__ import annotations

import numpy as np

from track2view.engine.tracking.geometry import epipolar_errors, project


def _sideways_cameras(T: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """K (3, 3) and w2c (T, 4, 4): a camera sliding along +x (epipolar lines are horizontal)."""
    K = np.array([[200.0, 0, 80], [0, 200, 60], [0, 0, 1]])
    w2c = np.tile(np.eye(4), (T, 1, 1))
    w2c[:, 0, 3] = -0.1 * np.arange(T)
    return K, w2c


def test_static_points_lie_on_their_epipolar_lines():
    K, w2c = _sideways_cameras()
    X = np.random.default_rng(0).uniform([-1, -1, 3], [1, 1, 6], (50, 3))
    uv, _ = project(X, K, w2c)
    vis = np.ones(uv.shape[:2], bool)
    vis[0, :10] = False  # tracks starting later are measured against their own first view
    err = epipolar_errors(uv, vis, K, w2c)
    assert np.isnan(err[0]).all() and np.isnan(err[1, :10]).all()  # a track's first view has no error
    assert np.nanmax(err) < 1e-6


def test_moving_off_the_epipolar_line_is_measured_in_pixels():
    K, w2c = _sideways_cameras()
    X = np.array([[0.2, -0.3, 4.0], [-0.5, 0.4, 5.0]])
    uv, _ = project(X, K, w2c)
    uv[2:, 0, 1] += 3.0  # the first point moves 3 px down from frame 2 on: across the horizontal lines
    uv[2:, 1, 0] += 5.0  # the second moves along its line: epipolar geometry cannot see that
    err = epipolar_errors(uv, np.ones((4, 2), bool), K, w2c)
    np.testing.assert_allclose(err[2:, 0], 3.0, atol=1e-6)
    np.testing.assert_allclose(err[1:, 1], 0.0, atol=1e-6)
