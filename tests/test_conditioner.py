"""The dual-view track conditioner: behaviour, ONNX Runtime parity, input checks, weights, CLI."""

from __future__ import annotations

import warnings

import pytest
import torch
from diffusers.utils import SAFETENSORS_WEIGHTS_NAME
from safetensors.torch import load_file, save_file

from track2view.engine import runtime
from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.model.conditioner import (
    LARGE_CONFIG,
    TrackConditioner,
    load_conditioner,
    splat_mean,
)
from track2view.engine.model.conditioner_onnx import export_conditioner_onnx
from track2view.engine.runtime.onnx_conditioner import OnnxTrackConditioner

FEATURE_DIM = 6
OUT_DIM = 8
PARITY_ATOL = 1e-4


def make_inputs(batch=1, frames=4, tracks=16, height=8, width=8, seed=0) -> list[torch.Tensor]:
    """Random conditioner inputs; every track visible (tests switch visibility off as needed)."""
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, frames, tracks)
    return [
        torch.randn(batch, frames, FEATURE_DIM, height, width, generator=gen),
        torch.rand(*shape, 2, generator=gen) * 1.9 - 0.95,
        torch.rand(*shape, 2, generator=gen) * 1.9 - 0.95,
        torch.rand(*shape, generator=gen) + 0.5,
        torch.rand(*shape, generator=gen) + 0.5,
        torch.ones(shape),
        torch.ones(shape),
    ]


@pytest.fixture(scope="module")
def model() -> TrackConditioner:
    """A tiny conditioner with random (not zero) output projections, so outputs are non-trivial."""
    torch.manual_seed(0)
    model = TrackConditioner(feature_dim=FEATURE_DIM, out_dim=OUT_DIM, hidden_dim=32, num_heads=4)
    for proj in (model.proj_out_src, model.proj_out_tgt):
        torch.nn.init.normal_(proj.weight)
        torch.nn.init.normal_(proj.bias)
    return model.eval()


@pytest.fixture(scope="module")
def onnx_model(model, tmp_path_factory) -> OnnxTrackConditioner:
    path = export_conditioner_onnx(model, tmp_path_factory.mktemp("onnx") / "conditioner.onnx")
    return OnnxTrackConditioner(path, "cpu")


def run_both(model, onnx_model, inputs):
    with torch.no_grad():
        eager = model(*inputs)
    ort = onnx_model(*inputs)
    for a, b in zip(eager, ort, strict=True):
        assert a.shape == b.shape and b.dtype == torch.float32
        assert (a - b).abs().max().item() <= PARITY_ATOL
    return eager


def test_untrained_conditioner_adds_nothing():
    tokens_src, tokens_tgt = TrackConditioner(feature_dim=FEATURE_DIM, out_dim=OUT_DIM)(*make_inputs())
    assert tokens_src.shape == tokens_tgt.shape == (1, 4, 8, 8, OUT_DIM)
    assert not tokens_src.any() and not tokens_tgt.any()


def test_config_round_trip_and_large_config():
    model = TrackConditioner(feature_dim=3, out_dim=5, hidden_dim=16, num_layers=1, num_heads=2)
    assert (model.config.feature_dim, model.config.num_layers, len(model.blocks)) == (3, 1, 1)
    large = TrackConditioner.from_config(LARGE_CONFIG | {"num_layers": 1})  # one block keeps it fast
    assert large.config.out_dim == LARGE_CONFIG["out_dim"]
    with pytest.raises(UserError, match="num_heads"):
        TrackConditioner(hidden_dim=30, num_heads=4)


def test_splat_mean_matches_a_loop_with_many_tracks_per_cell():
    gen = torch.Generator().manual_seed(1)
    batch, frames, tracks, height, width, dim = 2, 3, 50, 4, 5, 3
    values = torch.randn(batch, frames, tracks, dim, generator=gen)
    uv = torch.rand(batch, frames, tracks, 2, generator=gen) * 2 - 1
    uv[:, :, :30] = torch.tensor([0.1, -0.3])  # 30 tracks share one cell
    observed = torch.rand(batch, frames, tracks, generator=gen) > 0.3
    mean, occupied = splat_mean(values, uv, observed, height, width)
    for b in range(batch):
        for t in range(frames):
            sums, counts = torch.zeros(height * width, dim), torch.zeros(height * width)
            for n in range(tracks):
                if observed[b, t, n]:
                    col = min(int((uv[b, t, n, 0] + 1) / 2 * width), width - 1)
                    row = min(int((uv[b, t, n, 1] + 1) / 2 * height), height - 1)
                    sums[row * width + col] += values[b, t, n]
                    counts[row * width + col] += 1
            expected = sums / counts.clamp(min=1)[:, None]
            torch.testing.assert_close(mean[b, t], expected, atol=1e-6, rtol=1e-5)
            assert torch.equal(occupied[b, t, :, 0], (counts > 0).float())


def test_splat_mean_cell_convention():
    """Pixel centres land in their own cell; the right/bottom edge (+1) in the last cell."""
    height, width = 3, 4
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    uv = torch.stack([(cols + 0.5) / width * 2 - 1, (rows + 0.5) / height * 2 - 1], dim=-1).reshape(1, 1, -1, 2)
    values = torch.arange(height * width, dtype=torch.float32).reshape(1, 1, -1, 1)
    mean, _ = splat_mean(values, uv, torch.ones(1, 1, height * width, dtype=torch.bool), height, width)
    assert torch.equal(mean[0, 0, :, 0], values[0, 0, :, 0])
    corner, _ = splat_mean(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 2), torch.ones(1, 1, 1, dtype=torch.bool),
                           height, width)
    assert corner[0, 0, -1, 0] == 1 and corner.sum() == 1


class _Splat(torch.nn.Module):
    def forward(self, values, uv, observed, grid):  # grid: (H, W) zeros, carries the grid size
        return splat_mean(values, uv, observed > 0.5, grid.shape[0], grid.shape[1])


def test_splat_mean_onnx_parity_at_full_size(tmp_path):
    """The scatter alone at the benchmark size (25 x 4096 tracks, 32x32 cells), where ONNX Runtime
    runs it on all its threads: repeated cells must still all be summed (no lost updates)."""
    gen = torch.Generator().manual_seed(2)
    values = torch.randn(1, 25, 4096, 64, generator=gen)
    uv = torch.rand(1, 25, 4096, 2, generator=gen) * 2 - 1
    uv[:, :, ::2] = torch.tensor([0.01, 0.01])  # half of the tracks in one cell
    observed = (torch.rand(1, 25, 4096, generator=gen) > 0.2).float()
    grid = torch.zeros(32, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter, chosen on purpose
        torch.onnx.export(_Splat(), (values, uv, observed, grid), str(tmp_path / "splat.onnx"), dynamo=False,
                          opset_version=17, input_names=["values", "uv", "observed", "grid"])
    session = runtime.create_session(tmp_path / "splat.onnx", "cpu")
    feed = {"values": values.numpy(), "uv": uv.numpy(), "observed": observed.numpy()}
    expected = _Splat()(values, uv, observed, grid)
    for _ in range(5):  # a race would show up in some runs
        for got, want in zip(session.run(None, feed), expected, strict=True):
            assert abs(torch.from_numpy(got) - want).max() <= 1e-5


def test_occluded_frames_are_filled_from_visible_frames(model):
    """A track seen in the source only at frame 0 carries frame 0's feature into the target
    grid at frame 2; the features at frames where it is occluded are never read."""
    inputs = make_inputs(tracks=1)
    inputs[5][:, 1:] = 0  # source-visible only at frame 0
    with torch.no_grad():
        _, base_tgt = model(*inputs)
        changed = [x.clone() for x in inputs]
        changed[0][:, 0] += 1.0
        _, tgt_after_frame0_change = model(*changed)
        occluded = [x.clone() for x in inputs]
        occluded[0][:, 1:] += 1.0
        occluded[1][:, 1:] = 0.0  # positions at occluded frames are ignored as well
        src_occ, tgt_occ = model(*occluded)
    assert (tgt_after_frame0_change[0, 2] - base_tgt[0, 2]).abs().max() > 1e-3
    assert torch.equal(tgt_occ, base_tgt)
    assert src_occ[0, 0].any() and not src_occ[0, 1:].any()  # source grid: only where it is seen


def test_export_sums_cells_over_sorted_tracks(onnx_model):
    """Guard against the known traps: the graph sums repeated cells over the tracks sorted by cell
    (TopK + CumSum) and scatters only the counts, with ScatterElements(add) (not the exporter's
    index_add/index_put translation, not ONNX Runtime's racy ScatterND(add))."""
    import onnx

    nodes = onnx.load(onnx_model.path).graph.node
    op_types = {n.op_type for n in nodes}
    assert {"TopK", "CumSum"} <= op_types
    scatters = [n for n in nodes if n.op_type.startswith("Scatter") or n.op_type.startswith("Index")]
    assert len(scatters) == 2 and all(n.op_type == "ScatterElements" for n in scatters)
    for node in scatters:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attributes["reduction"] == b"add"


def test_parity_many_tracks_in_one_cell(model, onnx_model):
    inputs = make_inputs(tracks=300)
    inputs[1][:, :, :200] = torch.tensor([0.2, 0.2])  # 200 tracks in one source cell
    inputs[2][:, :, 100:] = torch.tensor([-0.5, 0.6])  # 200 tracks in one target cell
    tokens_src, tokens_tgt = run_both(model, onnx_model, inputs)
    cell_src, cell_tgt = (4 * 8 + 4), (6 * 8 + 2)  # rows/cols of (0.2, 0.2) and (-0.5, 0.6) on 8x8
    assert tokens_src.reshape(1, 4, 64, OUT_DIM)[:, :, cell_src].abs().min() > 0
    assert tokens_tgt.reshape(1, 4, 64, OUT_DIM)[:, :, cell_tgt].abs().min() > 0


def test_parity_frames_without_visible_tracks(model, onnx_model):
    inputs = make_inputs()
    inputs[5][:, 1] = 0
    inputs[6][:, 1] = 0
    tokens_src, tokens_tgt = run_both(model, onnx_model, inputs)
    assert not tokens_src[:, 1].any() and not tokens_tgt[:, 1].any()
    assert tokens_src[:, 0].any() and tokens_tgt[:, 2].any()


def test_parity_all_tracks_occluded(model, onnx_model):
    inputs = make_inputs()
    inputs[5].zero_()
    inputs[6].zero_()
    tokens_src, tokens_tgt = run_both(model, onnx_model, inputs)
    assert not tokens_src.any() and not tokens_tgt.any()


def test_parity_single_track(model, onnx_model):
    tokens_src, tokens_tgt = run_both(model, onnx_model, make_inputs(tracks=1))
    assert (tokens_src.abs().sum(-1) > 0).sum() == 4 and (tokens_tgt.abs().sum(-1) > 0).sum() == 4


def test_parity_other_sizes_than_at_export(model, onnx_model):
    """Exported at B=1, T=3, N=5, 4x6; run at B=2, T=7, N=33, 5x9 with 30% invisible."""
    inputs = make_inputs(batch=2, frames=7, tracks=33, height=5, width=9, seed=3)
    gen = torch.Generator().manual_seed(4)
    inputs[5] = (torch.rand(2, 7, 33, generator=gen) > 0.3).float()
    inputs[6] = (torch.rand(2, 7, 33, generator=gen) > 0.3).float()
    inputs[1][:, :, :3] = 1.0  # on the bottom-right edge: the last cell of the 5x9 grid
    inputs[2][:, :, :3] = -1.0
    tokens_src, _ = run_both(model, onnx_model, inputs)
    assert tokens_src.shape == (2, 7, 5, 9, OUT_DIM) and tokens_src[:, :, -1, -1].any()


def test_positions_outside_the_frame_count_as_invisible(model, onnx_model):
    inputs = make_inputs()
    far = [x.clone() for x in inputs]
    far[1][:, :, :5] = 1e30  # far outside the source frame
    far[2][:, :, 5:8] = -3.0  # outside the target frame
    hidden = [x.clone() for x in inputs]
    hidden[5][:, :, :5] = 0
    hidden[6][:, :, 5:8] = 0
    with torch.no_grad():
        expected = model(*hidden)
    for got in (run_both(model, onnx_model, far), onnx_model(*far)):
        for a, b in zip(got, expected, strict=True):
            assert (a - b).abs().max() <= PARITY_ATOL


@pytest.mark.parametrize(("index", "value", "match"), [
    (1, float("nan"), "uv_src: contains NaN"),
    (2, float("inf"), "uv_tgt: contains NaN or infinite"),
    (4, float("-inf"), "depth_tgt: contains NaN or infinite"),
])
def test_non_finite_inputs_are_rejected(model, onnx_model, index, value, match):
    inputs = make_inputs()
    inputs[index].view(-1)[3] = value
    for fn in (model, onnx_model):
        with pytest.raises(UserError, match=match):
            fn(*inputs)


@pytest.mark.parametrize(("index", "bad", "match"), [
    (2, lambda x: x[:, :, :-1], r"uv_tgt: expected shape \(1, 4, 16, 2\)"),
    (6, lambda x: x[:, :3], r"vis_tgt: expected shape \(1, 4, 16\)"),
    (3, lambda x: x.double(), "depth_src: expected dtype float32"),
    (0, lambda x: x[:, :, :-1], "src_features: has 5 channels, the model expects feature_dim=6"),
    (1, lambda x: x[..., :1], r"uv_src: expected shape \(B, T, N, 2\)"),
    (0, lambda x: x[:, :2], r"src_features: \(B, T\) = \(1, 2\)"),
    (5, lambda x: x.numpy(), "vis_src: expected a torch.Tensor"),
    (1, lambda x: x[:, :, :0], "uv_src: needs at least one frame and one track"),
])
def test_bad_shapes_and_dtypes_are_rejected(model, onnx_model, index, bad, match):
    inputs = make_inputs()
    inputs[index] = bad(inputs[index])
    for fn in (model, onnx_model):
        with pytest.raises(UserError, match=match):
            fn(*inputs)


def test_save_and_load_round_trip(model, tmp_path):
    model.save_pretrained(tmp_path / "weights")
    assert (tmp_path / "weights" / SAFETENSORS_WEIGHTS_NAME).is_file()
    assert not list((tmp_path / "weights").glob("*.bin"))
    loaded = load_conditioner(tmp_path / "weights")
    public = {k: v for k, v in model.config.items() if not k.startswith("_")}
    assert {k: v for k, v in loaded.config.items() if not k.startswith("_")} == public
    inputs = make_inputs(seed=5)
    with torch.no_grad():
        for a, b in zip(model(*inputs), loaded(*inputs), strict=True):
            assert torch.equal(a, b)


def test_load_refuses_missing_or_corrupt_files(model, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_conditioner(tmp_path / "nowhere")
    model.save_pretrained(tmp_path / "w")
    weights = tmp_path / "w" / SAFETENSORS_WEIGHTS_NAME
    state = load_file(weights)
    save_file({k: v for k, v in state.items() if k != "proj_src.weight"}, weights)
    with pytest.raises(UserError, match=r"does not match .*config.json: missing \['proj_src.weight'\]"):
        load_conditioner(tmp_path / "w")
    save_file(state | {"proj_src.weight": torch.zeros(3, 3)}, weights)
    with pytest.raises(UserError, match="size mismatch for proj_src.weight"):
        load_conditioner(tmp_path / "w")
    weights.write_bytes(b"not safetensors")
    with pytest.raises(UserError, match=f"{SAFETENSORS_WEIGHTS_NAME} is not a readable safetensors file"):
        load_conditioner(tmp_path / "w")
    (tmp_path / "w" / "config.json").write_text("{broken")
    with pytest.raises(UserError, match="config.json is not a valid JSON"):
        load_conditioner(tmp_path / "w")
    (tmp_path / "w" / SAFETENSORS_WEIGHTS_NAME).unlink()
    with pytest.raises(UserError, match=f"{SAFETENSORS_WEIGHTS_NAME} is missing"):
        load_conditioner(tmp_path / "w")


def test_cli_export_onnx(model, tmp_path, capsys):
    model.save_pretrained(tmp_path / "w")
    out = tmp_path / "c.onnx"
    assert main(["export-onnx", "--weights", str(tmp_path / "w"), "--out", str(out)]) == 0
    first = out.read_bytes()
    assert main(["export-onnx", "--weights", str(tmp_path / "w"), "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == first
    assert main(["export-onnx", "--weights", str(tmp_path / "w"), "--out", str(out), "--overwrite",
                 "--opset", "18", "--precision", "fp16"]) == 0
    fp16 = OnnxTrackConditioner(out, "cpu")
    assert fp16.precision == "fp16" and fp16.config["feature_dim"] == FEATURE_DIM
    inputs = make_inputs(frames=3, tracks=40)
    with torch.no_grad():
        expected = model(*inputs)
    for a, b in zip(expected, fp16(*inputs), strict=True):
        assert (a - b).abs().max() <= 0.02 * a.abs().max()  # float16 transformer inside
    assert main(["export-onnx", "--weights", str(tmp_path / "none"), "--out", str(tmp_path / "x.onnx")]) == 1
    assert "none does not exist" in capsys.readouterr().err and not (tmp_path / "x.onnx").exists()


def test_onnx_file_that_is_not_a_conditioner(onnx_model, tmp_path):
    import json

    import onnx

    graph = onnx.load(onnx_model.path)
    meta = json.loads(graph.metadata_props[0].value)
    graph.metadata_props[0].value = json.dumps(meta | {"export_version": 1})
    onnx.save(graph, str(tmp_path / "stale.onnx"))
    with pytest.raises(UserError, match="stale.onnx was exported by another version"):
        OnnxTrackConditioner(tmp_path / "stale.onnx", "cpu")
    del graph.metadata_props[:]
    onnx.save(graph, str(tmp_path / "plain.onnx"))
    with pytest.raises(UserError, match="plain.onnx is not a Track2View track conditioner"):
        OnnxTrackConditioner(tmp_path / "plain.onnx", "cpu")
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(UserError, match="bad.onnx cannot be loaded"):
        OnnxTrackConditioner(tmp_path / "bad.onnx", "cpu")
    with pytest.raises(UserError, match="does not exist"):
        OnnxTrackConditioner(tmp_path / "missing.onnx", "cpu")


def test_device_and_provider_choice(monkeypatch):
    import onnxruntime as ort

    all_providers = ["CUDAExecutionProvider", "CPUExecutionProvider", "TensorrtExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: all_providers)
    assert runtime.onnx_providers("auto") == ["TensorrtExecutionProvider", "CUDAExecutionProvider",
                                              "CPUExecutionProvider"]
    assert runtime.onnx_providers("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert runtime.onnx_providers("cuda") == ["CPUExecutionProvider"]
    with pytest.raises(UserError, match="'gpu'"):
        runtime.onnx_providers("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.select_torch_device("auto") == torch.device("cpu")
    with pytest.raises(UserError, match="no CUDA device"):
        runtime.select_torch_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.select_torch_device("auto") == torch.device("cuda")
    assert runtime.select_torch_device("cpu") == torch.device("cpu")
