"""Load the components of a Track2View model folder safely: local files, safetensors only.

A model folder is the diffusers ``save_pretrained`` layout of a
:class:`~.pipeline.Track2ViewPipeline`::

    model_index.json
    transformer/config.json + diffusion_pytorch_model.safetensors   (or a sharded *.safetensors.index.json)
    vae/config.json         + diffusion_pytorch_model.safetensors
    conditioner/config.json + diffusion_pytorch_model.safetensors   (+ conditioner-<hash>.onnx)
    scheduler/scheduler_config.json

Every problem becomes a :class:`UserError` naming the file: a missing folder, config or weights
file, unreadable JSON, a corrupt safetensors file, weights that do not fit the config, components
that do not fit each other, and any pickle-based checkpoint (``.bin``, ``.pt``, ``.pth``,
``.ckpt``, ``.pkl``), which is refused rather than unpickled. Nothing here can reach a model hub
(``local_files_only=True`` on every diffusers call).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from ..errors import UserError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"
WEIGHTS_INDEX_NAME = "diffusion_pytorch_model.safetensors.index.json"
MODEL_CONFIG_NAME = "config.json"
SCHEDULER_CONFIG_NAME = "scheduler_config.json"
MODEL_INDEX_NAME = "model_index.json"
# The built-in default model shipped with the add-on (the tiny config trained by `make train-default`);
# the environment variable overrides its location (empty: no default model, e.g. for tests).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "default"
DEFAULT_MODEL_ENV = "TRACK2VIEW_DEFAULT_MODEL"
# The camera-embedding baseline trained with the default model's data and budget (`make train-default`), kept
# in the repository for `t2v eval`; not part of the extension (the manifest's build excludes it).
CAMERA_BASELINE_DIR = DEFAULT_MODEL_DIR.parent / "baselines" / "camera"


def default_model_folder() -> Path | None:
    """The built-in default model folder (``models/default`` of the repo/extension, or ``$TRACK2VIEW_DEFAULT_MODEL``),
    or None if there is none."""
    override = os.environ.get(DEFAULT_MODEL_ENV)
    folder = DEFAULT_MODEL_DIR if override is None else (Path(override) if override else None)
    return folder if folder is not None and (folder / MODEL_INDEX_NAME).is_file() else None


def camera_baseline_folder() -> Path | None:
    """The committed camera-embedding baseline (``models/baselines/camera`` of the repo), or None if absent."""
    return CAMERA_BASELINE_DIR if (CAMERA_BASELINE_DIR / MODEL_INDEX_NAME).is_file() else None


def refuse_pickles(path: Path) -> None:
    """Raise :class:`UserError` if ``path`` is, or a folder that contains, a pickle-based checkpoint."""
    candidates = [path] if path.is_file() else sorted(path.rglob("*"))
    for p in candidates:
        if p.suffix.lower() in PICKLE_SUFFIXES:
            raise UserError(f"{p}: pickle-based checkpoints are refused (they can run arbitrary code); "
                            f"convert the weights to safetensors with save_pretrained(safe_serialization=True)")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; :class:`UserError` naming the file if missing or unreadable."""
    if not path.is_file():
        raise UserError(f"{path} is missing: not a complete model folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a JSON object")
    return data


def weights_files(folder: Path) -> list[Path]:
    """The safetensors files of one component folder, checked to be readable safetensors."""
    index = folder / WEIGHTS_INDEX_NAME
    if index.is_file():
        names = sorted(set(read_json(index).get("weight_map", {}).values()))
        files = [folder / n for n in names]
    else:
        files = [folder / WEIGHTS_NAME]
    for f in files:
        if not f.is_file():
            raise UserError(f"{f} is missing: the component's weights must be saved as safetensors")
        try:
            with safe_open(f, framework="pt") as handle:
                handle.keys()
        except Exception as exc:  # safetensors raises its own error types for a corrupt header
            raise UserError(f"{f} is not a readable safetensors file ({exc})") from exc
    return files


def load_model_component(cls: type, folder: Path, torch_dtype: torch.dtype | None = None,
                         not_stored: tuple[str, ...] = (), **overrides: Any):
    """``cls.from_pretrained(folder)`` (a diffusers ``ModelMixin``), local safetensors only.

    ``overrides`` replace config values (e.g. the Track2View additions when loading a Wan folder);
    ``not_stored`` names top-level parameters the weights may lack (set by the caller afterwards).
    Every other parameter must come from the weights, and every stored tensor must have a place: a
    config that asks for more or fewer layers than were saved is refused, never filled at random.

    Raises:
        UserError: naming the missing/corrupt file, or the weights file whose tensors do not fit
            ``config.json``.
    """
    if not folder.is_dir():
        raise UserError(f"{folder} is missing: not a complete model folder")
    refuse_pickles(folder)
    read_json(folder / MODEL_CONFIG_NAME)
    files = weights_files(folder)
    try:
        model = cls.from_pretrained(os.fspath(folder), use_safetensors=True, local_files_only=True,
                                    torch_dtype=torch_dtype, **overrides)
    except (OSError, ValueError, RuntimeError, TypeError, KeyError) as exc:
        raise UserError(f"{files[0]} does not fit {folder / MODEL_CONFIG_NAME} "
                        f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc
    stored = set()
    for f in files:
        with safe_open(f, framework="pt") as handle:
            stored |= set(handle.keys())
    expected = set(model.state_dict())
    missing = sorted(k for k in expected - stored if k.split(".")[0] not in not_stored)
    unexpected = sorted(stored - expected)
    if missing or unexpected:
        detail = (f"{len(missing)} tensors the config asks for are not in the weights (e.g. {missing[0]})"
                  if missing else f"{len(unexpected)} stored tensors have no place in it (e.g. {unexpected[0]})")
        raise UserError(f"{files[0]} does not fit {folder / MODEL_CONFIG_NAME}: {detail}; the config was "
                        f"changed or belongs to other weights")
    return model


def load_scheduler(cls: type, folder: Path):
    """``cls.from_pretrained(folder)`` for a scheduler, with :class:`UserError` naming the file on failure."""
    config = folder / SCHEDULER_CONFIG_NAME
    read_json(config)
    try:
        return cls.from_pretrained(os.fspath(folder), local_files_only=True)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{config} is not a valid {cls.__name__} config ({exc})") from exc
