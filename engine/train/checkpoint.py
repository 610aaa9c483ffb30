"""Training checkpoints without pickle: safetensors tensors + one JSON file.

A checkpoint folder ``<out>/checkpoints/step_<N>/`` holds

- ``model.safetensors``: the trained modules' state dicts, keys prefixed ``<module>.``;
- ``optimizer.safetensors``: the AdamW per-parameter state (``state.<index>.<name>``);
- ``state.json``: ``{"format", "step", "seed", "stage", "param_groups", "extra"}``.

Randomness is a pure function of (seed, step) (:func:`step_generator`), so a run resumed from a
checkpoint draws exactly the batches and noise an uninterrupted run would have drawn. Folders are
written atomically; ``latest_checkpoint`` picks the highest complete step.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..errors import UserError
from ..io.atomic import atomic_dir

CHECKPOINT_FORMAT = 1
CHECKPOINTS_DIR = "checkpoints"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
_STEP_DIR = re.compile(r"^step_(\d+)$")
_SEED_STRIDE = 1_000_003  # keeps (seed, step) streams apart


def step_generator(seed: int, step: int) -> torch.Generator:
    """The CPU generator of training step ``step`` of a run seeded ``seed``."""
    return torch.Generator("cpu").manual_seed(int(seed) * _SEED_STRIDE + int(step))


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    sd = optimizer.state_dict()
    tensors = {}
    for index, state in sd["state"].items():
        for name, value in state.items():
            value = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"state.{index}.{name}"] = value.detach().cpu().contiguous()
    return tensors, sd["param_groups"]


def save_checkpoint(out: str | os.PathLike, step: int, seed: int, stage: str,
                    modules: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``<out>/checkpoints/step_<step>/`` atomically and return it."""
    folder = Path(out) / CHECKPOINTS_DIR / f"step_{step:07d}"
    model = {f"{name}.{k}": v.detach().cpu().contiguous() for name, m in modules.items()
             for k, v in m.state_dict().items()}
    opt_tensors, groups = _optimizer_tensors(optimizer)
    with atomic_dir(folder) as tmp:
        save_file(model, tmp / MODEL_FILE)
        save_file(opt_tensors or {"empty": torch.zeros(0)}, tmp / OPTIMIZER_FILE)
        (tmp / STATE_FILE).write_text(json.dumps({"format": CHECKPOINT_FORMAT, "step": step, "seed": seed,
                                                  "stage": stage, "param_groups": groups,
                                                  "extra": extra or {}}, indent=1))
    return folder


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    """The complete checkpoint folder with the highest step under ``<out>/checkpoints``, or None."""
    root = Path(out) / CHECKPOINTS_DIR
    found = [(int(m.group(1)), p) for p in root.glob("step_*")
             if (m := _STEP_DIR.match(p.name)) and (p / STATE_FILE).is_file()] if root.is_dir() else []
    return max(found)[1] if found else None


def load_checkpoint(folder: str | os.PathLike, modules: dict[str, torch.nn.Module],
                    optimizer: torch.optim.Optimizer, stage: str) -> dict[str, Any]:
    """Restore ``modules`` and ``optimizer`` from a checkpoint folder; returns its state.json.

    Raises:
        UserError: naming the folder if it is of another stage/format or does not fit the modules.
    """
    folder = Path(folder)
    try:
        state = json.loads((folder / STATE_FILE).read_text())
        model = load_file(folder / MODEL_FILE)
        opt_tensors = load_file(folder / OPTIMIZER_FILE)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise UserError(f"{folder}: unreadable checkpoint ({exc})") from exc
    if state.get("format") != CHECKPOINT_FORMAT or state.get("stage") != stage:
        raise UserError(f"{folder}: a {state.get('stage')!r} checkpoint (format {state.get('format')}), "
                        f"this run trains {stage!r}; use another --out")
    for name, module in modules.items():
        prefix = f"{name}."
        sub = {k[len(prefix):]: v for k, v in model.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(sub, strict=True)
        except RuntimeError as exc:
            raise UserError(f"{folder / MODEL_FILE}: does not fit the {name} of this run "
                            f"({str(exc).splitlines()[0]})") from exc
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in opt_tensors.items():
        if key == "empty":
            continue
        _, index, name = key.split(".", 2)
        opt_state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
    return state
