"""Curation: joining/splitting, drop reasons, one pair end to end on an exact planar shot, the scorer,
view checks, the dataset writer/loader and `t2v curate` (resume, empty result, bad input)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.curation.filters import REASONS, count_reasons, reject_reasons
from track2view.engine.curation.junction import join_frames, split_tracks
from track2view.engine.curation.pair import CurateOptions, curate_pair
from track2view.engine.curation.samples import iter_samples, load_sample, write_sample
from track2view.engine.curation.score import rates, score_pair
from track2view.engine.curation.views import View, load_view, match_views
from track2view.engine.errors import UserError
from track2view.engine.io.tracks import Tracks

from .curation_scene import planar_pair, write_camera_folders


def _view(frames: np.ndarray, name: str, fps: float = 24.0, camera=None) -> View:
    return View(frames=frames, fps=fps, camera=camera, path=Path(name), name=name)


@pytest.fixture(scope="module")
def clip():
    return planar_pair()


@pytest.fixture(scope="module")
def curated(clip):
    source, target = (_view(v.frames, f"cam{k}", camera=v.camera) for k, v in enumerate(clip.views))
    return curate_pair(source, target, CurateOptions(max_points=1000))


def _joined(T: int, N: int, vis: np.ndarray, conf: np.ndarray | None = None, z: np.ndarray | None = None,
            frame_in_y: bool = False) -> Tracks:
    """Joined-clip tracks (2T−1 frames): identity cameras, point n at (n, 0 or the joined frame, depth z)."""
    F = 2 * T - 1
    xyz = np.zeros((F, N, 3))
    xyz[..., 0] = np.arange(N)[None]
    xyz[..., 1] = np.arange(F)[:, None] if frame_in_y else 0.0
    xyz[..., 2] = 5.0 if z is None else z
    return Tracks(xyz=xyz, uv=xyz[..., :2] * 10, vis=vis, conf=np.ones((F, N)) if conf is None else conf,
                  rgb=np.zeros((N, 3)), K=np.tile(np.eye(3), (F, 1, 1)), w2c=np.tile(np.eye(4), (F, 1, 1)),
                  size=(64, 48), fps=24.0)


def test_join_reverses_source_and_split_undoes_it():
    T = 4
    src = np.arange(T)[:, None, None, None] * np.ones((T, 2, 3, 3), np.uint8)
    tgt = src + 100
    tgt[0] = src[0]
    joined = join_frames(src, tgt)
    assert len(joined) == 2 * T - 1
    assert [int(f[0, 0, 0]) for f in joined] == [3, 2, 1, 0, 101, 102, 103]
    h = split_tracks(_joined(T, 2, np.ones((2 * T - 1, 2), bool), frame_in_y=True))
    # Joined frame of source frame t is T-1-t; of target frame t it is T-1+t (stored in xyz[..., 1]).
    np.testing.assert_array_equal(h.xyz_src[:, 0, 1], [3, 2, 1, 0])
    np.testing.assert_array_equal(h.xyz_tgt[:, 0, 1], [3, 4, 5, 6])
    np.testing.assert_allclose(h.depth_src, 5.0)
    np.testing.assert_array_equal(h.uv_src[0], h.uv_tgt[0])


def test_each_drop_reason():
    T, N = 4, 7
    F = 2 * T - 1
    vis = np.ones((F, N), bool)
    conf = np.ones((F, N))
    z = np.full((F, N), 5.0)
    vis[:T, 1] = False                 # 1: lost before the shared frame (joined index T-1)
    vis[T:, 2] = False                 # 2: not tracked into target frame 1
    vis[:T - 1, 3] = False
    vis[T + 1:, 3] = False             # 3: shared frame + target frame 1 only
    conf[:, 4] = 0.2                   # 4: low confidence
    z[T, 5] = 8.0                      # 5: depth jumps at target frame 1
    z[T + 1:, 6] = 9.0                 # 6: halves disagree on where the point is
    reason = reject_reasons(split_tracks(_joined(T, N, vis, conf, z)))
    names = ["kept" if r < 0 else REASONS[r] for r in reason]
    assert names == ["kept", "no_shared_frame", "breaks_at_junction", "too_short", "low_confidence",
                     "depth_jump", "halves_disagree"]
    counts = count_reasons(reason)
    assert counts["tracked"] == N and counts["kept"] == 1 and sum(counts[r] for r in REASONS) == N - 1


def test_planar_pair_correspondences_are_exact(clip, curated):
    tracks = curated.tracks
    assert tracks.is_paired and tracks.num_frames == 6 and curated.counts["kept"] == tracks.num_points >= 100
    assert tracks.vis[0].all() and tracks.vis_tgt[1].all()
    np.testing.assert_array_equal(tracks.uv[0], tracks.uv_tgt[0])
    assert (tracks.depth_src[tracks.vis] > 0).all() and (tracks.depth_tgt[tracks.vis_tgt] > 0).all()
    # Known answer: content of view k moves by -step_k px per frame, so uv_tgt(t) = uv(0) - t * step_tgt.
    t = np.arange(6)[:, None, None]
    expected = tracks.uv[0][None] - t * np.array([-1, 2])[None, None]
    err = np.linalg.norm(tracks.uv_tgt - expected, axis=-1)[tracks.vis_tgt]
    assert np.quantile(err, 0.95) < 0.5
    counts = score_pair(tracks, clip, 1)
    r = rates(counts["static"])
    assert r["precision_2px"] > 0.98 and r["source_precision_4px"] > 0.98 and r["recall"] > 0.3
    assert counts["moving"]["pairs"] == 0


def test_scorer_on_ground_truth_and_on_shifted_targets(clip):
    s, t = clip.source.tracks, clip.views[1].tracks
    ones = np.ones(s.vis.shape)
    gt = dataclasses.replace(s, uv_tgt=t.uv, vis_tgt=t.vis, depth_src=ones, depth_tgt=ones).subset(points=s.vis[0])
    r = rates(score_pair(gt, clip, 1)["static"])
    assert r["precision_2px"] == 1.0 and r["recall"] == 1.0 and r["unmatched"] == 0.0
    shifted = dataclasses.replace(gt, uv_tgt=gt.uv_tgt + np.array([3.0, 0.0], np.float32))
    r = rates(score_pair(shifted, clip, 1)["static"])
    assert r["precision_2px"] == 0.0 and r["precision_4px"] == 1.0
    assert r["recall"] == 1.0  # the shared frame is not shifted: median error 0 there, 3 px later


def test_views_must_match(clip):
    a = _view(clip.views[0].frames, "a")
    with pytest.raises(UserError, match="4 frames.*--resample"):
        match_views(a, _view(clip.views[1].frames[:4], "b"))
    with pytest.raises(UserError, match="fps"):
        match_views(a, _view(clip.views[1].frames, "b", fps=30.0))
    with pytest.raises(UserError, match="pixels"):
        match_views(a, _view(clip.views[1].frames[:, :32], "b"))
    with pytest.raises(UserError, match="same frame"):
        match_views(a, _view(clip.views[1].frames[::-1].copy(), "b"))
    # --resample: a 48 fps target of twice the size and twice the frames, retimed and resized to the source.
    import cv2

    big = np.stack([cv2.resize(f, (128, 128), interpolation=cv2.INTER_LINEAR) for f in clip.views[1].frames])
    fast = np.repeat(big, 2, axis=0)
    src, tgt = match_views(a, _view(fast, "b", fps=48.0), resample=True)
    assert tgt.frames.shape == src.frames.shape and tgt.fps == src.fps


def test_sample_round_trip_and_empty_refused(tmp_path, curated):
    folder = write_sample(curated, tmp_path / "data" / "s1")
    sample = load_sample(folder)
    np.testing.assert_array_equal(sample.source, curated.source.frames)
    np.testing.assert_array_equal(sample.tracks.uv_tgt, curated.tracks.uv_tgt)
    np.testing.assert_allclose(sample.target_camera.w2c, curated.target_camera.w2c, atol=1e-6)
    assert sample.meta["counts"] == curated.counts and "MIN_CONFIDENCE" in sample.meta["thresholds"]
    np.testing.assert_allclose(sample.input_cameras[1].w2c, curated.target.camera.w2c)
    assert [s.path.name for s in iter_samples(tmp_path / "data")] == ["s1"]
    empty = dataclasses.replace(curated, counts=curated.counts | {"kept": 0})
    with pytest.raises(UserError, match="no reliable correspondences"):
        write_sample(empty, tmp_path / "data" / "s2")
    assert not (tmp_path / "data" / "s2").exists()


def test_cli_curate_resumes_and_reports(tmp_path, clip, capsys):
    cams = write_camera_folders(clip, tmp_path / "shot")
    out = tmp_path / "curated"
    assert main(["curate", "--source", str(cams[0]), "--target", str(cams[1]), "--out", str(out),
                 "--max-points", "1000"]) == 0
    assert "kept" in capsys.readouterr().out
    (sample,) = list(iter_samples(out))
    assert sample.path.name == "shot_cam0__shot_cam1"
    index = json.loads((out / "index.json").read_text())
    assert [e["id"] for e in index["samples"]] == [sample.path.name]
    assert index["samples"][0]["pairs"] == sample.tracks.num_points > 0
    # The same pair found through --synth-root is the same sample: skipped, not recomputed.
    (tmp_path / "shot" / "meta.json").write_text(json.dumps({"cameras": 2, "shared_first_frame": True}))
    stamp = (sample.path / "tracks.npz").stat().st_mtime_ns
    assert main(["curate", "--synth-root", str(tmp_path), "--out", str(out)]) == 0
    assert "1 already done" in capsys.readouterr().out
    assert (sample.path / "tracks.npz").stat().st_mtime_ns == stamp


def test_cli_bad_input_and_empty_result(tmp_path, clip, capsys):
    cams = write_camera_folders(clip, tmp_path / "shot")
    short = load_view(cams[1])
    from track2view.engine.io.video import write_frames

    write_frames(short.frames[:4], tmp_path / "short")
    assert main(["curate", "--source", str(cams[0]), "--target", str(tmp_path / "short"),
                 "--out", str(tmp_path / "o1")]) == 1
    (err,) = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert err.startswith("t2v curate: error:") and "6 vs 4 frames" in err and "--resample" in err
    # A target that turns to noise after the shared frame: no track crosses, nothing is written.
    noise = np.random.default_rng(0).integers(0, 256, clip.views[1].frames.shape, dtype=np.uint8)
    cut = np.concatenate([clip.views[0].frames[:1], noise[1:]])
    write_frames(cut, tmp_path / "cut")
    out = tmp_path / "o2"
    assert main(["curate", "--source", str(cams[0]), "--target", str(tmp_path / "cut"), "--out", str(out),
                 "--max-points", "1000"]) == 1
    captured = capsys.readouterr()
    assert "no reliable correspondences" in captured.err and "none (the dataset holds no sample)" in captured.out
    assert not out.exists() or not any(out.iterdir())


def test_shared_focal_and_zoom(clip):
    from track2view.engine.curation.pair import focal_varies, shared_focal
    from track2view.engine.geometry.camera import CameraTrack

    cam = clip.views[0].camera
    a = _view(clip.views[0].frames, "a", camera=cam)
    b = _view(clip.views[1].frames, "b")
    assert shared_focal(a, b) == pytest.approx(60.0) and not focal_varies(a, b)
    assert shared_focal(b, b) is None
    K = cam.K.copy()
    K[:, 0, 0] = K[:, 1, 1] = np.linspace(60.0, 90.0, len(K))  # the target zooms in from the shared frame
    zoom = _view(clip.views[1].frames, "b", camera=CameraTrack(K=K, w2c=cam.w2c, size=cam.size))
    assert shared_focal(a, zoom) == pytest.approx(60.0) and focal_varies(a, zoom)
    K[0, 0, 0] = K[0, 1, 1] = 70.0  # a different lens at the shared frame: no focal is trusted
    other = _view(clip.views[1].frames, "b", camera=CameraTrack(K=K, w2c=cam.w2c, size=cam.size))
    assert shared_focal(a, other) is None


def test_one_focal_length_per_clip(clip, tmp_path):
    """curate uses the lens given, else the cameras', else exactly the focal `t2v track` finds on the source."""
    from track2view.engine.curation.pair import clip_focal
    from track2view.engine.io.video import write_frames
    from track2view.engine.tracking.pipeline import TrackOptions, track_footage

    a = _view(clip.views[0].frames, "a", camera=clip.views[0].camera)
    b = _view(clip.views[1].frames, "b")
    width = max(a.size)
    assert clip_focal(b, b, CurateOptions(lens_mm=35.0, sensor_mm=36.0)) == (pytest.approx(35 / 36 * width), "given")
    assert clip_focal(a, b, CurateOptions(focal_px=80.0))[0] == 80.0
    assert clip_focal(a, b, CurateOptions()) == (pytest.approx(60.0), "the views' cameras")
    with pytest.raises(UserError, match="sensor"):
        clip_focal(b, b, CurateOptions(lens_mm=35.0))
    focal, source = clip_focal(b, b, CurateOptions(max_points=1000))
    _, report, _ = track_footage(write_frames(b.frames, tmp_path / "b"), TrackOptions(max_points=1000))
    assert focal == report["focal_px"] and "t2v track" in source
