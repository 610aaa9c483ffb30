"""Generate a new view with a Track2View model folder: the one engine entry point for the model.

:func:`generate_new_view` loads the model (local folder, safetensors only), places it on the
device chosen by ``engine.runtime.select_torch_device`` (memory-saving mode on CUDA), runs the
:class:`~.model.pipeline.Track2ViewPipeline` with progress reported through ``progress(fraction,
message)`` after every denoising step, and returns uint8 frames at the target camera's size.
Used by ``t2v generate``, ``engine/render.py`` and the Blender render operator (via the worker).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from .dense_depth import DenseDepth
from .errors import UserError
from .geometry.camera import CameraTrack
from .io.tracks import Tracks
from .jobs import Progress

DEFAULT_STEPS = 20
DENOISE_SHARE = 0.7
"""Share of the progress bar given to the denoising steps when the model has a refiner (the rest: its frames)."""
PRECISIONS = ("fp32", "fp16", "bf16")  # transformer dtypes: float32, float16, bfloat16 (the last two CUDA only)


class NewView(NamedTuple):
    """What :func:`generate_new_view` returns: ``frames`` (T, H, W, 3) uint8 RGB and, for a model that
    anchors its output on the warped footage, the warp's ``holes`` (T, H, W) bool (None otherwise)."""

    frames: np.ndarray
    holes: np.ndarray | None


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else :class:`UserError` naming the choices."""
    if precision not in PRECISIONS:
        raise UserError(f"unknown precision '{precision}': choose one of {', '.join(PRECISIONS)} "
                        "(the add-on's Precision preference)")
    return precision


def generate_new_view(
    footage_frames: np.ndarray,
    tracks: Tracks,
    target_camera: CameraTrack,
    model_dir: str | os.PathLike,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    progress: Progress | None = None,
    conditioner: str = "onnx",
    device: str = "auto",
    precision: str = "fp32",
    cache_dir: str | os.PathLike | None = None,
    max_side: int | None = None,
    resize_to_target: bool = True,
    depth: DenseDepth | None = None,
) -> NewView:
    """The target view of ``footage_frames`` along ``tracks`` (:class:`NewView`: (T, H, W, 3) uint8 RGB
    frames, and the warp's hole masks when the model has a refiner).

    Args:
        footage_frames: (T, H_s, W_s, 3) uint8 source frames.
        tracks: the footage's tracks (T frames), paired with the target view or not (then paired here).
        target_camera: the target camera over T frames; its ``size`` (W, H) is the output size
            when ``resize_to_target``.
        model_dir: the model folder (``Track2ViewPipeline.save_pretrained``).
        steps: denoising steps per window. seed: the noise seed (same seed → same frames).
        progress: ``progress(fraction in [0, 1], message)``; raising :class:`~.errors.Cancelled`
            from it cancels.
        conditioner: ``"onnx"`` (ONNX Runtime) or ``"torch"``. device: ``auto``/``cuda``/``cpu``.
        precision: the transformer's dtype, one of :data:`PRECISIONS`; fp16/bf16 apply on CUDA only
            (elsewhere the model runs in fp32 and ``progress`` says so once). The VAE and the
            conditioner stay float32.
        cache_dir: where an ONNX export made on first use is cached.
        max_side: generation resolution, long side in pixels (default: the pipeline's).
        resize_to_target: resize the generated frames (bicubic) to the target camera's size (a model
            with a refiner already generates at that size).
        depth: the footage's dense depth (``engine.dense_depth``) for the refiner's warp; spread
            from ``tracks`` when None.

    Raises:
        UserError: bad inputs or model folder (named). Cancelled: cancelled through ``progress``.
    """
    import cv2
    import torch

    from .model.pipeline import Track2ViewPipeline
    from .runtime import select_torch_device

    check_precision(precision)
    report = Progress.of(progress)
    torch_device = select_torch_device(device)
    if precision != "fp32" and torch_device.type != "cuda":
        report(0.0, f"precision {precision} needs a CUDA GPU: running in fp32 on {torch_device.type}")
        precision = "fp32"
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    report(0.0, "loading the model")
    pipe = Track2ViewPipeline.from_pretrained(model_dir, conditioner=conditioner, cache_dir=cache_dir,
                                              device=device, torch_dtype=dtype)
    pipe.place(torch_device, memory_saving=torch_device.type == "cuda")
    pipe.set_progress_bar_config(disable=True)

    denoise_share = DENOISE_SHARE if pipe.refiner is not None else 1.0

    def on_step(pipe_: Track2ViewPipeline, step: int, timestep: torch.Tensor, tensors: dict) -> dict:
        report(denoise_share * (step + 1) / max(pipe_.num_timesteps, 1),
               f"generating: step {step + 1}/{pipe_.num_timesteps}")
        return {}

    refining = report.span(denoise_share, 1.0, "refining: ")

    def on_frame(done: int, total: int) -> None:
        refining.count(done, total, f"frame {done}/{total}")

    output = pipe(footage_frames, tracks, target_camera, num_inference_steps=steps, generator=seed,
                  max_side=max_side, callback_on_step_end=on_step, depth=depth, callback_on_frame_end=on_frame)
    frames = output.frames
    W, H = target_camera.size
    if resize_to_target and frames.shape[1:3] != (H, W):
        frames = np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_CUBIC) for f in frames])
    report(1.0, f"generated {len(frames)} frames")
    return NewView(frames, output.holes)
