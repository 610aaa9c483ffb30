"""Training examples of the refiner (stage ``refiner``): synthetic clips → what the pipeline's refiner sees.

For each clip of a ``t2v synth`` folder our tracker runs on camera 0's video alone, told the focal
length, and its tracks are moved onto the clip's world by the frame-0 similarity
(:func:`..eval.methods.source_tracks`, which also caches them). Targets:

- the source camera itself, as the tracker recovered it (ground truth: the source video);
- the tracker's source camera :data:`TIME_SHIFT` frames later (static clips; ground truth: the
  source video that many frames later): the check real footage allows without a second camera;
- every other camera of the clip (ground truth: its rendered frames). These are warped along the
  clip's *ground-truth* depth and source camera: the tracker's pose and scale errors move the
  target's content by pixels against the warp, and a refiner trained on that learns to blur what
  the footage shows. On a user's shot the target camera is set in the tracker's own world, so
  that error does not arise; what remains — holes, seams, depth errors within the source — the
  first two kinds teach.

For each target the source is warped with its dense depth exactly as the pipeline does
(:meth:`..model.pipeline.Track2ViewPipeline.refine` calls the same :func:`..warp.iter_warp`), and the
model's transformer generates its coarse view (the pipeline without its refiner). An example is
cached as ``<cache>/<clip>-<target>-<key>.npz``; the key changes with :data:`EXAMPLES_VERSION`, the
clip, the tracker's code and the transformer's weights.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..eval.fidelity import NO_HIT_DEPTH
from ..geometry.camera import CameraTrack
from ..io.atomic import atomic_file
from ..io.npz import read_npz
from ..io.tracks import Tracks
from ..jobs import Progress

TIME_SHIFT = 8
"""Frames between the source camera and the time-shifted target camera of a static clip."""
COARSE_STEPS = 20
"""Denoising steps of the transformer's coarse view in an example (the pipeline's default)."""
EXAMPLES_VERSION = 2
"""Bumped whenever what an example holds changes; part of the cache key."""


@dataclasses.dataclass
class Target:
    """One target of a clip: its ``name``, the source ``frames`` it uses (a slice), the source ``tracks``
    and target ``camera`` the warp follows, the ground ``truth`` (T, H, W, 3) uint8 and a source
    ``depth`` (T, H, W) that wins over the spread one (None: spread from the tracks)."""

    name: str
    frames: slice
    tracks: Tracks
    camera: CameraTrack
    truth: np.ndarray
    depth: np.ndarray | None = None


@dataclasses.dataclass
class RefinerExample:
    """One target view: ``warp`` (T, H, W, 3) uint8 and ``hole`` (T, H, W) bool of the warp, the
    transformer's ``coarse`` view (T, h, w, 3) uint8 and the ground truth ``truth`` (T, H, W, 3) uint8."""

    name: str
    warp: np.ndarray
    hole: np.ndarray
    coarse: np.ndarray
    truth: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.truth)


def synth_clips(root: str | Path) -> list[Path]:
    """The clip folders (holding ``meta.json``) under ``root``, sorted; :class:`UserError` if none."""
    clips = sorted(p.parent for p in Path(root).glob("*/meta.json"))
    if not clips:
        raise UserError(f"--data {root} holds no synthetic clips (folders with meta.json); render them with "
                        f"`t2v synth --preset train --out ROOT` and pass ROOT/train")
    return clips


def split_clips(clips: list[Path], held_out: int) -> tuple[list[Path], list[Path]]:
    """(train, validation): the last ``held_out`` clips (at least one when there are two) are held out."""
    n = min(max(held_out, 1 if len(clips) > 1 else 0), len(clips) - 1) if clips else 0
    return clips[:len(clips) - n], clips[len(clips) - n:]


def _model_key(pipe) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(pipe.transformer.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:8]


def clip_targets(clip, tracks: Tracks) -> list[Target]:
    """The targets (module docstring) of a loaded clip whose source ``tracks`` are aligned to its world."""
    source = clip.source
    T = len(source.frames)
    recovered = CameraTrack(tracks.K, tracks.w2c, tracks.size, tracks.fps)
    targets = [Target("source", slice(0, T), tracks, recovered, source.frames)]
    if clip.kind == "static" and T > TIME_SHIFT + 1:
        later = CameraTrack(tracks.K[TIME_SHIFT:], tracks.w2c[TIME_SHIFT:], tracks.size, tracks.fps)
        kept = slice(0, T - TIME_SHIFT)
        targets.append(Target(f"shift{TIME_SHIFT}", kept, tracks.subset(kept), later, source.frames[TIME_SHIFT:]))
    truth_tracks = dataclasses.replace(tracks, K=source.camera.K, w2c=source.camera.w2c)
    truth_depth = np.where(source.depth < NO_HIT_DEPTH, source.depth, 0.0).astype(np.float32)
    targets += [Target(f"cam{k}", slice(0, T), truth_tracks, view.camera, view.frames, truth_depth)
                for k, view in enumerate(clip.views) if k > 0]
    return targets


def refiner_examples(pipe, clips: list[Path], cache: Path,
                     progress: Progress | None = None) -> list[RefinerExample]:
    """The examples of ``clips`` (module docstring), made once and then read from ``cache``.

    ``pipe`` is the :class:`~..model.pipeline.Track2ViewPipeline` whose transformer makes the coarse
    view (its refiner is not used). ``progress`` hears of each clip.
    """
    from ..eval.methods import source_tracks, tracks_cache_key
    from ..synth.clip import load_clip

    cache.mkdir(parents=True, exist_ok=True)
    model_key = _model_key(pipe)
    examples = []
    for i, folder in enumerate(clips):
        clip = load_clip(folder)
        tracks, _ = source_tracks(folder, clip.source, cache / "tracks")
        key = f"v{EXAMPLES_VERSION}{tracks_cache_key(folder)}{model_key}"
        for target in clip_targets(clip, tracks):
            path = cache / f"{folder.name}-{target.name}-{key}.npz"
            if not path.is_file():
                example = make_example(pipe, path.stem, clip.source.frames[target.frames], target.tracks,
                                       target.camera, target.truth, target.depth)
                with atomic_file(path) as tmp:
                    with open(tmp, "wb") as f:
                        np.savez_compressed(f, warp=example.warp, hole=example.hole, coarse=example.coarse,
                                            truth=example.truth)
            data = read_npz(path, "refiner example")
            examples.append(RefinerExample(path.stem, data["warp"], data["hole"], data["coarse"], data["truth"]))
        if progress is not None:
            progress.count(i + 1, len(clips), f"examples: {i + 1}/{len(clips)} clips ({folder.name})")
    return examples


def make_example(pipe, name: str, frames: np.ndarray, tracks: Tracks, camera: CameraTrack, truth: np.ndarray,
                 depth: np.ndarray | None = None) -> RefinerExample:
    """One example: ``frames`` (T, H, W, 3) uint8 warped along ``tracks`` into ``camera`` (as the
    pipeline's refiner sees them; ``depth`` (T, H, W) wins where it is positive) and the transformer's
    coarse view of the same target."""
    from ..dense_depth import dense_depth
    from ..pairing import pair_tracks
    from ..warp import warp_video

    paired = pair_tracks(tracks, camera)
    dense = dense_depth(frames, paired, given=depth)
    warp, hole = warp_video(frames, paired, camera, dense)
    coarse = pipe(frames, paired, camera, num_inference_steps=COARSE_STEPS, anchor=False).frames
    return RefinerExample(name, warp, hole, coarse, np.asarray(truth))
