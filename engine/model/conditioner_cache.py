"""Find or make the ONNX export of a conditioner, keyed by a hash of its weights.

An export is named ``conditioner-<hash>.onnx`` where ``<hash>`` is the first
:data:`HASH_CHARS` hex digits of the SHA-256 of the export format version, the conditioner's config and its
weights, so an export can never be used with other weights or an outdated graph. Looked up first next to the weights
(``<model>/conditioner/``, written by ``Track2ViewPipeline.save_pretrained``), then in the cache
folder (``<cache>/onnx/``, written on first use).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from ..runtime.onnx_conditioner import OnnxTrackConditioner
from .conditioner import TrackConditioner
from .conditioner_onnx import EXPORT_VERSION, export_conditioner_onnx

HASH_CHARS = 16
CACHE_ENV = "TRACK2VIEW_CACHE"


def default_cache_dir() -> Path:
    """``$TRACK2VIEW_CACHE`` if set, else ``~/.cache/track2view``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "track2view")


def conditioner_hash(conditioner: TrackConditioner) -> str:
    """Hex SHA-256 (first :data:`HASH_CHARS` digits) of the export version, config and float32 weights."""
    config = {k: v for k, v in conditioner.config.items() if not k.startswith("_")}  # not load metadata
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    for name, value in sorted(conditioner.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:HASH_CHARS]


def onnx_file_name(conditioner: TrackConditioner) -> str:
    """``conditioner-<hash>.onnx``."""
    return f"conditioner-{conditioner_hash(conditioner)}.onnx"


def load_onnx_conditioner(conditioner: TrackConditioner, model_folder: Path | None, cache_dir: Path | None,
                          preference: str = "auto") -> OnnxTrackConditioner:
    """An ONNX Runtime session of ``conditioner``: the saved export, a cached one, or a fresh export.

    Args:
        conditioner: the torch conditioner whose weights the export must match.
        model_folder: the model folder it was loaded from (None for an in-memory pipeline).
        cache_dir: where fresh exports go (None: :func:`default_cache_dir`).
        preference: device preference for the ONNX Runtime providers (``auto``/``cuda``/``cpu``).
    """
    name = onnx_file_name(conditioner)
    if model_folder is not None and (model_folder / "conditioner" / name).is_file():
        return OnnxTrackConditioner(model_folder / "conditioner" / name, preference)
    cached = Path(cache_dir or default_cache_dir()) / "onnx" / name
    if not cached.is_file():
        export_conditioner_onnx(conditioner, cached)
    return OnnxTrackConditioner(cached, preference)
