"""Geometric-warp preview: identity reproduces the footage; a new view matches the ray-cast truth."""

import numpy as np
import pytest

from track2view.engine.errors import UserError
from track2view.engine.pairing import pair_tracks
from track2view.engine.warp import warp_frame, warp_video

from .tiny_shot import make_tracks, orbit_camera, psnr, render, source_camera


@pytest.fixture(scope="module")
def shot():
    cam = source_camera((128, 80), 4)
    frames, _ = render(cam)
    return cam, frames, make_tracks(cam, 4000)


def test_identity_target_reproduces_the_footage(shot):
    cam, frames, tracks = shot
    out, holes = warp_video(frames, pair_tracks(tracks, cam), cam.size)
    assert out.shape == frames.shape and holes.shape == frames.shape[:3]
    assert holes.mean() < 0.1
    assert psnr(out, frames, ~holes) >= 30.0
    assert (out[holes] == 0).all()


def test_orbit_matches_ground_truth_and_marks_the_disocclusion(shot):
    cam, frames, tracks = shot
    target = orbit_camera(cam, 15.0)
    truth, _ = render(target)
    out, holes = warp_video(frames, pair_tracks(tracks, target), target.size)
    assert psnr(out, truth, ~holes) >= 24.0
    identity_error = psnr(frames, truth, ~holes)
    assert psnr(out, truth, ~holes) > identity_error + 5
    # Orbiting left of the square reveals backdrop the source never saw: a hole left of the square.
    assert 0.05 < holes[-1].mean() < 0.4


def test_untracked_area_is_a_hole_and_inputs_are_checked(shot):
    cam, frames, tracks = shot
    left = tracks.subset(points=np.nonzero(tracks.xyz[0, :, 0] < -0.5)[0])
    out, holes = warp_video(frames, pair_tracks(left, cam), cam.size)
    assert holes[:, :, -20:].all() and not holes[:, :, :20].all()
    img, hole = warp_frame(frames[0], np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2), (30, 20))
    assert hole.all() and img.shape == (20, 30, 3)
    with pytest.raises(UserError, match="paired"):
        warp_video(frames, tracks, cam.size)
    with pytest.raises(UserError, match="frames"):
        warp_video(frames[:2], pair_tracks(tracks, cam), cam.size)
