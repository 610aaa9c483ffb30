"""The large model: a frozen Wan2.1-T2V-1.3B backbone with LoRA adapters and a trainable conditioner.

``load_wan_backbone(folder)`` reads a local Wan2.1 folder in diffusers layout (as published by
Wan-AI as ``Wan2.1-T2V-1.3B-Diffusers``)::

    transformer/config.json + diffusion_pytorch_model*.safetensors   → Track2ViewTransformer3DModel
    vae/config.json         + diffusion_pytorch_model.safetensors    → AutoencoderKLWan
    null_prompt_embeds.safetensors  (optional, key "prompt_embeds", (L, 4096))

The text encoder, tokenizer and scheduler folders are not read: there is no prompt. The
cross-attention context is the transformer's null prompt: the precomputed T5 embedding of the
empty prompt when ``null_prompt_embeds.safetensors`` is present (compute it once, offline, with
the Wan text encoder), else zeros. Sampling uses FlowMatchEulerDiscreteScheduler with the
config's shift. The backbone and the VAE are frozen; LoRA adapters (peft, via diffusers'
``add_adapter``) on the attention projections and the conditioner are the trainable parts
(:func:`.build.trainable_parameters`). Nothing is downloaded: missing files are errors.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler
from safetensors.torch import load_file

from ..errors import UserError, require_tool
from .conditioner import TrackConditioner
from .configs import WAN_1_3B, ModelConfig
from .model_folder import load_model_component
from .pipeline import Track2ViewPipeline, check_compatible
from .refiner import Track2ViewRefiner
from .transformer_track2view import Track2ViewTransformer3DModel

NULL_PROMPT_FILE = "null_prompt_embeds.safetensors"
NULL_PROMPT_KEY = "prompt_embeds"


def _null_prompt(folder: Path, transformer: Track2ViewTransformer3DModel) -> torch.Tensor:
    """(1, L, text_dim) initial null prompt: the precomputed empty-prompt embedding, or zeros."""
    path = folder / NULL_PROMPT_FILE
    if not path.is_file():
        return torch.zeros(1, transformer.config.null_prompt_len, transformer.config.text_dim)
    try:
        embeds = load_file(os.fspath(path))[NULL_PROMPT_KEY].float()
    except Exception as exc:  # safetensors' own error types for corrupt files, KeyError for the key
        raise UserError(f"{path} must be a safetensors file with a '{NULL_PROMPT_KEY}' tensor ({exc})") from exc
    embeds = embeds.reshape(-1, embeds.shape[-1])[None]
    if embeds.shape[-1] != transformer.config.text_dim:
        raise UserError(f"{path}: embedding width {embeds.shape[-1]} ≠ the transformer's text_dim "
                        f"{transformer.config.text_dim}")
    return embeds


def load_wan_backbone(folder: str | os.PathLike, config: ModelConfig = WAN_1_3B, seed: int = 0,
                      torch_dtype: torch.dtype | None = None, lora: bool = True) -> Track2ViewPipeline:
    """A Track2View pipeline on a local Wan2.1 folder: frozen backbone + LoRA + a fresh conditioner.

    Args:
        folder: the Wan2.1 diffusers folder (see the module docstring).
        config: Track2View additions (null prompt length, frame window, LoRA, conditioner sizes
            except ``feature_dim``/``out_dim``, which follow the backbone).
        seed: seeds the conditioner's initialisation.
        torch_dtype: dtype of the frozen transformer (e.g. ``torch.bfloat16`` on a GPU).
        lora: attach the LoRA adapters of ``config.lora``.

    Raises:
        UserError: a missing/corrupt/pickle-based file, named.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"Wan model folder {folder} does not exist")
    transformer = load_model_component(Track2ViewTransformer3DModel, folder / "transformer", torch_dtype,
                                       not_stored=("null_prompt",), **config.transformer)
    # The null prompt is not in a Wan checkpoint: diffusers leaves it uninitialised (on "meta").
    transformer.null_prompt = torch.nn.Parameter(
        _null_prompt(folder, transformer).to(transformer.patch_embedding.weight.device, transformer.dtype))
    transformer.register_to_config(null_prompt_len=transformer.null_prompt.shape[1])
    vae = load_model_component(AutoencoderKLWan, folder / "vae")
    transformer.requires_grad_(False)
    vae.requires_grad_(False)
    if lora and config.lora:
        peft = require_tool("peft", "LoRA training on a Wan backbone")
        transformer.add_adapter(peft.LoraConfig(**config.lora, init_lora_weights=True))
    torch.manual_seed(seed)
    conditioner = TrackConditioner(**{**config.conditioner, "feature_dim": transformer.feature_dim,
                                      "out_dim": transformer.inner_dim})
    check_compatible(transformer, vae, conditioner, folder)
    scheduler = FlowMatchEulerDiscreteScheduler(**config.scheduler)
    torch.manual_seed(seed)
    refiner = Track2ViewRefiner(**config.refiner)  # untrained: the warp where it has content (refiner docstring)
    return Track2ViewPipeline(transformer=transformer.eval(), vae=vae.eval(), scheduler=scheduler,
                              conditioner=conditioner.eval(), refiner=refiner.eval())


def merge_lora(pipe: Track2ViewPipeline) -> None:
    """Fold the transformer's LoRA adapters into its weights and remove them (then ``save_pretrained``).

    The saved folder holds a plain :class:`Track2ViewTransformer3DModel` with the merged weights,
    which ``Track2ViewPipeline.from_pretrained`` loads like any other model.
    """
    if getattr(pipe.transformer, "peft_config", None):
        pipe.transformer.fuse_lora()
        pipe.transformer.unload_lora()
