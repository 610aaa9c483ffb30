"""Run an exported track conditioner with ONNX Runtime behind the torch module's call signature.

``OnnxTrackConditioner(path)(src_features, uv_src, ...)`` takes and returns the same torch
tensors as :meth:`engine.model.conditioner.TrackConditioner.forward`, so a pipeline can use
either (``--conditioner onnx|torch``). Inputs pass the same check
(:func:`~engine.model.conditioner.check_conditioner_inputs`) before ONNX Runtime sees them.
"""

from __future__ import annotations

import json
import os

import torch

from ..errors import UserError
from ..model.conditioner import CONDITIONER_INPUTS, check_conditioner_inputs
from ..model.conditioner_onnx import CONFIG_METADATA_KEY, EXPORT_VERSION, OUTPUT_NAMES
from . import create_session


class OnnxTrackConditioner:
    """An ONNX Runtime session of an exported :class:`TrackConditioner`.

    Args:
        path: ``.onnx`` file written by ``t2v export-onnx`` / ``export_conditioner_onnx``.
        preference: device preference for :func:`engine.runtime.onnx_providers`.

    Attributes:
        config: the exported model's config (dict), ``precision`` (``"fp32"``/``"fp16"``),
        ``providers``: the providers the session actually uses.
    """

    def __init__(self, path: str | os.PathLike, preference: str = "auto"):
        self.path = os.fspath(path)
        self.session = create_session(self.path, preference)
        meta = self.session.get_modelmeta().custom_metadata_map.get(CONFIG_METADATA_KEY)
        if meta is None:
            raise UserError(f"ONNX model {self.path} is not a Track2View track conditioner "
                            f"(no '{CONFIG_METADATA_KEY}' metadata); export it with `t2v export-onnx`")
        meta = json.loads(meta)
        if meta.get("export_version") != EXPORT_VERSION:
            raise UserError(f"ONNX model {self.path} was exported by another version of Track2View "
                            f"(export version {meta.get('export_version')}, expected {EXPORT_VERSION}); "
                            f"re-export it with `t2v export-onnx`")
        self.config = meta["config"]
        self.precision = meta["precision"]
        self.providers = self.session.get_providers()

    def __call__(
        self,
        src_features: torch.Tensor,
        uv_src: torch.Tensor,
        uv_tgt: torch.Tensor,
        depth_src: torch.Tensor,
        depth_tgt: torch.Tensor,
        vis_src: torch.Tensor,
        vis_tgt: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Same arguments, shapes and results as :meth:`TrackConditioner.forward`.

        Returns float32 CPU-or-input-device tensors (B, T, H, W, out_dim) for both views.
        """
        inputs = (src_features, uv_src, uv_tgt, depth_src, depth_tgt, vis_src, vis_tgt)
        check_conditioner_inputs(*inputs, feature_dim=self.config["feature_dim"])
        feed = {name: value.detach().cpu().contiguous().numpy() for name, value in zip(CONDITIONER_INPUTS, inputs,
                                                                                          strict=True)}
        tokens_src, tokens_tgt = self.session.run(list(OUTPUT_NAMES), feed)
        device = src_features.device
        return torch.from_numpy(tokens_src).to(device), torch.from_numpy(tokens_tgt).to(device)
