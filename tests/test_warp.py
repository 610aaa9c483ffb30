"""Dense depth and the geometric warp on the analytic two-plane shot (exact frames and depth for any camera)."""

import dataclasses

import cv2
import numpy as np
import pytest

from track2view.engine.coverage import compute_coverage
from track2view.engine.dense_depth import DenseDepth, dense_depth
from track2view.engine.errors import UserError
from track2view.engine.eval.fidelity import interior_holes
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.warp import iter_warp, warp_video

from .tiny_shot import make_tracks, orbit_camera, psnr, render, source_camera


@pytest.fixture(scope="module")
def shot():
    cam = source_camera((160, 100), 6)
    frames, depth = render(cam)
    return cam, frames, depth, make_tracks(cam, 3000)


def true_depth(depth: np.ndarray, size: tuple[int, int]) -> DenseDepth:
    return DenseDepth(depth=depth, dynamic=np.zeros_like(depth), size=size)


def test_identity_target_reproduces_the_footage(shot):
    cam, frames, _, tracks = shot
    out, holes = warp_video(frames, tracks, cam)
    assert out.shape == frames.shape and holes.shape == frames.shape[:3]
    assert not holes.any()
    assert (out == frames).all()


def test_dense_depth_agrees_with_the_tracks_and_the_truth(shot):
    cam, frames, depth, tracks = shot
    dense = dense_depth(frames, tracks)
    for t in (0, 5):
        full, moving = dense.frame(t)
        assert full.shape == depth[t].shape and (moving == 0).all()
        vis = tracks.vis[t]
        z = (tracks.xyz[t, vis] @ tracks.w2c[t, 2, :3] + tracks.w2c[t, 2, 3])
        u, v = np.round(tracks.uv[t, vis]).astype(int).T
        rel = np.abs(full[v, u] / z - 1)
        assert np.median(rel) < 0.02 and np.percentile(rel, 80) < 0.05
        # Away from the square's outline the map is the true depth.
        edge = cv2.dilate(cv2.Canny((depth[t] * 40).astype(np.uint8), 10, 20), np.ones((9, 9), np.uint8)) > 0
        assert np.median(np.abs(full[~edge] / depth[t][~edge] - 1)) < 0.02


def _backdrop(cam: CameraTrack, tracks, t: int) -> np.ndarray:
    """Indices of the tracks visible in frame t well away from the square (on the backdrop)."""
    vis = np.flatnonzero(tracks.vis[t])
    return vis[np.abs(tracks.uv[t, vis] - np.array(cam.size) / 2).max(1) > 40]


def _too_near(tracks, t: int, wrong) -> None:
    """Move tracks ``wrong`` in frame t 10x nearer the camera along their rays, as a failed triangulation is."""
    c2w = np.linalg.inv(tracks.w2c[t])
    cam_xyz = tracks.xyz[t, wrong] @ tracks.w2c[t, :3, :3].T + tracks.w2c[t, :3, 3]
    tracks.xyz[t, wrong] = (cam_xyz / 10) @ c2w[:3, :3].T + c2w[:3, 3]


def test_lone_wrong_track_depths_are_left_out_and_real_objects_kept(shot):
    cam, frames, depth, tracks = shot
    t = 2
    centre = np.array(cam.size) / 2
    # Three far-apart backdrop tracks triangulated 10x too near: spread over the image, each would be a
    # blob of wrong depth that a move smears.
    backdrop = _backdrop(cam, tracks, t)
    wrong = backdrop[[0, len(backdrop) // 2, -1]]
    bad = dataclasses.replace(tracks, xyz=tracks.xyz.copy())
    _too_near(bad, t, wrong)
    clean = dense_depth(frames, tracks).frame(t)[0]
    full = dense_depth(frames, bad).frame(t)[0]
    for i in wrong:
        u, v = np.round(tracks.uv[t, i]).astype(int)
        assert abs(full[v, u] / clean[v, u] - 1) < 0.05
    # The foreground square, an object of many tracks nearer than the backdrop, keeps its depth.
    square = np.abs(np.indices(depth[t].shape)[::-1] - centre[:, None, None]).max(0) < 8
    assert np.median(np.abs(full[square] / depth[t][square] - 1)) < 0.02


def test_a_lone_wrong_depth_on_a_sparsely_tracked_surface_is_left_out(shot):
    cam, frames, depth, tracks = shot
    t = 2
    backdrop = _backdrop(cam, tracks, t)
    wrong = backdrop[len(backdrop) // 2]
    # A plain patch: no other track within 9 px, so the usual neighbourhood holds too few to judge by.
    sparse = dataclasses.replace(tracks, vis=tracks.vis.copy(), xyz=tracks.xyz.copy())
    gap = np.linalg.norm(tracks.uv[t] - tracks.uv[t, wrong], axis=-1) < 9
    gap[wrong] = False
    sparse.vis[t, gap] = False
    clean = dense_depth(frames, sparse).frame(t)[0]
    _too_near(sparse, t, wrong)
    full = dense_depth(frames, sparse).frame(t)[0]
    u, v = np.round(tracks.uv[t, wrong]).astype(int)
    assert abs(full[v, u] / clean[v, u] - 1) < 0.05


def test_orbit_matches_ground_truth_and_tears_only_at_the_depth_step(shot):
    cam, frames, depth, tracks = shot
    target = orbit_camera(cam, 15.0)
    truth, _ = render(target)
    out, holes = warp_video(frames, tracks, target, true_depth(depth, cam.size), fill_offsets=())
    assert psnr(out, truth, ~holes) >= 28.0
    assert psnr(out, truth, ~holes) > psnr(frames, truth, ~holes) + 5
    # Orbiting left of the square reveals backdrop the source never saw: a hole beside the square.
    torn = interior_holes(holes[-1])
    assert 0.01 < torn.mean() < 0.2
    _, true_target_depth = render(target)
    step = cv2.dilate(cv2.Canny((true_target_depth[-1] * 40).astype(np.uint8), 10, 20), np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(torn)
    assert (step[ys, xs] > 0).mean() > 0.95 or _next_to(torn, step > 0)


def _next_to(region: np.ndarray, other: np.ndarray) -> bool:
    """Every connected part of ``region`` touches ``other``."""
    count, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    grown = cv2.dilate(other.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return all((grown & (labels == i)).any() for i in range(1, count))


def test_a_plane_alone_does_not_tear():
    cam = source_camera((160, 100), 3)
    frames, depth = render(cam)
    backdrop = np.full_like(depth, 5.0)  # every pixel on one fronto-parallel plane 5 m away
    target = orbit_camera(cam, 10.0)
    _, holes = warp_video(frames, make_tracks(cam, 500), target, true_depth(backdrop, cam.size), fill_offsets=())
    assert not any(interior_holes(h).any() for h in holes)


def test_temporal_fill_takes_the_colour_from_the_frame_that_sees_it(shot):
    cam, frames, depth, tracks = shot
    # Target frame 5 looks through the source camera of frame 0, from where the backdrop left of the
    # square shows more than frame 5 shows: frame 0 (5 frames earlier) has it.
    back = CameraTrack(K=cam.K, w2c=np.broadcast_to(cam.w2c[0], (6, 4, 4)), size=cam.size)
    true = true_depth(depth, cam.size)
    _, alone = warp_video(frames, tracks, back, true, fill_offsets=())
    out, filled = warp_video(frames, tracks, back, true, fill_offsets=(-1, -2, -4, -5))
    gained = alone[5] & ~filled[5]
    assert gained.sum() > 20 and not filled[5].any()
    assert psnr(out[5], frames[0], gained) >= 24.0  # resampled from frames 4..0: fine stripes blur a little


def test_frames_warped_at_once_give_the_same_frames_in_order(shot):
    cam, frames, depth, tracks = shot
    target, true = orbit_camera(cam, 15.0), true_depth(depth, cam.size)
    one = list(iter_warp(frames, tracks, target, true, threads=1))
    three = list(iter_warp(frames, tracks, target, true, threads=3))
    assert len(one) == len(three) == len(frames)
    for (image_a, hole_a), (image_b, hole_b) in zip(one, three, strict=True):
        assert (image_a == image_b).all() and (hole_a == hole_b).all()


def test_coverage_is_the_warp_hole_mask(shot):
    cam, frames, depth, tracks = shot
    target = orbit_camera(cam, 15.0)
    dense = dense_depth(frames, tracks)
    _, holes = warp_video(frames, tracks, target, dense)
    report = compute_coverage(tracks, target, dense)
    assert report.grid == cam.size
    np.testing.assert_allclose(report.coverage, 1 - holes.mean((1, 2)), atol=1e-9)
    assert (report.reference == 1).all()


def test_inputs_are_checked(shot):
    cam, frames, depth, tracks = shot
    with pytest.raises(UserError, match="frames"):
        warp_video(frames[:2], tracks, cam)
    with pytest.raises(UserError, match="frames"):
        dense_depth(frames[:2], tracks)
    hidden = tracks.subset(frames=slice(0, 2))
    hidden.vis[1] = False                       # nothing seen in frame 1: its depth is unknown, all holes
    dense = dense_depth(frames[:2], hidden)
    assert (dense.depth[1] == 0).all() and (dense.depth[0] > 0).all()
    assert warp_video(frames[:2], hidden, cam, dense, fill_offsets=())[1][1].all()
    assert not warp_video(frames[:2], hidden, cam, dense, fill_offsets=(-1,))[1][1].any()   # frame 0 shows it all


def test_depth_edges_follow_the_image_when_upsampled():
    from track2view.engine.dense_depth import full_resolution, guided_upsample

    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 37:] = 200                                          # a bright far wall right of column 37
    low = np.where(np.arange(20) * 4 + 1.5 >= 37, 8.0, 2.0)[None].repeat(10, 0).astype(np.float32)
    sharp = guided_upsample(low, image)
    ramp = full_resolution(low, (80, 40))
    assert (sharp[:, :37] == pytest.approx(2.0, rel=1e-3)) and (sharp[:, 37:] == pytest.approx(8.0, rel=1e-3))
    assert ((ramp > 2.01) & (ramp < 7.99)).any()                # bilinear spreads the edge over a ramp
    unknown = guided_upsample(np.zeros((10, 20), np.float32), image)
    assert (unknown == 0).all()


def test_far_and_infinite_depths_do_not_break_the_warp():
    cam = source_camera((160, 100), 4)
    frames, depth = render(cam)
    far = depth.copy()
    far[:, :20] = 1e10                                           # a sky: no surface, rendered at 1e10 m
    far[:, -5:] = np.inf
    target = orbit_camera(cam, 10.0)
    tracks = make_tracks(cam, 500)
    out, holes = warp_video(frames, tracks, target, true_depth(far, cam.size))
    _, plain = warp_video(frames, tracks, target, true_depth(depth, cam.size))
    assert out.shape == frames.shape and np.isfinite(out.astype(float)).all()
    # What the unknown columns held goes missing, and the sky (1e10 m) moves off the 5 m backdrop's place.
    assert holes.mean() - plain.mean() < 0.1


def _later_camera(cam: CameraTrack, k: int) -> CameraTrack:
    """Target frame t looks through the source camera of frame t + k (the last frames hold the last camera)."""
    later = np.minimum(np.arange(cam.num_frames) + k, cam.num_frames - 1)
    return CameraTrack(K=cam.K[later], w2c=cam.w2c[later].copy(), size=cam.size)


def test_on_a_static_shot_the_camera_of_a_later_frame_reproduces_that_frame(shot):
    cam, frames, depth, tracks = shot
    target = _later_camera(cam, 3)
    wrong = true_depth(depth * 1.15, cam.size)  # a depth 15 % off misplaces what frame t shows from there
    alone, alone_holes = warp_video(frames, tracks, target, wrong, fill_offsets=())
    out, holes = warp_video(frames, tracks, target, wrong)
    assert not holes[:2].any() and not (holes & ~alone_holes).any()  # the nearer view adds no hole anywhere
    assert (out[:2] == frames[3:5]).mean() > 0.99  # frames 3 and 4 come from frames 3 and 4 themselves
    assert psnr(out[:2], frames[3:5]) > psnr(alone[:2], frames[3:5]) + 10


def test_what_frame_t_shows_thinly_the_nearer_view_fills():
    cam = source_camera((160, 100), 20)
    frames, depth = render(cam)
    target = _later_camera(cam, 5)
    target.w2c[:, 0, 3] -= 0.01  # 1 cm right of the source camera 5 frames on: frame 16 shows the border thinly
    _, holes = warp_video(frames, make_tracks(cam, 3000), target, true_depth(depth * 1.1, cam.size))
    assert not holes.any()


@pytest.mark.parametrize("linear", [False, True])
def test_what_changed_since_frame_t_is_shown_as_frame_t_shows_it(shot, linear):
    cam, frames, depth, tracks = shot
    changed = frames.copy()
    changed[3, 40:60, 20:40] = (255, 0, 0)  # something red in frame 3 only: at time 0 it was not there
    if linear:  # a dark scene-linear plate: the patch is black, less than 0.05 below its surroundings (a
        # difference of up to 0.001, black against near black, is within the test's margin)
        changed = ((changed / np.float32(255)) ** 2.2 * np.float32(0.05)).astype(np.float32)
        changed[3, 40:60, 20:40] = 0
    target, true = _later_camera(cam, 3), true_depth(depth, cam.size)
    out, _ = warp_video(changed, tracks, target, true)
    alone, _ = warp_video(changed, tracks, target, true, fill_offsets=())  # frame 0 alone, from camera 3
    same = (lambda a, b: a == b) if not linear else (lambda a, b: np.isclose(a, b, rtol=1e-4, atol=1e-3))
    assert same(out[0, 42:58, 22:38], alone[0, 42:58, 22:38]).all()  # there, frame 0's view from camera 3
    assert same(out[0, 70:], changed[3, 70:]).mean() > 0.99          # unchanged below it: frame 3 itself
