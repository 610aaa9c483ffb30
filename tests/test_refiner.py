"""The refiner: its parameter-free fill, what an untrained one returns, and its training examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from track2view.engine.errors import UserError
from track2view.engine.eval.fidelity import psnr
from track2view.engine.model.build import build_pipeline
from track2view.engine.model.refiner import Track2ViewRefiner, pull_push, refiner_inputs
from track2view.engine.train import refiner_data
from track2view.engine.train.refiner_data import TIME_SHIFT, refiner_examples

from .eval_clip import write_clip


def test_pull_push_keeps_known_values_and_fills_holes_smoothly():
    y, x = torch.meshgrid(torch.arange(37.0), torch.arange(53.0), indexing="ij")
    ramp = (0.01 * x + 0.005 * y)[None, None].repeat(1, 3, 1, 1)
    weight = torch.ones(1, 1, 37, 53)
    weight[..., 10:25, 20:40] = 0
    filled = pull_push(ramp * weight, weight)
    known = weight.expand_as(ramp) > 0
    torch.testing.assert_close(filled[known], ramp[known])
    assert (filled - ramp)[~known].abs().max() < 0.1  # a hole inside a ramp takes values near the ramp's
    empty = pull_push(ramp, torch.zeros(1, 1, 37, 53))
    assert torch.allclose(empty, torch.full_like(empty, 0.5))  # nothing known: mid grey, not NaN


def test_untrained_refiner_returns_the_warp_where_it_has_content():
    rng = np.random.default_rng(0)
    warp = rng.integers(0, 255, (30, 41, 3), dtype=np.uint8)
    hole = np.zeros((30, 41), bool)
    hole[5:15, 10:30] = True
    coarse = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)
    torch.manual_seed(0)
    refiner = Track2ViewRefiner().eval()
    with torch.no_grad():
        out = refiner(*refiner_inputs(warp, hole, coarse))[0].permute(1, 2, 0).numpy()
    assert out.shape == (30, 41, 3)
    out = np.round(out * 255).astype(np.uint8)
    assert psnr(out, warp, ~hole) > 35
    assert np.isfinite(out).all() and out[hole].std() > 0  # holes are filled, not left black


def test_refiner_examples_are_made_once_and_cached(tmp_path, monkeypatch):
    clip = write_clip(tmp_path / "clips" / "static_0000007", size=(64, 48), frames=TIME_SHIFT + 4, points=400)
    pipe = build_pipeline("tiny", seed=0)
    pipe.trained_size = 32
    pipe.set_progress_bar_config(disable=True)
    cache = tmp_path / "cache"
    examples = {e.name.split("-")[1]: e for e in refiner_examples(pipe, [clip], cache)}
    assert set(examples) == {"source", "cam1", f"shift{TIME_SHIFT}"}
    assert examples["cam1"].warp.shape == (TIME_SHIFT + 4, 48, 64, 3)
    assert examples[f"shift{TIME_SHIFT}"].num_frames == 4
    assert max(examples["source"].coarse.shape[1:3]) <= 32  # the transformer's size, not the target's
    source = examples["source"]
    assert source.hole.mean() < 0.05 and psnr(source.warp, source.truth, ~source.hole) > 25

    def no_work(*args, **kwargs):
        raise AssertionError("a cached example was made again")

    monkeypatch.setattr(refiner_data, "make_example", no_work)
    again = refiner_examples(pipe, [clip], cache)
    assert [e.name for e in again] == [e.name for e in examples.values()]
    with pytest.raises(UserError, match="no synthetic clips"):
        refiner_data.synth_clips(tmp_path / "cache")
