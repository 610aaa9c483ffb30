"""Geometric-warp preview: move the source pixels along the paired tracks into the target view.

Per frame (all vectorised numpy/OpenCV, no per-pixel Python):

1. Densify: the tracks visible in the source give sparse offsets ``uv_tgt - uv_src`` (pixels) and
   target depths. They are splatted onto the source image grid and spread by a normalised Gaussian
   whose width is sized from the track density (:data:`FLOW_SIGMA_SCALE` × mean spacing
   ``sqrt(W * H / N)``), giving every source pixel near enough to tracks (normalised weight ≥
   :data:`MIN_COVERAGE`) a target position and depth. Each source pixel keeps its own colour, so
   the warp stays sharp (a target camera equal to the source reproduces the footage exactly).
   Pixels whose neighbourhood stretches by more than :data:`MAX_STRETCH` are dropped: across a
   depth edge the densified offsets blend foreground and background (a disocclusion).
2. Splat: every covered source pixel is splatted bilinearly into the target image with a soft
   z-buffer: bilinear weight × ``exp(-(z - zref) / (SOFT_Z * zref))``, ``zref`` the nearest depth
   landing on the target pixel, so the nearest surface wins and equal depths blend; colours are
   the normalised weighted sums.
3. Holes: target pixels with total weight < :data:`MIN_SPLAT_WEIGHT` (disocclusions, outside
   the tracked area, stretched more than ~2× between source pixels) are holes: black in the image
   and True in the mask.

Coordinates: pixels, (0, 0) the centre of the top-left pixel; depths are target camera z (metres).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .errors import UserError
from .io.tracks import Tracks

FLOW_SIGMA_SCALE = 0.8
"""Gaussian width of the densification, in units of the mean track spacing."""

MIN_COVERAGE = 0.15
"""Normalised track weight below which a source pixel is too far from any track to move."""

SOFT_Z = 0.03
"""Soft z-buffer temperature, relative to the nearest depth (3 % of the distance)."""

MIN_SPLAT_WEIGHT = 0.2
"""Total splat weight below which a target pixel is a hole.

The soft z weight of the nearest strong tap (bilinear ≥ :data:`ZREF_MIN_WEIGHT` > this) is 1, so
the total is below it only where the bilinear coverage is.
"""

ZREF_MIN_WEIGHT = 0.25
"""Bilinear weight a tap needs to set its pixel's reference (nearest) depth in the soft z-buffer."""

MAX_STRETCH = 2.0
"""Source pixels whose neighbours land farther apart than this (pixels) are not splatted.

Bilinear splats cannot close wider gaps anyway; such stretches are the rubber sheet that the
densification spreads across depth edges (a disocclusion), which must stay a hole.
"""

MIN_DEPTH = 1e-3
"""Nearest target depth (metres) a track may have to take part."""


def _splat_bilinear(x: np.ndarray, y: np.ndarray, values: np.ndarray, size: tuple[int, int],
                    depth: np.ndarray | None = None) -> np.ndarray:
    """Bilinear splat of points (x, y) (N,), -1 < x < W, -1 < y < H, carrying ``values`` (C, N).

    Returns per-pixel weighted sums (H, W, C) (splat ones for the total weight). With ``depth`` (N,)
    the weights are soft z-buffer weights: each tap's bilinear weight times
    ``exp(-max(z / zref - 1, 0) / SOFT_Z)``, ``zref`` the nearest depth among the taps on that pixel
    with a bilinear weight ≥ :data:`ZREF_MIN_WEIGHT`. The grid is padded by one pixel on each side,
    so every tap is in bounds.
    """
    W, H = size
    xf, yf = np.floor(x), np.floor(y)
    fx = (x - xf).astype(np.float32)
    fy = (y - yf).astype(np.float32)
    base = (yf.astype(np.int64) + 1) * (W + 2) + xf.astype(np.int64) + 1
    idx = np.concatenate([base, base + 1, base + W + 2, base + W + 3])
    gx, gy = 1 - fx, 1 - fy
    bilinear = np.concatenate([gx * gy, fx * gy, gx * fy, fx * fy])
    n = (W + 2) * (H + 2)
    wts = bilinear
    if depth is not None:
        z = np.tile(depth.astype(np.float32), 4)
        strong = bilinear >= ZREF_MIN_WEIGHT
        zref = np.full(n, np.inf, np.float32)
        np.minimum.at(zref, idx[strong], z[strong])
        zref = zref[idx]
        ratio = z / np.where(np.isfinite(zref), zref, z)
        wts = bilinear * np.exp(-np.maximum(ratio - 1.0, 0.0) / SOFT_Z)
    per_tap = wts.reshape(4, -1)
    sums = [np.bincount(idx, (per_tap * v).ravel(), n) for v in values]
    return np.stack(sums, -1).astype(np.float32).reshape(H + 2, W + 2, len(values))[1:-1, 1:-1]


def dense_offsets(uv_src: np.ndarray, uv_tgt: np.ndarray, depth_tgt: np.ndarray,
                  src_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source pixel target offset (H, W, 2), target depth (H, W) and coverage mask (H, W).

    ``uv_src``/``uv_tgt`` (N, 2) pixels and ``depth_tgt`` (N,) of the usable tracks of one frame.
    """
    W, H = src_size
    n = len(uv_src)
    spacing = np.sqrt(W * H / max(n, 1))
    sigma = FLOW_SIGMA_SCALE * spacing
    offset = (uv_tgt - uv_src).astype(np.float32)
    values = np.stack([offset[:, 0], offset[:, 1], depth_tgt.astype(np.float32), np.ones(n, np.float32)])
    sums = _splat_bilinear(uv_src[:, 0], uv_src[:, 1], values, src_size)
    blurred = cv2.GaussianBlur(sums, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    weight = blurred[..., 3]
    # A unit density of tracks (one per spacing²) blurs to ~1/spacing² per pixel.
    covered = weight * spacing ** 2 >= MIN_COVERAGE
    safe = np.where(covered, weight, 1.0)
    return blurred[..., :2] / safe[..., None], blurred[..., 2] / safe, covered


def _overstretched(offset: np.ndarray) -> np.ndarray:
    """(H, W) bool: a neighbour's target lands more than :data:`MAX_STRETCH` pixels from this pixel's.

    ``offset`` (H, W, 2): the map is ``p -> p + offset(p)``; central differences, so its Jacobian
    columns are ``(1, 0) + d offset / dx`` and ``(0, 1) + d offset / dy``.
    """
    ox, oy = offset[..., 0], offset[..., 1]
    limit = MAX_STRETCH ** 2
    out = np.zeros(ox.shape, bool)
    out[:, 1:-1] = ((ox[:, 2:] - ox[:, :-2]) / 2 + 1) ** 2 + ((oy[:, 2:] - oy[:, :-2]) / 2) ** 2 > limit
    out[1:-1] |= ((ox[2:] - ox[:-2]) / 2) ** 2 + ((oy[2:] - oy[:-2]) / 2 + 1) ** 2 > limit
    return out


def warp_frame(image: np.ndarray, uv_src: np.ndarray, uv_tgt: np.ndarray, depth_tgt: np.ndarray,
               target_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Warp one source ``image`` (H, W, 3) uint8 along tracks into an image of ``target_size`` (W, H).

    ``uv_src``/``uv_tgt`` (N, 2) pixels and ``depth_tgt`` (N,) target z of the tracks to use (visible
    in the source, in front of the target camera). Returns the target image (Ht, Wt, 3) uint8 and the
    hole mask (Ht, Wt) bool.
    """
    H, W = image.shape[:2]
    Wt, Ht = target_size
    if len(uv_src) < 3:
        return np.zeros((Ht, Wt, 3), np.uint8), np.ones((Ht, Wt), bool)
    offset, depth, covered = dense_offsets(uv_src, uv_tgt, depth_tgt, (W, H))
    covered &= (depth > MIN_DEPTH) & ~_overstretched(offset)
    ys, xs = np.nonzero(covered)
    x = xs + offset[ys, xs, 0]
    y = ys + offset[ys, xs, 1]
    z = depth[ys, xs]
    inside = (x > -1) & (x < Wt) & (y > -1) & (y < Ht)
    x, y, z, ys, xs = x[inside], y[inside], z[inside], ys[inside], xs[inside]

    colours = image[ys, xs].T.astype(np.float32)
    ones = np.ones((1, len(z)), np.float32)
    sums = _splat_bilinear(x, y, np.concatenate([colours, ones]), (Wt, Ht), depth=z)
    hole = sums[..., 3] < MIN_SPLAT_WEIGHT
    out = sums[..., :3] / np.maximum(sums[..., 3:], 1e-12)
    out[hole] = 0
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), hole


def warp_video(frames: np.ndarray, paired: Tracks, target_size: tuple[int, int],
               progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Warp source ``frames`` (T, H, W, 3) uint8 along ``paired`` tracks into the target view.

    ``paired`` (from :func:`~.pairing.pair_tracks`) must have T frames in the pixel coordinates of
    ``frames``. Returns frames (T, Ht, Wt, 3) uint8 and hole masks (T, Ht, Wt) bool; ``progress(i, T)``
    is called after each frame.
    """
    if not paired.is_paired:
        raise UserError("the warp needs paired tracks (see engine.pairing.pair_tracks)")
    T = len(frames)
    if paired.num_frames != T:
        raise UserError(f"the warp got {T} frames but {paired.num_frames} frames of tracks")
    H, W = frames.shape[1:3]
    out = np.zeros((T, target_size[1], target_size[0], 3), np.uint8)
    holes = np.ones((T, target_size[1], target_size[0]), bool)
    for t in range(T):
        uv = paired.uv[t]
        use = (paired.vis[t] & (paired.depth_tgt[t] > MIN_DEPTH) & np.isfinite(uv).all(-1)
               & (uv[:, 0] >= -0.5) & (uv[:, 0] < W - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < H - 0.5))
        out[t], holes[t] = warp_frame(frames[t], uv[use], paired.uv_tgt[t, use], paired.depth_tgt[t, use],
                                      target_size)
        if progress is not None:
            progress(t + 1, T)
    return out, holes
