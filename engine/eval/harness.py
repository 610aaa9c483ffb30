"""The evaluation run (``t2v eval``): every case of a suite × every method → metrics, tables and plots.

Per case (:mod:`.suite`): load the bench clip, track its source video with our tracker (cached,
:func:`.methods.source_tracks`), pair those tracks with the ground-truth target camera, then for
each method generate the target view and measure

- camera accuracy (:mod:`.camera_metrics`): RotErr (degrees) and TransErr summed over frames, pose
  failures and unregistered frames counted, with the poses of the generated video estimated by
  :data:`POSE_ESTIMATORS` ``[config.pose_estimator]``: ``colmap`` (:mod:`.colmap_poses`, the
  protocol's pycolmap; the default) or ``tracks`` (:mod:`.track_poses`, our flow tracks + camera solve);
- fidelity (:mod:`.fidelity`): PSNR / SSIM against the ground-truth target frames, full frame and
  over the area the source sees;
- 4D consistency (:mod:`.consistency`): median pixel error and share within 4 px;

with wall time and peak memory per stage (:mod:`.stages`). Output folder (atomic; refused if it
exists unless ``overwrite``)::

    OUT/results.json       resolved config (incl. the pose estimator), methods (ok / missing / failed), per-case metrics,
                           summary (static / dynamic / all), stages, wall time; inf → "inf"
    OUT/results.md         the summary table (:mod:`.report`)
    OUT/plots/metrics.png  a bar chart per metric, methods side by side, static vs dynamic
    OUT/plots/strip_<case>.png  ground truth and every method, first / middle / last frame (3 cases)
    OUT/videos/<clip>_cam<k>/<method>.mp4   every generated video
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from ..dense_depth import DenseDepth, dense_depth
from ..errors import Cancelled, UserError, require_tool
from ..io.atomic import atomic_dir, check_writable_target
from ..jobs import InProcess, JobRequest, Progress, Runner
from ..jobs import job as register_job
from ..synth.clip import load_clip
from . import colmap_poses, track_poses
from .camera_metrics import camera_errors
from .consistency import consistency_metrics
from .fidelity import fidelity_metrics, region_psnr, source_visible_mask, warp_regions
from .methods import MethodSpec, generate, resolve_methods, source_tracks
from .stages import StageMeter
from .suite import DEFAULT_DATA, EvalCase, suite_cases

STRIP_CASES = 3
KINDS = ("static", "dynamic")
DEFAULT_CACHE = Path("cache/eval")
# name → estimator(frames (T, H, W, 3) uint8, K (T, 3, 3) pixels) → PoseEstimate | None
POSE_ESTIMATORS = {"colmap": colmap_poses.estimate_poses, "tracks": track_poses.estimate_poses}
DEFAULT_POSE_ESTIMATOR = "colmap"


@dataclasses.dataclass
class EvalConfig:
    """What ``t2v eval`` runs; paths as given (see ``t2v eval --help``)."""

    suite: str
    methods: list[str]
    out: Path
    data: Path = DEFAULT_DATA
    model: Path | None = None
    camera_model: Path | None = None
    cache: Path | None = DEFAULT_CACHE
    device: str = "auto"
    steps: int | None = None
    overwrite: bool = False
    pose_estimator: str = DEFAULT_POSE_ESTIMATOR

    def to_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, doc: dict) -> EvalConfig:
        paths = {"out", "data", "model", "camera_model", "cache"}
        return cls(**{k: (Path(v) if k in paths and v is not None else v) for k, v in doc.items()})


def _strip_frames(frames: np.ndarray) -> np.ndarray:
    """First, middle and last frame (3, H, W, 3) of a video."""
    T = len(frames)
    return frames[[0, T // 2, T - 1]].copy()


def strip_case_indices(cases: list[EvalCase]) -> list[int]:
    """Up to :data:`STRIP_CASES` cases shown as frame strips: the first static, the first dynamic, then
    the next cases in order."""
    chosen = []
    for kind in KINDS:
        chosen += [i for i, c in enumerate(cases) if c.kind == kind][:1]
    chosen += [i for i in range(len(cases)) if i not in chosen]
    return sorted(chosen[:STRIP_CASES])


def evaluate_method(method: MethodSpec, clip, case: EvalCase, paired, visible: np.ndarray,
                    meter: StageMeter, config: EvalConfig, progress: Progress,
                    regions: dict[str, np.ndarray] | None = None,
                    depth: DenseDepth | None = None) -> tuple[dict, np.ndarray | None]:
    """Generate one case with one method and measure it → (metrics dict, generated frames or None).

    ``regions`` (:func:`.fidelity.warp_regions`) adds PSNR over what the footage covers in frame t,
    what only neighbouring frames show, and what no frame shows; ``depth`` is the case's dense depth
    (for the warps)."""
    source, target = clip.source, clip.views[case.target]
    if paired is None and method.name not in ("identity", "oracle"):
        return {"status": "failed", "error": "our tracker failed on the source video (see the case's tracker)"}, None
    start = time.perf_counter()
    try:
        with meter.stage(f"generate:{method.name}"):
            frames = generate(method, source, target, paired, device=config.device, steps=config.steps,
                              cache_dir=None if config.cache is None else config.cache / "onnx", depth=depth,
                              progress=progress)
    except Cancelled:
        raise
    except Exception as exc:  # a broken model must not sink the whole run: it is reported as failed
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}, None
    result: dict = {"status": "ok", "generate_seconds": round(time.perf_counter() - start, 3)}
    with meter.stage("fidelity"):
        result |= fidelity_metrics(frames, target.frames, visible)
        if regions is not None:
            result |= region_psnr(frames, target.frames, regions)
    with meter.stage("poses"):
        try:
            poses = POSE_ESTIMATORS[config.pose_estimator](frames, target.camera.K[:len(frames)])
        except Cancelled:
            raise
        except Exception as exc:  # the estimator giving up on a video (e.g. pycolmap) is a pose failure, not a crashed run
            poses = None
            result["pose_error"] = f"{type(exc).__name__}: {exc}"
    if poses is None:
        result |= {"pose_failed": True, "pose_registered": 0, "pose_unregistered": len(frames)}
    else:
        result |= camera_errors(poses.w2c, target.camera.w2c[:len(frames)])
        result |= {"pose_failed": False, "pose_registered": int(poses.registered.sum()),
                   "pose_unregistered": poses.unregistered, "pose_models": poses.models,
                   "pose_rotation_only": poses.rotation_only,
                   "pose_seconds": round(poses.seconds, 3)}
    with meter.stage("consistency"):
        result |= consistency_metrics(frames, target.frames[0], target.tracks.uv, target.tracks.vis,
                                      source.tracks.vis)
    return result, frames


def _mean(values: list[float]) -> float | None:
    """Mean of the finite-or-infinite values (nan/None dropped); None if there are none."""
    kept = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(kept)) if kept else None


SUMMARY_METRICS = ("rot_err_deg", "trans_err", "psnr", "ssim", "psnr_visible", "ssim_visible",
                   "psnr_covered", "psnr_recoverable", "psnr_unseen", "sharpness_ratio", "flicker",
                   "median_px", "within_4px", "lost_share", "generate_seconds")


def summarize(case_results: list[dict], methods: list[MethodSpec]) -> dict:
    """Per method and group (static / dynamic / all): means of :data:`SUMMARY_METRICS` over the
    cases where the method ran (camera metrics over the cases whose poses were estimated),
    ``cases``, ``failed`` generations, ``pose_failures``, ``unregistered_frames`` and
    ``rotation_only_poses`` (videos whose estimated camera does not translate)."""
    summary = {}
    for m in methods:
        if m.missing:
            continue
        groups = {}
        for group in (*KINDS, "all"):
            rows = [c["methods"][m.name] for c in case_results if group in ("all", c["kind"])]
            ok = [r for r in rows if r["status"] == "ok"]
            entry = {k: _mean([r.get(k) for r in ok]) for k in SUMMARY_METRICS}
            entry |= {"cases": len(rows), "failed": len(rows) - len(ok),
                      "pose_failures": sum(bool(r.get("pose_failed")) for r in ok),
                      "unregistered_frames": sum(int(r.get("pose_unregistered", 0)) for r in ok),
                      "rotation_only_poses": sum(bool(r.get("pose_rotation_only")) for r in ok)}
            groups[group] = entry
        summary[m.name] = groups
    return summary


def _versions() -> dict[str, str]:
    """Versions of what the numbers depend on."""
    import cv2

    from .. import __version__

    pycolmap = require_tool("pycolmap", "the evaluation's COLMAP poses")

    return {"track2view": __version__, "pycolmap": pycolmap.__version__, "opencv": cv2.__version__}


@dataclasses.dataclass(frozen=True)
class EvalCaseParams:
    """The ``eval-case`` job: the case (``clip`` folder, ``kind``, ``target`` camera), the run's
    ``config`` (:meth:`EvalConfig.to_json`), ``out`` the folder its videos (and, with ``strip``, its
    frame strip) go into."""

    clip: str
    kind: str
    target: int
    config: dict
    out: str
    strip: bool = False


@register_job("eval-case", EvalCaseParams)
def eval_case_job(params: EvalCaseParams, progress: Progress) -> dict:
    """One case of an evaluation run, every method: ``{"row": per-case results, "stages": stage meter}``."""
    from ..io.video import write_mp4
    from ..pairing import pair_tracks
    from .report import plot_strip

    config = EvalConfig.from_json(params.config)
    case = EvalCase(Path(params.clip), params.kind, params.target)
    specs = resolve_methods(config.methods, config.model, config.camera_model)
    out, meter = Path(params.out), StageMeter()
    progress(0.0, "loading")
    with meter.stage("load"):
        clip = load_clip(case.clip)
    target = clip.views[case.target]
    try:
        with meter.stage("track_source"):
            tracks, track_report = source_tracks(case.clip, clip.source, config.cache)
        paired, tracker = pair_tracks(tracks, target.camera), {
            "points": int(tracks.num_points), "camera_mode": track_report.get("camera_mode")}
    except Cancelled:
        raise
    except Exception as exc:  # methods that need tracks fail for this case; identity still runs
        paired, tracker = None, {"error": f"{type(exc).__name__}: {exc}"}
    with meter.stage("visible_mask"):
        visible = source_visible_mask(target.depth, target.camera, clip.source.depth, clip.source.camera)
    regions = depth = None
    if paired is not None:
        with meter.stage("warp_regions"):  # one dense depth per case, for the regions and the warps
            depth = dense_depth(clip.source.frames[:paired.num_frames], paired)
            regions = warp_regions(paired, target.camera, depth)
    row = {"case": case.name, "clip": case.clip.name, "kind": case.kind, "target": case.target,
           "tracker": tracker, "methods": {}}
    strips = {"ground truth": _strip_frames(target.frames)}
    for j, method in enumerate(specs):
        if method.missing:
            row["methods"][method.name] = {"status": "missing", "reason": method.missing}
            continue
        step = progress.span(j / len(specs), (j + 1) / len(specs), f"{method.name}: ")
        step(0.0, "generating")
        result, frames = evaluate_method(method, clip, case, paired, visible, meter, config, step, regions, depth)
        row["methods"][method.name] = result
        if frames is not None:
            write_mp4(frames, out / "videos" / f"{case.clip.name}_cam{case.target}" / f"{method.name}.mp4",
                      clip.meta.get("fps", 24.0))
            strips[method.name] = _strip_frames(frames)
    if params.strip:
        plot_strip(strips, case.name, out / "plots" / f"strip_{case.clip.name}_cam{case.target}.png")
    return {"row": row, "stages": meter.stages}


def run_eval(config: EvalConfig, progress: Progress | None = None, cases: list[EvalCase] | None = None,
             runner: Runner | None = None) -> dict:
    """Run the evaluation of ``config`` and write the output folder; returns the results document.

    ``cases`` replaces the suite's cases (tests, one-off clips); by default :func:`.suite.suite_cases`.
    Each case is an ``eval-case`` job on ``runner`` (default: one after the other, here; on Ray the
    cases run at once, and their timings then share the machine).
    """
    from .report import json_safe, markdown_table, plot_metrics, write_results

    say = Progress.of(progress)
    out = check_writable_target(config.out, config.overwrite)
    specs = resolve_methods(config.methods, config.model, config.camera_model)
    cases = suite_cases(config.suite, config.data) if cases is None else cases
    if config.cache is not None:
        config.cache.mkdir(parents=True, exist_ok=True)
    meter = StageMeter()
    strips = strip_case_indices(cases)
    started = time.perf_counter()
    with atomic_dir(out) as tmp:
        # Absolute paths: a job may run in another working folder (a Ray worker on another machine).
        everywhere = dataclasses.replace(config, **{k: v.resolve() for k, v in dataclasses.asdict(config).items()
                                                    if isinstance(v, Path)})
        requests = [JobRequest("eval-case", {"clip": str(case.clip.resolve()), "kind": case.kind,
                                             "target": case.target, "config": everywhere.to_json(),
                                             "out": str(tmp.resolve()), "strip": i in strips},
                               case.name) for i, case in enumerate(cases)]
        case_results = []
        for done in (runner or InProcess()).map(requests, say.span(0.0, 0.99)):
            case_results.append(done["row"])
            meter.add(done["stages"])
        say(0.99, "writing the report")
        results = {
            "config": config.to_json() | {"cases": [c.name for c in cases], "versions": _versions()},
            "methods": {m.name: ({"status": "missing", "reason": m.missing} if m.missing
                                 else {"status": "ok", "model": None if m.model is None else str(m.model)})
                        for m in specs},
            "summary": summarize(case_results, specs),
            "cases": case_results,
            "stages": meter.summary(),
            "wall_seconds": round(time.perf_counter() - started, 2),
        }
        results = json_safe(results)
        write_results(results, tmp / "results.json")
        (tmp / "results.md").write_text(markdown_table(results))
        plot_metrics(results, tmp / "plots" / "metrics.png")
    say(1.0, "done")
    return results


def check_config(config: EvalConfig) -> None:
    """Cheap checks before any work (the CLI calls this so bad flags fail in a second)."""
    resolve_methods(config.methods, config.model, config.camera_model)
    suite_cases(config.suite, config.data)
    if config.steps is not None and config.steps < 1:
        raise UserError(f"--steps must be at least 1, got {config.steps}")
    if config.device not in ("auto", "cpu", "cuda"):
        raise UserError(f"--device must be auto, cpu or cuda, got {config.device!r}")
    if config.pose_estimator not in POSE_ESTIMATORS:
        raise UserError(f"--pose-estimator must be one of {', '.join(POSE_ESTIMATORS)}, "
                        f"got {config.pose_estimator!r}")
