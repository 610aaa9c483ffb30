"""The dual-view track conditioner: paired 3D point tracks → token grids of both views.

For every track (one 3D point seen in the source view and projected into the target view) the
conditioner

1. samples the source-video feature grid at the track's source position (bilinear, no weights);
2. encodes the track's xy and depth in both views with Fourier features (no weights);
3. projects both views into one token per frame and runs a small transformer along the track's
   time axis, attending only to frames where the track is observed, so occluded frames are
   filled from visible ones (learned);
4. scatters every track's feature into the token grid of the source view (at its source position)
   and of the target view (at its target position): visibility-masked mean per cell, nearest
   cell (no weights), then projects each grid to ``out_dim`` with a zero-initialised linear map.

Axis letters used in shapes: B batch, T frames, N tracks, C source feature channels, H×W token
grid, D hidden width of the track transformer, E ``out_dim``.

Coordinates: track positions are normalised image coordinates in (x, y) with the
``align_corners=False`` convention of :func:`torch.nn.functional.grid_sample`: −1 is the
left/top *edge* of the image, +1 the right/bottom edge, so pixel ``(0, 0)`` (its centre) of a
W×H image is at ``(1/W − 1, 1/H − 1)``. A position outside [−1, 1] in a view means the point is
outside that view's frame: by rule it is invisible there (whatever ``vis`` says). Depth is
camera-space z divided by the caller's normalisation (the median visible source depth), so it
is unitless and ≈ 1 for a typical point.

The scatter must stay exact when many tracks land in one cell (repeated indices): the
TorchScript exporter translates ``index_add``/``index_put(accumulate=True)`` silently wrong
then, and ONNX Runtime's CPU ``ScatterND(reduction="add")``, though fast, races between its
threads and loses updates (measured with ORT 1.32 on 2 and 4 threads; bench/bench_conditioner.py
shows it). Eager PyTorch uses ``scatter_add``; the ONNX graph sums per cell over the tracks
sorted by cell (one single-channel ``ScatterElements`` for the counts, a float64 ``CumSum``),
which is exact and ~3× faster in ONNX Runtime than a K-channel ``ScatterElements``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME
from safetensors import SafetensorError
from safetensors.torch import load_file as load_safetensors

from ..errors import UserError

# A view observes a track at a frame when its visibility exceeds this (inputs are 0/1 floats).
VISIBILITY_THRESHOLD = 0.5
# Depths are clamped to this before the log in the depth encoding (normalised depth, unitless).
MIN_ENCODED_DEPTH = 1e-3
# Additive attention bias for frames a track is not observed in (exp(-1e4) == 0 in fp16/fp32).
MASKED_ATTENTION_BIAS = -1e4
# Wavelength scale of the sinusoidal frame-index embedding (as in the Transformer paper).
FRAME_EMBEDDING_MAX_PERIOD = 10000.0

# Hyperparameters of the large model: a conditioner that feeds a Wan-2.1-14B-sized DiT (hidden
# size 5120) from its 16-channel VAE latents. Our sizing for the large model, not numbers taken
# from the paper: ``TrackConditioner(**LARGE_CONFIG)`` or
# ``TrackConditioner.from_large_config(feature_dim=..., out_dim=...)``.
LARGE_CONFIG = {
    "feature_dim": 16,
    "out_dim": 5120,
    "hidden_dim": 512,
    "num_layers": 4,
    "num_heads": 8,
    "mlp_ratio": 4.0,
    "num_xy_frequencies": 10,
    "num_depth_frequencies": 6,
}


def fourier_encode(x: torch.Tensor, num_frequencies: int) -> torch.Tensor:
    """Fourier features of ``x``: ``[x, sin(2^k π x), cos(2^k π x)]`` for k < ``num_frequencies``.

    Args:
        x: (..., K) values; for xy the normalised position in [−1, 1].
        num_frequencies: number of octaves F.

    Returns:
        (..., K * (2F + 1)) features, same dtype as ``x``.
    """
    freqs = math.pi * 2.0 ** torch.arange(num_frequencies, device=x.device, dtype=x.dtype)
    angles = (x[..., None] * freqs).flatten(-2)  # (..., K*F)
    return torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=-1)


def frame_embedding(num_frames: int, dim: int, like: torch.Tensor) -> torch.Tensor:
    """Sinusoidal embedding of the frame index 0..T−1: (T, ``dim``), dtype/device of ``like``."""
    half = dim // 2
    t = torch.arange(num_frames, device=like.device, dtype=like.dtype)
    freqs = torch.exp(
        -math.log(FRAME_EMBEDDING_MAX_PERIOD) * torch.arange(half, device=like.device, dtype=like.dtype) / half
    )
    angles = t[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    return F.pad(emb, (0, dim - 2 * half))


def observed_mask(uv: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Where a view observes a track: visible and inside the frame.

    Args:
        uv: (B, T, N, 2) normalised positions in that view.
        vis: (B, T, N) visibility in {0, 1}.

    Returns:
        (B, T, N) bool: ``vis > VISIBILITY_THRESHOLD`` and both coordinates in [−1, 1].
    """
    inside = (uv.abs() <= 1.0).all(dim=-1)
    return (vis > VISIBILITY_THRESHOLD) & inside


def _cell_sums_scatter(payload: torch.Tensor, cell: torch.Tensor, num_cells: int) -> torch.Tensor:
    """Per-cell sums with ``scatter_add``: payload (F, N, K), cell (F, N) int64 → (F, num_cells, K)."""
    index = cell[..., None].expand(-1, -1, payload.shape[-1])
    return payload.new_zeros(payload.shape[0], num_cells, payload.shape[-1]).scatter_add(1, index, payload)


def _cell_sums_sorted(payload: torch.Tensor, cell: torch.Tensor, num_cells: int) -> torch.Tensor:
    """Per-cell sums as differences of a float64 running sum over the tracks sorted by cell.

    Same result as :func:`_cell_sums_scatter` (up to float32 rounding) with one scatter of a
    single channel (the track count per cell) instead of K channels: in ONNX Runtime the sort,
    row gathers and ``CumSum`` are ~3× faster than the element-wise ``ScatterElements``.
    """
    frames, tracks, width = payload.shape
    order = torch.argsort(cell, dim=1)  # (F, N): tracks sorted by cell
    rows = (order + torch.arange(frames, device=cell.device)[:, None] * tracks).reshape(-1)
    ordered = payload.reshape(frames * tracks, width)[rows].reshape(frames, tracks, width).double()
    running = torch.cat([ordered.new_zeros(frames, 1, width), ordered.cumsum(dim=1)], dim=1)  # (F, N+1, K)
    ones = torch.ones_like(cell, dtype=payload.dtype)
    per_cell = payload.new_zeros(frames, num_cells).scatter_add(1, cell, ones)  # tracks per cell
    end = per_cell.cumsum(dim=1).long()  # (F, cells): one past each cell's last sorted track
    start = end - per_cell.long()
    base = torch.arange(frames, device=cell.device)[:, None] * (tracks + 1)
    running = running.reshape(frames * (tracks + 1), width)
    sums = running[(end + base).reshape(-1)] - running[(start + base).reshape(-1)]
    return sums.reshape(frames, num_cells, width).to(payload.dtype)


def splat_mean(values: torch.Tensor, uv: torch.Tensor, observed: torch.Tensor, height: int,
               width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scatter track features into an H×W grid: mean over the observed tracks in each cell.

    Each track goes to the cell that contains its position (nearest cell in the
    ``align_corners=False`` convention); many tracks may share a cell. Eager PyTorch sums with
    ``scatter_add``; the ONNX export traces :func:`_cell_sums_sorted` instead, which is exact
    with repeated indices in multi-threaded ONNX Runtime and faster there (see the module
    docstring). The parity tests check that both agree.

    Args:
        values: (B, T, N, D) per-track features.
        uv: (B, T, N, 2) normalised (x, y) positions; must be finite.
        observed: (B, T, N) bool; unobserved tracks contribute nothing.
        height, width: grid size H, W.

    Returns:
        ``(mean, occupied)``: (B, T, H*W, D) mean feature per cell (0 in empty cells) and
        (B, T, H*W, 1) 1.0 where at least one observed track landed, else 0.0.
    """
    batch, frames, num_tracks, dim = values.shape
    weight = observed.to(values.dtype)[..., None]  # (B, T, N, 1)
    col = torch.floor((uv[..., 0] + 1.0) * (0.5 * width)).clamp(0, width - 1)
    row = torch.floor((uv[..., 1] + 1.0) * (0.5 * height)).clamp(0, height - 1)
    cell = (row * width + col).long().reshape(batch * frames, num_tracks)  # index into the frame's cells
    payload = torch.cat([values * weight, weight], dim=-1)  # (B, T, N, D+1): weighted sum and count
    payload = payload.reshape(batch * frames, num_tracks, dim + 1)
    cell_sums = _cell_sums_sorted if torch.onnx.is_in_onnx_export() else _cell_sums_scatter
    sums = cell_sums(payload, cell, height * width).reshape(batch, frames, height * width, dim + 1)
    count = sums[..., dim:]
    return sums[..., :dim] / count.clamp(min=1.0), (count > 0.5).to(values.dtype)


class TrackTimeBlock(nn.Module):
    """Pre-norm transformer block along one track's time axis (self-attention + MLP).

    Args:
        dim: token width D.
        num_heads: attention heads (``dim`` must be divisible by it).
        mlp_ratio: hidden width of the MLP relative to ``dim``.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.num_heads = num_heads

        # 1. Self-attention over frames
        self.norm1 = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * dim)
        self.to_out = nn.Linear(dim, dim)

        # 2. Feed-forward
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim)
        )

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor) -> torch.Tensor:
        """hidden_states (S, T, D) with S = B*N tracks; attention_bias (S, 1, 1, T) additive."""
        seqs, frames, dim = hidden_states.shape
        x = hidden_states.reshape(seqs * frames, dim)  # 2-D, so that ONNX gets Gemm (matmul + bias)

        # 1. Self-attention over frames
        qkv = self.to_qkv(self.norm1(x))
        qkv = qkv.reshape(seqs, frames, 3, self.num_heads, dim // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attention_bias)
        x = x + self.to_out(attn.transpose(1, 2).reshape(seqs * frames, dim))

        # 2. Feed-forward
        x = x + self.ff(self.norm2(x))
        return x.reshape(seqs, frames, dim)


class TrackConditioner(ModelMixin, ConfigMixin):
    r"""Dual-view track conditioner (see the module docstring for the method and conventions).

    The default configuration is the tiny CPU model; :data:`LARGE_CONFIG` is the large one.

    Args:
        feature_dim (`int`, defaults to 16): channels C of the source feature grid.
        out_dim (`int`, defaults to 128): width E of the output tokens (the DiT's hidden size).
        hidden_dim (`int`, defaults to 64): width D of the per-track transformer.
        num_layers (`int`, defaults to 2): transformer blocks along the time axis.
        num_heads (`int`, defaults to 4): attention heads (``hidden_dim`` divisible by it).
        mlp_ratio (`float`, defaults to 4.0): MLP width relative to ``hidden_dim``.
        num_xy_frequencies (`int`, defaults to 6): Fourier octaves for the normalised xy.
        num_depth_frequencies (`int`, defaults to 4): Fourier octaves for the log depth.
    """

    _no_split_modules = ["TrackTimeBlock"]

    @register_to_config
    def __init__(
        self,
        feature_dim: int = 16,
        out_dim: int = 128,
        hidden_dim: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        num_xy_frequencies: int = 6,
        num_depth_frequencies: int = 4,
    ):
        super().__init__()
        if hidden_dim % num_heads:
            raise UserError(f"TrackConditioner: hidden_dim={hidden_dim} is not divisible by num_heads={num_heads}")
        xy_dim = 2 * (2 * num_xy_frequencies + 1)
        depth_dim = 2 * num_depth_frequencies + 1

        # 1. Per-view input projections and the learned "not observed in this view" tokens
        self.proj_src = nn.Linear(feature_dim + xy_dim + depth_dim, hidden_dim)
        self.proj_tgt = nn.Linear(xy_dim + depth_dim, hidden_dim)
        self.unobserved_src = nn.Parameter(torch.randn(hidden_dim) * 0.02)
        self.unobserved_tgt = nn.Parameter(torch.randn(hidden_dim) * 0.02)

        # 2. Transformer along each track's time axis
        self.blocks = nn.ModuleList([TrackTimeBlock(hidden_dim, num_heads, mlp_ratio) for _ in range(num_layers)])
        self.norm_out = nn.LayerNorm(hidden_dim)

        # 3. Per-view output projections of the token grids, zero-initialised: adds nothing untrained
        self.proj_out_src = nn.Linear(hidden_dim, out_dim)
        self.proj_out_tgt = nn.Linear(hidden_dim, out_dim)
        for proj in (self.proj_out_src, self.proj_out_tgt):
            nn.init.zeros_(proj.weight)
            nn.init.zeros_(proj.bias)

    @classmethod
    def from_large_config(cls, **overrides) -> TrackConditioner:
        """A randomly initialised large model (:data:`LARGE_CONFIG`, with ``overrides`` applied)."""
        return cls(**{**LARGE_CONFIG, **overrides})

    def _encode_view(self, uv: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Fourier features of (B, T, N, 2) xy and (B, T, N) depth → (B, T, N, xy_dim + depth_dim)."""
        log_depth = torch.log(depth.clamp(min=MIN_ENCODED_DEPTH))[..., None]
        return torch.cat([fourier_encode(uv, self.config.num_xy_frequencies),
                          fourier_encode(log_depth, self.config.num_depth_frequencies)], dim=-1)

    def forward(
        self,
        src_features: torch.Tensor,
        uv_src: torch.Tensor,
        uv_tgt: torch.Tensor,
        depth_src: torch.Tensor,
        depth_tgt: torch.Tensor,
        vis_src: torch.Tensor,
        vis_tgt: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Turn paired tracks into token grids for the source and the target view.

        Inputs are checked with :func:`check_conditioner_inputs` first (skipped while tracing
        for ONNX export).

        Args:
            src_features: (B, T, C, H, W) source-video features, C = ``feature_dim``.
            uv_src: (B, T, N, 2) source-view positions, normalised (x, y) in [−1, 1]
                (``align_corners=False``); outside [−1, 1] = outside the frame = not observed.
            uv_tgt: (B, T, N, 2) target-view positions, same convention.
            depth_src: (B, T, N) source camera-space depth / the caller's normalisation.
            depth_tgt: (B, T, N) target camera-space depth, same normalisation.
            vis_src: (B, T, N) source visibility in {0, 1}.
            vis_tgt: (B, T, N) target visibility in {0, 1}.

        Returns:
            ``(tokens_src, tokens_tgt)``: two (B, T, H, W, E) tensors, E = ``out_dim``, on the
            (H, W) grid of ``src_features``; cells no observed track lands in are exactly 0.
        """
        if not torch.jit.is_tracing() and not torch.compiler.is_compiling():
            check_conditioner_inputs(src_features, uv_src, uv_tgt, depth_src, depth_tgt, vis_src, vis_tgt,
                                     feature_dim=self.config.feature_dim)
        batch, frames, channels, height, width = src_features.shape
        num_tracks = uv_src.shape[2]

        # 1. Where each view observes each track; positions elsewhere are replaced by 0 so
        #    that arbitrary finite values never reach the encodings
        seen_src = observed_mask(uv_src, vis_src)  # (B, T, N)
        seen_tgt = observed_mask(uv_tgt, vis_tgt)
        uv_src = torch.where(seen_src[..., None], uv_src, torch.zeros_like(uv_src))
        uv_tgt = torch.where(seen_tgt[..., None], uv_tgt, torch.zeros_like(uv_tgt))
        depth_src = torch.where(seen_src, depth_src, torch.ones_like(depth_src))
        depth_tgt = torch.where(seen_tgt, depth_tgt, torch.ones_like(depth_tgt))

        # 2. Bilinear sampling of the source features at the source positions: (B, T, N, C)
        sampled = F.grid_sample(
            src_features.reshape(batch * frames, channels, height, width),
            uv_src.reshape(batch * frames, num_tracks, 1, 2),
            mode="bilinear", padding_mode="zeros", align_corners=False,
        )
        sampled = sampled.reshape(batch, frames, channels, num_tracks).transpose(2, 3)

        # 3. One token per track and frame: each view's projection where it observes the track,
        #    its learned "unobserved" token elsewhere, plus the frame-index embedding: (B, T, N, D)
        src_in = torch.cat([sampled, self._encode_view(uv_src, depth_src)], dim=-1)
        tokens = torch.where(seen_src[..., None], self.proj_src(src_in), self.unobserved_src)
        tokens = tokens + torch.where(seen_tgt[..., None], self.proj_tgt(self._encode_view(uv_tgt, depth_tgt)),
                                      self.unobserved_tgt)
        hidden = tokens.shape[-1]
        tokens = tokens + frame_embedding(frames, hidden, tokens)[None, :, None, :]

        # 4. Transformer along time, per track: attend to frames where the track is observed in
        #    either view (a track observed nowhere attends to all frames; it is never scattered)
        seen_any = (seen_src | seen_tgt).to(tokens.dtype)  # (B, T, N)
        never_seen = 1.0 - seen_any.amax(dim=1, keepdim=True)  # (B, 1, N)
        key_ok = torch.maximum(seen_any, never_seen).permute(0, 2, 1).reshape(batch * num_tracks, 1, 1, frames)
        attention_bias = (1.0 - key_ok) * MASKED_ATTENTION_BIAS
        x = tokens.permute(0, 2, 1, 3).reshape(batch * num_tracks, frames, hidden)
        for block in self.blocks:
            x = block(x, attention_bias)
        x = self.norm_out(x).reshape(batch, num_tracks, frames, hidden).permute(0, 2, 1, 3)  # (B, T, N, D)

        # 5. Scatter into both grids (mean per cell), then project each grid to out_dim
        outputs = []
        for uv, seen, proj in ((uv_src, seen_src, self.proj_out_src), (uv_tgt, seen_tgt, self.proj_out_tgt)):
            mean, occupied = splat_mean(x, uv, seen, height, width)
            outputs.append((proj(mean) * occupied).reshape(batch, frames, height, width, -1))
        return outputs[0], outputs[1]


CONDITIONER_INPUTS = ("src_features", "uv_src", "uv_tgt", "depth_src", "depth_tgt", "vis_src", "vis_tgt")


def check_conditioner_inputs(
    src_features: torch.Tensor,
    uv_src: torch.Tensor,
    uv_tgt: torch.Tensor,
    depth_src: torch.Tensor,
    depth_tgt: torch.Tensor,
    vis_src: torch.Tensor,
    vis_tgt: torch.Tensor,
    feature_dim: int | None = None,
) -> None:
    """Check the conditioner's inputs; the one check used by the torch and the ONNX Runtime paths.

    Shapes as in :meth:`TrackConditioner.forward`. All seven must be float32 tensors on one
    device with matching B, T, N, with at least one frame and one track, and all values finite.
    Finite positions outside [−1, 1] (however far) are allowed: by rule the track is invisible
    in that view at that frame.

    Raises:
        UserError: naming the offending input and what was expected.
    """
    tensors = dict(zip(CONDITIONER_INPUTS, (src_features, uv_src, uv_tgt, depth_src, depth_tgt, vis_src, vis_tgt),
                       strict=True))
    for name, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise UserError(f"track conditioner input {name}: expected a torch.Tensor, got {type(value).__name__}")
        if value.dtype != torch.float32:
            raise UserError(f"track conditioner input {name}: expected dtype float32, got {value.dtype}")
        if value.device != src_features.device:
            raise UserError(f"track conditioner input {name}: on {value.device}, src_features on {src_features.device}")
    if src_features.ndim != 5:
        raise UserError(f"track conditioner input src_features: expected shape (B, T, C, H, W), "
                        f"got {tuple(src_features.shape)}")
    if feature_dim is not None and src_features.shape[2] != feature_dim:
        raise UserError(f"track conditioner input src_features: has {src_features.shape[2]} channels, "
                        f"the model expects feature_dim={feature_dim}")
    if uv_src.ndim != 4 or uv_src.shape[-1] != 2:
        raise UserError(f"track conditioner input uv_src: expected shape (B, T, N, 2), got {tuple(uv_src.shape)}")
    batch, frames, num_tracks = uv_src.shape[:3]
    if tuple(src_features.shape[:2]) != (batch, frames):
        raise UserError(f"track conditioner input src_features: (B, T) = {tuple(src_features.shape[:2])} "
                        f"does not match uv_src's {(batch, frames)}")
    if frames < 1 or num_tracks < 1:
        raise UserError(f"track conditioner input uv_src: needs at least one frame and one track, "
                        f"got T={frames}, N={num_tracks}")
    expected = {"uv_tgt": (batch, frames, num_tracks, 2)}
    expected.update({name: (batch, frames, num_tracks) for name in CONDITIONER_INPUTS[3:]})
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise UserError(f"track conditioner input {name}: expected shape {shape} (from uv_src), "
                            f"got {tuple(tensors[name].shape)}")
    for name, value in tensors.items():
        if not bool(torch.isfinite(value).all()):
            raise UserError(f"track conditioner input {name}: contains NaN or infinite values")


def load_conditioner(folder: str | os.PathLike, device: torch.device | str = "cpu") -> TrackConditioner:
    """Load a :class:`TrackConditioner` from a local ``save_pretrained`` folder, in eval mode.

    The folder must hold ``config.json`` and ``diffusion_pytorch_model.safetensors`` (no pickled
    weights, no model hub) whose tensors match the config exactly (no silently random weights).

    Raises:
        UserError: naming the missing or unreadable file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"conditioner weights folder {folder} does not exist (expected a save_pretrained folder "
                        f"with {CONFIG_NAME} and {SAFETENSORS_WEIGHTS_NAME})")
    config_path, weights_path = folder / CONFIG_NAME, folder / SAFETENSORS_WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise UserError(f"{path} is missing; a conditioner folder needs {CONFIG_NAME} and "
                            f"{SAFETENSORS_WEIGHTS_NAME} (safetensors only)")
    try:
        config = json.loads(config_path.read_text())
        class_name = config.get("_class_name")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise UserError(f"{config_path} is not a valid JSON config ({exc})") from exc
    if class_name != TrackConditioner.__name__:
        raise UserError(f"{config_path} describes a {class_name!r}, not a {TrackConditioner.__name__}")
    try:
        model = TrackConditioner.from_config(config)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{config_path}: invalid conditioner settings ({exc})") from exc
    try:
        state = load_safetensors(weights_path)
    except (OSError, SafetensorError) as exc:
        raise UserError(f"{weights_path} is not a readable safetensors file ({exc})") from exc
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise UserError(f"{weights_path} does not match {config_path}: {exc}") from exc
    if missing or unexpected:
        raise UserError(f"{weights_path} does not match {config_path}: missing {sorted(missing)}, "
                        f"unexpected {sorted(unexpected)}")
    return model.to(device).eval()
