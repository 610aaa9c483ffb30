"""Curate one view pair: join the clips, track once, split, filter → paired tracks + target camera.

Phases: (1) join the reversed source and the target (:mod:`.junction`) and write the joined clip to
a temporary image sequence; (2) run the built-in 3D point tracker on it once
(:func:`..tracking.pipeline.track_footage`) and keep only what its optical flow observed (the
tracker also marks static points visible where they merely reproject unoccluded,
:mod:`..tracking.visibility`; such positions rest on the camera solve of a clip that turns around
at the junction, not on image evidence, so they link nothing here); (3) split every track into its source and target
half; (4) drop unreliable pairs (:mod:`.filters`); (5) build the paired tracks.

The result is in the tracker's world and units (its camera of joined frame ``T − 1``, the shared
frame, is the reference): ``xyz``/``K``/``w2c`` of the source half, ``uv_tgt``/``vis_tgt`` of the
target half, ``depth_src``/``depth_tgt`` the camera-space z of the point in each view's (tracked)
camera at each frame, and ``target_camera`` the tracker's camera of the target frames. The tracker's
focal length is the lens given, else that of the views' camera files at the shared frame, else the
one ``t2v track`` finds on the source video (:func:`clip_focal`); a camera that
zooms is recorded in the report (``focal_varies``): the tracker's one focal length cannot follow it,
so depths in that half are unreliable.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from ..geometry.camera import CameraTrack
from ..io.tracks import Tracks
from ..io.video import write_frames
from ..jobs import Progress
from ..tracking.pipeline import TrackOptions, track_footage
from .appearance import truncate_by_appearance
from .filters import count_reasons, reject_reasons
from .junction import Halves, join_frames, split_tracks
from .views import View, match_views

DEFAULT_MAX_POINTS = 40000  # tracker seeds over the joined clip: enough that re-seeding lasts past the shared frame
FOCAL_TOLERANCE = 1e-3  # relative focal difference between views still counted as the same lens


@dataclasses.dataclass
class CurateOptions:
    """``max_points`` tracker budget over the joined clip; ``resample`` retimes/resizes the target;
    ``focal_px`` or ``lens_mm`` + ``sensor_mm``: the lens, as ``t2v track`` takes it."""

    max_points: int = DEFAULT_MAX_POINTS
    resample: bool = False
    focal_px: float | None = None
    lens_mm: float | None = None
    sensor_mm: float | None = None


@dataclasses.dataclass
class CuratedPair:
    """``tracks`` paired tracks (kept points only), ``target_camera`` (T frames), ``counts`` what was
    kept and why the rest was dropped (:func:`.filters.count_reasons`), ``source``/``target`` the
    matched views (same T, size, fps), ``report`` the tracker's report."""

    tracks: Tracks
    target_camera: CameraTrack
    counts: dict[str, int]
    source: View
    target: View
    report: dict


def shared_focal(source: View, target: View) -> float | None:
    """Focal length (pixels) of the shared frame 0 from the views' cameras, or None if neither has one
    or their frame-0 focal lengths (fx, fy) disagree. The tracker keeps one focal length for the
    whole joined clip; :func:`focal_varies` says when that is wrong."""
    fx = [c.K[0, i, i] for c in (source.camera, target.camera) if c is not None for i in (0, 1)]
    if not fx or np.ptp(fx) > FOCAL_TOLERANCE * max(fx):
        return None
    return float(fx[0])


def focal_varies(source: View, target: View) -> bool:
    """True if a view's camera zooms (focal length changes over its frames): the tracker's single
    focal length then misplaces depth in that half (2D positions are unaffected)."""
    return any(np.ptp(c.K[:, 0, 0]) > FOCAL_TOLERANCE * c.K[:, 0, 0].max()
               for c in (source.camera, target.camera) if c is not None)


def track_frames(frames: np.ndarray, options: TrackOptions,
                 progress: Progress | None = None) -> tuple[Tracks, dict]:
    """Run the tracker (:func:`..tracking.pipeline.track_footage`) on ``frames`` (T, H, W, 3) uint8 via a
    temporary image sequence."""
    with tempfile.TemporaryDirectory(prefix="t2v_curate_") as tmp:
        folder = write_frames(frames, Path(tmp) / "frames")
        tracks, report, _ = track_footage(folder, options, progress)
    return tracks, report


def clip_focal(source: View, target: View, options: CurateOptions,
               progress: Progress | None = None) -> tuple[float, str]:
    """The one focal length (pixels) of the pair, and where it came from.

    The lens the user gave (as ``t2v track`` takes it), else the views' cameras
    (:func:`shared_focal`), else the source video's own, from the same solve as ``t2v track``
    on the source alone, so a clip gets the same focal length from both commands.
    """
    given = TrackOptions(focal_px=options.focal_px, lens_mm=options.lens_mm,
                         sensor_mm=options.sensor_mm).focal_in_pixels(source.size)
    if given is not None:
        return given, "given"
    from_cameras = shared_focal(source, target)
    if from_cameras is not None:
        return from_cameras, "the views' cameras"
    _, report = track_frames(source.frames, TrackOptions(max_points=options.max_points, dense_depth=False), progress)
    return float(report["focal_px"]), f"the source video, as `t2v track` solves it ({report['focal_source']})"


def flow_observed(tracks: Tracks) -> Tracks:
    """``tracks`` with ``vis`` limited to the entries the tracker's optical flow observed."""
    from ..tracking.visibility import REPROJECTED_CONFIDENCE

    return dataclasses.replace(tracks, vis=tracks.vis & (tracks.conf != np.float32(REPROJECTED_CONFIDENCE)))


def paired_tracks(h: Halves, keep: np.ndarray) -> Tracks:
    """Paired tracks (T frames) of the kept points of ``h`` (see the module docstring)."""
    j = h.joined
    return Tracks(xyz=h.xyz_src[:, keep], uv=h.uv_src[:, keep], vis=h.vis_src[:, keep], conf=h.conf_src[:, keep],
                  rgb=j.rgb[keep], K=h.camera_src.K, w2c=h.camera_src.w2c, size=j.size, fps=j.fps,
                  dynamic=h.dynamic[keep], uv_tgt=h.uv_tgt[:, keep], depth_src=h.depth_src[:, keep],
                  depth_tgt=h.depth_tgt[:, keep], vis_tgt=h.vis_tgt[:, keep])


def curate_pair(source: View, target: View, options: CurateOptions | None = None,
                progress: Progress | None = None) -> CuratedPair:
    """Curate ``source`` ↔ ``target`` (synchronized, sharing frame 0); see the module docstring.

    Raises :class:`UserError` for views that do not pair up (see :func:`.views.match_views`).
    An empty result (no kept pairs) is returned as such: ``counts['kept'] == 0``.
    """
    options = options or CurateOptions()
    progress = Progress.of(progress)
    source, target = match_views(source, target, options.resample)
    focal, focal_source = clip_focal(source, target, options, progress.span(0.0, 0.3, "focal length: "))
    joined, report = track_frames(join_frames(source.frames, target.frames),
                                  TrackOptions(max_points=options.max_points, focal_px=focal, dense_depth=False),
                                  progress.span(0.3, 1.0))
    joined = dataclasses.replace(joined, fps=source.fps)
    report["focal_source"] = focal_source
    report["focal_varies"] = focal_varies(source, target)
    halves = split_tracks(flow_observed(joined))
    halves = dataclasses.replace(halves, vis_src=truncate_by_appearance(source.frames, halves.uv_src, halves.vis_src),
                                 vis_tgt=truncate_by_appearance(target.frames, halves.uv_tgt, halves.vis_tgt))
    reason = reject_reasons(halves)
    keep = reason < 0
    return CuratedPair(tracks=paired_tracks(halves, keep), target_camera=halves.camera_tgt,
                       counts=count_reasons(reason), source=source, target=target, report=report)
