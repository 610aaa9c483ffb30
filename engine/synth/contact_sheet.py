"""A contact sheet of a synthetic clip: cameras side by side, GT tracks drawn (bpy-free).

Columns are the cameras (source first), rows the first, middle and last frame. Each visible
point is a dot whose colour is fixed per point, so the same point has the same colour in every
view; a short trail shows where it was over the previous :data:`TRAIL_FRAMES` frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_file

TRAIL_FRAMES = 4
MIN_TILE_SIDE = 192    # tiles are upscaled (nearest) until their shorter side reaches this, pixels
MAX_DRAWN_POINTS = 400  # draw at most this many points per tile, a fixed subset
LABEL_HEIGHT = 18


def _track_colours(n: int) -> np.ndarray:
    """(n, 3) uint8 RGB, distinct hues in a fixed shuffled order."""
    import cv2

    hue = (np.random.default_rng(0).permutation(n) * 180 // max(n, 1)).astype(np.uint8)
    hsv = np.stack([hue, np.full(n, 255, np.uint8), np.full(n, 255, np.uint8)], -1)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]


def render_contact_sheet(frames: list[np.ndarray], uv: list[np.ndarray], vis: list[np.ndarray],
                         labels: list[str]) -> np.ndarray:
    """The sheet as an (H', W', 3) uint8 RGB image.

    Per camera k: ``frames[k]`` (T, H, W, 3) uint8, ``uv[k]`` (T, N, 2) pixels, ``vis[k]`` (T, N) bool,
    ``labels[k]`` a caption.
    """
    import cv2

    T, H, W, _ = frames[0].shape
    N = uv[0].shape[1]
    scale = max(1, int(np.ceil(MIN_TILE_SIDE / min(H, W))))
    shown = np.linspace(0, N - 1, min(N, MAX_DRAWN_POINTS)).astype(int) if N else np.zeros(0, int)
    colours = _track_colours(N)
    rows = sorted({0, T // 2, T - 1})
    sheet_rows = []
    for t in rows:
        tiles = []
        for k in range(len(frames)):
            tile = cv2.resize(frames[k][t], (W * scale, H * scale), interpolation=cv2.INTER_NEAREST)
            tile = np.ascontiguousarray(tile)
            p = (uv[k] + 0.5) * scale - 0.5  # pixel centres of the upscaled tile
            for i in shown:
                if not vis[k][t, i]:
                    continue
                colour = tuple(int(c) for c in colours[i])
                start = max(0, t - TRAIL_FRAMES)
                trail = [p[s, i] for s in range(start, t + 1) if vis[k][s, i]]
                if len(trail) > 1:
                    cv2.polylines(tile, [np.rint(np.array(trail)).astype(np.int32)], False, colour, 1, cv2.LINE_AA)
                cv2.circle(tile, tuple(int(v) for v in np.rint(p[t, i])), 2, colour, -1, cv2.LINE_AA)
            label = np.full((LABEL_HEIGHT, tile.shape[1], 3), 255, np.uint8)
            cv2.putText(label, f"{labels[k]}  t={t}", (4, LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        (0, 0, 0), 1, cv2.LINE_AA)
            tiles.append(np.concatenate([label, tile], 0))
            tiles.append(np.full((tiles[-1].shape[0], 4, 3), 255, np.uint8))
        sheet_rows.append(np.concatenate(tiles[:-1], 1))
    return np.concatenate(sheet_rows, 0)


def write_contact_sheet(sheet: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an RGB sheet as PNG, atomically."""
    import cv2

    path = Path(path)
    with atomic_file(path, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
    return path
