"""Train a Track2View model on curated pairs (`t2v curate`) — flow matching, checkpoints, resume.

The tiny model trains in two stages (a random VAE decodes noise, so it is trained first):

  t2v train --stage vae --data data/curated --config tiny --out out/train/vae_run
  t2v train --stage dit --data data/curated --config tiny --cond tracks \\
            --vae out/train/vae_run/vae --out out/train/t2v_run

Stage refiner trains the full-resolution refiner of an existing model folder (--model; a v2 folder
without one gets one) on synthetic clips (--data: a `t2v synth --preset train` folder): the model's
transformer makes the coarse view, the footage is warped along the tracker's geometry, and the
refiner learns to fuse the two (examples cached in --cache, default DATA/.refiner_examples):

  t2v train --stage refiner --data data/synth/train --model models/default --out out/train/refiner_run

Stage dit trains the transformer + the conditioner (--cond tracks: the track conditioner;
--cond camera: the camera-embedding baseline) on the frozen VAE's latents (encoded once, cached
beside the data), and writes OUT/model (the folder the add-on and `t2v generate --model` load).
--config wan1.3b trains LoRA + conditioner on a local Wan2.1 folder (--wan-folder; its own VAE).
OUT/log.jsonl logs the loss every step and the validation metrics (held-out clips);
OUT/checkpoints/step_N holds safetensors checkpoints; --resume continues the latest one exactly.
Multi-GPU: `torchrun --nproc_per_node=G -m track2view.engine train ...` (same flags; DDP).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

DEFAULTS = {"vae": {"steps": 400, "batch_size": 2, "lr": 1e-3, "crop": 64},
            "dit": {"steps": 2000, "batch_size": 4, "lr": 3e-4},
            "refiner": {"steps": 2000, "batch_size": 8, "lr": 1e-3, "crop": 128}}
REFINER_HELD_OUT_CLIPS = 2


def _log_lines(info):
    """A Progress of a training run's data preparation: log lines on the main rank (:func:`._progress.log_lines`)."""
    import sys

    from ..jobs import Progress
    from ._progress import log_lines

    return Progress(log_lines(sys.stdout) if info.is_main else None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True,
                        help="dataset folder of `t2v curate` (stages vae, dit) or of `t2v synth` clips (refiner)")
    parser.add_argument("--config", choices=("tiny", "wan1.3b"), default="tiny", help="model configuration")
    parser.add_argument("--cond", choices=("tracks", "camera"), default="tracks",
                        help="conditioning: paired tracks (Track2View) or camera embedding (baseline)")
    parser.add_argument("--stage", choices=("vae", "dit", "refiner"), default="dit",
                        help="vae: train the tiny VAE; dit: transformer + conditioner (default); refiner: the "
                             "full-resolution refiner of --model")
    parser.add_argument("--model", type=Path, help="stage refiner: the model folder to add a trained refiner to")
    parser.add_argument("--cache", type=Path, help="stage refiner: where examples are cached "
                                                   "(default DATA/.refiner_examples)")
    parser.add_argument("--out", type=Path, required=True, help="run folder (log, checkpoints, vae/ or model/)")
    parser.add_argument("--resume", action="store_true", help="continue the latest checkpoint in --out")
    parser.add_argument("--steps", type=int, help="total optimizer steps (vae 400, dit 2000)")
    parser.add_argument("--batch-size", type=int, help="samples per step over all processes (vae 2, dit 4)")
    parser.add_argument("--lr", type=float, help="peak AdamW learning rate (vae 1e-3, dit 3e-4)")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="learning rate after the warm-up: constant (default) or cosine down to 0")
    parser.add_argument("--seed", type=int, default=0, help="initialisation, batches and noise (default 0)")
    parser.add_argument("--size", type=int, default=128, help="training frame size in pixels, square (default 128)")
    parser.add_argument("--vae", type=Path, help="stage dit, tiny: the trained VAE folder (OUT/vae of stage vae)")
    parser.add_argument("--wan-folder", type=Path, help="--config wan1.3b: local Wan2.1-T2V-1.3B diffusers folder")
    parser.add_argument("--vae-frames", type=int, default=5, help="stage vae: frames per window, 1+4k (default 5)")
    parser.add_argument("--crop", type=int, help="stages vae and refiner: crop size in pixels (64, 128)")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--val-every", type=int, default=100, help="steps between validation passes")
    parser.add_argument("--time-budget", type=float,
                        help="minutes of training after which the run stops early (validates, checkpoints, saves)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto", help="torch device")


def _check(args: argparse.Namespace) -> None:
    from ..errors import UserError

    for name in ("steps", "batch_size", "checkpoint_every", "val_every", "size", "crop"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be ≥ 1, got {value}")
    if args.lr is not None and not args.lr > 0:
        raise UserError(f"--lr must be > 0, got {args.lr}")
    if (args.vae_frames - 1) % 4:
        raise UserError(f"--vae-frames must be 1 + 4k (1, 5, 9, ...), got {args.vae_frames}")
    if args.stage == "vae" and args.config != "tiny":
        raise UserError("--stage vae trains the tiny VAE; wan1.3b uses the Wan folder's VAE")
    if args.config == "wan1.3b" and args.wan_folder is None:
        raise UserError("--config wan1.3b needs --wan-folder (a local Wan2.1-T2V-1.3B diffusers folder)")
    if args.stage == "dit" and args.config == "tiny" and args.vae is None:
        raise UserError("--config tiny needs a trained VAE: run `t2v train --stage vae ...` first and pass "
                        "--vae OUT/vae (a random VAE decodes noise)")
    if args.stage == "refiner" and args.model is None:
        raise UserError("--stage refiner needs --model FOLDER (the model whose transformer makes the coarse view)")
    if args.stage == "vae" and args.crop is not None and args.crop > args.size:
        raise UserError(f"--crop {args.crop} is larger than --size {args.size}")


def build_for_training(args: argparse.Namespace, device):
    """The pipeline to train (stage dit): tiny from scratch with a trained VAE, or Wan + LoRA."""
    from diffusers import AutoencoderKLWan

    from ..model.build import build_pipeline
    from ..model.camera_embedding import CameraEmbedding
    from ..model.model_folder import load_model_component
    from ..model.wan_backbone import load_wan_backbone

    if args.config == "tiny":
        pipe = build_pipeline("tiny", seed=args.seed)
        vae_folder = args.vae / "vae" if (args.vae / "vae").is_dir() else args.vae
        pipe.register_modules(vae=load_model_component(AutoencoderKLWan, vae_folder).eval())
    else:
        pipe = load_wan_backbone(args.wan_folder, seed=args.seed)
    if args.cond == "camera":
        import torch

        torch.manual_seed(args.seed)
        # The ReCamMaster-style baseline: the camera embedding alone, not anchored on the warp.
        pipe.register_modules(conditioner=CameraEmbedding(out_dim=pipe.transformer.inner_dim,
                                                          hidden_dim=pipe.transformer.inner_dim), refiner=None)
    pipe.vae.requires_grad_(False)
    return pipe.to(device)


def _refiner_stage(args: argparse.Namespace, options, crop: int, info):
    """Stage refiner: the model of ``--model`` (a refiner added if it has none) and its examples →
    (stage, training examples, held-out examples)."""
    import torch

    from ..model.configs import get_config
    from ..model.pipeline import Track2ViewPipeline
    from ..model.refiner import Track2ViewRefiner
    from ..train.loop import refiner_stage
    from ..train.refiner_data import refiner_examples, split_clips, synth_clips

    pipe = Track2ViewPipeline.from_pretrained(args.model, conditioner="torch", allow_missing_refiner=True)
    if pipe.refiner is None:
        torch.manual_seed(args.seed)
        pipe.register_modules(refiner=Track2ViewRefiner(**get_config(args.config).refiner))
    pipe.set_progress_bar_config(disable=True)
    pipe.to(info.device)
    train_clips, val_clips = split_clips(synth_clips(args.data), REFINER_HELD_OUT_CLIPS)

    cache = args.cache or args.data / ".refiner_examples"
    examples = refiner_examples(pipe, train_clips + val_clips, cache, _log_lines(info))
    held = {c.name for c in val_clips}
    train = [e for e in examples if e.name.split("-")[0] not in held]
    val = [e for e in examples if e.name.split("-")[0] in held]
    if info.is_main:
        print(f"{len(train)} training examples ({len(train_clips)} clips), {len(val)} held out ({len(val_clips)} clips)")
    return refiner_stage(pipe, train, val, options, crop, info), train, val


def run(args: argparse.Namespace) -> int:
    import torch

    from ..runtime import select_torch_device
    from ..train.data import encode_pairs, split_samples
    from ..train.distributed import init_distributed
    from ..train.loop import TrainOptions, dit_stage, run_loop, vae_stage
    from ._progress import progress_bar

    _check(args)
    defaults = DEFAULTS[args.stage]
    crop = args.crop or defaults.get("crop")
    info = init_distributed(select_torch_device(args.device))
    options = TrainOptions(
        out=args.out, steps=args.steps or defaults["steps"], batch_size=args.batch_size or defaults["batch_size"],
        lr=args.lr or defaults["lr"], seed=args.seed, resume=args.resume,
        checkpoint_every=args.checkpoint_every, val_every=args.val_every,
        time_budget_s=None if args.time_budget is None else 60.0 * args.time_budget, lr_schedule=args.lr_schedule)
    if args.stage == "refiner":
        stage, train, val = _refiner_stage(args, options, crop, info)
    else:
        train, val = split_samples(args.data)
        if info.is_main:
            print(f"{len(train)} training pairs, {len(val)} held-out pairs from {args.data}")
    if args.stage == "vae":
        from diffusers import AutoencoderKLWan

        from ..model.configs import TINY
        from ..train.vae import load_views

        torch.manual_seed(args.seed)
        vae = AutoencoderKLWan(**TINY.vae)
        factor = int(vae.config.scale_factor_temporal)
        stage = vae_stage(vae, load_views(train, args.size, factor), load_views(val, args.size, factor), options,
                          args.vae_frames, crop, info)
    elif args.stage == "dit":
        pipe = build_for_training(args, info.device)
        pairs = encode_pairs(pipe, train + val, args.size, args.data, _log_lines(info))
        stage = dit_stage(pipe, pairs[:len(train)], pairs[len(train):], options, args.size, info=info)
    with progress_bar() if info.is_main else contextlib.nullcontext() as progress:
        summary = run_loop(stage, options, info, progress)
    if info.is_main:
        summary |= {"stage": args.stage, "config": args.config, "cond": args.cond, "data": str(args.data),
                    "train_pairs": len(train), "val_pairs": len(val), "seed": args.seed, "size": args.size}
        (args.out / f"summary_{args.stage}.json").write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary))
    return 0
