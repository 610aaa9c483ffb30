"""Evaluation harness: metrics with known answers, data selection, methods, and one end-to-end run."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from track2view.engine.errors import UserError
from track2view.engine.eval.camera_metrics import camera_errors
from track2view.engine.eval.colmap_poses import fill_unregistered
from track2view.engine.eval.consistency import consistency_metrics
from track2view.engine.eval.fidelity import fidelity_metrics, psnr, source_visible_mask, ssim
from track2view.engine.eval.methods import align_to_ground_truth, resolve_methods, tracks_cache_key
from track2view.engine.eval.report import json_safe, markdown_table, write_results
from track2view.engine.eval.suite import suite_cases
from track2view.engine.synth.clip import SynthView, load_clip
from track2view.engine.synth.presets import bench_specs

from .eval_clip import write_clip
from .tiny_shot import make_tracks, orbit_camera, render, source_camera


def _rot_y(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def _trajectory(T: int = 6) -> np.ndarray:
    w2c = np.tile(np.eye(4), (T, 1, 1))
    w2c[:, 0, 3] = -0.3 * np.arange(T)
    return w2c


def test_identical_poses_give_zero_errors_and_a_known_rotation_its_angle():
    gt = _trajectory()
    same = camera_errors(gt, gt)
    assert same["rot_err_deg"] < 1e-3 and same["trans_err"] < 1e-9
    est = gt.copy()
    est[3, :3, :3] = _rot_y(10.0)  # frame 3 turned 10° about its own centre: c2w changes, centre kept
    est[3, :3, 3] = -_rot_y(10.0) @ np.linalg.inv(gt[3])[:3, 3]
    errors = camera_errors(est, gt)
    assert errors["rot_err_deg"] == pytest.approx(10.0, abs=1e-6)
    assert errors["trans_err"] == pytest.approx(0.0, abs=1e-9)


def test_unregistered_frames_take_the_nearest_registered_pose():
    w2c = _trajectory(5)
    registered = np.array([False, True, False, False, True])
    filled = fill_unregistered(w2c, registered)
    np.testing.assert_array_equal(filled[[0, 1, 2, 3, 4]], w2c[[1, 1, 1, 4, 4]])


def test_identical_images_give_infinite_psnr_written_json_safely(tmp_path):
    frames, _ = render(source_camera((48, 32), 2))
    assert psnr(frames, frames) == float("inf")
    assert ssim(frames, frames) == pytest.approx(1.0)
    metrics = fidelity_metrics(frames, frames, np.ones(frames.shape[:3], bool))
    assert metrics["psnr"] == metrics["psnr_visible"] == float("inf")
    noisy = np.clip(frames.astype(int) + 8, 0, 255).astype(np.uint8)
    assert 20 < psnr(noisy, frames) < 40 and ssim(noisy, frames) < 1.0
    assert np.isnan(psnr(noisy, frames, np.zeros(frames.shape[:3], bool)))
    doc = json_safe({"psnr": metrics["psnr"], "gap": float("nan"), "n": np.int64(3)})
    write_results(doc, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == {"psnr": "inf", "gap": None, "n": 3}


def test_sharpness_ratio_and_flicker_on_hand_made_videos():
    import cv2

    frames, _ = render(source_camera((64, 48), 4))
    visible = np.ones(frames.shape[:3], bool)
    same = fidelity_metrics(frames, frames, visible)
    assert same["sharpness_ratio"] == pytest.approx(1.0) and same["flicker"] == pytest.approx(0.0)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in frames])
    assert fidelity_metrics(blurred, frames, visible)["sharpness_ratio"] < 0.5
    pulse = np.array([0, 12, 0, 12])[:, None, None, None]  # brightness pumping by 12 levels every frame
    flickering = np.clip(frames.astype(int) + pulse, 0, 255).astype(np.uint8)
    assert fidelity_metrics(flickering, frames, visible)["flicker"] > 3.0
    frozen = np.repeat(frames[:1], len(frames), 0)
    assert fidelity_metrics(frozen, frames, visible)["flicker"] < 0  # changes less than the truth


def test_shifted_video_gives_the_shift_as_tracking_error():
    camera = orbit_camera(source_camera((128, 96), 8), 10.0)
    frames, _ = render(camera)
    truth = make_tracks(camera, 1500)
    exact = consistency_metrics(frames, frames[0], truth.uv, truth.vis)
    assert exact["median_px"] < 0.3 and exact["within_4px"] > 0.9 and exact["points"] > 100
    shift = 3
    shifted = np.concatenate([np.repeat(frames[:, :, :1], shift, 2), frames[:, :, :-shift]], 2)
    moved = consistency_metrics(shifted, frames[0], truth.uv, truth.vis)
    assert moved["median_px"] == pytest.approx(shift, abs=0.3)


def test_source_visible_area_from_ground_truth_depth():
    source = source_camera((64, 48), 3)
    _, depth = render(source)
    assert source_visible_mask(depth, source, depth, source).all()
    target = orbit_camera(source, 25.0)
    _, target_depth = render(target)
    share = source_visible_mask(target_depth, target, depth, source).mean()
    assert 0.5 < share < 1.0


def test_tracker_world_is_aligned_onto_the_ground_truth_world():
    camera = source_camera((96, 64), 4)
    frames, depth = render(camera)
    truth = make_tracks(camera, 300)
    # The same tracks in another world: x' = s R x + t (poses follow), as a tracker would return them.
    s, R, t = 0.37, _rot_y(30.0), np.array([1.0, -2.0, 0.5])
    A = np.eye(4)
    A[:3, :3], A[:3, 3] = s * R, t
    A_inv = np.linalg.inv(A)
    w2c = truth.w2c.astype(np.float64) @ A_inv
    w2c[:, :3, :] *= s  # keep rotations orthonormal: camera units scale with the world
    w2c[:, 3, :] = [0, 0, 0, 1]
    moved = dataclasses.replace(truth, xyz=truth.xyz @ (s * R).T + t, w2c=w2c)
    view = SynthView(frames=frames, depth=depth, camera=camera, tracks=truth)
    aligned = align_to_ground_truth(moved, view)
    np.testing.assert_allclose(aligned.xyz, truth.xyz, atol=1e-3)
    np.testing.assert_allclose(aligned.w2c, truth.w2c, atol=1e-4)


def test_suites_select_the_documented_bench_clips(tmp_path):
    with pytest.raises(UserError, match="t2v synth --preset bench"):
        suite_cases("quick", tmp_path)
    for spec in bench_specs():
        (tmp_path / "bench" / spec.clip_name).mkdir(parents=True)
        (tmp_path / "bench" / spec.clip_name / "meta.json").write_text("{}")
    quick = suite_cases("quick", tmp_path)
    assert [c.kind for c in quick] == ["static"] * 4 + ["dynamic"] * 4
    assert [c.name for c in quick[:2]] == ["static_1000000/cam1", "static_1000000/cam2"]
    assert len({c.clip for c in quick}) == 4
    full = suite_cases("full", tmp_path)
    assert len(full) == 48 and {c.target for c in full} == {1, 2}
    with pytest.raises(UserError, match="--suite"):
        suite_cases("huge", tmp_path)


def test_methods_without_weights_are_missing_not_dropped(tmp_path):
    specs = resolve_methods(["identity", "warp", "camera", "track2view"], None, None)
    assert [s.name for s in specs] == ["identity", "warp", "camera", "track2view"]
    assert [s.missing is not None for s in specs] == [False, False, True, True]
    with pytest.raises(UserError, match="unknown method"):
        resolve_methods(["identity", "magic"], None, None)
    with pytest.raises(UserError, match="not a model folder"):
        resolve_methods(["track2view"], tmp_path / "nowhere", None)


def test_eval_compares_the_shipped_models_unless_told_otherwise(tmp_path):
    from track2view.engine.cli import build_parser
    from track2view.engine.cli.eval import eval_config
    from track2view.engine.model.model_folder import CAMERA_BASELINE_DIR, DEFAULT_MODEL_DIR

    config = eval_config(build_parser().parse_args(["eval", "--out", str(tmp_path / "o")]))
    assert config.model == DEFAULT_MODEL_DIR and config.camera_model == CAMERA_BASELINE_DIR
    assert [s.missing for s in resolve_methods(["camera", "track2view"], config.model, config.camera_model)] == [None, None]
    mine = tmp_path / "mine"
    config = eval_config(build_parser().parse_args(["eval", "--out", str(tmp_path / "o"), "--camera-model", str(mine)]))
    assert config.camera_model == mine


def test_eval_end_to_end_on_an_analytic_clip(tmp_path):
    from track2view.engine.eval.harness import EvalConfig, run_eval
    from track2view.engine.eval.suite import EvalCase

    clip = write_clip(tmp_path / "static_0000000", size=(128, 96), frames=10)
    assert load_clip(clip).targets[0].frames.shape == (10, 96, 128, 3)
    out = tmp_path / "out"
    broken = tmp_path / "broken_model"  # a model folder whose weights are gone: fails, reported, run goes on
    broken.mkdir()
    (broken / "model_index.json").write_text("{}")
    config = EvalConfig(suite="quick", methods=["identity", "warp", "warp-inpaint", "camera", "track2view", "oracle"],
                        out=out, model=broken, cache=tmp_path / "cache")
    results = run_eval(config, cases=[EvalCase(clip=clip, kind="static", target=1)])

    doc = json.loads((out / "results.json").read_text())  # strict JSON
    assert doc["config"]["methods"] == ["identity", "warp", "warp-inpaint", "camera", "track2view", "oracle"]
    assert doc["methods"]["camera"]["status"] == "missing"
    row = doc["cases"][0]["methods"]
    assert row["camera"]["status"] == "missing"
    assert row["track2view"]["status"] == "failed" and "broken_model" in row["track2view"]["error"]
    assert row["identity"]["status"] == row["warp"]["status"] == row["warp-inpaint"]["status"] == "ok"
    # Regions by what the footage gives each target pixel: they split the frame; the shipped warp and
    # the classical one agree where frame t covers the view, and the temporal fill adds only holes.
    warp, inpaint = row["warp"], row["warp-inpaint"]
    assert warp["covered_share"] + warp["recoverable_share"] + warp["unseen_share"] == pytest.approx(1.0)
    assert warp["psnr_covered"] == pytest.approx(inpaint["psnr_covered"])
    assert warp["covered_share"] > 0.5
    for name in ("identity", "warp"):
        assert 0 <= row[name]["ssim"] <= 1 and row[name]["points"] > 0
        assert (out / "videos" / "static_0000000_cam1" / f"{name}.mp4").stat().st_size > 0
    # The warp is conditioned on the target camera; the identity is not: its camera is the source's.
    assert not row["identity"]["pose_failed"] and not row["warp"]["pose_failed"]
    assert row["warp"]["rot_err_deg"] < row["identity"]["rot_err_deg"]
    # The oracle (the ground-truth video) is exact: infinite PSNR, written as "inf"; the tracker on it
    # follows the ground-truth tracks.
    oracle = row["oracle"]
    assert oracle["psnr"] == oracle["psnr_visible"] == "inf" and oracle["ssim"] == pytest.approx(1.0)
    assert oracle["median_px"] < 0.5 and oracle["median_px"] < row["identity"]["median_px"]
    assert doc["summary"]["oracle"]["static"]["psnr"] == "inf" and "∞" in (out / "results.md").read_text()
    assert set(doc["summary"]) == {"identity", "warp", "warp-inpaint", "track2view", "oracle"}
    assert doc["summary"]["track2view"]["all"]["failed"] == 1
    assert {"track_source", "poses", "consistency", "fidelity", "warp_regions"} <= set(doc["stages"])
    # The tracker's result is cached under a key of the clip's meta.json and the tracker's code.
    assert (tmp_path / "cache" / "static_0000000" / f"source_tracks-{tracks_cache_key(clip)}.npz").is_file()
    table = (out / "results.md").read_text()
    assert table == markdown_table(results)
    assert "camera: missing" in table and "track2view: failed on 1 case" in table
    assert (out / "plots" / "metrics.png").stat().st_size > 0
    assert (out / "plots" / "strip_static_0000000_cam1.png").stat().st_size > 0
    with pytest.raises(UserError, match="--overwrite"):
        run_eval(config, cases=[EvalCase(clip=clip, kind="static", target=1)])


def test_cli_reports_missing_bench_data(tmp_path, capsys):
    from track2view.engine.cli import main

    code = main(["eval", "--suite", "quick", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    assert code == 1
    assert "t2v synth --preset bench" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
