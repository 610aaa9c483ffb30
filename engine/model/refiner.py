"""The full-resolution refiner: fuses the dense warp of the footage with the transformer's coarse view.

The latent transformer generates the new view at a small size through a small VAE, so on its own it
loses the detail of the footage (the tiny config's VAE reconstructs at about 18 dB). The footage's
own pixels reach the target view through the parameter-free dense warp (:mod:`..warp`: every source
pixel moved along its depth, holes filled from neighbouring frames along the tracks). The refiner
decides per target pixel, at the target camera's own resolution, what to keep:

- ``warp`` (B, 3, H, W) in [0, 1]: the warped footage; ``covered`` (B, 1, H, W) in {0, 1}: where
  the warp has content (1 − its hole mask);
- ``coarse`` (B, 3, H, W) in [0, 1]: the transformer's decoded view, upsampled to (H, W);
- a parameter-free pull-push fill of the warp into its holes (:func:`pull_push`) is computed here.

A small U-Net over those ten channels predicts three maps: ``keep`` (covered pixels take the warp;
near seams the net may lower it), ``mix`` (in what the warp does not give: coarse view vs pull-push
fill) and an RGB residual for the filled part::

    fill = mix · coarse + (1 − mix) · pull_push(warp) + residual
    out  = keep · covered · warp + (1 − keep · covered) · fill

The residual conv is zero-initialised and ``keep`` starts near 1, so an untrained refiner already
returns the warp where it has content and an even blend of the coarse view and the pull-push fill in
the holes: that is what the ``wan1.3b`` config starts from before its own training.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

INPUT_CHANNELS = 10  # warp 3, covered 1, coarse 3, pull-push fill 3
KEEP_BIAS = 4.0  # initial logit of "keep the warp" (sigmoid 0.982)


def pull_push(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Fill ``values`` (B, C, H, W) where ``weight`` (B, 1, H, W) in [0, 1] is low, by normalised
    averaging over an image pyramid; where the weight is 1 the value is kept."""
    if min(values.shape[-2:]) <= 1:
        total = weight.sum((-2, -1), keepdim=True)
        mean = (values * weight).sum((-2, -1), keepdim=True) / total.clamp_min(1e-6)
        return torch.where(total > 0, mean, torch.full_like(mean, 0.5)).expand_as(values)
    sums = F.avg_pool2d(values * weight, 2, ceil_mode=True)
    mass = F.avg_pool2d(weight, 2, ceil_mode=True)
    coarse = pull_push(sums / mass.clamp_min(1e-6), (4.0 * mass).clamp(max=1.0))
    up = F.interpolate(coarse, size=values.shape[-2:], mode="bilinear", align_corners=False)
    return weight * values + (1.0 - weight) * up


def refiner_inputs(warp: np.ndarray, hole: np.ndarray, coarse: np.ndarray, device: torch.device | str = "cpu",
                   dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One frame's ``(warp, covered, coarse)`` refiner inputs, each (1, C, H, W), from the warp's image
    ``warp`` (H, W, 3) uint8, its ``hole`` mask (H, W) bool and the coarse view (h, w, 3) (uint8, or
    float in [0, 1]), which is resized (bicubic) to (H, W)."""
    H, W = hole.shape
    coarse = coarse.astype(np.float32) / 255.0 if coarse.dtype == np.uint8 else coarse.astype(np.float32)
    if coarse.shape[:2] != (H, W):
        coarse = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    tensors = (warp.astype(np.float32) / 255.0, (~hole).astype(np.float32)[..., None], np.clip(coarse, 0, 1))
    return tuple(torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].to(device, dtype) for x in tensors)


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.LeakyReLU(0.2))


class Track2ViewRefiner(ModelMixin, ConfigMixin):
    """The fusion U-Net of the module docstring.

    Args:
        hidden_dims: channels at full, half and quarter resolution.
        bottleneck_blocks: 3×3 convolutions at quarter resolution.
    """

    @register_to_config
    def __init__(self, hidden_dims: tuple[int, int, int] = (16, 32, 48), bottleneck_blocks: int = 2):
        super().__init__()
        c0, c1, c2 = hidden_dims
        self.stem = _conv(INPUT_CHANNELS, c0)
        self.down1 = nn.Sequential(_conv(c0, c1, 2), _conv(c1, c1))
        self.down2 = nn.Sequential(_conv(c1, c2, 2), *[_conv(c2, c2) for _ in range(bottleneck_blocks)])
        self.up1 = _conv(c2 + c1, c1)
        self.up0 = _conv(c1 + c0, c0)
        self.head = nn.Conv2d(c0, 5, 3, 1, 1)  # residual RGB, keep logit, mix logit
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, KEEP_BIAS, 0.0]))

    @property
    def size_multiple(self) -> int:
        """Inputs are padded to a multiple of this (two stride-2 levels)."""
        return 4

    def forward(self, warp: torch.Tensor, covered: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """``warp``, ``coarse`` (B, 3, H, W) in [0, 1], ``covered`` (B, 1, H, W) in {0, 1} → (B, 3, H, W) in [0, 1]."""
        H, W = warp.shape[-2:]
        m = self.size_multiple
        pad = (0, (-W) % m, 0, (-H) % m)
        warp, covered, coarse = (F.pad(x, pad, mode="replicate") for x in (warp, covered, coarse))
        warp = warp * covered
        fill = pull_push(warp, covered)
        x = torch.cat([warp, covered, coarse, fill], 1) - 0.5
        f0 = self.stem(x)
        f1 = self.down1(f0)
        f2 = self.down2(f1)
        u1 = self.up1(torch.cat([F.interpolate(f2, size=f1.shape[-2:], mode="bilinear", align_corners=False), f1], 1))
        u0 = self.up0(torch.cat([F.interpolate(u1, size=f0.shape[-2:], mode="bilinear", align_corners=False), f0], 1))
        residual, keep, mix = self.head(u0).split((3, 1, 1), 1)
        keep = torch.sigmoid(keep) * covered
        mix = torch.sigmoid(mix)
        out = keep * warp + (1.0 - keep) * (mix * coarse + (1.0 - mix) * fill + residual)
        return out[..., :H, :W].clamp(0.0, 1.0)
