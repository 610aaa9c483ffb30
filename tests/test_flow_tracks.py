"""2D tracks by chained optical flow (engine/tracking/flow_tracks.py): plain surfaces get tracks too."""

from __future__ import annotations

import numpy as np

from track2view.engine.tracking.flow_tracks import (
    BUDGET_FRAMES,
    CUT_SURVIVAL,
    FILL_SHARE,
    MAX_BUDGET_FACTOR,
    cut_frames,
    cut_frames_warning,
    point_budget,
    starved_frames,
    starved_frames_warning,
    track_flow,
)

from .tracking_scene import noise_texture


def _half_plain_clip(T: int = 6, size: tuple[int, int] = (96, 64), shift_px: float = 1.5) -> np.ndarray:
    """(T, H, W, 3) uint8: noise texture on the left half, plain grey on the right, all panning left."""
    import cv2

    w, h = size
    texture = noise_texture(0, 256)
    frames = []
    for t in range(T):
        shifted = cv2.warpAffine(texture, np.float32([[1, 0, -shift_px * t], [0, 1, 0]]), (w, h),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        shifted[:, w // 2:] = 128
        frames.append(shifted)
    return np.stack(frames).astype(np.uint8)


def test_plain_surfaces_get_untextured_tracks_on_a_budget_of_their_own():
    frames = _half_plain_clip()
    w = frames.shape[2]
    corners = track_flow(frames, 400)
    filled = track_flow(frames, 400, fill_flat=True)
    start = lambda f: f.uv[f.vis.argmax(0), np.arange(f.num_points), 0]  # noqa: E731  x where each track starts

    assert corners.textured.all() and (start(corners) < w // 2 + 4).all()  # corners only: the grey half is empty
    plain = ~filled.textured
    assert (start(filled)[plain] > w // 2).mean() > 0.9 and plain.sum() <= FILL_SHARE * 400
    assert filled.vis[:, plain].sum(0).min() >= 3  # they last: the smooth flow carries them along
    # The textured tracks are the same as without filling: their budget is untouched.
    np.testing.assert_allclose(filled.uv[:, filled.textured], corners.uv, atol=1e-4)


def test_a_long_shot_keeps_getting_new_points_as_old_ones_leave():
    """A 150-frame pan across a texture (2 px a frame): every point leaves the view within 48 frames.
    The budget grows after the first BUDGET_FRAMES frames, so the last frames are tracked as densely as the first."""
    texture = noise_texture(3, size=512)
    T = 150
    frames = np.stack([texture[100:164, 2 * t:2 * t + 96] for t in range(T)])
    flow = track_flow(frames, max_points=200)
    live = flow.vis[:, flow.textured].sum(1)
    assert live[-1] >= 0.6 * live[0], live[::10]
    assert flow.num_points > 2 * 200
    assert point_budget(200, 0) == point_budget(200, BUDGET_FRAMES - 1) == 200
    assert point_budget(200, 2 * BUDGET_FRAMES - 1) == 400
    assert point_budget(200, 100 * BUDGET_FRAMES) == MAX_BUDGET_FACTOR * 200
    assert flow.budget_spent is None and starved_frames_warning(flow, 200) is None


def test_a_shot_that_outlasts_the_point_budget_names_the_frames_left_with_few_points():
    """The same pan for 400 frames: the budget stops growing at 4 × 200 points (frame 199), points keep
    leaving, and the frames that keep fewer than 5 % of the budget's 200 points are named."""
    texture = noise_texture(3, size=1024)
    frames = np.stack([texture[100:164, 2 * t:2 * t + 96] for t in range(400)])
    flow = track_flow(frames, max_points=200)
    assert MAX_BUDGET_FACTOR * BUDGET_FRAMES - 1 <= flow.budget_spent < 300
    starved = starved_frames(flow, 200)
    live = flow.vis[:, flow.textured].sum(1)
    assert not starved[:flow.budget_spent + 1].any() and starved[-50:].all(), live[::20]
    text = starved_frames_warning(flow, 200, frame_start=1001)
    assert text.startswith(f"the tracker's point budget (200 points per 50 frames, at most 800: --max-points) ran "
                           f"out at frame {1001 + flow.budget_spent}; frames "), text
    assert text.endswith("-1400 keep as few as 0 tracks, so their camera may drift: track the shot in parts that end "
                         f"near frame {1001 + flow.budget_spent} (--frames)"), text


def test_a_cut_in_the_footage_is_named():
    """A pan across one texture that cuts to another at frame 12: the tracks end there, the pan alone has no cut."""
    one, other = noise_texture(3, size=512), noise_texture(4, size=512)
    frames = np.stack([(one if t < 12 else other)[100:164, 2 * t:2 * t + 96] for t in range(20)])
    assert cut_frames(track_flow(frames[:12], max_points=200)) == []
    flow = track_flow(frames, max_points=200)
    v = flow.vis[:, flow.textured]
    assert (v[11] & v[12]).sum() < CUT_SURVIVAL * v[11].sum()
    assert cut_frames(flow) == [12]
    assert cut_frames_warning([12], frame_start=1001).startswith("frame 1013: almost no tracked point carries over")
    assert cut_frames_warning([]) is None
