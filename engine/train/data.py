"""Curated samples (:mod:`..curation.samples`) → what the trainers consume.

- :func:`split_samples`: a held-out validation split by *clip* (all pairs of a source clip stay on
  one side), deterministic in the sorted sample ids.
- :class:`PairLatents` / :func:`encode_pairs`: every pair encoded once with the (frozen) VAE at the
  training size through :meth:`Track2ViewPipeline.encode_source` — the pipeline's own code path —
  and cached in one safetensors file keyed by the VAE's weights (a big speed win: the VAE never
  runs inside the transformer's training loop).
- :func:`draw_batch`: a batch of pair indices and a latent frame window (a prefix of the clip:
  the Wan VAE's first latent frame encodes video frame 0 alone, so windows start there).

Static and dynamic pairs are mixed: every training pair is drawn with equal probability.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..curation.samples import Sample, load_sample, sample_folders
from ..errors import UserError
from ..geometry.camera import CameraTrack
from ..io.atomic import atomic_file
from ..io.tracks import Tracks
from ..jobs import Progress
from ..model.track_inputs import median_source_depth

VALIDATION_FRACTION = 0.1  # share of clips held out (at least one clip when there are two or more)
LATENT_CACHE_PREFIX = ".latents-"


def clip_of(sample: Path) -> str:
    """The clip a sample belongs to: its source view's parent folder name (``<source>__<target>`` id)."""
    meta = json.loads((sample / "meta.json").read_text())
    return Path(meta["source"]).parent.name or sample.name.split("__")[0]


def split_samples(root: str | os.PathLike, validation_fraction: float = VALIDATION_FRACTION
                  ) -> tuple[list[Path], list[Path]]:
    """(train, validation) sample folders of dataset ``root``; validation = the last clips by id.

    Raises:
        UserError: ``root`` holds no curated sample.
    """
    folders = sample_folders(root)
    if not folders:
        raise UserError(f"--data {root} holds no curated samples; make them with `t2v curate --out {root}`")
    clips = sorted({clip_of(f) for f in folders})
    n_val = 0 if len(clips) < 2 else max(1, int(round(len(clips) * validation_fraction)))
    held = set(clips[len(clips) - n_val:])
    return [f for f in folders if clip_of(f) not in held], [f for f in folders if clip_of(f) in held]


def frame_count(total: int, temporal_factor: int) -> int:
    """The longest ``1 + k·temporal_factor`` ≤ ``total`` (what the Wan VAE encodes without padding)."""
    if total < 1:
        raise UserError("a training sample has no frames")
    return 1 + (total - 1) // temporal_factor * temporal_factor


@dataclasses.dataclass
class PairLatents:
    """One encoded training pair: normalised latents (C, F, h, w) of the source and the target view,
    its paired ``tracks`` and ``target_camera`` over the encoded video frames, and ``depth_scale``."""

    id: str
    source: torch.Tensor
    target: torch.Tensor
    tracks: Tracks
    target_camera: CameraTrack
    depth_scale: float


def vae_fingerprint(vae: torch.nn.Module) -> str:
    """A short hash of the VAE's weights (names the latent cache)."""
    h = hashlib.sha256()
    for name, value in sorted(vae.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()[:16]


def _clip_frames(sample: Sample, frames: int) -> tuple[Tracks, CameraTrack]:
    tracks = sample.tracks.subset(slice(0, frames))
    cam = sample.target_camera
    return tracks, CameraTrack(cam.K[:frames], cam.w2c[:frames], cam.size, cam.fps)


def encode_pairs(pipe, folders: list[Path], size: int, cache_dir: str | os.PathLike | None = None,
                 progress: Progress | None = None) -> list[PairLatents]:
    """Encode every sample of ``folders`` at ``size``×``size`` with ``pipe``'s VAE (cached); ``progress``
    hears of each.

    The cache file ``<cache_dir>/.latents-<vae hash>-<size>.safetensors`` holds the latents of
    every sample encoded so far (new samples are added, nothing is re-encoded).
    """
    factor = pipe.temporal_factor
    cache = None
    stored: dict[str, torch.Tensor] = {}
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{LATENT_CACHE_PREFIX}{vae_fingerprint(pipe.vae)}-{size}.safetensors"
        if cache.is_file():
            stored = load_file(cache)
    out, changed = [], False
    device = next(pipe.vae.parameters()).device
    for i, folder in enumerate(folders):
        sample = load_sample(folder)
        frames = frame_count(min(len(sample.source), len(sample.target), sample.tracks.num_frames), factor)
        key = f"{folder.name}:{frames}"
        if f"{key}:source" not in stored:
            with torch.no_grad():
                stored[f"{key}:source"] = pipe.encode_source(sample.source[:frames], size, size, device)[0].cpu()
                stored[f"{key}:target"] = pipe.encode_source(sample.target[:frames], size, size, device)[0].cpu()
            changed = True
        tracks, camera = _clip_frames(sample, frames)
        out.append(PairLatents(folder.name, stored[f"{key}:source"], stored[f"{key}:target"], tracks, camera,
                               median_source_depth(tracks)))
        if progress is not None:
            progress.count(i + 1, len(folders), f"encoded {i + 1}/{len(folders)} pairs ({folder.name})")
    if cache is not None and changed:
        with atomic_file(cache) as tmp:
            save_file({k: v.contiguous() for k, v in stored.items()}, tmp)
    return out


def draw_batch(num_pairs: int, batch_size: int, num_latent_frames: int, min_latent_frames: int,
               generator: torch.Generator) -> tuple[np.ndarray, int]:
    """(pair indices (batch_size,), latent frames F of the window) for one training step."""
    index = torch.randint(num_pairs, (batch_size,), generator=generator).numpy()
    low = min(min_latent_frames, num_latent_frames)
    frames = int(torch.randint(low, num_latent_frames + 1, (1,), generator=generator))
    return index, frames
