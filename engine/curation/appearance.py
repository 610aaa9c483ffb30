"""Photometric check of split tracks: a track must look the same from one frame to the next.

The flow tracker's forward-backward test lets some tracks "stick" in place where the image content
changes completely (a cut, heavy noise). Walking away from the shared frame 0 in each view, a
track's visibility ends at the first frame whose :data:`PATCH_SIDE`² grey patch around the track
correlates (zero-normalised cross-correlation) less than :data:`MIN_STEP_NCC` with the patch at
the previous frame. Patches too flat to tell (grey standard deviation below :data:`MIN_PATCH_STD`
in either frame) pass.
"""

from __future__ import annotations

import numpy as np

PATCH_SIDE = 7  # pixels
MIN_STEP_NCC = 0.8  # bench: 0.5 → 0.8 lifts precision within 4 px by ~1.5 points for ~8 % fewer pairs
MIN_PATCH_STD = 2.0  # grey levels (0-255)
REMAP_ROWS = 16384


def _patches(grey: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(N, PATCH_SIDE²) bilinear grey patches of image ``grey`` (H, W) float32 centred at ``uv`` (N, 2)."""
    import cv2

    r = (PATCH_SIDE - 1) / 2
    dy, dx = np.mgrid[0:PATCH_SIDE, 0:PATCH_SIDE].astype(np.float32) - r
    mx = (uv[:, 0, None] + dx.ravel()[None]).astype(np.float32)  # (N, PATCH_SIDE²): one row per point
    my = (uv[:, 1, None] + dy.ravel()[None]).astype(np.float32)
    # cv2.remap takes maps of fewer than SHRT_MAX rows.
    rows = [cv2.remap(grey, mx[i:i + REMAP_ROWS], my[i:i + REMAP_ROWS], cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE) for i in range(0, len(uv), REMAP_ROWS)]
    return np.concatenate(rows).reshape(len(uv), -1)


def step_ncc(frames: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(T, N) correlation of each track's patch at frame t with its patch at frame t − 1 (row 0 = 1).

    ``frames`` (T, H, W, 3) uint8 RGB, ``uv`` (T, N, 2) pixels. Flat patch pairs get 1.
    """
    import cv2

    T, N = uv.shape[:2]
    out = np.ones((T, N), np.float32)
    if N == 0:
        return out
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    prev = _patches(greys[0], uv[0])
    for t in range(1, T):
        cur = _patches(greys[t], uv[t])
        a = prev - prev.mean(1, keepdims=True)
        b = cur - cur.mean(1, keepdims=True)
        sa, sb = np.sqrt((a * a).mean(1)), np.sqrt((b * b).mean(1))
        flat = (sa < MIN_PATCH_STD) | (sb < MIN_PATCH_STD)
        ncc = (a * b).mean(1) / np.maximum(sa * sb, 1e-6)
        out[t] = np.where(flat, 1.0, ncc)
        prev = cur
    return out


def truncate_by_appearance(frames: np.ndarray, uv: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """``vis`` (T, N) with each track cut at its first frame t ≥ 1 whose step correlation is below
    :data:`MIN_STEP_NCC` (see the module docstring); frame 0 is kept as it was."""
    ok = step_ncc(frames, uv) >= MIN_STEP_NCC
    ok[0] = True
    return vis & np.logical_and.accumulate(ok, axis=0)
