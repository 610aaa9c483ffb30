"""The methods compared by the evaluation, and the estimated geometry they are conditioned on.

Methods (all produce the target view as (T, H, W, 3) uint8 RGB at the target camera's size):

- ``identity``: the source video, unchanged (the floor every method must beat);
- ``warp``: the geometric-warp preview as shipped (:func:`..warp.warp_video`: every source pixel
  through its dense depth, with the temporal fill from neighbouring frames);
- ``warp-inpaint``: the classical baseline: the same warp frame by frame without the temporal fill,
  its holes inpainted by OpenCV (Telea);
- ``camera``: the camera-embedding baseline model (``--camera-model DIR``);
- ``track2view``: our model (``--model DIR``);
- ``oracle`` (optional, not in the default list): the ground-truth target video itself — the
  ceiling of every metric as measured (pycolmap's own pose error, our tracker's losses).

A model method without a model folder is *missing*: reported as such in the results, never
silently dropped.

Geometry (the field's protocol conditions on *estimated* geometry, never on ground truth): our
tracker (:func:`..tracking.pipeline.track_footage`) runs on the source video alone, told only the
focal length (as an artist knows the lens). Its world frame is its own (frame 0 camera at the
origin, arbitrary scale), so before pairing with the ground-truth target camera it is moved onto
the ground-truth world with a similarity fixed by frame 0 alone — the source camera's frame-0 pose
and the median ratio of ground-truth to estimated depth at the tracked pixels of frame 0 (what an
artist does when placing the new camera relative to the reconstructed scene). Later frames'
source poses and all 3D points stay as estimated. Tracking results are cached per clip
(``<cache>/<clip>/source_tracks.npz``, plus the tracker report), since every method and every
target of a clip share them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from ..dense_depth import DenseDepth
from ..errors import UserError
from ..io.tracks import Tracks, load_tracks
from ..jobs import Progress
from ..synth.clip import SynthView, camera_dir
from .fidelity import NO_HIT_DEPTH

METHODS = ("identity", "warp", "warp-inpaint", "camera", "track2view", "oracle")
DEFAULT_METHODS = ("identity", "warp", "warp-inpaint", "camera", "track2view")
INPAINT_RADIUS = 3
"""Neighbourhood (pixels) OpenCV's inpainting of the warp's holes looks at."""
MODEL_METHODS = {"camera": "--camera-model", "track2view": "--model"}


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """A method to run: ``name``, ``model`` folder (model methods) and ``missing`` (why it cannot run)."""

    name: str
    model: Path | None = None
    missing: str | None = None


def resolve_methods(names: list[str], model: str | Path | None, camera_model: str | Path | None) -> list[MethodSpec]:
    """Check the ``--methods`` list and attach model folders; a model method without one is missing."""
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise UserError(f"--methods: unknown method(s) {unknown}; choose from {','.join(METHODS)}")
    folders = {"camera": camera_model, "track2view": model}
    specs = []
    for name in dict.fromkeys(names):
        if name not in MODEL_METHODS:
            specs.append(MethodSpec(name))
            continue
        folder = folders[name]
        if folder is None:
            specs.append(MethodSpec(name, missing=f"no model folder: pass {MODEL_METHODS[name]} DIR "
                                                  "(no trained default model is installed yet)"))
            continue
        folder = Path(folder)
        if not (folder / "model_index.json").is_file():
            raise UserError(f"{MODEL_METHODS[name]} {folder}: not a model folder (no model_index.json)")
        specs.append(MethodSpec(name, model=folder))
    return specs


def source_scale(tracks: Tracks, source: SynthView) -> float:
    """Median ratio (ground-truth / estimated) of camera depth at the tracked pixels of frame 0."""
    xyz = tracks.xyz[0].astype(np.float64)
    z_est = xyz @ tracks.w2c[0, 2, :3].astype(np.float64) + tracks.w2c[0, 2, 3]
    H, W = source.depth.shape[1:]
    col = np.clip(np.rint(tracks.uv[0, :, 0]).astype(int), 0, W - 1)
    row = np.clip(np.rint(tracks.uv[0, :, 1]).astype(int), 0, H - 1)
    z_gt = source.depth[0, row, col].astype(np.float64)
    ok = tracks.vis[0] & (z_est > 0) & (z_gt > 0) & (z_gt < NO_HIT_DEPTH) & np.isfinite(z_est)
    if not ok.any():
        raise UserError("cannot align the tracker's scene scale: no tracked point of frame 0 has a depth")
    return float(np.median(z_gt[ok] / z_est[ok]))


def align_to_ground_truth(tracks: Tracks, source: SynthView) -> Tracks:
    """``tracks`` (tracker world) moved into the clip's world by the frame-0 similarity (module docstring).

    With ``M`` = inv(w2c_gt[0]) · S · w2c_est[0] (S scales camera space by :func:`source_scale`),
    positions become ``M xyz`` and poses ``S w2c_est M⁻¹`` (rigid again; frame 0 = ground truth).
    """
    s = source_scale(tracks, source)
    S = np.diag([s, s, s, 1.0])
    w2c_est = tracks.w2c.astype(np.float64)
    M = np.linalg.inv(source.camera.w2c[0]) @ S @ w2c_est[0]
    xyz = tracks.xyz.astype(np.float64) @ M[:3, :3].T + M[:3, 3]
    w2c = S @ w2c_est @ np.linalg.inv(M)
    return dataclasses.replace(tracks, xyz=xyz, w2c=w2c)


def tracks_cache_key(clip: Path) -> str:
    """12 hex digits naming a cached tracking result: changes with the clip (its meta.json, which holds
    seed, settings and synth version) and with the tracker's code, so a re-rendered clip or a
    changed tracker never reuses stale tracks."""
    from .. import tracking

    digest = hashlib.sha256((clip / "meta.json").read_bytes())
    for source in sorted(Path(tracking.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def source_tracks(clip: Path, source: SynthView, cache: Path | None) -> tuple[Tracks, dict]:
    """Our tracker's tracks of the clip's source video in the clip's world (cached), and its report."""
    from ..tracking.pipeline import TrackOptions, report_path, track_footage, write_outputs

    cached = None if cache is None else cache / clip.name / f"source_tracks-{tracks_cache_key(clip)}.npz"
    if cached is not None and cached.is_file():
        tracks, report = load_tracks(cached), json.loads(report_path(cached).read_text())
    else:
        focal = float(source.camera.K[0, 0, 0])
        # No dense depth here: the tracks are moved onto the clip's world below, and each case spreads
        # its own (see generate's ``depth``).
        tracks, report, _ = track_footage(camera_dir(clip, 0) / "rgb", TrackOptions(focal_px=focal, dense_depth=False))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            write_outputs(tracks, report, cached)
    return align_to_ground_truth(tracks, source), report


def generate(method: MethodSpec, source: SynthView, target: SynthView, paired: Tracks, *, device: str = "auto",
             steps: int | None = None, cache_dir: Path | None = None, depth: DenseDepth | None = None,
             progress: Progress | None = None) -> np.ndarray:
    """Run ``method`` → target-view frames (T, H, W, 3) uint8 at ``target.camera.size``.

    Model methods run :func:`..generate.generate_new_view` with ``steps`` denoising steps (its
    default if None) on ``device``; ``cache_dir`` keeps the conditioner's ONNX export. The warps
    move the source through ``depth`` (the paired tracks' dense depth; spread here if None).
    """
    from ..generate import DEFAULT_STEPS, generate_new_view
    from ..warp import warp_video

    if method.missing:
        raise UserError(f"method {method.name} is missing: {method.missing}")
    if method.name == "identity":
        return source.frames.copy()
    if method.name == "oracle":
        return target.frames.copy()
    if method.name == "warp":
        return warp_video(source.frames, paired, target.camera, depth)[0]
    if method.name == "warp-inpaint":
        import cv2

        frames, holes = warp_video(source.frames, paired, target.camera, depth, fill_offsets=())
        return np.stack([cv2.inpaint(f, h.astype(np.uint8), INPAINT_RADIUS, cv2.INPAINT_TELEA)
                         for f, h in zip(frames, holes, strict=True)])
    return generate_new_view(source.frames, paired, target.camera, method.model, steps=steps or DEFAULT_STEPS,
                             progress=progress, device=device, cache_dir=cache_dir, depth=depth).frames
