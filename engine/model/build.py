"""Building blocks for generation and training: fresh pipelines from a named config, trainable parameters.

``build_pipeline("tiny", seed)`` makes every component from :data:`.configs.TINY` with
``torch.manual_seed(seed)`` before each one (so a seed fixes the whole model), in eval mode.
The large model comes from a local Wan folder instead: :func:`.wan_backbone.load_wan_backbone`.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler

from ..errors import UserError
from .conditioner import TrackConditioner
from .configs import ModelConfig, get_config
from .pipeline import Track2ViewPipeline, check_compatible
from .refiner import Track2ViewRefiner
from .transformer_track2view import Track2ViewTransformer3DModel


def build_pipeline(config: str | ModelConfig = "tiny", seed: int = 0) -> Track2ViewPipeline:
    """A randomly initialised pipeline of a config that builds every component (``tiny``).

    The conditioner runs in torch (``pipe.use_conditioner_backend("onnx")`` switches).

    Raises:
        UserError: unknown config name, or a config that needs a Wan folder (``wan1.3b``).
    """
    cfg = get_config(config) if isinstance(config, str) else config
    if not cfg.vae:
        raise UserError(f"config {cfg.name!r} loads its backbone from a Wan folder: use load_wan_backbone(folder)")
    torch.manual_seed(seed)
    transformer = Track2ViewTransformer3DModel(**cfg.transformer)
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(**cfg.vae)
    torch.manual_seed(seed)
    conditioner = TrackConditioner(**cfg.conditioner)
    check_compatible(transformer, vae, conditioner)
    scheduler = FlowMatchEulerDiscreteScheduler(**cfg.scheduler)
    torch.manual_seed(seed)
    refiner = Track2ViewRefiner(**cfg.refiner)
    return Track2ViewPipeline(transformer=transformer.eval(), vae=vae.eval(), scheduler=scheduler,
                              conditioner=conditioner.eval(), refiner=refiner.eval())


def trainable_parameters(pipe: Track2ViewPipeline) -> list[torch.nn.Parameter]:
    """The parameters training updates: transformer parameters with ``requires_grad`` + the conditioner.

    For the tiny model that is the whole transformer; for a Wan backbone
    (:func:`.wan_backbone.load_wan_backbone`) only the LoRA adapters. The VAE is never included.
    """
    params = [p for p in pipe.transformer.parameters() if p.requires_grad]
    return params + [p for p in pipe.conditioner.parameters() if p.requires_grad]
