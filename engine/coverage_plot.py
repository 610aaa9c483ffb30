"""A PNG plot of per-frame coverage over time, drawn with OpenCV (no plotting library needed).

The plot shows the target view's coverage (blue line), the source view's own coverage
(grey line, the best a target can get), the poor-coverage threshold (dashed red) and the poor
frames shaded red. x = scene frame number, y = share in [0, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .coverage import CoverageReport
from .errors import UserError
from .io.atomic import atomic_file

PLOT_SIZE = (800, 320)
"""(W, H) pixels of the plot image."""

_MARGIN = (60, 20, 20, 40)  # left, right, top, bottom (pixels)
_BLUE, _GREY, _RED, _SHADE, _INK = (200, 90, 30), (150, 150, 150), (40, 40, 220), (215, 215, 250), (40, 40, 40)


def draw_coverage_plot(report: CoverageReport, frame_start: int = 0,
                       size: tuple[int, int] = PLOT_SIZE) -> np.ndarray:
    """The plot as a (H, W, 3) uint8 BGR image; frame i of ``report`` is labelled ``frame_start + i``."""
    import cv2

    W, H = size
    left, right, top, bottom = _MARGIN
    img = np.full((H, W, 3), 255, np.uint8)
    T = report.num_frames
    x0, x1, y0, y1 = left, W - right, top, H - bottom

    def px(i: np.ndarray | float) -> np.ndarray:
        return x0 + (np.asarray(i, float) + 0.5) * (x1 - x0) / max(T, 1)

    def py(v: np.ndarray | float) -> np.ndarray:
        return y1 - np.clip(np.asarray(v, float), 0, 1) * (y1 - y0)

    for i in np.nonzero(report.poor)[0]:
        cv2.rectangle(img, (int(px(i - 0.5)), y0), (int(px(i + 0.5)), y1), _SHADE, -1)
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = int(py(v))
        cv2.line(img, (x0, y), (x1, y), (230, 230, 230), 1)
        cv2.putText(img, f"{v:.2f}", (8, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, _INK, 1, cv2.LINE_AA)
    yt = int(py(report.threshold))
    for xs in range(x0, x1, 12):
        cv2.line(img, (xs, yt), (min(xs + 6, x1), yt), _RED, 1)
    for values, colour in ((report.reference, _GREY), (report.coverage, _BLUE)):
        pts = np.stack([px(np.arange(T)), py(values)], -1).round().astype(np.int32)
        if T == 1:
            cv2.circle(img, tuple(int(c) for c in pts[0]), 3, colour, -1, cv2.LINE_AA)
        else:
            cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y0), (x1, y1), _INK, 1)
    step = max(1, int(np.ceil(T / 10)))
    for i in range(0, T, step):
        x = int(px(i))
        cv2.line(img, (x, y1), (x, y1 + 4), _INK, 1)
        cv2.putText(img, str(frame_start + i), (x - 8, y1 + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, _INK, 1,
                    cv2.LINE_AA)
    cv2.putText(img, f"coverage (blue), source view (grey), poor < {report.threshold:.2f} (red)",
                (x0, H - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, _INK, 1, cv2.LINE_AA)
    return img


def save_coverage_plot(report: CoverageReport, path: str | os.PathLike, frame_start: int = 0) -> Path:
    """Write the plot to ``path`` (PNG) atomically."""
    import cv2

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UserError(f"coverage plot {path}: use a .png file name")
    with atomic_file(path) as tmp:
        if not cv2.imwrite(str(tmp), draw_coverage_plot(report, frame_start)):
            raise UserError(f"could not write the coverage plot to {path}")
    return path
