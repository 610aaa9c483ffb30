"""Export a :class:`TrackConditioner` to ONNX (run it with ``engine.runtime.OnnxTrackConditioner``).

The graph has the seven inputs and two outputs of :meth:`TrackConditioner.forward`, under the
same names, with dynamic batch B, frame count T, track count N and grid H, W (C is fixed by the
weights). Inputs and outputs are float32 at both precisions; ``precision="fp16"`` stores weights
and runs the transformer in float16 inside (meant for GPU providers; the geometry and the
scatter stay float32, see :data:`FLOAT32_OPS`). The model's config, the precision and
the opset are stored in the ONNX metadata (key :data:`CONFIG_METADATA_KEY`, JSON).

Uses the TorchScript exporter (``dynamo=False``, proven here; its deprecation warning is
silenced); the conditioner's scatter exports as ``ScatterElements(reduction="add")``, exact with
repeated indices (see ``engine.model.conditioner.splat_mean``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch

from ..errors import UserError, require_tool
from ..io.atomic import atomic_file
from .conditioner import CONDITIONER_INPUTS, TrackConditioner

CONFIG_METADATA_KEY = "track2view.conditioner"
# Version of the exported graph; bumped when the graph changes for the same weights (2: cell sums
# over sorted tracks instead of the racy ScatterND). Readers refuse other versions.
EXPORT_VERSION = 2
OUTPUT_NAMES = ("tokens_src", "tokens_tgt")
PRECISIONS = ("fp32", "fp16")
# Ops kept in float32 in an fp16 export: the track geometry (high-frequency Fourier features,
# cell indices) and the per-cell sums/counts (float16 counts are exact only up to 2048).
FLOAT32_OPS = ("Sin", "Cos", "Log", "Floor", "GridSample", "ScatterElements")
# Sizes of the dummy inputs traced at export (any other sizes run, the axes are dynamic).
_EXPORT_SIZES = {"B": 1, "T": 3, "N": 5, "H": 4, "W": 6}
_DYNAMIC_AXES = {
    "src_features": {0: "B", 1: "T", 3: "H", 4: "W"},
    **{name: {0: "B", 1: "T", 2: "N"} for name in CONDITIONER_INPUTS[1:]},
    **{name: {0: "B", 1: "T", 2: "H", 3: "W"} for name in OUTPUT_NAMES},
}


def _dummy_inputs(feature_dim: int) -> tuple[torch.Tensor, ...]:
    s = _EXPORT_SIZES
    gen = torch.Generator().manual_seed(0)
    track = (s["B"], s["T"], s["N"])
    return (
        torch.randn(s["B"], s["T"], feature_dim, s["H"], s["W"], generator=gen),
        torch.rand(*track, 2, generator=gen) * 2 - 1,
        torch.rand(*track, 2, generator=gen) * 2 - 1,
        torch.rand(*track, generator=gen) + 0.5,
        torch.rand(*track, generator=gen) + 0.5,
        torch.ones(track),
        torch.ones(track),
    )


def export_conditioner_onnx(model: TrackConditioner, path: str | os.PathLike, opset: int = 17,
                            precision: str = "fp32") -> Path:
    """Write ``model`` as an ONNX file at ``path`` (atomically) and check it with ``onnx.checker``.

    Args:
        model: the conditioner (any device; exported from a float32 CPU copy).
        path: output ``.onnx`` file; an existing file is replaced (callers check overwriting).
        opset: ONNX opset, ≥ 17 (LayerNormalization, GridSample, ScatterElements with add).
        precision: ``"fp32"`` or ``"fp16"`` (float16 weights/compute, float32 inputs/outputs).

    Returns:
        ``path`` as a Path.
    """
    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if opset < 17:
        raise UserError(f"opset {opset}: the track conditioner needs opset 17 or newer")
    onnx = require_tool("onnx", "the ONNX export of the track conditioner")
    path = Path(path)
    cpu_model = TrackConditioner.from_config(model.config).eval()
    cpu_model.load_state_dict({k: v.detach().float().cpu() for k, v in model.state_dict().items()})
    with atomic_file(path, suffix=".onnx") as tmp:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the exporter's notes about itself
            torch.onnx.export(cpu_model, _dummy_inputs(model.config.feature_dim), str(tmp),
                              input_names=list(CONDITIONER_INPUTS), output_names=list(OUTPUT_NAMES),
                              dynamic_axes=_DYNAMIC_AXES, opset_version=opset, dynamo=False)
        graph = onnx.load(str(tmp))
        if precision == "fp16":
            from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16
            from onnxruntime.transformers.onnx_model import OnnxModel

            graph = convert_float_to_float16(graph, keep_io_types=True,
                                             op_block_list=DEFAULT_OP_BLOCK_LIST + list(FLOAT32_OPS))
            OnnxModel(graph).topological_sort()  # the converter appends its input casts at the end
        config = {k: v for k, v in model.config.items() if not k.startswith("_")}
        meta = {"config": config, "precision": precision, "opset": opset, "export_version": EXPORT_VERSION}
        graph.metadata_props.add(key=CONFIG_METADATA_KEY, value=json.dumps(meta))
        onnx.checker.check_model(graph, full_check=True)
        onnx.save(graph, str(tmp))
    return path
