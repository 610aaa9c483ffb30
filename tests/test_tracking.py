"""The built-in tracker on tiny ray-cast clips with known cameras and depth (tests/tracking_scene.py)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from track2view.engine.dense_depth import cached_dense_depth, depth_path
from track2view.engine.errors import UserError
from track2view.engine.eval.camera_metrics import camera_errors
from track2view.engine.eval.tapvid3d import tapvid3d_metrics
from track2view.engine.io.tracks import load_tracks
from track2view.engine.io.video import write_frames
from track2view.engine.jobs import run_job
from track2view.engine.tracking.pipeline import report_path

from .tracking_scene import render_clip

SIZE = (160, 120)


def _quiet(_fraction, _message):
    pass


def _ground_truth_camera_points(tracks, depth, K, w2c):
    """True camera-space positions (T, N, 3) of each track's surface point, seen where it was first tracked."""
    T, N = tracks.vis.shape
    first = tracks.vis.argmax(0)
    uv = tracks.uv[first, np.arange(N)].astype(float)
    col = np.clip(np.round(uv[:, 0]).astype(int), 0, SIZE[0] - 1)
    row = np.clip(np.round(uv[:, 1]).astype(int), 0, SIZE[1] - 1)
    z = depth[first, row, col]
    cam = np.c_[(uv - K[:2, 2]) / K[0, 0], np.ones(N)] * z[:, None]
    c2w = np.linalg.inv(w2c[first])
    world = np.einsum("nij,nj->ni", c2w[:, :3, :3], cam) + c2w[:, :3, 3]
    return np.einsum("tij,nj->tni", w2c[:, :3, :3], world) + w2c[:, None, :3, 3], row, col, first


def _camera_points(tracks):
    w2c = tracks.w2c.astype(float)
    return np.einsum("tij,tnj->tni", w2c[:, :3, :3], tracks.xyz) + w2c[:, None, :3, 3]


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moving")
    frames, depth, K, w2c, ball = render_clip(T=12, size=SIZE)
    write_frames(frames, folder / "rgb")
    return folder, depth, K, w2c, ball


def test_moving_camera_is_tracked_within_tolerance(moving_clip, tmp_path):
    folder, depth, K, w2c, ball = moving_clip
    out = tmp_path / "shot.npz"
    result = run_job("track", {"input": str(folder / "rgb"), "out": str(out), "max_points": 2000}, _quiet)
    tracks = load_tracks(out)  # round trip through the tracks file
    report = json.loads(report_path(out).read_text())
    assert result["tracks"] == str(out) and report["camera_mode"] == "parallax"
    assert report["focal_source"].startswith(("estimated", "weakly constrained"))  # not given, not the default
    assert abs(tracks.K[0, 0, 0] - K[0, 0]) / K[0, 0] < 0.1
    assert tracks.num_frames == 12 and tracks.num_points > 1000 and tracks.size == SIZE
    assert set(report["timings_s"]) == {"read", "flow", "poses", "3d", "dense_depth", "write"}
    assert depth_path(out).is_file() and cached_dense_depth(out, tracks) is not None

    errors = camera_errors(tracks.w2c, w2c)
    assert errors["rot_err_deg"] < 3.0 and errors["trans_err"] < 0.5

    gt, row, col, first = _ground_truth_camera_points(tracks, depth, K, w2c)
    on_ball = ball[first, row, col]
    static = tapvid3d_metrics(gt, tracks.vis, _camera_points(tracks), tracks.vis, (K[0, 0], K[1, 1]),
                              point_mask=~on_ball)
    assert static["apd3d"] > 0.55 and static["pts_within_16"] > 0.9
    assert tracks.dynamic[on_ball].mean() > 0.3  # the moving ball is mostly found...
    assert tracks.dynamic[~on_ball].mean() < 0.1  # ...and little of the static scene is taken for moving
    # World frame: frame 0's camera at the origin, looking along +Y with +Z up.
    c2w0 = np.linalg.inv(tracks.w2c[0].astype(float))
    np.testing.assert_allclose(c2w0[:3, 3], 0, atol=1e-5)
    np.testing.assert_allclose(c2w0[:3, 2], [0, 1, 0], atol=1e-5)
    np.testing.assert_allclose(c2w0[:3, 1], [0, 0, -1], atol=1e-5)
    # Colours come from the footage.
    assert tracks.rgb.std() > 10


def test_rotating_camera_gets_rotation_only_poses_and_user_depth(tmp_path):
    frames, depth, K, w2c, _ = render_clip(T=10, size=SIZE, rotate_only=True, ball=False, seed=3)
    write_frames(frames, tmp_path / "rgb")
    (tmp_path / "depth").mkdir()
    for t, d in enumerate(depth):
        np.save(tmp_path / "depth" / f"{t:04d}.npy", d)
    out = tmp_path / "pan.npz"
    report = run_job("track", {"input": str(tmp_path / "rgb"), "out": str(out), "depth": str(tmp_path / "depth"),
                        "max_points": 1500}, _quiet)["report"]
    assert report["camera_mode"] == "rotation" and "rotation-only" in report["note"]
    tracks = load_tracks(out)
    centres = np.linalg.inv(tracks.w2c.astype(float))[:, :3, 3]
    np.testing.assert_allclose(centres, 0, atol=1e-4)
    # Rotations fitted to the tracks' rays (measured: 0.17-0.38° summed, focal within 0.4 % on seeds 3-5).
    assert camera_errors(tracks.w2c, w2c)["rot_err_deg"] < 1.0
    assert abs(tracks.K[0, 0, 0] - K[0, 0]) / K[0, 0] < 0.02
    gt, *_ = _ground_truth_camera_points(tracks, depth, K, w2c)
    metrics = tapvid3d_metrics(gt, tracks.vis, _camera_points(tracks), tracks.vis, (K[0, 0], K[1, 1]))
    assert metrics["apd3d"] > 0.6  # depth from the user's maps
    # The dense depth is the user's maps (in the tracks' units: the maps' own).
    dense = cached_dense_depth(out, tracks)
    assert "your depth maps" in report["dense_depth"]["source"]
    for t in (0, 9):
        truth = cv2.resize(depth[t], dense.depth.shape[:0:-1], interpolation=cv2.INTER_NEAREST)
        np.testing.assert_allclose(dense.depth[t], truth, rtol=1e-3)


def test_bad_inputs_name_the_file(tmp_path):
    frames, *_ = render_clip(T=3, size=(64, 48), ball=False)
    one = write_frames(frames[:1], tmp_path / "one")
    with pytest.raises(UserError, match="one.*only 1 frame"):
        run_job("track", {"input": str(one), "out": str(tmp_path / "a.npz")}, _quiet)
    blank = frames.copy()
    blank[1] = 0
    write_frames(blank, tmp_path / "blank")
    with pytest.raises(UserError, match="blank.*frame 1 is blank"):
        run_job("track", {"input": str(tmp_path / "blank"), "out": str(tmp_path / "b.npz")}, _quiet)
    good = write_frames(frames, tmp_path / "good")
    (tmp_path / "depth").mkdir()
    np.save(tmp_path / "depth" / "0.npy", np.ones((48, 64), np.float32))
    with pytest.raises(UserError, match="depth.*1 depth maps but the footage has 3 frames"):
        run_job("track", {"input": str(good), "out": str(tmp_path / "c.npz"), "depth": str(tmp_path / "depth")}, _quiet)
    for t in (1, 2):
        np.save(tmp_path / "depth" / f"{t}.npy", np.ones((48, 64), np.float32))
    np.save(tmp_path / "depth" / "2.npy", np.full((48, 64), np.nan, np.float32))
    with pytest.raises(UserError, match="2.npy: depth map holds no positive finite depth"):
        run_job("track", {"input": str(good), "out": str(tmp_path / "c.npz"), "depth": str(tmp_path / "depth")}, _quiet)
    np.save(tmp_path / "depth" / "2.npy", np.ones((64, 64), np.float32))
    with pytest.raises(UserError, match="2.npy: depth map is 64x64, not the footage's shape"):
        run_job("track", {"input": str(good), "out": str(tmp_path / "c.npz"), "depth": str(tmp_path / "depth")}, _quiet)
    with pytest.raises(UserError, match="good: the range 1:9 is longer than the footage .3 frames"):
        run_job("track", {"input": str(good), "out": str(tmp_path / "c.npz"), "frames": [1, 9]}, _quiet)  # was cut silently
    (tmp_path / "taken.npz").write_bytes(b"mine")
    with pytest.raises(UserError, match="taken.npz already exists"):
        run_job("track", {"input": str(good), "out": str(tmp_path / "taken.npz")}, _quiet)
    assert (tmp_path / "taken.npz").read_bytes() == b"mine"
    assert not list(tmp_path.glob("[abc].npz"))


def test_the_tracks_cache_is_reused_only_for_the_same_footage_and_settings(tmp_path):
    import os

    from track2view.engine.tracking.cache import (
        cache_differences,
        cache_path,
        tracking_settings,
        write_settings,
    )

    footage = tmp_path / "My Shot (v2)"
    footage.mkdir()
    (footage / "0001.png").write_bytes(b"frame")
    cache = cache_path(footage, tmp_path / "cache")
    assert cache.parent == tmp_path / "cache" and cache.name.startswith("My_Shot__v2_-")
    assert cache_path(tmp_path / "other" / "My Shot (v2)", tmp_path / "cache") != cache  # another folder
    settings = tracking_settings(footage, [0, 8], 1500, None)
    assert cache_differences(cache, settings) == ["no cache"]
    cache.parent.mkdir()
    cache.write_bytes(b"tracks")
    write_settings(cache, settings)
    assert cache_differences(cache, settings) == []
    assert cache_differences(cache, tracking_settings(footage, [0, 8], 3000, None)) == ["max_points"]
    os.utime(footage / "0001.png", ns=(1, 1))  # the footage was replaced
    assert cache_differences(cache, tracking_settings(footage, [0, 8], 1500, None)) == ["footage_stamp"]
