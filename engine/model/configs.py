"""Named model configurations: ``tiny`` (the CPU default, trained from scratch) and ``wan1.3b``.

A :class:`ModelConfig` holds the constructor arguments of every component of a
:class:`~.pipeline.Track2ViewPipeline`. ``tiny`` builds every component from these arguments
(:func:`build_pipeline`); ``wan1.3b`` takes the transformer, VAE and scheduler from a local
Wan2.1-T2V-1.3B folder in diffusers layout (:func:`.wan_backbone.load_wan_backbone`) and uses the
arguments here only for the parts Track2View adds (null prompt, frame window, LoRA, conditioner).

Sizes of ``tiny`` at 256×256, 25 frames: VAE ×8 spatial, ×4 temporal → latents 8×7×32×32;
patch (1, 2, 2) → 7×16×16 tokens per view, 3 584 for both views, width 128.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import UserError

TINY_LATENT_CHANNELS = 8
TINY_WIDTH = 128  # 4 heads × 32
TINY_PATCH = (1, 2, 2)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Constructor arguments of the pipeline's components (see the module docstring).

    Attributes:
        name: the config's name (``t2v train --config NAME``).
        transformer: :class:`~.transformer_track2view.Track2ViewTransformer3DModel` arguments
            (for ``wan1.3b`` only the Track2View additions; the rest comes from the Wan folder).
        vae: :class:`diffusers.AutoencoderKLWan` arguments (empty for ``wan1.3b``).
        conditioner: :class:`~.conditioner.TrackConditioner` arguments.
        refiner: :class:`~.refiner.Track2ViewRefiner` arguments (the full-resolution fusion of the
            warped footage with the transformer's view).
        scheduler: :class:`diffusers.FlowMatchEulerDiscreteScheduler` arguments.
        lora: LoRA rank/alpha/target modules for a frozen backbone (None: train everything).
        num_inference_steps: default sampling steps.
    """

    name: str
    transformer: dict[str, Any]
    vae: dict[str, Any]
    conditioner: dict[str, Any]
    scheduler: dict[str, Any]
    refiner: dict[str, Any] = dataclasses.field(default_factory=dict)
    lora: dict[str, Any] | None = None
    num_inference_steps: int = 20


TINY = ModelConfig(
    name="tiny",
    transformer={
        "patch_size": TINY_PATCH, "num_attention_heads": 4, "attention_head_dim": 32,
        "in_channels": TINY_LATENT_CHANNELS, "out_channels": TINY_LATENT_CHANNELS, "text_dim": 32,
        "freq_dim": 64, "ffn_dim": 4 * TINY_WIDTH, "num_layers": 4, "rope_max_seq_len": 1024,
        "null_prompt_len": 1, "frame_window": 25,
    },
    vae={
        "base_dim": 8, "z_dim": TINY_LATENT_CHANNELS, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 1,
        "temperal_downsample": [False, True, True],
        "latents_mean": [0.0] * TINY_LATENT_CHANNELS, "latents_std": [1.0] * TINY_LATENT_CHANNELS,
    },
    conditioner={
        "feature_dim": TINY_LATENT_CHANNELS * TINY_PATCH[1] * TINY_PATCH[2], "out_dim": TINY_WIDTH,
        "hidden_dim": 64, "num_layers": 2, "num_heads": 4,
    },
    scheduler={"num_train_timesteps": 1000, "shift": 3.0},
    refiner={"hidden_dims": (16, 32, 48), "bottleneck_blocks": 2},
    num_inference_steps=20,
)

# Wan2.1-T2V-1.3B: 16 latent channels, width 1536 (12 heads × 128), 81-frame window (its
# training length), LoRA rank 64 on the self- and cross-attention projections.
WAN_1_3B = ModelConfig(
    name="wan1.3b",
    transformer={"null_prompt_len": 1, "frame_window": 81},
    vae={},
    conditioner={
        "feature_dim": 16 * 2 * 2, "out_dim": 1536, "hidden_dim": 512, "num_layers": 4, "num_heads": 8,
        "num_xy_frequencies": 10, "num_depth_frequencies": 6,
    },
    scheduler={"num_train_timesteps": 1000, "shift": 5.0},
    refiner={"hidden_dims": (32, 64, 96), "bottleneck_blocks": 4},
    lora={"r": 64, "lora_alpha": 64, "target_modules": ["to_q", "to_k", "to_v", "to_out.0"]},
    num_inference_steps=50,
)

CONFIGS = {c.name: c for c in (TINY, WAN_1_3B)}


def get_config(name: str) -> ModelConfig:
    """The named config; :class:`UserError` listing the valid names otherwise."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise UserError(f"unknown model config {name!r}: choose one of {', '.join(CONFIGS)}") from None
