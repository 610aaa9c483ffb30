"""The tracks file, CAM.json, camera projection and atomic outputs."""

from __future__ import annotations

import dataclasses
import os
import stat

import numpy as np
import pytest

from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import (
    CameraTrack,
    load_camera_json,
    project_points,
    save_camera_json,
    unproject_points,
)
from track2view.engine.io.atomic import atomic_dir, atomic_file, check_writable_target
from track2view.engine.io.tracks import Tracks, load_tracks, save_tracks

from .tracking_scene import look_at


def random_tracks(T=4, N=10, paired=False, seed=0) -> Tracks:
    rng = np.random.default_rng(seed)
    K = np.array([[50.0, 0, 31.5], [0, 50, 31.5], [0, 0, 1]])
    w2c = np.stack([look_at((5, -5 + 0.1 * t, 2), (0, 0, 0)) for t in range(T)])
    xyz = rng.uniform(-1, 1, (T, N, 3))
    uv, depth = project_points(xyz, np.broadcast_to(K, (T, 3, 3)), w2c)
    extra = {}
    if paired:
        extra = dict(uv_tgt=uv + 1, depth_src=depth, depth_tgt=depth + 0.5, vis_tgt=np.ones((T, N), bool))
    return Tracks(xyz=xyz, uv=uv, vis=rng.random((T, N)) > 0.2, conf=rng.random((T, N)),
                  rgb=rng.integers(0, 255, (N, 3)), K=np.broadcast_to(K, (T, 3, 3)), w2c=w2c,
                  size=(64, 64), fps=24, dynamic=np.zeros(N, bool), object_id=np.zeros(N, int), **extra)


@pytest.mark.parametrize("paired", [False, True])
def test_tracks_round_trip(tmp_path, paired):
    tracks = random_tracks(paired=paired)
    path = save_tracks(tracks, tmp_path / "t.npz")
    back = load_tracks(path)
    for name in ("xyz", "uv", "vis", "conf", "rgb", "K", "w2c", "dynamic", "object_id"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tracks, name))
    assert back.size == (64, 64) and back.fps == 24.0
    assert back.is_paired == paired
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]


def test_tracks_bad_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="bad.npz"):
        load_tracks(bad)
    with pytest.raises(UserError, match="missing.npz"):
        load_tracks(tmp_path / "missing.npz")
    np.savez(tmp_path / "old.npz", format=np.int32(99))
    with pytest.raises(UserError, match="format 99"):
        load_tracks(tmp_path / "old.npz")
    # What a user passes by mistake: an empty file, a single .npy, another tracker's .npz.
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(UserError, match="empty.npz is not a readable tracks file"):
        load_tracks(tmp_path / "empty.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(UserError, match="array.npy is not a readable tracks file"):
        load_tracks(tmp_path / "array.npy")
    np.savez(tmp_path / "cotracker.npz", tracks=np.zeros((2, 3, 2)))
    with pytest.raises(UserError, match="cotracker.npz is not a Track2View tracks file.*import-tracks"):
        load_tracks(tmp_path / "cotracker.npz")
    tracks = random_tracks()
    with pytest.raises(UserError, match="'uv'"):
        Tracks(**{**tracks.__dict__, "uv": tracks.uv[:, :3]})
    with pytest.raises(UserError, match="paired tracks need"):
        Tracks(**{**tracks.__dict__, "uv_tgt": tracks.uv})


def test_subset_keeps_consistent_shapes():
    tracks = random_tracks(T=5, N=8, paired=True)
    sub = tracks.subset(frames=slice(1, 3), points=np.array([0, 2, 5]))
    assert sub.xyz.shape == (2, 3, 3) and sub.rgb.shape == (3, 3) and sub.K.shape == (2, 3, 3)
    assert sub.uv_tgt.shape == (2, 3, 2)


def test_tracks_know_their_first_footage_frame(tmp_path):
    """``t2v track --frames 20:60`` makes tracks whose frame 0 is footage frame 20."""
    tracks = dataclasses.replace(random_tracks(T=5, N=8), frame_start=20)
    assert load_tracks(save_tracks(tracks, tmp_path / "t.npz")).frame_start == 20
    assert tracks.subset(frames=slice(1, 3)).frame_start == 21
    part = tracks.for_footage_frames(22, 3)
    np.testing.assert_array_equal(part.xyz, tracks.xyz[2:5])
    assert part.frame_start == 22
    with pytest.raises(UserError, match="cover footage frames 20..24 but frames 18..21 are wanted"):
        tracks.for_footage_frames(18, 4)
    with pytest.raises(UserError, match="cover footage frames 20..24 but frames 23..25"):
        tracks.for_footage_frames(23, 3)
    # Files from before the field (or from other tools) start at footage frame 0.
    arrays = dict(np.load(tmp_path / "t.npz"))
    del arrays["frame_start"]
    np.savez(tmp_path / "old.npz", **arrays)
    assert load_tracks(tmp_path / "old.npz").frame_start == 0


def test_projection_round_trip_and_camera_json(tmp_path):
    tracks = random_tracks(T=3, N=20)
    uv, depth = project_points(tracks.xyz, tracks.K, tracks.w2c)
    assert (depth > 0).all()
    back = unproject_points(uv, depth, tracks.K, tracks.w2c)
    np.testing.assert_allclose(back, tracks.xyz, atol=1e-4)

    cam = CameraTrack(K=tracks.K[0], w2c=tracks.w2c, size=(64, 48), fps=25)
    assert cam.num_frames == 3 and cam.K.shape == (3, 3, 3)
    np.testing.assert_allclose(cam.centers[0], [5, -5, 2], atol=1e-9)
    path = save_camera_json(cam, tmp_path / "cam.json")
    loaded = load_camera_json(path)
    np.testing.assert_allclose(loaded.w2c, cam.w2c)
    assert loaded.size == (64, 48) and loaded.fps == 25

    (tmp_path / "broken.json").write_text('{"K": [[1]]}')
    with pytest.raises(UserError, match="broken.json.*lacks"):
        load_camera_json(tmp_path / "broken.json")
    with pytest.raises(UserError, match="poses"):
        CameraTrack(K=np.stack([tracks.K[0]] * 2), w2c=tracks.w2c, size=(4, 4))


def test_atomic_outputs_leave_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]

    frames = tmp_path / "frames"
    with atomic_dir(frames) as tmp:
        (tmp / "0001.png").write_text("a")
    with pytest.raises(RuntimeError):
        with atomic_dir(frames) as tmp:
            (tmp / "0001.png").write_text("b")
            raise RuntimeError("crash")
    assert (frames / "0001.png").read_text() == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "out.txt"]

    with pytest.raises(UserError, match="already exists"):
        check_writable_target(target, overwrite=False)
    assert check_writable_target(target, overwrite=True) == target
    # Refused up front, not as a traceback after the work: a folder where no file can be created
    # (os.access says yes to root there).
    with pytest.raises(UserError, match="cannot write into /proc"):
        check_writable_target("/proc/tracks.npz", overwrite=False)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_outputs_get_the_permissions_of_a_plain_write(tmp_path, umask):
    """Outputs follow the umask like open()/mkdir(), not tempfile's owner-only 0600/0700 (other users of
    a render farm or a shared project folder must be able to read the frames and tracks)."""
    old = os.umask(umask)
    try:
        with atomic_file(tmp_path / "tracks.npz") as tmp:
            tmp.write_bytes(b"x")
        with atomic_dir(tmp_path / "frames") as tmp:
            (tmp / "0001.png").write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "tracks.npz").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "frames").stat().st_mode) == 0o777 & ~umask
