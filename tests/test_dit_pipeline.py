"""Track2ViewPipeline: determinism, save/load, windows, model-folder errors, the Wan loader, no network.

Every model here is a tiny random model built from constructor arguments with a fixed seed and
in eval mode; 2 denoising steps at 32×32 so the whole file runs in well under a minute.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKLWan, WanTransformer3DModel
from safetensors.torch import save_file

from track2view.engine.errors import Cancelled, UserError
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.io.tracks import Tracks
from track2view.engine.model.build import build_pipeline, trainable_parameters
from track2view.engine.model.conditioner import TrackConditioner
from track2view.engine.model.configs import TINY, WAN_1_3B
from track2view.engine.model.pipeline import Track2ViewPipeline
from track2view.engine.model.wan_backbone import NULL_PROMPT_FILE, load_wan_backbone, merge_lora
from track2view.engine.model.windows import WindowBlender, plan_windows

# A smaller sibling of the tiny config: 4 latent channels, width 24, a 9-frame window.
TEST_CONFIG = dataclasses.replace(
    TINY,
    name="test",
    transformer={**TINY.transformer, "num_attention_heads": 2, "attention_head_dim": 12, "in_channels": 4,
                 "out_channels": 4, "text_dim": 16, "freq_dim": 32, "ffn_dim": 48, "num_layers": 2,
                 "rope_max_seq_len": 64, "frame_window": 9},
    vae={**TINY.vae, "base_dim": 8, "z_dim": 4, "latents_mean": [0.0] * 4, "latents_std": [1.0] * 4},
    conditioner={"feature_dim": 16, "out_dim": 24, "hidden_dim": 16, "num_layers": 1, "num_heads": 2},
)
SIZE = 32


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here proves it made no connection attempt (even one some library would swallow)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:])
        raise AssertionError(f"network access attempted: {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield
    assert attempts == [], f"network connections were attempted: {attempts}"


def make_pipeline(config=TEST_CONFIG, seed: int = 0) -> Track2ViewPipeline:
    """A random pipeline whose conditioner output is non-zero (its zero-initialised heads randomised)."""
    pipe = build_pipeline(config, seed)
    torch.manual_seed(seed + 1)
    for proj in (pipe.conditioner.proj_out_src, pipe.conditioner.proj_out_tgt):
        torch.nn.init.normal_(proj.weight, std=0.5)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def make_clip(num_frames: int, size: int = SIZE, num_points: int = 40, seed: int = 0):
    """Smoothly moving source frames, tracks of a static point cloud, a target camera shifted sideways."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames)[:, None, None, None]
    y, x = (g[None, ..., None] for g in np.mgrid[:size, :size])
    frames = (127 + 100 * np.sin(0.3 * x + 0.2 * y + 0.15 * t + np.arange(3) * 2.0)).astype(np.uint8)
    xyz = np.repeat(rng.uniform([-1, -1, 4], [1, 1, 6], (1, num_points, 3)), num_frames, 0)
    K = np.array([[size, 0, size / 2 - 0.5], [0, size, size / 2 - 0.5], [0, 0, 1]])
    source = CameraTrack(K, np.eye(4), (size, size))
    uv, _ = source.project(xyz)
    tracks = Tracks(xyz=xyz, uv=uv, vis=np.ones((num_frames, num_points), bool),
                    conf=np.ones((num_frames, num_points)), rgb=np.zeros((num_points, 3)),
                    K=np.repeat(K[None], num_frames, 0), w2c=np.repeat(np.eye(4)[None], num_frames, 0),
                    size=(size, size), fps=24.0)
    w2c = np.repeat(np.eye(4)[None], num_frames, 0)
    w2c[:, 0, 3] = np.linspace(0.0, 0.4, num_frames)
    return frames, tracks, CameraTrack(K, w2c, (size, size))


@pytest.fixture(scope="module")
def pipe() -> Track2ViewPipeline:
    return make_pipeline()


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, pipe) -> str:
    folder = tmp_path_factory.mktemp("models") / "model"
    pipe.save_pretrained(folder)
    return folder


def test_same_seed_same_frames(pipe):
    frames, tracks, camera = make_clip(5)
    a, b, c = (pipe(frames, tracks, camera, num_inference_steps=2, generator=g, anchor=False).frames for g in (3, 3, 4))
    assert a.shape == (5, SIZE, SIZE, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 1.0
    anchored = [pipe(frames, tracks, camera, num_inference_steps=2, generator=3).frames for _ in range(2)]
    np.testing.assert_array_equal(*anchored)


def test_source_camera_as_target_gives_back_the_footage(pipe):
    # The refiner keeps what the warp shows: with the source camera as the target that is every pixel.
    frames, tracks, _ = make_clip(5)
    source = CameraTrack(tracks.K, tracks.w2c, tracks.size)
    out = pipe(frames, tracks, source, num_inference_steps=2).frames
    assert out.shape == frames.shape
    assert np.abs(out.astype(int) - frames).mean() < 3.0
    coarse = pipe(frames, tracks, source, num_inference_steps=2, anchor=False).frames
    assert np.abs(coarse.astype(int) - frames).mean() > 20.0  # the random transformer alone does not


def test_output_has_the_target_cameras_size(pipe):
    frames, tracks, camera = make_clip(5)
    K = camera.K.copy()
    K[:, 0, 2], K[:, 1, 2] = 23.5, 11.5
    wide = CameraTrack(K, camera.w2c, (48, 24))
    output = pipe(frames, tracks, wide, num_inference_steps=1)
    out = output.frames
    assert out.shape == (5, 24, 48, 3)
    assert output.holes.shape == (5, 24, 48)  # the warp's, for the render's hole masks


def test_tracks_condition_the_output(pipe):
    frames, tracks, camera = make_clip(5)
    base = pipe(frames, tracks, camera, num_inference_steps=2, output_type="np", anchor=False).frames
    moved = dataclasses.replace(tracks, uv_tgt=None, depth_src=None, depth_tgt=None, vis_tgt=None)
    w2c = camera.w2c.copy()
    w2c[:, 1, 3] = 0.5
    other = CameraTrack(camera.K, w2c, camera.size)
    shifted = pipe(frames, moved, other, num_inference_steps=2, output_type="np", anchor=False).frames
    assert np.abs(base - shifted).max() > 1e-3


def test_save_load_round_trip_identical(pipe, saved_model, tmp_path):
    frames, tracks, camera = make_clip(5)
    expected = pipe(frames, tracks, camera, num_inference_steps=2, output_type="np").frames
    loaded = Track2ViewPipeline.from_pretrained(saved_model, conditioner="torch")
    loaded.set_progress_bar_config(disable=True)
    np.testing.assert_array_equal(loaded(frames, tracks, camera, num_inference_steps=2, output_type="np").frames,
                                  expected)
    # ONNX Runtime (the default): the export saved next to the weights is used, nothing is cached.
    onnx_files = list((saved_model / "conditioner").glob("conditioner-*.onnx"))
    assert len(onnx_files) == 1
    cache = tmp_path / "cache"
    by_onnx = Track2ViewPipeline.from_pretrained(saved_model, cache_dir=cache, device="cpu")
    by_onnx.set_progress_bar_config(disable=True)
    out = by_onnx(frames, tracks, camera, num_inference_steps=2, output_type="np").frames
    np.testing.assert_allclose(out, expected, atol=2e-3)
    assert by_onnx._onnx_conditioner.path == str(onnx_files[0]) and not cache.exists()


def test_onnx_export_cached_on_first_use(tmp_path):
    pipe = make_pipeline(seed=5)
    frames, tracks, camera = make_clip(5)
    expected = pipe(frames, tracks, camera, num_inference_steps=2, output_type="np").frames
    pipe.use_conditioner_backend("onnx", cache_dir=tmp_path, device="cpu")
    out = pipe(frames, tracks, camera, num_inference_steps=2, output_type="np").frames
    cached = list((tmp_path / "onnx").glob("conditioner-*.onnx"))
    assert len(cached) == 1
    np.testing.assert_allclose(out, expected, atol=2e-3)
    # Other weights → another hash → another export.
    torch.nn.init.normal_(pipe.conditioner.proj_out_tgt.weight)
    pipe.use_conditioner_backend("onnx", cache_dir=tmp_path, device="cpu")
    pipe(frames, tracks, camera, num_inference_steps=1)
    assert len(list((tmp_path / "onnx").glob("conditioner-*.onnx"))) == 2


def _frame_steps(video: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames, (T - 1,)."""
    return np.abs(np.diff(video.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))


def test_windowed_long_clip_has_no_seam_jump(pipe):
    frames, tracks, camera = make_clip(17)
    final_latents = []

    def keep_window_result(p, step, timestep, tensors):
        if (step + 1) % 2 == 0:  # the last of a window's 2 steps
            final_latents.append(tensors["latents"])
        return {}

    out = pipe(frames, tracks, camera, num_inference_steps=2, overlap_frames=4, output_type="np",
               callback_on_step_end=keep_window_result, anchor=False)
    plan = out.plan
    assert plan.starts == (0, 4, 8) and plan.overlap == 5 and out.frames.shape[0] == 17
    steps = _frame_steps(out.frames)
    # Steps that cross into or out of a cross-fade, vs steps inside each window as generated.
    seams = sorted({s - 1 for s in plan.starts[1:]} | {s + plan.window_frames - 1 for s in plan.starts[:-1]})
    seams = [s for s in seams if s < len(steps)]
    with torch.no_grad():
        inside = np.concatenate([_frame_steps(pipe.decode_latents(z)) for z in final_latents])
    assert len(final_latents) == 3
    assert steps[seams].max() <= inside.max()


def test_cross_fade_removes_the_jump_between_disagreeing_windows():
    # Windows that are smooth inside but disagree by 1.0: a hard cut would jump by 1.0.
    plan = plan_windows(29, 13, 4)
    assert plan.starts == (0, 8, 16) and plan.overlap == 5
    blender = WindowBlender(plan, 2, 2)
    drift = 0.01
    for k in range(len(plan.starts)):
        ramp = k * 1.0 + drift * np.arange(plan.window_frames, dtype=np.float32)
        blender.add(k, np.broadcast_to(ramp[:, None, None, None], (plan.window_frames, 2, 2, 3)))
    steps = _frame_steps(blender.result())
    assert steps.max() <= 1.0 / (plan.overlap + 1) + drift + 1e-6


def test_window_plan_covers_any_length():
    for length in (1, 5, 9, 10, 30, 97):
        plan = plan_windows(length, 25, 8)
        assert plan.padded_frames >= length and (plan.padded_frames - 1) % 4 == 0
        assert all(s % 4 == 0 for s in plan.starts)
        assert plan.starts[-1] + plan.window_frames == plan.padded_frames
    with pytest.raises(ValueError, match="window_frames=24"):
        plan_windows(30, 24, 8)


def test_callback_reports_progress_and_cancels(pipe):
    frames, tracks, camera = make_clip(5)
    seen = []

    def record(p, step, timestep, tensors):
        seen.append((step, p.num_timesteps, tuple(tensors)))
        return {}

    refined = []
    pipe(frames, tracks, camera, num_inference_steps=2, callback_on_step_end=record,
         callback_on_frame_end=lambda done, total: refined.append((done, total)))
    assert seen == [(0, 2, ("latents",)), (1, 2, ("latents",))]
    assert refined == [(i, 5) for i in range(1, 6)]

    def cancel(p, step, timestep, tensors):
        p._interrupt = True
        return {}

    with pytest.raises(Cancelled):
        pipe(frames, tracks, camera, num_inference_steps=2, callback_on_step_end=cancel)

    def cancel_refining(done, total):
        pipe._interrupt = done == 2

    with pytest.raises(Cancelled):
        pipe(frames, tracks, camera, num_inference_steps=1, callback_on_frame_end=cancel_refining)


def test_bad_inputs_are_named(pipe):
    frames, tracks, camera = make_clip(5)
    with pytest.raises(UserError, match=r"source has 4 frames but the tracks have 5"):
        pipe(frames[:4], tracks, camera)
    with pytest.raises(UserError, match=r"\(T, H, W, 3\)"):
        pipe(frames[..., 0], tracks, camera)
    with pytest.raises(UserError, match="height=20 must be a positive multiple of 16"):
        pipe(frames, tracks, camera, height=20)
    with pytest.raises(UserError, match="num_inference_steps=0"):
        pipe(frames, tracks, camera, num_inference_steps=0)


def _copy(saved_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(saved_model, folder)
    return folder


def test_missing_corrupt_incompatible_model_folder(saved_model, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        Track2ViewPipeline.from_pretrained(tmp_path / "nowhere")

    folder = _copy(saved_model, tmp_path)
    (folder / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(UserError, match=r"transformer/diffusion_pytorch_model\.safetensors is missing"):
        Track2ViewPipeline.from_pretrained(folder)

    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    (folder / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00garbage" * 20)
    with pytest.raises(UserError, match=r"vae/diffusion_pytorch_model\.safetensors is not a readable safetensors"):
        Track2ViewPipeline.from_pretrained(folder)

    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    (folder / "model_index.json").unlink()
    with pytest.raises(UserError, match=r"model_index\.json is missing"):
        Track2ViewPipeline.from_pretrained(folder)

    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    (folder / "scheduler" / "scheduler_config.json").write_text("{not json")
    with pytest.raises(UserError, match=r"scheduler/scheduler_config\.json is not valid JSON"):
        Track2ViewPipeline.from_pretrained(folder)

    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "WanPipeline"}))
    with pytest.raises(UserError, match=r"model_index\.json: a WanPipeline folder, not a Track2ViewPipeline"):
        Track2ViewPipeline.from_pretrained(folder)

    # Weights that do not fit their config.
    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    config = json.loads((folder / "transformer" / "config.json").read_text())
    (folder / "transformer" / "config.json").write_text(json.dumps({**config, "ffn_dim": 64}))
    with pytest.raises(UserError, match=r"transformer/diffusion_pytorch_model\.safetensors does not fit"):
        Track2ViewPipeline.from_pretrained(folder)

    # A config asking for more or fewer layers than were saved, or for a window of no frames.
    for change, words in (({"num_layers": 6}, "tensors the config asks for are not in the weights"),
                          ({"num_layers": -1}, "stored tensors have no place in it"),
                          ({"frame_window": 0}, "frame_window=0 must be 1 \\+ 4k")):
        shutil.rmtree(folder)
        folder = _copy(saved_model, tmp_path)
        (folder / "transformer" / "config.json").write_text(json.dumps({**config, **change}))
        with pytest.raises(UserError, match=words):
            Track2ViewPipeline.from_pretrained(folder)

    # Components that do not fit each other.
    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    shutil.rmtree(folder / "conditioner")
    TrackConditioner(feature_dim=16, out_dim=32, hidden_dim=16, num_layers=1, num_heads=2).save_pretrained(
        folder / "conditioner")
    with pytest.raises(UserError, match=r"conditioner/config\.json: out_dim=32 but the transformer width is 24"):
        Track2ViewPipeline.from_pretrained(folder)

    # A folder of the old layout (v2: no refiner) is named as such and says what to do.
    shutil.rmtree(folder)
    folder = _copy(saved_model, tmp_path)
    shutil.rmtree(folder / "refiner")
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({k: v for k, v in index.items() if k != "refiner"}))
    with pytest.raises(UserError, match=r"old layout \(v2.*t2v train --stage refiner --model"):
        Track2ViewPipeline.from_pretrained(folder)
    assert Track2ViewPipeline.from_pretrained(folder, allow_missing_refiner=True).refiner is None


def test_pickle_checkpoints_are_refused(saved_model, tmp_path, monkeypatch):
    def no_unpickling(*args, **kwargs):
        raise AssertionError("torch.load must never run")

    monkeypatch.setattr(torch, "load", no_unpickling)
    folder = _copy(saved_model, tmp_path)
    (folder / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    (folder / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(UserError, match=r"transformer/diffusion_pytorch_model\.bin: pickle-based checkpoints are refused"):
        Track2ViewPipeline.from_pretrained(folder)
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"\x80\x04pickle")
    with pytest.raises(UserError, match=r"model\.ckpt: pickle-based checkpoints are refused"):
        Track2ViewPipeline.from_pretrained(checkpoint)


def test_wan_backbone_frozen_with_lora_and_conditioner_trainable(tmp_path):
    # A tiny random Wan2.1 folder in diffusers layout (what Wan2.1-T2V-1.3B-Diffusers looks like).
    torch.manual_seed(0)
    WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=4,
                          out_channels=4, text_dim=16, freq_dim=32, ffn_dim=32, num_layers=2,
                          rope_max_seq_len=64).save_pretrained(tmp_path / "transformer")
    torch.manual_seed(0)
    AutoencoderKLWan(**TEST_CONFIG.vae).save_pretrained(tmp_path / "vae")
    null_prompt = torch.randn(3, 16)
    save_file({"prompt_embeds": null_prompt}, tmp_path / NULL_PROMPT_FILE)
    config = dataclasses.replace(
        WAN_1_3B, transformer={"null_prompt_len": 1, "frame_window": 9},
        conditioner={"hidden_dim": 16, "num_layers": 1, "num_heads": 2},
        lora={**WAN_1_3B.lora, "r": 4, "lora_alpha": 4})
    pipe = load_wan_backbone(tmp_path, config)

    trainable = {n for n, p in pipe.transformer.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable)
    assert {"attn1.to_q", "attn1.to_out.0", "attn2.to_v"} <= {n.split(".", 2)[2].rsplit(".lora_", 1)[0]
                                                               for n in trainable}
    assert not any(p.requires_grad for p in pipe.vae.parameters())
    ids = {id(p) for p in trainable_parameters(pipe)}
    assert ids == {id(p) for p in pipe.transformer.parameters() if p.requires_grad} | {
        id(p) for p in pipe.conditioner.parameters()}
    assert pipe.conditioner.config.out_dim == 24 and pipe.conditioner.config.feature_dim == 16
    torch.testing.assert_close(pipe.transformer.null_prompt[0], null_prompt)

    pipe.set_progress_bar_config(disable=True)
    frames, tracks, camera = make_clip(5)
    assert pipe(frames, tracks, camera, num_inference_steps=1).frames.shape == (5, SIZE, SIZE, 3)
    # A gradient reaches the LoRA weights and the conditioner (training works through this path).
    latents = torch.randn(1, 4, 2, 4, 4)
    features = torch.randn(1, 2, 16, 2, 2)
    track = [torch.rand(1, 2, 3, 2) * 2 - 1, torch.rand(1, 2, 3, 2) * 2 - 1, torch.ones(1, 2, 3),
             torch.ones(1, 2, 3), torch.ones(1, 2, 3), torch.ones(1, 2, 3)]
    tokens = pipe.conditioner(features, *track)
    pipe.transformer(latents, latents, torch.tensor([500.0]), *tokens).square().mean().backward()
    assert all(p.grad is not None for p in trainable_parameters(pipe))

    # A trained LoRA is merged into the weights before saving; the saved model gives the same frames.
    with torch.no_grad():
        for name, p in pipe.transformer.named_parameters():
            if ".lora_B." in name:
                p.normal_(std=0.5)
    with_lora = pipe(frames, tracks, camera, num_inference_steps=1, output_type="np").frames
    merge_lora(pipe)
    assert not any(".lora_" in n for n, _ in pipe.transformer.named_parameters())
    pipe.save_pretrained(tmp_path / "trained", export_onnx=False)
    reloaded = Track2ViewPipeline.from_pretrained(tmp_path / "trained", conditioner="torch")
    reloaded.set_progress_bar_config(disable=True)
    np.testing.assert_allclose(reloaded(frames, tracks, camera, num_inference_steps=1, output_type="np").frames,
                               with_lora, atol=1e-4)


def test_cli_generate_writes_frames_and_refuses_overwrite(saved_model, tmp_path, capsys):
    from track2view.engine.cli import main
    from track2view.engine.geometry.camera import save_camera_json
    from track2view.engine.io.tracks import save_tracks
    from track2view.engine.io.video import read_frames, write_frames

    frames, tracks, camera = make_clip(5)
    write_frames(frames, tmp_path / "footage")
    save_tracks(tracks, tmp_path / "shot.npz")
    save_camera_json(camera, tmp_path / "cam.json")
    args = ["generate", "--model", str(saved_model), "--footage", str(tmp_path / "footage"), "--tracks",
            str(tmp_path / "shot.npz"), "--camera", str(tmp_path / "cam.json"), "--out", str(tmp_path / "out"),
            "--steps", "2", "--seed", "3", "--conditioner", "torch", "--device", "cpu"]
    assert main(args) == 0
    written = read_frames(tmp_path / "out").frames
    expected = Track2ViewPipeline.from_pretrained(saved_model, conditioner="torch")(
        frames, tracks, camera, num_inference_steps=2, generator=3).frames
    np.testing.assert_array_equal(written, expected)
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--steps", "--max-side"])
def test_cli_generate_refuses_a_zero_setting_up_front(flag, tmp_path, capsys):
    """0 steps used to fail deep in the pipeline as 'num_inference_steps=0', and --max-side 0 silently
    meant the default; both are named at once, before anything is read or written."""
    from track2view.engine.cli import main

    args = ["generate", "--model", str(tmp_path / "model"), "--footage", str(tmp_path / "footage"),
            "--tracks", str(tmp_path / "shot.npz"), "--camera", str(tmp_path / "cam.json"),
            "--out", str(tmp_path / "out"), flag, "0"]
    assert main(args) == 1
    assert f"{flag} must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
