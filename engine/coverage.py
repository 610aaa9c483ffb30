"""Coverage: how much of a target view the footage can explain, frame by frame.

Definition. The target image (W × H pixels of the target camera) is split into a grid of
``nx × ny`` equal cells. At frame t a cell is *covered* when at least one track that is visible in
the source view (``vis``) and visible in the target view (``vis_tgt`` from
:func:`..pairing.pair_tracks`: in front, inside the image, not occluded) lands in it (``uv_tgt``).
``coverage[t]`` = covered cells / all cells, in [0, 1]. Everything else in the target view is content
the model must invent.

Cell size follows the track density, so that a view fully seen by the tracks scores 1 whatever the
number of tracks: a cell holds :data:`TRACKS_PER_CELL` source-visible tracks on average
(side ``sqrt(W * H * TRACKS_PER_CELL / n)`` pixels, n = median number of source-visible tracks per
frame), clamped to :data:`MIN_CELLS`..:data:`MAX_CELLS` cells per side. With tracks scattered
uniformly at random, a fully seen view leaves about ``exp(-TRACKS_PER_CELL)`` ≈ 2 % of the cells
empty; a regular grid of tracks covers all of them. Parts of the source image without tracks
(sky, textureless walls) count as not covered in any view: ``reference[t]`` is the same measure
for the source view itself (its own visible tracks over its own image), the best a target can get.

Frames with ``coverage < threshold`` (default :data:`POOR_COVERAGE`) are *poor*: the render will
mostly be invented there. :func:`poor_coverage_frames` groups them into frame ranges, e.g. for a
warning before a render.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .errors import UserError
from .geometry.camera import CameraTrack
from .io.tracks import Tracks
from .pairing import pair_tracks

POOR_COVERAGE = 0.6
"""A frame whose target view is less than this share covered is flagged as poor."""

TRACKS_PER_CELL = 4.0
"""Average number of source-visible tracks per grid cell when the grid is sized from the density."""

MIN_CELLS = 4
"""Fewest grid cells along an image side."""

MAX_CELLS = 64
"""Most grid cells along an image side."""


@dataclasses.dataclass
class CoverageReport:
    """Per-frame coverage of a target view (see the module docstring for the definition).

    ``coverage`` (T,) and ``reference`` (T,) are shares in [0, 1]; ``tracks`` (T,) int is the number
    of tracks visible in both views; ``grid`` is (nx, ny) cells; frame index 0 is the first frame of
    the tracks (and of the target camera).
    """

    coverage: np.ndarray
    reference: np.ndarray
    tracks: np.ndarray
    grid: tuple[int, int]
    threshold: float = POOR_COVERAGE

    @property
    def num_frames(self) -> int:
        return len(self.coverage)

    @property
    def poor(self) -> np.ndarray:
        """(T,) bool: frames whose coverage is below ``threshold``."""
        return self.coverage < self.threshold

    def poor_ranges(self, frame_start: int = 0) -> list[tuple[int, int]]:
        """Inclusive (first, last) frame ranges of poor frames, numbered from ``frame_start``."""
        return poor_coverage_frames(self.coverage, self.threshold, frame_start)

    def to_json(self, frame_start: int = 0) -> dict:
        """A JSON-able dict: per-frame values, the grid, the threshold and the poor ranges."""
        return {
            "frame_start": int(frame_start),
            "grid": list(self.grid),
            "threshold": float(self.threshold),
            "coverage": [round(float(c), 6) for c in self.coverage],
            "reference": [round(float(c), 6) for c in self.reference],
            "tracks": [int(n) for n in self.tracks],
            "mean": float(self.coverage.mean()),
            "min": float(self.coverage.min()),
            "poor_ranges": [list(r) for r in self.poor_ranges(frame_start)],
        }


def coverage_grid(size: tuple[int, int], num_tracks: float,
                  tracks_per_cell: float = TRACKS_PER_CELL) -> tuple[int, int]:
    """Grid (nx, ny) for an image of ``size`` (W, H) pixels seen by ``num_tracks`` tracks per frame."""
    W, H = size
    side = np.sqrt(W * H * tracks_per_cell / max(float(num_tracks), 1.0))
    nx = int(np.clip(round(W / side), MIN_CELLS, MAX_CELLS))
    ny = int(np.clip(round(H / side), MIN_CELLS, MAX_CELLS))
    return nx, ny


def covered_share(uv: np.ndarray, mask: np.ndarray, size: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    """(T,) share of the ``grid`` (nx, ny) cells of an image of ``size`` (W, H) hit by a masked point.

    ``uv`` (T, N, 2) pixels ((0, 0) = centre of the top-left pixel; the image spans
    [-0.5, W - 0.5) × [-0.5, H - 0.5)), ``mask`` (T, N) bool. Points outside the image are ignored.
    """
    W, H = size
    nx, ny = grid
    T = uv.shape[0]
    x = (uv[..., 0] + 0.5) * (nx / W)
    y = (uv[..., 1] + 0.5) * (ny / H)
    keep = mask & (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
    t_idx, n_idx = np.nonzero(keep)
    cells = (t_idx * ny + y[t_idx, n_idx].astype(np.int64)) * nx + x[t_idx, n_idx].astype(np.int64)
    hit = np.zeros(T * nx * ny, bool)
    hit[cells] = True
    return hit.reshape(T, nx * ny).mean(1)


def coverage_from_paired(paired: Tracks, target_size: tuple[int, int], cells: int | None = None,
                         threshold: float = POOR_COVERAGE) -> CoverageReport:
    """Coverage of the target view of paired tracks (``uv_tgt``/``vis_tgt`` set, see pairing.py).

    ``target_size`` (W, H) pixels of the target image; ``cells`` fixes the grid to ``cells`` cells
    along the longer side (square cells) instead of sizing it from the track density (the median
    number of source-visible tracks per frame, for the source and the target image alike).
    """
    if not paired.is_paired:
        raise UserError("coverage needs paired tracks (uv_tgt, vis_tgt); pair them with a target camera first")
    if not 0.0 <= threshold <= 1.0:
        raise UserError(f"coverage threshold must be in [0, 1], got {threshold}")
    if cells is not None and cells < 1:
        raise UserError(f"coverage cells must be >= 1, got {cells}")
    counts = paired.vis.sum(1)
    density = float(np.median(counts[counts > 0])) if counts.any() else 1.0

    def grid_for(size: tuple[int, int]) -> tuple[int, int]:
        if cells is None:
            return coverage_grid(size, density)
        side = max(size) / cells
        return max(1, round(size[0] / side)), max(1, round(size[1] / side))

    grid = grid_for(target_size)
    both = paired.vis & paired.vis_tgt
    coverage = covered_share(paired.uv_tgt, both, target_size, grid)
    reference = covered_share(paired.uv, paired.vis, paired.size, grid_for(paired.size))
    return CoverageReport(coverage=coverage, reference=reference, tracks=both.sum(1).astype(np.int64),
                          grid=grid, threshold=float(threshold))


def compute_coverage(tracks: Tracks, target: CameraTrack, cells: int | None = None,
                     threshold: float = POOR_COVERAGE) -> CoverageReport:
    """Pair ``tracks`` with the ``target`` camera (aligned at their first frame) and measure coverage.

    The report has min(tracks frames, camera frames) frames.
    """
    return coverage_from_paired(pair_tracks(tracks, target), target.size, cells=cells, threshold=threshold)


def target_view_points(tracks: Tracks, target: CameraTrack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the target view shows of the tracks, seen by the source or not (for the overlay).

    Returns ``uv`` (T, N, 2) target pixels, ``shown`` (T, N) bool — in front of the target camera,
    inside its image and not occluded by another track (the test of :func:`..pairing.pair_tracks`,
    applied to every track with a finite position) — and ``seen`` (T, N) bool, the source
    visibility; T = min(tracks frames, camera frames). ``shown & ~seen`` is content to invent.
    """
    everything = dataclasses.replace(tracks, vis=np.isfinite(tracks.xyz).all(-1))
    paired = pair_tracks(everything, target)
    return paired.uv_tgt, paired.vis_tgt, tracks.vis[:paired.num_frames]


def poor_coverage_warning(tracks_path: str | os.PathLike, target: CameraTrack, frame_start: int = 0,
                          threshold: float = POOR_COVERAGE, first_track_frame: int = 0) -> str | None:
    """One line warning about the frames where ``target`` sees mostly what the footage never showed.

    For a check before a render: loads the tracks file (UserError naming it if unreadable), measures
    coverage of tracks frames ``first_track_frame + i`` seen by camera frame i (numbered
    ``frame_start + i`` in messages) and returns None when no frame is poor, else a message naming
    the poor frame ranges and the worst frame.
    """
    from .io.tracks import load_tracks

    tracks = load_tracks(tracks_path)
    tracks = tracks.subset(frames=slice(first_track_frame, first_track_frame + target.num_frames))
    report = compute_coverage(tracks, target, threshold=threshold)
    ranges = report.poor_ranges(frame_start)
    if not ranges:
        return None
    text = format_frame_ranges(ranges)
    worst = int(report.coverage.argmin())
    return (f"poor coverage (under {threshold:.0%} of the view seen in the footage) at frames {text}, worst "
            f"{report.coverage[worst]:.0%} at frame {frame_start + worst}: the model must invent most of "
            "the image there (see Coverage Preview)")


def format_frame_ranges(ranges: list[tuple[int, int]]) -> str:
    """``[(3, 5), (9, 9)]`` → ``"3-5, 9"`` (inclusive ranges); ``""`` for no ranges."""
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def poor_coverage_frames(coverage: np.ndarray | list[float], threshold: float = POOR_COVERAGE,
                         frame_start: int = 0) -> list[tuple[int, int]]:
    """Inclusive (first, last) frame ranges where ``coverage`` (T,) is below ``threshold``.

    Frame i of ``coverage`` is numbered ``frame_start + i`` (e.g. the scene's first frame).
    Example: ``poor_coverage_frames([0.9, 0.5, 0.4, 0.9, 0.3], 0.6, 10) == [(11, 12), (14, 14)]``.
    """
    poor = np.asarray(coverage, float) < threshold
    ranges = []
    start = None
    for i, flag in enumerate(poor):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            ranges.append((frame_start + start, frame_start + i - 1))
            start = None
    if start is not None:
        ranges.append((frame_start + start, frame_start + len(poor) - 1))
    return ranges
