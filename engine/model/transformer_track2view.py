"""The track-conditioned video diffusion transformer (a Wan2.1 DiT that sees two views).

``Track2ViewTransformer3DModel`` *is* a diffusers :class:`WanTransformer3DModel` (same
sub-modules, same parameter names, same config keys plus two of its own), so a Wan2.1-T2V
transformer folder in diffusers layout loads straight into it and the tiny CPU model and the
1.3B GPU model share one code path. Only ``forward`` differs:

1. the clean source-video latents and the noisy target latents are concatenated along the
   frame axis (source first) and patch-embedded by the Wan patch embedding; the 3D RoPE then
   numbers the source frames ``0..F-1`` and the target frames ``F..2F-1``;
2. the track tokens of the conditioner (one token per patch of each view, see
   :mod:`.conditioner`) are added to the source tokens and to the target tokens;
3. the Wan blocks run with the timestep embedding and a cross-attention context. There is no
   text encoder: the context is a learned *null prompt* (``null_prompt_len`` × ``text_dim``,
   zero-initialised; for Wan2.1 it stands in for the T5 embedding of the empty prompt and can be
   initialised from a precomputed one, see :mod:`.wan_backbone`);
4. the output head predicts the flow-matching velocity (noise − clean) of the *target* frames only.

Axis letters used below: B batch, C latent channels, F latent frames of one view, H/W latent
height/width, h/w = H/p_h, W/p_w the token grid of one view, D = heads × head_dim the model width.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import register_to_config
from diffusers.models.transformers.transformer_wan import WanTransformer3DModel
from torch import nn


def patchify_latents(latents: torch.Tensor, patch_size: tuple[int, int, int]) -> torch.Tensor:
    """Rearrange latents onto the token grid of one view (parameter-free).

    ``latents`` (B, C, F, H, W) → (B, F / p_t, C·p_t·p_h·p_w, H / p_h, W / p_w): each token cell gets
    the channels of the latent pixels it covers. This is the ``src_features`` the track
    conditioner samples (``feature_dim = C·p_t·p_h·p_w``).
    """
    B, C, F, H, W = latents.shape
    p_t, p_h, p_w = patch_size
    x = latents.reshape(B, C, F // p_t, p_t, H // p_h, p_h, W // p_w, p_w)
    x = x.permute(0, 2, 1, 3, 5, 7, 4, 6)  # B, f, C, p_t, p_h, p_w, h, w
    return x.reshape(B, F // p_t, C * p_t * p_h * p_w, H // p_h, W // p_w)


class Track2ViewTransformer3DModel(WanTransformer3DModel):
    """Wan2.1 DiT over [source | target] latents with additive track tokens.

    Constructor arguments are those of :class:`WanTransformer3DModel` plus:

    Args:
        null_prompt_len: number of tokens of the learned null prompt used as the
            cross-attention context (no text encoder is needed).
        frame_window: video frames the model generates in one window (``4k + 1``, the Wan VAE's
            temporal factor is 4); longer clips are generated in overlapping windows.
    """

    @register_to_config
    def __init__(
        self,
        patch_size: tuple[int, ...] = (1, 2, 2),
        num_attention_heads: int = 40,
        attention_head_dim: int = 128,
        in_channels: int = 16,
        out_channels: int = 16,
        text_dim: int = 4096,
        freq_dim: int = 256,
        ffn_dim: int = 13824,
        num_layers: int = 40,
        cross_attn_norm: bool = True,
        qk_norm: str | None = "rms_norm_across_heads",
        eps: float = 1e-6,
        image_dim: int | None = None,
        added_kv_proj_dim: int | None = None,
        rope_max_seq_len: int = 1024,
        pos_embed_seq_len: int | None = None,
        null_prompt_len: int = 1,
        frame_window: int = 25,
    ) -> None:
        # 1. The Wan backbone: patch embedding, RoPE, condition embedder, blocks, output head.
        super().__init__(
            patch_size=patch_size, num_attention_heads=num_attention_heads,
            attention_head_dim=attention_head_dim, in_channels=in_channels, out_channels=out_channels,
            text_dim=text_dim, freq_dim=freq_dim, ffn_dim=ffn_dim, num_layers=num_layers,
            cross_attn_norm=cross_attn_norm, qk_norm=qk_norm, eps=eps, image_dim=image_dim,
            added_kv_proj_dim=added_kv_proj_dim, rope_max_seq_len=rope_max_seq_len,
            pos_embed_seq_len=pos_embed_seq_len,
        )
        # 2. The learned null prompt: the cross-attention context in place of a text embedding.
        self.null_prompt = nn.Parameter(torch.zeros(1, null_prompt_len, text_dim))

    @property
    def inner_dim(self) -> int:
        """D, the width of a token (and the conditioner's ``out_dim``)."""
        return self.config.num_attention_heads * self.config.attention_head_dim

    @property
    def feature_dim(self) -> int:
        """Channels of :func:`patchify_latents` of the source latents (the conditioner's ``feature_dim``)."""
        p_t, p_h, p_w = self.config.patch_size
        return self.config.in_channels * p_t * p_h * p_w

    def forward(
        self,
        hidden_states: torch.Tensor,
        source_latents: torch.Tensor,
        timestep: torch.Tensor,
        track_tokens_src: torch.Tensor | None = None,
        track_tokens_tgt: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict the flow-matching velocity of the target latents.

        Args:
            hidden_states: (B, C, F, H, W) noisy target latents, ``x_t = (1 − σ)·x_0 + σ·ε``.
            source_latents: (B, C, F, H, W) clean (normalised) source-video latents, same shape.
            timestep: (B,) or () flow-matching time ``σ·1000`` (FlowMatchEulerDiscreteScheduler units).
            track_tokens_src, track_tokens_tgt: (B, F / p_t, h, w, D) conditioner outputs for the
                source and the target view, or None (no track conditioning).
            encoder_hidden_states: (B, L, text_dim) cross-attention context; None uses the
                learned null prompt.

        Returns:
            (B, C, F, H, W) velocity ``ε − x_0`` of the target frames (float, dtype of the model).
        """
        if hidden_states.shape != source_latents.shape:
            raise ValueError(f"target latents {tuple(hidden_states.shape)} and source latents "
                             f"{tuple(source_latents.shape)} must have the same shape")
        B, _, F, H, W = hidden_states.shape
        p_t, p_h, p_w = self.config.patch_size
        f, h, w = F // p_t, H // p_h, W // p_w

        # 1. Both views along the frame axis, patch embedding, RoPE over 2F frames.
        x = torch.cat([source_latents.to(hidden_states.dtype), hidden_states], dim=2)
        rotary_emb = self.rope(x)
        x = self.patch_embedding(x).flatten(2).transpose(1, 2).contiguous()  # B, 2·f·h·w, D

        # 2. Track tokens added to the tokens of both views.
        if track_tokens_src is not None or track_tokens_tgt is not None:
            zeros = x.new_zeros(B, f, h, w, x.shape[-1])
            src = zeros if track_tokens_src is None else track_tokens_src
            tgt = zeros if track_tokens_tgt is None else track_tokens_tgt
            for name, t in (("track_tokens_src", src), ("track_tokens_tgt", tgt)):
                if tuple(t.shape) != (B, f, h, w, x.shape[-1]):
                    raise ValueError(f"{name} must have shape {(B, f, h, w, x.shape[-1])}, got {tuple(t.shape)}")
            x = x + torch.cat([src.reshape(B, f * h * w, -1), tgt.reshape(B, f * h * w, -1)], dim=1).to(x.dtype)

        # 3. Timestep embedding and cross-attention context.
        timestep = timestep.reshape(-1).expand(B) if timestep.numel() == 1 else timestep
        if encoder_hidden_states is None:
            encoder_hidden_states = self.null_prompt.expand(B, -1, -1)
        temb, timestep_proj, context, _ = self.condition_embedder(timestep, encoder_hidden_states.to(x.dtype))
        timestep_proj = timestep_proj.unflatten(1, (6, -1))  # B, 6, D

        # 4. Wan blocks.
        for block in self.blocks:
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                x = self._gradient_checkpointing_func(block, x, context, timestep_proj, rotary_emb)
            else:
                x = block(x, context, timestep_proj, rotary_emb)

        # 5. Output head on the target tokens, unpatchify.
        x = x[:, f * h * w:]
        shift, scale = (self.scale_shift_table.to(temb.device) + temb.unsqueeze(1)).chunk(2, dim=1)
        x = (self.norm_out(x.float()) * (1 + scale.to(x.device)) + shift.to(x.device)).type_as(x)
        x = self.proj_out(x)
        x = x.reshape(B, f, h, w, p_t, p_h, p_w, -1).permute(0, 7, 1, 4, 2, 5, 3, 6)
        return x.flatten(6, 7).flatten(4, 5).flatten(2, 3)
