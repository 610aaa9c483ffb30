"""Generate the new view with a Track2View model folder: PNG frames.

Inputs: the footage (video file or image-sequence folder), its tracks (.npz) and the target
camera as CAM.json (engine/geometry/camera.py; a single-frame camera holds still). The model
folder is a Track2ViewPipeline saved with save_pretrained (safetensors only; nothing is
downloaded). Frames are written atomically as OUT/0001.png ... at the camera's size.

Example:
  t2v generate --model models/tiny --footage shot.mp4 --tracks shot.npz --camera cam.json --out gen/cam_b
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True, help="Track2View model folder (diffusers layout)")
    parser.add_argument("--footage", type=Path, required=True, help="video file or image-sequence folder")
    parser.add_argument("--tracks", type=Path, required=True, help="tracks file (.npz) of the footage")
    parser.add_argument("--camera", type=Path, required=True, help="target camera, CAM.json")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the PNG frames")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per window (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same frames")
    parser.add_argument("--conditioner", choices=["onnx", "torch"], default="onnx",
                        help="run the track conditioner with ONNX Runtime (default) or torch")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto",
                        help="where the model runs (default: CUDA if available)")
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32",
                        help="model precision on CUDA (the CPU always runs fp32)")
    parser.add_argument("--max-side", type=int, default=None,
                        help="generation resolution: long side in pixels (default 256); output is resized to the camera")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache for ONNX exports (default $TRACK2VIEW_CACHE or ~/.cache/track2view)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..generate import generate_new_view
    from ..geometry.camera import load_camera_json
    from ..io.atomic import check_writable_target
    from ..io.video import write_frames
    from ..render import camera_for_frames, load_footage_and_tracks
    from ._progress import progress_bar

    for flag, value in (("--steps", args.steps), ("--max-side", args.max_side)):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be at least 1, got {value}")
    out = check_writable_target(args.out, args.overwrite,
                                inputs=(args.model, args.footage, args.tracks, args.camera))
    footage, tracks = load_footage_and_tracks(str(args.footage), str(args.tracks))
    camera = camera_for_frames(load_camera_json(args.camera), len(footage.frames))
    with progress_bar() as progress:
        frames = generate_new_view(footage.frames, tracks, camera, args.model, steps=args.steps, seed=args.seed,
                                   progress=progress, conditioner=args.conditioner, device=args.device,
                                   precision=args.precision,
                                   cache_dir=args.cache_dir, max_side=args.max_side).frames
    write_frames(frames, out)
    print(f"{len(frames)} frames ({frames.shape[2]}x{frames.shape[1]}) in {out}")
    return 0
