"""`t2v synth`: synthetic multi-camera clips with ground-truth tracks (tiny preset, rendered by bpy 5.0.1)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil

import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import CameraTrack
from track2view.engine.synth import load_clip
from track2view.engine.synth.clip import depth_consistent, on_rendered_surface
from track2view.engine.synth.generate import generate_clip, generate_many
from track2view.engine.synth.presets import PRESETS, SynthSpec
from track2view.engine.synth.trajectories import plan_shots

UV_TOLERANCE_PX = 0.01
MIN_DEPTH_AGREEMENT = 0.99

needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs the bpy module")


def _tiny(seed: int, kind: str) -> SynthSpec:
    p = PRESETS["tiny"]
    return SynthSpec(seed=seed, kind=kind, cameras=p.cameras, frames=p.frames, size=p.size, samples=p.samples,
                     points=p.points, shared_first_frame=p.shared_first_frame, preset="tiny")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Four tiny clips: static seed 2 (twice), static seed 4, dynamic seed 3."""
    root = tmp_path_factory.mktemp("synth")
    folders = {}
    for name, spec in [("a", _tiny(2, "static")), ("a_again", _tiny(2, "static")),
                       ("b", _tiny(4, "static")), ("dyn", _tiny(3, "dynamic"))]:
        generate_clip(spec, root / name)
        folders[name] = root / name
    return folders


@needs_bpy
@pytest.mark.bpy
def test_layout_and_shapes(clips):
    clip = load_clip(clips["dyn"])
    assert (clip.kind, clip.seed, clip.preset) == ("dynamic", 3, "tiny")
    assert len(clip.views) == 2 and clip.source is clip.views[0]
    for view in clip.views:
        assert view.frames.shape == (5, 64, 64, 3) and view.frames.dtype == np.uint8
        assert view.depth.shape == (5, 64, 64) and view.depth.dtype == np.float32
        assert view.camera.num_frames == 5 and view.camera.size == (64, 64)
        assert view.tracks.xyz.shape == (5, 256, 3)
        np.testing.assert_array_equal(view.tracks.xyz, clip.source.tracks.xyz)
        assert view.frames.std() > 10, "frames should carry texture"
    assert (clips["dyn"] / "contact_sheet.png").stat().st_size > 1000
    assert not (clips["dyn"] / "raw").exists()


@needs_bpy
@pytest.mark.bpy
def test_projection_of_gt_xyz_gives_gt_uv(clips):
    for folder in clips.values():
        for view in load_clip(folder).views:
            t = view.tracks
            uv, z = view.camera.project(t.xyz)
            front = z > 0
            assert front.mean() > 0.5
            assert np.abs(uv - t.uv)[front].max() < UV_TOLERANCE_PX
            # the tracks file's own float32 K/w2c give the same pixels
            uv32, _ = CameraTrack(K=t.K, w2c=t.w2c, size=t.size).project(t.xyz)
            assert np.abs(uv32 - t.uv)[front].max() < UV_TOLERANCE_PX


@needs_bpy
@pytest.mark.bpy
def test_visibility_agrees_with_rendered_depth(clips):
    for folder in clips.values():
        for view in load_clip(folder).views:
            t = view.tracks
            uv, z = view.camera.project(t.xyz)
            assert 0.1 < t.vis.mean() < 0.95
            assert not (t.vis & ~depth_consistent(uv, z, view.depth)).any()
            assert on_rendered_surface(uv, z, view.depth)[t.vis].mean() >= MIN_DEPTH_AGREEMENT
            # Cycles' Depth pass is camera z, not the distance to the camera centre.
            dist = np.linalg.norm(t.xyz - view.camera.centers[:, None], axis=-1)
            assert on_rendered_surface(uv, dist, view.depth)[t.vis].mean() < 0.9


@needs_bpy
@pytest.mark.bpy
def test_same_seed_identical_different_seed_differs(clips):
    a, again, b = (load_clip(clips[k]) for k in ("a", "a_again", "b"))
    for va, vb in zip(a.views, again.views, strict=True):
        for name in ("xyz", "uv", "vis", "K", "w2c", "rgb", "object_id"):
            np.testing.assert_array_equal(getattr(va.tracks, name), getattr(vb.tracks, name))
        np.testing.assert_array_equal(va.depth, vb.depth)
        np.testing.assert_array_equal(va.frames, vb.frames)
    assert a.source.tracks.xyz.shape == b.source.tracks.xyz.shape
    assert not np.allclose(a.source.tracks.xyz, b.source.tracks.xyz)
    assert not np.allclose(a.source.camera.w2c, b.source.camera.w2c)
    assert np.abs(a.source.frames.astype(int) - b.source.frames).mean() > 5


@needs_bpy
@pytest.mark.bpy
def test_static_scenes_are_static_dynamic_scenes_move(clips):
    for key in ("a", "b"):
        t = load_clip(clips[key]).source.tracks
        assert not t.dynamic.any()
        assert np.abs(t.xyz - t.xyz[:1]).max() < 1e-5
    dyn = load_clip(clips["dyn"])
    t = dyn.source.tracks
    assert t.dynamic.any() and not t.dynamic.all()
    assert (t.object_id[t.dynamic] > 0).all(), "background points never move"
    assert np.linalg.norm(t.xyz[-1] - t.xyz[0], axis=-1)[t.dynamic].max() > 0.05
    assert any(o["deformation"] for o in dyn.meta["objects"])


@needs_bpy
@pytest.mark.bpy
def test_existing_clips_refused_or_resumed(clips, tmp_path, capsys):
    assert main(["synth", "--out", str(clips["a"]), "--size", "64x64", "--frames", "5", "--cameras", "2"]) == 1
    assert "already exists" in capsys.readouterr().err
    root = tmp_path / "train"
    shutil.copytree(clips["a"], root / _tiny(2, "static").clip_name)
    before = (root / _tiny(2, "static").clip_name / "meta.json").stat().st_mtime_ns
    seen = []
    generate_many([_tiny(2, "static")], root, resume=True, progress=lambda f, message: seen.append(message))
    assert seen == [f"{_tiny(2, 'static').clip_name}: skipped (made earlier)"]
    meta_path = root / _tiny(2, "static").clip_name / "meta.json"
    assert meta_path.stat().st_mtime_ns == before
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(meta | {"synth_version": meta["synth_version"] - 1}))
    with pytest.raises(UserError, match="another version"):
        generate_many([_tiny(2, "static")], root, resume=True)


@pytest.mark.parametrize("argv,message", [
    (["--size", "10x10"], "--size 10x10 is out of range"),
    (["--size", "big"], "--size must look like"),
    (["--frames", "1"], "--frames must be"),
    (["--cameras", "1"], "--cameras must be"),
    (["--cameras", "99"], "--cameras must be"),
    (["--samples", "0"], "--samples must be"),
    (["--seed", "1000005"], "reserved for the benchmark"),
    (["--preset", "bench", "--frames", "9"], "bench preset is fixed"),
    (["--preset", "bench", "--denoise"], "bench preset is fixed; drop --denoise"),
    (["--preset", "tiny", "--count", "3"], "--count only applies"),
])
def test_bad_input_is_one_clear_error(tmp_path, capsys, argv, message):
    assert main(["synth", "--out", str(tmp_path / "clip"), *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "clip").exists()


@pytest.mark.parametrize("shared", [True, False])
def test_shared_first_frame(shared):
    shots = plan_shots(np.random.default_rng(7), 4, 9, shared)
    cams = [shot.camera((64, 48), 24.0) for shot in shots]
    assert len({shot.motion for shot in shots[1:]}) == 3
    for cam in cams[1:]:
        same = np.allclose(cam.w2c[0], cams[0].w2c[0]) and np.allclose(cam.K[0], cams[0].K[0])
        assert same == shared
        assert not np.allclose(cam.w2c[-1], cams[0].w2c[-1])
    for cam in cams:  # rotations are orthonormal, every camera looks at the scene
        R = cam.w2c[:, :3, :3]
        np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
        _, z = cam.project(np.zeros((cam.num_frames, 1, 3)))
        assert (z > 0).all()


def test_denoise_is_recorded_and_old_clips_read_as_grainy():
    spec = dataclasses.replace(_tiny(2, "static"), denoise=True)
    assert SynthSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    old = {k: v for k, v in _tiny(2, "static").to_json().items() if k != "denoise"}  # meta.json before the option
    assert SynthSpec.from_json(old).denoise is False


@needs_bpy
@pytest.mark.bpy
def test_denoised_frames_lose_the_grain_and_keep_the_scene(clips, tmp_path):
    """The same tiny clip rendered with OpenImageDenoise: same scene and ground truth, far less pixel-to-pixel noise."""
    import cv2

    generate_clip(dataclasses.replace(_tiny(2, "static"), denoise=True), tmp_path / "clean")
    grainy, clean = load_clip(clips["a"]), load_clip(tmp_path / "clean")
    assert json.loads((tmp_path / "clean" / "meta.json").read_text())["denoise"] is True
    np.testing.assert_array_equal(clean.source.depth, grainy.source.depth)
    energy = lambda frames: np.mean([cv2.Laplacian(f.mean(-1), cv2.CV_64F).var() for f in frames])  # noqa: E731
    assert energy(clean.source.frames) < 0.3 * energy(grainy.source.frames)  # measured 0.09
    # The same picture: blurred past the grain, it is far nearer the grainy render than another scene is.
    blur = lambda clip: np.stack([cv2.GaussianBlur(f, (0, 0), 2).astype(float) for f in clip.source.frames])  # noqa: E731
    other = load_clip(clips["b"])
    assert np.abs(blur(clean) - blur(grainy)).mean() < 0.3 * np.abs(blur(clean) - blur(other)).mean()
