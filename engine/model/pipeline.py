"""``Track2ViewPipeline``: source footage + paired tracks + a target camera → target-view frames.

Components (a diffusers :class:`DiffusionPipeline`, saved in the layout of :mod:`.model_folder`):
``transformer`` (:class:`~.transformer_track2view.Track2ViewTransformer3DModel`), ``vae``
(:class:`diffusers.AutoencoderKLWan`), ``scheduler`` (:class:`FlowMatchEulerDiscreteScheduler`)
and ``conditioner`` (:class:`~.conditioner.TrackConditioner`, run through ONNX Runtime by default,
see :mod:`.conditioner_cache`, or in torch with ``conditioner_backend="torch"``; or, for the
camera-embedding baseline, :class:`~.camera_embedding.CameraEmbedding`, always in torch, which
needs the target camera) and ``refiner`` (:class:`~.refiner.Track2ViewRefiner`; None for the
camera-embedding baseline).

Two stages. The transformer generates the new view at a small size (the coarse view). Then, with a
refiner, the output is anchored on the footage: every source pixel is warped into the target camera
at its own resolution along the dense depth (:mod:`...warp`, with the temporal fill along the tracks),
and the refiner keeps the warp where it has content and fills its holes from the coarse view.

Sampling is flow matching without guidance: the transformer predicts the velocity ``ε − x_0``
of the target latents given the clean source latents and the track tokens; Euler steps go from
noise (σ = 1) to the clean latents (σ = 0). Clips longer than ``transformer.config.frame_window``
are generated in overlapping windows (:mod:`.windows`) and cross-faded.

Images: frames are RGB, (T, H, W, 3), uint8 or float in [0, 1]; the VAE sees [−1, 1]. The output
size is a multiple of :attr:`Track2ViewPipeline.size_multiple` (VAE factor × patch size).
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKLWan, DiffusionPipeline, FlowMatchEulerDiscreteScheduler
from diffusers.utils import is_accelerate_available
from diffusers.utils.torch_utils import randn_tensor

from ..dense_depth import DenseDepth, dense_depth
from ..errors import Cancelled, MissingPackage, UserError
from ..geometry.camera import CameraTrack
from ..io.atomic import atomic_dir, check_writable_target
from ..io.tracks import Tracks
from ..warp import iter_warp
from .camera_embedding import CameraEmbedding, view_camera_features
from .conditioner import TrackConditioner
from .conditioner_cache import load_onnx_conditioner, onnx_file_name
from .model_folder import (
    MODEL_INDEX_NAME,
    load_model_component,
    load_scheduler,
    read_json,
    refuse_pickles,
)
from .refiner import Track2ViewRefiner, refiner_inputs
from .track_inputs import conditioner_track_inputs, latent_frame_indices, median_source_depth
from .transformer_track2view import Track2ViewTransformer3DModel, patchify_latents
from .windows import WindowBlender, WindowPlan, pad_frames, plan_windows

CONDITIONER_BACKENDS = ("onnx", "torch")
DEFAULT_OVERLAP_FRAMES = 8
DEFAULT_MAX_SIDE = 256


@dataclasses.dataclass
class Track2ViewPipelineOutput:
    """``frames`` (T, H, W, 3) uint8 RGB (or float32 in [0, 1] for ``output_type="np"``), the windows used
    and, when the output was anchored on the footage, the warp's ``holes`` (T, H, W) bool (what no source
    frame shows; None otherwise)."""

    frames: np.ndarray
    plan: WindowPlan
    holes: np.ndarray | None = None


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)


class Track2ViewPipeline(DiffusionPipeline):
    r"""Generate a new view of a clip along paired 3D point tracks (see the module docstring)."""

    model_cpu_offload_seq = "conditioner->transformer->vae->refiner"
    _callback_tensor_inputs = ["latents"]
    _optional_components = ["refiner"]

    def __init__(
        self,
        transformer: Track2ViewTransformer3DModel,
        vae: AutoencoderKLWan,
        scheduler: FlowMatchEulerDiscreteScheduler,
        conditioner: TrackConditioner | CameraEmbedding,
        refiner: Track2ViewRefiner | None = None,
    ):
        super().__init__()
        self.register_modules(transformer=transformer, vae=vae, scheduler=scheduler, conditioner=conditioner,
                              refiner=refiner)
        self.conditioner_backend = "torch"
        self.onnx_device = "auto"
        self.model_folder: Path | None = None
        self.trained_size: int | None = None  # long side (pixels) of the training frames; saved as max_side
        self.cache_dir: Path | None = None
        self._onnx_conditioner = None
        self._interrupt = False
        self._num_timesteps = 0

    # ------------------------------------------------------------------ properties
    @property
    def temporal_factor(self) -> int:
        """Video frames per latent frame (4)."""
        return int(self.vae.config.scale_factor_temporal)

    @property
    def size_multiple(self) -> int:
        """Output width/height must be multiples of this: VAE spatial factor × patch size."""
        return int(self.vae.config.scale_factor_spatial) * int(self.transformer.config.patch_size[1])

    @property
    def default_max_side(self) -> int:
        """Long side (pixels) generated when the caller gives none: the size the model was trained at
        (``max_side`` in model_index.json, written by ``t2v train``), else :data:`DEFAULT_MAX_SIDE`."""
        return self.trained_size or DEFAULT_MAX_SIDE

    @property
    def interrupt(self) -> bool:
        """Set ``pipe._interrupt = True`` (e.g. in ``callback_on_step_end``) to cancel: raises Cancelled."""
        return self._interrupt

    @property
    def num_timesteps(self) -> int:
        """Denoising steps of the current call over all windows (for progress fractions)."""
        return self._num_timesteps

    # ------------------------------------------------------------------ loading and saving
    def use_conditioner_backend(self, backend: str, cache_dir: str | os.PathLike | None = None,
                                device: str = "auto") -> None:
        """Run the conditioner with ``"onnx"`` (ONNX Runtime, exported/cached on first use) or ``"torch"``."""
        if backend not in CONDITIONER_BACKENDS:
            raise UserError(f"conditioner {backend!r}: choose one of {', '.join(CONDITIONER_BACKENDS)}")
        self.conditioner_backend = backend
        self.onnx_device = device
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.cache_dir
        self._onnx_conditioner = None

    @classmethod
    def from_pretrained(cls, model_folder: str | os.PathLike, conditioner: str = "onnx",
                        cache_dir: str | os.PathLike | None = None, device: str = "auto",
                        torch_dtype: torch.dtype | None = None,
                        allow_missing_refiner: bool = False) -> Track2ViewPipeline:
        """Load a model folder (local only, safetensors only; see :mod:`.model_folder`).

        Args:
            model_folder: the folder written by :meth:`save_pretrained`.
            conditioner: ``"onnx"`` (default) or ``"torch"``.
            cache_dir: where ONNX exports made on first use are cached.
            device: device preference for ONNX Runtime (the torch device is set with ``.to``/
                :meth:`place`).
            torch_dtype: dtype of the transformer (the VAE and the conditioner stay float32).
            allow_missing_refiner: load a track model of the old layout (no refiner) too, e.g. to
                train a refiner for it.

        Raises:
            UserError: naming the missing, corrupt, pickle-based or incompatible file.
        """
        folder = Path(model_folder)
        if not folder.exists():
            raise UserError(f"model folder {folder} does not exist")
        refuse_pickles(folder)
        if not folder.is_dir():
            raise UserError(f"model {folder} must be a folder written by save_pretrained, not a file")
        index = read_json(folder / MODEL_INDEX_NAME)
        kind = index.get("_class_name")
        if kind != cls.__name__:
            raise UserError(f"{folder / MODEL_INDEX_NAME}: a {kind} folder, not a {cls.__name__} model "
                            f"(a Wan2.1 folder is a backbone: build a model with load_wan_backbone)")
        transformer = load_model_component(Track2ViewTransformer3DModel, folder / "transformer", torch_dtype)
        vae = load_model_component(AutoencoderKLWan, folder / "vae")
        cond_class = CameraEmbedding if read_json(folder / "conditioner" / "config.json").get(
            "_class_name") == CameraEmbedding.__name__ else TrackConditioner
        cond = load_model_component(cond_class, folder / "conditioner")
        scheduler = load_scheduler(FlowMatchEulerDiscreteScheduler, folder / "scheduler")
        check_compatible(transformer, vae, cond, folder)
        refiner = None
        if (index.get("refiner") or [None])[0] is not None:
            refiner = load_model_component(Track2ViewRefiner, folder / "refiner").eval()
        elif cond_class is TrackConditioner and not allow_missing_refiner:
            raise UserError(f"{folder}: a Track2View model of the old layout (v2: the transformer alone, no "
                            f"refiner/ folder), whose output is a blurred view; this version anchors the new "
                            f"view on the warped footage. Use the built-in default model, or add a refiner to "
                            f"this one: t2v train --stage refiner --model {folder} --out RUN")
        pipe = cls(transformer=transformer.eval(), vae=vae.eval(), scheduler=scheduler, conditioner=cond.eval(),
                   refiner=refiner)
        pipe.model_folder = folder
        if isinstance(index.get("max_side"), int) and index["max_side"] > 0:
            pipe.trained_size = index["max_side"]
        pipe.use_conditioner_backend(conditioner, cache_dir, device)
        return pipe

    def save_pretrained(self, save_directory: str | os.PathLike, overwrite: bool = False,
                        export_onnx: bool = True, **_: Any) -> Path:
        """Write the model folder atomically (safetensors + JSON; the conditioner's ONNX export beside it).

        Raises:
            UserError: ``save_directory`` exists and ``overwrite`` is False.
        """
        target = check_writable_target(save_directory, overwrite)
        if getattr(self.transformer, "peft_config", None):
            raise UserError("the transformer has LoRA adapters attached; merge them with merge_lora(pipe) "
                            "before saving a model folder")
        with atomic_dir(target) as tmp:
            super().save_pretrained(tmp, safe_serialization=True)
            if self.trained_size:
                index = read_json(tmp / MODEL_INDEX_NAME) | {"max_side": int(self.trained_size)}
                (tmp / MODEL_INDEX_NAME).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
            if export_onnx and isinstance(self.conditioner, TrackConditioner):
                from .conditioner_onnx import export_conditioner_onnx

                export_conditioner_onnx(self.conditioner, tmp / "conditioner" / onnx_file_name(self.conditioner))
        self.model_folder = target
        return target

    def place(self, device: torch.device, memory_saving: bool = False) -> Track2ViewPipeline:
        """Move the pipeline to ``device`` (from ``engine.runtime.select_torch_device``).

        ``memory_saving`` turns on VAE tiling and slicing and, on CUDA with accelerate installed,
        model CPU offload when accelerate is installed (each component moves to the GPU only while
        it runs).
        """
        if memory_saving:
            self.vae.enable_tiling()
            self.vae.enable_slicing()
        if memory_saving and device.type == "cuda" and is_accelerate_available():
            self.enable_model_cpu_offload(device=device)
        else:
            self.to(device)
        return self

    # ------------------------------------------------------------------ phases
    def check_inputs(self, source_frames: np.ndarray, tracks: Tracks, target_camera: CameraTrack | None,
                     num_inference_steps: int, height: int | None, width: int | None, output_type: str,
                     callback_on_step_end_tensor_inputs: list[str]) -> None:
        """Raise :class:`UserError` naming the first bad value."""
        frames = np.asarray(source_frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise UserError(f"source frames must have shape (T, H, W, 3), got {frames.shape}")
        if not isinstance(tracks, Tracks):
            raise UserError(f"tracks must be engine.io.tracks.Tracks, got {type(tracks).__name__}")
        if not tracks.is_paired and target_camera is None:
            raise UserError("tracks are not paired with a target view: pass target_camera (or pair_tracks first)")
        if isinstance(self.conditioner, CameraEmbedding) and target_camera is None:
            raise UserError("this is a camera-embedding model: pass target_camera")
        if self.refiner is not None and target_camera is None:
            raise UserError("this model anchors its output on the warped footage: pass target_camera")
        if tracks.num_frames != len(frames):
            raise UserError(f"the source has {len(frames)} frames but the tracks have {tracks.num_frames}; "
                            f"use the tracks made for this footage")
        if num_inference_steps < 1:
            raise UserError(f"num_inference_steps={num_inference_steps} must be ≥ 1")
        for name, value in (("height", height), ("width", width)):
            if value is not None and (value <= 0 or value % self.size_multiple):
                raise UserError(f"{name}={value} must be a positive multiple of {self.size_multiple}")
        if output_type not in ("uint8", "np"):
            raise UserError(f"output_type={output_type!r}: choose 'uint8' or 'np'")
        bad = [k for k in callback_on_step_end_tensor_inputs if k not in self._callback_tensor_inputs]
        if bad:
            raise UserError(f"callback_on_step_end_tensor_inputs {bad} are not in {self._callback_tensor_inputs}")

    def output_size(self, target_size: tuple[int, int], height: int | None, width: int | None,
                    max_side: int) -> tuple[int, int]:
        """(height, width) of the generated frames: given, or the target aspect with the long side ≤ ``max_side``."""
        W, H = target_size
        scale = min(1.0, max_side / max(W, H))
        m = self.size_multiple
        return (height or _round_to(H * scale, m)), (width or _round_to(W * scale, m))

    def encode_source(self, frames: np.ndarray, height: int, width: int, device: torch.device) -> torch.Tensor:
        """(F_v, H, W, 3) uint8/float RGB → normalised source latents (1, C, F, h, w), float32."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(device)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        x = x.permute(0, 3, 1, 2)  # F_v, 3, H, W
        if x.shape[-2:] != (height, width):
            x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        x = (x * 2.0 - 1.0).clamp(-1, 1).permute(1, 0, 2, 3)[None]  # 1, 3, F_v, H, W
        latents = self.vae.encode(x.to(self.vae.dtype)).latent_dist.mode().float()
        mean, std = self._latent_stats(latents)
        return (latents - mean) / std

    def decode_latents(self, latents: torch.Tensor) -> np.ndarray:
        """Normalised latents (1, C, F, h, w) → (F_v, H, W, 3) float32 RGB in [0, 1]."""
        mean, std = self._latent_stats(latents)
        video = self.vae.decode((latents * std + mean).to(self.vae.dtype)).sample
        video = ((video[0].float().clamp(-1, 1) + 1) / 2).permute(1, 2, 3, 0)
        return video.cpu().numpy()

    def _latent_stats(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, -1, 1, 1, 1)
        mean = torch.tensor(self.vae.config.latents_mean, dtype=torch.float32, device=latents.device).view(shape)
        std = torch.tensor(self.vae.config.latents_std, dtype=torch.float32, device=latents.device).view(shape)
        return mean, std

    def run_conditioner(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The conditioner (ONNX Runtime or torch, see :meth:`use_conditioner_backend`) on its seven inputs."""
        if self.conditioner_backend == "torch":
            return self.conditioner(*inputs)
        if self._onnx_conditioner is None:
            try:
                self._onnx_conditioner = load_onnx_conditioner(self.conditioner, self.model_folder, self.cache_dir,
                                                               self.onnx_device)
            except MissingPackage as exc:  # no export beside the weights and no exporter (the add-on's zip)
                warnings.warn(f"{exc}; running the track conditioner in PyTorch instead", stacklevel=2)
                self.conditioner_backend = "torch"
                return self.conditioner(*inputs)
        return self._onnx_conditioner(*inputs)

    def track_tokens(self, source_latents: torch.Tensor, tracks: Tracks, frames: np.ndarray,
                     target_size: tuple[int, int], depth_scale: float,
                     target_camera: CameraTrack | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditioning tokens (1, F, h, w, D) of both views for one window, in the transformer's dtype.

        ``frames`` (F,) index the frames of ``tracks`` (and of ``target_camera``, needed by a
        :class:`CameraEmbedding`, which embeds the source camera of ``tracks`` and the target camera).
        """
        features = patchify_latents(source_latents, tuple(self.transformer.config.patch_size))
        if isinstance(self.conditioner, CameraEmbedding):
            source_camera = CameraTrack(tracks.K, tracks.w2c, tracks.size)
            cams = view_camera_features(source_camera, target_camera, depth_scale)
            cam_src, cam_tgt = (torch.from_numpy(c[frames])[None].to(features.device) for c in cams)
            tokens = self.conditioner(cam_src, cam_tgt, features.shape[-2], features.shape[-1])
            return tuple(t.to(source_latents.device, self.transformer.dtype) for t in tokens)
        track_inputs = conditioner_track_inputs(tracks, frames, target_size, depth_scale, features.device)
        tokens = self.run_conditioner(features.float(), *track_inputs)
        return tuple(t.to(source_latents.device, self.transformer.dtype) for t in tokens)

    @torch.no_grad()
    def refine(self, source_frames: np.ndarray, tracks: Tracks, target_camera: CameraTrack,
               depth: DenseDepth | None, coarse: np.ndarray,
               callback_on_frame_end: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The refiner's output (T, H, W, 3) float32 in [0, 1] at ``target_camera.size`` (W, H) and the
        warp's hole masks (T, H, W) bool.

        ``source_frames`` (T, H_s, W_s, 3) uint8 are warped frame by frame into ``target_camera``
        (:func:`...warp.iter_warp` on ``depth``, spread from ``tracks`` when None) and fused with the
        ``coarse`` view (T, h, w, 3) float in [0, 1].
        """
        if depth is None:
            depth = dense_depth(source_frames, tracks)
        W, H = target_camera.size
        device = self._execution_device
        out = np.empty((len(coarse), H, W, 3), np.float32)
        holes = np.empty((len(coarse), H, W), bool)
        for t, (image, hole) in enumerate(iter_warp(source_frames, tracks, target_camera, depth)):
            if self.interrupt:
                raise Cancelled("generation cancelled")
            inputs = refiner_inputs(image, hole, coarse[t], device, self.refiner.dtype)
            out[t] = self.refiner(*inputs)[0].permute(1, 2, 0).float().cpu().numpy()
            holes[t] = hole
            if callback_on_frame_end is not None:
                callback_on_frame_end(t + 1, len(coarse))
        return out, holes

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def __call__(
        self,
        source_frames: np.ndarray,
        tracks: Tracks,
        target_camera: CameraTrack | None = None,
        num_inference_steps: int = 20,
        generator: torch.Generator | int | None = 0,
        height: int | None = None,
        width: int | None = None,
        max_side: int | None = None,
        overlap_frames: int = DEFAULT_OVERLAP_FRAMES,
        output_type: str = "uint8",
        callback_on_step_end: Callable[[Track2ViewPipeline, int, torch.Tensor, dict], dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
        depth: DenseDepth | None = None,
        anchor: bool = True,
        callback_on_frame_end: Callable[[int, int], None] | None = None,
    ) -> Track2ViewPipelineOutput:
        """Generate the target view.

        Args:
            source_frames: (T, H_s, W_s, 3) RGB, uint8 or float in [0, 1].
            tracks: the shot's tracks over T frames, paired with the target view (``uv_tgt`` …);
                unpaired tracks are paired here with ``target_camera`` (``engine.pairing``).
            target_camera: the target view's camera; its ``size`` (W, H) is the pixel frame of
                ``uv_tgt`` and sets the output aspect. Optional for already paired tracks whose
                target size equals the source size.
            num_inference_steps: Euler steps per window.
            generator: a seed or a (CPU) ``torch.Generator``; the same seed gives the same frames.
            height, width: output size (multiples of :attr:`size_multiple`); default from
                ``target_camera.size`` scaled so the long side is at most ``max_side``
                (default :attr:`default_max_side`).
            overlap_frames: frames shared by consecutive windows, at least (see :mod:`.windows`).
            output_type: ``"uint8"`` or ``"np"`` (float32 in [0, 1]).
            callback_on_step_end: ``fn(pipe, step, timestep, {"latents": ...}) -> dict`` after every
                step (``step`` counts over all windows, of :attr:`num_timesteps`); may set
                ``pipe._interrupt = True`` or raise :class:`Cancelled` to stop, and may return
                replacement ``latents``.
            callback_on_step_end_tensor_inputs: names passed to the callback (subset of ``["latents"]``).
            depth: the source's dense depth (:func:`...dense_depth.dense_depth`) for the refiner's
                warp; spread from ``tracks`` along ``source_frames`` when None.
            anchor: with a refiner, anchor the output on the warped footage; False returns the
                transformer's coarse view (what the refiner is trained on).
            callback_on_frame_end: ``fn(done, total)`` after the refiner's every frame; may set
                ``pipe._interrupt = True`` or raise :class:`Cancelled` to stop.

        Returns:
            :class:`Track2ViewPipelineOutput` with (T, height, width, 3) frames; with a refiner at
            the target camera's own size (``height``/``width`` set the coarse view's size).

        Raises:
            UserError: bad inputs (named). Cancelled: the callback cancelled.
        """
        tensor_inputs = callback_on_step_end_tensor_inputs or ["latents"]
        # 1. Check inputs; pair tracks with the target camera when needed.
        self.check_inputs(source_frames, tracks, target_camera, num_inference_steps, height, width,
                          output_type, tensor_inputs)
        if not tracks.is_paired:
            from ..pairing import pair_tracks

            tracks = pair_tracks(tracks, target_camera)
            if tracks.num_frames != len(source_frames):
                raise UserError(f"the target camera has {target_camera.num_frames} frames, the source "
                                f"{len(source_frames)}: key the camera over the whole shot")
        target_size = target_camera.size if target_camera is not None else tracks.size
        height, width = self.output_size(target_size, height, width, max_side or self.default_max_side)
        device = self._execution_device
        self._interrupt = False

        # 2. Plan windows; pad the clip (last frame repeated) to the length they cover.
        window = int(self.transformer.config.frame_window)
        plan = plan_windows(len(source_frames), window, overlap_frames, self.temporal_factor)
        frames = pad_frames(np.asarray(source_frames), plan.padded_frames)
        padded_index = pad_frames(np.arange(tracks.num_frames), plan.padded_frames)
        padded_tracks = tracks.subset(padded_index)
        padded_target = None if target_camera is None else CameraTrack(
            target_camera.K[padded_index], target_camera.w2c[padded_index], target_camera.size)
        depth_scale = median_source_depth(tracks)

        # 3. Timesteps and the clip-wide initial noise on the latent grid of the padded clip.
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        self._num_timesteps = num_inference_steps * len(plan.starts)
        if not isinstance(generator, torch.Generator):
            generator = torch.Generator("cpu").manual_seed(int(generator or 0))
        channels = self.transformer.config.in_channels
        factor = int(self.vae.config.scale_factor_spatial)
        noise = randn_tensor((1, channels, plan.padded_latent_frames, height // factor, width // factor),
                             generator=generator, device=device, dtype=torch.float32)

        blender = WindowBlender(plan, height, width)
        step = 0
        with self.progress_bar(total=self._num_timesteps) as progress_bar:
            for index, start in enumerate(plan.starts):
                # 4. Encode the source window and prepare its track tokens.
                source_latents = self.encode_source(frames[start:start + plan.window_frames], height, width, device)
                latent_frames = latent_frame_indices(start, plan.latent_frames, self.temporal_factor)
                tokens_src, tokens_tgt = self.track_tokens(source_latents, padded_tracks, latent_frames,
                                                           target_size, depth_scale, padded_target)
                first = start // self.temporal_factor
                latents = noise[:, :, first:first + plan.latent_frames].clone()

                # 5. Denoising loop.
                self.scheduler.set_timesteps(num_inference_steps, device=device)
                for t in self.scheduler.timesteps:
                    if self.interrupt:
                        raise Cancelled("generation cancelled")
                    velocity = self.transformer(latents.to(self.transformer.dtype),
                                                source_latents.to(self.transformer.dtype),
                                                t.expand(1), tokens_src, tokens_tgt)
                    latents = self.scheduler.step(velocity.float(), t, latents, return_dict=False)[0]
                    if callback_on_step_end is not None:
                        values = {"latents": latents}
                        out = callback_on_step_end(self, step, t, {k: values[k] for k in tensor_inputs}) or {}
                        latents = out.pop("latents", latents)
                    step += 1
                    progress_bar.update()
                if self.interrupt:
                    raise Cancelled("generation cancelled")

                # 6. Decode and blend into the clip.
                blender.add(index, self.decode_latents(latents))

        # 7. Anchor on the footage: warp it into the target camera, keep what it shows, fill the rest.
        video = blender.result()[:len(source_frames)]
        holes = None
        if anchor and self.refiner is not None:
            video, holes = self.refine(np.asarray(source_frames), tracks, target_camera, depth, video,
                                       callback_on_frame_end)
        self.maybe_free_model_hooks()
        # 8. Output.
        if output_type == "uint8":
            video = np.round(video * 255.0).clip(0, 255).astype(np.uint8)
        return Track2ViewPipelineOutput(frames=video, plan=plan, holes=holes)


def check_compatible(transformer: Track2ViewTransformer3DModel, vae: AutoencoderKLWan,
                     conditioner: TrackConditioner | CameraEmbedding, folder: Path | None = None) -> None:
    """Raise :class:`UserError` naming the config that does not fit the others."""
    where = (lambda name: folder / name / "config.json") if folder is not None else (lambda name: name)
    window, factor = transformer.config.frame_window, int(vae.config.scale_factor_temporal)
    if not isinstance(window, int) or window < 1 or (window - 1) % factor:
        raise UserError(f"{where('transformer')}: frame_window={window!r} must be 1 + {factor}k video frames "
                        f"(e.g. 25)")
    if vae.config.z_dim != transformer.config.in_channels:
        raise UserError(f"{where('vae')}: z_dim={vae.config.z_dim} but the transformer expects "
                        f"in_channels={transformer.config.in_channels}")
    if isinstance(conditioner, TrackConditioner) and conditioner.config.feature_dim != transformer.feature_dim:
        raise UserError(f"{where('conditioner')}: feature_dim={conditioner.config.feature_dim} but the "
                        f"patchified latents have {transformer.feature_dim} channels")
    if conditioner.config.out_dim != transformer.inner_dim:
        raise UserError(f"{where('conditioner')}: out_dim={conditioner.config.out_dim} but the transformer "
                        f"width is {transformer.inner_dim}")
