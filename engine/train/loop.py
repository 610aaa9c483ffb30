"""The training loops of ``t2v train``: stage ``vae`` and stage ``dit`` (transformer + conditioner).

Both stages share one loop (:func:`run_loop`): AdamW with linear warm-up, gradient clipping,
step-seeded randomness (:func:`.checkpoint.step_generator`), a loss log (``<out>/log.jsonl``, one
JSON object per step: step, loss, lr, seconds; validation rows carry ``val_*`` keys), a constant or
cosine learning rate after the warm-up (:func:`learning_rate`), a validation
pass every ``val_every`` steps and at the end, checkpoints every ``checkpoint_every`` steps and at
the end (``<out>/checkpoints``), ``resume`` from the latest one (same step, same weights, same
optimizer state, same future batches), and progress reports (step, loss, speed) to the caller's
:class:`~..jobs.Progress` (``t2v train``: a bar on a terminal, plain lines in a log). Under ``torchrun``
the trained modules run in DDP (:mod:`.distributed`).

Outputs: stage ``vae`` writes ``<out>/vae`` (``AutoencoderKLWan.save_pretrained``); stage ``dit``
writes ``<out>/model`` (``Track2ViewPipeline.save_pretrained``, the folder the add-on loads).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from ..io.atomic import atomic_file
from ..jobs import Progress
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint, step_generator
from .distributed import DistInfo, barrier, wrap

LOG_FILE = "log.jsonl"
WARMUP_STEPS = 50
VALIDATION_SIGMAS = (0.25, 0.5, 0.75)  # fixed noise levels of the dit validation loss
VALIDATION_SEED = 12345
SINGLE_PROCESS = DistInfo()


@dataclasses.dataclass
class TrainOptions:
    """Settings shared by both stages (the CLI flags of ``t2v train``)."""

    out: Path
    steps: int
    batch_size: int
    lr: float
    seed: int = 0
    resume: bool = False
    checkpoint_every: int = 100
    val_every: int = 100
    grad_clip: float = 1.0
    weight_decay: float = 0.01
    time_budget_s: float | None = None  # stop (validate, checkpoint, save) once this much wall time has passed
    lr_schedule: str = "constant"  # after the warm-up: "constant", or "cosine" (down to 0 at the last step)


@dataclasses.dataclass
class Stage:
    """What one stage trains: ``modules`` (checkpointed by name), ``loss(step, generator, model)``
    for one (local) batch, ``validate()`` → metrics dict, ``finish()`` → output folder."""

    name: str
    modules: dict[str, torch.nn.Module]
    loss: Callable[[torch.nn.Module, torch.Generator], torch.Tensor]
    validate: Callable[[], dict[str, float]]
    finish: Callable[[], Path]


class _Trained(torch.nn.Module):
    """The trained modules under one parent, so DDP sees (and averages) all their parameters."""

    def __init__(self, modules: dict[str, torch.nn.Module]):
        super().__init__()
        self.parts = torch.nn.ModuleDict(modules)

    def forward(self, loss_fn, generator):
        return loss_fn(self, generator)


def _log(out: Path, row: dict) -> None:
    with open(out / LOG_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def _truncate_log(out: Path, step: int) -> None:
    """Drop log rows after ``step`` (rows written after the checkpoint a resume starts from)."""
    path = out / LOG_FILE
    if not path.is_file():
        return
    rows = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
    with atomic_file(path) as tmp:
        tmp.write_text("".join(r + "\n" for r in rows))


def run_loop(stage: Stage, options: TrainOptions, info: DistInfo = SINGLE_PROCESS,
             progress: Progress | None = None) -> dict:
    """Train ``stage`` for ``options.steps`` steps (see the module docstring); returns a summary.
    The main rank reports every step to ``progress`` and prints each validation as a line.

    Raises:
        UserError: ``out`` already holds a run and ``resume`` is off, or the checkpoint does not fit.
    """
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    trained = _Trained(stage.modules).to(info.device)
    params = [p for p in trained.parameters() if p.requires_grad]
    if not params:
        raise UserError(f"stage {stage.name}: nothing to train")
    optimizer = torch.optim.AdamW(params, lr=options.lr, weight_decay=options.weight_decay, betas=(0.9, 0.99))
    start = 0
    found = latest_checkpoint(out)
    if found is not None and not options.resume:
        raise UserError(f"--out {out} already holds a training run ({found.name}); pass --resume to continue "
                        f"it or choose another --out")
    if found is not None:
        state = load_checkpoint(found, stage.modules, optimizer, stage.name)
        start = int(state["step"])
        if state["seed"] != options.seed:
            raise UserError(f"--seed {options.seed} differs from the run's seed {state['seed']} ({found})")
    if info.is_main:
        _truncate_log(out, start)
    model = wrap(trained, info)
    model.train()

    from tqdm import tqdm

    progress = Progress.of(progress if info.is_main else None)
    summary: dict = {"start_step": start}
    t0 = time.perf_counter()
    loss_value = math.nan
    out_of_time = False
    done = start
    for step in range(start, options.steps):
        lr = learning_rate(options, step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        generator = step_generator(options.seed, step)
        loss = model(stage.loss, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, options.grad_clip)
        optimizer.step()
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise UserError(f"the loss became {loss_value} at step {step + 1}; lower --lr")
        done = step + 1
        out_of_time = _out_of_time(t0, options.time_budget_s, info)
        last = done == options.steps or out_of_time
        if info.is_main:
            _log(out, {"step": done, "loss": loss_value, "lr": lr, "grad_norm": float(grad_norm),
                       "seconds": round(time.perf_counter() - t0, 3)})
            rate = (done - start) / max(time.perf_counter() - t0, 1e-9)
            progress(done / options.steps, f"train {stage.name}: step {done}/{options.steps}, loss {loss_value:.4f} "
                                           f"({rate:.2f} steps/s)")
        if done % options.val_every == 0 or last:
            if info.is_main:
                model.eval()
                metrics = stage.validate()
                model.train()
                _log(out, {"step": done} | {f"val_{k}": v for k, v in metrics.items()})
                # tqdm.write: above a progress bar on a terminal, a plain line in a log.
                tqdm.write(f"step {done}: loss {loss_value:.4f}  " + "  ".join(f"val_{k} {v:.4f}"
                                                                             for k, v in metrics.items()))
                summary["validation"] = metrics
        if done % options.checkpoint_every == 0 or last:
            if info.is_main:
                save_checkpoint(out, done, options.seed, stage.name, stage.modules, optimizer,
                                {"loss": loss_value})
            barrier(info)
        if out_of_time:
            break
    summary |= {"steps": done if options.steps > start else start, "loss": loss_value,
                "seconds": time.perf_counter() - t0, "stopped_by_time_budget": bool(out_of_time)}
    if info.is_main:
        model.eval()
        summary["output"] = str(stage.finish())
    return summary


def learning_rate(options: TrainOptions, step: int) -> float:
    """The learning rate of ``step`` (0-based): linear warm-up over :data:`WARMUP_STEPS`, then
    ``options.lr_schedule``."""
    lr = options.lr * min(1.0, (step + 1) / WARMUP_STEPS)
    if options.lr_schedule == "cosine":
        lr *= 0.5 * (1.0 + math.cos(math.pi * step / max(options.steps, 1)))
    return lr


def _out_of_time(t0: float, budget_s: float | None, info: DistInfo) -> bool:
    """True once ``budget_s`` seconds have passed (any rank out of time stops all of them)."""
    if budget_s is None:
        return False
    late = time.perf_counter() - t0 > budget_s
    if info.enabled:
        import torch.distributed as dist

        flag = torch.tensor([float(late)], device=info.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        late = bool(flag.item())
    return late


def read_log(out: str | Path) -> list[dict]:
    """The rows of ``<out>/log.jsonl``."""
    path = Path(out) / LOG_FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.is_file() else []


# ---------------------------------------------------------------------------------------- stages
def vae_stage(vae, train_views: list[torch.Tensor], val_views: list[torch.Tensor], options: TrainOptions,
              frames: int, crop: int, info: DistInfo = SINGLE_PROCESS) -> Stage:
    """Stage ``vae``: windows of ``frames`` frames, ``crop``² crops; output ``<out>/vae``."""
    from .vae import draw_windows, latent_statistics, reconstruction_psnr, vae_loss

    if not train_views:
        raise UserError("no training views for the VAE")

    def loss(model, generator):
        x = draw_windows(train_views, options.batch_size, frames, crop, generator)
        x = x[info.rank::info.world_size].to(info.device)
        return vae_loss(model.parts["vae"], x, generator)

    def validate():
        return {"psnr": reconstruction_psnr(vae, val_views or train_views[:1])}

    def finish():
        mean, std = latent_statistics(vae, train_views)
        vae.register_to_config(latents_mean=mean, latents_std=std)
        target = Path(options.out) / "vae"
        from ..io.atomic import atomic_dir

        with atomic_dir(target) as tmp:
            vae.save_pretrained(tmp, safe_serialization=True)
        return target

    return Stage("vae", {"vae": vae}, loss, validate, finish)


def dit_stage(pipe, train_pairs: list, val_pairs: list, options: TrainOptions, size: int, min_latent_frames: int = 2,
              info: DistInfo = SINGLE_PROCESS) -> Stage:
    """Stage ``dit``: flow matching of transformer + conditioner on cached latents at ``size``² pixels;
    output ``<out>/model`` (which generates at ``size`` by default, ``max_side`` in model_index.json)."""
    from ..model.track_inputs import latent_frame_indices
    from .data import draw_batch
    from .flow import noisy_latents, sample_sigmas, scheduler_timesteps, velocity_target

    if not train_pairs:
        raise UserError("no training pairs")
    factor = pipe.temporal_factor
    shift = float(pipe.scheduler.config.shift)
    num_train_timesteps = int(pipe.scheduler.config.num_train_timesteps)
    num_frames = min(p.source.shape[1] for p in train_pairs + val_pairs)
    pipe.conditioner_backend = "torch"

    def predict(pairs, frames: int, x_t, sigmas):
        tokens = [pipe.track_tokens(p.source[None, :, :frames].to(info.device), p.tracks,
                                    latent_frame_indices(0, frames, factor), p.target_camera.size,
                                    p.depth_scale, p.target_camera) for p in pairs]
        src = torch.stack([p.source[:, :frames] for p in pairs]).to(info.device)
        tok_src = torch.cat([t[0] for t in tokens])
        tok_tgt = torch.cat([t[1] for t in tokens])
        return pipe.transformer(x_t, src, scheduler_timesteps(sigmas, num_train_timesteps).to(info.device),
                                tok_src, tok_tgt)

    def loss(model, generator):
        index, frames = draw_batch(len(train_pairs), options.batch_size, num_frames, min_latent_frames, generator)
        x0 = torch.stack([train_pairs[i].target[:, :frames] for i in index])
        noise = torch.randn(x0.shape, generator=generator)
        sigmas = sample_sigmas(len(index), shift, generator)
        local = slice(info.rank, None, info.world_size)
        x0, noise, sigmas = x0[local].to(info.device), noise[local].to(info.device), sigmas[local]
        x_t = noisy_latents(x0, noise, sigmas)
        pred = predict([train_pairs[i] for i in index[local]], frames, x_t, sigmas)
        return F.mse_loss(pred.float(), velocity_target(x0, noise))

    @torch.no_grad()
    def validate():
        pairs = val_pairs or train_pairs[:1]
        generator = torch.Generator("cpu").manual_seed(VALIDATION_SEED)
        losses = []
        for p in pairs:
            x0 = p.target[None, :, :num_frames]
            noise = torch.randn(x0.shape, generator=generator)
            for s in VALIDATION_SIGMAS:
                sigmas = torch.full((1,), s)
                pred = predict([p], num_frames, noisy_latents(x0, noise, sigmas).to(info.device), sigmas)
                losses.append(float(F.mse_loss(pred.float().cpu(), velocity_target(x0, noise))))
        return {"loss": float(np.mean(losses))}

    def finish():
        if getattr(pipe.transformer, "peft_config", None):
            from ..model.wan_backbone import merge_lora

            merge_lora(pipe)
        pipe.trained_size = size
        return pipe.save_pretrained(Path(options.out) / "model", overwrite=True, export_onnx=False)

    return Stage("dit", {"transformer": pipe.transformer, "conditioner": pipe.conditioner}, loss, validate, finish)


def refiner_stage(pipe, train_examples: list, val_examples: list, options: TrainOptions, crop: int,
                  info: DistInfo = SINGLE_PROCESS) -> Stage:
    """Stage ``refiner``: the refiner alone (everything else frozen) on ``crop``² crops of random frames of
    :class:`.refiner_data.RefinerExample`, L1 against the ground truth; output ``<out>/model`` (the
    whole pipeline, with its new refiner)."""
    from ..eval.fidelity import psnr
    from ..model.refiner import refiner_inputs

    if not train_examples:
        raise UserError("no training examples for the refiner")
    refiner = pipe.refiner

    def crop_of(example, generator) -> tuple[torch.Tensor, ...]:
        t = int(torch.randint(example.num_frames, (1,), generator=generator))
        H, W = example.hole.shape[1:]
        y = int(torch.randint(max(H - crop, 0) + 1, (1,), generator=generator))
        x = int(torch.randint(max(W - crop, 0) + 1, (1,), generator=generator))
        inputs = refiner_inputs(example.warp[t], example.hole[t], example.coarse[t])
        truth = torch.from_numpy(example.truth[t]).permute(2, 0, 1)[None].float() / 255.0
        return tuple(v[..., y:y + crop, x:x + crop] for v in (*inputs, truth))

    def loss(model, generator):
        picks = torch.randint(len(train_examples), (options.batch_size,), generator=generator).tolist()
        crops = [crop_of(train_examples[i], generator) for i in picks][info.rank::info.world_size]
        warp, covered, coarse, truth = (torch.cat(parts).to(info.device) for parts in zip(*crops, strict=True))
        return F.l1_loss(model.parts["refiner"](warp, covered, coarse), truth)

    @torch.no_grad()
    def validate():
        """PSNR over all held-out pixels and over the warp's holes (pooled squared errors, so an example
        given back exactly does not make the mean infinite)."""
        outputs, truths, holes = [], [], []
        for example in val_examples or train_examples[:1]:
            out = np.stack([refiner(*refiner_inputs(example.warp[t], example.hole[t], example.coarse[t],
                                                    info.device))[0].permute(1, 2, 0).cpu().numpy()
                            for t in range(example.num_frames)])
            outputs.append(np.round(out * 255).astype(np.uint8).reshape(-1, 3))
            truths.append(example.truth.reshape(-1, 3))
            holes.append(example.hole.reshape(-1))
        out, truth, hole = np.concatenate(outputs), np.concatenate(truths), np.concatenate(holes)
        return {"psnr": psnr(out, truth), "psnr_holes": psnr(out, truth, hole)}

    def finish():
        return pipe.save_pretrained(Path(options.out) / "model", overwrite=True, export_onnx=False)

    return Stage("refiner", {"refiner": refiner}, loss, validate, finish)
