"""Evaluate new-view methods on the synthetic bench clips: camera accuracy, fidelity, 4D consistency.

Runs every case of a suite (quick: 2 static + 2 dynamic bench clips × targets cam1, cam2; full: 24
clips × cam1, cam2) with each method — identity (the source video), warp (geometric warp), warp-inpaint
(the warp's holes inpainted by OpenCV), camera (the camera-embedding baseline, --camera-model DIR, by
default the committed models/baselines/camera) and track2view (our model, --model DIR, by default the
built-in default model) — on the geometry our tracker estimates from the source video. A model method
without a folder is reported as missing; add `oracle` (the ground-truth target video) to see each metric's ceiling. Camera poses
of the generated videos: pycolmap (`--pose-estimator colmap`, the protocol, default) or our flow
tracks + camera solve (`--pose-estimator tracks`). Metrics and protocols: engine/eval/harness.py. The bench clips come from
`t2v synth --preset bench --out data/synth`.

Writes OUT/results.json, OUT/results.md (the table), OUT/plots/*.png and OUT/videos/.

Example:
  t2v eval --suite quick --methods identity,warp,warp-inpaint,oracle,camera,track2view --pose-estimator tracks --out out/eval_quick
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._runner import add_ray_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..eval.harness import DEFAULT_POSE_ESTIMATOR, POSE_ESTIMATORS
    from ..eval.methods import DEFAULT_METHODS, METHODS
    from ..eval.suite import DEFAULT_DATA, SUITES

    parser.add_argument("--suite", choices=SUITES, default="quick", help="which cases to run (default quick)")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"comma-separated, of {','.join(METHODS)} (default {','.join(DEFAULT_METHODS)}; "
                             "oracle = the ground-truth target video, the metrics' ceiling)")
    parser.add_argument("--model", type=Path,
                        help="Track2View model folder (diffusers layout; default: the built-in default model)")
    parser.add_argument("--camera-model", type=Path,
                        help="camera-embedding baseline model folder (default: models/baselines/camera, the "
                             "baseline trained with the default model's data and budget)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"folder holding bench/ (t2v synth --preset bench --out ...; default {DEFAULT_DATA})")
    parser.add_argument("--cache", type=Path, default=Path("cache/eval"),
                        help="where the tracker's results per clip are cached (default cache/eval)")
    parser.add_argument("--no-cache", action="store_true", help="re-track every clip, cache nothing")
    parser.add_argument("--pose-estimator", choices=list(POSE_ESTIMATORS), default=DEFAULT_POSE_ESTIMATOR,
                        help="how the generated videos' cameras are estimated for RotErr/TransErr: colmap = "
                             "pycolmap incremental mapping (the CamI2V protocol), tracks = our flow tracks + "
                             f"camera solve with the known intrinsics (default {DEFAULT_POSE_ESTIMATOR})")
    parser.add_argument("--steps", type=int, help="denoising steps of the model methods (default: generate's)")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where models run")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    add_ray_argument(parser, "cases (their timings then share the machine)")


def eval_config(args: argparse.Namespace):
    """The harness's EvalConfig of parsed ``t2v eval`` arguments."""
    from ..eval.harness import EvalConfig
    from ..model.model_folder import camera_baseline_folder, default_model_folder

    return EvalConfig(suite=args.suite, methods=[m.strip() for m in args.methods.split(",") if m.strip()],
                      out=args.out, data=args.data, model=args.model or default_model_folder(),
                      camera_model=args.camera_model or camera_baseline_folder(),
                      cache=None if args.no_cache else args.cache, device=args.device, steps=args.steps,
                      overwrite=args.overwrite, pose_estimator=args.pose_estimator)


def run(args: argparse.Namespace) -> int:
    from ..eval.harness import check_config, run_eval
    from ._progress import progress_bar
    from ._runner import runner_from

    config = eval_config(args)
    check_config(config)
    with runner_from(args) as runner, progress_bar() as progress:
        run_eval(config, progress, runner=runner)
    print((args.out / "results.md").read_text())
    print(f"results: {args.out / 'results.json'}; plots: {args.out / 'plots'}")
    return 0
