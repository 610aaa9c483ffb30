"""Rectified-flow (flow-matching) training targets that match how the pipeline samples.

The pipeline integrates ``dx/dσ = v`` with :class:`diffusers.FlowMatchEulerDiscreteScheduler`
from σ = 1 (noise) to σ = 0, calling the transformer with ``timestep = σ · num_train_timesteps``
on ``σ`` values shifted by ``σ' = shift·σ / (1 + (shift − 1)·σ)``. Training therefore uses

- ``x_t = (1 − σ)·x_0 + σ·ε`` with ε ~ N(0, I),
- target velocity ``ε − x_0`` (what the Euler step ``x ← x + (σ_next − σ)·v`` expects),
- σ drawn uniformly in (0, 1) and then shifted with the scheduler config's ``shift``, so training
  weights the noise levels the way sampling visits them.
"""

from __future__ import annotations

import torch


def sample_sigmas(batch: int, shift: float, generator: torch.Generator) -> torch.Tensor:
    """(batch,) noise levels σ in (0, 1): uniform, then shifted like the scheduler's timesteps."""
    u = torch.rand(batch, generator=generator).clamp(1e-4, 1.0 - 1e-4)
    return shift * u / (1.0 + (shift - 1.0) * u)


def noisy_latents(x0: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """``x_t = (1 − σ)·x_0 + σ·ε`` for (B, C, F, H, W) latents and (B,) σ."""
    s = sigmas.view(-1, *([1] * (x0.dim() - 1))).to(x0)
    return (1.0 - s) * x0 + s * noise


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The flow-matching target ``ε − x_0``."""
    return noise - x0


def scheduler_timesteps(sigmas: torch.Tensor, num_train_timesteps: int) -> torch.Tensor:
    """σ → the transformer's ``timestep`` (``σ · num_train_timesteps``, scheduler units)."""
    return sigmas * num_train_timesteps
