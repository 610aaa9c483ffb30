"""engine/camera_moves.py: preset table, end values, frame range, pivot."""

import numpy as np
import pytest

from track2view.engine import camera_moves as cm
from track2view.engine.errors import UserError
from track2view.engine.io.tracks import Tracks


def test_presets_come_in_opposite_pairs_on_known_channels():
    assert set(cm.CHANNEL_NAMES) == {m.channel for m in cm.MOVES}
    for channel in cm.CHANNEL_NAMES:
        signs = sorted(m.sign for m in cm.MOVES if m.channel == channel)
        assert signs == [-1, 1], channel


def test_end_values_add_or_scale():
    orbit_left = cm.MOVES_BY_NAME["ORBIT_LEFT"]
    assert cm.move_end_value(orbit_left, 10.0, 15.0) == -5.0
    assert cm.move_end_value(cm.MOVES_BY_NAME["ZOOM_IN"], 1.0, 2.0) == 2.0
    assert cm.move_end_value(cm.MOVES_BY_NAME["ZOOM_OUT"], 1.0, 2.0) == 0.5
    with pytest.raises(UserError, match="zoom factor must be > 0"):
        cm.move_end_value(cm.MOVES_BY_NAME["ZOOM_IN"], 1.0, 0.0)


def test_a_move_needs_two_frames():
    assert cm.move_frame_range(1, 2) == (1, 2)
    with pytest.raises(UserError, match="at least two frames"):
        cm.move_frame_range(5, 5)


def test_pivot_is_the_median_of_visible_positions():
    xyz = np.array([[[0, 0, 0], [2, 0, 0], [1, 5, 0], [100, 100, 100]]], float)
    vis = np.array([[True, True, True, False]])
    tracks = Tracks(xyz=xyz, uv=np.zeros((1, 4, 2)), vis=vis, conf=np.ones((1, 4)), rgb=np.zeros((4, 3)),
                    K=np.eye(3)[None], w2c=np.eye(4)[None], size=(16, 16), fps=24)
    np.testing.assert_allclose(cm.track_pivot(tracks), [1, 0, 0])
    tracks.vis[:] = False
    with pytest.raises(UserError, match="no visible tracks"):
        cm.track_pivot(tracks)
