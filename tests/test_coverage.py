"""Coverage (engine/coverage.py), its plot and `t2v coverage`: known answers and a synthetic orbit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from track2view.engine import coverage as cov
from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack, project_points, save_camera_json, unproject_points
from track2view.engine.io.tracks import Tracks, save_tracks
from track2view.engine.jobs import run_job

from .tiny_shot import make_tracks, orbit_camera, source_camera

SIZE = (96, 64)


def test_poor_ranges():
    assert cov.poor_coverage_frames([0.9, 0.5, 0.4, 0.9, 0.3], 0.6, 10) == [(11, 12), (14, 14)]
    assert cov.poor_coverage_frames([0.9, 0.8], 0.6) == []
    assert cov.poor_coverage_frames(np.zeros(3), 0.6, 1) == [(1, 3)]


def test_the_report_words_itself_in_shot_frame_numbers():
    report = cov.CoverageReport(coverage=np.array([0.9, 0.5, 0.4, 0.95, 0.3]), reference=np.ones(5),
                                tracks=np.full(5, 10), grid=(96, 64))
    doc = report.to_json(frame_start=1001)
    assert doc["summary"] == "mean 61%, min 30% (frame 1005); poor: 1002-1003, 1005"
    assert doc["poor_text"] == ["1002-1003", "1005"] and doc["poor_ranges"] == [[1002, 1003], [1005, 1005]]
    assert cov.CoverageReport(np.ones(2), np.ones(2), np.ones(2), (8, 8)).summary() == (
        "mean 100%, min 100% (frame 0); no poor frames")


def _backdrop_shot(frames=6, num_points=4000, seed=0):
    """Tracks on a 8 m x 6 m backdrop (z = 0) that fills the source view, seen by a trucking camera."""
    cam = source_camera(SIZE, frames)
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.uniform(-4, 4, num_points), rng.uniform(-3, 3, num_points), np.zeros(num_points)])
    xyz = np.broadcast_to(pts, (frames, num_points, 3)).copy()
    uv, z = project_points(xyz, cam.K, cam.w2c)
    vis = (z > 0) & (uv[..., 0] >= -0.5) & (uv[..., 0] < SIZE[0] - 0.5) & (uv[..., 1] >= -0.5) & (
        uv[..., 1] < SIZE[1] - 0.5)
    tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=vis.astype(np.float32), rgb=np.zeros((num_points, 3)),
                    K=cam.K, w2c=cam.w2c, size=SIZE, fps=cam.fps)
    return cam, tracks


def test_source_view_is_fully_covered_and_a_90_degree_orbit_is_not():
    cam, tracks = _backdrop_shot()
    own = cov.compute_coverage(tracks, cam)
    # Every source pixel has a depth: the source camera sees all of it again.
    assert (own.coverage == 1).all(), own.coverage
    np.testing.assert_allclose(own.coverage, own.reference)
    assert not own.poor.any() and own.poor_ranges() == []

    orbit = cov.compute_coverage(tracks, orbit_camera(cam, 90.0))   # ramps 15° per frame to 90°
    assert orbit.grid == own.grid
    assert (np.diff(orbit.coverage) < 0).all(), orbit.coverage
    assert orbit.coverage[-1] < 0.1                                  # backdrop seen edge-on
    assert orbit.poor_ranges(frame_start=1)[-1][1] == 6


def test_target_view_points_show_unseen_tracks_too():
    cam, tracks = _backdrop_shot(frames=2, num_points=500)
    tracks.vis[:, :100] = False                                  # the source lost these
    uv, shown, seen = cov.target_view_points(tracks, cam)
    assert uv.shape == (2, 500, 2) and shown.shape == seen.shape == (2, 500)
    np.testing.assert_allclose(uv, tracks.uv, atol=1e-3)
    inside = (tracks.uv[..., 0] >= -0.5) & (tracks.uv[..., 0] < SIZE[0] - 0.5) & (
        tracks.uv[..., 1] >= -0.5) & (tracks.uv[..., 1] < SIZE[1] - 0.5)
    np.testing.assert_array_equal(shown, inside)                 # one plane: nothing occluded
    assert (shown & ~seen).sum() > 0 and not (seen & ~tracks.vis).any()


def test_coverage_needs_a_sane_threshold():
    cam, tracks = _backdrop_shot(frames=2, num_points=200)
    with pytest.raises(UserError, match="threshold"):
        cov.compute_coverage(tracks, cam, threshold=2.0)


def test_poor_coverage_warning_names_the_frames():
    cam, tracks = _backdrop_shot()
    assert cov.poor_coverage_warning(cov.compute_coverage(tracks, cam).coverage, frame_start=1) is None
    orbit = cov.compute_coverage(tracks, orbit_camera(cam, 90.0))
    text = cov.poor_coverage_warning(orbit.coverage, frame_start=1)
    # 15° per frame: from 75° on the backdrop is seen too obliquely to fill 60 % of the view.
    assert "at frames 5-6" in text and "at frame 6" in text, text


def test_coverage_job_reads_the_tracks_under_the_render(tmp_path):
    cam, tracks = _backdrop_shot()
    tracks.vis[:3] = False                                       # the footage shows nothing in frames 0-2
    save_tracks(tracks, tmp_path / "t.npz")
    late = CameraTrack(K=cam.K[3:], w2c=cam.w2c[3:], size=cam.size, fps=cam.fps)  # renders frames 3-5
    save_camera_json(late, tmp_path / "late.json")
    params = {"tracks": str(tmp_path / "t.npz"), "camera": str(tmp_path / "late.json"), "frame_start": 4}
    doc = run_job("coverage", {**params, "first": 3}, lambda f, m: None)
    assert doc["coverage"] == [1.0, 1.0, 1.0] and doc["frame_start"] == 4 and not doc["poor_ranges"]
    doc = run_job("coverage", params, lambda f, m: None)           # misaligned: tracks frames 0-2
    assert doc["poor_ranges"] == [[4, 6]], doc


def test_cli_reports_plots_and_refuses_to_overwrite(tmp_path, capsys):
    cam, tracks = _backdrop_shot(frames=4, num_points=1500)
    save_tracks(tracks, tmp_path / "t.npz")
    save_camera_json(orbit_camera(cam, 120.0), tmp_path / "cam.json")
    args = ["coverage", "--tracks", str(tmp_path / "t.npz"), "--camera", str(tmp_path / "cam.json"),
            "--plot", str(tmp_path / "cov.png"), "--json", str(tmp_path / "cov.json"), "--frame-start", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "cov.json").read_text())
    assert len(doc["coverage"]) == 4 and doc["frame_start"] == 1
    assert doc["poor_ranges"] and doc["poor_ranges"][-1][1] == 4
    assert "POOR" in out and "poor frames:" in out

    import cv2

    plot = cv2.imread(str(tmp_path / "cov.png"))
    assert plot is not None and plot.shape[:2] == (320, 800)
    assert main(args) == 1                      # outputs exist: refused without --overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_a_shot_without_depth_warns_when_the_target_camera_moves_away():
    cam = source_camera((160, 100), 4)
    parallax = make_tracks(cam, 300)
    assert cov.flat_depth_warning(parallax, orbit_camera(cam, 15.0)) is None
    # A locked-off camera: no parallax, so every track sits at one depth (as the tracker lifts them).
    still = CameraTrack(K=cam.K, w2c=np.repeat(cam.w2c[:1], 4, 0), size=cam.size, fps=cam.fps)
    flat = dataclasses.replace(parallax, w2c=still.w2c,
                               xyz=unproject_points(parallax.uv, np.full(parallax.uv.shape[:2], 5.0), still.K, still.w2c))
    assert cov.flat_depth_warning(flat, still) is None          # the same camera: exact
    text = cov.flat_depth_warning(flat, orbit_camera(still, 15.0))
    assert "no depth" in text and "one flat surface" in text
    # Tracked with the user's depth maps, the same shot has depth.
    assert cov.flat_depth_warning(flat, orbit_camera(still, 15.0), "user depth sequence (rotation-only camera)") is None
