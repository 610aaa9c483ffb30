"""Training: flow matching overfits one clip, resume is exact, camera baseline round trip, CLI checks.

Tiny data is built here: one or two curated sample folders (random frames, paired tracks of random
points seen by two cameras) written with the curation writer, encoded by a random tiny VAE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from track2view.engine.curation.pair import CuratedPair
from track2view.engine.curation.samples import write_sample
from track2view.engine.curation.views import View
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack, project_points
from track2view.engine.io.tracks import Tracks
from track2view.engine.model.build import build_pipeline
from track2view.engine.model.camera_embedding import CameraEmbedding, view_camera_features
from track2view.engine.model.pipeline import Track2ViewPipeline
from track2view.engine.pairing import pair_tracks
from track2view.engine.train.checkpoint import latest_checkpoint
from track2view.engine.train.data import encode_pairs, split_samples
from track2view.engine.train.flow import noisy_latents, sample_sigmas, velocity_target
from track2view.engine.train.loop import TrainOptions, dit_stage, read_log, refiner_stage, run_loop
from track2view.engine.train.refiner_data import RefinerExample

SIDE = 32
FRAMES = 5
FOCAL = 30.0


def _camera(T: int, dx: float, yaw: float) -> CameraTrack:
    K = np.array([[FOCAL, 0, SIDE / 2 - 0.5], [0, FOCAL, SIDE / 2 - 0.5], [0, 0, 1]])
    w2c = np.tile(np.eye(4), (T, 1, 1))
    for t in range(T):
        a = yaw * t
        w2c[t, :3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
        w2c[t, 0, 3] = -dx * t
    return CameraTrack(K=K, w2c=w2c, size=(SIDE, SIDE), fps=24.0)


def make_dataset(root: Path, clips: int = 1, seed: int = 0) -> Path:
    """``clips`` curated samples (folders ``clip<k>__cam1``) under ``root``."""
    for k in range(clips):
        rng = np.random.default_rng(seed + k)
        src, tgt = _camera(FRAMES, 0.05, 0.0), _camera(FRAMES, -0.05, 0.03)
        xyz = np.concatenate([rng.uniform(-1.5, 1.5, (300, 2)), rng.uniform(3, 5, (300, 1))], 1)
        xyz = np.broadcast_to(xyz, (FRAMES, 300, 3)).astype(np.float32)
        uv, _ = project_points(xyz, src.K, src.w2c)
        vis = (uv >= 0).all(-1) & (uv <= SIDE - 1).all(-1)
        tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=np.ones(vis.shape), rgb=np.zeros((300, 3), np.uint8),
                        K=src.K, w2c=src.w2c, size=src.size, fps=24.0)
        paired = pair_tracks(tracks, tgt)
        frames = [rng.integers(0, 255, (FRAMES, SIDE, SIDE, 3), dtype=np.uint8) for _ in range(2)]
        views = [View(frames=f, fps=24.0, camera=c, path=root / f"clip{k}" / f"cam{i}", name=f"cam{i}")
                 for i, (f, c) in enumerate(zip(frames, (src, tgt), strict=True))]
        n = int(paired.num_points)
        pair = CuratedPair(tracks=paired, target_camera=tgt, counts={"tracked": n, "kept": n}, source=views[0],
                           target=views[1], report={})
        write_sample(pair, root / f"clip{k}__cam1")
    return root


def _stage(tmp_path: Path, out: str, steps: int, lr: float = 1e-3, cond: str = "tracks", **kw):
    data = make_dataset(tmp_path / "data") if not (tmp_path / "data").exists() else tmp_path / "data"
    pipe = build_pipeline("tiny", seed=0)
    if cond == "camera":
        torch.manual_seed(0)
        pipe.register_modules(conditioner=CameraEmbedding(out_dim=pipe.transformer.inner_dim, hidden_dim=32),
                              refiner=None)
    train, val = split_samples(data)
    pairs = encode_pairs(pipe, train + val, SIDE, data)
    options = TrainOptions(out=tmp_path / out, steps=steps, batch_size=2, lr=lr, **kw)
    return pipe, dit_stage(pipe, pairs, pairs, options, SIDE), options


def test_flow_matching_targets_match_the_scheduler_step():
    """An Euler step of the scheduler with the exact velocity lands on the interpolation line."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(1, 2, 1, 2, 2, generator=g), torch.randn(1, 2, 1, 2, 2, generator=g)
    sched = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    sched.set_timesteps(4)
    s0, s1 = sched.sigmas[1], sched.sigmas[2]
    x = noisy_latents(x0, noise, s0.view(1))
    nxt = sched.step(velocity_target(x0, noise), sched.timesteps[1], x, return_dict=False)[0]
    torch.testing.assert_close(nxt, noisy_latents(x0, noise, s1.view(1)), atol=1e-5, rtol=1e-5)
    sig = sample_sigmas(10000, 3.0, g)
    assert 0 < sig.min() and sig.max() < 1 and float(sig.median()) == pytest.approx(0.75, abs=0.02)


def test_tiny_model_overfits_one_clip(tmp_path):
    _, stage, options = _stage(tmp_path, "run", steps=300, lr=2e-3, val_every=1000, checkpoint_every=1000)
    run_loop(stage, options)
    losses = [r["loss"] for r in read_log(options.out) if "loss" in r]
    first, last = np.mean(losses[:5]), np.mean(losses[-10:])
    assert last < first / 10, (first, last)
    assert (options.out / "model" / "model_index.json").is_file()


def test_resume_continues_from_the_same_step(tmp_path):
    _, stage, options = _stage(tmp_path, "full", steps=6, checkpoint_every=3, val_every=3)
    run_loop(stage, options)
    pipe_b, stage_b, options_b = _stage(tmp_path, "interrupted", steps=3, checkpoint_every=3, val_every=3)
    run_loop(stage_b, options_b)
    with pytest.raises(UserError, match="--resume"):
        run_loop(*_stage(tmp_path, "interrupted", steps=6, checkpoint_every=3)[1:])
    pipe_c, stage_c, options_c = _stage(tmp_path, "interrupted", steps=6, checkpoint_every=3, val_every=3,
                                        resume=True)
    reports = []
    summary = run_loop(stage_c, options_c, progress=lambda fraction, message: reports.append((fraction, message)))
    assert summary["start_step"] == 3
    # Progress goes on from where the run left off, one report per step.
    assert [f for f, _ in reports] == pytest.approx([4 / 6, 5 / 6, 1.0])
    assert reports[-1][1].startswith("train dit: step 6/6, loss ")
    full = [(r["step"], r["loss"]) for r in read_log(options.out) if "loss" in r]
    resumed = [(r["step"], r["loss"]) for r in read_log(options_c.out) if "loss" in r]
    assert full == resumed and len(full) == 6
    ref = stage.modules["transformer"].state_dict()
    for k, v in stage_c.modules["transformer"].state_dict().items():
        torch.testing.assert_close(v, ref[k], atol=0, rtol=0)
    assert latest_checkpoint(options_c.out).name == "step_0000006"
    assert not list(options_c.out.rglob("*.pt")) and not list(options_c.out.rglob("*.bin"))


def test_camera_baseline_trains_saves_loads_and_generates(tmp_path):
    pipe, stage, options = _stage(tmp_path, "cam", steps=2, cond="camera", checkpoint_every=2, val_every=2)
    run_loop(stage, options)
    loaded = Track2ViewPipeline.from_pretrained(options.out / "model", conditioner="torch")
    assert isinstance(loaded.conditioner, CameraEmbedding) and loaded.default_max_side == SIDE
    assert loaded.refiner is None
    data = tmp_path / "data" / "clip0__cam1"
    from track2view.engine.curation.samples import load_sample

    s = load_sample(data)
    with pytest.raises(UserError, match="target_camera"):
        loaded(s.source, s.tracks, None, num_inference_steps=1)
    out = loaded(s.source, s.tracks, s.target_camera, num_inference_steps=2).frames
    assert out.shape == (FRAMES, SIDE, SIDE, 3) and out.dtype == np.uint8
    src = CameraTrack(s.tracks.K, s.tracks.w2c, s.tracks.size)
    f_src, f_tgt = view_camera_features(src, s.target_camera, 2.0)
    np.testing.assert_allclose(f_src[0, :12], np.eye(3, 4).ravel(), atol=1e-6)  # source frame 0 = reference
    assert np.abs(f_tgt[1:, 9:12]).max() > 0  # the target moves


def _refiner_example(seed: int, T: int = 3) -> RefinerExample:
    """A hand-made refiner example: a backdrop with a square the warp misses (its hole) and the coarse
    view shows, blurred."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:SIDE, :SIDE]
    truth = np.zeros((T, SIDE, SIDE, 3), np.uint8)
    hole = np.zeros((T, SIDE, SIDE), bool)
    for t in range(T):
        truth[t] = (90 + 60 * np.sin(0.2 * x + rng.uniform(0, 6))[..., None] + 30 * np.arange(3)).astype(np.uint8)
        r, c = rng.integers(4, SIDE - 16, 2)
        truth[t, r:r + 12, c:c + 12] = rng.integers(0, 255, 3)
        hole[t, r:r + 12, c:c + 12] = True
    warp = np.where(hole[..., None], 0, truth).astype(np.uint8)
    coarse = truth.reshape(T, SIDE // 4, 4, SIDE // 4, 4, 3).mean((2, 4)).astype(np.uint8)
    return RefinerExample(f"clip{seed}-cam1", warp, hole, coarse, truth)


def test_refiner_learns_what_the_warp_misses_and_round_trips(tmp_path):
    pipe = build_pipeline("tiny", seed=0)
    examples = [_refiner_example(s) for s in range(4)]
    options = TrainOptions(out=tmp_path / "refiner", steps=120, batch_size=4, lr=3e-3,
                           val_every=1000, checkpoint_every=1000)
    stage = refiner_stage(pipe, examples[:3], examples[3:], options, crop=SIDE)
    before = stage.validate()
    run_loop(stage, options)
    after = stage.validate()
    assert after["psnr_holes"] > before["psnr_holes"] + 3.0, (before, after)
    assert after["psnr"] > before["psnr"]
    loaded = Track2ViewPipeline.from_pretrained(options.out / "model", conditioner="torch")
    for name, value in loaded.refiner.state_dict().items():
        torch.testing.assert_close(value, pipe.refiner.state_dict()[name], atol=0, rtol=0)


def test_cli_refuses_tiny_without_vae(tmp_path, capsys):
    from track2view.engine.cli import main

    make_dataset(tmp_path / "data")
    code = main(["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "o")])
    assert code != 0 and "--stage vae" in capsys.readouterr().err
