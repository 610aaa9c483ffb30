"""pair_tracks: projection into the target camera, per-view depth, target visibility."""

import numpy as np
import pytest

from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.pairing import pair_tracks

from .tiny_shot import make_tracks, orbit_camera, source_camera


@pytest.fixture
def shot():
    cam = source_camera((96, 64), 5)
    return cam, make_tracks(cam, 3000)


def test_identity_target_keeps_source_view(shot):
    cam, tracks = shot
    paired = pair_tracks(tracks, cam)
    assert paired.is_paired and paired.num_frames == 5
    np.testing.assert_allclose(paired.uv_tgt, tracks.uv, atol=1e-3)
    np.testing.assert_allclose(paired.depth_tgt, paired.depth_src, rtol=1e-6)
    back = tracks.xyz[0, :, 2] == 0
    np.testing.assert_allclose(paired.depth_src[:, back], 5.0, atol=0.2)
    # The exact occlusion test of the shot and the coarse depth buffer agree almost everywhere.
    agree = (paired.vis_tgt == tracks.vis).mean()
    assert agree > 0.97, agree
    assert not (paired.vis_tgt & ~tracks.vis).any()


def test_orbit_occludes_moves_and_crops(shot):
    cam, tracks = shot
    target = orbit_camera(cam, 25.0)
    paired = pair_tracks(tracks, target)
    truth = make_tracks(target, 3000)      # same points (same seed): exact target visibility
    np.testing.assert_allclose(paired.uv_tgt, truth.uv, atol=1e-3)
    expected = truth.vis & tracks.vis
    assert (paired.vis_tgt == expected).mean() > 0.97
    assert paired.vis_tgt.sum() < tracks.vis.sum()
    W, H = target.size
    u, v = paired.uv_tgt[..., 0], paired.uv_tgt[..., 1]
    outside = (u < -0.5) | (u >= W - 0.5) | (v < -0.5) | (v >= H - 0.5)
    assert outside.any() and not (paired.vis_tgt & outside).any()


def test_behind_camera_invisible_untracked_stays_invisible(shot):
    cam, tracks = shot
    # A camera at the backdrop looking back at the source: the backdrop is behind it.
    w2c = cam.w2c.copy()
    w2c[:, 2, 3] -= 6.0
    paired = pair_tracks(tracks, CameraTrack(K=cam.K, w2c=w2c, size=cam.size))
    assert not paired.vis_tgt[:, tracks.xyz[0, :, 2] == 0].any()
    assert (paired.depth_tgt[:, tracks.xyz[0, :, 2] == 0] < 0).all()

    tracks.vis[:, :100] = False
    tracks.xyz[2, 100:110] = np.nan
    paired = pair_tracks(tracks, cam)
    assert not paired.vis_tgt[:, :100].any()
    assert not paired.vis_tgt[2, 100:110].any()
    assert np.isfinite(paired.uv_tgt).all() and np.isfinite(paired.depth_tgt).all()


def test_frames_are_the_shorter_of_tracks_and_camera(shot):
    cam, tracks = shot
    short = CameraTrack(K=cam.K[:3], w2c=cam.w2c[:3], size=(50, 40))
    paired = pair_tracks(tracks, short)
    assert paired.num_frames == 3 and paired.size == tracks.size
    with pytest.raises(UserError, match="tolerance"):
        pair_tracks(tracks, cam, depth_tolerance=-1)
