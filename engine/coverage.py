"""Coverage: how much of a target view the footage can show, frame by frame — what the warp fills.

Definition. ``coverage[t]`` is the share of the target image that the geometric warp
(:func:`..warp.warp_video`: every source pixel moved through its dense depth, then the temporal
fill from neighbouring frames) covers at frame t; the rest (its hole mask) is content the model
must invent. It runs the warp's own geometry (no colours) on the dense depth cached beside the
tracks (:func:`..dense_depth.cached_dense_depth`; without a cache the depth is spread from the
tracks without image guidance), at a reduced resolution (longest target side
:data:`COVERAGE_MAX_SIDE` pixels, the source at the depth maps' working resolution) so a whole
shot takes seconds. ``reference[t]`` is the same measure for the source camera itself: the share of
source pixels with a known depth. ``tracks[t]`` counts the tracks seen in both views.

Frames with ``coverage < threshold`` (default :data:`POOR_COVERAGE`) are *poor*: the render will
mostly be invented there. :func:`poor_coverage_frames` groups them into frame ranges, e.g. for a
warning before a render.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .dense_depth import MIN_DEPTH, DenseDepth, cached_dense_depth, dense_depth, scaled_intrinsics
from .errors import UserError
from .frame_ranges import format_frame_ranges, frame_ranges
from .geometry.camera import CameraTrack
from .io.tracks import Tracks
from .jobs import Progress, job
from .pairing import pair_tracks
from .warp import warp_video

POOR_COVERAGE = 0.6
"""A frame whose target view is less than this share covered is flagged as poor."""

COVERAGE_MAX_SIDE = 320
"""Longest side (pixels) of the target image at which coverage is measured."""


@dataclasses.dataclass
class CoverageReport:
    """Per-frame coverage of a target view (see the module docstring for the definition).

    ``coverage`` (T,) and ``reference`` (T,) are shares in [0, 1]; ``tracks`` (T,) int is the number
    of tracks visible in both views; ``grid`` is the (W, H) pixels at which the target's holes were
    measured; frame index 0 is the first frame of the tracks (and of the target camera). ``warnings``
    are what the numbers do not show (:func:`flat_depth_warning`).
    """

    coverage: np.ndarray
    reference: np.ndarray
    tracks: np.ndarray
    grid: tuple[int, int]
    threshold: float = POOR_COVERAGE
    warnings: tuple[str, ...] = ()

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

    def summary(self, frame_start: int = 0) -> str:
        """One line for the artist: mean and worst coverage (its frame numbered from ``frame_start``) and
        the poor frames, e.g. ``"mean 91%, min 58% (frame 1012); poor: 1010-1013"``."""
        worst = int(np.argmin(self.coverage))
        ranges = format_frame_ranges(self.poor_ranges(frame_start))
        return (f"mean {self.coverage.mean():.0%}, min {self.coverage[worst]:.0%} (frame {frame_start + worst}); "
                + (f"poor: {ranges}" if ranges else "no poor frames"))

    def to_json(self, frame_start: int = 0) -> dict:
        """A JSON-able dict: per-frame values, the grid, the threshold, the poor ranges (also as text,
        one string each), the :meth:`summary` and the ``warnings``."""
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
            "poor_text": [format_frame_ranges([r]) for r in self.poor_ranges(frame_start)],
            "summary": self.summary(frame_start),
            "warnings": list(self.warnings),
        }


def scaled_camera(camera: CameraTrack, size: tuple[int, int]) -> CameraTrack:
    """``camera`` resampled to an image of ``size`` (W, H) pixels (pixel centres kept aligned)."""
    K = scaled_intrinsics(camera.K, size[0] / camera.size[0], size[1] / camera.size[1])
    return CameraTrack(K=K, w2c=camera.w2c, size=size, fps=camera.fps)


def _reduced(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def compute_coverage(tracks: Tracks, target: CameraTrack, depth: DenseDepth | None = None,
                     threshold: float = POOR_COVERAGE, max_side: int = COVERAGE_MAX_SIDE,
                     depth_source: str | None = None) -> CoverageReport:
    """Coverage of the ``target`` camera's view of ``tracks`` (aligned at their first frame).

    ``depth``: the tracks' dense depth (default: spread from the tracks without the footage);
    ``max_side`` the longest side of the target image at which holes are measured; ``depth_source``
    where the tracks' depth came from (see :func:`flat_depth_warning`). The report has
    min(tracks frames, camera frames) frames.
    """
    if not 0.0 <= threshold <= 1.0:
        raise UserError(f"coverage threshold must be in [0, 1], got {threshold}")
    T = min(tracks.num_frames, target.num_frames)
    if T == 0:
        raise UserError("cannot measure coverage: the tracks or the target camera have no frames")
    tracks = tracks.subset(frames=slice(0, T))
    depth = dense_depth(None, tracks) if depth is None else depth.subset(slice(0, T))
    work = depth.depth.shape[:0:-1]
    source = scaled_camera(CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size), work)
    small_tracks = dataclasses.replace(tracks, K=source.K, size=work)
    small_depth = dataclasses.replace(depth, size=work)
    view = scaled_camera(CameraTrack(K=target.K[:T], w2c=target.w2c[:T], size=target.size), _reduced(target.size, max_side))
    _, holes = warp_video(None, small_tracks, view, small_depth)
    paired = pair_tracks(tracks, target)
    # The source camera sees again exactly the pixels with a depth.
    return CoverageReport(coverage=1.0 - holes.mean((1, 2)), reference=(depth.depth > MIN_DEPTH).mean((1, 2)),
                          tracks=(paired.vis & paired.vis_tgt).sum(1).astype(np.int64), grid=view.size,
                          threshold=float(threshold),
                          warnings=tuple(w for w in (flat_depth_warning(tracks, target, depth_source),) if w))


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


FLAT_SPREAD = 1e-3
"""A source camera whose centre stays within this share of the tracks' distance never moved: no parallax."""

FLAT_MOVE = 0.01
"""A target camera that moves more than this share of the scene's distance from the source camera
changes the view in ways a scene of unknown depth cannot show."""


def tracked_depth_source(tracks_path: str | os.PathLike) -> str | None:
    """Where the depth of a tracks file came from, as its ``t2v track`` report says (None without a report)."""
    import json

    from .tracking.pipeline import report_path

    try:
        return json.loads(report_path(tracks_path).read_text()).get("depth_source")
    except (OSError, ValueError, AttributeError):
        return None


def flat_depth_warning(tracks: Tracks, target: CameraTrack, depth_source: str | None = None) -> str | None:
    """One line warning when the footage gives no depth and the target camera moves away from the source's.

    A camera that only turns (a pan, a locked-off shot) shows no parallax: the tracker then keeps its
    centre still and puts every track at one depth (:mod:`.tracking.lift`), and the new view is the footage re-projected as one flat
    surface. That is exact while the target camera turns about the source's position and wrong once it
    moves: it warns when the target's centre leaves the source's by more than :data:`FLAT_MOVE` of the
    tracks' distance in any frame. None otherwise: the tracks have parallax, or ``depth_source``
    (:func:`tracked_depth_source`) says the user's depth maps gave them depth.
    """
    if depth_source is not None and depth_source.startswith("user"):
        return None
    seen = tracks.vis & np.isfinite(tracks.xyz).all(-1)
    if not seen.any():
        return None
    source = CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size, fps=tracks.fps)
    median = float(np.median(np.linalg.norm(tracks.xyz - source.centers[:, None, :], axis=-1)[seen]))
    if median <= 0 or np.linalg.norm(source.centers - source.centers.mean(0), axis=1).max() > FLAT_SPREAD * median:
        return None
    T = min(source.num_frames, target.num_frames)
    move = np.linalg.norm(target.centers[:T] - source.centers[:T], axis=1) / median
    if move.max() <= FLAT_MOVE:
        return None
    return (f"the footage shows no depth (its camera only turns), and the target camera moves up to "
            f"{move.max():.0%} of the scene's distance away from it: the new view shows the scene as one "
            "flat surface, so near and far things will not shift against each other (turn the target "
            "camera about the source camera's position instead, or give depth maps with --depth)")


def poor_coverage_warning(coverage: np.ndarray | list[float], frame_start: int = 0,
                          threshold: float = POOR_COVERAGE) -> str | None:
    """One line warning about the frames where a view is mostly what the footage never showed.

    ``coverage`` (T,) per frame (e.g. a render's ``coverage``: 1 − its hole share), frame i numbered
    ``frame_start + i`` in the message. None when no frame is poor, else the poor frame ranges and
    the worst frame.
    """
    coverage = np.asarray(coverage, float)
    ranges = poor_coverage_frames(coverage, threshold, frame_start)
    if not ranges:
        return None
    worst = int(coverage.argmin())
    return (f"poor coverage (under {threshold:.0%} of the view seen in the footage) at frames "
            f"{format_frame_ranges(ranges)}, worst {coverage[worst]:.0%} at frame {frame_start + worst}: the "
            "model must invent most of the image there (see Coverage Preview)")


def coverage_of_file(tracks_path: str | os.PathLike, target: CameraTrack, first: int = 0,
                     footage: str | os.PathLike | None = None, threshold: float = POOR_COVERAGE) -> CoverageReport:
    """:func:`compute_coverage` of the tracks file ``tracks_path`` from tracks frame ``first`` (camera frame 0).

    The depth is the cache beside the tracks; without one it is spread from the tracks, along the
    edges of ``footage``'s frames (streamed) when it is given. Raises :class:`UserError` naming a
    missing or unreadable file.
    """
    from .io.tracks import load_tracks

    tracks = load_tracks(tracks_path).subset(frames=slice(first, first + target.num_frames))
    depth = cached_dense_depth(tracks_path, tracks)
    if depth is None:
        frames = None
        if footage is not None:
            from .render import load_footage_and_tracks

            start = tracks.frame_start
            video, tracks = load_footage_and_tracks(str(footage), str(tracks_path),
                                                    (start, start + tracks.num_frames), stream=True)
            frames = video.frames
        depth = dense_depth(frames, tracks)
    return compute_coverage(tracks, target, depth, threshold=threshold, depth_source=tracked_depth_source(tracks_path))


@dataclasses.dataclass(frozen=True)
class CoverageParams:
    """The ``coverage`` job: ``tracks`` (file), ``camera`` (CAM.json), ``first`` (tracks frame of camera
    frame 0), ``footage`` (optional, see :func:`coverage_of_file`), ``frame_start`` (number of the first
    frame in the report), ``threshold`` (share of a frame below which it is poor)."""

    tracks: str
    camera: str
    first: int = 0
    footage: str | None = None
    frame_start: int = 0
    threshold: float = POOR_COVERAGE


@job("coverage", CoverageParams)
def coverage_job(params: CoverageParams, progress: Progress) -> dict:
    """The coverage report of a target camera: :meth:`CoverageReport.to_json`."""
    from .geometry.camera import load_camera_json

    progress(0.1, "measuring coverage")
    report = coverage_of_file(params.tracks, load_camera_json(params.camera), params.first,
                              params.footage or None, params.threshold)
    progress(1.0, "done")
    return report.to_json(params.frame_start)


def poor_coverage_frames(coverage: np.ndarray | list[float], threshold: float = POOR_COVERAGE,
                         frame_start: int = 0) -> list[tuple[int, int]]:
    """Inclusive (first, last) frame ranges where ``coverage`` (T,) is below ``threshold``.

    Frame i of ``coverage`` is numbered ``frame_start + i`` (e.g. the scene's first frame).
    Example: ``poor_coverage_frames([0.9, 0.5, 0.4, 0.9, 0.3], 0.6, 10) == [(11, 12), (14, 14)]``.
    """
    return frame_ranges(np.asarray(coverage, float) < threshold, frame_start)
