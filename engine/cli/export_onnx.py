"""Export a track conditioner (save_pretrained folder, safetensors) to an ONNX file.

The ONNX graph takes the conditioner's seven inputs with dynamic batch, frame count, track count
and grid size; run it with ONNX Runtime (``--conditioner onnx``). The file is written atomically
and checked with onnx.checker; an existing file is replaced only with --overwrite.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", type=Path, required=True,
                        help="folder written by TrackConditioner.save_pretrained (config.json + safetensors)")
    parser.add_argument("--out", type=Path, required=True, help="output .onnx file")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset, 17 or newer (default: 17)")
    parser.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                        help="fp16 keeps float32 inputs/outputs, float16 inside (for GPU providers)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def run(args: argparse.Namespace) -> int:
    from ..io.atomic import check_writable_target
    from ..model.conditioner import load_conditioner
    from ..model.conditioner_onnx import export_conditioner_onnx

    out = check_writable_target(args.out, args.overwrite)
    model = load_conditioner(args.weights)
    print(export_conditioner_onnx(model, out, opset=args.opset, precision=args.precision))
    return 0
