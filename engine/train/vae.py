"""Stage 1 of the tiny model: train the VAE (:class:`diffusers.AutoencoderKLWan`) on frame windows.

A randomly initialised VAE decodes noise, so a transformer trained on its latents cannot produce
images: the tiny model's VAE is trained first, on the views (source and target) of the training
pairs. Each step draws ``batch`` windows of ``1 + k·4`` frames (a random start, a random square
crop) and minimises ``L1 + MSE`` of the reconstruction (images in [−1, 1]) plus ``kl_weight`` × the
KL of the posterior. After training the per-channel latent mean/std of the training views are
written into the VAE config (``latents_mean``/``latents_std``), so the pipeline's normalised
latents have unit scale, as flow matching from N(0, I) assumes.

Quality is reported as PSNR (dB, frames in [0, 1]) of encode → posterior mode → decode on the
held-out views at the training size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..curation.samples import load_sample
from .data import frame_count

DEFAULT_KL_WEIGHT = 1e-6


def load_views(folders: list[Path], size: int, temporal_factor: int) -> list[torch.Tensor]:
    """Every distinct view of the samples as (3, T, size, size) float32 in [−1, 1] (T = 1 + k·factor)."""
    views, seen = [], set()
    for folder in folders:
        sample = load_sample(folder)
        for name, frames in (("source", sample.source), ("target", sample.target)):
            key = sample.meta.get(name, f"{folder}:{name}")
            if key in seen:
                continue
            seen.add(key)
            frames = frames[:frame_count(len(frames), temporal_factor)]
            x = torch.from_numpy(np.ascontiguousarray(frames)).float().div(255.0).permute(0, 3, 1, 2)
            if x.shape[-2:] != (size, size):
                x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            views.append((x * 2.0 - 1.0).clamp(-1, 1).permute(1, 0, 2, 3).contiguous())
    return views


def draw_windows(views: list[torch.Tensor], batch: int, frames: int, crop: int,
                 generator: torch.Generator) -> torch.Tensor:
    """(batch, 3, frames, crop, crop) random windows (random view, start frame, crop position)."""
    out = []
    for _ in range(batch):
        v = views[int(torch.randint(len(views), (1,), generator=generator))]
        T, H, W = v.shape[1:]
        n = min(frames, T)
        t0 = int(torch.randint(T - n + 1, (1,), generator=generator))
        y0 = int(torch.randint(H - crop + 1, (1,), generator=generator))
        x0 = int(torch.randint(W - crop + 1, (1,), generator=generator))
        out.append(v[:, t0:t0 + n, y0:y0 + crop, x0:x0 + crop])
    return torch.stack(out)


def vae_loss(vae, x: torch.Tensor, generator: torch.Generator, kl_weight: float = DEFAULT_KL_WEIGHT
             ) -> torch.Tensor:
    """Reconstruction (L1 + MSE) + ``kl_weight`` · KL of one batch (B, 3, T, H, W) in [−1, 1]."""
    posterior = vae.encode(x).latent_dist
    z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
    recon = vae.decode(z).sample
    return (recon - x).abs().mean() + F.mse_loss(recon, x) + kl_weight * posterior.kl().mean() / z[0].numel()


@torch.no_grad()
def reconstruction_psnr(vae, views: list[torch.Tensor]) -> float:
    """Mean PSNR (dB, [0, 1] range) of encode → mode → decode over ``views`` (3, T, H, W)."""
    scores = []
    for v in views:
        recon = vae.decode(vae.encode(v[None]).latent_dist.mode()).sample[0].clamp(-1, 1)
        mse = float(((recon - v) / 2.0).pow(2).mean())
        scores.append(10.0 * np.log10(1.0 / max(mse, 1e-10)))
    return float(np.mean(scores))


@torch.no_grad()
def latent_statistics(vae, views: list[torch.Tensor]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the posterior modes of ``views``."""
    z = torch.cat([vae.encode(v[None]).latent_dist.mode().flatten(2) for v in views], dim=2)[0]
    return z.mean(dim=1).tolist(), z.std(dim=1).clamp_min(1e-3).tolist()
