"""The camera-embedding baseline (ReCamMaster-style): per-frame cameras → tokens added to both views.

The ablation of Track2View: the same DiT, data and budget, but conditioned on the cameras of the
source and the target view instead of paired tracks. For every frame of a view the camera is
described relative to the *source camera's first frame* (OpenCV axes):

- extrinsics: the 3×4 ``[R | t]`` of ``w2c_view[t] · w2c_src[0]⁻¹``, with ``t`` divided by the
  clip's depth scale (the median visible source depth, as for the track conditioner), so the
  features do not depend on the scene's units;
- intrinsics: ``fx / W, fy / H, cx / W, cy / H`` of that view's image (W, H pixels).

These :data:`CAMERA_FEATURES` = 16 numbers go through an MLP (plus a learned per-view offset) to
one token of width ``out_dim`` per frame, which is added to every token of that frame of that
view. The last layer is zero-initialised, so an untrained embedding adds nothing (as the track
conditioner). :class:`CameraEmbedding` takes the track conditioner's place in a
:class:`~.pipeline.Track2ViewPipeline` (component name ``conditioner``).
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from ..errors import UserError
from ..geometry.camera import CameraTrack

CAMERA_FEATURES = 16  # 12 of [R | t] + 4 normalised intrinsics


def camera_features(K: np.ndarray, w2c: np.ndarray, size: tuple[int, int], reference_w2c: np.ndarray,
                    depth_scale: float) -> np.ndarray:
    """Per-frame camera features (T, 16) float32 (see the module docstring).

    Args:
        K: (T, 3, 3) intrinsics in pixels of an image of ``size`` (W, H).
        w2c: (T, 4, 4) world-to-camera (OpenCV axes).
        reference_w2c: (4, 4) the source camera's first-frame w2c (the frame features are relative to).
        depth_scale: scene units that map to 1 (median visible source depth), > 0.
    """
    if not depth_scale > 0:
        raise UserError(f"camera features need a positive depth scale, got {depth_scale}")
    rel = np.asarray(w2c, np.float64) @ np.linalg.inv(np.asarray(reference_w2c, np.float64))
    extrinsics = rel[:, :3, :4].copy()
    extrinsics[:, :, 3] /= depth_scale
    W, H = size
    K = np.asarray(K, np.float64)
    intrinsics = np.stack([K[:, 0, 0] / W, K[:, 1, 1] / H, K[:, 0, 2] / W, K[:, 1, 2] / H], axis=-1)
    return np.concatenate([extrinsics.reshape(len(rel), 12), intrinsics], axis=-1).astype(np.float32)


def view_camera_features(source: CameraTrack, target: CameraTrack, depth_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, 16) features of the source and the target camera, both relative to the source's frame 0."""
    reference = source.w2c[0]
    return (camera_features(source.K, source.w2c, source.size, reference, depth_scale),
            camera_features(target.K, target.w2c, target.size, reference, depth_scale))


class CameraEmbedding(ModelMixin, ConfigMixin):
    """Camera features of both views → per-frame tokens (B, F, h, w, out_dim) (see the module docstring).

    Args:
        out_dim: token width E (the transformer's width).
        hidden_dim: width of the MLP.
    """

    @register_to_config
    def __init__(self, out_dim: int = 128, hidden_dim: int = 128) -> None:
        super().__init__()
        self.view_offset = nn.Parameter(torch.zeros(2, hidden_dim))  # source, target
        self.input = nn.Linear(CAMERA_FEATURES, hidden_dim)
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(hidden_dim, hidden_dim), nn.SiLU())
        self.output = nn.Linear(hidden_dim, out_dim)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def embed(self, features: torch.Tensor, view: int) -> torch.Tensor:
        """(B, F, 16) features of one view (0 source, 1 target) → (B, F, out_dim)."""
        return self.output(self.mlp(self.input(features) + self.view_offset[view]))

    def forward(self, cam_src: torch.Tensor, cam_tgt: torch.Tensor, height: int,
                width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, F, 16) features of each view → tokens (B, F, height, width, out_dim) of each view."""
        tokens = []
        for view, features in enumerate((cam_src, cam_tgt)):
            e = self.embed(features.float(), view)
            tokens.append(e[:, :, None, None, :].expand(-1, -1, height, width, -1))
        return tokens[0], tokens[1]
