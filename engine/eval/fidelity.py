"""Fidelity of a generated view against the ground-truth target frames: PSNR, SSIM, source-visible area,
sharpness and flicker.

Images are RGB uint8 (T, H, W, 3); metrics use the 0..255 range. PSNR of identical images is
``inf`` (not an error; :mod:`.results` writes it JSON-safely). SSIM follows Wang et al. 2004
(Gaussian window σ = :data:`SSIM_SIGMA`, K1 = 0.01, K2 = 0.03), per channel, averaged over the
channels and the pixels of the mask.

The *source-visible* area of a target frame is the set of its pixels whose 3D point the source
camera sees at the same frame: unproject the target pixel with the ground-truth target depth and
camera, project it into the source camera, and depth-test it against the source ground-truth
depth (the synthetic clips' own test, :func:`..synth.clip.depth_consistent`).

*Sharpness* is the mean Laplacian energy (mean squared 3×3 Laplacian of the grey image, 0..255
units); ``sharpness_ratio`` divides the generated video's by the ground truth's (1 = as sharp, a
blur is well below). *Flicker* is the mean absolute frame-to-frame change of the generated video
minus that of the ground truth (grey levels, 0..255; 0 = changes as much as the truth, > 0 = it
flickers).
"""

from __future__ import annotations

import numpy as np

from ..geometry.camera import CameraTrack, project_points, unproject_points
from ..synth.clip import depth_consistent

PIXEL_MAX = 255.0
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * PIXEL_MAX) ** 2
SSIM_C2 = (0.03 * PIXEL_MAX) ** 2
NO_HIT_DEPTH = 1e9  # ground-truth depth at or beyond this (metres) means no surface (synthetic: 1e10)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR (dB) of uint8 images ``a`` vs ``b`` (…, H, W, 3) over the pixels where ``mask`` (…, H, W)
    is True; ``inf`` when they agree exactly, ``nan`` when the mask is empty."""
    err = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if mask is not None:
        if not mask.any():
            return float("nan")
        err = err[mask]
    mse = float(err.mean())
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(PIXEL_MAX ** 2 / mse))


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (H, W) of two uint8 images (H, W, 3), averaged over the colour channels."""
    import cv2

    x = a.astype(np.float64)
    y = b.astype(np.float64)

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (0, 0), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / ((mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2))
    return s.mean(-1)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM of uint8 videos/images ``a`` vs ``b`` (…, H, W, 3) over ``mask`` (…, H, W) (all pixels
    if None); ``nan`` when the mask is empty."""
    a2 = a.reshape((-1,) + a.shape[-3:])
    b2 = b.reshape((-1,) + b.shape[-3:])
    maps = np.stack([ssim_map(x, y) for x, y in zip(a2, b2, strict=True)])
    if mask is None:
        return float(maps.mean())
    m = mask.reshape(maps.shape)
    return float(maps[m].mean()) if m.any() else float("nan")


def source_visible_mask(target_depth: np.ndarray, target: CameraTrack, source_depth: np.ndarray,
                        source: CameraTrack) -> np.ndarray:
    """(T, H, W) bool: target pixels whose surface point the source camera sees at the same frame.

    ``target_depth`` (T, H, W) and ``source_depth`` (T, Hs, Ws) are ground-truth camera z (metres);
    pixels with no surface (depth ≥ :data:`NO_HIT_DEPTH` or ≤ 0) are not visible.
    """
    T, H, W = target_depth.shape
    v, u = np.mgrid[0:H, 0:W]
    uv = np.broadcast_to(np.stack([u, v], -1).reshape(1, H * W, 2).astype(np.float64), (T, H * W, 2))
    z = target_depth.reshape(T, H * W).astype(np.float64)
    hit = (z > 0) & (z < NO_HIT_DEPTH)
    xyz = unproject_points(uv, np.where(hit, z, 1.0), target.K[:T], target.w2c[:T])
    uv_src, z_src = project_points(xyz, source.K[:T], source.w2c[:T])
    seen = depth_consistent(uv_src, z_src, source_depth[:T])
    return (hit & seen).reshape(T, H, W)


def fidelity_metrics(generated: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> dict[str, float]:
    """PSNR/SSIM of ``generated`` vs ``truth`` (T, H, W, 3) uint8: full frame and over ``visible`` (T, H, W).

    PSNR is the mean over frames of per-frame PSNR (``inf`` if any frame is exact); SSIM the mean
    over frames and pixels. Returns ``psnr``, ``ssim``, ``psnr_visible``, ``ssim_visible``,
    ``visible_share`` (share of target pixels seen by the source), ``sharpness_ratio`` and ``flicker``
    (module docstring).
    """
    frame_psnr = [psnr(g, t) for g, t in zip(generated, truth, strict=True)]
    frame_psnr_vis = [psnr(g, t, m) for g, t, m in zip(generated, truth, visible, strict=True)]
    finite_vis = [p for p in frame_psnr_vis if not np.isnan(p)]
    return {
        "psnr": float(np.mean(frame_psnr)),
        "ssim": ssim(generated, truth),
        "psnr_visible": float(np.mean(finite_vis)) if finite_vis else float("nan"),
        "ssim_visible": ssim(generated, truth, visible),
        "visible_share": float(visible.mean()),
        "sharpness_ratio": sharpness(generated) / max(sharpness(truth), 1e-12),
        "flicker": temporal_change(generated) - temporal_change(truth),
    }


def _grey(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def sharpness(frames: np.ndarray) -> float:
    """Mean Laplacian energy of (T, H, W, 3) uint8 frames (module docstring)."""
    import cv2

    return float(np.mean([np.mean(cv2.Laplacian(g, cv2.CV_32F) ** 2) for g in _grey(frames)]))


def temporal_change(frames: np.ndarray) -> float:
    """Mean absolute change (grey levels) between consecutive frames of (T, H, W, 3) uint8; 0 for one frame."""
    grey = _grey(frames)
    return float(np.abs(np.diff(grey, axis=0)).mean()) if len(grey) > 1 else 0.0


def warp_regions(paired, target: CameraTrack, depth) -> dict[str, np.ndarray]:
    """The target pixels (T, H, W) bool by what the footage can give them, from the warp's geometry
    on the source's dense ``depth``: ``covered`` (frame t's own warp shows them), ``recoverable``
    (frame t does not, a neighbouring source frame does: the temporal fill) and ``unseen`` (no
    frame does)."""
    from ..warp import warp_video

    _, alone = warp_video(None, paired, target, depth, fill_offsets=())
    _, holes = warp_video(None, paired, target, depth)
    return {"covered": ~alone, "recoverable": alone & ~holes, "unseen": holes}


def region_psnr(generated: np.ndarray, truth: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, float]:
    """``psnr_<region>`` of ``generated`` vs ``truth`` over each region (NaN where a region is empty),
    and ``<region>_share``."""
    out = {}
    for name, mask in regions.items():
        out[f"psnr_{name}"] = psnr(generated, truth[:len(mask)], mask)
        out[f"{name}_share"] = float(mask.mean())
    return out


def interior_holes(holes: np.ndarray) -> np.ndarray:
    """The hole pixels (…, H, W) bool in holes that do not touch the image border: tears in a view,
    where what the border shows could not explain them (what left the frame does)."""
    import cv2

    out = np.zeros_like(holes, bool)
    for i, hole in enumerate(holes.reshape(-1, *holes.shape[-2:])):
        _, labels = cv2.connectedComponents(hole.astype(np.uint8), connectivity=4)
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        out.reshape(-1, *holes.shape[-2:])[i] = hole & ~np.isin(labels, border)
    return out
