"""The tracker job: footage → 2D flow tracks → source camera → 3D tracks → tracks file + report.

Phases: (1) check inputs and read the footage downscaled to :data:`WORK_MAX_SIDE`; (2) optical-flow
tracks; (3) camera solve; (4) lifting to 3D (optionally with a user depth sequence), static points
seen again where they reproject unoccluded (:mod:`.visibility`); (5) back to
full-resolution pixels and into the world frame below; (6) write the tracks file and a JSON report
beside it (``<out stem>.report.json``), both atomically.

World frame: :mod:`.world_frame` (frame 0's camera at the origin looking along +Y, +Z up).
Units: see :mod:`.lift` (user depth units, else a median static depth of ``NOMINAL_DEPTH``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

from ..dense_depth import DenseDepth, dense_depth, depth_path, save_dense_depth
from ..errors import UserError
from ..io.atomic import atomic_file, check_writable_target
from ..io.tracks import Tracks, save_tracks
from ..io.video import Footage, read_frames, require_whole_range
from ..jobs import Progress, job
from .camera_solve import solve_camera, weak_frames_warning
from .depth_input import load_depth_sequence
from .flow_tracks import cut_frames, cut_frames_warning, starved_frames_warning, track_flow
from .lift import lift_tracks
from .visibility import reproject_static
from .world_frame import to_blender_world

WORK_MAX_SIDE = 640  # tracking resolution (longer side, pixels); results are in full-resolution pixels
DEFAULT_MAX_POINTS = 8000
BLANK_RANGE = 4  # a frame whose grey values span fewer levels than this is blank (black/flat)


@dataclasses.dataclass
class TrackOptions:
    """Settings of one tracking run (see ``t2v track --help``); ``focal_px`` in full-resolution pixels."""

    max_points: int = DEFAULT_MAX_POINTS
    frames: slice | None = None
    focal_px: float | None = None
    lens_mm: float | None = None
    sensor_mm: float | None = None
    depth: str | os.PathLike | None = None
    work_max_side: int = WORK_MAX_SIDE
    queries: np.ndarray | None = None  # (M, 3) [frame (0 = first selected), x, y] full-resolution pixels
    dense_depth: bool = True  # also spread a depth over every pixel (what the warp needs; curation does not)

    def focal_in_pixels(self, size: tuple[int, int]) -> float | None:
        """The given focal length in full-resolution pixels (sensor width along the longer side)."""
        if self.focal_px is not None and self.lens_mm is not None:
            raise UserError("give either --focal-px or --lens-mm/--sensor-mm, not both")
        if self.focal_px is not None:
            if not self.focal_px > 0:
                raise UserError(f"--focal-px must be positive, got {self.focal_px}")
            return float(self.focal_px)
        if self.lens_mm is not None or self.sensor_mm is not None:
            if self.lens_mm is None or self.sensor_mm is None or self.lens_mm <= 0 or self.sensor_mm <= 0:
                raise UserError("--lens-mm and --sensor-mm go together and must be positive")
            return self.lens_mm / self.sensor_mm * max(size)
        return None


def _check_footage(footage: Footage) -> None:
    if footage.num_frames < 2:
        raise UserError(f"{footage.path}: has only {footage.num_frames} frame; tracking needs at least 2")
    grey = footage.frames.max(-1).astype(np.int16)
    spread = grey.reshape(len(grey), -1).max(1) - grey.reshape(len(grey), -1).min(1)
    blank = np.nonzero(spread < BLANK_RANGE)[0]
    if len(blank):
        first = footage.start + int(blank[0])
        raise UserError(f"{footage.path}: frame {first} is blank (all black or one flat colour), "
                        f"{len(blank)} such frame(s) in all; trim them with --frames")


def track_colours(frames: np.ndarray, uv: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colour of each track at its first visible frame (nearest pixel)."""
    first = vis.argmax(0)
    p = uv[first, np.arange(uv.shape[1])]
    h, w = frames.shape[1:3]
    x = np.clip(np.round(p[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(p[:, 1]).astype(int), 0, h - 1)
    return frames[first, y, x]


def track_footage(path: str | os.PathLike, options: TrackOptions,
                  progress: Progress | None = None) -> tuple[Tracks, dict, DenseDepth | None]:
    """Track ``path`` (video file or image-sequence folder) → (tracks in full-resolution pixels, report,
    dense depth of every frame, None unless ``options.dense_depth``)."""
    say = Progress.of(progress)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    # 1. Inputs.
    if options.max_points < 1:
        raise UserError(f"--max-points must be at least 1, got {options.max_points}")
    say(0.0, "reading footage")
    footage = require_whole_range(read_frames(path, options.frames, max_side=options.work_max_side), options.frames)
    _check_footage(footage)
    focal_full = options.focal_in_pixels(footage.size)
    T, h, w = footage.frames.shape[:3]
    W, H = footage.size
    sx, sy = W / w, H / h
    depth = None
    if options.depth is not None:
        total = _frame_count(path, options.frames, footage)
        depth = load_depth_sequence(options.depth, total, options.frames, (w, h))
    lap("read")

    # 2. 2D tracks.
    queries = None
    if options.queries is not None:
        queries = np.array(options.queries, np.float64).reshape(-1, 3)
        queries[:, 1] = (queries[:, 1] + 0.5) / sx - 0.5
        queries[:, 2] = (queries[:, 2] + 0.5) / sy - 0.5
    flow = track_flow(footage.frames, options.max_points, say.span(0.05, 0.4), queries,
                      fill_flat=True)
    if flow.num_points == 0:
        raise UserError(f"{footage.path}: found no trackable texture; the footage may be blank or too blurry")
    lap("flow")

    # 3. Camera.
    say(0.4, "solving the camera")
    # The camera comes from the tracker's own textured points: not from queries, nor from points on
    # plain surfaces, which follow the flow's smooth fill-in.
    own = flow.textured.copy()
    if flow.query_index is not None:
        own[flow.query_index] = False
    camera = solve_camera(flow.uv[:, own], flow.vis[:, own], (w, h), None if focal_full is None else focal_full / sx,
                          say.span(0.4, 0.8))
    lap("poses")

    # 4. 3D.
    say(0.8, "lifting tracks to 3D")
    lifted = lift_tracks(flow.uv, flow.vis, camera.K, camera.w2c, camera.mode, depth)
    uv_work, vis, conf = reproject_static(flow.uv, flow.vis, flow.conf, lifted.xyz, ~lifted.dynamic, camera.K,
                                          lifted.w2c, (w, h))
    lap("3d")

    # 5. Full resolution, world frame.
    uv = np.stack([(uv_work[..., 0] + 0.5) * sx - 0.5, (uv_work[..., 1] + 0.5) * sy - 0.5], -1)
    K = np.array([[camera.K[0, 0] * sx, 0, (W - 1) / 2], [0, camera.K[0, 0] * sx, (H - 1) / 2], [0, 0, 1]])
    xyz, w2c = to_blender_world(lifted.xyz, lifted.w2c)
    tracks = Tracks(xyz=xyz, uv=uv, vis=vis, conf=conf, rgb=track_colours(footage.frames, flow.uv, flow.vis),
                    K=np.broadcast_to(K, (T, 3, 3)), w2c=w2c, size=footage.size, fps=footage.fps,
                    dynamic=lifted.dynamic, frame_start=footage.start)
    report = {"input": str(footage.path), "frames": [footage.start, footage.start + T], "size": list(footage.size),
              "fps": footage.fps, "points": tracks.num_points,
              "plain_surface_points": int((~flow.textured).sum()), "camera_mode": camera.mode,
              "point_budget_spent_at": flow.budget_spent,
              **camera.report, "focal_px": round(float(K[0, 0]), 2), **lifted.report,
              "world": "frame 0 camera at the origin looking along +Y, +Z up",
              "timings_s": timings}
    warnings = list(footage.notes)
    cuts = cut_frames(flow)
    if cuts:
        report["cut_frames"] = cuts  # indices into the tracked frames, as the camera solve's frame lists
    for warning in (cut_frames_warning(cuts, footage.start),
                    starved_frames_warning(flow, options.max_points, footage.start),
                    weak_frames_warning(camera.report.get("weak_frames", []), footage.start)):
        if warning:
            warnings.append(warning)
    if warnings:
        report["warnings"] = warnings
    if flow.query_index is not None and options.queries is not None:
        report["query_index"] = flow.query_index.tolist()
    if camera.mode == "rotation":
        why = camera.report.get("note", "no parallax: rotation-only camera (locked-off or panning)")
        report["note"] = f"{why}; depth is {lifted.report['depth_source']}"

    if not options.dense_depth:
        return tracks, report, None

    # 6. Dense depth of every pixel, for the warp.
    dense = dense_depth(footage.frames, tracks, given=depth, progress=say.span(0.9, 0.95, "dense depth: "))
    lap("dense_depth")
    spread = ("the tracks spread along image edges (bilateral grid), with two-view stereo on static parts "
              "where the camera moves")
    report["dense_depth"] = {
        "size": list(dense.depth.shape[:0:-1]),
        "source": spread if depth is None else f"your depth maps where given, else {spread}",
        "pixel_shares": dense.sources,
        "trust": "as the tracks' depth (see depth_source); the map meets each track's depth within about 1-2 % "
                 "(median); depth edges are snapped to image edges when the warp upsamples the maps",
    }
    return tracks, report, dense


def _frame_count(path, selection: slice | None, footage: Footage) -> int:
    """Frames in the whole input (needed to match a depth sequence against the input)."""
    if selection is None:
        return footage.num_frames
    return read_frames(path, max_side=16).num_frames


def report_path(out: str | os.PathLike) -> Path:
    """Where the JSON report of tracks file ``out`` goes: ``<stem>.report.json`` beside it."""
    out = Path(out)
    return out.with_name(out.name.removesuffix(".npz") + ".report.json")


def write_outputs(tracks: Tracks, report: dict, out: str | os.PathLike, depth: DenseDepth | None = None) -> Path:
    """Write the tracks file, its report and its dense depth (:func:`~..dense_depth.depth_path`)
    atomically; returns the tracks path."""
    start = time.perf_counter()
    save_tracks(tracks, out)
    if depth is not None:
        save_dense_depth(depth, depth_path(out))
    report["timings_s"]["write"] = round(time.perf_counter() - start, 3)
    with atomic_file(report_path(out)) as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    return Path(out)


@dataclasses.dataclass(frozen=True)
class TrackParams:
    """The ``track`` job: ``input`` footage (movie or image folder), ``out`` tracks .npz; ``frames``
    [start, stop] (0-based, stop exclusive, either may be null); ``focal_px``, or ``lens_mm`` with
    ``sensor_mm``; ``depth`` (folder of the user's depth maps); ``overwrite``."""

    input: str
    out: str
    max_points: int | None = None
    frames: list[int | None] | None = None
    focal_px: float | None = None
    lens_mm: float | None = None
    sensor_mm: float | None = None
    depth: str | None = None
    overwrite: bool = False


@job("track", TrackParams)
def track_job(params: TrackParams, progress: Progress) -> dict:
    """Track the footage and write the tracks, their report and dense depth: ``{"tracks": path, "report": {...}}``."""
    out = check_writable_target(params.out, params.overwrite, inputs=(params.input, params.depth))
    options = TrackOptions(max_points=DEFAULT_MAX_POINTS if params.max_points is None else params.max_points,
                           frames=slice(*params.frames) if params.frames else None,
                           focal_px=params.focal_px, lens_mm=params.lens_mm, sensor_mm=params.sensor_mm,
                           depth=params.depth)
    tracks, report, depth = track_footage(params.input, options, progress)
    progress(0.95, "writing tracks")
    write_outputs(tracks, report, out, depth)
    progress(1.0, "done")
    return {"tracks": str(out), "report": report}
