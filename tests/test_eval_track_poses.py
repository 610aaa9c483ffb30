"""The tracks-based pose estimator of the evaluation (``t2v eval --pose-estimator tracks``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from track2view.engine.eval.camera_metrics import camera_errors
from track2view.engine.eval.track_poses import estimate_poses, to_reference_camera
from track2view.engine.tracking.camera_solve import intrinsics

from .eval_clip import write_clip
from .tracking_scene import render_clip


def test_tracks_estimator_recovers_a_translating_camera():
    # Ray-cast toy scene: the camera trucks and rises while looking at a fixed point; a ball moves.
    frames, _, K, w2c, _ = render_clip(T=12, size=(160, 120))
    poses = estimate_poses(frames, K)
    assert poses is not None and poses.w2c.shape == (12, 4, 4)
    assert poses.registered.all() and poses.unregistered == 0 and poses.models == 1 and not poses.rotation_only
    errors = camera_errors(poses.w2c, w2c)
    assert errors["rot_err_deg"] < 3.0 and errors["trans_err"] < 0.5
    # A wrong focal length is not silently fine: the known K matters.
    wrong = K.copy()
    wrong[0, 0] = wrong[1, 1] = 2.5 * K[0, 0]
    assert camera_errors(estimate_poses(frames, wrong).w2c, w2c)["rot_err_deg"] > 10 * errors["rot_err_deg"]


def test_tracks_estimator_says_when_the_camera_only_rotates():
    frames, _, K, w2c, _ = render_clip(T=10, size=(160, 120), rotate_only=True, ball=False, seed=3)
    poses = estimate_poses(frames, K)
    assert poses.rotation_only and poses.unregistered == 0
    assert camera_errors(poses.w2c, w2c)["rot_err_deg"] < 3.0


def test_tracks_are_moved_exactly_into_the_reference_camera():
    # A zooming camera with an off-centre principal point and non-square pixels, per frame.
    size = (160, 120)
    rng = np.random.default_rng(0)
    rays = np.c_[rng.uniform(-0.4, 0.4, (50, 2)), np.ones(50)]
    K = np.stack([np.array([[f, 0, 70.0 + t], [0, 1.1 * f, 64.0 - t], [0, 0, 1]])
                  for t, f in enumerate([120.0, 140.0, 170.0])])
    uv = np.einsum("tij,nj->tni", K, rays)[..., :2]
    ref = intrinsics(120.0, size)
    expected = (rays @ ref.T)[:, :2]
    np.testing.assert_allclose(to_reference_camera(uv, K, size), np.broadcast_to(expected, uv.shape), atol=1e-9)


def test_cli_pose_estimator_flag_reaches_the_harness(tmp_path):
    from track2view.engine.cli import build_parser
    from track2view.engine.cli.eval import eval_config
    from track2view.engine.eval.harness import run_eval
    from track2view.engine.eval.suite import EvalCase

    parser = build_parser()
    assert eval_config(parser.parse_args(["eval", "--out", str(tmp_path / "o")])).pose_estimator == "colmap"
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "--out", str(tmp_path / "o"), "--pose-estimator", "magic"])

    clip = write_clip(tmp_path / "static_0000000", size=(128, 96), frames=10)
    out = tmp_path / "out"
    args = parser.parse_args(["eval", "--methods", "identity,oracle", "--out", str(out),
                              "--cache", str(tmp_path / "cache"), "--pose-estimator", "tracks"])
    config = eval_config(args)
    assert config.pose_estimator == "tracks"
    run_eval(config, cases=[EvalCase(clip=clip, kind="static", target=1)])

    doc = json.loads((out / "results.json").read_text())
    assert doc["config"]["pose_estimator"] == "tracks"
    table = (out / "results.md").read_text()
    assert "camera poses: `tracks`" in table and "our flow tracks" in table and "pycolmap" not in table
    row = doc["cases"][0]["methods"]
    # The ground-truth target video (a 12° orbit): every frame registered, its camera recovered.
    oracle = row["oracle"]
    assert not oracle["pose_failed"] and oracle["pose_unregistered"] == 0 and oracle["pose_models"] == 1
    assert not oracle["pose_rotation_only"] and doc["summary"]["oracle"]["static"]["rotation_only_poses"] == 0
    assert oracle["rot_err_deg"] < 2.0 and oracle["trans_err"] < 1.0
    # The identity video (the source camera's truck) is not the target's camera.
    assert row["identity"]["rot_err_deg"] > 5 * oracle["rot_err_deg"]
