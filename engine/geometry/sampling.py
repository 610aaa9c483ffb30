"""Bilinear sampling of an image at arbitrary pixel positions, its adjoint (bilinear splat taps), and
the nearest neighbours of image points."""

from __future__ import annotations

import cv2
import numpy as np

_ROW = 4096
"""Samples per row of the remap grid (OpenCV's remap takes fewer than 32767 columns)."""


def sample_bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` (H, W) or (H, W, C) at pixels ``x``, ``y`` (N,), clamped to the image.

    Pixel (0, 0) is the centre of the top-left pixel. Returns (N,) or (N, C) float32.
    """
    n = len(x)
    rows = max(1, -(-n // _ROW))
    pad = rows * _ROW - n
    grid_x = np.pad(np.asarray(x, np.float32), (0, pad)).reshape(rows, _ROW)
    grid_y = np.pad(np.asarray(y, np.float32), (0, pad)).reshape(rows, _ROW)
    out = cv2.remap(np.ascontiguousarray(image, dtype=np.float32), grid_x, grid_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * _ROW, *image.shape[2:])[:n]


def bilinear_taps(x: np.ndarray, y: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The 4 bilinear taps of points (x, y) (N,), -1 < x < ``width``, for splatting onto an image padded by
    one pixel on each side (``width`` + 2 wide, so every tap is in bounds).

    Returns flat indices into the padded image (4N,) int64 and weights (4N,) float32, tap-major.
    """
    xf, yf = np.floor(x), np.floor(y)
    fx = (x - xf).astype(np.float32)
    fy = (y - yf).astype(np.float32)
    base = (yf.astype(np.int64) + 1) * (width + 2) + xf.astype(np.int64) + 1
    gx, gy = 1 - fx, 1 - fy
    return (np.concatenate([base, base + 1, base + width + 2, base + width + 3]),
            np.concatenate([gx * gy, fx * gy, gx * fy, fx * fy]))


def nearest_neighbours(queries: np.ndarray, points: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """(Q, k) indices of the ``k`` nearest of ``points`` (P, 2) to each of ``queries`` (Q, 2), nearest first.

    Exact, by brute force over chunks of ``chunk`` queries (a frame's moving points against its static ones).
    """
    out = np.empty((len(queries), k), np.int64)
    for i in range(0, len(queries), chunk):
        d2 = ((queries[i:i + chunk, None] - points[None]) ** 2).sum(-1)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(points) else np.broadcast_to(
            np.arange(len(points)), d2.shape).copy()
        order = np.take_along_axis(d2, part, 1).argsort(1, kind="stable")
        out[i:i + chunk] = np.take_along_axis(part, order, 1)
    return out
