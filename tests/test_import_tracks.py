"""t2v import-tracks: TAPVid-3D, CoTracker and SpatialTrackerV2 style files → our tracks format."""

from __future__ import annotations

import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.io.tracks import load_tracks
from track2view.engine.io.video import write_frames
from track2view.engine.tracking.import_tracks import import_tracks


def _camera_points(tracks):
    w2c = tracks.w2c.astype(float)
    return np.einsum("tij,tnj->tni", w2c[:, :3, :3], tracks.xyz) + w2c[:, None, :3, 3]


def _scene(T=4, N=30, seed=0):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.uniform(-1, 1, N), rng.uniform(-0.8, 0.8, N), rng.uniform(2, 6, N)], -1)
    cam = np.repeat(xyz[None], T, 0)
    cam[:, :5, 0] += np.linspace(0, 0.5, T)[:, None]  # five moving points
    vis = rng.random((T, N)) > 0.2
    vis[:, :5] = True
    return cam, vis


def test_tapvid3d_file_imports_with_colours_from_video(tmp_path):
    cam, vis = _scene()
    images = np.empty(4, dtype=object)  # like TAPVid-3D's images_jpeg_bytes: must be skipped, never unpickled
    images[:] = [b"jpeg"] * 4
    path = tmp_path / "clip.npz"
    np.savez(path, tracks_XYZ=cam.astype(np.float32), visibility=vis, fx_fy_cx_cy=np.array([100.0, 100, 31.5, 23.5]),
             images_jpeg_bytes=images)
    frames = np.zeros((4, 48, 64, 3), np.uint8)
    frames[..., 0] = 200
    write_frames(frames, tmp_path / "video")
    out = tmp_path / "tracks.npz"
    assert main(["import-tracks", str(path), "--out", str(out), "--video", str(tmp_path / "video")]) == 0
    tracks = load_tracks(out)
    assert tracks.size == (64, 48) and tracks.num_frames == 4 and tracks.num_points == 30
    np.testing.assert_allclose(_camera_points(tracks)[vis], cam[vis], atol=1e-4)
    np.testing.assert_allclose(tracks.uv[..., 0], 100 * cam[..., 0] / cam[..., 2] + 31.5, atol=1e-3)
    np.testing.assert_array_equal(tracks.vis, vis)
    assert tracks.dynamic[:5].all() and not tracks.dynamic[5:].any()
    assert (tracks.rgb[:, 0] == 200).all()
    c2w0 = np.linalg.inv(tracks.w2c[0].astype(float))  # our world frame: looking along +Y
    np.testing.assert_allclose(c2w0[:3, 2], [0, 1, 0], atol=1e-6)


def test_cotracker_and_spatracker_layouts(tmp_path):
    cam, vis = _scene()
    uv = cam[..., :2] / cam[..., 2:] * 80 + [39.5, 29.5]
    path = tmp_path / "cotracker.npz"
    np.savez(path, pred_tracks=uv[None].astype(np.float32), pred_visibility=vis[None])
    with pytest.raises(UserError, match="cotracker.npz.*image size"):
        import_tracks(path)
    tracks, report = import_tracks(path, size=(80, 60), focal_px=80.0)
    assert report["format"] == "cotracker" and "depth 1" in report["depth"]
    np.testing.assert_allclose(_camera_points(tracks)[..., 2], 1.0, atol=1e-5)
    np.testing.assert_allclose(tracks.uv, uv, atol=1e-3)

    rng = np.random.default_rng(1)
    w2c = np.tile(np.eye(4), (4, 1, 1))
    w2c[:, 0, 3] = np.linspace(0, -1, 4)  # camera moving along +x
    world = cam[0][None].repeat(4, 0) + rng.normal(0, 1e-4, (4, 30, 3))
    K = np.array([[90.0, 0, 40], [0, 90, 30], [0, 0, 1]])
    path = tmp_path / "spatracker.npz"
    np.savez(path, coords=world, extrinsics=w2c, intrinsics=np.repeat(K[None], 4, 0),
             visibs=vis[..., None], video=np.full((4, 3, 60, 80), 0.5, np.float32))
    tracks, report = import_tracks(path)
    assert report["format"] == "spatracker" and tracks.size == (80, 60)
    cam_back = np.einsum("tij,tnj->tni", w2c[:, :3, :3], world) + w2c[:, None, :3, 3]
    np.testing.assert_allclose(_camera_points(tracks)[vis], cam_back[vis], atol=1e-4)
    assert not tracks.dynamic.any() and (tracks.rgb == 128).all()


def test_bad_files_name_the_file(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(UserError, match="odd.npz.*--format"):
        import_tracks(path)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="broken.npz"):
        import_tracks(tmp_path / "broken.npz")
    (tmp_path / "empty.npz").write_bytes(b"")  # each of these was a traceback, not a message
    with pytest.raises(UserError, match="empty.npz is not a readable tracks file"):
        import_tracks(tmp_path / "empty.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(UserError, match="array.npy is not a readable tracks file .a single .npy array"):
        import_tracks(tmp_path / "array.npy")
    cam, vis = _scene()
    np.savez(path, tracks_XYZ=cam, visibility=vis[:2], fx_fy_cx_cy=np.array([100.0, 100, 31.5, 23.5]))
    with pytest.raises(UserError, match="odd.npz.*'visibility' must have shape"):
        import_tracks(path)
