"""t2v render / the render job: outputs, identity fidelity, frame ranges and bad input."""

import json

import cv2
import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.geometry.camera import CameraTrack, save_camera_json
from track2view.engine.io.tracks import load_tracks, save_tracks
from track2view.engine.io.video import read_frames, write_frames
from track2view.engine.worker import WorkerProcess

from .tiny_shot import make_tracks, orbit_camera, psnr, render, source_camera


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    root = tmp_path_factory.mktemp("shot")
    cam = source_camera((96, 64), 4)
    frames, _ = render(cam)
    write_frames(frames, root / "footage")
    save_tracks(make_tracks(cam, 3000), root / "tracks.npz")
    save_camera_json(cam, root / "same.json")
    save_camera_json(orbit_camera(cam, 15.0), root / "orbit.json")
    return root, frames


def _args(root, out, camera="same.json", *extra):
    return ["render", "--footage", str(root / "footage"), "--tracks", str(root / "tracks.npz"),
            "--camera", str(root / camera), "--out", str(out), *extra]


def test_preview_writes_frames_holes_mp4_and_reproduces_identity(shot, tmp_path, capsys):
    root, frames = shot
    out = tmp_path / "r"
    assert main(_args(root, out, "same.json", "--preview")) == 0
    assert sorted(p.name for p in out.iterdir()) == ["camera.json", "frames", "holes", "render.json", "render.mp4"]
    rendered = read_frames(out / "frames").frames
    holes = read_frames(out / "holes").frames[..., 0] > 127
    assert rendered.shape == frames.shape and sorted(p.name for p in (out / "frames").iterdir())[0] == "0001.png"
    assert holes.mean() < 0.1 and psnr(rendered, frames, ~holes) >= 30.0
    assert cv2.VideoCapture(str(out / "render.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 4
    meta = json.loads((out / "render.json").read_text())
    assert meta["mode"] == "preview" and meta["num_frames"] == 4
    assert "4 frames (preview)" in capsys.readouterr().out

    assert main(_args(root, out, "orbit.json", "--preview")) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(_args(root, out, "orbit.json", "--preview", "--overwrite", "--frames", "1:3")) == 0
    assert len(list((out / "frames").iterdir())) == 2
    assert json.loads((out / "render.json").read_text())["first_frame"] == 1


def test_tracks_of_part_of_the_shot_render_their_own_frames(shot, tmp_path, capsys):
    """Tracks made with ``t2v track --frames 1:4`` hold footage frames 1-3: rendered by default, and
    footage frame 0 is refused instead of being paired with the tracks of frame 1."""
    root, frames = shot
    part = load_tracks(root / "tracks.npz").subset(frames=slice(1, 4))
    save_tracks(part, tmp_path / "part.npz")
    cam = source_camera((96, 64), 4)  # camera frame 0 is the first footage frame rendered
    save_camera_json(CameraTrack(K=cam.K[1:], w2c=cam.w2c[1:], size=cam.size, fps=cam.fps), tmp_path / "same.json")
    args = ["render", "--footage", str(root / "footage"), "--tracks", str(tmp_path / "part.npz"),
            "--camera", str(tmp_path / "same.json"), "--preview", "--out"]
    assert main([*args, str(tmp_path / "r")]) == 0
    meta = json.loads((tmp_path / "r" / "render.json").read_text())
    assert meta["first_frame"] == 1 and meta["num_frames"] == 3
    rendered = read_frames(tmp_path / "r" / "frames").frames
    holes = read_frames(tmp_path / "r" / "holes").frames[..., 0] > 127
    assert psnr(rendered, frames[1:], ~holes) >= 30.0  # each footage frame along its own tracks
    assert main([*args, str(tmp_path / "r0"), "--frames", "0:2"]) == 1
    assert "cover footage frames 1..3 but frames 0..1 are wanted" in capsys.readouterr().err
    assert not (tmp_path / "r0").exists()


def test_bad_input_is_one_line_and_writes_nothing(shot, tmp_path, capsys, monkeypatch):
    root, _ = shot
    monkeypatch.setenv("TRACK2VIEW_DEFAULT_MODEL", "")  # as if no default model were installed
    out = tmp_path / "r"
    assert main(_args(root, out)) == 1
    assert "no trained Track2View model" in capsys.readouterr().err
    assert main(_args(root, out, "same.json", "--preview", "--frames", "2:9")) == 1
    assert "longer than the footage" in capsys.readouterr().err
    short = CameraTrack(K=np.eye(3)[None].repeat(2, 0) * [[[50], [50], [1]]], w2c=np.eye(4)[None].repeat(2, 0),
                        size=(96, 64))
    save_camera_json(short, tmp_path / "short.json")
    assert main(["render", "--footage", str(root / "footage"), "--tracks", str(root / "tracks.npz"),
                 "--camera", str(tmp_path / "short.json"), "--out", str(out), "--preview"]) == 1
    assert "has 2 frames but 4" in capsys.readouterr().err
    assert not out.exists()


def test_wrong_tracks_and_zero_steps_say_what_is_wrong(shot, tmp_path, capsys):
    root, _ = shot
    out = tmp_path / "r"
    # Another shot's tracks, shorter too: the size is what is wrong, not the tracked range.
    save_tracks(make_tracks(source_camera((48, 32), 2), 100), tmp_path / "other.npz")
    assert main(["render", "--footage", str(root / "footage"), "--tracks", str(tmp_path / "other.npz"),
                 "--camera", str(root / "same.json"), "--out", str(out), "--preview"]) == 1
    assert "other.npz: tracks were made on 48x32 footage" in capsys.readouterr().err
    # --steps 0 is refused (it used to render with the default 20 steps without a word).
    assert main(_args(root, out, "same.json", "--steps", "0")) == 1
    assert "--steps (denoising steps) must be at least 1, got 0" in capsys.readouterr().err
    assert not out.exists()


def test_render_job_runs_in_the_worker(shot, tmp_path):
    root, _ = shot
    params = {"footage": str(root / "footage"), "tracks": str(root / "tracks.npz"),
              "camera": str(root / "orbit.json"), "out": str(tmp_path / "w"), "preview": True}
    fractions = []
    result = WorkerProcess("render", params).run(lambda f, m: fractions.append(f))
    assert result["num_frames"] == 4 and result["mode"] == "preview"
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(list((tmp_path / "w" / "frames").iterdir())) == 4


def test_full_render_uses_the_model_folder(shot, tmp_path, monkeypatch):
    from .test_dit_pipeline import make_pipeline

    monkeypatch.setenv("TRACK2VIEW_CACHE", str(tmp_path / "cache"))

    root, frames = shot
    model = tmp_path / "model"
    make_pipeline().save_pretrained(model)
    out = tmp_path / "full"
    assert main(_args(root, out, "orbit.json", "--model", str(model), "--steps", "2", "--device", "cpu")) == 0
    meta = json.loads((out / "render.json").read_text())
    assert meta["mode"] == "model" and meta["model"] == str(model)
    rendered = read_frames(out / "frames").frames
    assert rendered.shape == frames.shape
    # A random model does not reproduce the warp: the frames come from the model.
    warped_out = tmp_path / "warp"
    assert main(_args(root, warped_out, "orbit.json", "--preview")) == 0
    assert np.abs(rendered.astype(int) - read_frames(warped_out / "frames").frames).mean() > 5


def test_half_precision_on_cpu_runs_in_fp32_and_says_so(shot, tmp_path, monkeypatch):
    from track2view.engine.errors import UserError
    from track2view.engine.render import render_new_view

    from .test_dit_pipeline import make_pipeline

    monkeypatch.setenv("TRACK2VIEW_CACHE", str(tmp_path / "cache"))
    root, frames = shot
    model = tmp_path / "model"
    make_pipeline().save_pretrained(model)
    inputs = (root / "footage", root / "tracks.npz", root / "orbit.json")
    messages = []
    summary = render_new_view(*inputs, tmp_path / "half", model=str(model), device="cpu", precision="fp16",
                              steps=1, frames=(0, 2), progress=lambda fraction, message: messages.append(message))
    assert summary["num_frames"] == 2 and summary["mode"] == "model"
    said = [m for m in messages if "fp16" in m]
    assert said == ["precision fp16 needs a CUDA GPU: running in fp32 on cpu"], messages
    full = render_new_view(*inputs, tmp_path / "full", model=str(model), device="cpu", precision="fp32",
                           steps=1, frames=(0, 2))
    np.testing.assert_array_equal(read_frames(summary["frames_dir"]).frames, read_frames(full["frames_dir"]).frames)
    with pytest.raises(UserError, match="unknown precision 'fp8'"):
        render_new_view(*inputs, tmp_path / "bad", model=str(model), device="cpu", precision="fp8")
    assert not (tmp_path / "bad").exists()
