"""The built-in default model (models/default) loads safely and produces frames through the pipeline; the
committed camera baseline (models/baselines/camera) stays out of the extension."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from track2view.engine.curation.samples import load_sample
from track2view.engine.model.conditioner_cache import onnx_file_name
from track2view.engine.model.model_folder import (
    CAMERA_BASELINE_DIR,
    DEFAULT_MODEL_DIR,
    camera_baseline_folder,
    default_model_folder,
)
from track2view.engine.model.pipeline import Track2ViewPipeline

from .test_train import FRAMES, make_dataset

MAX_MODEL_MB = 50


def test_default_model_is_small_safetensors_only():
    assert default_model_folder() == DEFAULT_MODEL_DIR
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < MAX_MODEL_MB * 2**20
    assert {p.suffix for p in files} <= {".json", ".safetensors", ".md", ".onnx"}
    assert json.loads((DEFAULT_MODEL_DIR / "model_index.json").read_text())["max_side"] > 0


def test_camera_baseline_is_small_safetensors_only_and_stays_out_of_the_extension():
    from track2view.engine.packaging import iter_extension_files, read_manifest

    assert camera_baseline_folder() == CAMERA_BASELINE_DIR
    files = [p for p in CAMERA_BASELINE_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < MAX_MODEL_MB * 2**20
    assert {p.suffix for p in files} <= {".json", ".safetensors", ".md"}
    root = DEFAULT_MODEL_DIR.parents[1]
    shipped = [p.as_posix() for p in iter_extension_files(root, read_manifest(root)["build"]["paths_exclude_pattern"])]
    assert "models/default/model_index.json" in shipped
    assert not [p for p in shipped if p.startswith("models/baselines/")]


def test_default_model_ships_the_export_of_its_own_conditioner():
    """The add-on's zip has no ONNX exporter (the onnx package): the default model carries its export."""
    pipe = Track2ViewPipeline.from_pretrained(default_model_folder(), conditioner="torch")
    exports = list((DEFAULT_MODEL_DIR / "conditioner").glob("*.onnx"))
    assert [p.name for p in exports] == [onnx_file_name(pipe.conditioner)]


def test_default_model_generates_frames(tmp_path):
    sample = load_sample(make_dataset(tmp_path / "data") / "clip0__cam1")
    pipe = Track2ViewPipeline.from_pretrained(default_model_folder(), conditioner="torch")
    frames = pipe(sample.source, sample.tracks, sample.target_camera, num_inference_steps=2,
                  height=64, width=64).frames
    # The coarse view is made at 64×64; the refiner's output has the target camera's own size.
    assert frames.shape == (FRAMES, *sample.target_camera.size[::-1], 3) and frames.dtype == np.uint8
    assert frames.std() > 1.0  # an image, not a constant


@pytest.mark.parametrize("shipped", [True, False])
def test_without_the_onnx_package_the_conditioner_still_runs(tmp_path, monkeypatch, shipped):
    """As in the add-on's zip: the shipped export runs in ONNX Runtime; with no export to use, PyTorch
    runs the conditioner, with a warning, instead of failing."""
    sample = load_sample(make_dataset(tmp_path / "data") / "clip0__cam1")
    folder = default_model_folder()
    if not shipped:
        folder = tmp_path / "model"
        Track2ViewPipeline.from_pretrained(default_model_folder()).save_pretrained(folder, export_onnx=False)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx fails
    pipe = Track2ViewPipeline.from_pretrained(folder, cache_dir=tmp_path / "cache")
    if shipped:
        pipe(sample.source, sample.tracks, sample.target_camera, num_inference_steps=1, height=64, width=64)
        assert pipe.conditioner_backend == "onnx" and not (tmp_path / "cache").exists()
    else:
        with pytest.warns(UserWarning, match="'onnx'.*PyTorch"):
            pipe(sample.source, sample.tracks, sample.target_camera, num_inference_steps=1, height=64, width=64)
        assert pipe.conditioner_backend == "torch"
